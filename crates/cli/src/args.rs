//! The raw command line, as clap parses it: strings and numbers, not yet checked against each
//! other (that is [`crate::job`]'s work).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use lifecircle::{
    io::{Format, OutputFormat},
    profile,
    projection::CrsSpec,
};

/// Which communities and residents lack a service within walking reach: the 15-minute
/// community life circle (15分钟社区生活圈).
///
/// Run without arguments to analyse the central Helsinki sample shipped with the program.
#[derive(Parser)]
#[command(
    name = "lifecircle",
    version,
    about,
    long_about,
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Measure walks from residences to facilities and write the gap map.
    Analyze(Box<AnalyzeArgs>),
    /// Choose where to build new sites that close the gaps (the existing facilities stay).
    Site(Box<SiteArgs>),
    /// Turn an OpenStreetMap extract (and a population grid) into analysis inputs.
    Extract(ExtractArgs),
    /// List the built-in planning profiles, or print one as TOML (`profiles show NAME`).
    Profiles {
        #[command(subcommand)]
        action: Option<ProfilesAction>,
    },
}

/// Which service areas `--service-areas` writes.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServiceAreasArg {
    /// One (Multi)Polygon per category: where its walk reaches from any facility.
    Dissolved,
    /// One polygon per facility and category.
    PerFacility,
    /// No service areas.
    None,
}

/// Which PNG maps `--map-png` writes.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MapPngArg {
    /// map.png: the share of people lacking something.
    Gap,
    /// map.png and one `map-<category>.png` per category.
    All,
}

#[derive(Subcommand)]
pub enum ProfilesAction {
    /// Print a built-in profile as TOML, to copy and edit.
    Show {
        /// The profile's name (see `lifecircle profiles`).
        name: String,
    },
}

