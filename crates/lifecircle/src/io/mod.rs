//! Reading inputs and writing outputs.
//!
//! Inputs are GeoJSON FeatureCollections (RFC 7946), from a file or from memory ([`Source`]).
//! Each reader returns the usable features as model values and a [`FeatureError`] for every
//! feature it skipped ([`Loaded`]); the analysis reports those. [`write_outputs`] writes a
//! finished analysis to a directory as one set of files: all or none of them replace the
//! previous set.
//!
//! [`FeatureError`]: crate::FeatureError

pub mod formats;
pub mod geojson;
mod load;
mod output;
mod output_crs;
mod paths;
mod site;
mod streets;

pub(crate) use self::load::{id_of, name_of};
pub(crate) use self::output::coords_summary;
pub use self::{
    formats::{declared_system, Format, InputFile, OutputFormat},
    geojson::Source,
    load::{
        read_communities, read_facilities, read_planned, read_residences,
        read_residences_with_groups, Fields, GroupCounts, Loaded, MAX_GROUPS, STATUS_FIELD,
        YEAR_FIELD,
    },
    output::{
        summary, write_communities, write_facilities, write_output_set, write_output_set_as,
        write_output_set_with, write_outputs, write_residences, write_service_areas,
        write_summary_csv, write_summary_csvt, write_summary_csvt_of, CategoryChangeSummary,
        CommunityChangeSummary, PlannedSummary, Summary, Written, GEOPACKAGE_FILE, PLANNED,
        REPORT_FILE, SERVICE_AREAS_FILE, SERVICE_AREAS_LAYER,
    },
    paths::refuse_inputs_as_outputs,
    site::{
        site_summary, write_communities_change, write_curve, write_site_outputs,
        write_site_outputs_as, write_sites, SiteFields, SiteWritten,
    },
    streets::{read_street_lines, read_street_network},
};
