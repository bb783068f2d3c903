//! The `lifecircle` command: parses the arguments ([`args`]), checks them into one job
//! ([`job`]), runs the library and prints, and maps errors to exit codes (1 for errors, 2 for
//! bad usage, from clap).

use std::{
    borrow::Cow,
    io::{self, Write},
    path::PathBuf,
    process::ExitCode,
};

use anyhow::Context;
use clap::Parser;
use lifecircle::{analyze, io as lio, osm, profile, report, Analysis, Inputs, Progress};

mod args;
mod job;
mod progress;
mod site;

use crate::{
    args::{Cli, Command, ProfilesAction},
    job::{flagged, walking_model, AnalyzeJob},
    progress::Spinner,
};

/// The inputs of an analysis job, as read, and its walking model.
struct Read {
    facilities: lio::Loaded<lifecircle::Facility>,
    residences: Option<lio::Loaded<lifecircle::Residence>>,
    communities: Option<lio::Loaded<lifecircle::Community>>,
    planned: Option<(lio::Loaded<lifecircle::PlannedFacility>, lifecircle::Crs)>,
    category_field: String,
    walking: Box<dyn lifecircle::WalkingDistance>,
}

impl Read {
    fn inputs(&self) -> Inputs<'_> {
        let inputs = Inputs::from_loaded(
            &self.facilities,
            self.residences.as_ref(),
            self.communities.as_ref(),
        );
        match &self.planned {
            Some((p, crs)) => inputs.planned_loaded(p, &self.category_field, *crs),
            None => inputs,
        }
    }
}

/// Read the facilities, residences, communities and street network of a job.
fn read_inputs(job: &AnalyzeJob, spinner: &Spinner) -> anyhow::Result<Read> {
    spinner.stage("reading facilities");
    let facilities = lio::read_facilities(&job.facilities, &job.fields)?;
    facilities.require_usable("facility", job.facilities_hint(&facilities))?;
    spinner.stage("reading residences");
    let groups = job.plan.group_fields();
    let residences = job
        .residences
        .as_ref()
        .map(|s| lio::read_residences_with_groups(s, &job.fields, &groups))
        .transpose()
        .map_err(flagged)?;
    if let Some(r) = &residences {
        r.require_usable("residence", job::residences_hint(r))?;
    }
    spinner.stage("reading communities");
    let communities = job
        .communities
        .as_ref()
        .map(|s| lio::read_communities(s, &job.fields))
        .transpose()?;
    if let Some(c) = &communities {
        c.require_usable("community", job::communities_hint(c))?;
    }
    let planned = job
        .planned
        .as_ref()
        .map(|p| read_planned(p, &job.fields, spinner))
        .transpose()?;
    if matches!(job.walking, job::Walking::Network { .. }) {
        spinner.stage("reading the street network");
    }
    let walking = walking_model(&job.walking, &job.plan)?;
    Ok(Read {
        facilities,
        residences,
        communities,
        planned,
        category_field: job.fields.category.clone(),
        walking,
    })
}

/// Read the planned facilities, leaving out those planned after `--planned-until`.
fn read_planned(
    p: &job::PlannedJob,
    fields: &lio::Fields,
    spinner: &Spinner,
) -> anyhow::Result<(lio::Loaded<lifecircle::PlannedFacility>, lifecircle::Crs)> {
    spinner.stage("reading planned facilities");
    let mut planned = lio::read_planned(&p.source, fields)?;
    planned.require_usable("planned facility", None)?;
    if let Some(until) = p.until {
        let before = planned.items.len();
        planned
            .items
            .retain(|x| x.year().is_none_or(|y| y <= until));
        let left_out = before - planned.items.len();
        if left_out > 0 {
            eprintln!(
                "note: {left_out} planned facilit{} planned after {until} left out (--planned-until)",
                if left_out == 1 { "y" } else { "ies" }
            );
        }
        if planned.items.is_empty() {
            anyhow::bail!(
                "{}: every planned facility is planned after {until} (--planned-until)",
                planned.file
            );
        }
    }
    Ok((planned, p.crs))
}

