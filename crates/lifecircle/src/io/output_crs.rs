//! The coordinate system the outputs are written in ([`OutputCrs`]): WGS84 by default (RFC
//! 7946), a Chinese map system (GCJ-02, BD-09), or a projected system given by EPSG code
//! (`--output-coords EPSG:4547`), into which every written position is converted from the
//! WGS84 the analysis measures in (with [`crate::projection`]).
//!
//! A GeoJSON output in a projected system carries the legacy `crs` member that GDAL writes
//! for such files (`{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4547"}}`),
//! which GDAL and QGIS read; RFC 7946 dropped that member and allows only WGS84, so such a
//! file departs from the RFC as GDAL's own output does. GeoPackage layers and FlatGeobuf
//! files get the system's EPSG code and WKT.

use std::{borrow::Cow, io, sync::OnceLock};

use geo::{Coord, Geometry, MapCoordsInPlace};

use crate::{
    analysis::Plan,
    coords::{self, Crs},
    geodesy::LonLat,
    io::geojson::write::{push_geometry, push_point, Decimals, COORDS},
    projection::Projection,
};

/// Decimals of projected coordinates (metres): a tenth of a millimetre.
const PROJECTED_DECIMALS: u32 = 4;

/// The output system of one output set, converting WGS84 positions as they are written. A
/// position that cannot be converted is written as a null geometry and remembered; the
/// writer then fails with [`check`](Self::check), so no such file is put in place.
pub(crate) struct OutputCrs<'a> {
    map: Crs,
    projection: Option<&'a Projection>,
    failed: OnceLock<String>,
}

impl<'a> OutputCrs<'a> {
    /// The output system of a plan.
    pub(crate) fn of(plan: &'a Plan) -> Self {
        Self {
            map: plan.coords().output,
            projection: plan.output_projection(),
            failed: OnceLock::new(),
        }
    }

    /// The decimals positions are written with.
    pub(crate) fn decimals(&self) -> Decimals {
        match self.projection {
            Some(p) if !p.is_geographic() => Decimals::AtMost(PROJECTED_DECIMALS),
            _ => COORDS,
        }
    }

    /// A WGS84 position in the output system (`None`: it cannot be converted; remembered).
    pub(crate) fn position(&self, p: LonLat) -> Option<LonLat> {
        let p = coords::convert(p, Crs::Wgs84, self.map);
        match self.projection {
            None => Some(p),
            Some(proj) => match proj.from_wgs84(p.lon, p.lat) {
                Ok((x, y)) if x.is_finite() && y.is_finite() => Some(LonLat::unchecked(x, y)),
                Ok((x, y)) => {
                    self.fail(format!(
                        "{}: [{}, {}] converts to [{x}, {y}]",
                        proj.name(),
                        p.lon,
                        p.lat
                    ));
                    None
                }
                Err(e) => {
                    self.fail(e.to_string());
                    None
                }
            },
        }
    }

    fn fail(&self, reason: String) {
        let _ = self.failed.set(reason);
    }

