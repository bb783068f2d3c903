//! Seeded synthetic cities for benchmarks and tests.
//!
//! [`generate`] builds a city of any size from a [`CitySpec`]: residential buildings clustered in
//! compounds (小区), a tessellation of community polygons, service facilities with real gaps, and
//! optionally a street grid. [`write_geojson`] writes it as the four RFC 7946 files that
//! `lifecircle analyze` reads. The same spec and seed give the same city on every platform (the
//! random numbers come from a seeded PCG generator, never from the operating system).
//!
//! # Layout
//! The city is a square of side [`CitySpec::side_m`] centred on [`CitySpec::centre`]. It is laid
//! out in a local east/north frame in metres and mapped to WGS84 longitude/latitude with the
//! ellipsoid's radii of curvature at the centre (an equirectangular map, accurate to well under a
//! metre across a city). Every coordinate is rounded to 7 decimals (about 1 cm) before it is
//! used, so the values in memory are exactly the values in the files.
//!
//! - **Residences**: compound centres are spread over the city, denser towards the middle; each
//!   compound has 100-500 buildings within 100-200 m of its centre, with 20-300 residents each.
//!   Buildings spill over the city's edge or sit in no community only near the border.
//! - **Communities**: rows of jittered cells that share their borders exactly (no gaps, no
//!   overlaps), 10-20 vertices each; about 5 % have a hole (a park) where nobody lives.
//! - **Facilities**: [`CitySpec::facilities_per_category`] per category, placed near residences.
//!   The city is cut into districts of about 3 km; per category some districts get none
//!   (12 %, and 35 % for `childcare`), so coverage is not trivially complete.
//! - **Streets**: a jittered grid with [`CitySpec::street_spacing_m`] spacing over the whole
//!   square, 10 % of its links removed; each link is one 3-vertex piece (its ends and a midpoint).
//!
//! # Units
//! Lengths are metres, coordinates WGS84 degrees (longitude first).

use std::path::Path;

use geo::{BoundingRect, Contains, Coord, LineString, Point, Polygon, Rect};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use lifecircle::{
    geodesy::{WGS84_A_M, WGS84_F},
    io::geojson::write::{
        push_feature, push_line_string, push_point, push_polygon, push_str, push_u64, rounded,
        Decimals, FeatureCollection, OutputSet, COORD_DECIMALS,
    },
    Error, LonLat,
};

/// What can go wrong making a synthetic city.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The specification is out of range.
    #[error("synthetic city: {0}")]
    Spec(String),
    /// Writing the city failed.
    #[error(transparent)]
    Write(#[from] Error),
}

/// Result with [`SynthError`].
pub type Result<T, E = SynthError> = std::result::Result<T, E>;

/// The six service categories of the 15-minute community life circle used by default.
pub const DEFAULT_CATEGORIES: [&str; 6] = lifecircle::SIX_FUNCTIONS;

/// File name of the residences written by [`write_geojson`].
pub const RESIDENCES_FILE: &str = "residences.geojson";
/// File name of the communities written by [`write_geojson`].
pub const COMMUNITIES_FILE: &str = "communities.geojson";
/// File name of the facilities written by [`write_geojson`].
pub const FACILITIES_FILE: &str = "facilities.geojson";
/// File name of the same facilities with a `capacity` property each, written by
/// [`write_geojson`] beside [`FACILITIES_FILE`] (for capacity within reach, 2SFCA).
pub const FACILITIES_CAPACITY_FILE: &str = "facilities-capacity.geojson";
/// File name of the streets written by [`write_geojson`] (only when the city has streets).
pub const STREETS_FILE: &str = "streets.geojson";

/// Residences of the reference city that the other defaults are scaled from.
const REF_RESIDENCES: f64 = 1_000_000.0;
/// Side of the reference city, metres: with 120 m streets it has about 120,000 street pieces.
const REF_SIDE_M: f64 = 31_000.0;
/// Communities of the reference city (about 0.64 km² each).
const REF_COMMUNITIES: f64 = 1_500.0;
/// Facilities per category of the reference city.
const REF_FACILITIES: f64 = 1_000.0;
/// Smallest city side chosen by [`CitySpec::for_residences`], metres.
const MIN_SIDE_M: f64 = 1_000.0;
/// Default street spacing, metres.
const STREET_SPACING_M: f64 = 120.0;
/// Share of street grid links removed.
const STREET_LINK_DROP: f64 = 0.10;
/// Target side of a facility district, metres.
const DISTRICT_M: f64 = 3_000.0;
/// Share of districts without a facility of a category (`childcare` uses the sparse value).
const DISTRICT_GAP: f64 = 0.12;
/// Share of districts without childcare.
const DISTRICT_GAP_SPARSE: f64 = 0.35;
/// Share of communities with a hole.
const HOLE_SHARE: f64 = 0.05;
/// Largest number of street grid nodes accepted.
const MAX_STREET_NODES: f64 = 1e8;

/// What city to generate. All fields are public; [`CitySpec::for_residences`] fills them in.
#[derive(Debug, Clone, PartialEq)]
pub struct CitySpec {
    /// Seed of the random generator: the same spec gives the same city.
    pub seed: u64,
    /// Number of residential buildings.
    pub residences: usize,
    /// Number of community polygons (at least 1).
    pub communities: usize,
    /// Number of facilities of each category.
    pub facilities_per_category: usize,
    /// Facility categories.
    pub categories: Vec<String>,
    /// Centre of the city.
    pub centre: LonLat,
    /// Whether to generate a street network.
    pub streets: bool,
    /// Side of the square city, metres.
    pub side_m: f64,
    /// Street grid spacing, metres.
    pub street_spacing_m: f64,
}

impl CitySpec {
    /// A city of `residences` buildings at urban density: the area grows with the count (about
    /// 31 km × 31 km for 1,000,000, 98 km × 98 km for 10,000,000, at least 1 km × 1 km), with
    /// 1,500 communities and 1,000 facilities per category per 961 km², the six
    /// [`DEFAULT_CATEGORIES`], centred on Shanghai (121.47 E, 31.23 N), seed 42, no streets.
    /// At 1,000,000 residences the street grid (when enabled) has about 120,000 pieces.
    pub fn for_residences(residences: usize) -> Self {
        let side_m = (REF_SIDE_M * (residences as f64 / REF_RESIDENCES).sqrt()).max(MIN_SIDE_M);
        let area_ratio = (side_m / REF_SIDE_M).powi(2);
        Self {
            seed: 42,
            residences,
            communities: ((REF_COMMUNITIES * area_ratio).round() as usize).max(1),
            facilities_per_category: ((REF_FACILITIES * area_ratio).round() as usize).max(1),
            categories: DEFAULT_CATEGORIES.iter().map(|c| c.to_string()).collect(),
            centre: LonLat::new(121.47, 31.23).expect("a position in range"),
            streets: false,
            side_m,
            street_spacing_m: STREET_SPACING_M,
        }
    }

