//! The street network as a [`WalkingDistance`] model for the analysis.

use super::{Snap, StreetNetwork};
use crate::{
    geodesy::LonLat,
    walk::{PreparedDemand, Reach, WalkingDistance},
};

/// Walking along the streets: demand points and facilities farther than `max_snap_m` from
/// every street piece are off the network and never covered.
pub struct NetworkWalk {
    /// The walkable network.
    pub network: StreetNetwork,
    /// The longest straight walk from a point to the network, metres.
    pub max_snap_m: f64,
}

impl WalkingDistance for NetworkWalk {
    fn mode(&self) -> &'static str {
        "network"
    }

    fn prepare<'a>(&'a self, demand: &'a [LonLat]) -> Box<dyn PreparedDemand + 'a> {
        Box::new(SnappedDemand {
            walk: self,
            snaps: self.network.snap_all(demand, self.max_snap_m),
        })
    }
}

struct SnappedDemand<'a> {
    walk: &'a NetworkWalk,
    snaps: Vec<Option<Snap>>,
}

impl PreparedDemand for SnappedDemand<'_> {
    fn nearest(&self, facilities: &[LonLat], max_walk_m: f64) -> Vec<Reach> {
        let net = &self.walk.network;
        let facility_snaps = net.snap_all(facilities, self.walk.max_snap_m);
        net.nearest(&facility_snaps, &self.snaps, max_walk_m)
            .into_iter()
            .map(|r| match r {
                Some(r) => Reach {
                    distance_m: r.distance_m,
                    facility: r.facility,
                },
                None => Reach::NONE,
            })
            .collect()
    }

    fn unplaced(&self) -> Vec<bool> {
        self.snaps.iter().map(Option::is_none).collect()
    }
}
