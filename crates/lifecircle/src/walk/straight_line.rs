//! Straight-line walking distance: the geodesic distance on the WGS84 ellipsoid, times a detour
//! factor.
//!
//! # How the nearest facility is found
//! Facilities are indexed in an R-tree over ECEF coordinates ([`PointIndex`]). Demand points are
//! grouped into cubes of [`CELL_M`] metres of the same frame. For each cube, one R-tree query
//! finds the facility nearest its centre (at chord distance `d0`); no facility farther than
//! `d0 + 2h` from the centre (`h` the cube's half-diagonal) can be nearest to any point in the
//! cube, so the few facilities within that radius are the only candidates, and each demand
//! point picks the nearest candidate by exact chord length. Chord length orders points the same
//! way as geodesic distance at city scale; when the nearest chord is longer than
//! [`SHORT_CHORD_M`], the point is searched again exactly with Karney's geodesic.
//!
//! # Every facility within the walk
//! [`PreparedDemand::within`] keeps the demand points by cube and an R-tree of the cube
//! centres (built on first use). For each facility, the cubes whose centre lies within the
//! walk's chord plus the half-diagonal hold every point that can be in reach (a chord is never
//! longer than its geodesic); each of their points is measured exactly, as for the nearest.
//!
//! # Units
//! Metres throughout.

use std::{
    collections::{HashMap, HashSet},
    sync::OnceLock,
};

use rayon::prelude::*;
use rstar::RTree;

use crate::{
    error::{Setting, SettingsError},
    geodesy::{
        arc_from_short_chord_m, chord2_m2, surface_distance_from_chord_m, Ecef, LonLat,
        SHORT_CHORD_M,
    },
    index::{Entry, PointIndex},
    walk::{Pairs, PreparedDemand, Reach, WalkingDistance},
};

/// Edge of the cubes demand points are grouped in, metres.
pub(crate) const CELL_M: f64 = 400.0;

/// Straight-line walking: geodesic distance times a detour factor (1.0 = as the crow flies; 1.2
/// to 1.4 approximates the circuity of a street grid).
#[derive(Debug, Clone, Copy)]
pub struct StraightLine {
    detour: f64,
}

impl StraightLine {
    /// Straight lines multiplied by `detour`.
    ///
    /// # Errors
    /// A detour below 1 or not finite.
    pub fn new(detour: f64) -> Result<Self, SettingsError> {
        if !(detour.is_finite() && detour >= 1.0) {
            return Err(SettingsError::new(
                Setting::Detour,
                detour,
                "must be a number of at least 1.0 (1.2-1.4 approximates street circuity)",
            ));
        }
        Ok(Self { detour })
    }

    /// The multiplier applied to every geodesic distance (at least 1).
    pub fn detour(&self) -> f64 {
        self.detour
    }
}

impl Default for StraightLine {
    /// As the crow flies (detour 1.0).
    fn default() -> Self {
        Self { detour: 1.0 }
    }
}

impl WalkingDistance for StraightLine {
    fn mode(&self) -> &'static str {
        "straight-line"
    }

    fn prepare<'a>(&'a self, demand: &'a [LonLat]) -> Box<dyn PreparedDemand + 'a> {
        Box::new(DemandCells::new(demand, self.detour))
    }

    fn area_model(&self) -> Option<crate::service_area::AreaModel<'_>> {
        Some(crate::service_area::AreaModel::StraightLine {
            detour: self.detour,
        })
    }
}

/// Demand points with their ECEF cubes, for fast repeated nearest-facility queries.
struct DemandCells<'a> {
    detour: f64,
    /// The demand points, in input order.
    lonlat: &'a [LonLat],
    /// Their ECEF positions, in input order.
    ecef: Vec<Ecef>,
    /// For each demand point, the index of its cube in `centres`.
    cube: Vec<u32>,
    /// The centre of every cube holding a demand point, in cube-key order.
    centres: Vec<Ecef>,
    /// The demand points by cube, for [`PreparedDemand::within`]; built on first use.
    by_cube: OnceLock<CubeMembers>,
}

/// The demand points of every cube, and an R-tree of the cube centres.
struct CubeMembers {
    /// The points of cube `c` are `point[start[c]..start[c + 1]]`, in input order.
    start: Vec<u32>,
    point: Vec<u32>,
    centres: RTree<Entry>,
}

