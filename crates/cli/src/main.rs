//! The `lifecircle` command: parses arguments, calls the library, prints, maps errors to exit
//! codes.

use std::{
    io::{self, IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lifecircle::{
    analysis::{self, Analysis, Inputs, Progress, Settings},
    coords::{self, CoordSystems, Crs},
    geodesy::LonLat,
    io::{
        geojson::Source,
        load::{self, Fields},
        output,
    },
    osm, profile, report, sample,
    walk::{
        network::{self, NetworkWalk, StreetNetwork},
        WalkingDistance,
    },
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
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Measure walks from residences to facilities and write the gap map.
    Analyze(Box<AnalyzeArgs>),
    /// Turn an OpenStreetMap extract (and a population grid) into analysis inputs.
    Extract(ExtractArgs),
    /// List the built-in planning profiles, or print one as TOML (`profiles show NAME`).
    Profiles {
        #[command(subcommand)]
        action: Option<ProfilesAction>,
    },
}

#[derive(Subcommand)]
enum ProfilesAction {
    /// Print a built-in profile as TOML, to copy and edit.
    Show {
        /// The profile's name (see `lifecircle profiles`).
        name: String,
    },
}

#[derive(Args)]
struct ExtractArgs {
    /// The OpenStreetMap extract (.osm.pbf).
    pbf: PathBuf,
    /// Output directory for facilities, residences, streets and communities GeoJSON.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Population grid (GeoJSON polygons with a `population` property) to share among homes.
    #[arg(long, value_name = "GRID.geojson")]
    population: Option<PathBuf>,
    /// Facility mapping rules (TOML), added to the built-in ones.
    #[arg(long, value_name = "FILE.toml")]
    mapping: Option<PathBuf>,
    /// Print how long each stage took, and the peak memory so far, on stderr.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Args)]
struct AnalyzeArgs {
    /// Service points (GeoJSON; Point, or areas/lines by a point inside), with a `category`.
    #[arg(long, value_name = "FILE")]
    facilities: PathBuf,
    /// Demand points (GeoJSON) with `population` (1 when absent) and optional `community`.
    #[arg(long, value_name = "FILE")]
    residences: Option<PathBuf>,
    /// Communities (GeoJSON Polygon/MultiPolygon, or Point) with `id`, `name`, `population`.
    #[arg(long, value_name = "FILE")]
    communities: Option<PathBuf>,
    /// Planning profile: a built-in name (`six-functions`, `gb50180`; see `lifecircle
    /// profiles`) or a profile file (.toml). It sets the categories, the facility category
    /// values each accepts, each category's walk, speed, target and target group. The options
    /// --max-walk, --walk-speed, --target and --categories, when given, override it for every
    /// category.
    #[arg(long, default_value = profile::DEFAULT_PROFILE, value_name = "NAME|FILE.toml")]
    profile: String,
    /// Walking reach for every category, overriding the profile: minutes (`15min`,
    /// `12.5min`) or a distance (`1000m`, `1.2km`). Default: each category's own.
    #[arg(long, value_name = "WALK")]
    max_walk: Option<String>,
    /// Walking speed in m/s for every category, overriding the profile, to turn minutes into
    /// metres (1.0: 15 minutes = 900 m). Default: each category's own (the profile's).
    #[arg(long, value_name = "M_PER_S")]
    walk_speed: Option<f64>,
    /// Walk along this street network instead of straight lines: GeoJSON LineStrings, or an
    /// OpenStreetMap .osm.pbf (its walkable ways).
    #[arg(long, value_name = "FILE")]
    network: Option<PathBuf>,
    /// With --network: the longest straight walk from a point to the nearest street; points
    /// farther away are off the network and never covered.
    #[arg(long, default_value = "300m", value_name = "DIST")]
    snap: String,
    /// Multiplier on straight-line distance (1.2-1.4 approximates street circuity).
    #[arg(long, default_value_t = 1.0)]
    detour: f64,
    /// Only these categories (comma-separated), overriding the profile's list: a profile
    /// category's key or alias selects it; any other name is matched exactly against facility
    /// categories. Default: the profile's categories (for six-functions, plus every other
    /// category found).
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    categories: Option<Vec<String>>,
    /// A community lacks a category when less than this percentage of the people the category
    /// counts reaches one; overrides the profile's targets for every category (85 in the
    /// built-in profiles).
    #[arg(long, value_name = "PCT")]
    target: Option<f64>,
    /// Coordinate system of every input: wgs84, gcj02 (Amap/Gaode, Tencent) or bd09 (Baidu).
    /// Inputs are converted to WGS84 after loading; distances are always measured in WGS84.
    #[arg(long, default_value = "wgs84", value_name = "CRS")]
    coords: Crs,
    /// Coordinate system of --facilities (overrides --coords).
    #[arg(long, value_name = "CRS")]
    facilities_coords: Option<Crs>,
    /// Coordinate system of --residences (overrides --coords).
    #[arg(long, value_name = "CRS")]
    residences_coords: Option<Crs>,
    /// Coordinate system of --communities (overrides --coords).
    #[arg(long, value_name = "CRS")]
    communities_coords: Option<Crs>,
    /// Coordinate system of --network (overrides --coords).
    #[arg(long, value_name = "CRS")]
    network_coords: Option<Crs>,
    /// Coordinate system of every geometry written (gcj02 overlays an Amap base map).
    #[arg(long, default_value = "wgs84", value_name = "CRS")]
    output_coords: Crs,
    /// Output directory (created if missing).
    #[arg(long, default_value = "lifecircle-out", value_name = "DIR")]
    out: PathBuf,
    /// Property holding a facility's category.
    #[arg(long, default_value = "category", value_name = "NAME")]
    category_field: String,
    /// Property holding a residence's or community's population.
    #[arg(long, default_value = "population", value_name = "NAME")]
    population_field: String,
    /// Property holding a residence's community id.
    #[arg(long, default_value = "community", value_name = "NAME")]
    community_field: String,
    /// Property holding ids (the feature `id` is used when it is absent).
    #[arg(long, default_value = "id", value_name = "NAME")]
    id_field: String,
    /// Property holding names.
    #[arg(long, default_value = "name", value_name = "NAME")]
    name_field: String,
    /// Stop at the first bad feature instead of skipping it.
    #[arg(long)]
    strict: bool,
    /// No progress display and no summary table.
    #[arg(long, short)]
    quiet: bool,
    /// Print how long each stage took, and the peak memory so far, on stderr.
    #[arg(long, short)]
    verbose: bool,
}

/// Parse a walking reach (`15min`, `12.5min`, `1000m`, `1.2km`).
fn parse_max_walk(text: &str) -> anyhow::Result<profile::Walk> {
    profile::parse_walk(text).map_err(|e| anyhow::anyhow!("--max-walk: {e}"))
}

/// Progress on stderr, shown only for runs longer than about a second, on a terminal, and not
/// with `--quiet`.
struct Spinner {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
    /// With `--verbose`: the current stage and when it began.
    timings: Option<std::sync::Mutex<(String, Instant)>>,
}

impl Spinner {
    fn new(quiet: bool, verbose: bool) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            bar.set_style(style);
        }
        Self {
            bar,
            start: Instant::now(),
            enabled: !quiet && io::stderr().is_terminal(),
            timings: verbose.then(|| std::sync::Mutex::new((String::new(), Instant::now()))),
        }
    }

    fn finish(&self) {
        self.stage("");
        self.bar.finish_and_clear();
        if self.timings.is_some() {
            eprintln!("{:>8.3} s  total", self.start.elapsed().as_secs_f64());
        }
    }
}

impl Progress for Spinner {
    fn stage(&self, what: &str) {
        if self.enabled && self.bar.is_hidden() && self.start.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(120));
        }
        self.bar.set_message(what.to_string());
        if let Some(t) = &self.timings {
            if let Ok(mut t) = t.lock() {
                if !t.0.is_empty() {
                    self.bar.suspend(|| {
                        let secs = t.1.elapsed().as_secs_f64();
                        match peak_memory_mb() {
                            Some(mb) => eprintln!("{secs:>8.3} s  {:<40} peak {mb:>6} MB", t.0),
                            None => eprintln!("{secs:>8.3} s  {}", t.0),
                        }
                    });
                }
                *t = (what.to_string(), Instant::now());
            }
        }
    }
}

