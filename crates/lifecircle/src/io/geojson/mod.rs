//! GeoJSON (RFC 7946): the streaming parallel reader.

mod fast;
mod read;

pub use read::*;
