//! Candidate sites: read from a file (points or areas, with an optional `id`, `name` and
//! `cost`) or generated (a grid over the demand, the street junctions, the communities'
//! points).

use std::f64::consts::PI;

use geo::Geometry;

use super::SiteError;
use crate::{
    error::{FeatureError, Result},
    geodesy::LonLat,
    io::{
        geojson::{self as input, read_features, FeatureRef, Source},
        Fields,
    },
    model::{representative_point, Community, Id, Residence},
};

/// A place where a new site could be built.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Its id (from the file, or made from how it was generated: `grid-3-7`, `node-12`,
    /// `community-<id>`).
    pub id: Id,
    /// Its name, when the file gives one.
    pub name: Option<Box<str>>,
    /// Where it is (WGS84), rounded to the 7 decimals the outputs are written with, so that a
    /// site read back from `sites.geojson` is exactly where it was measured from.
    pub at: LonLat,
    /// What building it costs, when the file gives a cost.
    pub cost: Option<f64>,
    /// Its feature index in the candidates file.
    pub index: Option<usize>,
}

impl Candidate {
    /// A candidate at `at` (rounded to 7 decimals), without name or cost.
    pub fn new(id: impl Into<Id>, at: LonLat) -> Self {
        Self {
            id: id.into(),
            name: None,
            at: round7(at),
            cost: None,
            index: None,
        }
    }
}

/// A position rounded to 7 decimals (about 1 cm), as every output writes positions.
pub(crate) fn round7(p: LonLat) -> LonLat {
    let r = |v: f64| (v * 1e7).round() / 1e7;
    LonLat::unchecked(r(p.lon), r(p.lat))
}

/// Where the candidate sites come from.
#[derive(Debug, Clone, PartialEq)]
pub enum CandidateSource {
    /// Given (read with [`read_candidates`], or built in code), in the facilities' coordinate
    /// system.
    Given(Vec<Candidate>),
    /// A square grid of this spacing (metres) over the extent of the demand points, kept only
    /// where some demand point is within the walk of a sited category.
    Grid {
        /// Distance between neighbouring grid points, metres.
        spacing_m: f64,
    },
    /// The junctions of the street network (nodes where other than two pieces meet); network
    /// mode only.
    Streets,
    /// Each community's representative point.
    Communities,
}

impl CandidateSource {
    /// How the source is named in summaries (`file`, `grid:250m`, `streets`, `communities`).
    pub fn label(&self) -> String {
        match self {
            Self::Given(_) => "file".into(),
            Self::Grid { spacing_m } => format!("grid:{spacing_m}m"),
            Self::Streets => "streets".into(),
            Self::Communities => "communities".into(),
        }
    }
}

