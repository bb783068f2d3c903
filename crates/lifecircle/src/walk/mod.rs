//! The pluggable walking-distance step: for every demand point, the nearest facility of a
//! category and how far it is to walk there.
//!
//! Two models implement it: [`straight_line::StraightLine`] (geodesic distance times a
//! detour factor) and the street network. The analysis asks a model to
//! [`prepare`](WalkingDistance::prepare) the demand points once (index them, snap them to the
//! streets), then asks the prepared demand for the nearest facility of each category in turn,
//! or for every facility within the walk ([`PreparedDemand::within`], the sparse table that
//! capacity-aware accessibility and siting are built on).

use crate::geodesy::LonLat;
use rayon::prelude::*;

pub(crate) mod network;
pub(crate) mod straight_line;

/// The nearest facility of one category for one demand point.
///
/// Stored compactly (8 bytes): a million residences times six categories is 48 MB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reach {
    /// Walking distance in metres; infinite when no facility can be reached.
    pub distance_m: f32,
    /// Index of the facility in the slice passed to [`PreparedDemand::nearest`];
    /// `u32::MAX` when none.
    pub facility: u32,
}

impl Reach {
    /// No facility reachable.
    pub const NONE: Reach = Reach {
        distance_m: f32::INFINITY,
        facility: u32::MAX,
    };

    /// The facility index, if any.
    pub fn facility(&self) -> Option<usize> {
        (self.facility != u32::MAX).then_some(self.facility as usize)
    }

    /// True when a facility was found within `max_walk_m` metres.
    pub fn within(&self, max_walk_m: f64) -> bool {
        self.facility != u32::MAX && f64::from(self.distance_m) <= max_walk_m
    }
}

/// A way of measuring walking distance.
pub trait WalkingDistance: Sync {
    /// `"straight-line"` or `"network"`, as written to the summary.
    fn mode(&self) -> &'static str;

    /// Prepare a set of demand points for repeated nearest-facility queries. The prepared
    /// demand may borrow the points.
    fn prepare<'a>(&'a self, demand: &'a [LonLat]) -> Box<dyn PreparedDemand + 'a>;

    /// The street junctions (nodes where other than two street pieces meet), for a model that
    /// walks along streets; `None` for one that does not. Candidate sites for siting.
    fn junctions(&self) -> Option<Vec<LonLat>> {
        None
    }

    /// The model as service areas follow it ([`crate::service_area`]); `None` for a model
    /// they cannot be drawn for.
    fn area_model(&self) -> Option<crate::service_area::AreaModel<'_>> {
        None
    }
}

/// Demand points ready for nearest-facility queries.
pub trait PreparedDemand: Sync {
    /// For every demand point (in the order given to `prepare`), the nearest of `facilities`.
    ///
    /// `max_walk_m` is the reach that matters: a model may stop searching beyond it and return
    /// [`Reach::NONE`] (the network model does); the straight-line model always returns the
    /// nearest facility when there is one.
    fn nearest(&self, facilities: &[LonLat], max_walk_m: f64) -> Vec<Reach>;

    /// Every (demand point, facility) pair with a walk of at most `max_walk_m` metres
    /// (inclusive), with that walk's length, measured exactly as [`nearest`](Self::nearest)
    /// measures it: the nearest facility of a demand point within the walk is the pair of
    /// least distance.
    fn within(&self, facilities: &[LonLat], max_walk_m: f64) -> Pairs;

    /// Demand points that could not be placed on the model (off the street network); empty for
    /// models where every point is placed.
    fn unplaced(&self) -> Vec<bool> {
        Vec::new()
    }
}

/// Every (demand point, facility) pair within a walk, with the walking distance: a sparse table
/// grouped by facility, each facility's demand points in increasing order.
///
/// Built by [`PreparedDemand::within`]; indices refer to the demand points given to
/// [`WalkingDistance::prepare`] and the facilities given to `within`.
///
/// # Examples
/// ```
/// use lifecircle::{LonLat, StraightLine, WalkingDistance};
///
/// let homes = [LonLat::new(24.940, 60.170)?, LonLat::new(24.950, 60.170)?];
/// let clinics = [LonLat::new(24.941, 60.170)?];
/// let pairs = StraightLine::default().prepare(&homes).within(&clinics, 300.0);
/// let (demand, distance_m) = pairs.of_facility(0);
/// assert_eq!(demand, [0]); // the second home is 500 m away
/// assert!((distance_m[0] - 55.6).abs() < 0.1);
/// # Ok::<(), lifecircle::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairs {
    /// The pairs of facility `j` are `start[j]..start[j + 1]`.
    start: Vec<usize>,
    demand: Vec<u32>,
    distance_m: Vec<f64>,
}

impl Pairs {
    /// The table from each facility's pairs (demand index, distance in metres), in facility
    /// order; each list is sorted here by demand index.
    pub(crate) fn from_lists(mut lists: Vec<Vec<(u32, f64)>>) -> Self {
        lists
            .par_iter_mut()
            .for_each(|list| list.sort_unstable_by_key(|&(i, _)| i));
        let total = lists.iter().map(Vec::len).sum();
        let mut start = Vec::with_capacity(lists.len() + 1);
        let mut demand = Vec::with_capacity(total);
        let mut distance_m = Vec::with_capacity(total);
        start.push(0);
        for list in lists {
            demand.extend(list.iter().map(|&(i, _)| i));
            distance_m.extend(list.iter().map(|&(_, d)| d));
            start.push(demand.len());
        }
        Self {
            start,
            demand,
            distance_m,
        }
    }

    /// No pairs for `facilities` facilities.
    pub(crate) fn none(facilities: usize) -> Self {
        Self {
            start: vec![0; facilities + 1],
            demand: Vec::new(),
            distance_m: Vec::new(),
        }
    }

    /// Number of facilities the table was built for.
    pub fn facilities(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.demand.len()
    }

    /// True when no demand point is within the walk of any facility.
    pub fn is_empty(&self) -> bool {
        self.demand.is_empty()
    }

    /// The demand points within the walk of facility `j`, in increasing order, and their
    /// walking distances in metres. Empty for an index out of range.
    pub fn of_facility(&self, j: usize) -> (&[u32], &[f64]) {
        match (self.start.get(j), self.start.get(j + 1)) {
            (Some(&a), Some(&b)) => (&self.demand[a..b], &self.distance_m[a..b]),
            _ => (&[], &[]),
        }
    }

    /// The pairs with a walk of at most `max_walk_m` metres (inclusive): what
    /// [`PreparedDemand::within`] gives for that shorter walk, since the walks it measures do
    /// not depend on how far it searches.
    pub fn no_longer_than(&self, max_walk_m: f64) -> Pairs {
        let mut start = Vec::with_capacity(self.start.len());
        let mut demand = Vec::new();
        let mut distance_m = Vec::new();
        start.push(0);
        for w in self.start.windows(2) {
            for k in w[0]..w[1] {
                if self.distance_m[k] <= max_walk_m {
                    demand.push(self.demand[k]);
                    distance_m.push(self.distance_m[k]);
                }
            }
            start.push(demand.len());
        }
        Pairs {
            start,
            demand,
            distance_m,
        }
    }

    /// Every pair as (facility, demand point, distance in metres), by facility, then demand.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.start.windows(2).enumerate().flat_map(move |(j, w)| {
            (w[0]..w[1]).map(move |k| (j, self.demand[k] as usize, self.distance_m[k]))
        })
    }
}