/// Each input's coordinate system as given or declared by the file, for the summaries.
pub(crate) fn input_systems(job: &AnalyzeJob) -> lifecircle::InputSystems {
    let network = match &job.walking {
        job::Walking::Network { source, .. } => lio::declared_system(source),
        job::Walking::StraightLine(_) => None,
    };
    lifecircle::InputSystems {
        facilities: lio::declared_system(&job.facilities),
        residences: job.residences.as_ref().and_then(lio::declared_system),
        communities: job.communities.as_ref().and_then(lio::declared_system),
        network,
    }
}

/// Say that stale temporaries of a killed run were removed from `dir`.
fn note_removed_stale(removed: usize, dir: &std::path::Path) {
    if removed > 0 {
        eprintln!(
            "note: removed {} temporary file{} left in {} by an earlier run that was stopped",
            removed,
            if removed == 1 { "" } else { "s" },
            dir.display()
        );
    }
}

fn run_analyze(job: AnalyzeJob) -> anyhow::Result<()> {
    for w in &job.warnings {
        eprintln!("warning: {}", printable(w));
    }
    // Nothing is read or written when an output would replace an input.
    let outputs = lio::Written::in_dir_as(&job.out, &job.formats)
        .with_service_areas(job.service_areas.is_some());
    let mut output_paths = outputs.written_paths();
    let picture_files = picture_paths(&job);
    output_paths.extend(picture_files.iter().map(PathBuf::as_path));
    lio::refuse_inputs_as_outputs(&output_paths, &job.input_paths())?;
    // Locked before anything is read: a second run into the directory stops at once.
    let mut set = lio::geojson::write::OutputSet::begin(&job.out)?;
    // The previous run's files this run does not write go (never an input).
    set.replace_previous(&job.input_paths());
    let spinner = Spinner::new(job.quiet, job.verbose);
    let read = read_inputs(&job, &spinner)?;
    let pictures = pictures_of(&job);
    let plan = job.plan.clone().with_input_systems(input_systems(&job));
    let mut a = analyze(read.inputs(), plan, read.walking.as_ref(), &spinner).map_err(flagged)?;
    if let (Some(options), Some(model)) = (&job.service_areas, read.walking.area_model()) {
        spinner.stage("drawing service areas");
        let no_groups = lio::GroupCounts::default();
        let groups = read.residences.as_ref().map_or(&no_groups, |r| &r.groups);
        let areas = lifecircle::service_area::service_areas_counting(&a, &model, options, groups)
            .map_err(|e| flagged(e.into()))?;
        a.service_areas = Some(areas);
    }
    check_capacity_fields(
        &a,
        &job.facilities,
        job.capacity_field_given.then_some(&job.fields),
    )?;
    spinner.stage("writing outputs");
    let written = lio::write_output_set_with(&a, set, &job.formats, pictures)?;
    spinner.finish();
    warn_skipped(&a);
    warn_without_capacity(&a, &job.fields.capacity);
    note_removed_stale(written.removed_stale, &job.out);
    if !job.quiet {
        let mut text = report::text(&a);
        // The summaries, named once: after the first format that names them.
        let summaries = |named: bool| {
            if named {
                String::new()
            } else {
                format!(
                    ", {} and {}",
                    written.summary_json.display(),
                    written.summary_csv.display()
                )
            }
        };
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
        if let Some([communities, residences, facilities]) = &written.flatgeobuf {
            text.push_str(&format!(
                "Wrote {}, {} and {} (FlatGeobuf){}.\n",
                communities.display(),
                residences.display(),
                facilities.display(),
                summaries(written.geojson || written.geopackage.is_some())
            ));
        }
        if let Some(gpkg) = &written.geopackage {
            text.push_str(&format!(
                "Wrote {} (layers communities, residences, facilities){}.\n",
                gpkg.display(),
                summaries(written.geojson)
            ));
        }
        if let Some(xlsx) = &written.xlsx {
            text.push_str(&format!(
                "Wrote {} (sheets summary, residences, communities, facilities){}.\n",
                xlsx.display(),
                summaries(
                    written.geojson || written.geopackage.is_some() || written.flatgeobuf.is_some()
                )
            ));
        }
        if let Some(sa) = &a.service_areas {
            text.push_str(&service_areas_written(sa, &written));
        }
        text.push_str(&pictures_written(written.report.as_deref(), &written.maps));
        print_stdout(&text)?;
    }
    Ok(())
}

