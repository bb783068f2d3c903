//! The readable summary printed after an analysis.

use std::fmt::Write as _;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use crate::{analysis::Analysis, coords::Crs};

/// How many communities the "worst communities" table lists.
pub(crate) const WORST_SHOWN: usize = 10;

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// Coverage per category and the communities with the largest gaps, as text for a terminal.
/// Columns for the level, the counted group, the walk and the target appear when the profile
/// uses them.
pub fn text(a: &Analysis) -> String {
    let mut out = String::new();
    let demand = if a.demand_is_communities {
        "community points"
    } else {
        "residences"
    };
    let walk = match a.shared_max_walk_m() {
        Some(m) => format!("within {m:.0} m"),
        None => {
            let walks = a.categories.iter().map(|c| c.plan.max_walk_m);
            let min = walks.clone().fold(f64::INFINITY, f64::min);
            let max = walks.fold(0.0, f64::max);
            format!("within each category's distance ({min:.0}-{max:.0} m)")
        }
    };
    let populated = a.populated_communities();
    let communities = if populated < a.communities.len() {
        format!(
            "{} communities ({populated} with residents)",
            a.communities.len()
        )
    } else {
        format!("{} communities", a.communities.len())
    };
    let _ = writeln!(
        out,
        "{} walk {walk}: {} {demand}, population {:.0}, {} facilities, {communities} (profile {})",
        a.mode,
        a.demand.len(),
        a.population,
        a.facilities.len(),
        a.plan.profile().name
    );
    let show_level = a.categories.iter().any(|c| c.plan.level.is_some());
    let show_counts = a.categories.iter().any(|c| c.plan.group.is_some());
    let show_walk = a.shared_max_walk_m().is_none();
    let show_target = a.shared_target_percent().is_none();
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    let mut header = vec!["category"];
    header.extend(show_level.then_some("level"));
    header.extend(show_counts.then_some("counts"));
    header.extend(show_walk.then_some("max walk"));
    header.extend(show_target.then_some("target"));
    header.extend([
        "facilities",
        "covered population",
        "coverage",
        "communities lacking",
    ]);
    t.set_header(header);
    let right = |text: String| Cell::new(text).set_alignment(CellAlignment::Right);
    let after = a.scenario.as_deref().map(|s| &s.after.categories);
    for (j, c) in a.categories.iter().enumerate() {
        let mut row = vec![Cell::new(&c.name)];
        if show_level {
            row.push(Cell::new(c.plan.level.as_deref().unwrap_or("")));
        }
        if show_counts {
            row.push(Cell::new(c.plan.counts()));
        }
        if show_walk {
            row.push(right(format!("{:.0} m", c.plan.max_walk_m)));
        }
        if show_target {
            row.push(right(format!("{} %", c.plan.target_percent)));
        }
        match after.and_then(|x| x.get(j)) {
            None => row.extend([
                right(c.facilities.len().to_string()),
                right(format!("{:.0}", c.covered_population)),
                right(percent(c.coverage)),
                right(format!("{} of {populated}", c.communities_lacking)),
            ]),
            Some(x) => row.extend([
                right(change(
                    c.facilities.len().to_string(),
                    x.facilities.len().to_string(),
                    (x.facilities.len() - c.facilities.len()) as f64,
                    "",
                )),
                right(change(
                    format!("{:.0}", c.covered_population),
                    format!("{:.0}", x.covered_population),
                    x.covered_population.round() - c.covered_population.round(),
                    "",
                )),
                right(change(
                    percent(c.coverage),
                    percent(x.coverage),
                    ((x.coverage - c.coverage) * 1000.0).round() / 10.0,
                    " pt",
                )),
                right(if x.communities_lacking == c.communities_lacking {
                    format!("{} of {populated}", c.communities_lacking)
                } else {
                    format!(
                        "{} → {} of {populated} ({:+})",
                        c.communities_lacking,
                        x.communities_lacking,
                        x.communities_lacking as i64 - c.communities_lacking as i64
                    )
                }),
            ]),
        }
        t.add_row(row);
    }
    let _ = writeln!(out, "{t}");
    capacity_table(a, &mut out);
    planned_note(a, &mut out);

    let worst = a.communities_by_gap();
    if a.communities.is_empty() {
    } else if populated == 0 {
        let _ = writeln!(
            out,
            "No community has residents: every demand point lies outside all {} communities, \
             so no community's coverage is measured.",
            a.communities.len()
        );
    } else if worst.is_empty() {
        let _ = writeln!(
            out,
            "Every community with residents reaches every category at target."
        );
    } else {
        let _ = writeln!(
            out,
            "{} of {populated} communities with residents lack at least one category; the \
             largest gaps:",
            worst.len(),
        );
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        t.set_header(vec![
            "community",
            "name",
            "population",
            "gap population",
            "lacking",
        ]);
        for &i in worst.iter().take(WORST_SHOWN) {
            let (c, r) = (&a.communities[i], &a.community_results[i]);
            let lacking: Vec<&str> = r
                .lacking
                .iter()
                .map(|&j| a.categories[j].name.as_str())
                .collect();
            t.add_row(vec![
                Cell::new(&c.id),
                Cell::new(c.name.as_deref().unwrap_or("")),
                Cell::new(format!("{:.0}", r.population)).set_alignment(CellAlignment::Right),
                Cell::new(format!("{:.0}", r.gap_population)).set_alignment(CellAlignment::Right),
                Cell::new(lacking.join(", ")),
            ]);
        }
        let _ = writeln!(out, "{t}");
    }
    if populated > 0 && populated < a.communities.len() {
        let n = a.communities.len() - populated;
        let _ = writeln!(
            out,
            "{n} of {} communities have no residents and are not judged.",
            a.communities.len()
        );
    }
    let empty: Vec<&str> = a
        .categories
        .iter()
        .filter(|c| c.facilities.is_empty())
        .map(|c| c.name.as_str())
        .collect();
    if !empty.is_empty() {
        let _ = writeln!(
            out,
            "No facility at all for: {} (coverage 0 %).",
            empty.join(", ")
        );
    }
    let over: Vec<String> = a
        .categories
        .iter()
        .filter_map(|c| {
            let (_, over) = c.capacity(&a.facilities)?;
            (over > 0).then(|| format!("{} ({over})", c.name))
        })
        .collect();
    if !over.is_empty() {
        let _ = writeln!(
            out,
            "Facilities whose catchment exceeds their capacity: {} (see facilities.geojson).",
            over.join(", ")
        );
    }
    group_notes(a, &mut out);
    coords_note(a, &mut out);
    let (n, p) = a.unassigned();
    if n > 0 && !a.communities.is_empty() {
        let _ = writeln!(
            out,
            "{n} residences (population {p:.0}) lie in no community; they count in the city totals."
        );
    }
    let (n, p) = a.off_network();
    if n > 0 {
        let _ = writeln!(
            out,
            "{n} residences (population {p:.0}) are off the street network and count as not covered."
        );
    }
    out
}

