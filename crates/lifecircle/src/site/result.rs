//! What a siting found: per sited problem the sites in build order, the objective, the bound
//! and the method; the coverage before (the analysis as it stands) and after (the analysis
//! with the sites added).

use super::{fmt_amount, Candidate, Goal, Solver};
use crate::{
    analysis::{Analysis, CommunityResult},
    model::Id,
};

/// How a problem was solved.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// Greedy with lazy gains and local search; `proven_optimal` when the bound meets it.
    Fast {
        /// The bound equals the result: no set of sites does better.
        proven_optimal: bool,
    },
    /// The integer program.
    Exact {
        /// The solver proved the optimum (or the bound meets the result).
        proven_optimal: bool,
        /// The time limit ended the search first: the result is the best found.
        time_limit_reached: bool,
        /// The solver failed (its message); the result is the fast method's.
        error: Option<String>,
    },
}

impl Method {
    /// `fast` or `exact`, as written to the summary.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Fast { .. } => "fast",
            Method::Exact { .. } => "exact",
        }
    }

    /// True when the result is proven optimal.
    pub fn proven_optimal(&self) -> bool {
        match self {
            Method::Fast { proven_optimal } | Method::Exact { proven_optimal, .. } => {
                *proven_optimal
            }
        }
    }
}

/// Demand of a category that lacks it and that no candidate reaches, and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unreached {
    /// Demand points off the street network (farther from every street than the snap limit).
    pub off_network_points: usize,
    /// The people they count.
    pub off_network_population: f64,
    /// Demand points farther than the walk from every candidate.
    pub too_far_points: usize,
    /// The people they count.
    pub too_far_population: f64,
    /// Per community: the people off the network, and the people too far.
    pub by_community: Vec<(f64, f64)>,
}

impl Unreached {
    /// `"; N people are off the network, M too far from every candidate"`, or nothing.
    pub(crate) fn words(&self) -> String {
        let mut parts = Vec::new();
        if self.off_network_points > 0 {
            parts.push(format!(
                "{} people ({} points) are off the street network",
                fmt_amount(self.off_network_population),
                self.off_network_points
            ));
        }
        if self.too_far_points > 0 {
            parts.push(format!(
                "{} people ({} points) are farther than the walk from every candidate",
                fmt_amount(self.too_far_population),
                self.too_far_points
            ));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("; {}", parts.join(", "))
        }
    }

    /// The people no candidate reaches.
    pub fn population(&self) -> f64 {
        self.off_network_population + self.too_far_population
    }
}

/// A chosen site.
#[derive(Debug, Clone, PartialEq)]
pub struct ChosenSite {
    /// Index into [`Siting::candidates`].
    pub candidate: usize,
    /// Its id in the outputs (the candidate's, prefixed by its categories when several
    /// categories are sited each on its own, or by `new-` when an existing facility has it).
    pub id: Id,
    /// 1 for the first to build.
    pub rank: usize,
    /// The people it adds at its rank (counted, summed over the categories it hosts).
    pub new_covered_population: f64,
    /// Per category of the problem, the people covered once it and those before it are built
    /// (existing facilities included).
    pub cumulative_covered: Vec<f64>,
    /// Its cost, when given.
    pub cost: Option<f64>,
    /// The cost of it and those before it.
    pub cumulative_cost: f64,
}

/// One sited problem: the categories sited together (all of them for a centre, one each
/// otherwise) and what was chosen.
#[derive(Debug, Clone)]
pub struct SitePlan {
    /// Indices of the categories (into [`Analysis::categories`] of [`Siting::before`]).
    pub categories: Vec<usize>,
    /// The sites, in the order to build them.
    pub sites: Vec<ChosenSite>,
    /// The objective reached: the number of sites (fewest-sites goals), or the people newly
    /// covered (maximal covering).
    pub objective: f64,
    /// The bound on the optimum: a lower bound on the number of sites, or an upper bound on
    /// the people newly covered. Equal to `objective` when proven optimal.
    pub bound: f64,
    /// `|objective - bound| / objective` (0 when proven optimal): how far from the optimum the
    /// result can be.
    pub gap: f64,
    /// How it was solved.
    pub method: Method,
    /// Time spent solving, seconds.
    pub seconds: f64,
    /// Elements of the reduced problem (demand points merged by their candidate sets).
    pub elements: usize,
    /// Demand points (per category) that went into the elements.
    pub demand_points: usize,
    /// Element-candidate pairs of the reduced problem.
    pub pairs: usize,
    /// Candidates that reach some demand lacking a category of the problem.
    pub candidates_in_reach: usize,
    /// Per category of the problem: demand lacking it that no candidate reaches.
    pub unreached: Vec<Unreached>,
    /// A remark on the result (fewer sites than asked add coverage), if any.
    pub note: Option<String>,
}

/// Coverage of one category after the plan, as the analysis measures it.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryAfter {
    /// The people the category counts within reach.
    pub covered_population: f64,
    /// Over the people it counts.
    pub coverage: f64,
    /// Everyone within reach.
    pub covered_everyone: f64,
    /// Over the whole population.
    pub coverage_everyone: f64,
    /// Communities below the target.
    pub communities_lacking: usize,
}

/// The analysis with the new sites added: per category and per community.
#[derive(Debug)]
pub struct After {
    /// Per category, in the order of the analysis before.
    pub categories: Vec<CategoryAfter>,
    /// Per community, in the order of the analysis before.
    pub communities: Vec<CommunityResult>,
}

impl After {
    pub(crate) fn from_analysis(a: Analysis<'_>) -> Self {
        Self {
            categories: a
                .categories
                .iter()
                .map(|c| CategoryAfter {
                    covered_population: c.covered_population,
                    coverage: c.coverage,
                    covered_everyone: c.covered_everyone,
                    coverage_everyone: c.coverage_everyone,
                    communities_lacking: c.communities_lacking,
                })
                .collect(),
            communities: a.community_results,
        }
    }

    /// Number of communities that lack at least one category after the plan.
    pub fn communities_lacking(&self) -> usize {
        self.communities
            .iter()
            .filter(|r| !r.lacking.is_empty())
            .count()
    }
}

/// A finished siting.
#[derive(Debug)]
pub struct Siting<'a> {
    /// The analysis as it stands, with the existing facilities only.
    pub before: Analysis<'a>,
    /// The analysis with the new sites added.
    pub after: After,
    /// The candidates, given or generated.
    pub candidates: Vec<Candidate>,
    /// For generated candidates, how many were generated (the length of `candidates`).
    pub candidates_generated: Option<usize>,
    /// Candidates within the walk of some demand that lacks a sited category (the others are
    /// never chosen).
    pub candidates_in_reach: usize,
    /// Where the candidates came from (`file`, `grid:250m`, `streets`, `communities`).
    pub candidate_source: String,
    /// The goal.
    pub goal: Goal,
    /// The solver asked for.
    pub solver: Solver,
    /// One problem per sited category, or one for the centre.
    pub plans: Vec<SitePlan>,
}

impl Siting<'_> {
    /// Number of new sites over every problem.
    pub fn sites(&self) -> usize {
        self.plans.iter().map(|p| p.sites.len()).sum()
    }
}
