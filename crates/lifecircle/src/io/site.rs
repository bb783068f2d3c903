//! Writing a siting ([`crate::site::site`]): `sites.geojson` (the new sites in build order, a
//! valid facilities input), `communities.geojson` (the gap map before and after),
//! `curve.csv` (with `curve.csvt`: coverage after each new site) and `summary.json`, as one
//! [`OutputSet`] like every other output.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
};

use serde_json::{json, Value};

use super::output::{push_amount, push_id_and_name, OutputCrs, REPORT_FILE};
use crate::{
    error::Result,
    html_report::{self, Pictures},
    io::geojson::write::{
        push_fixed, push_fixed_real, push_id, push_key, push_str, rounded, FeatureCollection,
        OutputSet,
    },
    site::{SitePlan, Siting},
};

/// The files [`write_site_outputs`] writes.
#[derive(Debug, Clone)]
pub struct SiteWritten {
    /// The new sites.
    pub sites: PathBuf,
    /// The gap map before and after.
    pub communities: PathBuf,
    /// Coverage after each new site.
    pub curve: PathBuf,
    /// The column types of `curve.csv`.
    pub curve_csvt: PathBuf,
    /// The machine-readable summary.
    pub summary_json: PathBuf,
    /// The map report, when one was asked for.
    pub report: Option<PathBuf>,
    /// The PNG maps, when asked for (`map.png` first).
    pub maps: Vec<PathBuf>,
    /// The Excel workbook (`lifecircle.xlsx`: sites, curve, communities), when asked for.
    pub xlsx: Option<PathBuf>,
    /// The run id every file carries (empty from [`in_dir`](Self::in_dir)).
    pub run_id: String,
    /// Temporaries of earlier, killed runs removed from the directory.
    pub removed_stale: usize,
}

impl SiteWritten {
    /// The files [`write_site_outputs`] writes into `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            sites: dir.join("sites.geojson"),
            communities: dir.join("communities.geojson"),
            curve: dir.join("curve.csv"),
            curve_csvt: dir.join("curve.csvt"),
            summary_json: dir.join("summary.json"),
            report: None,
            maps: Vec::new(),
            xlsx: None,
            run_id: String::new(),
            removed_stale: 0,
        }
    }

    /// Every path, in the order written.
    pub fn paths(&self) -> [&Path; 5] {
        [
            &self.sites,
            &self.communities,
            &self.curve,
            &self.curve_csvt,
            &self.summary_json,
        ]
    }
}

/// Property names of `sites.geojson` that must match what `analyze` reads.
#[derive(Debug, Clone)]
pub struct SiteFields<'a> {
    /// The id property (`--id-field`).
    pub id: &'a str,
    /// The name property (`--name-field`).
    pub name: &'a str,
    /// The category property (`--category-field`).
    pub category: &'a str,
}

/// Write every output of a siting into a set begun earlier, with the pictures asked for (the
/// map report and the PNG maps of the gaps after the new sites, [`crate::html_report`]), and
/// put them in place together.
///
/// # Errors
/// A file cannot be written.
pub fn write_site_outputs(
    s: &Siting<'_>,
    fields: &SiteFields<'_>,
    set: OutputSet,
    pictures: Option<Pictures>,
) -> Result<SiteWritten> {
    write_site_outputs_as(s, fields, set, pictures, &[])
}

/// The column types of `curve.csv` (`curve.csvt`).
pub(crate) const CURVE_TYPES: [&str; 7] = [
    "String", "String", "Integer", "Real", "Real", "Real", "Real",
];

