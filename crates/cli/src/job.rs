//! One validated job, built from the raw arguments: every value checked and every combination
//! resolved before any file is read. Library errors about settings are worded here in the
//! command line's terms (its flags).

use std::path::PathBuf;

use anyhow::Context;
use lifecircle::{
    io::{Fields, Format, InputFile, Loaded, OutputFormat, Source},
    profile::{self, Profile},
    projection::CrsSpec,
    sample,
    service_area::{AreaKind, AreaOptions},
    CoordSystems, Crs, Error, Facility, NetworkWalk, Plan, Setting, SettingsError, StraightLine,
    Walk,
};

use crate::args::AnalyzeArgs;

/// How the walks are measured.
pub enum Walking {
    /// In a straight line, times this detour.
    StraightLine(StraightLine),
    /// Along the street network in this file, reached by at most `max_snap_m` metres.
    Network { source: Source, max_snap_m: f64 },
}

/// The planned facilities of a job (`--planned`).
pub struct PlannedJob {
    pub source: Source,
    /// The longitude/latitude system the analysis converts them from.
    pub crs: Crs,
    /// `--planned-until`: leave out those planned for a later year.
    pub until: Option<i32>,
}

/// `lifecircle analyze` (or the sample run), checked.
pub struct AnalyzeJob {
    pub facilities: Source,
    pub residences: Option<Source>,
    pub communities: Option<Source>,
    /// Planned facilities, their map coordinate system, and the last year to keep.
    pub planned: Option<PlannedJob>,
    pub walking: Walking,
    pub plan: Plan,
    pub fields: Fields,
    /// True when `--capacity-field` was given: then some facility must have it.
    pub capacity_field_given: bool,
    pub out: PathBuf,
    /// Draw service areas, and how.
    pub service_areas: Option<AreaOptions>,
    /// Write the map report (report.html) too.
    pub report: bool,
    /// Write PNG maps too.
    pub maps: Option<lifecircle::html_report::MapPngs>,
    pub formats: Vec<OutputFormat>,
    pub quiet: bool,
    pub verbose: bool,
    /// Settings that were given but have no effect, to print before the run.
    pub warnings: Vec<String>,
}

