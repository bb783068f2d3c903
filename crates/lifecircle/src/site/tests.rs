//! The solvers against exhaustive enumeration of every subset of candidates, on small random
//! instances (seeds printed), for every objective; and the hand case where greedy is not
//! optimal.

use std::time::Duration;

use lifecircle_synth::{rng, Rng};
use rand::RngExt;

use super::{
    coverage::Instance,
    greedy::{self, Objective, State},
    lagrange, solve, CandidateSource, Hosting, Method, SiteOptions, Solver,
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

/// The Lagrangian bound never passes the optimum that enumeration of every subset finds, for
/// every objective, whatever solution value it is given to aim at; with more candidates than
/// the instances above, so that the multipliers have work to do.
#[test]
fn the_lagrangian_bound_never_passes_the_enumerated_optimum() {
    let mut tighter = 0;
    for seed in 100..130u64 {
        let mut r = rng(seed);
        let m = r.random_range(8..15);
        let mut inst = random_instance(&mut r, m);
        let groups = 3;
        let all = subsets(&inst, groups);
        let reach = reachable(&inst, groups);
        let eps = 1e-9;
        let fewest = |inst: &Instance| {
            all.iter()
                .filter(|(_, c, _)| c.iter().zip(&inst.need).all(|(a, b)| *a >= *b))
                .map(|(m, _, _)| m.count_ones() as f64)
                .fold(f64::INFINITY, f64::min)
        };

        inst.need = reach.clone();
        inst.full = vec![true; groups];
        let opt = fewest(&inst);
        let greedy_found = greedy::greedy(&inst, Objective::Cover).order().len() as f64;
        for aim in [opt, greedy_found, opt + 5.0] {
            let b = lagrange::bound(&inst, Objective::Cover, aim, 400);
            assert!(
                b <= opt + eps,
                "seed {seed} full: bound {b} > optimum {opt}"
            );
            assert_eq!(b, b.round(), "a count");
        }
        let s = greedy::greedy(&inst, Objective::Cover);
        let submodular = greedy::bound(&inst, s.order(), &s, Objective::Cover);
        if lagrange::bound(&inst, Objective::Cover, greedy_found, 400) > submodular {
            tighter += 1;
        }

        let share = r.random_range(20..90) as f64 / 100.0;
        inst.need = reach.iter().map(|w| (w * share).floor()).collect();
        inst.full = inst
            .need
            .iter()
            .zip(&reach)
            .map(|(n, r)| *r > 0.0 && n >= r)
            .collect();
        let opt = fewest(&inst);
        for aim in [opt, opt + 3.0] {
            let b = lagrange::bound(&inst, Objective::Cover, aim, 400);
            assert!(
                b <= opt + eps,
                "seed {seed} partial: bound {b} > optimum {opt}"
            );
        }

        inst.need = reach.clone();
        inst.full = vec![true; groups];
        let k = r.random_range(1..=4);
        let opt = all
            .iter()
            .filter(|(m, _, _)| m.count_ones() as usize <= k)
            .map(|(_, c, _)| c.iter().sum::<f64>())
            .fold(0.0, f64::max);
        for aim in [opt, opt * 0.8] {
            let b = lagrange::bound(&inst, Objective::MaxCount(k), aim, 400);
            assert!(
                b >= opt - eps,
                "seed {seed} new {k}: bound {b} < optimum {opt}"
            );
        }

        let budget = r.random_range(2..12) as f64;
        let opt = all
            .iter()
            .filter(|(_, _, cost)| *cost <= budget)
            .map(|(_, c, _)| c.iter().sum::<f64>())
            .fold(0.0, f64::max);
        for aim in [opt, opt * 0.8] {
            let b = lagrange::bound(&inst, Objective::MaxBudget(budget), aim, 400);
            assert!(
                b >= opt - eps,
                "seed {seed} budget {budget}: bound {b} < optimum {opt}"
            );
        }
    }
    // Not a requirement of validity, but the reason for the bound: it is often tighter.
    assert!(
        tighter >= 5,
        "tighter than the submodular bound on {tighter} of 30"
    );
}

/// On a larger random instance the Lagrangian bound stays at or below the linear relaxation
/// (solved by microlp, continuous variables) and reaches its rounded-up value.
#[test]
fn the_lagrangian_bound_reaches_the_linear_relaxation() {
    use microlp::{ComparisonOp, OptimizationDirection, Problem};
    for seed in 200..205u64 {
        let mut r = rng(seed);
        let (m, n) = (60usize, 400usize);
        // Candidates and demand on a line of 1000 m; a candidate reaches demand within 60 m.
        let cand: Vec<f64> = (0..m).map(|_| r.random_range(0.0..1000.0)).collect();
        let sets: Vec<Vec<u32>> = (0..n)
            .map(|_| {
                let x: f64 = r.random_range(0.0..1000.0);
                let y: f64 = r.random_range(0.0..1000.0);
                (0..m as u32)
                    .filter(|&j| {
                        let c = cand[j as usize];
                        let cy = (c * 7.31) % 1000.0;
                        ((c - x).powi(2) + (cy - y).powi(2)).sqrt() <= 260.0
                    })
                    .collect()
            })
            .filter(|s: &Vec<u32>| !s.is_empty())
            .collect();
        let weight = vec![1.0; sets.len()];
        let group = vec![0; sets.len()];
        let mut inst = Instance::from_sets(m, &sets, &weight, &group);
        inst.need = vec![sets.len() as f64];
        inst.full = vec![true];
        let mut p = Problem::new(OptimizationDirection::Minimize);
        let x: Vec<_> = (0..m).map(|_| p.add_var(1.0, (0.0, 1.0))).collect();
        for e in 0..inst.elements() {
            let row: Vec<_> = inst
                .of_element(e)
                .iter()
                .map(|&j| (x[j as usize], 1.0))
                .collect();
            p.add_constraint(row.as_slice(), ComparisonOp::Ge, 1.0);
        }
        let lp = match p.solve().unwrap() {
            microlp::SolveOutcome::Solution(s) => s.objective(),
            other => panic!("seed {seed}: {other:?}"),
        };
        let found = greedy::greedy(&inst, Objective::Cover).order().len() as f64;
        let b = lagrange::bound(&inst, Objective::Cover, found, 400);
        assert!(
            b <= (lp - 1e-6).ceil(),
            "seed {seed}: {b} above the LP's {lp}"
        );
        assert_eq!(b, (lp - 1e-6).ceil(), "seed {seed}: LP {lp}, found {found}");
    }
}