/// [`write_site_outputs`], and the other formats asked for: with
/// [`OutputFormat::Xlsx`](crate::io::OutputFormat::Xlsx) also `lifecircle.xlsx` with the
/// sheets `sites`, `curve` and `communities` (the GeoJSON files and `curve.csv` are always
/// written).
///
/// # Errors
/// A file cannot be written.
pub fn write_site_outputs_as(
    s: &Siting<'_>,
    fields: &SiteFields<'_>,
    mut set: OutputSet,
    pictures: Option<Pictures>,
    formats: &[crate::io::OutputFormat],
) -> Result<SiteWritten> {
    let run = set.run_id().to_string();
    let mut written = SiteWritten::in_dir(set.dir());
    let name = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    set.write(&name(&written.sites), |w| write_sites(s, fields, &run, w))?;
    set.write(&name(&written.communities), |w| {
        write_communities_change(s, &run, w)
    })?;
    set.write(&name(&written.curve), |w| write_curve(s, &run, w))?;
    set.write(&name(&written.curve_csvt), |w| {
        let types: Vec<String> = CURVE_TYPES.iter().map(|t| format!("\"{t}\"")).collect();
        writeln!(w, "{}", types.join(","))
    })?;
    if formats.contains(&crate::io::OutputFormat::Xlsx) {
        let file = crate::io::formats::XLSX_FILE;
        set.write_by_path(file, |p| {
            crate::io::formats::write_site_xlsx(s, fields, &run, p)
        })?;
        written.xlsx = Some(set.dir().join(file));
    }
    if let Some(mut pictures) = pictures {
        pictures.context.run_id = run.clone();
        let ctx = &pictures.context;
        if pictures.report {
            set.write(REPORT_FILE, |w| html_report::write_site_html(s, ctx, w))?;
            written.report = Some(set.dir().join(REPORT_FILE));
        }
        for (file, shown) in pictures
            .maps
            .map(|m| m.files(&s.before))
            .unwrap_or_default()
        {
            set.write(&file, |w| {
                html_report::render_site_map_png(s, shown, ctx, w)
            })?;
            written.maps.push(set.dir().join(file));
        }
    }
    set.write(&name(&written.summary_json), |w| {
        serde_json::to_writer_pretty(&mut *w, &site_summary(s, &run))?;
        w.write_all(b"\n")
    })?;
    written.removed_stale = set.removed_stale();
    set.commit()?;
    written.run_id = run;
    Ok(written)
}

fn category_names<'s>(s: &'s Siting<'_>, p: &SitePlan) -> Vec<&'s str> {
    p.categories
        .iter()
        .map(|&c| s.before.categories[c].name.as_str())
        .collect()
}

