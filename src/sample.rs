//! The central Helsinki sample shipped in `data/` and compiled into the program, so that
//! `lifecircle` with no arguments analyses something real wherever it runs.
//!
//! © OpenStreetMap contributors (ODbL 1.0); population grid © HSY (CC BY 4.0).
//! See `data/README.md` for provenance.

use crate::input::Source;

/// 419 service points in six categories (no childcare: the extract has none).
pub const FACILITIES: Source = Source::Embedded {
    name: "data/facilities.geojson",
    bytes: include_bytes!("../data/facilities.geojson"),
};

/// 252 residential buildings with 7,801 residents.
pub const RESIDENCES: Source = Source::Embedded {
    name: "data/residences.geojson",
    bytes: include_bytes!("../data/residences.geojson"),
};

/// Six neighbourhood points (OSM `place=suburb/neighbourhood`).
pub const COMMUNITIES: Source = Source::Embedded {
    name: "data/communities.geojson",
    bytes: include_bytes!("../data/communities.geojson"),
};

/// 6,363 walkable OSM ways (footways, paths, streets) as LineStrings, for network walking.
pub const STREETS: Source = Source::Embedded {
    name: "data/streets.geojson",
    bytes: include_bytes!("../data/streets.geojson"),
};
