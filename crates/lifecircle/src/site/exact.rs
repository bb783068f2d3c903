//! The exact method: the covering problem as an integer program, solved by `microlp` (pure
//! Rust: branch and bound over the simplex, so `cargo build` alone builds it).
//!
//! - Fewest sites: minimise the number of sites `sum x_j`; every element of a group that must
//!   be covered whole needs `sum over j covering e of x_j >= 1`; a group with a partial need
//!   gets a share `0 <= y_e <= 1` per element with `y_e <= sum x_j` and
//!   `sum w_e y_e >= need`.
//! - Most covered: maximise `sum w_e y_e` with `y_e <= sum x_j` and at most `N` sites (or
//!   costs within the budget).
//!
//! The greedy sites are the warm start, so a search cut short by the time limit is never worse
//! than the fast method; the solver's best bound gives the gap.

use std::time::Duration;

use microlp::{
    ComparisonOp, OptimizationDirection, Problem, SolutionStatus, SolveOptions, SolveOutcome,
};

use super::{coverage::Instance, greedy::Objective};

/// What the solver found.
#[derive(Debug, Clone)]
pub(crate) struct Exact {
    /// The sites of its best solution (`None`: it found none within the time, not even from
    /// the warm start).
    pub(crate) sites: Option<Vec<u32>>,
    /// True when the solution is proven optimal.
    pub(crate) optimal: bool,
    /// The solver's best bound on the objective (sites, or weight covered), when it has one.
    pub(crate) bound: Option<f64>,
}

/// Solve `inst` for `objective` within `time_limit`, starting from `warm`.
///
/// # Errors
/// The solver's own failure (numerical trouble it could not recover from), as its message.
pub(crate) fn solve(
    inst: &Instance,
    objective: Objective,
    warm: &[u32],
    time_limit: Duration,
) -> Result<Exact, String> {
    let maximise = objective != Objective::Cover;
    let mut p = Problem::new(if maximise {
        OptimizationDirection::Maximize
    } else {
        OptimizationDirection::Minimize
    });
    // Only candidates that cover something get a variable.
    let mut x = vec![None; inst.candidates];
    for (j, slot) in x.iter_mut().enumerate() {
        if inst.c_start[j + 1] > inst.c_start[j] {
            *slot = Some(p.add_binary_var(if maximise { 0.0 } else { 1.0 }));
        }
    }
    let covering = |e: usize| -> Vec<(microlp::Variable, f64)> {
        inst.of_element(e)
            .iter()
            .filter_map(|&j| x[j as usize].map(|v| (v, 1.0)))
            .collect()
    };
    let scale = inst
        .weight
        .iter()
        .copied()
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    if maximise {
        for e in 0..inst.elements() {
            let y = p.add_var(inst.weight[e] / scale, (0.0, 1.0));
            let mut row = covering(e);
            row.push((y, -1.0));
            p.add_constraint(row.as_slice(), ComparisonOp::Ge, 0.0);
        }
        match objective {
            Objective::MaxCount(n) => {
                let row: Vec<_> = x.iter().flatten().map(|&v| (v, 1.0)).collect();
                p.add_constraint(row.as_slice(), ComparisonOp::Le, n as f64);
            }
            Objective::MaxBudget(b) => {
                let cscale = inst.cost.iter().copied().fold(0.0, f64::max);
                if cscale > 0.0 {
                    let row: Vec<_> = x
                        .iter()
                        .enumerate()
                        .filter_map(|(j, v)| v.map(|v| (v, inst.cost[j] / cscale)))
                        .collect();
                    p.add_constraint(row.as_slice(), ComparisonOp::Le, b / cscale);
                }
            }
            Objective::Cover => {}
        }
    } else {
        let groups = inst.groups();
        let mut partial_rows: Vec<Vec<(microlp::Variable, f64)>> = vec![Vec::new(); groups];
        let mut gscale = vec![0.0f64; groups];
        for e in 0..inst.elements() {
            let g = inst.group[e] as usize;
            gscale[g] = gscale[g].max(inst.weight[e]);
        }
        for e in 0..inst.elements() {
            let g = inst.group[e] as usize;
            if inst.full[g] {
                p.add_constraint(covering(e).as_slice(), ComparisonOp::Ge, 1.0);
            } else if inst.need[g] > 0.0 {
                let y = p.add_var(0.0, (0.0, 1.0));
                let mut row = covering(e);
                row.push((y, -1.0));
                p.add_constraint(row.as_slice(), ComparisonOp::Ge, 0.0);
                partial_rows[g].push((y, inst.weight[e] / gscale[g]));
            }
        }
        for (g, row) in partial_rows.iter().enumerate() {
            if !inst.full[g] && inst.need[g] > 0.0 && !row.is_empty() {
                p.add_constraint(row.as_slice(), ComparisonOp::Ge, inst.need[g] / gscale[g]);
            }
        }
    }
    let warm_start: Vec<(microlp::Variable, f64)> = {
        let mut on = vec![false; inst.candidates];
        for &j in warm {
            on[j as usize] = true;
        }
        x.iter()
            .enumerate()
            .filter_map(|(j, v)| v.map(|v| (v, if on[j] { 1.0 } else { 0.0 })))
            .collect()
    };
    let mut options = SolveOptions::default();
    options.time_limit = Some(time_limit);
    options.warm_start = Some(warm_start);
    let unscale = |v: f64| if maximise { v * scale } else { v };
    match p.solve_with(options) {
        Ok(SolveOutcome::Solution(s)) => {
            let sites = x
                .iter()
                .enumerate()
                .filter_map(|(j, v)| v.filter(|&v| s.var_value(v) > 0.5).map(|_| j as u32))
                .collect();
            Ok(Exact {
                sites: Some(sites),
                optimal: s.status() == SolutionStatus::Optimal,
                bound: s.stats().best_bound.map(unscale),
            })
        }
        Ok(SolveOutcome::Interrupted(i)) => Ok(Exact {
            sites: None,
            optimal: false,
            bound: i.stats().best_bound.map(unscale),
        }),
        Err(microlp::Error::Infeasible) => Err("the solver found the goal infeasible".into()),
        Err(e) => Err(e.to_string()),
    }
}
