//! lifecircle: which communities and residents lack a service within walking reach.
#![warn(missing_docs)]

pub mod coords;
pub mod error;
pub mod geodesy;
pub mod input;
pub mod profile;

pub use error::{Error, FeatureError, Result};
