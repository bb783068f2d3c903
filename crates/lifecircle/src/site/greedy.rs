//! The fast method: greedy with lazy gain evaluation, then a local search (dropping sites that
//! turn out redundant; swapping a chosen site for another while that covers more), and a bound
//! on the optimum from submodularity, so that the result says how far from the optimum it can
//! be.
//!
//! The objective `f(S)` is the weight newly covered by the set of sites `S`, counted in each
//! partial group only up to its need. It is monotone and submodular, so for any `S` and the
//! optimum `O`: `f(O) <= f(S) + sum over j in O of gain_j(S)`. With at most `N` sites the
//! best `N` gains bound `f(O)`; with a budget, the fractional knapsack of the gains; to reach a
//! need `D`, at least as many sites as it takes gains to add up to `D - f(S)`.

use std::{cmp::Ordering, collections::BinaryHeap, time::Instant};

use rayon::prelude::*;

use super::coverage::Instance;

/// What to optimise over an [`Instance`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Objective {
    /// The fewest sites that meet every group's need.
    Cover,
    /// The most weight covered by at most this many sites.
    MaxCount(usize),
    /// The most weight covered by sites whose costs add up to at most this.
    MaxBudget(f64),
}

/// Relative slack for comparing covered weight with a need.
pub(crate) const TOLERANCE: f64 = 1e-9;

/// A gain with its candidate, ordered by gain, then by the lower candidate index.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    key: f64,
    j: u32,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .total_cmp(&other.key)
            .then_with(|| other.j.cmp(&self.j))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A set of chosen sites and what it covers.
#[derive(Debug, Clone)]
pub(crate) struct State<'a> {
    inst: &'a Instance,
    /// Per element, how many chosen sites cover it.
    count: Vec<u32>,
    /// Per group, the weight covered.
    covered: Vec<f64>,
    /// Per group, the elements not covered.
    uncovered: Vec<u32>,
    /// Per candidate, chosen or not.
    chosen: Vec<bool>,
    /// The chosen candidates, in the order chosen.
    order: Vec<u32>,
    cost: f64,
    /// Scratch: per group, the weight a candidate would add.
    scratch: Vec<f64>,
    touched: Vec<u32>,
}

impl<'a> State<'a> {
    pub(crate) fn new(inst: &'a Instance) -> Self {
        let groups = inst.groups().max(
            inst.group
                .iter()
                .map(|&g| g as usize + 1)
                .max()
                .unwrap_or(0),
        );
        let mut uncovered = vec![0u32; groups];
        for &g in &inst.group {
            uncovered[g as usize] += 1;
        }
        Self {
            inst,
            count: vec![0; inst.elements()],
            covered: vec![0.0; groups],
            uncovered,
            chosen: vec![false; inst.candidates],
            order: Vec::new(),
            cost: 0.0,
            scratch: vec![0.0; groups],
            touched: Vec::new(),
        }
    }

    /// A state with `sites` chosen, in that order.
    pub(crate) fn with(inst: &'a Instance, sites: &[u32]) -> Self {
        let mut s = Self::new(inst);
        for &j in sites {
            s.add(j);
        }
        s
    }

    /// Per group, the weight covered.
    pub(crate) fn covered_by_group(&self) -> &[f64] {
        &self.covered
    }

    pub(crate) fn order(&self) -> &[u32] {
        &self.order
    }

    pub(crate) fn cost(&self) -> f64 {
        self.cost
    }

    fn need(&self, g: usize) -> Option<f64> {
        match self.inst.full.get(g) {
            Some(false) => self.inst.need.get(g).copied(),
            _ => None,
        }
    }

    /// The weight covered, counted up to each partial group's need under `Cover`.
    pub(crate) fn value(&self, objective: Objective) -> f64 {
        match objective {
            Objective::Cover => self
                .covered
                .iter()
                .enumerate()
                .map(|(g, &c)| self.need(g).map_or(c, |n| c.min(n)))
                .sum(),
            _ => self.covered.iter().sum(),
        }
    }