    /// Check that the spec describes a city that can be generated.
    ///
    /// # Errors
    /// [`SynthError::Spec`] when a size is not positive or not finite, there are no communities,
    /// the city would not fit between latitudes -85 and 85 or would cross the antimeridian, or
    /// the street grid would have more than 10⁸ nodes.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(SynthError::Spec(m));
        if !(self.side_m.is_finite() && self.side_m > 0.0 && self.side_m <= 2_000_000.0) {
            return bad(format!(
                "side_m must be in (0, 2000 km], found {}",
                self.side_m
            ));
        }
        if self.communities == 0 {
            return bad("at least one community is needed".into());
        }
        let c = self.centre;
        if !(c.lon().is_finite() && c.lat().is_finite()) {
            return bad(format!("centre [{}, {}] is not finite", c.lon(), c.lat()));
        }
        if c.lat().abs() > 85.0 {
            return bad(format!("centre latitude {} is outside -85..85", c.lat()));
        }
        let frame = Frame::new(c, self.side_m);
        let half_lat = 0.6 * self.side_m / frame.m_per_deg_lat;
        let half_lon = 0.6 * self.side_m / frame.m_per_deg_lon;
        if c.lat().abs() + half_lat > 85.0 || c.lon().abs() + half_lon > 180.0 {
            return bad(format!(
                "a {:.0} m square around [{}, {}] leaves latitudes -85..85 or crosses the \
                 antimeridian",
                self.side_m,
                c.lon(),
                c.lat()
            ));
        }
        if self.streets {
            let s = self.street_spacing_m;
            if !(s.is_finite() && s > 0.0) {
                return bad(format!("street_spacing_m must be positive, found {s}"));
            }
            let nodes = (self.side_m / s + 1.0).powi(2);
            if nodes > MAX_STREET_NODES {
                return bad(format!(
                    "a street grid of {s} m over {:.0} m has {nodes:.0} nodes, more than {MAX_STREET_NODES:.0}",
                    self.side_m
                ));
            }
        }
        Ok(())
    }
}

/// A community polygon with its identity and the residents inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Community {
    /// Identifier, `c0`, `c1`, ...
    pub id: String,
    /// Display name, `Community 1`, `Community 2`, ...
    pub name: String,
    /// Boundary, WGS84 (x = longitude, y = latitude); exterior counter-clockwise, holes
    /// clockwise.
    pub polygon: Polygon<f64>,
    /// Sum of the population of the residences strictly inside the polygon.
    pub population: u64,
}

/// A generated city, in memory. Coordinates are WGS84, rounded to 7 decimals.
#[derive(Debug, Clone, PartialEq)]
pub struct City {
    /// Residential buildings and their population; the id of residence `i` is `r{i}`.
    pub residences: Vec<(LonLat, u32)>,
    /// Community polygons.
    pub communities: Vec<Community>,
    /// Facilities and their category, grouped by category in the spec's order; the id of
    /// facility `i` is `f{i}`.
    pub facilities: Vec<(LonLat, String)>,
    /// Capacity of each facility (places, beds, seats), in [`City::facilities`] order: drawn
    /// uniformly from a range typical of its category (see [`capacity_range`]).
    pub capacities: Vec<u32>,
    /// Street pieces, 3 vertices each (empty unless the spec asked for streets); the id of piece
    /// `i` is `s{i}`.
    pub streets: Vec<Vec<LonLat>>,
}

/// Generate the city a spec describes.
///
/// # Errors
/// [`SynthError::Spec`] when the spec is invalid (see [`CitySpec::validate`]).
pub fn generate(spec: &CitySpec) -> Result<City> {
    spec.validate()?;
    let frame = Frame::new(spec.centre, spec.side_m);
    let layout = Layout::new(spec, &mut stage_rng(spec.seed, 1));
    let residences = residences(spec, &frame, &layout, &mut stage_rng(spec.seed, 2));
    let communities = layout.communities(&frame, &residences);
    let facilities = facilities(spec, &frame, &residences);
    let capacities = capacities(&facilities, &mut stage_rng(spec.seed, 4));
    let streets = if spec.streets {
        streets(spec, &frame, &mut stage_rng(spec.seed, 3))
    } else {
        Vec::new()
    };
    Ok(City {
        residences,
        communities,
        facilities,
        capacities,
        streets,
    })
}

/// The seeded random generator of the synthetic cities, and of lifecircle's randomised tests,
/// benches and examples: PCG with a 128-bit multiplicative congruential state (`Pcg64Mcg`).
/// Use it with [`rand::RngExt`] (`rng.random::<f64>()`, `rng.random_range(0..n)`).
pub type Rng = Pcg64Mcg;

/// A generator seeded with `seed`: the same seed gives the same numbers on every platform.
///
/// # Examples
/// ```
/// use rand::RngExt;
/// let (mut a, mut b) = (lifecircle_synth::rng(7), lifecircle_synth::rng(7));
/// assert_eq!(a.random::<u64>(), b.random::<u64>());
/// ```
pub fn rng(seed: u64) -> Rng {
    Pcg64Mcg::seed_from_u64(seed)
}

