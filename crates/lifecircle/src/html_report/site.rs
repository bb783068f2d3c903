//! The report of a siting (`site --report`): the page of [`super::write_html`] with the gaps
//! before and after the new sites (the map's selector offers both), the sites marked on the
//! map with their build order, the coverage before and after, the sites in build order and
//! the inputs and settings; and the PNG map of the gaps after the sites
//! ([`render_site_map_png`]).

use std::{fmt::Write as _, io};

use serde_json::json;

use super::{
    category_colour, esc, map_png, map_svg, mode_options, page_data, percent, settings_list,
    MapFrame, MapLayers, Page, ReportContext, Shown,
};
use crate::site::Siting;

/// A site's mark: a diamond of half-diagonal `size` about (0, 0), outlined in `colour`,
/// with its rank; in the units of the SVG around it.
fn site_mark(colour: &str, size: f64, rank: Option<usize>) -> String {
    let mut s = format!(
        "<path d=\"M0 {:.1}L{:.1} 0L0 {:.1}L{:.1} 0Z\" fill=\"#fff\" stroke=\"{colour}\" stroke-width=\"{:.1}\"/>",
        -size,
        size,
        size,
        -size,
        size / 4.0
    );
    if let Some(rank) = rank {
        let _ = write!(
            s,
            "<text y=\"{:.1}\" font-size=\"{:.1}\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"#111\">{rank}</text>",
            size * 0.35,
            size * (if rank < 10 { 1.0 } else { 0.8 }),
        );
    }
    s
}

/// The colour of a plan's sites: its category's, or black for a centre hosting several.
fn plan_colour(categories: &[usize]) -> &'static str {
    match categories {
        [c] => category_colour(*c),
        _ => "#111",
    }
}

/// Every new site, marked with its rank, `size` its half-diagonal in map units.
fn sites_overlay(s: &Siting<'_>, mf: &MapFrame, size: f64) -> String {
    let mut svg = String::from("<g id=\"sites\" class=\"site\">");
    // The last to build drawn first, so that the first are on top.
    for p in &s.plans {
        for site in p.sites.iter().rev() {
            let Some(c) = s.candidates.get(site.candidate) else {
                continue;
            };
            let (x, y) = mf.xy(c.at);
            let _ = write!(
                svg,
                "<g transform=\"translate({x:.1} {y:.1})\"><title>{} (build {})</title>{}</g>",
                esc(&site.id.to_string()),
                site.rank,
                site_mark(plan_colour(&p.categories), size, Some(site.rank))
            );
        }
    }
    svg.push_str("</g>");
    svg
}

