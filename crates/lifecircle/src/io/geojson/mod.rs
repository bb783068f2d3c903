//! GeoJSON (RFC 7946): the streaming parallel reader, and the one writer ([`write`](mod@write)).

mod fast;
mod read;
pub mod write;

pub use read::*;
