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
//! # Units
//! Metres throughout.

use rayon::prelude::*;
use rstar::{primitives::GeomWithData, RTree};

use crate::{
    geodesy::{
        arc_from_short_chord_m, chord2_m2, surface_distance_from_chord_m, Ecef, LonLat,
        SHORT_CHORD_M,
    },
    reach::{PreparedDemand, Reach, WalkingDistance},
};

/// Edge of the cubes demand points are grouped in, metres.
pub const CELL_M: f64 = 400.0;

/// Straight-line walking: geodesic distance times `detour` (1.0 = as the crow flies; 1.2 to 1.4
/// approximates the circuity of a street grid).
#[derive(Debug, Clone, Copy)]
pub struct StraightLine {
    /// Multiplier applied to every geodesic distance (at least 1).
    pub detour: f64,
}

impl WalkingDistance for StraightLine {
    fn mode(&self) -> &'static str {
        "straight-line"
    }

    fn prepare<'a>(&'a self, demand: &[LonLat]) -> Box<dyn PreparedDemand + 'a> {
        Box::new(DemandCells::new(demand, self.detour))
    }
}

type Entry = GeomWithData<[f64; 3], u32>;

/// An R-tree of points in ECEF metres, answering exact geodesic nearest-point queries.
pub struct PointIndex {
    tree: RTree<Entry>,
    points: Vec<LonLat>,
}

impl PointIndex {
    /// Index `points`; query results refer to positions in this slice.
    pub fn new(points: &[LonLat]) -> Self {
        let entries = points
            .iter()
            .enumerate()
            .map(|(i, p)| Entry::new(p.to_ecef(), i as u32))
            .collect();
        Self {
            tree: RTree::bulk_load(entries),
            points: points.to_vec(),
        }
    }

    /// Number of indexed points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The indexed point nearest to `p` by geodesic distance, with that distance in metres.
    /// Ties go to the lower index.
    pub fn nearest(&self, p: LonLat) -> Option<(usize, f64)> {
        self.nearest_from(p, &p.to_ecef())
    }

    fn nearest_from(&self, p: LonLat, pe: &Ecef) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for (entry, d2) in self.tree.nearest_neighbor_iter_with_distance_2(*pe) {
            let chord_m = d2.sqrt();
            if let Some((_, g)) = best {
                // A chord is never longer than its geodesic: nothing farther can win.
                if chord_m > g {
                    break;
                }
            }
            let i = entry.data as usize;
            let g = surface_distance_from_chord_m(chord_m, p, self.points[i]);
            let better = match best {
                None => true,
                Some((bi, bg)) => g < bg || (g == bg && i < bi),
            };
            if better {
                best = Some((i, g));
            }
        }
        best
    }
}

/// Demand points grouped by ECEF cube, for fast repeated nearest-facility queries.
struct DemandCells {
    detour: f64,
    /// For each demand point (input order), its position in cube order.
    position: Vec<u32>,
    /// Positions in cube order.
    lonlat: Vec<LonLat>,
    ecef: Vec<Ecef>,
    /// Ranges of cube order sharing a cube, with the cube centre.
    cells: Vec<(usize, usize, Ecef)>,
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

impl DemandCells {
    fn new(demand: &[LonLat], detour: f64) -> Self {
        let ecef_in: Vec<Ecef> = demand.par_iter().map(|p| p.to_ecef()).collect();
        let mut keyed: Vec<(u64, u32)> = ecef_in
            .par_iter()
            .enumerate()
            .map(|(i, e)| (cube_key(e), i as u32))
            .collect();
        keyed.par_sort_unstable();
        let mut cells = Vec::new();
        let mut start = 0;
        for i in 1..=keyed.len() {
            if i == keyed.len() || keyed[i].0 != keyed[start].0 {
                cells.push((start, i, cube_centre(keyed[start].0)));
                start = i;
            }
        }
        let lonlat = keyed.par_iter().map(|&(_, i)| demand[i as usize]).collect();
        let ecef = keyed
            .par_iter()
            .map(|&(_, i)| ecef_in[i as usize])
            .collect();
        let mut position = vec![0u32; keyed.len()];
        for (k, &(_, i)) in keyed.iter().enumerate() {
            position[i as usize] = k as u32;
        }
        Self {
            detour,
            position,
            lonlat,
            ecef,
            cells,
        }
    }
}

impl PreparedDemand for DemandCells {
    fn nearest(&self, facilities: &[LonLat], _max_walk_m: f64) -> Vec<Reach> {
        let n = self.position.len();
        if facilities.is_empty() {
            return vec![Reach::NONE; n];
        }
        let index = PointIndex::new(facilities);
        let fac_ecef: Vec<Ecef> = facilities.iter().map(|p| p.to_ecef()).collect();
        let half_diagonal_m = CELL_M * 3f64.sqrt() / 2.0;
        let detour = self.detour;
        let sorted: Vec<Reach> = self
            .cells
            .par_iter()
            .flat_map_iter(|&(start, end, centre)| {
                let mut candidates: Vec<u32> = Vec::new();
                if let Some((_, d2)) = index
                    .tree
                    .nearest_neighbor_iter_with_distance_2(centre)
                    .next()
                {
                    let r = d2.sqrt() + 2.0 * half_diagonal_m;
                    candidates.extend(
                        index
                            .tree
                            .locate_within_distance(centre, r * r)
                            .map(|e| e.data),
                    );
                    candidates.sort_unstable();
                }
                let (index, fac_ecef, lonlat, ecef) = (&index, &fac_ecef, &self.lonlat, &self.ecef);
                (start..end).map(move |k| {
                    let pe = &ecef[k];
                    let mut best = (u32::MAX, f64::INFINITY);
                    for &c in &candidates {
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
                            .nearest_from(lonlat[k], pe)
                            .unwrap_or((u32::MAX as usize, f64::INFINITY))
                    };
                    Reach {
                        distance_m: (distance_m * detour) as f32,
                        facility: facility as u32,
                    }
                })
            })
            .collect();
        self.position
            .par_iter()
            .map(|&k| sorted[k as usize])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_on_the_equator() {
        // One degree of longitude on the equator is 111,319.49 m (2 pi a / 360); 0.001 degree
        // is 111.319 m.
        let facilities = [LonLat::new(0.0, 0.0), LonLat::new(0.01, 0.0)];
        let demand = [LonLat::new(0.001, 0.0), LonLat::new(0.008, 0.0)];
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
            .prepare(&[LonLat::new(1.0, 1.0)])
            .nearest(&[], 900.0);
        assert_eq!(r, vec![Reach::NONE]);
    }
}
