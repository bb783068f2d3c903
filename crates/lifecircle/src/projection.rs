//! Coordinate reference systems given by EPSG code or by WKT (a Shapefile's `.prj`, a
//! GeoPackage's `gpkg_spatial_ref_sys`): CGCS2000 (EPSG:4490), its 3-degree Gauss-Krüger zones
//! (EPSG:4513-4554), UTM zones (WGS84 EPSG:326xx / 327xx, CGCS2000 EPSG:4534-4554 and others),
//! Web Mercator (EPSG:3857) and the rest of the EPSG registry that the PROJ.4 model can express.
//!
//! Conversions use [`proj4rs`], a pure-Rust port of PROJ (the transverse Mercator is PROJ's
//! exact Poder/Engsager algorithm), with the EPSG definitions of the `crs-definitions` crate. The
//! test `projection_reference` compares them with pyproj (PROJ itself) to the millimetre.
//!
//! # Axis order
//! Coordinates are always taken as (easting, northing) or (longitude, latitude), the order GIS
//! files store them in (GDAL's "traditional GIS order"), whatever axis order the EPSG registry
//! gives the system.
//!
//! # CGCS2000 and WGS84
//! CGCS2000 and WGS84 (G1150 and later) agree within a few centimetres, less than the rounding
//! of the outputs (7 decimals, about 1 cm). CGCS2000 longitude/latitude (EPSG:4490) is
//! therefore read as WGS84 unchanged, and the CGCS2000 projected systems are converted on their
//! own ellipsoid (GRS80) without a datum shift, as PROJ does.
//!
//! # Units
//! Projected coordinates in the system's unit (metres for every system named above);
//! longitude/latitude in degrees.

use std::{fmt, str::FromStr, sync::LazyLock};

use proj4rs::{proj::Proj, transform::transform};

use crate::coords::Crs;

/// WGS84 longitude/latitude, the frame every analysis is measured in.
static WGS84: LazyLock<Result<Proj, String>> = LazyLock::new(|| {
    Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").map_err(|e| e.to_string())
});

/// A coordinate reference system that cannot be used: an unknown EPSG code, a WKT that cannot
/// be understood, a point that cannot be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{crs}: {reason}")]
pub struct CrsError {
    /// The system as given (`EPSG:9999`, the start of a WKT).
    pub crs: String,
    /// What is wrong.
    pub reason: String,
}

impl CrsError {
    fn new(crs: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            crs: crs.into(),
            reason: reason.into(),
        }
    }
}

/// A coordinate reference system that is converted to WGS84 while reading (and from WGS84 when
/// writing): a projected system, or a geographic one on another datum.
#[derive(Clone)]
pub struct Projection {
    /// `EPSG:4547`, or the WKT's name.
    name: String,
    /// The EPSG code, when known.
    epsg: Option<u16>,
    proj: Proj,
}

impl fmt::Debug for Projection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Projection")
            .field("name", &self.name)
            .field("epsg", &self.epsg)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Projection {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.epsg == other.epsg
    }
}

fn wgs84() -> Result<&'static Proj, CrsError> {
    WGS84
        .as_ref()
        .map_err(|e| CrsError::new("EPSG:4326", e.clone()))
}

impl Projection {
    /// The system with this EPSG code.
    ///
    /// # Errors
    /// A code the EPSG definitions do not hold, or one the PROJ.4 model cannot express.
    ///
    /// # Examples
    /// ```
    /// use lifecircle::projection::Projection;
    ///
    /// // CGCS2000 / 3-degree Gauss-Krüger CM 114E (Wuhan, Guangzhou, Shenzhen).
    /// let gk = Projection::epsg(4547)?;
    /// let (lon, lat) = gk.to_wgs84(500_000.0, 3_000_000.0)?;
    /// assert!((lon - 114.0).abs() < 1e-9 && (lat - 27.1).abs() < 0.1);
    /// # Ok::<(), lifecircle::projection::CrsError>(())
    /// ```
    pub fn epsg(code: u32) -> Result<Self, CrsError> {
        let name = format!("EPSG:{code}");
        let def = u16::try_from(code)
            .ok()
            .and_then(crs_definitions::from_code)
            .ok_or_else(|| {
                CrsError::new(
                    &name,
                    "unknown EPSG code (lifecircle knows the EPSG registry's geographic and \
                     projected systems, e.g. EPSG:4490 CGCS2000, EPSG:4513-4554 CGCS2000 \
                     Gauss-Krüger, EPSG:326xx WGS84 / UTM, EPSG:3857 Web Mercator)",
                )
            })?;
        let proj = Proj::from_proj_string(def.proj4)
            .map_err(|e| CrsError::new(&name, format!("cannot be used: {e}")))?;
        Ok(Self {
            name,
            epsg: Some(def.code),
            proj,
        })
    }

