//! The solvers against exhaustive enumeration of every subset of candidates, on small random
//! instances (seeds printed), for every objective; and the hand case where greedy is not
//! optimal.

use std::time::Duration;

use lifecircle_synth::{rng, Rng};
use rand::RngExt;

use super::{
    coverage::Instance,
    greedy::{self, Objective, State},
    solve, CandidateSource, Hosting, Method, SiteOptions, Solver,
};

fn options(solver: Solver) -> SiteOptions {
    SiteOptions {
        hosting: Hosting::Centre,
        candidates: CandidateSource::Communities,
        goal: super::Goal::Full,
        solver,
        time_limit: Duration::from_secs(30),
    }
}

/// A random instance: `m` candidates, up to 18 demand points in up to 3 groups, each reached
/// by a random subset of the candidates (some by none), integer weights, costs 1-5.
fn random_instance(r: &mut Rng, m: usize) -> Instance {
    let n = r.random_range(6..18);
    let groups = r.random_range(1..4u32);
    let sets: Vec<Vec<u32>> = (0..n)
        .map(|_| {
            (0..m as u32)
                .filter(|_| r.random_range(0..100) < 25)
                .collect()
        })
        .collect();
    let weight: Vec<f64> = (0..n).map(|_| r.random_range(1..10) as f64).collect();
    let group: Vec<u32> = (0..n).map(|_| r.random_range(0..groups)).collect();
    let mut inst = Instance::from_sets(m, &sets, &weight, &group);
    inst.cost = (0..m).map(|_| r.random_range(1..6) as f64).collect();
    inst
}

/// The weight each group reaches with every candidate built.
fn reachable(inst: &Instance, groups: usize) -> Vec<f64> {
    inst.group_weight(groups)
}

/// Every subset of candidates as a bit mask, with what it covers per group and its cost.
fn subsets(inst: &Instance, groups: usize) -> Vec<(u32, Vec<f64>, f64)> {
    (0..1u32 << inst.candidates)
        .map(|mask| {
            let mut covered = vec![0.0; groups];
            for e in 0..inst.elements() {
                if inst.of_element(e).iter().any(|&j| mask >> j & 1 == 1) {
                    covered[inst.group[e] as usize] += inst.weight[e];
                }
            }
            let cost = (0..inst.candidates)
                .filter(|&j| mask >> j & 1 == 1)
                .map(|j| inst.cost[j])
                .sum();
            (mask, covered, cost)
        })
        .collect()
}

fn check(inst: &Instance, objective: Objective, optimum: f64, seed: u64, what: &str) {
    for solver in [Solver::Exact, Solver::Fast, Solver::Auto] {
        let s = solve(inst, objective, &options(solver));
        let st = State::with(inst, &s.sites);
        let found = match objective {
            Objective::Cover => {
                assert!(st.met(), "seed {seed} {what} {solver:?}: need not met");
                s.sites.len() as f64
            }
            _ => st.covered_weight(),
        };
        let eps = 1e-9;
        match objective {
            Objective::Cover => {
                assert!(
                    s.bound <= optimum + eps && optimum <= found + eps,
                    "seed {seed} {what} {solver:?}: bound {} optimum {optimum} found {found}",
                    s.bound
                );
            }
            _ => {
                assert!(
                    found <= optimum + eps && optimum <= s.bound + eps,
                    "seed {seed} {what} {solver:?}: found {found} optimum {optimum} bound {}",
                    s.bound
                );
            }
        }
        if let Objective::MaxCount(n) = objective {
            assert!(s.sites.len() <= n);
        }
        if let Objective::MaxBudget(b) = objective {
            assert!(st.cost() <= b + eps, "seed {seed}: over budget");
        }
        if solver == Solver::Exact || s.method.proven_optimal() {
            assert!(
                (found - optimum).abs() < eps,
                "seed {seed} {what} {solver:?}: {:?} found {found}, optimum {optimum}",
                s.method
            );
        }
    }
}

#[test]
fn every_objective_equals_exhaustive_enumeration() {
    for seed in 0..40u64 {
        let mut r = rng(seed);
        let m = r.random_range(3..10);
        let mut inst = random_instance(&mut r, m);
        let groups = 3;
        let all = subsets(&inst, groups);
        let reach = reachable(&inst, groups);

        // Fewest sites covering everything reachable.
        inst.need = reach.clone();
        inst.full = vec![true; groups];
        let opt = all
            .iter()
            .filter(|(_, c, _)| c.iter().zip(&reach).all(|(a, b)| a >= b))
            .map(|(m, _, _)| m.count_ones() as f64)
            .fold(f64::INFINITY, f64::min);
        check(&inst, Objective::Cover, opt, seed, "full");

        // Fewest sites reaching a share of each group.
        let share = r.random_range(20..90) as f64 / 100.0;
        inst.need = reach.iter().map(|w| (w * share).floor()).collect();
        inst.full = inst
            .need
            .iter()
            .zip(&reach)
            .map(|(n, r)| *r > 0.0 && n >= r)
            .collect();
        let opt = all
            .iter()
            .filter(|(_, c, _)| c.iter().zip(&inst.need).all(|(a, b)| a >= b))
            .map(|(m, _, _)| m.count_ones() as f64)
            .fold(f64::INFINITY, f64::min);
        check(&inst, Objective::Cover, opt, seed, "partial");

        // Most weight with at most k sites.
        inst.need = reach.clone();
        inst.full = vec![true; groups];
        let k = r.random_range(1..=m.min(4));
        let opt = all
            .iter()
            .filter(|(m, _, _)| m.count_ones() as usize <= k)
            .map(|(_, c, _)| c.iter().sum::<f64>())
            .fold(0.0, f64::max);
        check(&inst, Objective::MaxCount(k), opt, seed, "max count");

        // Most weight within a budget.
        let budget = r.random_range(2..12) as f64;
        let opt = all
            .iter()
            .filter(|(_, _, cost)| *cost <= budget)
            .map(|(_, c, _)| c.iter().sum::<f64>())
            .fold(0.0, f64::max);
        check(&inst, Objective::MaxBudget(budget), opt, seed, "budget");
    }
}

#[test]
fn where_greedy_is_not_optimal_exact_finds_the_optimum_and_fast_reports_the_gap() {
    let inst = greedy::tests::rows_and_columns();
    let fast = solve(&inst, Objective::Cover, &options(Solver::Fast));
    assert_eq!(fast.sites.len(), 3);
    assert_eq!(fast.bound, 2.0, "the bound contains the optimum, 2");
    assert_eq!(
        fast.method,
        Method::Fast {
            proven_optimal: false
        }
    );
    let exact = solve(&inst, Objective::Cover, &options(Solver::Exact));
    let mut sites = exact.sites.clone();
    sites.sort_unstable();
    assert_eq!(sites, [0, 1], "the two rows");
    assert_eq!(exact.bound, 2.0);
    assert!(exact.method.proven_optimal());
    // The default tries the exact method when the bound leaves a gap.
    assert_eq!(
        solve(&inst, Objective::Cover, &options(Solver::Auto))
            .sites
            .len(),
        2
    );
}
