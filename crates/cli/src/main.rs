//! The `lifecircle` command: parses the arguments ([`args`]), checks them into one job
//! ([`job`]), runs the library and prints, and maps errors to exit codes (1 for errors, 2 for
//! bad usage, from clap).

use std::{
    io::{self, Write},
    process::ExitCode,
};

use anyhow::Context;
use clap::Parser;
use lifecircle::{analyze, io as lio, osm, profile, report, Analysis, Inputs, Progress};

mod args;
mod job;
mod progress;

use crate::{
    args::{Cli, Command, ProfilesAction},
    job::{flagged, walking_model, AnalyzeJob},
    progress::Spinner,
};

fn run_analyze(job: AnalyzeJob) -> anyhow::Result<()> {
    // Nothing is read or written when an output would replace an input.
    let outputs = lio::Written::in_dir_as(&job.out, &job.formats);
    lio::refuse_inputs_as_outputs(&outputs.written_paths(), &job.input_paths())?;
    // Locked before anything is read: a second run into the directory stops at once.
    let set = lio::geojson::write::OutputSet::begin(&job.out)?;
    let spinner = Spinner::new(job.quiet, job.verbose);
    spinner.stage("reading facilities");
    let facilities = lio::read_facilities(&job.facilities, &job.fields)?;
    if facilities.total == 0 {
        anyhow::bail!("{}: the FeatureCollection has no features", job.facilities);
    }
    spinner.stage("reading residences");
    let groups = job.plan.group_fields();
    let residences = job
        .residences
        .as_ref()
        .map(|s| lio::read_residences_with_groups(s, &job.fields, &groups))
        .transpose()
        .map_err(flagged)?;
    spinner.stage("reading communities");
    let communities = job
        .communities
        .as_ref()
        .map(|s| lio::read_communities(s, &job.fields))
        .transpose()?;
    if matches!(job.walking, job::Walking::Network { .. }) {
        spinner.stage("reading the street network");
    }
    let walking = walking_model(&job.walking, &job.plan)?;
    let inputs = Inputs::from_loaded(&facilities, residences.as_ref(), communities.as_ref());
    let a = analyze(inputs, job.plan, walking.as_ref(), &spinner).map_err(flagged)?;
    spinner.stage("writing outputs");
    let written = lio::write_output_set_as(&a, set, &job.formats)?;
    spinner.finish();
    warn_skipped(&a);
    if written.removed_stale > 0 {
        eprintln!(
            "note: removed {} temporary file{} left in {} by an earlier run that was stopped",
            written.removed_stale,
            if written.removed_stale == 1 { "" } else { "s" },
            job.out.display()
        );
    }
    if !job.quiet {
        let mut text = report::text(&a);
        if written.geojson {
            text.push_str(&format!(
                "Wrote {} (gap map), {} ({} points), {} (catchments), {} and {}.\n",
                written.communities.display(),
                written.residences.display(),
                a.demand.len(),
                written.facilities.display(),
                written.summary_json.display(),
                written.summary_csv.display()
            ));
        }
        if let Some(gpkg) = &written.geopackage {
            text.push_str(&format!(
                "Wrote {} (layers communities, residences, facilities){}.\n",
                gpkg.display(),
                if written.geojson {
                    String::new()
                } else {
                    format!(
                        ", {} and {}",
                        written.summary_json.display(),
                        written.summary_csv.display()
                    )
                }
            ));
        }
        print_stdout(&text)?;
    }
    Ok(())
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
            a.demand[*i].feature_index().unwrap_or(*i)
        );
    }
    if a.population_defaulted > 0 {
        eprintln!(
            "note: {} residences have no population property and count as 1 person each",
            a.population_defaulted
        );
    }
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
        Some(Command::Analyze(args)) => run_analyze(AnalyzeJob::from_args(*args)?),
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
            run_analyze(AnalyzeJob::sample())
        }
    }
}

/// The OpenStreetMap decoder (`osmpbf`, through `protobuf`) panics on some corrupt blocks; the
/// library catches the panic and returns an error naming the file and block. Keep the panic's
/// own message off the terminal for those; every other panic is reported as usual.
fn quiet_decoder_panics() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let decoder = info.location().is_some_and(|l| {
            let file = l.file();
            file.contains("osmpbf") || file.contains("protobuf")
        });
        if !decoder {
            report(info);
        }
    }));
}

fn main() -> ExitCode {
    quiet_decoder_panics();
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
}