    /// The system a WKT describes (OGC WKT1, ESRI WKT of a `.prj`, or WKT2): by its EPSG
    /// authority code when it gives one, else by its parameters.
    ///
    /// # Errors
    /// A WKT that cannot be parsed, or a system the PROJ.4 model cannot express.
    pub fn from_wkt(wkt: &str) -> Result<Self, CrsError> {
        if let Some(code) = top_level_epsg(wkt) {
            if let Ok(p) = Self::epsg(code) {
                return Ok(p);
            }
        }
        let shown = crate::io::geojson::shorten(wkt.trim());
        let projstring = proj4wkt::wkt_to_projstring(wkt)
            .map_err(|e| CrsError::new(&shown, format!("cannot read this WKT: {e}")))?;
        let proj = Proj::from_proj_string(&projstring)
            .map_err(|e| CrsError::new(&shown, format!("cannot be used ({projstring}): {e}")))?;
        Ok(Self {
            name: wkt_name(wkt).unwrap_or(shown),
            epsg: None,
            proj,
        })
    }

    /// `EPSG:4547`, or the WKT's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The EPSG code, when known.
    pub fn epsg_code(&self) -> Option<u16> {
        self.epsg
    }

    /// Whether coordinates are longitude/latitude (in degrees) rather than projected.
    pub fn is_geographic(&self) -> bool {
        self.proj.is_latlong()
    }

    /// Whether this is WGS84 or CGCS2000 longitude/latitude, read unchanged (see the module
    /// documentation).
    pub fn is_wgs84(&self) -> bool {
        matches!(self.epsg, Some(4326 | 4490))
    }

    /// WGS84 longitude and latitude, degrees, of the point `(x, y)` in this system.
    ///
    /// # Errors
    /// A point the projection cannot invert (far outside its domain).
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), CrsError> {
        let mut p = if self.is_geographic() {
            (x.to_radians(), y.to_radians(), 0.0)
        } else {
            (x, y, 0.0)
        };
        transform(&self.proj, wgs84()?, &mut p).map_err(|e| {
            CrsError::new(
                &self.name,
                format!("cannot convert [{x}, {y}] to longitude/latitude: {e}"),
            )
        })?;
        Ok((p.0.to_degrees(), p.1.to_degrees()))
    }

    /// The point `(x, y)` in this system of WGS84 longitude and latitude, degrees.
    ///
    /// # Errors
    /// A point outside the projection's domain.
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> Result<(f64, f64), CrsError> {
        let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
        transform(wgs84()?, &self.proj, &mut p).map_err(|e| {
            CrsError::new(
                &self.name,
                format!("cannot convert [{lon}, {lat}] into this system: {e}"),
            )
        })?;
        if self.is_geographic() {
            Ok((p.0.to_degrees(), p.1.to_degrees()))
        } else {
            Ok((p.0, p.1))
        }
    }

    /// The system's name as its definition gives it (`CGCS2000 / 3-degree Gauss-Kruger CM
    /// 114E` for EPSG:4547), when known.
    pub fn title(&self) -> Option<String> {
        match self.wkt() {
            Some(wkt) => wkt_name(wkt),
            None if self.epsg.is_none() => Some(self.name.clone()),
            None => None,
        }
    }

    /// The system for people: `EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)`, or the
    /// name alone when there is no other.
    pub fn describe(&self) -> String {
        match self.title() {
            Some(t) if t != self.name => format!("{} ({t})", self.name),
            _ => self.name.clone(),
        }
    }

    /// The WKT (OGC WKT1) of the system, when it has an EPSG code.
    pub fn wkt(&self) -> Option<&'static str> {
        self.epsg
            .and_then(crs_definitions::from_code)
            .map(|d| d.wkt)
            .filter(|w| !w.is_empty())
    }
}

/// The EPSG code of a WKT's outermost `AUTHORITY["EPSG","n"]` (WKT1) or `ID["EPSG",n]` (WKT2):
/// the last one, which closes the top-level object.
fn top_level_epsg(wkt: &str) -> Option<u32> {
    let t = wkt.trim_end().strip_suffix(']')?;
    let i = t.rfind("AUTHORITY[").or_else(|| t.rfind("ID["))?;
    let inner = t.get(i..)?;
    // Only an authority that closes the outermost object: nothing but `]` after it.
    let close = inner.find(']')?;
    if !inner.get(close + 1..)?.trim().is_empty() {
        return None;
    }
    let args = inner.get(inner.find('[')? + 1..close)?;
    let mut parts = args.split(',').map(|p| p.trim().trim_matches('"'));
    if !parts.next()?.eq_ignore_ascii_case("EPSG") {
        return None;
    }
    parts.next()?.parse().ok()
}

/// The quoted name that opens a WKT (`PROJCS["CGCS2000_3_Degree_GK_CM_114E",...`).
fn wkt_name(wkt: &str) -> Option<String> {
    let start = wkt.find('"')? + 1;
    let len = wkt.get(start..)?.find('"')?;
    Some(wkt.get(start..start + len)?.to_string())
}

