//! The integration tests, as one test binary (one link, one run): a module per subject, and
//! the helpers they share in `support`.

mod support;

mod capacity;
mod cli;
mod cli_profiles;
mod coords_reference;
mod flatgeobuf;
mod formats;
mod fuzz;
mod gdal;
mod hostile;
mod map_png;
mod network;
mod osm_extract;
mod planned;
mod profiles;
mod projection_reference;
mod raster;
mod reliability;
mod report;
mod residence_layers;
mod service_areas;
mod site;
mod straight_line_reference;
mod summary_reference;
mod xlsx;
