//! The pluggable walking-distance step: for every demand point, the nearest facility of a
//! category and how far it is to walk there.
//!
//! Two models implement it: [`straight_line::StraightLine`] (geodesic distance times a
//! detour factor) and the street network. The analysis asks a model to
//! [`prepare`](WalkingDistance::prepare) the demand points once (index them, snap them to the
//! streets), then asks the prepared demand for the nearest facility of each category in turn.

use crate::geodesy::LonLat;

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
}

/// Demand points ready for nearest-facility queries.
pub trait PreparedDemand: Sync {
    /// For every demand point (in the order given to `prepare`), the nearest of `facilities`.
    ///
    /// `max_walk_m` is the reach that matters: a model may stop searching beyond it and return
    /// [`Reach::NONE`] (the network model does); the straight-line model always returns the
    /// nearest facility when there is one.
    fn nearest(&self, facilities: &[LonLat], max_walk_m: f64) -> Vec<Reach>;

    /// Demand points that could not be placed on the model (off the street network); empty for
    /// models where every point is placed.
    fn unplaced(&self) -> Vec<bool> {
        Vec::new()
    }
}