#[derive(Args)]
pub struct ExtractArgs {
    /// The OpenStreetMap extract (.osm.pbf).
    pub pbf: PathBuf,
    /// Output directory for facilities, residences, streets and communities GeoJSON.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Population grid to share among homes: GeoJSON polygons with a `population` property, or
    /// a population raster (GeoTIFF, e.g. WorldPop or GHS-POP), whose cells without a mapped
    /// home become residences themselves.
    #[arg(long, value_name = "GRID.geojson|POP.tif")]
    pub population: Option<PathBuf>,
    /// Facility mapping rules (TOML), added to the built-in ones.
    #[arg(long, value_name = "FILE.toml")]
    pub mapping: Option<PathBuf>,
    /// Print how long each stage took, and the peak memory so far, on stderr.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// Service points, with a `category` (GeoJSON, GeoPackage `FILE.gpkg[:LAYER]`, FlatGeobuf, or CSV;
    /// Point, or areas/lines by a point inside).
    #[arg(long, value_name = "FILE")]
    pub facilities: PathBuf,
    /// Demand points with `population` (1 when absent) and optional `community`; or a
    /// population raster (GeoTIFF, e.g. WorldPop or GHS-POP): one point per populated cell, at
    /// its centre, with id `r{row}c{col}`.
    #[arg(long, value_name = "FILE")]
    pub residences: Option<PathBuf>,
    /// Communities (GeoJSON Polygon/MultiPolygon, or Point) with `id`, `name`, `population`.
    #[arg(long, value_name = "FILE")]
    pub communities: Option<PathBuf>,
    /// Planned facilities (any format --facilities takes; a `sites.geojson` of `lifecircle
    /// site` is one), with an optional `status` and `year`: every output gains `_planned`
    /// figures, today's facilities and these together, beside today's.
    #[arg(long, value_name = "FILE")]
    pub planned: Option<PathBuf>,
    /// With --planned: only the planned facilities whose `year` is this year or earlier
    /// (those without a year are kept).
    #[arg(long, value_name = "YEAR", requires = "planned")]
    pub planned_until: Option<i32>,
    /// Planning profile: a built-in name (`six-functions`, `gb50180`; see `lifecircle
    /// profiles`) or a profile file (.toml). It sets the categories, the facility category
    /// values each accepts, each category's walk, speed, target and target group. The options
    /// --max-walk, --walk-speed, --target and --categories, when given, override it for every
    /// category.
    #[arg(long, default_value = profile::DEFAULT_PROFILE, value_name = "NAME|FILE.toml")]
    pub profile: String,
    /// Walking reach for every category, overriding the profile: minutes (`15min`,
    /// `12.5min`) or a distance (`1000m`, `1.2km`). Default: each category's own.
    #[arg(long, value_name = "WALK", allow_hyphen_values = true)]
    pub max_walk: Option<String>,
    /// Walking speed in m/s for every category, overriding the profile, to turn minutes into
    /// metres (1.0: 15 minutes = 900 m). Default: each category's own (the profile's).
    #[arg(long, value_name = "M_PER_S", allow_negative_numbers = true)]
    pub walk_speed: Option<f64>,
    /// Walk along this street network instead of straight lines: GeoJSON LineStrings, or an
    /// OpenStreetMap .osm.pbf (its walkable ways).
    #[arg(long, value_name = "FILE")]
    pub network: Option<PathBuf>,
    /// With --network: the longest straight walk from a point to the nearest street; points
    /// farther away are off the network and never covered (300m when not given).
    #[arg(long, value_name = "DIST", allow_hyphen_values = true)]
    pub snap: Option<String>,
    /// Multiplier on straight-line distance (1.2-1.4 approximates street circuity); 1.0 when
    /// not given. Straight-line walks only: with --network the streets give the detour.
    #[arg(long, allow_negative_numbers = true)]
    pub detour: Option<f64>,
    /// Only these categories (comma-separated), overriding the profile's list: a profile
    /// category's key or alias selects it; any other name is matched exactly against facility
    /// categories. Default: the profile's categories (for six-functions, plus every other
    /// category found).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub categories: Option<Vec<String>>,
    /// A community lacks a category when less than this percentage of the people the category
    /// counts reaches one; overrides the profile's targets for every category (85 in the
    /// built-in profiles).
    #[arg(long, value_name = "PCT", allow_negative_numbers = true)]
    pub target: Option<f64>,
    /// Coordinate system of every input: wgs84, gcj02 (Amap/Gaode, Tencent), bd09 (Baidu),
    /// cgcs2000, or an EPSG code (EPSG:4547, a CGCS2000 Gauss-Krüger zone; EPSG:32650, UTM).
    /// Inputs are converted to WGS84 after loading; distances are always measured in WGS84.
    /// Default: what the file declares (a GeoPackage's layer, a Shapefile's .prj), else wgs84.
    #[arg(long, value_name = "CRS")]
    pub coords: Option<CrsSpec>,
    /// Coordinate system of --facilities (overrides --coords).
    #[arg(long, value_name = "CRS")]
    pub facilities_coords: Option<CrsSpec>,
    /// Coordinate system of --residences (overrides --coords).
    #[arg(long, value_name = "CRS")]
    pub residences_coords: Option<CrsSpec>,
    /// Coordinate system of --communities (overrides --coords).
    #[arg(long, value_name = "CRS")]
    pub communities_coords: Option<CrsSpec>,
    /// Coordinate system of --network (overrides --coords).
    #[arg(long, value_name = "CRS")]
    pub network_coords: Option<CrsSpec>,
    /// Coordinate system of --planned (overrides --coords).
    #[arg(long, value_name = "CRS", requires = "planned")]
    pub planned_coords: Option<CrsSpec>,
    /// Format of --planned when its extension does not say it.
    #[arg(long, value_name = "FORMAT", requires = "planned")]
    pub planned_format: Option<Format>,
    /// Format of --facilities when its extension does not say it: geojson, gpkg, fgb, shp, csv, xlsx.
    #[arg(long, value_name = "FORMAT")]
    pub facilities_format: Option<Format>,
    /// Format of --residences when its extension does not say it.
    #[arg(long, value_name = "FORMAT")]
    pub residences_format: Option<Format>,
    /// Format of --communities when its extension does not say it.
    #[arg(long, value_name = "FORMAT")]
    pub communities_format: Option<Format>,
    /// Text encoding of CSV inputs (utf-8, gbk, gb18030, ...).
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<String>,
    /// Longitude (or easting) column of CSV inputs. Default: the first of lon, lng,
    /// longitude, x, 经度.
    #[arg(long, value_name = "NAME")]
    pub lon_field: Option<String>,
    /// Latitude (or northing) column of CSV inputs. Default: the first of lat, latitude, y,
    /// 纬度.
    #[arg(long, value_name = "NAME")]
    pub lat_field: Option<String>,
    /// Coordinate system of every geometry written: wgs84, gcj02 (overlays an Amap base map),
    /// bd09, or an EPSG code (EPSG:4547, a CGCS2000 Gauss-Krüger zone; EPSG:32650, UTM;
    /// EPSG:3857). In an EPSG system, GeoJSON outputs carry the legacy `crs` member GDAL
    /// writes (not RFC 7946), and table columns are named `x_epsg4547`, `y_epsg4547`.
    #[arg(long, default_value = "wgs84", value_name = "CRS")]
    pub output_coords: CrsSpec,
    /// Output formats, comma-separated: geojson (one file per output), gpkg (one
    /// lifecircle.gpkg with every output as a layer), fgb (one FlatGeobuf file per output),
    /// xlsx (one lifecircle.xlsx with the summary and the tables as sheets).
    /// The summaries are always written.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "geojson",
        value_name = "FORMATS"
    )]
    pub format: Vec<OutputFormat>,
    /// Output directory, created if missing (`lifecircle-out`; `lifecircle-site` for `site`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Property holding a facility's category.
    #[arg(long, default_value = "category", value_name = "NAME")]
    pub category_field: String,
    /// Property holding a facility's capacity (places, beds); a category whose facilities
    /// give one also gets capacity within reach (2SFCA). A profile category's own
    /// `capacity_field` takes precedence. Given explicitly, at least one facility must have
    /// it. [default: capacity]
    #[arg(long, value_name = "NAME")]
    pub capacity_field: Option<String>,
    /// Property holding a residence's or community's population.
    #[arg(long, default_value = "population", value_name = "NAME")]
    pub population_field: String,
    /// Property holding a residence's community id.
    #[arg(long, default_value = "community", value_name = "NAME")]
    pub community_field: String,
    /// Property holding ids (the feature `id` is used when it is absent).
    #[arg(long, default_value = "id", value_name = "NAME")]
    pub id_field: String,
    /// Property holding names.
    #[arg(long, default_value = "name", value_name = "NAME")]
    pub name_field: String,
    /// Stop at the first bad feature instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    /// Service areas, the polygons each category's walk reaches (service_areas.geojson, and
    /// a layer or file in the other formats): dissolved (one per category), per-facility,
    /// or none. Default: dissolved with --report, --map-png or --area-buffer (the pictures
    /// draw them), else none. `analyze` only.
    #[arg(long, value_enum, value_name = "KIND")]
    pub service_areas: Option<ServiceAreasArg>,
    /// With --network: draw the service areas as buffers of this width around the reached
    /// streets (e.g. 50m), a cleaner picture that no longer contains every covered residence.
    #[arg(long, value_name = "DIST", allow_hyphen_values = true)]
    pub area_buffer: Option<String>,
    /// Also write report.html: a self-contained map report (map, coverage table and chart,
    /// largest gaps, settings) that opens offline in any browser.
    #[arg(long)]
    pub report: bool,
    /// Also write map.png, the gap map as a picture for slides and documents (2000 x 1500
    /// pixels, 300 dpi); `--map-png all` adds one map per category's coverage
    /// (`map-<category>.png`). With --planned, the same maps after the planned facilities
    /// (`map-planned.png`, `map-planned-<category>.png`). `site` draws the gaps after the new
    /// sites.
    #[arg(
        long,
        value_enum,
        value_name = "all",
        num_args = 0..=1,
        default_missing_value = "gap",
        require_equals = false
    )]
    pub map_png: Option<MapPngArg>,
    /// No progress display and no summary table.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print how long each stage took, and the peak memory so far, on stderr.
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Args)]
pub struct SiteArgs {
    #[command(flatten)]
    pub common: AnalyzeArgs,
    /// Site facilities of these categories (comma-separated), each category on its own.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "NAME[,NAME..]",
        required_unless_present = "centre",
        conflicts_with = "centre"
    )]
    pub category: Option<Vec<String>>,
    /// Every new site is a neighbourhood centre hosting every category of the profile (or of
    /// --categories).
    #[arg(long)]
    pub centre: bool,
    /// Candidate sites: GeoJSON points or polygons, with optional `id`, `name` and `cost`.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "candidates_from",
        conflicts_with = "candidates_from"
    )]
    pub candidates: Option<PathBuf>,
    /// Generate candidate sites: `grid:250m` (a grid over the demand), `streets` (the street
    /// junctions; with --network) or `communities` (each community's point).
    #[arg(long, value_name = "grid:DIST|streets|communities")]
    pub candidates_from: Option<String>,
    /// What to reach with the fewest new sites: `full` (everyone some candidate reaches),
    /// a percentage of the people each category counts (`95`), or `communities` (no community
    /// lacks a sited category).
    #[arg(long, default_value = "full", value_name = "full|PCT|communities")]
    pub goal: String,
    /// Instead of a goal: exactly N new sites covering the most people.
    #[arg(long, value_name = "N", conflicts_with_all = ["goal", "budget"])]
    pub new: Option<usize>,
    /// Instead of a goal: new sites whose `cost` adds up to at most X, covering the most people.
    #[arg(
        long,
        value_name = "X",
        conflicts_with = "goal",
        allow_negative_numbers = true
    )]
    pub budget: Option<f64>,
    /// Property holding a candidate's cost.
    #[arg(long, default_value = "cost", value_name = "NAME")]
    pub cost_field: String,
    /// Solve exactly (integer program) within --time-limit; the default chooses.
    #[arg(long, conflicts_with = "fast")]
    pub exact: bool,
    /// Greedy with local search and a bound only; the default chooses.
    #[arg(long)]
    pub fast: bool,
    /// The longest the exact solver searches per sited problem: `60s`, `2min`, `90`.
    #[arg(long, default_value = "60s", value_name = "TIME")]
    pub time_limit: String,
}