impl CubeMembers {
    fn new(cube: &[u32], centres: &[Ecef]) -> Self {
        let mut start = vec![0u32; centres.len() + 1];
        for &c in cube {
            start[c as usize + 1] += 1;
        }
        for c in 0..centres.len() {
            start[c + 1] += start[c];
        }
        let mut fill = start[..centres.len()].to_vec();
        let mut point = vec![0u32; cube.len()];
        for (i, &c) in cube.iter().enumerate() {
            let slot = &mut fill[c as usize];
            point[*slot as usize] = i as u32;
            *slot += 1;
        }
        let entries = centres
            .iter()
            .enumerate()
            .map(|(c, &e)| Entry::new(e, c as u32))
            .collect();
        Self {
            start,
            point,
            centres: RTree::bulk_load(entries),
        }
    }

    fn points(&self, cube: u32) -> &[u32] {
        let c = cube as usize;
        &self.point[self.start[c] as usize..self.start[c + 1] as usize]
    }
}

/// Cube coordinates are offset by this to pack them as unsigned 16-bit fields.
const CUBE_OFFSET: i64 = 1 << 15;
// The Earth's radius in cubes must fit the 16-bit fields.
const _: () = assert!(6_400_000.0 / CELL_M < 30_000.0);

/// The cube holding `e`, packed into one sortable integer.
fn cube_key(e: &Ecef) -> u64 {
    let field = |v: f64| ((v / CELL_M).floor() as i64 + CUBE_OFFSET) as u64 & 0xffff;
    (field(e[0]) << 32) | (field(e[1]) << 16) | field(e[2])
}

/// The centre of the cube `key`, in ECEF metres.
fn cube_centre(key: u64) -> Ecef {
    let field = |shift: u32| (((key >> shift) & 0xffff) as i64 - CUBE_OFFSET) as f64;
    [
        (field(32) + 0.5) * CELL_M,
        (field(16) + 0.5) * CELL_M,
        (field(0) + 0.5) * CELL_M,
    ]
}

/// Sets and maps of cube keys.
type CubeSet = HashSet<u64, foldhash::fast::FixedState>;
type CubeMap<V> = HashMap<u64, V, foldhash::fast::FixedState>;

/// Fewest demand points gathered into one set of distinct cubes.
const MIN_CUBE_SCAN: usize = 1 << 16;

impl<'a> DemandCells<'a> {
    fn new(demand: &'a [LonLat], detour: f64) -> Self {
        let ecef: Vec<Ecef> = demand.par_iter().map(|p| p.to_ecef()).collect();
        // The distinct cubes, numbered in key order. Neighbouring points often share a cube, so
        // each pass remembers the last cube it saw.
        let mut keys: Vec<u64> = ecef
            .par_iter()
            .with_min_len(MIN_CUBE_SCAN)
            .fold(
                || (CubeSet::default(), None),
                |(mut seen, last), e| {
                    let key = cube_key(e);
                    if last != Some(key) {
                        seen.insert(key);
                    }
                    (seen, Some(key))
                },
            )
            .map(|(seen, _)| seen)
            .reduce(CubeSet::default, |mut a, b| {
                a.extend(b);
                a
            })
            .into_iter()
            .collect();
        keys.sort_unstable();
        let number: CubeMap<u32> = keys
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, i as u32))
            .collect();
        let cube = ecef
            .par_iter()
            .map_init(
                || (u64::MAX, 0),
                |last, e| {
                    let key = cube_key(e);
                    if key != last.0 {
                        *last = (key, number[&key]);
                    }
                    last.1
                },
            )
            .collect();
        Self {
            detour,
            lonlat: demand,
            ecef,
            cube,
            centres: keys.into_iter().map(cube_centre).collect(),
            by_cube: OnceLock::new(),
        }
    }
}

