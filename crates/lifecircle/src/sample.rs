//! The central Helsinki sample shipped in `data/` and compiled into the program, so that
//! `lifecircle` with no arguments analyses something real wherever it runs.
//!
//! The four files are the output of `lifecircle extract` on `data/raw/` (the command is in
//! `data/README.md`, with the provenance).
//!
//! © OpenStreetMap contributors (ODbL 1.0); population grid © HSY (CC BY 4.0).

use crate::io::geojson::Source;

/// 428 service points: five of the six standard functions (no elderly care: the extract has
/// none) and schools.
pub const FACILITIES: Source = Source::from_static(
    "data/facilities.geojson",
    include_bytes!("../../../data/facilities.geojson"),
);

/// 161 residential buildings with 7,801 residents from the HSY population grid.
pub const RESIDENCES: Source = Source::from_static(
    "data/residences.geojson",
    include_bytes!("../../../data/residences.geojson"),
);

/// Six neighbourhood points (OSM `place=suburb/neighbourhood` nodes).
pub const COMMUNITIES: Source = Source::from_static(
    "data/communities.geojson",
    include_bytes!("../../../data/communities.geojson"),
);

/// 2,406 walkable OSM ways as LineStrings (rule: [`crate::osm::walkable`]), for network walking.
pub const STREETS: Source = Source::from_static(
    "data/streets.geojson",
    include_bytes!("../../../data/streets.geojson"),
);