/// A coordinate system as given for an input or the outputs: one of the map systems of
/// [`Crs`] (WGS84, GCJ-02, BD-09), CGCS2000, or an EPSG code.
///
/// Parsed from `wgs84`, `gcj02`, `bd09`, `cgcs2000` or `EPSG:n` (any case).
#[derive(Debug, Clone, PartialEq)]
pub enum CrsSpec {
    /// WGS84, GCJ-02 or BD-09 longitude/latitude (CGCS2000 and EPSG:4326 / 4490 are WGS84).
    Map(Crs),
    /// Another system, converted while reading and writing.
    Projected(Box<Projection>),
}

impl CrsSpec {
    /// The longitude/latitude system the analysis converts from: the map system, or WGS84 for a
    /// projection (converted while reading).
    pub fn map_crs(&self) -> Crs {
        match self {
            Self::Map(crs) => *crs,
            Self::Projected(_) => Crs::Wgs84,
        }
    }

    /// The projection to convert while reading or writing, if any.
    pub fn projection(&self) -> Option<&Projection> {
        match self {
            Self::Map(_) => None,
            Self::Projected(p) => Some(p.as_ref()),
        }
    }
}

impl fmt::Display for CrsSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Map(crs) => write!(f, "{crs}"),
            Self::Projected(p) => f.write_str(p.name()),
        }
    }
}

impl FromStr for CrsSpec {
    type Err = String;

    /// # Errors
    /// A message naming the value and listing the choices, or why the EPSG code is refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Ok(crs) = t.parse::<Crs>() {
            return Ok(Self::Map(crs));
        }
        if t.eq_ignore_ascii_case("cgcs2000") {
            return Ok(Self::Map(Crs::Wgs84));
        }
        let code = t
            .split_once(':')
            .filter(|(auth, _)| auth.trim().eq_ignore_ascii_case("epsg"))
            .map(|(_, code)| code.trim());
        let Some(code) = code else {
            return Err(format!(
                "unknown coordinate system '{s}': expected one of wgs84, gcj02, bd09, cgcs2000 \
                 or an EPSG code such as EPSG:4547"
            ));
        };
        let code: u32 = code
            .parse()
            .map_err(|_| format!("'{s}': an EPSG code is a number, as in EPSG:4547"))?;
        if matches!(code, 4326 | 4490) {
            return Ok(Self::Map(Crs::Wgs84));
        }
        Projection::epsg(code)
            .map(|p| Self::Projected(Box::new(p)))
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsg_codes_parse_and_unknown_ones_are_refused() {
        let p: CrsSpec = "EPSG:4547".parse().unwrap();
        assert_eq!(p.to_string(), "EPSG:4547");
        assert_eq!(p.map_crs(), Crs::Wgs84);
        assert_eq!("epsg:4490".parse::<CrsSpec>(), Ok(CrsSpec::Map(Crs::Wgs84)));
        assert_eq!("gcj02".parse::<CrsSpec>(), Ok(CrsSpec::Map(Crs::Gcj02)));
        let e = "EPSG:99999".parse::<CrsSpec>().unwrap_err();
        assert!(e.contains("EPSG:99999: unknown EPSG code"), "{e}");
        let e = "EPSG:abc".parse::<CrsSpec>().unwrap_err();
        assert!(e.contains("is a number"), "{e}");
        assert!("mars".parse::<CrsSpec>().unwrap_err().contains("cgcs2000"));
    }

    #[test]
    fn a_point_goes_there_and_back() {
        for code in [4547, 4526, 32650, 3857, 4513, 4554, 32735] {
            let p = Projection::epsg(code).unwrap();
            assert!(!p.is_geographic());
            let (x, y) = p.from_wgs84(114.3, 30.6).unwrap();
            let (lon, lat) = p.to_wgs84(x, y).unwrap();
            assert!(
                (lon - 114.3).abs() < 1e-9 && (lat - 30.6).abs() < 1e-9,
                "{code}"
            );
        }
    }

    #[test]
    fn wkt_authority_and_name() {
        let wkt = r#"PROJCS["CGCS2000 / 3-degree Gauss-Kruger CM 114E",GEOGCS["China Geodetic Coordinate System 2000",AUTHORITY["EPSG","4490"]],AUTHORITY["EPSG","4547"]]"#;
        assert_eq!(top_level_epsg(wkt), Some(4547));
        assert_eq!(
            top_level_epsg(r#"GEOGCS["x",AUTHORITY["EPSG","4490"],UNIT["d",1]]"#),
            None
        );
        assert_eq!(
            wkt_name(wkt).as_deref(),
            Some("CGCS2000 / 3-degree Gauss-Kruger CM 114E")
        );
    }
}
