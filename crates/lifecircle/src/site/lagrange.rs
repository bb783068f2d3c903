//! A Lagrangian bound on the optimum, much closer than the submodular bound of the greedy on
//! large instances.
//!
//! The coupling constraints `y_e <= sum over j covering e of x_j` of the integer program
//! (`exact`) are moved into the objective with multipliers `u_e >= 0`. What is left splits
//! into one easy problem per variable, and its optimum `L(u)` bounds the optimum of the
//! integer program for every `u` (weak duality):
//!
//! - Fewest sites: `L(u) = sum over j of min(0, 1 - U_j) + sum over groups of K_g(u)`, with
//!   `U_j` the sum of `u_e` over the elements candidate `j` covers and `K_g` the cheapest way
//!   (at prices `u_e`) to pick a share `y_e` of the group's elements that meets its need: all of
//!   them for a group that must be covered whole, the fractional knapsack for a partial need.
//!   The count of sites is at least `ceil(L(u))`.
//! - Most covered: `L(u) = sum over e of max(0, w_e - u_e)` plus the best `U_j` that the
//!   count of sites (the `N` largest) or the budget (the fractional knapsack by `U_j` per cost)
//!   allows. The weight covered is at most `L(u)`.
//!
//! Subgradient optimisation (Held, Wolfe and Crowder's step, halved when the bound stalls, as
//! in Beasley's set-covering heuristics) moves `u` towards the best bound; the best `L(u)` met
//! is the bound, never weaker than the linear relaxation's `L` at the start. Sums are added in
//! fixed chunks, in order, so the bound is the same at any thread count.

use rayon::prelude::*;

use super::{
    coverage::Instance,
    greedy::{Objective, TOLERANCE},
};

/// Most subgradient steps for an instance of `pairs` element-candidate pairs: more for small
/// instances, where each step is cheap, fewer for the largest (a step reads every pair twice).
pub(crate) fn steps_for(pairs: usize) -> usize {
    (400_000_000 / pairs.max(1)).clamp(60, 400)
}

/// Sum in fixed chunks, added in order: the same at any thread count.
fn ordered_sum(values: &[f64]) -> f64 {
    values
        .par_chunks(1 << 14)
        .map(|c| c.iter().sum::<f64>())
        .collect::<Vec<f64>>()
        .iter()
        .sum()
}

/// The bound on the optimum of `objective` over `inst`, given the value `found` of a known
/// solution (the number of sites, or the weight covered): a lower bound on the number of sites
/// (already rounded up to a whole number), or an upper bound on the weight covered. At most
/// `steps` subgradient steps; it stops early once the bound proves `found` optimal.
pub(crate) fn bound(inst: &Instance, objective: Objective, found: f64, steps: usize) -> f64 {
    match objective {
        Objective::Cover => cover(inst, found, steps),
        _ => most_covered(inst, objective, found, steps),
    }
}

/// `U_j`: the multipliers of the elements each candidate covers, summed.
fn per_candidate(inst: &Instance, u: &[f64]) -> Vec<f64> {
    (0..inst.candidates)
        .into_par_iter()
        .map(|j| inst.of_candidate(j).iter().map(|&e| u[e as usize]).sum())
        .collect()
}

/// The subgradient `y_e - sum over j covering e of x_j`, projected to 0 where `u_e` is 0 and
/// it points below, and its squared norm.
fn subgradient(inst: &Instance, u: &[f64], y: &[f64], x: &[f64]) -> (Vec<f64>, f64) {
    let s: Vec<f64> = (0..inst.elements())
        .into_par_iter()
        .map(|e| {
            let opened: f64 = inst.of_element(e).iter().map(|&j| x[j as usize]).sum();
            let s = y[e] - opened;
            if u[e] <= 0.0 && s < 0.0 {
                0.0
            } else {
                s
            }
        })
        .collect();
    let squares: Vec<f64> = s.par_iter().map(|v| v * v).collect();
    let norm = ordered_sum(&squares);
    (s, norm)
}

/// Step `u` along `s` by `t`, keeping it at 0 or more.
fn step(u: &mut [f64], s: &[f64], t: f64) {
    u.par_iter_mut()
        .zip(s)
        .for_each(|(u, s)| *u = (*u + t * s).max(0.0));
}