/// What the siting chose, in words: `3 new sites for elderly_care`.
fn what(s: &Siting<'_>) -> String {
    let names: Vec<&str> = s
        .plans
        .iter()
        .flat_map(|p| p.categories.iter())
        .map(|&c| s.before.categories[c].name.as_str())
        .collect();
    format!(
        "{} new site{} for {}",
        s.sites(),
        if s.sites() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

fn coverage_table(s: &Siting<'_>) -> String {
    let a = &s.before;
    let populated = a.populated_communities();
    let mut t = String::from(
        "<table><thead><tr><th>category</th><th>counts</th><th>new sites</th>\
         <th>coverage before</th><th>after</th><th>target</th>\
         <th>communities lacking before</th><th>after</th><th>people no candidate reaches</th>\
         </tr></thead><tbody>",
    );
    for p in &s.plans {
        for (k, &c) in p.categories.iter().enumerate() {
            let (cat, after) = (&a.categories[c], &s.after.categories[c]);
            let _ = write!(
                t,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{} %</td><td class=\"n\">{} of {populated}</td>\
                 <td class=\"n\">{} of {populated}</td><td class=\"n\">{:.0}</td></tr>",
                esc(&super::label(cat)),
                esc(cat.plan.counts()),
                p.sites.len(),
                percent(cat.coverage),
                percent(after.coverage),
                cat.plan.target_percent,
                cat.communities_lacking,
                after.communities_lacking,
                p.unreached.get(k).map_or(0.0, |u| u.population()),
            );
        }
    }
    let _ = write!(
        t,
        "</tbody></table><p>Communities lacking at least one category: {} before, {} after \
         (of {populated} with residents).</p>",
        a.communities_lacking(),
        s.after.communities_lacking()
    );
    t
}

fn sites_table(s: &Siting<'_>) -> String {
    let a = &s.before;
    let mut t = String::from(
        "<table><thead><tr><th>build</th><th>site</th><th>name</th><th>categories</th>\
         <th>people newly covered</th><th>coverage once built</th><th>cost</th>\
         <th>cost so far</th></tr></thead><tbody>",
    );
    for p in &s.plans {
        for site in &p.sites {
            let c = s.candidates.get(site.candidate);
            let coverage: Vec<String> = p
                .categories
                .iter()
                .zip(&site.cumulative_covered)
                .map(|(&j, &covered)| {
                    let counted = a.categories[j].counted_population;
                    let share = if counted > 0.0 {
                        covered / counted
                    } else {
                        0.0
                    };
                    format!("{} {}", a.categories[j].name, percent(share))
                })
                .collect();
            let names: Vec<&str> = p
                .categories
                .iter()
                .map(|&j| a.categories[j].name.as_str())
                .collect();
            let _ = write!(
                t,
                "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{:.0}</td>\
                 <td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                site.rank,
                esc(&site.id.to_string()),
                esc(c.and_then(|c| c.name.as_deref()).unwrap_or("")),
                esc(&names.join(", ")),
                site.new_covered_population,
                esc(&coverage.join("; ")),
                site.cost.map_or(String::new(), |v| format!("{v}")),
                if site.cost.is_some() {
                    format!("{}", site.cumulative_cost)
                } else {
                    String::new()
                },
            );
        }
    }
    t.push_str("</tbody></table>");
    if s.sites() == 0 {
        t = "<p>No new site adds coverage.</p>".into();
    }
    t
}

/// The siting's own settings, beside the inputs the command states.
fn siting_context(s: &Siting<'_>, ctx: &ReportContext) -> ReportContext {
    let mut ctx = ctx.clone();
    ctx.settings.push(("goal".into(), s.goal.label()));
    ctx.settings.push((
        "candidates".into(),
        match s.candidates_generated {
            Some(n) => format!("{n} from {}", s.candidate_source),
            None => format!("{} from the file", s.candidates.len()),
        },
    ));
    for p in &s.plans {
        let names: Vec<&str> = p
            .categories
            .iter()
            .map(|&c| s.before.categories[c].name.as_str())
            .collect();
        ctx.settings.push((
            format!("method ({})", names.join(", ")),
            format!(
                "{}{}",
                p.method.name(),
                if p.method.proven_optimal() {
                    ", proven optimal".to_string()
                } else {
                    format!(", within {} of the optimum", percent(p.gap))
                }
            ),
        ));
    }
    ctx
}

/// Write `report.html` for a siting: the gaps before and after on the map (with the new
/// sites numbered in build order), coverage before and after, the sites, the settings.
///
/// # Errors
/// The writer fails.
pub fn write_site_html(
    s: &Siting<'_>,
    ctx: &ReportContext,
    w: &mut dyn io::Write,
) -> io::Result<()> {
    let a = &s.before;
    let mf = MapFrame::of(a);
    let view = mf.view();
    let layers = MapLayers {
        results: &a.community_results,
        shown: Shown::Gap,
        demand: true,
        outline: 1.0,
        facility_radius: view[2].max(view[3]) / 600.0,
        planned: false,
        overlay: sites_overlay(s, &mf, view[2].max(view[3]) / 90.0),
    };
    // Before and after of each measure, side by side in the selector; the figures after
    // are read as a second stage (`planned`) by the page's script.
    let before = mode_options(a, "", "before: ");
    let after = mode_options(a, "p", "after the new sites: ");
    let options: String = before
        .split_inclusive("</option>")
        .zip(after.split_inclusive("</option>"))
        .map(|(b, f)| format!("{b}{f}"))
        .collect();
    let mut data = page_data(a, 1.0);
    let round = |v: &Option<f64>| v.map(|v| (v * 10_000.0).round() / 10_000.0);
    if let Some(communities) = data["communities"].as_array_mut() {
        for (c, r) in communities.iter_mut().zip(&s.after.communities) {
            c["planned"] = json!({
                "gap": r.gap_population.round(),
                "coverage": r.coverage.iter().map(round).collect::<Vec<_>>(),
                "lacking": r.lacking,
            });
        }
    }
    data["stage_label"] = json!("after the new sites");
    data["sites_label"] = json!("new site, numbered in build order");
    let title = format!("Where to build: {}", what(s));
    let page = Page {
        title: &title,
        summary: &format!(
            "{} walk; goal {}; communities lacking at least one category: {} before, {} after \
             (of {} with residents).",
            a.mode,
            s.goal.label(),
            a.communities_lacking(),
            s.after.communities_lacking(),
            a.populated_communities()
        ),
        options: &options,
        map: &map_svg(a, &mf, &layers),
        sections: &[
            (
                "Coverage before and after",
                format!("<div class=\"wide\">{}</div>", coverage_table(s)),
            ),
            (
                "New sites in build order",
                format!("<div class=\"wide\">{}</div>", sites_table(s)),
            ),
            (
                "Inputs and settings",
                settings_list(a, &siting_context(s, ctx)),
            ),
        ],
        tolerance_m: mf.tolerance_m,
        data: &data,
    };
    w.write_all(page.html().as_bytes())
}

/// Write the map of a siting as PNG: the communities after the new sites coloured as
/// `shown` says, the facilities, the new sites numbered in build order (see
/// [`super::render_map_png`] for the picture).
///
/// # Errors
/// The writer fails.
pub fn render_site_map_png(
    s: &Siting<'_>,
    shown: Shown,
    ctx: &ReportContext,
    w: &mut dyn io::Write,
) -> io::Result<()> {
    let a = &s.before;
    let mf = MapFrame::of(a);
    let view = mf.view();
    let [_, _, pw, ph] = map_png::MAP_AREA;
    let m_per_px = (view[2] / pw).max(view[3] / ph);
    let title = match shown {
        Shown::Gap => format!("After {}: share of the people lacking something", what(s)),
        Shown::Coverage(j) => format!(
            "After {}: coverage of {}",
            what(s),
            super::label(&a.categories[j])
        ),
    };
    let keys = s
        .plans
        .iter()
        .map(|p| {
            let names: Vec<&str> = p
                .categories
                .iter()
                .map(|&c| a.categories[c].name.as_str())
                .collect();
            (
                site_mark(plan_colour(&p.categories), 13.0, None),
                format!("{}, numbered in build order", names.join(", ")),
            )
        })
        .collect();
    let p = map_png::Picture {
        title,
        subtitle: format!(
            "{} walk; communities lacking at least one category: {} before, {} after (of {} with residents)",
            a.mode,
            a.communities_lacking(),
            s.after.communities_lacking(),
            a.populated_communities()
        ),
        layers: MapLayers {
            results: &s.after.communities,
            shown,
            // A home's reach after the plan is not kept, only its community's figures.
            demand: false,
            outline: 1.0,
            facility_radius: 1.0,
            planned: false,
            overlay: sites_overlay(s, &mf, 16.0 * m_per_px),
        },
        keys: ("New sites", keys),
    };
    map_png::render_picture(a, &mf, &p, &siting_context(s, ctx), w)
}