impl AnalyzeJob {
    /// The job the arguments ask for.
    ///
    /// # Errors
    /// A value that is out of range or unreadable (a walk, a detour, a profile), named by its
    /// flag.
    pub fn from_args(a: AnalyzeArgs) -> anyhow::Result<Self> {
        let mut plan = Plan::builder(Profile::load(&a.profile).map_err(flagged)?)
            .strict(a.strict)
            .coords(CoordSystems {
                facilities: map_crs(&a.facilities_coords, &a.coords),
                residences: map_crs(&a.residences_coords, &a.coords),
                communities: map_crs(&a.communities_coords, &a.coords),
                network: map_crs(&a.network_coords, &a.coords),
                output: a.output_coords.map_crs(),
            })
            .output_crs(a.output_coords.clone());
        if let Some(walk) = &a.max_walk {
            plan = plan.max_walk(parse_max_walk(walk)?);
        }
        if let Some(speed) = a.walk_speed {
            plan = plan.walk_speed_m_per_s(speed);
        }
        if let Some(target) = a.target {
            plan = plan.target_percent(target);
        }
        if let Some(categories) = a.categories.clone() {
            plan = plan.categories(categories);
        }
        let plan = plan.build().map_err(|e| flagged(e.into()))?;
        let capacities = plan.capacity_fields();
        let mut warnings = Vec::new();
        let walking = match a.network.clone() {
            None => Walking::StraightLine(
                StraightLine::new(a.detour.unwrap_or(1.0)).map_err(|e| flagged(e.into()))?,
            ),
            Some(path) => Walking::Network {
                // An OpenStreetMap extract is read as one (`read_street_network`), by its path.
                source: if (a.network_coords.is_some() || a.coords.is_some())
                    && !path
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("pbf"))
                {
                    input(
                        path,
                        None,
                        a.network_coords.as_ref().or(a.coords.as_ref()),
                        &a,
                    )
                } else {
                    Source::Path(path)
                },
                max_snap_m: parse_snap(a.snap.as_deref().unwrap_or("300m"))?,
            },
        };
        if let (Some(snap), Walking::StraightLine(_)) = (&a.snap, &walking) {
            warnings.push(format!(
                "--snap {snap} is ignored without --network: straight-line walks start at the \
                 points themselves"
            ));
        }
        if let (Some(detour), Walking::Network { .. }) = (a.detour, &walking) {
            warnings.push(format!(
                "--detour {detour} is ignored with --network: walks follow the streets, which \
                 give their own detour"
            ));
        }
        let service_areas = service_area_options(&a, &walking)?;
        let facilities = input(
            a.facilities.clone(),
            a.facilities_format,
            a.facilities_coords.as_ref().or(a.coords.as_ref()),
            &a,
        );
        let residences = a.residences.clone().map(|p| {
            let crs = a.residences_coords.as_ref().or(a.coords.as_ref());
            input(p, a.residences_format, crs, &a)
        });
        let communities = a.communities.clone().map(|p| {
            let crs = a.communities_coords.as_ref().or(a.coords.as_ref());
            input(p, a.communities_format, crs, &a)
        });
        let planned = a.planned.clone().map(|p| {
            let crs = a.planned_coords.as_ref().or(a.coords.as_ref());
            PlannedJob {
                source: input(p, a.planned_format, crs, &a),
                crs: map_crs(&a.planned_coords, &a.coords),
                until: a.planned_until,
            }
        });
        Ok(Self {
            facilities,
            residences,
            communities,
            planned,
            walking,
            plan,
            fields: Fields {
                id: a.id_field,
                category: a.category_field,
                population: a.population_field,
                community: a.community_field,
                name: a.name_field,
                capacity: a
                    .capacity_field
                    .clone()
                    .unwrap_or_else(|| Fields::default().capacity),
                capacities,
            },
            capacity_field_given: a.capacity_field.is_some(),
            formats: a.format.clone(),
            out: a.out.unwrap_or_else(|| PathBuf::from("lifecircle-out")),
            service_areas,
            report: a.report,
            maps: a.map_png.map(|m| match m {
                crate::args::MapPngArg::Gap => lifecircle::html_report::MapPngs::Gap,
                crate::args::MapPngArg::All => lifecircle::html_report::MapPngs::All,
            }),
            quiet: a.quiet,
            verbose: a.verbose,
            warnings,
        })
    }

    /// The input files of the job (sources in memory have none).
    pub fn input_paths(&self) -> Vec<&std::path::Path> {
        let network = match &self.walking {
            Walking::Network { source, .. } => Some(source),
            Walking::StraightLine(_) => None,
        };
        [
            Some(&self.facilities),
            self.residences.as_ref(),
            self.communities.as_ref(),
            self.planned.as_ref().map(|p| &p.source),
            network,
        ]
        .into_iter()
        .flatten()
        .filter_map(|s| match s {
            Source::Path(p) => Some(p.as_path()),
            Source::File(f) => Some(f.path.as_path()),
            Source::Bytes { .. } => None,
        })
        .collect()
    }

    /// What to check when no facility is usable: the category property, when that is what
    /// every facility lacked.
    pub fn facilities_hint(&self, loaded: &Loaded<Facility>) -> Option<String> {
        let field = &self.fields.category;
        (!loaded.rejected.is_empty() && loaded.rejected.iter().all(|e| e.field == *field)).then(
            || {
                format!(
                    "Every facility lacks a usable `{field}` property: name the property that \
                     holds the category with --category-field."
                )
            },
        )
    }

    /// `lifecircle` without arguments: the embedded Helsinki sample, along its streets, under
    /// the default profile.
    pub fn sample() -> Self {
        Self {
            facilities: sample::FACILITIES,
            residences: Some(sample::RESIDENCES),
            communities: Some(sample::COMMUNITIES),
            planned: None,
            walking: Walking::Network {
                source: sample::STREETS,
                max_snap_m: 300.0,
            },
            plan: Plan::builder(Profile::default())
                .build()
                .expect("a plan without overrides is valid"),
            fields: Fields::default(),
            capacity_field_given: false,
            out: PathBuf::from("lifecircle-out"),
            service_areas: Some(AreaOptions::default()),
            report: true,
            maps: None,
            formats: vec![OutputFormat::GeoJson],
            quiet: false,
            verbose: false,
            warnings: Vec::new(),
        }
    }
}

/// What to do when a residences file has no feature: a file `extract` wrote is empty when the
/// OpenStreetMap extract maps no homes.
pub fn residences_hint(loaded: &Loaded<lifecircle::Residence>) -> Option<String> {
    (loaded.total == 0).then(|| {
        "A residences file written by `lifecircle extract` is empty when the extract maps \
         (almost) no buildings: give `extract` a population grid (--population GRID.geojson or a raster POP.tif), \
         or give residences of your own, or analyse the communities alone (leave out \
         --residences)."
            .to_string()
    })
}