/// The process's peak resident memory so far in MB (`VmHWM`), where the system reports it.
fn peak_memory_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

struct Job {
    facilities: Source,
    network: Option<Source>,
    snap_m: f64,
    residences: Option<Source>,
    communities: Option<Source>,
    settings: Settings,
    detour: f64,
    fields: Fields,
    out: PathBuf,
    quiet: bool,
    verbose: bool,
}

fn job_from_args(a: AnalyzeArgs) -> anyhow::Result<Job> {
    let settings = Settings {
        max_walk: a.max_walk.as_deref().map(parse_max_walk).transpose()?,
        walk_speed_m_per_s: a.walk_speed,
        target_percent: a.target,
        categories: a.categories,
        strict: a.strict,
        coords: CoordSystems {
            facilities: a.facilities_coords.unwrap_or(a.coords),
            residences: a.residences_coords.unwrap_or(a.coords),
            communities: a.communities_coords.unwrap_or(a.coords),
            network: a.network_coords.unwrap_or(a.coords),
            output: a.output_coords,
        },
        ..Settings::for_profile(profile::Profile::load(&a.profile)?)
    };
    settings.check()?;
    let snap_m = match profile::parse_walk(&a.snap) {
        Ok(profile::Walk::Metres(m)) => m,
        Ok(_) => anyhow::bail!("--snap {:?}: give a distance such as 300m", a.snap),
        Err(e) => anyhow::bail!("--snap: {e}"),
    };
    Ok(Job {
        facilities: Source::Path(a.facilities),
        network: a.network.map(Source::Path),
        snap_m,
        residences: a.residences.map(Source::Path),
        communities: a.communities.map(Source::Path),
        settings,
        detour: a.detour,
        fields: Fields {
            id: a.id_field,
            category: a.category_field,
            population: a.population_field,
            community: a.community_field,
            name: a.name_field,
            capacity: "capacity".into(),
        },
        out: a.out,
        quiet: a.quiet,
        verbose: a.verbose,
    })
}

