//! lifecircle: which communities and residents lack a service within walking reach: the
//! 15-minute community life circle (15分钟社区生活圈).
//!
//! The library reads facilities, residences and communities from GeoJSON ([`load`]), measures
//! the walk from every residence to the nearest facility of each category ([`reach`], with the
//! [`straight_line`] model), aggregates coverage per community ([`analysis`]) and writes a gap map
//! and tables ([`output`]).
//!
//! # Example
//! ```
//! use lifecircle::{analysis, io::load, sample};
//!
//! let fields = load::Fields::default();
//! let inputs = analysis::Inputs {
//!     facilities: load::facilities(&sample::FACILITIES, &fields)?,
//!     residences: Some(load::residences(&sample::RESIDENCES, &fields)?),
//!     communities: Some(load::communities(&sample::COMMUNITIES, &fields)?),
//! };
//! let settings = analysis::Settings::new(900.0, 85.0, None, false)?;
//! let walking = analysis::straight_line(1.0)?;
//! let a = analysis::analyze(inputs, settings, &walking, &())?;
//! let elderly = a.categories.iter().find(|c| c.name == "elderly_care").unwrap();
//! assert_eq!(elderly.coverage, 0.0); // the Helsinki extract has no elderly-care facility
//! # Ok::<(), lifecircle::Error>(())
//! ```
#![warn(missing_docs)]

pub mod analysis;
pub mod coords;
pub mod error;
pub mod geodesy;
pub mod io;
pub mod model;
pub mod osm;
pub mod profile;
pub mod report;
pub mod sample;
pub mod walk;

pub use error::{Error, FeatureError, Result};