/// `before → after (Δ)`, or `before (no change)` when they are equal.
fn change(before: String, after: String, delta: f64, unit: &str) -> String {
    if delta == 0.0 && before == after {
        before
    } else {
        format!("{before} → {after} ({delta:+}{unit})")
    }
}

/// With planned facilities: how many, and the communities whose lacking categories change.
fn planned_note(a: &Analysis, out: &mut String) {
    let Some(s) = a.scenario.as_deref() else {
        return;
    };
    let n = s.planned.len();
    let _ = writeln!(
        out,
        "Planned: {n} facilit{} from {} (columns before → after (Δ) above; the outputs hold \
         both, the after figures with `_planned`). Communities lacking at least one category: \
         {} → {}.",
        if n == 1 { "y" } else { "ies" },
        s.file,
        a.communities_lacking(),
        s.after.communities_lacking()
    );
    if s.changed_communities.is_empty() {
        let _ = writeln!(out, "No community's lacking categories change.");
        return;
    }
    let _ = writeln!(
        out,
        "{} communit{} change what they lack:",
        s.changed_communities.len(),
        if s.changed_communities.len() == 1 {
            "y"
        } else {
            "ies"
        }
    );
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec!["community", "name", "lacking before", "lacking after"]);
    let names = |r: &[usize]| {
        let v: Vec<&str> = r.iter().map(|&j| a.categories[j].name.as_str()).collect();
        if v.is_empty() {
            "(none)".to_string()
        } else {
            v.join(", ")
        }
    };
    for &i in s.changed_communities.iter().take(WORST_SHOWN) {
        let c = &a.communities[i];
        t.add_row(vec![
            Cell::new(&c.id),
            Cell::new(c.name.as_deref().unwrap_or("")),
            Cell::new(names(&a.community_results[i].lacking)),
            Cell::new(names(&s.after.community_results[i].lacking)),
        ]);
    }
    let _ = writeln!(out, "{t}");
    if s.changed_communities.len() > WORST_SHOWN {
        let _ = writeln!(
            out,
            "... and {} more (summary.json, planned.changed).",
            s.changed_communities.len() - WORST_SHOWN
        );
    }
}

