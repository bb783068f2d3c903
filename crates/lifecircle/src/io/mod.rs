//! Reading inputs and writing outputs.

pub mod geojson;
pub mod load;
pub mod output;
