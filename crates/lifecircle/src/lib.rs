//! lifecircle: which communities and residents lack a service within walking reach: the
//! 15-minute community life circle (15分钟社区生活圈).
//!
//! Give it facilities (supply), residences (demand, with population) and communities (the
//! planning units), and a [`Plan`]: a planning profile (which categories, how far each may be
//! walked, the target share, whose coverage counts) with any overrides. [`analyze`] measures
//! every resident's walk to the nearest facility of each category, along the streets
//! ([`NetworkWalk`]) or in a straight line ([`StraightLine`]), and sums coverage per community,
//! per category and for the city ([`Analysis`]).
//!
//! # Example: points built in code
//! ```
//! use lifecircle::{analyze, Facility, Inputs, LonLat, Plan, Profile, Residence, StraightLine, Walk};
//!
//! let facilities = [
//!     Facility::new("canteen", LonLat::new(24.9410, 60.1710)?, ["meals"])?,
//!     Facility::new("clinic", LonLat::new(24.9600, 60.1800)?, ["medical"])?,
//! ];
//! let homes = [
//!     Residence::new("a", LonLat::new(24.9420, 60.1712)?, 120.0)?.with_community("north"),
//!     Residence::new("b", LonLat::new(24.9700, 60.1900)?, 80.0)?.with_community("north"),
//! ];
//! let plan = Plan::builder(Profile::builtin("six-functions")?)
//!     .max_walk(Walk::Metres(500.0))
//!     .categories(["meals", "medical"])
//!     .build()?;
//! let a = analyze(Inputs::new(&facilities).residences(&homes), plan, &StraightLine::default(), &())?;
//!
//! let meals = &a.categories[0];
//! assert_eq!(meals.covered_population, 120.0); // home a is 60 m from the canteen, b is 2 km off
//! assert_eq!(a.communities_lacking(), 1); // "north" reaches meals for 60 % of its people
//! # Ok::<(), lifecircle::Error>(())
//! ```
//!
//! # Reading and writing files
//! [`io`] reads GeoJSON inputs from a path or any reader ([`io::Source`]) into the model
//! values, with a per-feature error for each feature it skips, and writes the outputs (gap
//! map, residences, catchments, summary) to a directory, atomically. [`osm`] turns an
//! OpenStreetMap extract into the same model values. [`sample`] is the central Helsinki sample
//! compiled into the library.
//!
//! ```
//! use lifecircle::{analyze, io, sample, Inputs, Plan, Profile, StraightLine};
//!
//! let fields = io::Fields::default();
//! let facilities = io::read_facilities(&sample::FACILITIES, &fields)?;
//! let residences = io::read_residences(&sample::RESIDENCES, &fields)?;
//! let communities = io::read_communities(&sample::COMMUNITIES, &fields)?;
//! let inputs = Inputs::from_loaded(&facilities, Some(&residences), Some(&communities));
//! let plan = Plan::builder(Profile::default()).build()?;
//! let a = analyze(inputs, plan, &StraightLine::default(), &())?;
//! let elderly = a.categories.iter().find(|c| c.name == "elderly_care").unwrap();
//! assert_eq!(elderly.coverage, 0.0); // the Helsinki extract maps no elderly-care facility
//! # Ok::<(), lifecircle::Error>(())
//! ```
//!
//! # Coordinates and units
//! Every position is WGS84 longitude/latitude in degrees, longitude first (RFC 7946):
//! [`LonLat::new`] checks it. Inputs in GCJ-02 or BD-09 (Chinese web maps) are declared in
//! the plan's [`CoordSystems`] and converted on the way in. Distances are metres, in every
//! name that holds one (`max_walk_m`, `distance_m`).
#![warn(missing_docs, unreachable_pub)]

mod analysis;
pub mod capacity;
pub mod coords;
mod error;
pub mod geodesy;
pub mod html_report;
mod index;
pub mod io;
mod model;
pub mod osm;
mod par;
pub mod profile;
pub mod projection;
pub mod report;
pub mod sample;
pub mod service_area;
pub mod site;
mod walk;

pub use crate::{
    analysis::{
        analyze, Analysis, CapacityResult, CategoryChange, CategoryPlan, CategoryResult,
        CommunityResult, FarCause, Inputs, Plan, PlanBuilder, Planned, Progress, Scenario, Warning,
        FAR_M,
    },
    coords::{CoordSystems, Crs, InputSystems},
    error::{Error, FeatureError, InvalidValue, Result, Setting, SettingsError},
    geodesy::{surface_distance_m, LonLat},
    index::PointIndex,
    model::{Community, Facility, Id, PlannedFacility, Residence, MAX_COUNT, SIX_FUNCTIONS},
    profile::{ParseWalkError, Profile, Walk},
    walk::{
        network::{NetworkWalk, Snap, StreetNetwork},
        straight_line::StraightLine,
        Pairs, PreparedDemand, Reach, WalkingDistance,
    },
};
