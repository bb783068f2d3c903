//! Street networks from files: GeoJSON lines, or the walkable ways of an OpenStreetMap
//! `.osm.pbf`.

use geo::Geometry;

use super::geojson::{read_features, Source};
use crate::{
    coords::{self, Crs},
    error::{FeatureError, Result, Setting, SettingsError},
    geodesy::LonLat,
    osm,
    walk::network::StreetNetwork,
};

/// The street network in `source`, converted from `crs` to WGS84: the walkable ways of an
/// OpenStreetMap extract when the source is a file whose name ends in `.pbf`, else the lines of
/// a GeoJSON FeatureCollection ([`read_street_lines`]). Also returns the GeoJSON features that
/// could not be used.
///
/// # Errors
/// The file cannot be read or is malformed; a [`SettingsError`] of
/// [`Setting::StreetNetwork`] when it holds no usable street line.
pub fn read_street_network(
    source: &Source,
    crs: Crs,
) -> Result<(StreetNetwork, Vec<FeatureError>)> {
    let (mut lines, rejected) = match source {
        Source::Path(p) if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pbf")) => {
            let lines = osm::walkable_lines(p)?;
            (lines.into_iter().map(|l| l.coords).collect(), Vec::new())
        }
        _ => read_street_lines(source)?,
    };
    if crs != Crs::Wgs84 {
        for p in lines.iter_mut().flatten() {
            *p = coords::convert(*p, crs, Crs::Wgs84);
        }
    }
    let network = StreetNetwork::from_lines(&lines);
    if network.pieces() == 0 {
        return Err(SettingsError::without_value(
            Setting::StreetNetwork,
            format!("{source}: no usable street line"),
        )
        .into());
    }
    Ok((network, rejected))
}

/// Street lines from a GeoJSON FeatureCollection of LineString and MultiLineString features
/// (any properties); each MultiLineString is split into its lines.
///
/// Returns the lines and the features that could not be used (another geometry type, a line
/// with fewer than two positions, an invalid position), each naming the feature.
///
/// # Errors
/// The file cannot be read, is not valid JSON, or is not a WGS84 FeatureCollection.
pub fn read_street_lines(source: &Source) -> Result<(Vec<Vec<LonLat>>, Vec<FeatureError>)> {
    let features = read_features(source, &[], |f| {
        let to_line = |l: &geo::LineString<f64>, part: Option<usize>| {
            if l.0.len() < 2 {
                let which = match part {
                    Some(k) => format!("line {k} of the MultiLineString"),
                    None => "the LineString".to_string(),
                };
                return Err(f.error(
                    "geometry",
                    format!(
                        "{which} has {} position(s); a street line needs at least 2",
                        l.0.len()
                    ),
                ));
            }
            Ok(l.0
                .iter()
                .map(|c| LonLat::unchecked(c.x, c.y))
                .collect::<Vec<_>>())
        };
        match f.geometry()? {
            Geometry::LineString(l) => Ok(vec![to_line(&l, None)?]),
            Geometry::MultiLineString(m) => {
                m.0.iter()
                    .enumerate()
                    .map(|(k, l)| to_line(l, Some(k)))
                    .collect()
            }
            other => Err(f.error(
                "geometry",
                format!(
                    "a street must be a LineString or MultiLineString, found a {}",
                    geometry_name(&other)
                ),
            )),
        }
    })?;
    Ok((
        features.kept.into_iter().flatten().collect(),
        features.rejected,
    ))
}

/// The GeoJSON type name of a geometry.
fn geometry_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::LineString(_) => "LineString",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        _ => "geometry of another kind",
    }
}