/// The line naming the service areas written, and what they contain.
fn service_areas_written(sa: &lifecircle::service_area::ServiceAreas, w: &lio::Written) -> String {
    let mut files: Vec<String> = w
        .service_areas
        .iter()
        .chain(&w.service_areas_fgb)
        .map(|p| p.display().to_string())
        .collect();
    if let Some(gpkg) = &w.geopackage {
        files.push(format!("{} (layer service_areas)", gpkg.display()));
    }
    let kind = match sa.kind {
        lifecircle::service_area::AreaKind::Dissolved => "one per category",
        lifecircle::service_area::AreaKind::PerFacility => "one per facility",
    };
    let claim = match sa.width_cap_m {
        None => "each contains every residence covered",
        Some(_) => "streets only: not every covered residence lies inside",
    };
    format!(
        "Wrote {} (service areas, {kind}; {claim}).\n",
        files.join(", ")
    )
}

/// The report and the `map.png` a job writes (the per-category maps are named after the
/// categories, known once the plan is resolved), to check that none is an input.
pub(crate) fn picture_paths(job: &AnalyzeJob) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if job.report {
        paths.push(job.out.join(lio::REPORT_FILE));
    }
    if job.maps.is_some() {
        paths.push(job.out.join("map.png"));
    }
    paths
}

/// The pictures a job asks for, if any; says on stderr when the PNG maps will lack Chinese.
pub(crate) fn pictures_of(job: &AnalyzeJob) -> Option<lifecircle::html_report::Pictures> {
    if !job.report && job.maps.is_none() {
        return None;
    }
    if job.maps.is_some()
        && lifecircle::html_report::MapFont::system()
            .cjk_family()
            .is_none()
    {
        eprintln!(
            "note: no CJK-capable font found; Chinese labels will not render in the PNG maps: \
             install fonts-wqy-microhei or fonts-noto-cjk"
        );
    }
    Some(lifecircle::html_report::Pictures {
        context: report_context(job),
        report: job.report,
        maps: job.maps,
    })
}

/// The lines naming the report and the PNG maps written.
pub(crate) fn pictures_written(report: Option<&std::path::Path>, maps: &[PathBuf]) -> String {
    let mut text = String::new();
    if let Some(report) = report {
        text.push_str(&format!(
            "Map report: {} (open it in a browser; it works offline).\n",
            report.display()
        ));
    }
    // Today's maps, then those after the planned facilities (`map-planned*.png`).
    let (planned, today): (Vec<&PathBuf>, Vec<&PathBuf>) = maps.iter().partition(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("map-planned"))
    });
    let group = |maps: &[&PathBuf]| match maps {
        [] => String::new(),
        [one] => one.display().to_string(),
        [first, rest @ ..] => format!("{} and {} per category", first.display(), rest.len()),
    };
    if !maps.is_empty() {
        text.push_str(&format!(
            "PNG map{}: {}{} ({} x {} px, {} dpi).\n",
            if maps.len() == 1 { "" } else { "s" },
            group(&today),
            if planned.is_empty() {
                String::new()
            } else {
                format!("; with the planned facilities: {}", group(&planned))
            },
            lifecircle::html_report::MAP_WIDTH_PX,
            lifecircle::html_report::MAP_HEIGHT_PX,
            lifecircle::html_report::MAP_DPI,
        ));
    }
    text
}