impl PreparedDemand for DemandCells<'_> {
    fn nearest(&self, facilities: &[LonLat], _max_walk_m: f64) -> Vec<Reach> {
        let n = self.ecef.len();
        if facilities.is_empty() {
            return vec![Reach::NONE; n];
        }
        let index = PointIndex::new(facilities);
        let fac_ecef: Vec<Ecef> = facilities.iter().map(|p| p.to_ecef()).collect();
        let half_diagonal_m = CELL_M * 3f64.sqrt() / 2.0;
        // For each cube, the facilities that can be nearest to a point in it, by index.
        let candidates: Vec<Vec<u32>> = self
            .centres
            .par_iter()
            .map(|&centre| {
                let mut found: Vec<u32> = Vec::new();
                if let Some((_, d2)) = index
                    .tree
                    .nearest_neighbor_iter_with_distance_2(centre)
                    .next()
                {
                    let r = d2.sqrt() + 2.0 * half_diagonal_m;
                    found.extend(
                        index
                            .tree
                            .locate_within_distance(centre, r * r)
                            .map(|e| e.data),
                    );
                    found.sort_unstable();
                }
                found
            })
            .collect();
        let detour = self.detour;
        self.ecef
            .par_iter()
            .zip(&self.cube)
            .zip(self.lonlat)
            .map(|((pe, &cube), p)| {
                let mut best = (u32::MAX, f64::INFINITY);
                for &c in &candidates[cube as usize] {
                    let d2 = chord2_m2(pe, &fac_ecef[c as usize]);
                    if d2 < best.1 {
                        best = (c, d2);
                    }
                }
                let chord_m = best.1.sqrt();
                let (facility, distance_m) = if chord_m <= SHORT_CHORD_M {
                    (best.0 as usize, arc_from_short_chord_m(chord_m))
                } else {
                    index
                        .nearest_from(*p, pe)
                        .unwrap_or((u32::MAX as usize, f64::INFINITY))
                };
                Reach {
                    distance_m: (distance_m * detour) as f32,
                    facility: facility as u32,
                }
            })
            .collect()
    }

    fn within(&self, facilities: &[LonLat], max_walk_m: f64) -> Pairs {
        if max_walk_m.is_nan() || max_walk_m < 0.0 || self.ecef.is_empty() {
            return Pairs::none(facilities.len());
        }
        let members = self
            .by_cube
            .get_or_init(|| CubeMembers::new(&self.cube, &self.centres));
        // A geodesic of at most `reach_m` has a chord of at most `reach_m`.
        let reach_m = max_walk_m / self.detour;
        let half_diagonal_m = CELL_M * 3f64.sqrt() / 2.0;
        let cube_radius_m = reach_m + half_diagonal_m;
        let lists = facilities
            .par_iter()
            .map(|&f| {
                let fe = f.to_ecef();
                let mut found: Vec<(u32, f64)> = Vec::new();
                for cube in members
                    .centres
                    .locate_within_distance(fe, cube_radius_m * cube_radius_m)
                {
                    for &i in members.points(cube.data) {
                        let chord2 = chord2_m2(&self.ecef[i as usize], &fe);
                        if chord2 > reach_m * reach_m {
                            continue;
                        }
                        let arc_m = surface_distance_from_chord_m(
                            chord2.sqrt(),
                            self.lonlat[i as usize],
                            f,
                        );
                        let walk_m = arc_m * self.detour;
                        if walk_m <= max_walk_m {
                            found.push((i, walk_m));
                        }
                    }
                }
                found
            })
            .collect();
        Pairs::from_lists(lists)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_on_the_equator() {
        // One degree of longitude on the equator is 111,319.49 m (2 pi a / 360); 0.001 degree
        // is 111.319 m.
        let facilities = [LonLat::unchecked(0.0, 0.0), LonLat::unchecked(0.01, 0.0)];
        let demand = [LonLat::unchecked(0.001, 0.0), LonLat::unchecked(0.008, 0.0)];
        let sl = StraightLine { detour: 1.0 };
        let r = sl.prepare(&demand).nearest(&facilities, 1000.0);
        assert_eq!(r[0].facility, 0);
        assert!((f64::from(r[0].distance_m) - 111.319).abs() < 0.01, "{r:?}");
        assert_eq!(r[1].facility, 1);
        assert!((f64::from(r[1].distance_m) - 222.639).abs() < 0.01, "{r:?}");
        let detoured = StraightLine { detour: 1.3 }
            .prepare(&demand)
            .nearest(&facilities, 0.0);
        assert!((f64::from(detoured[0].distance_m) - 1.3 * 111.319).abs() < 0.02);
    }

    #[test]
    fn no_facilities_means_no_reach() {
        let r = StraightLine { detour: 1.0 }
            .prepare(&[LonLat::unchecked(1.0, 1.0)])
            .nearest(&[], 900.0);
        assert_eq!(r, vec![Reach::NONE]);
    }
}
