//! The street network as a [`WalkingDistance`] model for the analysis.

use std::sync::OnceLock;

use super::{DemandByPiece, Snap, StreetNetwork};
use crate::{
    error::{Setting, SettingsError},
    geodesy::LonLat,
    walk::{Pairs, PreparedDemand, Reach, WalkingDistance},
};

/// Walking along the streets: demand points and facilities farther than `max_snap_m` from
/// every street piece are off the network and never covered.
pub struct NetworkWalk {
    network: StreetNetwork,
    max_snap_m: f64,
}

impl NetworkWalk {
    /// Walking along `network`, reaching it by a straight walk of at most `max_snap_m` metres.
    ///
    /// # Errors
    /// A network without pieces, or a snap distance that is negative or not finite.
    pub fn new(network: StreetNetwork, max_snap_m: f64) -> Result<Self, SettingsError> {
        if !(max_snap_m.is_finite() && max_snap_m >= 0.0) {
            return Err(SettingsError::new(
                Setting::MaxSnap,
                format!("{max_snap_m}m"),
                "must be a distance of 0 m or more",
            ));
        }
        if network.pieces() == 0 {
            return Err(SettingsError::without_value(
                Setting::StreetNetwork,
                "has no usable street piece",
            ));
        }
        Ok(Self {
            network,
            max_snap_m,
        })
    }

    /// The walkable network.
    pub fn network(&self) -> &StreetNetwork {
        &self.network
    }

    /// The longest straight walk from a point to the network, metres.
    pub fn max_snap_m(&self) -> f64 {
        self.max_snap_m
    }
}

impl WalkingDistance for NetworkWalk {
    fn mode(&self) -> &'static str {
        "network"
    }

    fn junctions(&self) -> Option<Vec<LonLat>> {
        Some(self.network.junctions())
    }

    fn area_model(&self) -> Option<crate::service_area::AreaModel<'_>> {
        Some(crate::service_area::AreaModel::Network {
            network: &self.network,
            max_snap_m: self.max_snap_m,
        })
    }

    fn prepare<'a>(&'a self, demand: &'a [LonLat]) -> Box<dyn PreparedDemand + 'a> {
        Box::new(SnappedDemand {
            walk: self,
            snaps: self.network.snap_all(demand, self.max_snap_m),
            by_piece: OnceLock::new(),
        })
    }
}

struct SnappedDemand<'a> {
    walk: &'a NetworkWalk,
    snaps: Vec<Option<Snap>>,
    /// The demand by piece, for [`PreparedDemand::within`]; built on first use.
    by_piece: OnceLock<DemandByPiece>,
}

impl PreparedDemand for SnappedDemand<'_> {
    fn nearest(&self, facilities: &[LonLat], max_walk_m: f64) -> Vec<Reach> {
        let net = &self.walk.network;
        let facility_snaps = net.snap_all(facilities, self.walk.max_snap_m);
        net.nearest(&facility_snaps, &self.snaps, max_walk_m)
            .into_iter()
            .map(|r| r.unwrap_or(Reach::NONE))
            .collect()
    }

    fn within(&self, facilities: &[LonLat], max_walk_m: f64) -> Pairs {
        let net = &self.walk.network;
        let facility_snaps = net.snap_all(facilities, self.walk.max_snap_m);
        let by_piece = self
            .by_piece
            .get_or_init(|| DemandByPiece::new(net, &self.snaps));
        net.within_on(&facility_snaps, by_piece, max_walk_m)
    }

    fn unplaced(&self) -> Vec<bool> {
        self.snaps.iter().map(Option::is_none).collect()
    }
}