fn sample_job() -> anyhow::Result<Job> {
    Ok(Job {
        facilities: sample::FACILITIES,
        network: Some(sample::STREETS),
        snap_m: 300.0,
        residences: Some(sample::RESIDENCES),
        communities: Some(sample::COMMUNITIES),
        settings: Settings::for_profile(profile::Profile::builtin(profile::DEFAULT_PROFILE)?),
        detour: 1.0,
        fields: Fields::default(),
        out: PathBuf::from("lifecircle-out"),
        quiet: false,
        verbose: false,
    })
}

/// Street lines from GeoJSON, or the walkable ways of an OpenStreetMap .osm.pbf, converted
/// from `crs` to WGS84.
fn load_network(source: &Source, crs: Crs) -> anyhow::Result<StreetNetwork> {
    let mut lines: Vec<Vec<LonLat>> = match source {
        Source::Path(p) if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pbf")) => {
            osm::walkable_lines(p)?
                .into_iter()
                .map(|l| l.coords)
                .collect()
        }
        _ => {
            let (lines, rejected) = network::read_geojson_lines(source)?;
            if let Some(first) = rejected.first() {
                eprintln!(
                    "warning: skipped {} street features; the first: {first}",
                    rejected.len()
                );
            }
            lines
        }
    };
    if crs != Crs::Wgs84 {
        for p in lines.iter_mut().flatten() {
            *p = coords::convert(*p, crs, Crs::Wgs84);
        }
    }
    let net = StreetNetwork::from_lines(&lines);
    if net.pieces() == 0 {
        anyhow::bail!("{source}: no usable street line");
    }
    Ok(net)
}

fn warn_skipped(a: &Analysis) {
    const SHOWN: usize = 5;
    if !a.skipped.is_empty() {
        eprintln!(
            "warning: skipped {} unusable feature{} (use --strict to stop instead):",
            a.skipped.len(),
            if a.skipped.len() == 1 { "" } else { "s" }
        );
        for e in a.skipped.iter().take(SHOWN) {
            eprintln!("  {e}");
        }
        if a.skipped.len() > SHOWN {
            eprintln!("  ... and {} more", a.skipped.len() - SHOWN);
        }
    }
    if !a.unknown_community_refs.is_empty() {
        let (i, id) = &a.unknown_community_refs[0];
        eprintln!(
            "warning: {} residences name a community that is not among the communities \
             (first: residence {} names \"{id}\"); they are counted as unassigned",
            a.unknown_community_refs.len(),
            a.demand[*i].index
        );
    }
    if a.population_defaulted > 0 {
        eprintln!(
            "note: {} residences have no population property and count as 1 person each",
            a.population_defaulted
        );
    }
}