/// What to do when a communities file has no feature (`extract` writes an empty one when the
/// extract has no boundaries or places).
pub fn communities_hint(loaded: &Loaded<lifecircle::Community>) -> Option<String> {
    (loaded.total == 0).then(|| {
        "Leave out --communities to analyse the city as a whole (or by the residences' \
         `community` property), or give community boundaries of your own."
            .to_string()
    })
}

/// The longitude/latitude system the analysis converts an input from: its own `--*-coords`,
/// else `--coords`, else WGS84 (a projected system is converted to WGS84 while reading).
fn map_crs(own: &Option<CrsSpec>, all: &Option<CrsSpec>) -> Crs {
    own.as_ref()
        .or(all.as_ref())
        .map_or(Crs::Wgs84, CrsSpec::map_crs)
}

/// An input file as the arguments describe it: `FILE[:LAYER]`, its format and coordinate
/// system when given, and the table options.
fn input(path: PathBuf, format: Option<Format>, crs: Option<&CrsSpec>, a: &AnalyzeArgs) -> Source {
    let mut file = InputFile::new(path);
    file.format = format;
    file.projection = crs.and_then(CrsSpec::projection).cloned();
    file.encoding = a.encoding.clone();
    file.lon_field = a.lon_field.clone();
    file.lat_field = a.lat_field.clone();
    Source::File(Box::new(file))
}

/// The walking model of a job, with the street network read when it walks along streets.
pub fn walking_model(
    walking: &Walking,
    plan: &Plan,
) -> anyhow::Result<Box<dyn lifecircle::WalkingDistance>> {
    Ok(match walking {
        Walking::StraightLine(model) => Box::new(*model),
        Walking::Network { source, max_snap_m } => {
            let (network, rejected) =
                lifecircle::io::read_street_network(source, plan.coords().network)
                    .map_err(flagged)?;
            if let Some(first) = rejected.first() {
                eprintln!(
                    "warning: skipped {} street features; the first: {first}",
                    rejected.len()
                );
            }
            Box::new(NetworkWalk::new(network, *max_snap_m).map_err(|e| flagged(e.into()))?)
        }
    })
}

/// Parse a walking reach (`15min`, `12.5min`, `1000m`, `1.2km`).
pub fn parse_max_walk(text: &str) -> anyhow::Result<Walk> {
    profile::parse_walk(text).with_context(|| "--max-walk".to_string())
}

/// Parse `--snap`: a distance, not a time.
/// The service areas `--service-areas` and `--area-buffer` ask for.
fn service_area_options(a: &AnalyzeArgs, walking: &Walking) -> anyhow::Result<Option<AreaOptions>> {
    use crate::args::ServiceAreasArg;
    // Drawn when asked, or when a picture shows them (the report, the PNG maps); not by
    // default otherwise, since along the streets of a large city they take longer than the
    // analysis itself (see the README).
    let pictured = a.report || a.map_png.is_some() || a.area_buffer.is_some();
    let default = if pictured {
        ServiceAreasArg::Dissolved
    } else {
        ServiceAreasArg::None
    };
    let kind = match a.service_areas.unwrap_or(default) {
        ServiceAreasArg::Dissolved => AreaKind::Dissolved,
        ServiceAreasArg::PerFacility => AreaKind::PerFacility,
        ServiceAreasArg::None => {
            if let Some(width) = &a.area_buffer {
                anyhow::bail!(
                    "--area-buffer {width} needs service areas, not --service-areas none"
                );
            }
            return Ok(None);
        }
    };
    let width_cap_m = match a.area_buffer.as_deref() {
        None => None,
        Some(text) => {
            if !matches!(walking, Walking::Network { .. }) {
                anyhow::bail!(
                    "--area-buffer {text} caps the width of street buffers: give --network too"
                );
            }
            let m = match profile::parse_walk(text).context("--area-buffer")? {
                Walk::Metres(m) => m,
                Walk::Minutes(_) => {
                    anyhow::bail!("--area-buffer {text:?}: give a distance such as 50m")
                }
            };
            if !(m.is_finite() && m > 0.0) {
                anyhow::bail!("--area-buffer {text:?}: give a distance above 0 m, such as 50m");
            }
            Some(m)
        }
    };
    Ok(Some(AreaOptions { kind, width_cap_m }))
}