    /// A WGS84 geometry in the output system (`None`: a position cannot be converted).
    pub(crate) fn geometry<'g>(&self, g: &'g Geometry<f64>) -> Option<Cow<'g, Geometry<f64>>> {
        if self.map == Crs::Wgs84 && self.projection.is_none() {
            return Some(Cow::Borrowed(g));
        }
        let mut out = g.clone();
        let ok = std::cell::Cell::new(true);
        out.map_coords_in_place(|c| match self.position(LonLat::unchecked(c.x, c.y)) {
            Some(p) => Coord { x: p.lon, y: p.lat },
            None => {
                ok.set(false);
                c
            }
        });
        ok.get().then_some(Cow::Owned(out))
    }

    /// Append a WGS84 point as a GeoJSON Point in the output system (null when it cannot be
    /// converted).
    pub(crate) fn push_point(&self, buf: &mut Vec<u8>, p: LonLat) {
        match self.position(p) {
            Some(p) => push_point(buf, p, self.decimals()),
            None => buf.extend_from_slice(b"null"),
        }
    }

    /// Append a WGS84 geometry as GeoJSON in the output system (null when it cannot be
    /// converted).
    pub(crate) fn push_geometry(&self, buf: &mut Vec<u8>, g: &Geometry<f64>) {
        match self.geometry(g) {
            Some(g) => push_geometry(buf, &g, self.decimals()),
            None => buf.extend_from_slice(b"null"),
        }
    }

    /// The first position that could not be converted, as an error.
    ///
    /// # Errors
    /// A position was written as null because it cannot be converted.
    pub(crate) fn check(&self) -> io::Result<()> {
        match self.failed.get() {
            Some(reason) => Err(io::Error::other(format!(
                "a position cannot be written in the output coordinate system: {reason}"
            ))),
            None => Ok(()),
        }
    }

    /// The GeoJSON `crs` member's name for a projected output system
    /// (`urn:ogc:def:crs:EPSG::4547`); `None` for the map systems.
    pub(crate) fn geojson_urn(&self) -> Option<String> {
        let code = self.projection?.epsg_code()?;
        Some(format!("urn:ogc:def:crs:EPSG::{code}"))
    }
}

/// The output system of a plan for people and files: `wgs84`, `gcj02`, `bd09`, or
/// `EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)`.
pub(crate) fn describe_output(plan: &Plan) -> String {
    match plan.output_projection() {
        Some(p) => p.describe(),
        None => plan.coords().output.name().to_string(),
    }
}

/// The names of the coordinate columns of the tables: `lon`, `lat` in WGS84, `lon_gcj02`,
/// `lat_gcj02` (or `_bd09`) in a Chinese map system, `x_epsg4547`, `y_epsg4547` in a
/// projected system (`lon_epsg<n>`, `lat_epsg<n>` in another geographic one).
pub(crate) fn coordinate_names(plan: &Plan) -> [String; 2] {
    match plan.output_projection() {
        Some(p) => {
            let code = p
                .epsg_code()
                .map_or_else(|| "crs".to_string(), |c| format!("epsg{c}"));
            if p.is_geographic() {
                [format!("lon_{code}"), format!("lat_{code}")]
            } else {
                [format!("x_{code}"), format!("y_{code}")]
            }
        }
        None => match plan.coords().output {
            Crs::Wgs84 => ["lon".into(), "lat".into()],
            crs => [format!("lon_{crs}"), format!("lat_{crs}")],
        },
    }
}

/// The coordinate system of GeoPackage layers and FlatGeobuf files: EPSG code, name, WKT.
pub(crate) struct OwnedSrs {
    pub code: i32,
    pub name: String,
    pub wkt: String,
}

/// The GeoPackage / FlatGeobuf system of a plan's outputs: the projected system's EPSG code,
/// name and WKT, else WGS84 (also for GCJ-02 and BD-09, which have no EPSG code).
pub(crate) fn output_srs(plan: &Plan) -> OwnedSrs {
    let wgs84 = &crate::io::formats::WGS84;
    match plan.output_projection() {
        Some(p) => match (p.epsg_code(), p.wkt()) {
            (Some(code), Some(wkt)) => OwnedSrs {
                code: i32::from(code),
                name: p.title().unwrap_or_else(|| p.name().to_string()),
                wkt: wkt.to_string(),
            },
            _ => OwnedSrs {
                code: wgs84.code,
                name: wgs84.name.to_string(),
                wkt: wgs84.wkt.to_string(),
            },
        },
        None => OwnedSrs {
            code: wgs84.code,
            name: wgs84.name.to_string(),
            wkt: wgs84.wkt.to_string(),
        },
    }
}

impl OwnedSrs {
    /// As the writers take it.
    pub(crate) fn as_srs(&self) -> crate::io::formats::Srs<'_> {
        crate::io::formats::Srs {
            code: self.code,
            name: &self.name,
            wkt: &self.wkt,
        }
    }
}