fn run_job(job: Job) -> anyhow::Result<()> {
    let spinner = Spinner::new(job.quiet, job.verbose);
    spinner.stage("reading facilities");
    let facilities = load::facilities(&job.facilities, &job.fields)?;
    if facilities.total == 0 {
        anyhow::bail!("{}: the FeatureCollection has no features", job.facilities);
    }
    spinner.stage("reading residences");
    let groups = job.settings.group_fields();
    let residences = job
        .residences
        .as_ref()
        .map(|s| load::residences_with_groups(s, &job.fields, &groups))
        .transpose()?;
    spinner.stage("reading communities");
    let communities = job
        .communities
        .as_ref()
        .map(|s| load::communities(s, &job.fields))
        .transpose()?;
    let walking: Box<dyn WalkingDistance> = match &job.network {
        None => Box::new(analysis::straight_line(job.detour)?),
        Some(source) => {
            spinner.stage("reading the street network");
            Box::new(NetworkWalk {
                network: load_network(source, job.settings.coords.network)?,
                max_snap_m: job.snap_m,
            })
        }
    };
    let inputs = Inputs {
        facilities,
        residences,
        communities,
    };
    let a = analysis::analyze(inputs, job.settings, walking.as_ref(), &spinner)?;
    spinner.stage("writing outputs");
    let written = output::write_all(&a, &job.out)?;
    spinner.finish();
    warn_skipped(&a);
    if !job.quiet {
        let mut text = report::text(&a);
        text.push_str(&format!(
            "Wrote {} (gap map), {} ({} points), {} (catchments), {} and {}.\n",
            written.communities.display(),
            written.residences.display(),
            a.demand.len(),
            written.facilities.display(),
            written.summary_json.display(),
            written.summary_csv.display()
        ));
        print_stdout(&text)?;
    }
    Ok(())
}

/// Print to stdout; a closed pipe (`lifecircle | head`) is not an error.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Analyze(args)) => run_job(job_from_args(*args)?),
        Some(Command::Extract(a)) => {
            let spinner = Spinner::new(false, a.verbose);
            let inventory = osm::run_extract(
                &a.pbf,
                &a.out,
                a.population.as_deref(),
                a.mapping.as_deref(),
                &spinner,
            )?;
            spinner.finish();
            print_stdout(&format!("{inventory}\nWrote {}\n", a.out.display()))
        }
        Some(Command::Profiles { action: None }) => {
            let mut text = String::from("Built-in profiles (lifecircle profiles show NAME):\n");
            for name in profile::builtin_names() {
                let p = profile::Profile::builtin(name)?;
                text.push_str(&format!("  {name:<14} {}\n", p.description));
            }
            print_stdout(&text)
        }
        Some(Command::Profiles {
            action: Some(ProfilesAction::Show { name }),
        }) => {
            let text = profile::builtin_text(&name).with_context(|| {
                format!(
                    "no built-in profile {name:?}; the built-in ones are: {}",
                    profile::builtin_names().join(", ")
                )
            })?;
            print_stdout(text)
        }
        None => {
            print_stdout(
                "No arguments: analysing the central Helsinki sample shipped in data/ \
                 (facilities, residences, communities; © OpenStreetMap contributors, HSY)\n\
                 with a 15-minute walk (900 m at 1.0 m/s) along its walkable OSM streets (data/streets.geojson). \
                 See `lifecircle --help` to analyse your own data.\n\n",
            )?;
            run_job(sample_job()?)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, joined by ": ", leaving out a cause whose text the message before
/// it already contains (our errors quote their operating-system reason).
fn error_chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_causes_are_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let e = anyhow::Error::new(lifecircle::Error::Read {
            file: "grid.geojson".into(),
            source: io,
        });
        assert_eq!(error_chain(&e), "cannot read grid.geojson: No such file");
        let e = e.context("extract");
        assert_eq!(
            error_chain(&e),
            "extract: cannot read grid.geojson: No such file"
        );
    }

    #[test]
    fn max_walk_forms() {
        let m = |text: &str, speed: f64| parse_max_walk(text).unwrap().to_metres(speed);
        assert_eq!(m("15min", 1.0), 900.0);
        assert_eq!(m("12.5min", 1.0), 750.0);
        assert_eq!(m("15 min", 0.8), 720.0);
        assert_eq!(m("1000m", 1.0), 1000.0);
        assert_eq!(m("1.2km", 1.0), 1200.0);
        for bad in ["fast", "-5min", "0m"] {
            let e = parse_max_walk(bad).unwrap_err().to_string();
            assert!(e.starts_with("--max-walk: "), "{e}");
        }
    }
}
