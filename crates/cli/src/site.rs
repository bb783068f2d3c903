//! `lifecircle site`: read the inputs as `analyze` does, read or generate the candidates,
//! choose the sites (the library's [`lifecircle::site::site`]), write the outputs as one set
//! and print the summary.

use lifecircle::{
    io as lio,
    site::{self, CandidateSource, SiteOptions},
    Progress,
};

use crate::{
    job::{flagged, Candidates, SiteJob},
    note_removed_stale, picture_paths, pictures_of, pictures_written, print_stdout,
    progress::Spinner,
    read_inputs, warn_skipped,
};

pub fn run(job: SiteJob) -> anyhow::Result<()> {
    let a = &job.analyze;
    let outputs = lio::SiteWritten::in_dir(&a.out);
    let mut outputs = outputs.paths().to_vec();
    let xlsx = a.out.join(lio::formats::XLSX_FILE);
    if a.formats.contains(&lio::OutputFormat::Xlsx) {
        outputs.push(&xlsx);
    }
    let picture_files = picture_paths(a);
    outputs.extend(picture_files.iter().map(|p| p.as_path()));
    let mut inputs = a.input_paths();
    if let Candidates::File(lio::Source::Path(p)) = &job.candidates {
        inputs.push(p.as_path());
    }
    lio::refuse_inputs_as_outputs(&outputs, &inputs)?;
    let mut set = lio::geojson::write::OutputSet::begin(&a.out)?;
    // The previous run's files this run does not write go (never an input).
    set.replace_previous(&inputs);
    let spinner = Spinner::new(a.quiet, a.verbose);
    let read = read_inputs(a, &spinner)?;
    let candidates = match &job.candidates {
        Candidates::File(source) => {
            spinner.stage("reading candidate sites");
            CandidateSource::Given(site::read_candidates(source, &a.fields, &job.cost_field)?)
        }
        Candidates::Generated(source) => source.clone(),
    };
    let options = SiteOptions {
        hosting: job.hosting.clone(),
        candidates,
        goal: job.goal,
        solver: job.solver,
        time_limit: job.time_limit,
    };
    let siting = site::site(
        read.inputs(),
        a.plan.clone().with_input_systems(crate::input_systems(a)),
        read.walking.as_ref(),
        &options,
        &spinner,
    )
    .map_err(flagged)?;
    spinner.stage("writing outputs");
    let fields = lio::SiteFields {
        id: &a.fields.id,
        name: &a.fields.name,
        category: &a.fields.category,
    };
    let written = lio::write_site_outputs_as(&siting, &fields, set, pictures_of(a), &a.formats)?;
    spinner.finish();
    warn_skipped(&siting.before);
    note_removed_stale(written.removed_stale, &a.out);
    if !a.quiet {
        let mut text = site::report::text(&siting);
        text.push_str(&format!(
            "Wrote {} ({} new sites), {} (gap map before and after), {} and {}.\n",
            written.sites.display(),
            siting.sites(),
            written.communities.display(),
            written.curve.display(),
            written.summary_json.display()
        ));
        if let Some(xlsx) = &written.xlsx {
            text.push_str(&format!(
                "Wrote {} (sheets sites, curve, communities).\n",
                xlsx.display()
            ));
        }
        text.push_str(&pictures_written(written.report.as_deref(), &written.maps));
        print_stdout(&text)?;
    }
    Ok(())
}