fn parse_snap(text: &str) -> anyhow::Result<f64> {
    match profile::parse_walk(text).context("--snap")? {
        Walk::Metres(m) => Ok(m),
        Walk::Minutes(_) => anyhow::bail!("--snap {text:?}: give a distance such as 300m"),
    }
}

/// The flag that sets a setting, if one does.
fn flag(setting: Setting) -> Option<&'static str> {
    Some(match setting {
        Setting::Profile => "--profile",
        Setting::MaxWalk => "--max-walk",
        Setting::WalkSpeed => "--walk-speed",
        Setting::TargetPercent => "--target",
        Setting::Categories => "--categories",
        Setting::Detour => "--detour",
        Setting::MaxSnap => "--snap",
        Setting::StreetNetwork => "--network",
        Setting::AreaBuffer => "--area-buffer",
        _ => return None,
    })
}

/// A library error with its settings worded in flags.
pub fn flagged(e: Error) -> anyhow::Error {
    match e {
        Error::Settings(s) => anyhow::Error::msg(flag_message(&s)),
        other => other.into(),
    }
}

fn flag_message(e: &SettingsError) -> String {
    match (e.setting, flag(e.setting)) {
        (Setting::Profile | Setting::Demand | Setting::StreetNetwork, _) => e.reason.clone(),
        (Setting::CommunityRef, _) | (_, None) => e.to_string(),
        (_, Some(flag)) => e.message(flag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_walk_forms() {
        let m = |text: &str, speed: f64| parse_max_walk(text).unwrap().to_metres(speed);
        assert_eq!(m("15min", 1.0), 900.0);
        assert_eq!(m("12.5min", 1.0), 750.0);
        assert_eq!(m("15 min", 0.8), 720.0);
        assert_eq!(m("1000m", 1.0), 1000.0);
        assert_eq!(m("1.2km", 1.0), 1200.0);
        for bad in ["fast", "-5min", "0m"] {
            let e = format!("{:#}", parse_max_walk(bad).unwrap_err());
            assert!(e.starts_with("--max-walk: "), "{e}");
        }
    }

    #[test]
    fn settings_errors_name_their_flag() {
        let e = StraightLine::new(0.5).unwrap_err();
        assert_eq!(
            flag_message(&e),
            "--detour must be a number of at least 1.0 (1.2-1.4 approximates street circuity), \
             got 0.5"
        );
        let e = Plan::builder(Profile::default())
            .target_percent(120.0)
            .build()
            .unwrap_err();
        assert_eq!(
            flag_message(&e),
            "--target must be a percentage from 0 to 100, got 120"
        );
    }
}

/// Where `site` takes its candidates from.
pub enum Candidates {
    /// A file of candidate sites.
    File(Source),
    /// Generated.
    Generated(lifecircle::site::CandidateSource),
}

/// `lifecircle site`, checked: the analysis job it shares with `analyze`, and the siting.
pub struct SiteJob {
    pub analyze: AnalyzeJob,
    pub candidates: Candidates,
    pub cost_field: String,
    pub hosting: lifecircle::site::Hosting,
    pub goal: lifecircle::site::Goal,
    pub solver: lifecircle::site::Solver,
    pub time_limit: std::time::Duration,
}

impl SiteJob {
    /// The job the arguments ask for.
    ///
    /// # Errors
    /// As [`AnalyzeJob::from_args`]; a goal, candidate source, budget or time limit that cannot
    /// be read, named by its flag.
    pub fn from_args(a: crate::args::SiteArgs) -> anyhow::Result<Self> {
        use lifecircle::site::{CandidateSource, Goal, Hosting, Solver};
        let mut common = a.common;
        let out = common
            .out
            .take()
            .unwrap_or_else(|| PathBuf::from("lifecircle-site"));
        if common.planned.is_some() {
            anyhow::bail!(
                "--planned is an option of `analyze`: site new facilities first, then give \
                 sites.geojson to `analyze --planned` to compare"
            );
        }
        let areas_given = common.service_areas.is_some() || common.area_buffer.is_some();
        let mut analyze = AnalyzeJob::from_args(common)?;
        analyze.out = out;
        if areas_given {
            analyze.warnings.push(
                "--service-areas and --area-buffer are options of `analyze`; `site` draws no \
                 service areas"
                    .into(),
            );
        }
        analyze.service_areas = None;
        let candidates = match (a.candidates, a.candidates_from.as_deref()) {
            (Some(path), _) => Candidates::File(Source::Path(path)),
            (None, Some(text)) => Candidates::Generated(parse_candidates_from(text)?),
            (None, None) => anyhow::bail!(
                "give candidate sites: --candidates FILE or --candidates-from grid:250m|streets|communities"
            ),
        };
        if matches!(candidates, Candidates::Generated(CandidateSource::Streets))
            && !matches!(analyze.walking, Walking::Network { .. })
        {
            anyhow::bail!(
                "--candidates-from streets needs --network (the streets to put sites on)"
            );
        }
        let goal = match (a.new, a.budget) {
            (Some(n), _) => Goal::New(n),
            (None, Some(b)) => Goal::Budget(b),
            (None, None) => parse_goal(&a.goal)?,
        };
        let hosting = match a.category {
            Some(names) if !a.centre => Hosting::Categories(names),
            _ => Hosting::Centre,
        };
        let solver = match (a.exact, a.fast) {
            (true, _) => Solver::Exact,
            (_, true) => Solver::Fast,
            _ => Solver::Auto,
        };
        Ok(Self {
            analyze,
            candidates,
            cost_field: a.cost_field,
            hosting,
            goal,
            solver,
            time_limit: parse_time_limit(&a.time_limit)?,
        })
    }
}

/// Parse `--candidates-from`: `grid:250m`, `streets` or `communities`.
fn parse_candidates_from(text: &str) -> anyhow::Result<lifecircle::site::CandidateSource> {
    use lifecircle::site::CandidateSource;
    let t = text.trim();
    Ok(match t {
        "streets" => CandidateSource::Streets,
        "communities" => CandidateSource::Communities,
        _ => match t.strip_prefix("grid:") {
            Some(spacing) => match profile::parse_walk(spacing) {
                Ok(Walk::Metres(m)) => CandidateSource::Grid { spacing_m: m },
                _ => anyhow::bail!(
                    "--candidates-from {text:?}: give the grid spacing as a distance, such as grid:250m"
                ),
            },
            None => anyhow::bail!(
                "--candidates-from {text:?}: expected grid:DIST (such as grid:250m), streets or communities"
            ),
        },
    })
}

/// Parse `--goal`: `full`, `communities` or a percentage.
fn parse_goal(text: &str) -> anyhow::Result<lifecircle::site::Goal> {
    use lifecircle::site::Goal;
    let t = text.trim();
    Ok(match t {
        "full" => Goal::Full,
        "communities" => Goal::Communities,
        _ => match t.trim_end_matches('%').trim().parse::<f64>() {
            Ok(p) if p > 0.0 && p <= 100.0 => Goal::Percent(p),
            _ => anyhow::bail!(
                "--goal {text:?}: expected full, communities, or a percentage above 0 and at most 100 (such as 95)"
            ),
        },
    })
}

/// Parse `--time-limit`: seconds (`90`, `60s`) or minutes (`2min`).
fn parse_time_limit(text: &str) -> anyhow::Result<std::time::Duration> {
    let t = text.trim();
    let (number, scale) = if let Some(m) = t.strip_suffix("min") {
        (m, 60.0)
    } else if let Some(s) = t.strip_suffix('s') {
        (s, 1.0)
    } else {
        (t, 1.0)
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v * scale < 1e9 => {
            Ok(std::time::Duration::from_secs_f64(v * scale))
        }
        _ => anyhow::bail!("--time-limit {text:?}: expected a positive time such as 60s or 2min"),
    }
}

#[cfg(test)]
mod site_tests {
    use super::*;
    use lifecircle::site::{CandidateSource, Goal};

    #[test]
    fn site_values() {
        assert_eq!(parse_goal("full").unwrap(), Goal::Full);
        assert_eq!(parse_goal("95").unwrap(), Goal::Percent(95.0));
        assert_eq!(parse_goal("90%").unwrap(), Goal::Percent(90.0));
        assert!(parse_goal("0").is_err());
        assert!(parse_goal("most").is_err());
        assert_eq!(
            parse_candidates_from("grid:250m").unwrap(),
            CandidateSource::Grid { spacing_m: 250.0 }
        );
        assert!(parse_candidates_from("grid:5min").is_err());
        assert!(parse_candidates_from("hexagons").is_err());
        assert_eq!(parse_time_limit("60s").unwrap().as_secs(), 60);
        assert_eq!(parse_time_limit("2min").unwrap().as_secs(), 120);
        assert_eq!(parse_time_limit("90").unwrap().as_secs(), 90);
        assert!(parse_time_limit("-1s").is_err());
    }
}
