//! Where to build: the fewest new sites (or the best `N`, or the best within a budget) that
//! close the gaps [`analyze`] finds, with the existing facilities kept as they
//! are.
//!
//! [`site`] runs the analysis once as it stands (`before`), builds the candidates' coverage
//! sets from [`PreparedDemand::within`](crate::PreparedDemand::within) (one [`Pairs`] table
//! per category, the candidates as facilities), merges demand points reached by the same
//! candidates (`coverage`), solves (greedy with a bound, or exact: `greedy`, `exact`),
//! orders the sites for building, and runs the analysis again with the chosen sites added
//! (`after`), so that the coverage it reports after the plan is what `analyze` measures.

use std::time::{Duration, Instant};

use rayon::prelude::*;

mod candidates;
mod coverage;
mod error;
mod exact;
mod greedy;
pub mod report;
mod result;
#[cfg(test)]
mod tests;

pub use self::{
    candidates::{read_candidates, Candidate, CandidateSource},
    error::SiteError,
    result::{After, CategoryAfter, ChosenSite, Method, SitePlan, Siting, Unreached},
};
use self::{
    coverage::{CategoryCover, Instance},
    greedy::{Objective, State, TOLERANCE},
};
use crate::{
    analysis::{analyze, counted_people, Analysis, Inputs, Plan, Progress},
    coords::{self, Crs},
    error::Result,
    geodesy::LonLat,
    io::GroupCounts,
    model::{Facility, Id},
    walk::{Pairs, WalkingDistance},
};

/// What each new site hosts.
#[derive(Debug, Clone, PartialEq)]
pub enum Hosting {
    /// Site these categories (profile keys, aliases, or local extras), each on its own: every
    /// category gets its own sites.
    Categories(Vec<String>),
    /// Every new site is a neighbourhood centre hosting every category of the plan (the
    /// profile's own categories, or those the plan lists).
    Centre,
}

/// What to optimise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Goal {
    /// The fewest new sites that cover everyone some candidate can reach, in every category.
    Full,
    /// The fewest new sites so that at least this share (percent) of the people each category
    /// counts is covered.
    Percent(f64),
    /// The fewest new sites so that no community lacks a sited category (each reaches the
    /// category's target share).
    Communities,
    /// Exactly this many new sites, covering the most people (counted, summed over the sited
    /// categories).
    New(usize),
    /// New sites whose costs add up to at most this, covering the most people.
    Budget(f64),
}

impl Goal {
    /// The goal in words, for summaries.
    pub fn label(&self) -> String {
        match self {
            Goal::Full => "full".into(),
            Goal::Percent(p) => format!("{p}%"),
            Goal::Communities => "communities".into(),
            Goal::New(n) => format!("new {n}"),
            Goal::Budget(b) => format!("budget {b}"),
        }
    }
}

/// How to solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    /// The fast method, then the exact one when the bound leaves a gap and the reduced problem
    /// is small enough to solve within the time limit.
    #[default]
    Auto,
    /// The exact method (integer program), within the time limit.
    Exact,
    /// The fast method only: greedy, local search, and a bound.
    Fast,
}

/// Everything [`site`] needs besides the inputs, the plan and the walking model.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    /// What each site hosts.
    pub hosting: Hosting,
    /// Where candidates come from.
    pub candidates: CandidateSource,
    /// What to optimise.
    pub goal: Goal,
    /// How to solve.
    pub solver: Solver,
    /// The longest the exact solver may search, per sited problem.
    pub time_limit: Duration,
}

/// Largest reduced problem (elements plus element-candidate pairs) the automatic choice hands
/// to the exact solver.
pub const AUTO_EXACT_LIMIT: usize = 2_000_000;

/// The most grid candidates [`CandidateSource::Grid`] generates.
pub const MAX_GRID_CANDIDATES: usize = 5_000_000;