/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Grid points `spacing_m` apart (north-south exactly, east-west at the extent's middle
/// latitude) covering the bounding box of `demand`, row by row from the south-west corner.
pub(crate) fn grid(demand: &[Residence], spacing_m: f64) -> Vec<Candidate> {
    let Some(first) = demand.first() else {
        return Vec::new();
    };
    let (mut w, mut e, mut s, mut n) = (first.at.lon, first.at.lon, first.at.lat, first.at.lat);
    for r in demand {
        w = w.min(r.at.lon);
        e = e.max(r.at.lon);
        s = s.min(r.at.lat);
        n = n.max(r.at.lat);
    }
    let dlat = spacing_m / (EARTH_RADIUS_M * PI / 180.0);
    let mid = ((s + n) / 2.0).to_radians().cos().max(1e-6);
    let dlon = dlat / mid;
    let rows = ((n - s) / dlat).floor() as usize + 1;
    let cols = ((e - w) / dlon).floor() as usize + 1;
    // Centre the grid on the extent.
    let lat0 = s + ((n - s) - (rows - 1) as f64 * dlat) / 2.0;
    let lon0 = w + ((e - w) - (cols - 1) as f64 * dlon) / 2.0;
    let mut out = Vec::with_capacity(rows.saturating_mul(cols).min(1 << 24));
    for row in 0..rows {
        for col in 0..cols {
            let at = LonLat::unchecked(lon0 + col as f64 * dlon, lat0 + row as f64 * dlat);
            out.push(Candidate::new(format!("grid-{row}-{col}"), at));
        }
    }
    out
}

/// A candidate at each community's representative point.
pub(crate) fn at_communities(communities: &[Community]) -> Vec<Candidate> {
    communities
        .iter()
        .map(|c| {
            let mut k = Candidate::new(format!("community-{}", c.id), c.at);
            k.name = c.name.clone();
            k
        })
        .collect()
}

/// A candidate at each street junction.
pub(crate) fn at_junctions(junctions: &[LonLat]) -> Vec<Candidate> {
    junctions
        .iter()
        .enumerate()
        .map(|(k, &at)| Candidate::new(format!("node-{k}"), at))
        .collect()
}

/// Read candidate sites: Points (or Polygons and MultiPolygons, by a point inside) with an
/// optional id (`fields.id`), name (`fields.name`) and `cost` (a number, 0 or more).
///
/// Every feature must be usable: a candidate file is short and a wrong cost changes the plan,
/// so a bad feature is an error here, not a skip.
///
/// # Errors
/// The file cannot be read or is not a FeatureCollection; [`SiteError::BadCandidates`] naming
/// the first bad feature (index, property, problem); [`SiteError::NoCandidates`] for a file
/// without features.
pub fn read_candidates(
    source: &Source,
    fields: &Fields,
    cost_field: &str,
) -> Result<Vec<Candidate>> {
    let wanted = [fields.id.as_str(), &fields.name, cost_field];
    let read = read_features(source, &wanted, |f| {
        let geometry = f.geometry()?;
        if !matches!(
            geometry,
            Geometry::Point(_) | Geometry::Polygon(_) | Geometry::MultiPolygon(_)
        ) {
            return Err(f.error(
                "geometry",
                "a candidate site must be a Point, Polygon or MultiPolygon",
            ));
        }
        let at = representative_point(&geometry)
            .ok_or_else(|| f.error("geometry", "no representative point can be found for it"))?;
        let at = LonLat::new(at.lon, at.lat).map_err(|e| f.error("geometry", e.to_string()))?;
        Ok(Candidate {
            id: crate::io::id_of(f, 0, &fields.id)?,
            name: crate::io::name_of(f, 1, &fields.name)?,
            at: round7(at),
            cost: cost_of(f, 2, cost_field)?,
            index: Some(f.index()),
        })
    })?;
    let mut bad: Vec<FeatureError> = read.rejected;
    // Ids must be unique: a site's id names it in the outputs.
    let mut seen = std::collections::HashMap::new();
    for c in &read.kept {
        if let Some(first) = seen.insert(c.id.clone(), c.index.unwrap_or(0)) {
            bad.push(FeatureError {
                file: source.name(),
                index: c.index.unwrap_or(0),
                field: fields.id.clone(),
                problem: format!("duplicate id \"{}\" (feature {first} has it already)", c.id),
            });
        }
    }
    bad.sort_by_key(|e| e.index);
    if let Some(first) = bad.first() {
        return Err(SiteError::BadCandidates {
            file: source.name(),
            count: bad.len(),
            first: first.to_string(),
        }
        .into());
    }
    if read.kept.is_empty() {
        return Err(SiteError::NoCandidates(format!("{} has no features", source.name())).into());
    }
    Ok(read.kept)
}

/// A cost: absent is `None`; null, non-numeric, negative or not finite is an error.
fn cost_of(f: &FeatureRef<'_>, prop: usize, field: &str) -> Result<Option<f64>, FeatureError> {
    let Some(raw) = f.property(prop) else {
        return Ok(None);
    };
    match input::number(raw).map_err(|p| f.error(field, p))? {
        Some(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
        Some(_) => Err(f.error(
            field,
            format!(
                "the cost must be a number of 0 or more, found {}",
                raw.get()
            ),
        )),
        None => Err(f.error(
            field,
            "the cost is null (give a number, or leave the property out)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_spacing_and_extent() {
        let r = |lon, lat| Residence::new("r", LonLat::new(lon, lat).unwrap(), 1.0).unwrap();
        // About 1.1 km north-south and 1.1 km east-west at 60°N.
        let demand = [r(24.94, 60.17), r(24.96, 60.18)];
        let g = grid(&demand, 250.0);
        let rows = g.iter().filter(|c| c.at.lon == g[0].at.lon).count();
        let cols = g.len() / rows;
        assert_eq!(rows, 5, "1112 m / 250 m");
        assert_eq!(cols, 5, "1110 m / 250 m");
        // East-west exact at the middle latitude (the southern row is 0.4 % wider).
        let d = crate::geodesy::surface_distance_m(g[0].at, g[1].at);
        assert!((d - 250.0).abs() < 1.5, "{d}");
        let d = crate::geodesy::surface_distance_m(g[0].at, g[cols].at);
        assert!((d - 250.0).abs() < 0.5, "{d}");
        assert_eq!(g[cols + 1].id, Id::Text("grid-1-1".into()));
    }
}