/// Places per 1,000 counted people, as the terminal shows access.
fn per_thousand(access: Option<f64>) -> String {
    access.map_or_else(|| "-".into(), |v| format!("{:.1}", v * 1000.0))
}

/// Capacity within reach (2SFCA / E2SFCA), one row per category whose facilities give a
/// capacity; nothing when none does.
fn capacity_table(a: &Analysis, out: &mut String) {
    let rows: Vec<_> = a
        .categories
        .iter()
        .filter_map(|c| c.capacity.as_ref().map(|cap| (c, cap)))
        .collect();
    if rows.is_empty() {
        return;
    }
    let standards = rows.iter().any(|(c, _)| c.plan.standard.is_some());
    let communities = a.community_results.len();
    let _ = writeln!(
        out,
        "Capacity within reach (places per 1,000 counted people within the walk):"
    );
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    let mut header = vec![
        "category",
        "method",
        "capacity",
        "demand in reach",
        "places per 1,000",
    ];
    if standards {
        header.extend(["standard", "communities short", "shortfall (places)"]);
    }
    t.set_header(header);
    let right = |text: String| Cell::new(text).set_alignment(CellAlignment::Right);
    for (c, cap) in rows {
        let mut capacity = format!("{:.0}", cap.total_capacity);
        if cap.without_capacity > 0 {
            capacity.push_str(&format!(" ({} without)", cap.without_capacity));
        }
        let mut row = vec![
            Cell::new(&c.name),
            Cell::new(c.plan.weighting.method()),
            right(capacity),
            right(format!("{:.0}", cap.demand_in_reach)),
            right(per_thousand(cap.city_access(c.counted_population))),
        ];
        if standards {
            match &c.plan.standard {
                Some(st) => {
                    let short = (0..communities).filter(|&n| cap.lacks(n)).count();
                    let shortfall: f64 = (0..communities).map(|n| cap.shortfall(n)).sum();
                    row.extend([
                        right(format!("{} per {}", st.places, st.per)),
                        right(format!("{short} of {communities}")),
                        right(format!("{shortfall:.0}")),
                    ]);
                }
                None => row.extend([right("-".into()), right("-".into()), right("-".into())]),
            }
        }
        t.add_row(row);
    }
    let _ = writeln!(out, "{t}");
}

/// Say which groups had no counts and were counted as the whole population.
fn group_notes(a: &Analysis, out: &mut String) {
    let mut seen: Vec<&str> = Vec::new();
    for c in &a.categories {
        let Some(g) = c.plan.group.as_deref() else {
            continue;
        };
        if seen.contains(&g) || c.group_defaulted == 0 {
            continue;
        }
        seen.push(g);
        let names: Vec<&str> = a
            .categories
            .iter()
            .filter(|x| x.plan.group.as_deref() == Some(g))
            .map(|x| x.name.as_str())
            .collect();
        let who = if c.group_defaulted == a.demand.len() {
            format!("No demand point has the `{g}` property")
        } else {
            format!(
                "{} of {} demand points lack the `{g}` property",
                c.group_defaulted,
                a.demand.len()
            )
        };
        let _ = writeln!(
            out,
            "{who}: {} count{} the whole population there.",
            names.join(", "),
            if names.len() == 1 { "s" } else { "" }
        );
    }
}

/// Name the coordinate systems when any is not WGS84.
fn coords_note(a: &Analysis, out: &mut String) {
    let c = crate::io::coords_summary(a);
    let mut inputs = vec![("facilities", c.facilities)];
    inputs.extend(c.residences.map(|s| ("residences", s)));
    inputs.extend(c.communities.map(|s| ("communities", s)));
    inputs.extend(c.network.map(|s| ("network", s)));
    let wgs84 = Crs::Wgs84.name();
    if inputs.iter().all(|(_, crs)| crs == wgs84) && c.output == wgs84 {
        return;
    }
    let list: Vec<String> = inputs.iter().map(|(f, crs)| format!("{f} {crs}")).collect();
    let _ = writeln!(
        out,
        "Coordinates: {} (measured in wgs84); geometries written in {}.",
        list.join(", "),
        c.output
    );
}
