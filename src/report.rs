//! The readable summary printed after an analysis.

use std::fmt::Write as _;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use crate::analysis::Analysis;

/// How many communities the "worst communities" table lists.
pub const WORST_SHOWN: usize = 10;

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// Coverage per category and the communities with the largest gaps, as text for a terminal.
pub fn text(a: &Analysis) -> String {
    let mut out = String::new();
    let demand = if a.demand_is_communities {
        "community points"
    } else {
        "residences"
    };
    let _ = writeln!(
        out,
        "{} walk within {:.0} m: {} {demand}, population {:.0}, {} facilities, {} communities",
        a.mode,
        a.settings.max_walk_m,
        a.demand.len(),
        a.population,
        a.facilities.len(),
        a.communities.len()
    );
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "category",
        "facilities",
        "covered population",
        "coverage",
        "communities lacking",
    ]);
    for c in &a.categories {
        t.add_row(vec![
            Cell::new(&c.name),
            Cell::new(c.facilities.len()).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.0}", c.covered_population)).set_alignment(CellAlignment::Right),
            Cell::new(percent(c.coverage)).set_alignment(CellAlignment::Right),
            Cell::new(format!(
                "{} of {}",
                c.communities_lacking,
                a.communities.len()
            ))
            .set_alignment(CellAlignment::Right),
        ]);
    }
    let _ = writeln!(out, "{t}");

    let mut worst: Vec<usize> = (0..a.communities.len())
        .filter(|&i| !a.community_results[i].lacking.is_empty())
        .collect();
    worst.sort_by(|&x, &y| {
        let (rx, ry) = (&a.community_results[x], &a.community_results[y]);
        ry.gap_population
            .total_cmp(&rx.gap_population)
            .then(ry.lacking.len().cmp(&rx.lacking.len()))
            .then(x.cmp(&y))
    });
    if worst.is_empty() {
        if !a.communities.is_empty() {
            let _ = writeln!(out, "Every community reaches every category at target.");
        }
    } else {
        let _ = writeln!(
            out,
            "{} of {} communities lack at least one category; the largest gaps:",
            worst.len(),
            a.communities.len()
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
