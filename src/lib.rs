//! lifecircle: which communities and residents lack a service within walking reach.
#![warn(missing_docs)]

pub mod error;
pub mod geodesy;
pub mod input;
pub mod osm;

pub use error::{Error, FeatureError, Result};