    /// The weight covered in all (not truncated).
    pub(crate) fn covered_weight(&self) -> f64 {
        self.covered.iter().sum()
    }

    /// True when every group's need is met.
    pub(crate) fn met(&self) -> bool {
        (0..self.inst.groups()).all(|g| match self.need(g) {
            None => self.uncovered[g] == 0,
            Some(n) => self.covered[g] >= n - TOLERANCE * n.max(1.0),
        })
    }

    /// What adding candidate `j` adds to [`value`](Self::value).
    pub(crate) fn gain(&mut self, j: u32, objective: Objective) -> f64 {
        let inst = self.inst;
        if objective != Objective::Cover || inst.full.iter().all(|&f| f) {
            return inst
                .of_candidate(j as usize)
                .iter()
                .filter(|&&e| self.count[e as usize] == 0)
                .map(|&e| inst.weight[e as usize])
                .sum();
        }
        for &e in inst.of_candidate(j as usize) {
            if self.count[e as usize] == 0 {
                let g = inst.group[e as usize];
                if self.scratch[g as usize] == 0.0 {
                    self.touched.push(g);
                }
                self.scratch[g as usize] += inst.weight[e as usize];
            }
        }
        let mut total = 0.0;
        for &g in &self.touched {
            let g = g as usize;
            let add = self.scratch[g];
            total += match self.need(g) {
                None => add,
                Some(n) => add.min((n - self.covered[g]).max(0.0)),
            };
            self.scratch[g] = 0.0;
        }
        self.touched.clear();
        total
    }

    pub(crate) fn add(&mut self, j: u32) {
        let inst = self.inst;
        if std::mem::replace(&mut self.chosen[j as usize], true) {
            return;
        }
        for &e in inst.of_candidate(j as usize) {
            let e = e as usize;
            if self.count[e] == 0 {
                let g = inst.group[e] as usize;
                self.covered[g] += inst.weight[e];
                self.uncovered[g] -= 1;
            }
            self.count[e] += 1;
        }
        self.order.push(j);
        self.cost += inst.cost[j as usize];
    }

    pub(crate) fn remove(&mut self, j: u32) {
        let inst = self.inst;
        if !std::mem::replace(&mut self.chosen[j as usize], false) {
            return;
        }
        for &e in inst.of_candidate(j as usize) {
            let e = e as usize;
            self.count[e] -= 1;
            if self.count[e] == 0 {
                let g = inst.group[e] as usize;
                self.covered[g] -= inst.weight[e];
                self.uncovered[g] += 1;
            }
        }
        self.order.retain(|&k| k != j);
        self.cost -= inst.cost[j as usize];
    }

    /// The gain of every candidate (0 for those chosen), computed in parallel.
    pub(crate) fn all_gains(&self, objective: Objective) -> Vec<f64> {
        (0..self.inst.candidates as u32)
            .into_par_iter()
            .map_init(
                || self.clone_scratch(),
                |s, j| {
                    if self.chosen[j as usize] {
                        0.0
                    } else {
                        s.gain_against(self, j, objective)
                    }
                },
            )
            .collect()
    }

    fn clone_scratch(&self) -> (Vec<f64>, Vec<u32>) {
        (vec![0.0; self.scratch.len()], Vec::new())
    }
}

