//! The spatial index of points: an R-tree over Earth-centred, Earth-fixed metres (see
//! [`geodesy`](crate::geodesy)), answering exact geodesic nearest-point queries. The
//! straight-line walking model and the assignment of residences to community points use it.

use rstar::{primitives::GeomWithData, RTree};

use crate::geodesy::{surface_distance_from_chord_m, Ecef, LonLat};

pub(crate) type Entry = GeomWithData<[f64; 3], u32>;

/// An R-tree of points in ECEF metres, answering exact geodesic nearest-point queries.
pub struct PointIndex {
    pub(crate) tree: RTree<Entry>,
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

    /// The indexed point nearest to `p` by geodesic distance, with that distance in metres.
    /// Ties go to the lower index.
    pub fn nearest(&self, p: LonLat) -> Option<(usize, f64)> {
        self.nearest_from(p, &p.to_ecef())
    }

    pub(crate) fn nearest_from(&self, p: LonLat, pe: &Ecef) -> Option<(usize, f64)> {
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
