//! One validated job, built from the raw arguments: every value checked and every combination
//! resolved before any file is read. Library errors about settings are worded here in the
//! command line's terms (its flags).

use std::path::PathBuf;

use anyhow::Context;
use lifecircle::{
    io::{Fields, Format, InputFile, OutputFormat, Source},
    profile::{self, Profile},
    projection::CrsSpec,
    sample, CoordSystems, Crs, Error, NetworkWalk, Plan, Setting, SettingsError, StraightLine,
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

/// `lifecircle analyze` (or the sample run), checked.
pub struct AnalyzeJob {
    pub facilities: Source,
    pub residences: Option<Source>,
    pub communities: Option<Source>,
    pub walking: Walking,
    pub plan: Plan,
    pub fields: Fields,
    pub out: PathBuf,
    pub formats: Vec<OutputFormat>,
    pub quiet: bool,
    pub verbose: bool,
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
                output: a.output_coords,
            });
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
        let walking = match a.network.clone() {
            None => {
                Walking::StraightLine(StraightLine::new(a.detour).map_err(|e| flagged(e.into()))?)
            }
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
                max_snap_m: parse_snap(&a.snap)?,
            },
        };
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
        Ok(Self {
            facilities,
            residences,
            communities,
            walking,
            plan,
            fields: Fields {
                id: a.id_field,
                category: a.category_field,
                population: a.population_field,
                community: a.community_field,
                name: a.name_field,
                capacity: a.capacity_field,
                capacities,
            },
            formats: a.format.clone(),
            out: a.out,
            quiet: a.quiet,
            verbose: a.verbose,
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

    /// `lifecircle` without arguments: the embedded Helsinki sample, along its streets, under
    /// the default profile.
    pub fn sample() -> Self {
        Self {
            facilities: sample::FACILITIES,
            residences: Some(sample::RESIDENCES),
            communities: Some(sample::COMMUNITIES),
            walking: Walking::Network {
                source: sample::STREETS,
                max_snap_m: 300.0,
            },
            plan: Plan::builder(Profile::default())
                .build()
                .expect("a plan without overrides is valid"),
            fields: Fields::default(),
            out: PathBuf::from("lifecircle-out"),
            formats: vec![OutputFormat::GeoJson],
            quiet: false,
            verbose: false,
        }
    }
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