/// Per-thread scratch for gains against a shared state.
trait GainAgainst {
    fn gain_against(&mut self, s: &State<'_>, j: u32, objective: Objective) -> f64;
}

impl GainAgainst for (Vec<f64>, Vec<u32>) {
    fn gain_against(&mut self, s: &State<'_>, j: u32, objective: Objective) -> f64 {
        let inst = s.inst;
        let (scratch, touched) = self;
        if objective != Objective::Cover || inst.full.iter().all(|&f| f) {
            return inst
                .of_candidate(j as usize)
                .iter()
                .filter(|&&e| s.count[e as usize] == 0)
                .map(|&e| inst.weight[e as usize])
                .sum();
        }
        for &e in inst.of_candidate(j as usize) {
            if s.count[e as usize] == 0 {
                let g = inst.group[e as usize];
                if scratch[g as usize] == 0.0 {
                    touched.push(g);
                }
                scratch[g as usize] += inst.weight[e as usize];
            }
        }
        let mut total = 0.0;
        for &g in touched.iter() {
            let g = g as usize;
            let add = scratch[g];
            total += match s.need(g) {
                None => add,
                Some(n) => add.min((n - s.covered[g]).max(0.0)),
            };
            scratch[g] = 0.0;
        }
        touched.clear();
        total
    }
}

/// Greedy with lazy evaluation: repeatedly the candidate of the largest gain (per unit of cost
/// under a budget), ties to the lower index, until the need is met, `N` sites are chosen, or
/// nothing affordable adds anything.
pub(crate) fn greedy(inst: &Instance, objective: Objective) -> State<'_> {
    let mut s = State::new(inst);
    let key = |gain: f64, j: u32| match objective {
        Objective::MaxBudget(_) => {
            let c = inst.cost[j as usize];
            if c > 0.0 {
                gain / c
            } else {
                f64::INFINITY
            }
        }
        _ => gain,
    };
    let gains = s.all_gains(objective);
    let mut heap: BinaryHeap<Entry> = gains
        .iter()
        .enumerate()
        .filter(|(_, &g)| g > 0.0)
        .map(|(j, &g)| Entry {
            key: key(g, j as u32),
            j: j as u32,
        })
        .collect();
    loop {
        let done = match objective {
            Objective::Cover => s.met(),
            Objective::MaxCount(n) => s.order.len() >= n,
            Objective::MaxBudget(_) => false,
        };
        if done {
            break;
        }
        let Some(top) = heap.pop() else { break };
        if let Objective::MaxBudget(b) = objective {
            if s.cost + inst.cost[top.j as usize] > b * (1.0 + TOLERANCE) {
                continue; // never affordable again: the budget left only shrinks
            }
        }
        let g = s.gain(top.j, objective);
        if g <= 0.0 {
            continue;
        }
        let fresh = Entry {
            key: key(g, top.j),
            j: top.j,
        };
        if heap.peek().is_none_or(|next| fresh >= *next) {
            s.add(top.j);
        } else {
            heap.push(fresh);
        }
    }
    if let Objective::MaxBudget(b) = objective {
        // Cost-effectiveness alone can miss one large site: compare with the best single one.
        let best = (0..inst.candidates)
            .filter(|&j| inst.cost[j] <= b * (1.0 + TOLERANCE))
            .map(|j| Entry {
                key: gains[j],
                j: j as u32,
            })
            .max();
        if let Some(best) = best {
            if best.key > s.value(objective) {
                s = State::with(inst, &[best.j]);
            }
        }
    }
    s
}

/// Drop the sites that are redundant (the need stays met without them), last chosen first.
pub(crate) fn drop_redundant(s: &mut State<'_>) {
    let order: Vec<u32> = s.order.clone();
    for &j in order.iter().rev() {
        s.remove(j);
        if !s.met() {
            s.add(j);
        }
    }
}