/// An independent generator for part `index` of stream `stream` under `seed`, so that parts
/// can be generated separately (in parallel, or some left out) without changing the others.
/// Stream 0, index 0 is [`rng`]`(seed)`.
pub fn rng_stream(seed: u64, stream: u64, index: u64) -> Rng {
    let mix = stream
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(index.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    rng(seed ^ mix)
}

/// An independent random stream for one stage of generation, so that (say) adding streets does
/// not change the residences.
fn stage_rng(seed: u64, stage: u64) -> Rng {
    rng_stream(seed, stage, 0)
}

/// Uniform in `[a, b)`.
#[inline]
pub fn unif(rng: &mut Rng, a: f64, b: f64) -> f64 {
    a + (b - a) * rng.random::<f64>()
}

/// A uniformly random offset in a disc of radius `r`, metres.
#[inline]
fn in_disc(rng: &mut Rng, r: f64) -> (f64, f64) {
    let rho = r * rng.random::<f64>().sqrt();
    let (s, c) = unif(rng, 0.0, std::f64::consts::TAU).sin_cos();
    (rho * c, rho * s)
}

/// A standard normal value (Box-Muller).
#[inline]
pub fn normal(rng: &mut Rng) -> f64 {
    let u = 1.0 - rng.random::<f64>(); // (0, 1]
    let v = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Round degrees to the 7 decimals they are written with.
#[inline]
fn round7(v: f64) -> f64 {
    rounded(v, COORD_DECIMALS)
}

/// The map from the local east/north frame (metres, origin at the south-west corner) to WGS84.
#[derive(Debug, Clone, Copy)]
struct Frame {
    centre: LonLat,
    half_side_m: f64,
    m_per_deg_lon: f64,
    m_per_deg_lat: f64,
}

impl Frame {
    fn new(centre: LonLat, side_m: f64) -> Self {
        let e2 = WGS84_F * (2.0 - WGS84_F);
        let (s, c) = centre.lat().to_radians().sin_cos();
        let w = 1.0 - e2 * s * s;
        let n = WGS84_A_M / w.sqrt(); // prime vertical radius
        let m = WGS84_A_M * (1.0 - e2) / (w * w.sqrt()); // meridional radius
        let per_rad = std::f64::consts::PI / 180.0;
        Self {
            centre,
            half_side_m: side_m / 2.0,
            m_per_deg_lon: (n * c * per_rad).max(1.0),
            m_per_deg_lat: m * per_rad,
        }
    }

    /// The rounded WGS84 position of local point `(x, y)`.
    #[inline]
    fn lonlat(&self, x: f64, y: f64) -> LonLat {
        LonLat::new(
            round7(self.centre.lon() + (x - self.half_side_m) / self.m_per_deg_lon),
            round7(self.centre.lat() + (y - self.half_side_m) / self.m_per_deg_lat),
        )
        .expect("a position inside the validated city")
    }

    /// The local point of a WGS84 position.
    #[inline]
    fn local(&self, p: LonLat) -> (f64, f64) {
        (
            (p.lon() - self.centre.lon()) * self.m_per_deg_lon + self.half_side_m,
            (p.lat() - self.centre.lat()) * self.m_per_deg_lat + self.half_side_m,
        )
    }

    fn coord(&self, (x, y): (f64, f64)) -> Coord<f64> {
        let p = self.lonlat(x, y);
        Coord {
            x: p.lon(),
            y: p.lat(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Communities.

/// A ring of local-frame points (metres), not closed.
type LocalRing = Vec<(f64, f64)>;

/// The community tessellation in the local frame.
///
/// Cells are arranged in rows; row `j` has `per_row[j]` cells of nominal width `side / per_row[j]`
/// and height `side / rows`. Corners are jittered; neighbouring cells share their border
/// polylines exactly. Borders move at most ~0.3 of a cell from their nominal place, so a point's
/// community is always among the 3 × 3 nominal cells around it.
struct Layout {
    side: f64,
    row_h: f64,
    per_row: Vec<usize>,
    row_start: Vec<usize>,
    /// Rings in the local frame: exterior, then an optional hole.
    rings: Vec<(LocalRing, Option<LocalRing>)>,
    /// Per community, a disc (centre x, centre y, radius) that contains its hole.
    hole_discs: Vec<Option<(f64, f64, f64)>>,
}

impl Layout {
    fn new(spec: &CitySpec, rng: &mut Rng) -> Self {
        let side = spec.side_m;
        let count = spec.communities.max(1);
        let rows = ((count as f64).sqrt().round() as usize).clamp(1, count);
        let per_row: Vec<usize> = (0..rows)
            .map(|j| count / rows + usize::from(j < count % rows))
            .collect();
        let mut row_start = vec![0; rows + 1];
        for j in 0..rows {
            row_start[j + 1] = row_start[j] + per_row[j];
        }
        let row_h = side / rows as f64;
        let width = |j: usize| side / per_row[j] as f64;

        // Corner abscissae: bottom (on line j) and top (on line j + 1) of each vertical border.
        let mut xb: Vec<Vec<f64>> = Vec::with_capacity(rows);
        let mut xt: Vec<Vec<f64>> = Vec::with_capacity(rows);
        for (j, &n) in per_row.iter().enumerate() {
            let w = width(j);
            let jitter = |k: usize, rng: &mut Rng| {
                let a = if k == 0 || k == n { 0.03 } else { 0.12 };
                k as f64 * w + unif(rng, -a, a) * w
            };
            let mut b: Vec<f64> = (0..=n).map(|k| jitter(k, rng)).collect();
            let t: Vec<f64> = (0..=n).map(|k| jitter(k, rng)).collect();
            // Snap a bottom corner onto a nearby top corner of the row below, so that anchors on
            // a shared line are either one vertex or well apart.
            if j > 0 {
                let snap = 0.1 * w.min(width(j - 1));
                let below = &xt[j - 1];
                for x in &mut b {
                    let i = below.partition_point(|v| *v < *x);
                    let near = [i.checked_sub(1), Some(i)]
                        .into_iter()
                        .flatten()
                        .filter_map(|i| below.get(i))
                        .min_by(|p, q| (*p - *x).abs().total_cmp(&(*q - *x).abs()));
                    if let Some(&v) = near {
                        if (v - *x).abs() < snap {
                            *x = v;
                        }
                    }
                }
            }
            xb.push(b);
            xt.push(t);
        }

        // Horizontal lines: x-monotone polylines through the corners on them.
        // idx_b[j][k] / idx_t[j][k]: index in lines[j] / lines[j + 1] of corner k of row j.
        let mut lines: Vec<Vec<(f64, f64)>> = Vec::with_capacity(rows + 1);
        let mut idx_b: Vec<Vec<usize>> = vec![Vec::new(); rows];
        let mut idx_t: Vec<Vec<usize>> = vec![Vec::new(); rows];
        for j in 0..=rows {
            let y0 = j as f64 * row_h;
            // (x, is_top_of_row_below, k)
            let mut anchors: Vec<(f64, bool, usize)> = Vec::new();
            if j > 0 {
                anchors.extend(xt[j - 1].iter().enumerate().map(|(k, &x)| (x, true, k)));
            }
            if j < rows {
                anchors.extend(xb[j].iter().enumerate().map(|(k, &x)| (x, false, k)));
            }
            anchors.sort_by(|a, b| a.0.total_cmp(&b.0));
            let w_min = match (j.checked_sub(1), j < rows) {
                (Some(a), true) => width(a).min(width(j)),
                (Some(a), false) => width(a),
                (None, _) => width(j),
            };
            let mut pts: Vec<(f64, f64)> = Vec::new();
            let (mut top_idx, mut bottom_idx) = (Vec::new(), Vec::new());
            if j > 0 {
                top_idx = vec![0; per_row[j - 1] + 1];
            }
            if j < rows {
                bottom_idx = vec![0; per_row[j] + 1];
            }
            for (x, is_top, k) in anchors {
                let same = pts.last().is_some_and(|p| p.0 == x);
                if !same {
                    if let Some(&(px, _)) = pts.last() {
                        let gap = x - px;
                        let m_max = ((gap / (0.3 * w_min)).floor() as usize).min(3);
                        let m = m_max.saturating_sub(usize::from(rng.random::<bool>()));
                        for i in 1..=m {
                            let t = (i as f64 + unif(rng, -0.3, 0.3)) / (m + 1) as f64;
                            pts.push((px + gap * t, y0 + unif(rng, -0.05, 0.05) * row_h));
                        }
                    }
                    pts.push((x, y0 + unif(rng, -0.05, 0.05) * row_h));
                }
                let at = pts.len() - 1;
                if is_top {
                    top_idx[k] = at;
                } else {
                    bottom_idx[k] = at;
                }
            }
            if j > 0 {
                idx_t[j - 1] = top_idx;
            }
            if j < rows {
                idx_b[j] = bottom_idx;
            }
            lines.push(pts);
        }

        // Vertical borders: y-monotone polylines (interior vertices only) from line j to j + 1.
        let mut verticals: Vec<Vec<Vec<(f64, f64)>>> = Vec::with_capacity(rows);
        for j in 0..rows {
            let w = width(j);
            let mut row = Vec::with_capacity(per_row[j] + 1);
            for k in 0..=per_row[j] {
                let (bx, by) = lines[j][idx_b[j][k]];
                let (tx, ty) = lines[j + 1][idx_t[j][k]];
                let m = rng.random_range(1..=3usize);
                let inner: Vec<(f64, f64)> = (1..=m)
                    .map(|i| {
                        let t = (i as f64 + unif(rng, -0.2, 0.2)) / (m + 1) as f64;
                        (
                            bx + (tx - bx) * t + unif(rng, -0.05, 0.05) * w,
                            by + (ty - by) * t,
                        )
                    })
                    .collect();
                row.push(inner);
            }
            verticals.push(row);
        }

        // Cells: bottom (west to east), east border (up), top (east to west), west border (down):
        // counter-clockwise.
        let mut rings = Vec::with_capacity(count);
        let mut hole_discs = Vec::with_capacity(count);
        for j in 0..rows {
            let w = width(j);
            for k in 0..per_row[j] {
                let mut ring: Vec<(f64, f64)> = Vec::with_capacity(24);
                ring.extend_from_slice(&lines[j][idx_b[j][k]..=idx_b[j][k + 1]]);
                ring.extend_from_slice(&verticals[j][k + 1]);
                ring.extend(lines[j + 1][idx_t[j][k]..=idx_t[j][k + 1]].iter().rev());
                ring.extend(verticals[j][k].iter().rev());
                let hole = if rng.random::<f64>() < HOLE_SHARE {
                    let (cx, cy) = ((k as f64 + 0.5) * w, (j as f64 + 0.5) * row_h);
                    let r = unif(rng, 0.08, 0.15) * w.min(row_h);
                    let n = rng.random_range(8..=12usize);
                    // Clockwise: decreasing angle.
                    let hole: Vec<(f64, f64)> = (0..n)
                        .map(|i| {
                            let a = -std::f64::consts::TAU * (i as f64 + unif(rng, -0.25, 0.25))
                                / n as f64;
                            let rr = r * unif(rng, 0.6, 1.0);
                            (cx + rr * a.cos(), cy + rr * a.sin())
                        })
                        .collect();
                    hole_discs.push(Some((cx, cy, r)));
                    Some(hole)
                } else {
                    hole_discs.push(None);
                    None
                };
                rings.push((ring, hole));
            }
        }
        Self {
            side,
            row_h,
            per_row,
            row_start,
            rings,
            hole_discs,
        }
    }

    /// Row and column of the nominal cell holding local point `(x, y)` (clamped to the grid).
    #[inline]
    fn nominal(&self, x: f64, y: f64) -> (usize, usize) {
        let rows = self.per_row.len();
        let j = ((y / self.row_h).floor().max(0.0) as usize).min(rows - 1);
        let k = self.column(j, x);
        (j, k)
    }

    #[inline]
    fn column(&self, j: usize, x: f64) -> usize {
        let n = self.per_row[j];
        ((x / (self.side / n as f64)).floor().max(0.0) as usize).min(n - 1)
    }

    /// Whether local point `(x, y)` is in (or within `margin_m` of) a community's hole.
    fn in_hole(&self, x: f64, y: f64, margin_m: f64) -> bool {
        let (j, k) = self.nominal(x, y);
        match self.hole_discs[self.row_start[j] + k] {
            Some((cx, cy, r)) => (x - cx).powi(2) + (y - cy).powi(2) < (r + margin_m).powi(2),
            None => false,
        }
    }

    /// Communities that may contain local point `(x, y)`: its nominal cell first, then the
    /// neighbouring cells.
    fn candidates(&self, x: f64, y: f64) -> impl Iterator<Item = usize> + '_ {
        let (j0, k0) = self.nominal(x, y);
        let rows = self.per_row.len();
        let first = self.row_start[j0] + k0;
        let rows_around = j0.saturating_sub(1)..=(j0 + 1).min(rows - 1);
        std::iter::once(first).chain(rows_around.flat_map(move |j| {
            let k = self.column(j, x);
            let ks = k.saturating_sub(1)..=(k + 1).min(self.per_row[j] - 1);
            ks.map(move |k| self.row_start[j] + k)
                .filter(move |&c| c != first)
        }))
    }

    /// The communities in WGS84, with the population of the residences inside each.
    fn communities(&self, frame: &Frame, residences: &[(LonLat, u32)]) -> Vec<Community> {
        let polygons: Vec<Polygon<f64>> = self
            .rings
            .iter()
            .map(|(ring, hole)| {
                let ext =
                    LineString::from(ring.iter().map(|&p| frame.coord(p)).collect::<Vec<_>>());
                let holes = hole
                    .iter()
                    .map(|h| {
                        LineString::from(h.iter().map(|&p| frame.coord(p)).collect::<Vec<_>>())
                    })
                    .collect();
                Polygon::new(ext, holes)
            })
            .collect();
        let rects: Vec<Option<Rect<f64>>> = polygons.iter().map(|p| p.bounding_rect()).collect();
        let owner: Vec<u32> = residences
            .par_iter()
            .map(|&(p, _)| {
                let (x, y) = frame.local(p);
                let pt = Point::new(p.lon(), p.lat());
                self.candidates(x, y)
                    .find(|&c| {
                        rects[c].is_some_and(|r| r.contains(&pt)) && polygons[c].contains(&pt)
                    })
                    .map_or(u32::MAX, |c| c as u32)
            })
            .collect();
        let mut population = vec![0u64; polygons.len()];
        for (&o, &(_, pop)) in owner.iter().zip(residences) {
            if let Some(sum) = population.get_mut(o as usize) {
                *sum += u64::from(pop);
            }
        }
        polygons
            .into_iter()
            .zip(population)
            .enumerate()
            .map(|(i, (polygon, population))| Community {
                id: format!("c{i}"),
                name: format!("Community {}", i + 1),
                polygon,
                population,
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Residences.

/// Residential buildings in compounds: 65 % of compound centres normally distributed around the
/// city centre (σ = side / 5), the rest uniform; all centres inside the square.
fn residences(
    spec: &CitySpec,
    frame: &Frame,
    layout: &Layout,
    rng: &mut Rng,
) -> Vec<(LonLat, u32)> {
    let side = spec.side_m;
    let mut out = Vec::with_capacity(spec.residences);
    while out.len() < spec.residences {
        let (cx, cy) = loop {
            let (x, y) = if rng.random::<f64>() < 0.65 {
                (
                    side / 2.0 + normal(rng) * side / 5.0,
                    side / 2.0 + normal(rng) * side / 5.0,
                )
            } else {
                (unif(rng, 0.0, side), unif(rng, 0.0, side))
            };
            if (0.0..side).contains(&x) && (0.0..side).contains(&y) {
                break (x, y);
            }
        };
        let radius = unif(rng, 100.0, 200.0);
        let buildings = rng
            .random_range(100..=500usize)
            .min(spec.residences - out.len());
        for _ in 0..buildings {
            let mut p = (cx, cy);
            for _ in 0..20 {
                let (dx, dy) = in_disc(rng, radius);
                p = (cx + dx, cy + dy);
                if !layout.in_hole(p.0, p.1, 10.0) {
                    break;
                }
            }
            let population = rng.random_range(20..=300u32);
            out.push((frame.lonlat(p.0, p.1), population));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Facilities.

/// `facilities_per_category` facilities per category, each within 400 m of a random residence
/// and outside the districts that lack the category.
fn facilities(
    spec: &CitySpec,
    frame: &Frame,
    residences: &[(LonLat, u32)],
) -> Vec<(LonLat, String)> {
    let side = spec.side_m;
    let d = ((side / DISTRICT_M).round() as usize).max(2);
    let district = |x: f64, y: f64| {
        let c = |v: f64| ((v / side * d as f64).floor().max(0.0) as usize).min(d - 1);
        c(y) * d + c(x)
    };
    let mut out = Vec::with_capacity(spec.categories.len() * spec.facilities_per_category);
    for (ci, category) in spec.categories.iter().enumerate() {
        let mut rng = stage_rng(spec.seed, 100 + ci as u64);
        let gap = if category == "childcare" {
            DISTRICT_GAP_SPARSE
        } else {
            DISTRICT_GAP
        };
        let mut blocked: Vec<bool> = (0..d * d).map(|_| rng.random::<f64>() < gap).collect();
        // At least one district without and one with the category.
        if !blocked.contains(&true) {
            let i = rng.random_range(0..d * d);
            blocked[i] = true;
        }
        if !blocked.contains(&false) {
            let i = rng.random_range(0..d * d);
            blocked[i] = false;
        }
        let open: Vec<usize> = (0..d * d).filter(|&i| !blocked[i]).collect();
        for _ in 0..spec.facilities_per_category {
            let mut placed = None;
            if !residences.is_empty() {
                for _ in 0..1000 {
                    let (p, _) = residences[rng.random_range(0..residences.len())];
                    let (x, y) = frame.local(p);
                    let (dx, dy) = in_disc(&mut rng, 400.0);
                    let (x, y) = ((x + dx).clamp(0.0, side), (y + dy).clamp(0.0, side));
                    if !blocked[district(x, y)] {
                        placed = Some((x, y));
                        break;
                    }
                }
            }
            let (x, y) = placed.unwrap_or_else(|| {
                let i = open[rng.random_range(0..open.len())];
                let cell = side / d as f64;
                (
                    ((i % d) as f64 + rng.random::<f64>()) * cell,
                    ((i / d) as f64 + rng.random::<f64>()) * cell,
                )
            });
            out.push((frame.lonlat(x, y), category.clone()));
        }
    }
    out
}

/// The range capacities of a category's facilities are drawn from: kindergarten places (3 to 12
/// classes of 30), care beds, seats, visits a day. Synthetic figures of plausible size, not a
/// standard.
pub fn capacity_range(category: &str) -> (u32, u32) {
    match category {
        "childcare" => (90, 360),
        "elderly_care" => (30, 200),
        "medical" => (50, 300),
        "meals" => (40, 150),
        "culture_sports" => (100, 500),
        "admin_services" => (200, 1000),
        _ => (50, 500),
    }
}

/// One capacity per facility, from its own stream so that the facilities do not change.
fn capacities(facilities: &[(LonLat, String)], rng: &mut Rng) -> Vec<u32> {
    facilities
        .iter()
        .map(|(_, category)| {
            let (lo, hi) = capacity_range(category);
            rng.random_range(lo..=hi)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Streets.

/// A jittered grid over the square, 10 % of links dropped, each link a 3-vertex piece.
fn streets(spec: &CitySpec, frame: &Frame, rng: &mut Rng) -> Vec<Vec<LonLat>> {
    let s = spec.street_spacing_m;
    let n = (spec.side_m / s).floor() as usize + 1;
    let offset = (spec.side_m - (n - 1) as f64 * s) / 2.0;
    let nodes: Vec<(f64, f64)> = (0..n * n)
        .map(|i| {
            (
                offset + (i % n) as f64 * s + unif(rng, -0.08, 0.08) * s,
                offset + (i / n) as f64 * s + unif(rng, -0.08, 0.08) * s,
            )
        })
        .collect();
    let mut out = Vec::with_capacity((2.0 * (n * n) as f64 * (1.0 - STREET_LINK_DROP)) as usize);
    let mut link = |a: (f64, f64), b: (f64, f64), rng: &mut Rng| {
        if rng.random::<f64>() < STREET_LINK_DROP {
            return;
        }
        // Midpoint, nudged sideways by up to 4 % of the spacing.
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = dx.hypot(dy).max(1e-9);
        let off = unif(rng, -0.04, 0.04) * s;
        let mid = (
            (a.0 + b.0) / 2.0 - dy / len * off,
            (a.1 + b.1) / 2.0 + dx / len * off,
        );
        out.push(vec![
            frame.lonlat(a.0, a.1),
            frame.lonlat(mid.0, mid.1),
            frame.lonlat(b.0, b.1),
        ]);
    };
    for r in 0..n {
        for c in 0..n {
            let here = nodes[r * n + c];
            if c + 1 < n {
                link(here, nodes[r * n + c + 1], rng);
            }
            if r + 1 < n {
                link(here, nodes[(r + 1) * n + c], rng);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// Write the city as GeoJSON FeatureCollections (RFC 7946, one feature per line, coordinates
/// with 7 decimals) into `dir`, creating it if needed:
///
/// - [`RESIDENCES_FILE`]: Points with properties `id` (`"r0"`, ...) and `population`;
/// - [`COMMUNITIES_FILE`]: Polygons with `id` (`"c0"`, ...), `name` and `population`;
/// - [`FACILITIES_FILE`]: Points with `id` (`"f0"`, ...), `name` and `category`;
/// - [`FACILITIES_CAPACITY_FILE`]: the same with `capacity`;
/// - [`STREETS_FILE`]: LineStrings with `id` (`"s0"`, ...), only when the city has streets.
///
/// Features are formatted in parallel and written in order; 10 million residences take a few
/// seconds.
///
/// # Errors
/// [`Error::Write`] naming the file or directory that could not be created or written.
pub fn write_geojson(city: &City, dir: &Path) -> Result<()> {
    let mut set = OutputSet::begin(dir)?;
    let dir = &mut set;
    let (residences, communities) = (&city.residences, &city.communities);
    write_collection(dir, RESIDENCES_FILE, residences.len(), |out, i| {
        let (at, population) = residences[i];
        push_feature(
            out,
            |p| {
                push_numbered_id(p.key("id"), b'r', i);
                push_u64(p.key("population"), u64::from(population));
            },
            |g| push_point(g, at, DEGREES),
        );
    })?;
    write_collection(dir, COMMUNITIES_FILE, communities.len(), |out, i| {
        let c = &communities[i];
        push_feature(
            out,
            |p| {
                push_str(p.key("id"), &c.id);
                push_str(p.key("name"), &c.name);
                push_u64(p.key("population"), c.population);
            },
            |g| push_polygon(g, &c.polygon, DEGREES),
        );
    })?;
    for (file, with_capacity) in [(FACILITIES_FILE, false), (FACILITIES_CAPACITY_FILE, true)] {
        write_collection(dir, file, city.facilities.len(), |out, i| {
            let (at, category) = &city.facilities[i];
            push_feature(
                out,
                |p| {
                    push_numbered_id(p.key("id"), b'f', i);
                    push_str(p.key("name"), &facility_name(category, i));
                    push_str(p.key("category"), category);
                    if let Some(&c) = city.capacities.get(i).filter(|_| with_capacity) {
                        push_u64(p.key("capacity"), u64::from(c));
                    }
                },
                |g| push_point(g, *at, DEGREES),
            );
        })?;
    }
    if !city.streets.is_empty() {
        write_collection(dir, STREETS_FILE, city.streets.len(), |out, i| {
            push_feature(
                out,
                |p| push_numbered_id(p.key("id"), b's', i),
                |g| push_line_string(g, city.streets[i].iter().copied(), DEGREES),
            );
        })?;
    }
    set.commit()?;
    Ok(())
}

/// Coordinates are written with exactly 7 decimals (trailing zeros kept).
const DEGREES: Decimals = Decimals::Exactly(COORD_DECIMALS);

/// Write `file` into the set: a FeatureCollection named after the file (`residences` for
/// `residences.geojson`) with the set's run id, `feature(out, i)` appending feature `i` of
/// `n`, formatted in parallel.
fn write_collection(
    set: &mut OutputSet,
    file: &str,
    n: usize,
    feature: impl Fn(&mut Vec<u8>, usize) + Sync,
) -> Result<()> {
    let name = file.trim_end_matches(".geojson");
    let run = set.run_id().to_string();
    set.write(file, |w| {
        let mut fc = FeatureCollection::begin(w, Some(name), Some(&run))?;
        fc.features_par(n, feature)?;
        fc.end()
    })?;
    Ok(())
}

/// Append the id string of element `i` of a kind: `"r12"`.
fn push_numbered_id(out: &mut Vec<u8>, kind: u8, i: usize) {
    out.extend_from_slice(&[b'"', kind]);
    push_u64(out, i as u64);
    out.push(b'"');
}

/// The display name of facility `i`: the category in words and the facility's number, e.g.
/// `Elderly care 3`.
fn facility_name(category: &str, i: usize) -> String {
    let words = category.replace('_', " ");
    let mut chars = words.chars();
    let label: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    format!("{label} {}", i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Validation, Winding};
    use lifecircle::io::{geojson::read_features, Source};
    use lifecircle::surface_distance_m;

    /// A small city: 20,000 residences over about 4.4 km × 4.4 km, 30 communities.
    fn small(seed: u64, streets: bool) -> (CitySpec, City) {
        let mut spec = CitySpec::for_residences(20_000);
        spec.seed = seed;
        spec.streets = streets;
        println!("seed {seed}");
        let city = generate(&spec).expect("valid spec");
        (spec, city)
    }

    #[test]
    fn same_seed_same_city_other_seed_differs() {
        let (_, a) = small(7, true);
        let (_, b) = small(7, true);
        assert_eq!(a, b);
        let (_, c) = small(8, true);
        assert_ne!(a.residences, c.residences);
        assert_ne!(a.communities, c.communities);
        assert_ne!(a.facilities, c.facilities);
        assert_ne!(a.streets, c.streets);
        // Each part has its own random stream: streets do not change the rest.
        let (_, d) = small(7, false);
        assert_eq!(a.residences, d.residences);
        assert_eq!(a.communities, d.communities);
        assert_eq!(a.facilities, d.facilities);
        assert!(d.streets.is_empty());
    }

    #[test]
    fn counts_as_asked() {
        let spec = CitySpec {
            seed: 3,
            residences: 12_345,
            communities: 37,
            facilities_per_category: 17,
            categories: vec!["a".into(), "childcare".into(), "b \"c\"".into()],
            centre: LonLat::new(-0.1, 51.5).expect("a position in range"),
            streets: false,
            side_m: 5_000.0,
            street_spacing_m: 120.0,
        };
        println!("seed {}", spec.seed);
        let city = generate(&spec).unwrap();
        assert_eq!(city.residences.len(), 12_345);
        assert_eq!(city.communities.len(), 37);
        assert_eq!(city.facilities.len(), 3 * 17);
        for cat in &spec.categories {
            assert_eq!(city.facilities.iter().filter(|f| &f.1 == cat).count(), 17);
        }
        assert!(city.streets.is_empty());
        assert!(city.residences.iter().all(|r| (20..=300).contains(&r.1)));
        let ids: std::collections::HashSet<&str> =
            city.communities.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), 37);
        // One community, no residences: still a valid city.
        let one = generate(&CitySpec {
            residences: 0,
            communities: 1,
            ..spec.clone()
        })
        .unwrap();
        assert_eq!((one.residences.len(), one.communities.len()), (0, 1));
        assert_eq!(one.facilities.len(), 3 * 17);
    }

    #[test]
    fn for_residences_scales_the_city() {
        let m = CitySpec::for_residences(1_000_000);
        assert_eq!(
            (m.side_m, m.communities, m.facilities_per_category),
            (31_000.0, 1_500, 1_000)
        );
        let ten = CitySpec::for_residences(10_000_000);
        // Ten times the residences on ten times the area.
        assert!((ten.side_m * ten.side_m / (m.side_m * m.side_m) - 10.0).abs() < 1e-9);
        assert_eq!(
            (ten.communities, ten.facilities_per_category),
            (15_000, 10_000)
        );
        assert_eq!(CitySpec::for_residences(10).side_m, MIN_SIDE_M);
        assert_eq!(m.categories, DEFAULT_CATEGORIES.map(String::from).to_vec());
    }

    #[test]
    fn invalid_specs_are_refused() {
        let ok = CitySpec::for_residences(1000);
        let cases = [
            CitySpec {
                communities: 0,
                ..ok.clone()
            },
            CitySpec {
                side_m: f64::NAN,
                ..ok.clone()
            },
            CitySpec {
                side_m: -5.0,
                ..ok.clone()
            },
            CitySpec {
                centre: LonLat::new(179.999, 0.0).expect("a position in range"),
                ..ok.clone()
            },
            CitySpec {
                centre: LonLat::new(0.0, 89.0).expect("a position in range"),
                ..ok.clone()
            },
            CitySpec {
                streets: true,
                street_spacing_m: 0.0,
                ..ok.clone()
            },
            CitySpec {
                streets: true,
                street_spacing_m: 0.01,
                side_m: 1e6,
                ..ok.clone()
            },
        ];
        for spec in cases {
            assert!(
                matches!(generate(&spec), Err(SynthError::Spec(_))),
                "accepted {spec:?}"
            );
        }
    }

    #[test]
    fn every_position_is_wgs84_rounded_and_in_the_city() {
        let (spec, city) = small(11, true);
        // Nothing farther from the centre than the square's corner plus a compound radius.
        let reach_m = spec.side_m / 2.0 * std::f64::consts::SQRT_2 + 300.0;
        let check = |p: LonLat| {
            LonLat::new(p.lon(), p.lat()).unwrap();
            for v in [p.lon(), p.lat()] {
                assert!(
                    ((v * 1e7).round() - v * 1e7).abs() < 1e-6,
                    "{v} not rounded"
                );
            }
            let d = surface_distance_m(spec.centre, p);
            assert!(d <= reach_m, "{p:?} is {d} m from the centre");
        };
        city.residences.iter().for_each(|r| check(r.0));
        city.facilities.iter().for_each(|f| check(f.0));
        city.streets.iter().flatten().for_each(|&p| check(p));
        for c in &city.communities {
            for ring in std::iter::once(c.polygon.exterior()).chain(c.polygon.interiors()) {
                ring.0
                    .iter()
                    .for_each(|c| check(LonLat::new(c.x, c.y).expect("a position in range")));
            }
        }
    }

    #[test]
    fn communities_tessellate_and_hold_most_residences() {
        let (_, city) = small(5, false);
        // Brute force: test every residence against every polygon.
        let mut population = vec![0u64; city.communities.len()];
        let mut outside = 0;
        for &(p, pop) in &city.residences {
            let pt = Point::new(p.lon(), p.lat());
            let inside: Vec<usize> = (0..city.communities.len())
                .filter(|&i| city.communities[i].polygon.contains(&pt))
                .collect();
            assert!(inside.len() <= 1, "{p:?} is in communities {inside:?}");
            match inside.first() {
                Some(&i) => population[i] += u64::from(pop),
                None => outside += 1,
            }
        }
        let n = city.residences.len();
        println!("{outside} of {n} residences outside every community");
        assert!(outside * 100 < n * 5, "{outside} of {n} outside");
        let got: Vec<u64> = city.communities.iter().map(|c| c.population).collect();
        assert_eq!(got, population);
    }

    #[test]
    fn community_polygons_are_valid_with_some_holes() {
        let mut spec = CitySpec::for_residences(2_000);
        spec.communities = 600;
        spec.seed = 9;
        println!("seed {}", spec.seed);
        let city = generate(&spec).unwrap();
        let mut holes = 0;
        let mut vertices = 0;
        for c in &city.communities {
            assert!(c.polygon.is_valid(), "{} invalid", c.id);
            assert!(
                c.polygon.exterior().is_ccw(),
                "{} exterior not counter-clockwise",
                c.id
            );
            for h in c.polygon.interiors() {
                assert!(h.is_cw(), "{} hole not clockwise", c.id);
                holes += 1;
            }
            let v = c.polygon.exterior().0.len() - 1;
            assert!((8..=24).contains(&v), "{} has {v} vertices", c.id);
            vertices += v;
        }
        let mean = vertices as f64 / city.communities.len() as f64;
        assert!((10.0..=20.0).contains(&mean), "mean {mean} vertices");
        // 5 % of 600: expect 30, standard deviation about 5.
        assert!((10..=50).contains(&holes), "{holes} holes");
        // Nobody lives in a hole.
        for &(p, _) in &city.residences {
            let pt = Point::new(p.lon(), p.lat());
            for c in &city.communities {
                for h in c.polygon.interiors() {
                    assert!(
                        !Polygon::new(h.clone(), vec![]).contains(&pt),
                        "{p:?} in a hole"
                    );
                }
            }
        }
    }

    #[test]
    fn one_million_residences_come_with_about_120000_street_pieces() {
        let mut spec = CitySpec::for_residences(1_000_000);
        spec.seed = 1;
        println!("seed {}", spec.seed);
        let frame = Frame::new(spec.centre, spec.side_m);
        let streets = streets(&spec, &frame, &mut stage_rng(spec.seed, 3));
        let n = (spec.side_m / spec.street_spacing_m).floor() as usize + 1;
        let links = 2 * n * (n - 1);
        let kept = streets.len() as f64 / links as f64;
        println!("{} of {links} links kept", streets.len());
        assert!(
            (115_000..=125_000).contains(&streets.len()),
            "{}",
            streets.len()
        );
        assert!((0.89..=0.91).contains(&kept), "{kept}");
        for s in &streets {
            assert_eq!(s.len(), 3);
            let len = surface_distance_m(s[0], s[2]);
            // 120 m, each end moved by at most 9.6 m per axis.
            assert!((120.0 - 2.0 * 9.6..=(120.0 + 2.0 * 9.6f64).hypot(2.0 * 9.6)).contains(&len));
            let mid = LonLat::new(
                (s[0].lon() + s[2].lon()) / 2.0,
                (s[0].lat() + s[2].lat()) / 2.0,
            )
            .unwrap();
            assert!(surface_distance_m(mid, s[1]) < 0.04 * 120.0 + 0.01);
        }
    }

    #[test]
    fn facilities_leave_some_residents_without_a_category_nearby() {
        let (_, city) = small(13, false);
        for cat in DEFAULT_CATEGORIES {
            let fac: Vec<_> = city
                .facilities
                .iter()
                .filter(|f| f.1 == cat)
                .map(|f| f.0.to_ecef())
                .collect();
            let far = city
                .residences
                .iter()
                .filter(|r| {
                    let e = r.0.to_ecef();
                    let chord2 = |f: &[f64; 3]| (0..3).map(|k| (e[k] - f[k]).powi(2)).sum::<f64>();
                    fac.iter().all(|f| chord2(f) > 1000.0 * 1000.0)
                })
                .count();
            println!(
                "{cat}: {far} of {} residences over 1 km from one",
                city.residences.len()
            );
            assert!(far > 0, "{cat} covers everyone");
            assert!(far < city.residences.len(), "{cat} covers no one");
        }
    }

    #[test]
    fn facility_names_say_category_and_number() {
        assert_eq!(facility_name("elderly_care", 2), "Elderly care 3");
    }

    #[test]
    fn written_files_read_back_exactly() {
        let (_, city) = small(21, true);
        let dir = tempfile::tempdir().unwrap();
        write_geojson(&city, dir.path()).unwrap();
        // Every file is a valid RFC 7946 FeatureCollection.
        for name in [
            RESIDENCES_FILE,
            COMMUNITIES_FILE,
            FACILITIES_FILE,
            FACILITIES_CAPACITY_FILE,
            STREETS_FILE,
        ] {
            let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
            let gj: geojson::GeoJson = text.parse().unwrap();
            assert!(
                matches!(gj, geojson::GeoJson::FeatureCollection(_)),
                "{name}"
            );
        }
        let read = |name: &str, wanted: &[&str]| {
            read_features(&Source::path(dir.path().join(name)), wanted, |f| {
                let props: Vec<String> = (0..wanted.len())
                    .map(|i| f.property(i).map_or(String::new(), |r| r.get().to_string()))
                    .collect();
                Ok((f.geometry()?, props))
            })
            .unwrap()
        };
        let res = read(RESIDENCES_FILE, &["id", "population"]);
        assert!(res.rejected.is_empty());
        assert_eq!(res.kept.len(), city.residences.len());
        for (i, ((g, props), &(p, pop))) in res.kept.iter().zip(&city.residences).enumerate() {
            assert_eq!(*g, geo::Geometry::Point(Point::new(p.lon(), p.lat())));
            assert_eq!(props, &[format!("\"r{i}\""), pop.to_string()]);
        }
        let com = read(COMMUNITIES_FILE, &["id", "name", "population"]);
        assert_eq!(com.kept.len(), city.communities.len());
        for ((g, props), c) in com.kept.iter().zip(&city.communities) {
            assert_eq!(*g, geo::Geometry::Polygon(c.polygon.clone()));
            let want = [
                format!("\"{}\"", c.id),
                format!("\"{}\"", c.name),
                c.population.to_string(),
            ];
            assert_eq!(props, &want);
        }
        let fac = read(FACILITIES_FILE, &["id", "category"]);
        assert_eq!(fac.kept.len(), city.facilities.len());
        for (i, ((g, props), (p, cat))) in fac.kept.iter().zip(&city.facilities).enumerate() {
            assert_eq!(*g, geo::Geometry::Point(Point::new(p.lon(), p.lat())));
            assert_eq!(props, &[format!("\"f{i}\""), format!("\"{cat}\"")]);
        }
        let fac = read(FACILITIES_CAPACITY_FILE, &["id", "category", "capacity"]);
        assert_eq!(fac.kept.len(), city.facilities.len());
        for (i, (g, props)) in fac.kept.iter().enumerate() {
            let ((p, cat), capacity) = (&city.facilities[i], city.capacities[i]);
            assert_eq!(*g, geo::Geometry::Point(Point::new(p.lon(), p.lat())));
            let want = [
                format!("\"f{i}\""),
                format!("\"{cat}\""),
                capacity.to_string(),
            ];
            assert_eq!(props, &want);
            let (lo, hi) = capacity_range(cat);
            assert!((lo..=hi).contains(&capacity), "{cat}: {capacity}");
        }
        let st = read(STREETS_FILE, &["id"]);
        assert_eq!(st.kept.len(), city.streets.len());
        for ((g, _), s) in st.kept.iter().zip(&city.streets) {
            let line: LineString<f64> = s.iter().map(|p| (p.lon(), p.lat())).collect();
            assert_eq!(*g, geo::Geometry::LineString(line));
        }
    }
}