/// Choose new sites for `options.goal` and measure the coverage before and after.
///
/// The existing facilities are fixed: they cost nothing, and the demand they already cover is
/// covered before any site is chosen. Demand no candidate reaches is reported apart
/// ([`SitePlan::unreached`]).
///
/// # Errors
/// Those of [`analyze`]; a [`SiteError`] for no candidates, candidates that reach nobody, an
/// unknown category, a goal out of range or that no set of candidates reaches, more sites than
/// candidates, or a budget without costs or below the cheapest site.
pub fn site<'a>(
    inputs: Inputs<'a>,
    plan: Plan,
    walking: &dyn WalkingDistance,
    options: &SiteOptions,
    progress: &dyn Progress,
) -> Result<Siting<'a>> {
    check_goal(options.goal)?;
    let names: Vec<String> = match &options.hosting {
        Hosting::Categories(list) => list.clone(),
        Hosting::Centre => match plan.categories() {
            Some(list) => list.to_vec(),
            None => plan
                .profile()
                .categories
                .iter()
                .map(|c| c.key.clone())
                .collect(),
        },
    };
    let plan = plan.with_categories(names);
    let groups = inputs.groups;
    let population_defaulted = inputs.population_defaulted;
    let before = analyze(inputs, plan.clone(), walking, progress)?;
    for c in &before.categories {
        if c.plan.extra && c.facilities.is_empty() {
            let profile = plan.profile();
            return Err(SiteError::UnknownCategory {
                name: c.name.clone(),
                profile: profile.name.clone(),
                known: profile
                    .categories
                    .iter()
                    .map(|c| c.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
            .into());
        }
    }

    progress.stage("placing candidate sites");
    let (candidates, generated) = resolve_candidates(
        &options.candidates,
        &before,
        walking,
        plan.coords().facilities,
    )?;
    // Only demand that lacks a sited category can gain from a new site.
    let lacking: Vec<u32> = (0..before.demand.len())
        .into_par_iter()
        .filter(|&i| before.categories.iter().any(|c| !c.within(i)))
        .map(|i| i as u32)
        .collect();
    let points: Vec<LonLat> = lacking
        .iter()
        .map(|&i| before.demand[i as usize].at)
        .collect();
    let prepared = walking.prepare(&points);
    let unplaced = prepared.unplaced();
    let at: Vec<LonLat> = candidates.iter().map(|c| c.at).collect();
    // One table per distinct walk: the longest is measured, and a shorter walk's pairs are
    // those of the longest that are no longer (a search bounded by the shorter walk finds
    // exactly these), so categories that share a walk share one search and one table.
    let mut walks: Vec<f64> = before
        .categories
        .iter()
        .map(|c| c.plan.max_walk_m)
        .collect();
    walks.sort_by(|a, b| b.total_cmp(a));
    walks.dedup();
    let mut tables: Vec<Pairs> = Vec::with_capacity(walks.len());
    for (k, &walk_m) in walks.iter().enumerate() {
        let names: Vec<&str> = before
            .categories
            .iter()
            .filter(|c| c.plan.max_walk_m == walk_m)
            .map(|c| c.name.as_str())
            .collect();
        progress.stage(&format!(
            "measuring candidate coverage for {}",
            names.join(", ")
        ));
        tables.push(match tables.first() {
            Some(longest) if k > 0 => longest.no_longer_than(walk_m),
            _ => prepared.within(&at, walk_m),
        });
    }
    drop(prepared);
    let pairs: Vec<&Pairs> = before
        .categories
        .iter()
        .map(|c| {
            let k = walks
                .iter()
                .position(|&w| w == c.plan.max_walk_m)
                .unwrap_or(0);
            &tables[k]
        })
        .collect();
    // Candidates out of reach of every demand point that lacks a sited category stay in the
    // list (their indices are the pairs' indices) but are never chosen.
    let candidates_in_reach = (0..candidates.len())
        .into_par_iter()
        .filter(|&j| pairs.iter().any(|p| !p.of_facility(j).0.is_empty()))
        .count();
    let candidates_generated = if generated { Some(at.len()) } else { None };
    if candidates_in_reach == 0 {
        let off = walking
            .prepare(&at)
            .unplaced()
            .iter()
            .filter(|u| **u)
            .count();
        return Err(SiteError::CandidatesOutOfReach {
            candidates: at.len(),
            off_network: off,
            detail: format!(
                "the nearest demand is farther than the walk ({})",
                before
                    .categories
                    .iter()
                    .map(|c| format!("{} {} m", c.name, c.plan.max_walk_m))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
        .into());
    }
    check_costs(options.goal, &candidates)?;

    // The people each category counts, per demand point (as the analysis counts them).
    let no_groups = GroupCounts::default();
    let groups = groups
        .filter(|g| g.counts.len() == before.demand.len() * g.names.len())
        .unwrap_or(&no_groups);
    let weights: Vec<Vec<f64>> = before
        .categories
        .iter()
        .map(|c| counted_people(c, &before.demand, groups))
        .collect();

    let problems: Vec<Vec<usize>> = match options.hosting {
        Hosting::Centre => vec![(0..before.categories.len()).collect()],
        Hosting::Categories(_) => (0..before.categories.len()).map(|c| vec![c]).collect(),
    };
    let mut plans = Vec::with_capacity(problems.len());
    for cats in problems {
        let label = cats
            .iter()
            .map(|&c| before.categories[c].name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        progress.stage(&format!("choosing sites for {label}"));
        plans.push(solve_problem(
            &before,
            &candidates,
            &pairs,
            &weights,
            &lacking,
            &unplaced,
            &cats,
            options,
        )?);
    }

    progress.stage("measuring coverage with the new sites");
    let after = measure_after(
        &before,
        &plan,
        &candidates,
        &mut plans,
        walking,
        groups,
        population_defaulted,
        progress,
    )?;
    Ok(Siting {
        before,
        after,
        candidates,
        candidates_generated,
        candidates_in_reach,
        candidate_source: options.candidates.label(),
        goal: options.goal,
        solver: options.solver,
        plans,
    })
}

fn check_goal(goal: Goal) -> Result<()> {
    let bad = |value: String, reason: &str| -> Result<()> {
        Err(SiteError::Goal {
            value,
            reason: reason.into(),
        }
        .into())
    };
    match goal {
        Goal::Percent(p) if !(p > 0.0 && p <= 100.0) => bad(
            format!("{p}"),
            "must be a percentage above 0 and at most 100",
        ),
        Goal::New(0) => bad("new 0".into(), "ask for 1 new site or more"),
        Goal::Budget(b) if !(b.is_finite() && b >= 0.0) => Err(SiteError::Budget {
            budget: b,
            reason: "must be a number of 0 or more".into(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// The candidates (in WGS84) and whether they were generated.
fn resolve_candidates(
    source: &CandidateSource,
    before: &Analysis<'_>,
    walking: &dyn WalkingDistance,
    given_crs: Crs,
) -> Result<(Vec<Candidate>, bool)> {
    let (list, generated) = match source {
        CandidateSource::Given(list) => {
            let list: Vec<Candidate> = list
                .iter()
                .map(|c| Candidate {
                    at: candidates::round7(coords::convert(c.at, given_crs, Crs::Wgs84)),
                    ..c.clone()
                })
                .collect();
            (list, false)
        }
        CandidateSource::Grid { spacing_m } => {
            if !(spacing_m.is_finite() && *spacing_m > 0.0) {
                return Err(SiteError::NoCandidates(format!(
                    "the grid spacing must be a positive distance, got {spacing_m} m"
                ))
                .into());
            }
            let list = candidates::grid(&before.demand, *spacing_m);
            if list.len() > MAX_GRID_CANDIDATES {
                return Err(SiteError::NoCandidates(format!(
                    "a {spacing_m} m grid over the demand has {} points, more than {MAX_GRID_CANDIDATES}; choose a wider spacing",
                    list.len()
                ))
                .into());
            }
            (list, true)
        }
        CandidateSource::Streets => match walking.junctions() {
            Some(j) => (candidates::at_junctions(&j), true),
            None => {
                return Err(SiteError::NoCandidates(
                    "candidates from streets need a street network to walk along".into(),
                )
                .into())
            }
        },
        CandidateSource::Communities => (candidates::at_communities(&before.communities), true),
    };
    if list.is_empty() {
        return Err(SiteError::NoCandidates(format!("{} gives none", source.label())).into());
    }
    Ok((list, generated))
}

/// Costs must be given for a budget, by every candidate, and the budget must afford one.
fn check_costs(goal: Goal, candidates: &[Candidate]) -> Result<()> {
    match goal {
        Goal::New(n) if n > candidates.len() => Err(SiteError::TooManySites {
            asked: n,
            candidates: candidates.len(),
        }
        .into()),
        Goal::Budget(b) => {
            let err = |reason: String| -> Result<()> {
                Err(SiteError::Budget { budget: b, reason }.into())
            };
            if candidates.iter().all(|c| c.cost.is_none()) {
                return err(
                    "no candidate site has a cost (give candidates with a `cost` property)".into(),
                );
            }
            if let Some(c) = candidates.iter().find(|c| c.cost.is_none()) {
                return err(format!(
                    "candidate \"{}\" has no cost while others have one",
                    c.id
                ));
            }
            let cheapest = candidates
                .iter()
                .filter_map(|c| c.cost)
                .fold(f64::INFINITY, f64::min);
            if b < cheapest {
                return err(format!(
                    "below the cheapest candidate site, which costs {cheapest}"
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Build one covering problem (the categories `cats` together), solve it, order its sites.
#[allow(clippy::too_many_arguments)]
fn solve_problem(
    before: &Analysis<'_>,
    candidates: &[Candidate],
    pairs: &[&Pairs],
    weights: &[Vec<f64>],
    subset: &[u32],
    unplaced: &[bool],
    cats: &[usize],
    options: &SiteOptions,
) -> Result<SitePlan> {
    // The demand points of the pairs tables: `subset[i]` is demand point `i`'s index.
    let n = subset.len();
    let d = |i: usize| subset[i] as usize;
    let n_comm = before.communities.len();
    let community_of = |demand: usize| (before.demand_community[demand] as usize).min(n_comm);
    let per_cat_groups = if options.goal == Goal::Communities {
        n_comm + 1
    } else {
        1
    };
    let groups = cats.len() * per_cat_groups;
    let mut skips = Vec::with_capacity(cats.len());
    let mut group_of = Vec::with_capacity(cats.len());
    let mut local_weights = Vec::with_capacity(cats.len());
    let mut unreached = Vec::with_capacity(cats.len());
    for (k, &c) in cats.iter().enumerate() {
        let cat = &before.categories[c];
        let w: Vec<f64> = (0..n).map(|i| weights[c][d(i)]).collect();
        let skip: Vec<bool> = (0..n).map(|i| cat.within(d(i)) || w[i] <= 0.0).collect();
        let mut reached = vec![false; n];
        for (_, i, _) in pairs[c].iter() {
            reached[i] = true;
        }
        let mut u = Unreached {
            by_community: vec![(0.0, 0.0); n_comm],
            ..Unreached::default()
        };
        for i in (0..n).filter(|&i| !skip[i] && !reached[i]) {
            let com = u
                .by_community
                .get_mut(before.demand_community[d(i)] as usize);
            if unplaced.get(i).copied().unwrap_or(false) {
                u.off_network_points += 1;
                u.off_network_population += w[i];
                if let Some(x) = com {
                    x.0 += w[i];
                }
            } else {
                u.too_far_points += 1;
                u.too_far_population += w[i];
                if let Some(x) = com {
                    x.1 += w[i];
                }
            }
        }
        unreached.push(u);
        let group: Vec<u32> = (0..n)
            .map(|i| {
                let within = if options.goal == Goal::Communities {
                    community_of(d(i))
                } else {
                    0
                };
                (k * per_cat_groups + within) as u32
            })
            .collect();
        skips.push(skip);
        local_weights.push(w);
        group_of.push(group);
    }
    let covers: Vec<CategoryCover<'_>> = cats
        .iter()
        .enumerate()
        .map(|(k, &c)| CategoryCover {
            pairs: pairs[c],
            skip: &skips[k],
            weight: &local_weights[k],
            group: &group_of[k],
        })
        .collect();
    let mut inst = Instance::build(candidates.len(), &covers);
    drop(covers);
    inst.cost = candidates.iter().map(|c| c.cost.unwrap_or(0.0)).collect();
    let reachable = inst.group_weight(groups);
    // Per group: what is needed, and whether it is all of the reachable demand.
    let (need, full): (Vec<f64>, Vec<bool>) = match options.goal {
        Goal::Full | Goal::New(_) | Goal::Budget(_) => (reachable.clone(), vec![true; groups]),
        Goal::Percent(p) => {
            let mut need = Vec::with_capacity(groups);
            for (k, &c) in cats.iter().enumerate() {
                let cat = &before.categories[c];
                let want = p / 100.0 * cat.counted_population * (1.0 + TOLERANCE);
                let short = (want - cat.covered_population).max(0.0);
                if short > reachable[k] * (1.0 + TOLERANCE) {
                    let best = if cat.counted_population > 0.0 {
                        100.0 * (cat.covered_population + reachable[k]) / cat.counted_population
                    } else {
                        0.0
                    };
                    return Err(SiteError::GoalUnreachable {
                        goal: format!("{p} % coverage of {}", cat.name),
                        best: format!(
                            "all candidates together reach {best:.2} % ({} of {} counted people){}",
                            fmt_amount(cat.covered_population + reachable[k]),
                            fmt_amount(cat.counted_population),
                            unreached[k].words()
                        ),
                    }
                    .into());
                }
                need.push(short.min(reachable[k]));
            }
            let full = need
                .iter()
                .zip(&reachable)
                .map(|(n, r)| *n >= *r * (1.0 - TOLERANCE))
                .collect();
            (need, full)
        }
        Goal::Communities => {
            let mut need = vec![0.0; groups];
            let mut covered = vec![0.0; groups];
            let mut counted = vec![0.0; groups];
            for (k, &c) in cats.iter().enumerate() {
                let cat = &before.categories[c];
                for (i, &w) in weights[c].iter().enumerate() {
                    let g = k * per_cat_groups + community_of(i);
                    counted[g] += w;
                    if cat.within(i) {
                        covered[g] += w;
                    }
                }
                let mut lacking: Vec<String> = Vec::new();
                for com in 0..n_comm {
                    let g = k * per_cat_groups + com;
                    let want = cat.plan.target_percent / 100.0 * counted[g] * (1.0 + TOLERANCE);
                    let short = (want - covered[g]).max(0.0);
                    if short > reachable[g] * (1.0 + TOLERANCE) {
                        let c = &before.communities[com];
                        lacking.push(format!(
                            "{} reaches at most {:.1} %",
                            c.name
                                .as_deref()
                                .map_or_else(|| c.id.to_string(), |n| format!("{n} ({})", c.id)),
                            100.0 * (covered[g] + reachable[g]) / counted[g]
                        ));
                    }
                    need[g] = short.min(reachable[g]);
                }
                if !lacking.is_empty() {
                    return Err(SiteError::GoalUnreachable {
                        goal: format!(
                            "no community lacking {} (target {} %)",
                            cat.name, cat.plan.target_percent
                        ),
                        best: format!(
                            "{} communit{} cannot reach the target with every candidate built: {}",
                            lacking.len(),
                            if lacking.len() == 1 { "y" } else { "ies" },
                            lacking.join("; ")
                        ),
                    }
                    .into());
                }
            }
            let full = need
                .iter()
                .zip(&reachable)
                .map(|(n, r)| *r > 0.0 && *n >= *r * (1.0 - TOLERANCE))
                .collect();
            (need, full)
        }
    };
    inst.need = need;
    inst.full = full;
    let objective = match options.goal {
        Goal::New(n) => Objective::MaxCount(n),
        Goal::Budget(b) => Objective::MaxBudget(b),
        _ => Objective::Cover,
    };
    let started = Instant::now();
    let solved = solve(&inst, objective, options);
    let seconds = started.elapsed().as_secs_f64();

    // The order to build them in, and the coverage after each.
    let order = greedy::build_order(&inst, &solved.sites);
    let mut state = State::new(&inst);
    let mut sites = Vec::with_capacity(order.len());
    let mut cumulative_cost = 0.0;
    for (rank, &(j, added)) in order.iter().enumerate() {
        state.add(j);
        let covered = state.covered_by_group();
        let candidate = &candidates[j as usize];
        cumulative_cost += candidate.cost.unwrap_or(0.0);
        let newly: Vec<f64> = (0..cats.len())
            .map(|k| {
                covered[k * per_cat_groups..(k + 1) * per_cat_groups]
                    .iter()
                    .sum()
            })
            .collect();
        sites.push(ChosenSite {
            candidate: j as usize,
            id: candidate.id.clone(),
            rank: rank + 1,
            new_covered_population: added,
            cumulative_covered: cats
                .iter()
                .zip(&newly)
                .map(|(&c, x)| before.categories[c].covered_population + x)
                .collect(),
            cost: candidate.cost,
            cumulative_cost,
        });
    }
    let (objective_value, gap) = match objective {
        Objective::Cover => {
            let found = solved.sites.len() as f64;
            (
                found,
                if found > 0.0 {
                    (found - solved.bound).max(0.0) / found
                } else {
                    0.0
                },
            )
        }
        _ => {
            let found = State::with(&inst, &solved.sites).covered_weight();
            (
                found,
                if solved.bound > 0.0 {
                    ((solved.bound - found) / solved.bound).max(0.0)
                } else {
                    0.0
                },
            )
        }
    };
    let note = match objective {
        Objective::MaxCount(n) if solved.sites.len() < n => Some(format!(
            "only {} new sites add coverage; the other {} would cover nobody new",
            solved.sites.len(),
            n - solved.sites.len()
        )),
        _ => None,
    };
    Ok(SitePlan {
        categories: cats.to_vec(),
        sites,
        objective: objective_value,
        bound: solved.bound,
        gap,
        method: solved.method,
        seconds,
        elements: inst.elements(),
        demand_points: inst.demand_points,
        pairs: inst.e_cand.len(),
        candidates_in_reach: (0..inst.candidates)
            .filter(|&j| !inst.of_candidate(j).is_empty())
            .count(),
        unreached,
        note,
    })
}

/// The sites chosen, the bound on the optimum, and how they were found.
struct Solved {
    sites: Vec<u32>,
    bound: f64,
    method: Method,
}

fn solve(inst: &Instance, objective: Objective, options: &SiteOptions) -> Solved {
    let mut s = greedy::greedy(inst, objective);
    let greedy_order = s.order().to_vec();
    match objective {
        Objective::Cover => greedy::drop_redundant(&mut s),
        _ => greedy::swap(&mut s, objective, Instant::now() + options.time_limit),
    }
    let bound = greedy::bound(inst, &greedy_order, &s, objective);
    let fast = s.order().to_vec();
    let fast_value = value_of(inst, objective, &fast);
    let closed = match objective {
        Objective::Cover => fast_value <= bound,
        _ => fast_value >= bound * (1.0 - TOLERANCE),
    };
    let size = inst.elements() + inst.e_cand.len();
    let try_exact = match options.solver {
        Solver::Fast => false,
        Solver::Exact => !closed,
        Solver::Auto => !closed && size <= AUTO_EXACT_LIMIT,
    };
    if closed {
        return Solved {
            sites: fast,
            bound: if objective == Objective::Cover {
                bound.min(fast_value)
            } else {
                fast_value
            },
            method: Method::Fast {
                proven_optimal: true,
            },
        };
    }
    if !try_exact {
        return Solved {
            sites: fast,
            bound,
            method: Method::Fast {
                proven_optimal: false,
            },
        };
    }
    match exact::solve(inst, objective, &fast, options.time_limit) {
        Ok(e) => {
            // Keep the solver's sites only when they meet the goal and are no worse.
            let valid = e.sites.filter(|sites| {
                let st = State::with(inst, sites);
                match objective {
                    Objective::Cover => st.met() && sites.len() <= fast.len(),
                    Objective::MaxCount(n) => sites.len() <= n && st.covered_weight() >= fast_value,
                    Objective::MaxBudget(b) => {
                        st.cost() <= b * (1.0 + TOLERANCE) && st.covered_weight() >= fast_value
                    }
                }
            });
            let sites = valid.unwrap_or(fast);
            let value = value_of(inst, objective, &sites);
            let solver_bound = e.bound.unwrap_or(match objective {
                Objective::Cover => 0.0,
                _ => f64::INFINITY,
            });
            let bound = match objective {
                // The solver's bound on the count may be fractional: any count is whole.
                Objective::Cover => bound.max((solver_bound - 1e-6).ceil()).min(value),
                _ => bound.min(solver_bound).max(value),
            };
            let proven = e.optimal
                || match objective {
                    Objective::Cover => value <= bound,
                    _ => value >= bound * (1.0 - TOLERANCE),
                };
            Solved {
                sites,
                bound: if proven { value } else { bound },
                method: Method::Exact {
                    proven_optimal: proven,
                    time_limit_reached: !proven,
                    error: None,
                },
            }
        }
        Err(error) => Solved {
            sites: fast,
            bound,
            method: Method::Exact {
                proven_optimal: false,
                time_limit_reached: false,
                error: Some(error),
            },
        },
    }
}

fn value_of(inst: &Instance, objective: Objective, sites: &[u32]) -> f64 {
    match objective {
        Objective::Cover => sites.len() as f64,
        _ => State::with(inst, sites).covered_weight(),
    }
}

/// Run the analysis again with the chosen sites added to the existing facilities.
#[allow(clippy::too_many_arguments)]
fn measure_after(
    before: &Analysis<'_>,
    plan: &Plan,
    candidates: &[Candidate],
    plans: &mut [SitePlan],
    walking: &dyn WalkingDistance,
    groups: &GroupCounts,
    population_defaulted: usize,
    progress: &dyn Progress,
) -> Result<After> {
    let mut facilities: Vec<Facility> = before.facilities.to_vec();
    let taken: std::collections::HashSet<&Id> = before.facilities.iter().map(|f| &f.id).collect();
    let several = plans.len() > 1;
    let mut new_ids: Vec<Vec<Id>> = Vec::with_capacity(plans.len());
    for p in plans.iter() {
        let cats: Vec<&str> = p
            .categories
            .iter()
            .map(|&c| before.categories[c].name.as_str())
            .collect();
        let mut ids = Vec::with_capacity(p.sites.len());
        for s in &p.sites {
            let c = &candidates[s.candidate];
            let mut id = if several {
                Id::Text(format!("{}:{}", cats.join("+"), c.id).into())
            } else {
                c.id.clone()
            };
            if taken.contains(&id) {
                id = Id::Text(format!("new-{id}").into());
            }
            let mut f = Facility::new(id.clone(), c.at, &cats)?;
            if let Some(name) = &c.name {
                f = f.with_name(name.clone());
            }
            facilities.push(f);
            ids.push(id);
        }
        new_ids.push(ids);
    }
    for (p, ids) in plans.iter_mut().zip(new_ids) {
        for (s, id) in p.sites.iter_mut().zip(ids) {
            s.id = id;
        }
    }
    let mut inputs = Inputs::new(&facilities).groups(groups);
    inputs.population_defaulted = population_defaulted;
    if !before.demand_is_communities {
        inputs = inputs.residences(&before.demand);
    }
    if before.communities_given || before.demand_is_communities {
        inputs = inputs.communities(&before.communities);
    }
    let after = analyze(inputs, plan.clone().with_wgs84_inputs(), walking, progress)?;
    Ok(After::from_analysis(after))
}

/// A population for messages: whole numbers without decimals.
pub(crate) fn fmt_amount(v: f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{}", v.round())
    } else {
        format!("{v:.1}")
    }
}