/// Swap local search for the maximising objectives: replace a chosen site by one that covers
/// more weight (within the budget), the best swap for each chosen site in turn, until none
/// improves or `deadline` passes.
pub(crate) fn swap(s: &mut State<'_>, objective: Objective, deadline: Instant) {
    let inst = s.inst;
    let budget = match objective {
        Objective::MaxBudget(b) => Some(b),
        _ => None,
    };
    loop {
        let mut improved = false;
        let current: Vec<u32> = s.order.clone();
        for &j in &current {
            if Instant::now() >= deadline {
                return;
            }
            // Elements only `j` covers are lost when it goes.
            let only_j: Vec<bool> = {
                let mut v = vec![false; inst.elements()];
                for &e in inst.of_candidate(j as usize) {
                    v[e as usize] = s.count[e as usize] == 1;
                }
                v
            };
            let loss: f64 = inst
                .of_candidate(j as usize)
                .iter()
                .filter(|&&e| only_j[e as usize])
                .map(|&e| inst.weight[e as usize])
                .sum();
            let room = budget.map(|b| b * (1.0 + TOLERANCE) - (s.cost - inst.cost[j as usize]));
            let best = (0..inst.candidates as u32)
                .into_par_iter()
                .filter(|&k| {
                    !s.chosen[k as usize] && room.is_none_or(|r| inst.cost[k as usize] <= r)
                })
                .map(|k| {
                    let g: f64 = inst
                        .of_candidate(k as usize)
                        .iter()
                        .filter(|&&e| s.count[e as usize] == 0 || only_j[e as usize])
                        .map(|&e| inst.weight[e as usize])
                        .sum();
                    Entry { key: g, j: k }
                })
                .max();
            if let Some(best) = best {
                if best.key > loss + TOLERANCE * loss.max(1.0) {
                    s.remove(j);
                    s.add(best.j);
                    improved = true;
                }
            }
        }
        if !improved {
            return;
        }
    }
}

/// The bound `f(S)` and the best gains give on the optimum: an upper bound on the weight
/// covered (maximising), or a lower bound on the number of sites (`Cover`).
pub(crate) fn bound_at(s: &State<'_>, objective: Objective) -> f64 {
    let mut gains = s.all_gains(objective);
    let value = s.value(objective);
    match objective {
        Objective::MaxCount(n) => {
            gains.sort_unstable_by(|a, b| b.total_cmp(a));
            value + gains.iter().take(n).sum::<f64>()
        }
        Objective::MaxBudget(b) => {
            let inst = s.inst;
            let mut items: Vec<(f64, f64)> = gains
                .iter()
                .enumerate()
                .filter(|(_, &g)| g > 0.0)
                .map(|(j, &g)| (g, inst.cost[j]))
                .collect();
            // Fractional knapsack: by gain per cost, free ones first.
            items.sort_by(|x, y| {
                let r = |(g, c): (f64, f64)| if c > 0.0 { g / c } else { f64::INFINITY };
                r(*y).total_cmp(&r(*x))
            });
            let mut room = b;
            let mut total = value;
            for (g, c) in items {
                if c <= room {
                    total += g;
                    room -= c;
                } else {
                    total += g * room / c;
                    break;
                }
            }
            total
        }
        Objective::Cover => {
            let inst = s.inst;
            let need: f64 = inst.need.iter().sum();
            let residual = need - value;
            if residual <= TOLERANCE * need.max(1.0) {
                return 0.0;
            }
            gains.sort_unstable_by(|a, b| b.total_cmp(a));
            let mut sum = 0.0;
            for (k, g) in gains.iter().enumerate() {
                sum += g;
                if sum >= residual - TOLERANCE * need.max(1.0) {
                    return (k + 1) as f64;
                }
            }
            f64::INFINITY
        }
    }
}

/// The best bound over a few prefixes of the greedy order and the final set.
pub(crate) fn bound(
    inst: &Instance,
    greedy_order: &[u32],
    last: &State<'_>,
    objective: Objective,
) -> f64 {
    let n = greedy_order.len();
    let steps = 8.min(n);
    let mut sizes: Vec<usize> = (0..=steps)
        .map(|k| (k * n).checked_div(steps).unwrap_or(0))
        .collect();
    sizes.dedup();
    let mut points: Vec<f64> = sizes
        .iter()
        .map(|&k| bound_at(&State::with(inst, &greedy_order[..k]), objective))
        .collect();
    points.push(bound_at(last, objective));
    match objective {
        Objective::Cover => points.into_iter().fold(0.0, f64::max),
        _ => points.into_iter().fold(f64::INFINITY, f64::min),
    }
}