/// Fewest sites: a lower bound on the count, rounded up.
fn cover(inst: &Instance, found: f64, steps: usize) -> f64 {
    let n = inst.elements();
    let groups = inst.groups();
    let full = |g: usize| inst.full.get(g).copied().unwrap_or(true);
    // The elements of each group with a partial need, for its knapsack.
    let mut partial: Vec<Vec<u32>> = vec![Vec::new(); groups];
    for e in 0..n {
        let g = inst.group[e] as usize;
        if !full(g) && inst.need.get(g).copied().unwrap_or(0.0) > 0.0 {
            partial[g].push(e as u32);
        }
    }
    // A feasible dual to start from: each element's share of its smallest candidate set, so
    // that no candidate's multipliers add up to more than 1.
    let size: Vec<f64> = (0..inst.candidates)
        .map(|j| inst.of_candidate(j).len() as f64)
        .collect();
    let mut u: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|e| {
            let g = inst.group[e] as usize;
            if !full(g) && inst.need.get(g).copied().unwrap_or(0.0) <= 0.0 {
                return 0.0;
            }
            inst.of_element(e)
                .iter()
                .map(|&j| 1.0 / size[j as usize])
                .fold(f64::INFINITY, f64::min)
        })
        .map(|v: f64| if v.is_finite() { v } else { 0.0 })
        .collect();
    let mut best = 0.0f64;
    let mut lambda = 2.0;
    let mut stall = 0;
    let proven = |b: f64| (b - 1e-6).ceil() >= found;
    for _ in 0..steps {
        let big_u = per_candidate(inst, &u);
        let x: Vec<f64> = big_u
            .iter()
            .map(|&s| if s > 1.0 { 1.0 } else { 0.0 })
            .collect();
        let reduced: Vec<f64> = big_u.iter().map(|&s| (1.0 - s).min(0.0)).collect();
        // y: every element of a whole group; a partial group's cheapest share by the knapsack.
        let mut y: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|e| {
                if full(inst.group[e] as usize) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        for (g, members) in partial.iter_mut().enumerate() {
            if members.is_empty() {
                continue;
            }
            let price = |e: u32| u[e as usize] / inst.weight[e as usize].max(f64::MIN_POSITIVE);
            members.sort_unstable_by(|&a, &b| price(a).total_cmp(&price(b)).then(a.cmp(&b)));
            let mut left = inst.need[g];
            for &e in members.iter() {
                if left <= 0.0 {
                    break;
                }
                let w = inst.weight[e as usize];
                let share = if w <= left { 1.0 } else { left / w };
                y[e as usize] = share;
                left -= w * share;
            }
        }
        let priced: Vec<f64> = u.par_iter().zip(&y).map(|(u, y)| u * y).collect();
        let l = ordered_sum(&reduced) + ordered_sum(&priced);
        if l > best + 1e-9 * best.abs().max(1.0) {
            best = l;
            stall = 0;
        } else {
            stall += 1;
            if stall >= 8 {
                lambda /= 2.0;
                stall = 0;
            }
        }
        if proven(best) || lambda < 1e-3 {
            break;
        }
        let (s, norm) = subgradient(inst, &u, &y, &x);
        if norm <= 0.0 {
            break; // u is optimal: no constraint is violated
        }
        // Aim a little above the known solution, so steps do not vanish near it.
        let t = lambda * (1.05 * found.max(1.0) - l).max(1e-3) / norm;
        step(&mut u, &s, t);
    }
    (best - 1e-6).ceil().max(0.0)
}

/// Most covered (`--new N`, `--budget`): an upper bound on the weight covered.
fn most_covered(inst: &Instance, objective: Objective, found: f64, steps: usize) -> f64 {
    let m = inst.candidates;
    // Start from all the weight priced into the candidates: L is then the best N single
    // candidates' weights (or the knapsack of them), the bound of greedy from nothing.
    let mut u: Vec<f64> = inst.weight.clone();
    let mut best = f64::INFINITY;
    let mut lambda = 2.0;
    let mut stall = 0;
    let proven = |b: f64| b <= found * (1.0 + TOLERANCE);
    for _ in 0..steps {
        let big_u = per_candidate(inst, &u);
        let mut x = vec![0.0; m];
        let mut opened = 0.0;
        let mut order: Vec<u32> = (0..m as u32).filter(|&j| big_u[j as usize] > 0.0).collect();
        match objective {
            Objective::MaxCount(k) => {
                let by_value = |a: &u32, b: &u32| {
                    big_u[*b as usize]
                        .total_cmp(&big_u[*a as usize])
                        .then(a.cmp(b))
                };
                if order.len() > k && k > 0 {
                    order.select_nth_unstable_by(k - 1, by_value);
                }
                order.truncate(k);
                order.sort_unstable();
                for &j in &order {
                    x[j as usize] = 1.0;
                    opened += big_u[j as usize];
                }
            }
            Objective::MaxBudget(b) => {
                let ratio = |j: u32| {
                    let c = inst.cost[j as usize];
                    if c > 0.0 {
                        big_u[j as usize] / c
                    } else {
                        f64::INFINITY
                    }
                };
                order.sort_unstable_by(|&a, &b| ratio(b).total_cmp(&ratio(a)).then(a.cmp(&b)));
                let mut room = b;
                for &j in &order {
                    let c = inst.cost[j as usize];
                    let share = if c <= room {
                        1.0
                    } else if room > 0.0 {
                        room / c
                    } else {
                        0.0
                    };
                    if share <= 0.0 {
                        break;
                    }
                    x[j as usize] = share;
                    opened += big_u[j as usize] * share;
                    room -= c * share;
                }
            }
            Objective::Cover => unreachable!("most_covered is for the maximising objectives"),
        }
        let y: Vec<f64> = u
            .par_iter()
            .zip(&inst.weight)
            .map(|(u, w)| if w > u { 1.0 } else { 0.0 })
            .collect();
        let left: Vec<f64> = u
            .par_iter()
            .zip(&inst.weight)
            .map(|(u, w)| (w - u).max(0.0))
            .collect();
        let l = opened + ordered_sum(&left);
        if l < best - 1e-9 * best.abs().max(1.0) {
            best = l;
            stall = 0;
        } else {
            stall += 1;
            if stall >= 8 {
                lambda /= 2.0;
                stall = 0;
            }
        }
        if proven(best) || lambda < 1e-3 {
            break;
        }
        let (s, norm) = subgradient(inst, &u, &y, &x);
        if norm <= 0.0 {
            break;
        }
        let t = lambda * (l - 0.95 * found).max(1e-9 * l.abs().max(1.0)) / norm;
        step(&mut u, &s, t);
    }
    best
}