/// Write `sites.geojson`: per site `id`, `name`, the category property (its categories joined
/// by `;`, as `analyze` reads them), `rank`, `new_covered_population`,
/// `<category>_cumulative_coverage` and `<category>_cumulative_covered`, `cost` and
/// `cumulative_cost`; positions in the plan's output system.
///
/// # Errors
/// The writer fails.
pub fn write_sites(
    s: &Siting<'_>,
    fields: &SiteFields<'_>,
    run: &str,
    w: &mut (dyn Write + Send),
) -> io::Result<()> {
    let out = OutputCrs::of(&s.before.plan);
    let urn = out.geojson_urn();
    let mut fc = FeatureCollection::begin_with_crs(w, Some("sites"), Some(run), urn.as_deref())?;
    for p in &s.plans {
        let names = category_names(s, p);
        for site in &p.sites {
            let c = &s.candidates[site.candidate];
            fc.feature(|buf| {
                buf.extend_from_slice(br#"{"type":"Feature","geometry":"#);
                out.push_point(buf, c.at);
                buf.extend_from_slice(br#","properties":{"#);
                push_key(buf, fields.id);
                push_id(buf, &site.id);
                buf.push(b',');
                push_key(buf, fields.name);
                match &c.name {
                    Some(n) => push_str(buf, n),
                    None => buf.extend_from_slice(b"null"),
                }
                buf.push(b',');
                push_key(buf, fields.category);
                push_str(buf, &names.join(";"));
                buf.extend_from_slice(br#","rank":"#);
                push_fixed(buf, site.rank as f64, 0);
                buf.extend_from_slice(br#","new_covered_population":"#);
                push_amount(buf, site.new_covered_population);
                for (k, &cat) in p.categories.iter().enumerate() {
                    let counted = s.before.categories[cat].counted_population;
                    let covered = site.cumulative_covered.get(k).copied().unwrap_or(0.0);
                    buf.push(b',');
                    push_key(buf, &format!("{}_cumulative_coverage", names[k]));
                    push_fixed_real(
                        buf,
                        if counted > 0.0 {
                            covered / counted
                        } else {
                            0.0
                        },
                        6,
                    );
                    buf.push(b',');
                    push_key(buf, &format!("{}_cumulative_covered", names[k]));
                    push_amount(buf, covered);
                }
                buf.extend_from_slice(br#","cost":"#);
                match site.cost {
                    Some(v) => push_amount(buf, v),
                    None => buf.extend_from_slice(b"null"),
                }
                buf.extend_from_slice(br#","cumulative_cost":"#);
                push_amount(buf, site.cumulative_cost);
                buf.extend_from_slice(b"}}");
            })?;
        }
    }
    fc.end()?;
    out.check()
}

fn push_names<'n>(buf: &mut Vec<u8>, names: impl Iterator<Item = &'n str>) {
    buf.push(b'[');
    for (k, n) in names.enumerate() {
        if k > 0 {
            buf.push(b',');
        }
        push_str(buf, n);
    }
    buf.push(b']');
}

/// Write the gap map before and after: per community `id`, `name`, `population`, per category
/// `<category>_coverage` and `<category>_coverage_after` (share of everyone, as `analyze`
/// writes `<category>_coverage`) and, for a category with a target group,
/// `<category>_coverage_<group>` and `<category>_coverage_<group>_after` (the share `lacking`
/// is judged on), then `lacking` and `lacking_after`.
///
/// # Errors
/// The writer fails.
pub fn write_communities_change(
    s: &Siting<'_>,
    run: &str,
    w: &mut (dyn Write + Send),
) -> io::Result<()> {
    let a = &s.before;
    let out = OutputCrs::of(&a.plan);
    let urn = out.geojson_urn();
    let share = |buf: &mut Vec<u8>, v: Option<f64>| match v {
        Some(v) => push_fixed_real(buf, v, 4),
        None => buf.extend_from_slice(b"null"),
    };
    let mut fc =
        FeatureCollection::begin_with_crs(w, Some("communities"), Some(run), urn.as_deref())?;
    for (n, c) in a.communities.iter().enumerate() {
        let (Some(before), Some(after)) = (a.community_results.get(n), s.after.communities.get(n))
        else {
            continue;
        };
        fc.feature(|buf| {
            buf.extend_from_slice(br#"{"type":"Feature","geometry":"#);
            out.push_geometry(buf, &c.geometry);
            buf.extend_from_slice(br#","properties":{"id":"#);
            push_id_and_name(buf, &c.id, c.name.as_deref());
            buf.extend_from_slice(br#","population":"#);
            push_amount(buf, before.population);
            for (j, cat) in a.categories.iter().enumerate() {
                for (suffix, r) in [("", before), ("_after", after)] {
                    buf.push(b',');
                    push_key(buf, &format!("{}_coverage{suffix}", cat.name));
                    share(buf, r.coverage_everyone.get(j).copied().flatten());
                }
                if let Some(g) = &cat.plan.group {
                    for (suffix, r) in [("", before), ("_after", after)] {
                        buf.push(b',');
                        push_key(buf, &format!("{}_coverage_{g}{suffix}", cat.name));
                        share(buf, r.coverage.get(j).copied().flatten());
                    }
                }
            }
            for (key, r) in [("lacking", before), ("lacking_after", after)] {
                buf.push(b',');
                push_key(buf, key);
                push_names(
                    buf,
                    r.lacking.iter().map(|&j| a.categories[j].name.as_str()),
                );
            }
            buf.extend_from_slice(b"}}");
        })?;
    }
    fc.end()?;
    out.check()
}

/// Write `curve.csv`: per sited problem, per category, the coverage with 0, 1, 2, ... new
/// sites built in rank order. Columns: `run`, `category`, `sites`, `covered_population`,
/// `counted_population`, `coverage`, `cumulative_cost`.
///
/// # Errors
/// The writer fails.
pub fn write_curve(s: &Siting<'_>, run: &str, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "run,category,sites,covered_population,counted_population,coverage,cumulative_cost"
    )?;
    for p in &s.plans {
        for (k, &c) in p.categories.iter().enumerate() {
            let cat = &s.before.categories[c];
            let counted = cat.counted_population;
            let share = |x: f64| if counted > 0.0 { x / counted } else { 0.0 };
            writeln!(
                w,
                "{run},{},0,{},{},{:.6},0",
                cat.name,
                rounded(cat.covered_population, 3),
                rounded(counted, 3),
                share(cat.covered_population)
            )?;
            for site in &p.sites {
                let covered = site.cumulative_covered.get(k).copied().unwrap_or(0.0);
                writeln!(
                    w,
                    "{run},{},{},{},{},{:.6},{}",
                    cat.name,
                    site.rank,
                    rounded(covered, 3),
                    rounded(counted, 3),
                    share(covered),
                    rounded(site.cumulative_cost, 3)
                )?;
            }
        }
    }
    Ok(())
}

/// The summary of a siting, as written to `summary.json`.
pub fn site_summary(s: &Siting<'_>, run: &str) -> Value {
    let a = &s.before;
    let plans: Vec<Value> = s
        .plans
        .iter()
        .map(|p| {
            let cats: Vec<Value> = p
                .categories
                .iter()
                .enumerate()
                .map(|(k, &c)| {
                    let cat = &a.categories[c];
                    let after = &s.after.categories[c];
                    let u = &p.unreached[k];
                    json!({
                        "category": cat.name,
                        "counts": cat.plan.counts(),
                        "max_walk_m": cat.plan.max_walk_m,
                        "target_percent": cat.plan.target_percent,
                        "facilities": cat.facilities.len(),
                        "counted_population": rounded(cat.counted_population, 3),
                        "covered_population": rounded(cat.covered_population, 3),
                        "coverage": rounded(cat.coverage, 6),
                        "covered_population_after": rounded(after.covered_population, 3),
                        "coverage_after": rounded(after.coverage, 6),
                        "coverage_everyone": rounded(cat.coverage_everyone, 6),
                        "coverage_everyone_after": rounded(after.coverage_everyone, 6),
                        "communities_lacking": cat.communities_lacking,
                        "communities_lacking_after": after.communities_lacking,
                        "unreached": {
                            "off_network_points": u.off_network_points,
                            "off_network_population": rounded(u.off_network_population, 3),
                            "too_far_points": u.too_far_points,
                            "too_far_population": rounded(u.too_far_population, 3),
                        },
                    })
                })
                .collect();
            let (time_limit_reached, solver_error) = match &p.method {
                crate::site::Method::Exact {
                    time_limit_reached,
                    error,
                    ..
                } => (*time_limit_reached, error.clone()),
                crate::site::Method::Fast { .. } => (false, None),
            };
            json!({
                "categories": cats,
                "sites": p.sites.len(),
                "site_ids": p.sites.iter().map(|x| x.id.to_string()).collect::<Vec<_>>(),
                "objective": rounded(p.objective, 3),
                "objective_is": match s.goal {
                    crate::site::Goal::New(_) | crate::site::Goal::Budget(_) => "people newly covered (counted, summed over the categories)",
                    _ => "new sites",
                },
                "bound": if p.bound.is_finite() { json!(rounded(p.bound, 3)) } else { Value::Null },
                "gap": rounded(p.gap, 6),
                "method": p.method.name(),
                "proven_optimal": p.method.proven_optimal(),
                "time_limit_reached": time_limit_reached,
                "solver_error": solver_error,
                "solve_seconds": p.seconds,
                "cost": p.sites.last().map_or(0.0, |x| x.cumulative_cost),
                "reduced_problem": {
                    "demand_points": p.demand_points,
                    "elements": p.elements,
                    "pairs": p.pairs,
                    "candidates_in_reach": p.candidates_in_reach,
                },
                "note": p.note,
            })
        })
        .collect();
    json!({
        "run": run,
        "mode": a.mode,
        "profile": a.plan.profile().name,
        "goal": s.goal.label(),
        "solver": format!("{:?}", s.solver).to_lowercase(),
        "hosting": if s.plans.len() == 1 && s.plans[0].categories.len() > 1 { "centre" } else { "categories" },
        "candidates": {
            "source": s.candidate_source,
            "generated": s.candidates_generated,
            "given": if s.candidates_generated.is_none() { Some(s.candidates.len()) } else { None },
            "in_reach": s.candidates_in_reach,
        },
        "new_sites": s.sites(),
        "communities": a.communities.len(),
        "communities_with_population": a.populated_communities(),
        "communities_without_population": a.communities.len() - a.populated_communities(),
        "communities_lacking": a.communities_lacking(),
        "communities_lacking_after": s.after.communities_lacking(),
        "population": rounded(a.population, 3),
        "problems": plans,
    })
}