/// The chosen sites in the order to build them: each the one that adds the most weight after
/// those before it (ties to the lower index), with what it adds.
pub(crate) fn build_order(inst: &Instance, sites: &[u32]) -> Vec<(u32, f64)> {
    let mut s = State::new(inst);
    let mut left: Vec<u32> = sites.to_vec();
    left.sort_unstable();
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let (k, best) = left
            .iter()
            .enumerate()
            .map(|(k, &j)| {
                (
                    k,
                    Entry {
                        key: s.gain(j, Objective::MaxCount(usize::MAX)),
                        j,
                    },
                )
            })
            .max_by(|a, b| a.1.cmp(&b.1))
            .expect("left is not empty");
        left.remove(k);
        s.add(best.j);
        out.push((best.j, best.key));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small case where greedy set cover is not optimal: two candidates split the
    /// elements in halves, and a third takes the most elements but leaves one of each half.
    /// Redundancy removal repairs it (the third goes).
    pub(crate) fn greedy_trap() -> Instance {
        // Elements 0..6. Candidate 0 = {0,1,2}, 1 = {3,4,5}, 2 = {1,2,3,4}.
        let sets = [
            vec![0],
            vec![0, 2],
            vec![0, 2],
            vec![1, 2],
            vec![1, 2],
            vec![1],
        ];
        let mut inst = Instance::from_sets(3, &sets, &[1.0; 6], &[0; 6]);
        inst.need = vec![6.0];
        inst.full = vec![true];
        inst
    }

    /// Where greedy set cover stays worse than the optimum after redundancy removal: two rows
    /// of 14 elements cover everything; greedy takes disjoint column blocks of 16, 8 and 4
    /// elements, none of them redundant.
    pub(crate) fn rows_and_columns() -> Instance {
        // Element (row r, column c) is r * 14 + c. Candidates: 0 = row 0, 1 = row 1,
        // 2 = columns 0..8, 3 = columns 8..12, 4 = columns 12..14.
        let block = |c: usize| match c {
            0..8 => 2,
            8..12 => 3,
            _ => 4,
        };
        let sets: Vec<Vec<u32>> = (0..28)
            .map(|e| {
                let (r, c) = (e / 14, e % 14);
                vec![r as u32, block(c)]
            })
            .collect();
        let mut inst = Instance::from_sets(5, &sets, &[1.0; 28], &[0; 28]);
        inst.need = vec![28.0];
        inst.full = vec![true];
        inst
    }

    #[test]
    fn redundancy_removal_repairs_the_small_trap() {
        let inst = greedy_trap();
        let mut s = greedy(&inst, Objective::Cover);
        assert_eq!(s.order(), [2, 0, 1]);
        drop_redundant(&mut s);
        let mut left = s.order().to_vec();
        left.sort_unstable();
        assert_eq!(left, [0, 1]);
    }

    #[test]
    fn greedy_is_not_optimal_and_the_bound_says_so() {
        let inst = rows_and_columns();
        let mut s = greedy(&inst, Objective::Cover);
        assert_eq!(s.order(), [2, 3, 4]);
        drop_redundant(&mut s);
        assert_eq!(s.order().len(), 3, "no column block is redundant");
        // From nothing: the best two gains are 16 + 14 >= 28, so at least 2 sites.
        assert_eq!(bound(&inst, &[2, 3, 4], &s, Objective::Cover), 2.0);
    }

    #[test]
    fn max_count_swap_finds_the_better_pair() {
        let inst = greedy_trap();
        let mut s = greedy(&inst, Objective::MaxCount(2));
        assert_eq!(s.order(), [2, 0]);
        assert_eq!(s.value(Objective::MaxCount(2)), 5.0);
        swap(
            &mut s,
            Objective::MaxCount(2),
            Instant::now() + std::time::Duration::from_secs(5),
        );
        assert_eq!(s.value(Objective::MaxCount(2)), 6.0);
    }
}