/// What the map report states about the inputs and settings of the job.
fn report_context(job: &AnalyzeJob) -> lifecircle::html_report::ReportContext {
    let mut inputs = vec![("facilities".to_string(), job.facilities.to_string())];
    if let Some(r) = &job.residences {
        inputs.push(("residences".into(), r.to_string()));
    }
    if let Some(c) = &job.communities {
        inputs.push(("communities".into(), c.to_string()));
    }
    let mut settings = Vec::new();
    match &job.walking {
        job::Walking::Network { source, max_snap_m } => {
            inputs.push(("street network".into(), source.to_string()));
            settings.push(("snap".into(), format!("{max_snap_m:.0} m")));
        }
        job::Walking::StraightLine(s) => {
            settings.push(("detour".into(), format!("{}", s.detour())));
        }
    }
    lifecircle::html_report::ReportContext {
        run_id: String::new(),
        created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        inputs,
        settings,
    }
}

/// A capacity property asked for (by `--capacity-field`, or a profile category's
/// `capacity_field`) that no facility gives is an error: a misspelt name would otherwise
/// leave the capacity within reach out without a word.
fn check_capacity_fields(
    a: &Analysis,
    facilities: &lio::Source,
    flag: Option<&lio::Fields>,
) -> anyhow::Result<()> {
    if let Some(fields) = flag {
        if !a.facilities.iter().any(|f| f.capacity().is_some()) {
            anyhow::bail!(
                "{facilities}: no facility has the property `{}` given by --capacity-field \
                 (property names are case-sensitive)",
                fields.capacity
            );
        }
    }
    if let Some((category, field)) = a.absent_capacity_fields().first() {
        anyhow::bail!(
            "{facilities}: no {category} facility has the property `{field}`, which the profile \
             names as the capacity_field of {category} (property names are case-sensitive)"
        );
    }
    Ok(())
}

/// Facilities of a category with capacities that give none take no part in the floating
/// catchment: say how many.
fn warn_without_capacity(a: &Analysis, default_field: &str) {
    for c in &a.categories {
        let Some(cap) = &c.capacity else { continue };
        if cap.without_capacity > 0 {
            let field = c.plan.capacity_field.as_deref().unwrap_or(default_field);
            eprintln!(
                "warning: {} of {} {} facilities have no `{field}`; they take no part in the \
                 capacity within reach ({})",
                cap.without_capacity,
                c.facilities.len(),
                c.name,
                c.plan.weighting.method()
            );
        }
    }
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
            eprintln!("  {}", printable(&e.to_string()));
        }
        if a.skipped.len() > SHOWN {
            eprintln!("  ... and {} more", a.skipped.len() - SHOWN);
        }
    }
    if !a.unknown_community_refs.is_empty() {
        let (i, id) = &a.unknown_community_refs[0];
        eprintln!(
            "warning: {} residences name a community that is not among the communities \
             (first: residence {} names \"{}\"); they are counted as unassigned",
            a.unknown_community_refs.len(),
            a.demand[*i].feature_index().unwrap_or(*i),
            printable(&id.to_string())
        );
    }
    for w in &a.warnings {
        eprintln!("warning: {}", printable(&w.to_string()));
    }
    if a.population_defaulted > 0 {
        eprintln!(
            "note: {} residences have no population property and count as 1 person each",
            a.population_defaulted
        );
    }
}

/// Text with its control characters (NUL, escape sequences, ...) written as escapes, so that
/// names and values from the inputs cannot garble the terminal; line breaks and tabs stay.
fn printable(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Print to stdout; a closed pipe (`lifecircle | head`) is not an error.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    let text = printable(text);
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Analyze(args)) => run_analyze(AnalyzeJob::from_args(*args)?),
        Some(Command::Site(args)) => site::run(job::SiteJob::from_args(*args)?),
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
            eprintln!("error: {}", printable(&error_chain(&e)));
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
