//! The readable summary of a siting, for a terminal: sites needed, coverage before and after
//! per category, and the communities that still lack a category after the plan, and why.

use std::fmt::Write as _;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};

use super::{fmt_amount, Goal, Method, Siting};

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

fn right(text: String) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

/// Most sites listed per problem.
const SITES_SHOWN: usize = 15;

/// The summary of a siting as text.
pub fn text(s: &Siting<'_>) -> String {
    let a = &s.before;
    let mut out = String::new();
    let candidates = match s.candidates_generated {
        Some(g) => format!(
            "{g} candidates from {}, {} of them within the walk of demand lacking a sited category",
            s.candidate_source, s.candidates_in_reach
        ),
        None => format!(
            "{} candidates from the file, {} of them within the walk of demand lacking a sited category",
            s.candidates.len(),
            s.candidates_in_reach
        ),
    };
    // Only communities with residents are judged (as in `analyze`).
    let populated = a.populated_communities();
    let communities = match a.communities.len() - populated {
        0 => format!("{populated} communities"),
        empty => format!("{populated} communities with residents ({empty} without)"),
    };
    let _ = writeln!(
        out,
        "{} walk: {} demand points, population {}, {} existing facilities, {communities}; goal {}; {candidates}",
        a.mode,
        a.demand.len(),
        fmt_amount(a.population),
        a.facilities.len(),
        s.goal.label(),
    );
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header([
        "category",
        "counts",
        "new sites",
        "coverage before",
        "coverage after",
        "communities lacking before",
        "after",
        "no candidate reaches",
    ]);
    for p in &s.plans {
        for (k, &c) in p.categories.iter().enumerate() {
            let cat = &a.categories[c];
            let after = &s.after.categories[c];
            let u = &p.unreached[k];
            t.add_row([
                Cell::new(&cat.name),
                Cell::new(cat.plan.counts()),
                right(p.sites.len().to_string()),
                right(percent(cat.coverage)),
                right(percent(after.coverage)),
                right(format!("{} of {populated}", cat.communities_lacking)),
                right(format!("{} of {populated}", after.communities_lacking)),
                right(fmt_amount(u.population())),
            ]);
        }
    }
    let _ = writeln!(out, "{t}");
    for p in &s.plans {
        let names: Vec<&str> = p
            .categories
            .iter()
            .map(|&c| a.categories[c].name.as_str())
            .collect();
        let what = if names.len() > 1 {
            "centres".to_string()
        } else {
            format!("{} sites", names[0])
        };
        let objective = match s.goal {
            Goal::New(_) | Goal::Budget(_) => format!(
                "{} people newly covered (bound {})",
                fmt_amount(p.objective),
                fmt_amount(p.bound)
            ),
            _ => format!("{} new {what} (lower bound {})", p.sites.len(), p.bound),
        };
        let quality = match &p.method {
            Method::Fast {
                proven_optimal: true,
            } => "fast method, proven optimal by the bound".to_string(),
            Method::Fast { .. } => {
                format!("fast method, within {:.1} % of the optimum", p.gap * 100.0)
            }
            Method::Exact {
                proven_optimal: true,
                ..
            } => "exact, proven optimal".to_string(),
            Method::Exact { error: Some(e), .. } => format!(
                "the exact solver failed ({e}); fast method, within {:.1} % of the optimum",
                p.gap * 100.0
            ),
            Method::Exact { .. } => format!(
                "exact, time limit reached: best found, within {:.1} % of the optimum",
                p.gap * 100.0
            ),
        };
        let _ = writeln!(out, "{objective}: {quality} ({:.2} s).", p.seconds);
        if let Some(note) = &p.note {
            let _ = writeln!(out, "Note: {note}.");
        }
        if !p.sites.is_empty() {
            let mut t = Table::new();
            t.load_style(UTF8_FULL_CONDENSED);
            t.set_header(["rank", "id", "name", "adds (people)", "cost"]);
            for site in p.sites.iter().take(SITES_SHOWN) {
                let c = &s.candidates[site.candidate];
                t.add_row([
                    right(site.rank.to_string()),
                    Cell::new(site.id.to_string()),
                    Cell::new(c.name.as_deref().unwrap_or("")),
                    right(fmt_amount(site.new_covered_population)),
                    right(site.cost.map(fmt_amount).unwrap_or_default()),
                ]);
            }
            let _ = writeln!(out, "{t}");
            if p.sites.len() > SITES_SHOWN {
                let _ = writeln!(
                    out,
                    "... and {} more (sites.geojson has them all)",
                    p.sites.len() - SITES_SHOWN
                );
            }
        }
    }
    let lacking: Vec<usize> = (0..a.communities.len())
        .filter(|&n| {
            s.after
                .communities
                .get(n)
                .is_some_and(|r| !r.lacking.is_empty())
        })
        .collect();
    if lacking.is_empty() {
        let _ = writeln!(out, "After the plan no community lacks a sited category.");
    } else {
        let _ = writeln!(
            out,
            "{} of {populated} communities with residents still lack a category after the plan:",
            lacking.len(),
        );
        for &n in lacking.iter().take(SITES_SHOWN) {
            let c = &a.communities[n];
            let r = &s.after.communities[n];
            let why: Vec<String> = r
                .lacking
                .iter()
                .map(|&j| {
                    let reason = s
                        .plans
                        .iter()
                        .find_map(|p| {
                            let k = p.categories.iter().position(|&c| c == j)?;
                            let (off, far) = p.unreached[k]
                                .by_community
                                .get(n)
                                .copied()
                                .unwrap_or((0.0, 0.0));
                            Some(match (off > 0.0, far > 0.0) {
                                (true, true) => format!(
                                    "{} people off the network, {} beyond every candidate's walk",
                                    fmt_amount(off),
                                    fmt_amount(far)
                                ),
                                (true, false) => {
                                    format!("{} people off the street network", fmt_amount(off))
                                }
                                (false, true) => format!(
                                    "{} people beyond every candidate's walk",
                                    fmt_amount(far)
                                ),
                                (false, false) => "the goal does not ask for more".to_string(),
                            })
                        })
                        .unwrap_or_default();
                    format!("{} ({reason})", a.categories[j].name)
                })
                .collect();
            let name = c
                .name
                .as_deref()
                .map(|x| format!(" {x}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {}{name}: {}", c.id, why.join("; "));
        }
        if lacking.len() > SITES_SHOWN {
            let _ = writeln!(
                out,
                "  ... and {} more (communities.geojson, lacking_after)",
                lacking.len() - SITES_SHOWN
            );
        }
    }
    out
}
