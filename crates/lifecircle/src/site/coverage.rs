//! Coverage sets: which candidates reach which demand, with the demand points that are
//! reached by exactly the same candidates merged into one element (their weights add up).
//!
//! Built from the sparse [`Pairs`] tables of the walking models (one per sited category, with
//! the candidates as facilities). Only demand that still lacks the category counts: what the
//! existing facilities already cover is left out, and so is demand no candidate reaches (the
//! caller reports it). Elements of different groups are never merged: a group is a category,
//! or a category in one community, whatever the goal needs to count separately.

use std::hash::BuildHasher;

use rayon::prelude::*;

use crate::walk::Pairs;

/// One category's demand as the instance sees it.
pub(crate) struct CategoryCover<'a> {
    /// Every (demand point, candidate) pair within the category's walk.
    pub(crate) pairs: &'a Pairs,
    /// Demand points left out: already covered by an existing facility, or counting nobody.
    pub(crate) skip: &'a [bool],
    /// The people each demand point counts for the category.
    pub(crate) weight: &'a [f64],
    /// The group of each demand point.
    pub(crate) group: &'a [u32],
}

/// A covering instance: elements (merged demand) with weights and groups, the candidates that
/// cover each, and what each group needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Instance {
    /// Number of candidates.
    pub(crate) candidates: usize,
    /// Weight (people counted) of every element.
    pub(crate) weight: Vec<f64>,
    /// Group of every element.
    pub(crate) group: Vec<u32>,
    /// The candidates of element `e` are `e_cand[e_start[e]..e_start[e + 1]]`, increasing.
    pub(crate) e_start: Vec<usize>,
    pub(crate) e_cand: Vec<u32>,
    /// The elements of candidate `j` are `c_elem[c_start[j]..c_start[j + 1]]`, increasing.
    pub(crate) c_start: Vec<usize>,
    pub(crate) c_elem: Vec<u32>,
    /// Per group: the weight that must be newly covered (cover goals).
    pub(crate) need: Vec<f64>,
    /// Per group: every element must be covered (the need is all of the group's weight).
    pub(crate) full: Vec<bool>,
    /// Per candidate: its cost (0 when costs play no part).
    pub(crate) cost: Vec<f64>,
    /// Demand points (per category, summed) that went into the elements.
    pub(crate) demand_points: usize,
}

impl Instance {
    /// Number of elements.
    pub(crate) fn elements(&self) -> usize {
        self.weight.len()
    }

    /// The candidates covering element `e`.
    pub(crate) fn of_element(&self, e: usize) -> &[u32] {
        &self.e_cand[self.e_start[e]..self.e_start[e + 1]]
    }

    /// The elements covered by candidate `j`.
    pub(crate) fn of_candidate(&self, j: usize) -> &[u32] {
        &self.c_elem[self.c_start[j]..self.c_start[j + 1]]
    }

    /// Number of groups.
    pub(crate) fn groups(&self) -> usize {
        self.need.len()
    }

    /// Total weight per group (of the elements, that is of the demand some candidate reaches).
    pub(crate) fn group_weight(&self, groups: usize) -> Vec<f64> {
        let mut w = vec![0.0; groups];
        for (e, &g) in self.group.iter().enumerate() {
            w[g as usize] += self.weight[e];
        }
        w
    }

    /// Merge the demand of `categories` over `candidates` candidates into elements.
    pub(crate) fn build(candidates: usize, categories: &[CategoryCover<'_>]) -> Instance {
        let mut weight = Vec::new();
        let mut group = Vec::new();
        let mut e_start = vec![0usize];
        let mut e_cand: Vec<u32> = Vec::new();
        let mut demand_points = 0;
        for cat in categories {
            let n = cat.skip.len();
            // Transpose: the candidates of every demand point that counts.
            let mut count = vec![0u32; n + 1];
            for (_, i, _) in cat.pairs.iter() {
                if !cat.skip[i] {
                    count[i] += 1;
                }
            }
            let mut start = Vec::with_capacity(n + 1);
            let mut total = 0usize;
            for c in &count[..n] {
                start.push(total);
                total += *c as usize;
            }
            start.push(total);
            let mut fill = start.clone();
            let mut lists = vec![0u32; total];
            for (j, i, _) in cat.pairs.iter() {
                if !cat.skip[i] {
                    lists[fill[i]] = j as u32;
                    fill[i] += 1;
                }
            }
            drop(fill);
            let list = |i: usize| &lists[start[i]..start[i + 1]];
            let hasher = foldhash::fast::FixedState::with_seed(0x5173);
            let mut keys: Vec<(u32, u64, u32)> = (0..n)
                .into_par_iter()
                .filter(|&i| start[i + 1] > start[i])
                .map(|i| (cat.group[i], hasher.hash_one(list(i)), i as u32))
                .collect();
            demand_points += keys.len();
            keys.par_sort_unstable();
            // Runs of equal (group, hash); within one, the distinct lists (a collision is rare).
            let mut k = 0;
            while k < keys.len() {
                let mut end = k + 1;
                while end < keys.len() && keys[end].0 == keys[k].0 && keys[end].1 == keys[k].1 {
                    end += 1;
                }
                let mut reps: Vec<(u32, f64)> = Vec::new();
                for &(_, _, i) in &keys[k..end] {
                    let i = i as usize;
                    match reps.iter_mut().find(|(r, _)| list(*r as usize) == list(i)) {
                        Some((_, w)) => *w += cat.weight[i],
                        None => reps.push((i as u32, cat.weight[i])),
                    }
                }
                for (r, w) in reps {
                    weight.push(w);
                    group.push(keys[k].0);
                    e_cand.extend_from_slice(list(r as usize));
                    e_start.push(e_cand.len());
                }
                k = end;
            }
        }
        // Transpose again: the elements of every candidate.
        let mut c_count = vec![0usize; candidates + 1];
        for &j in &e_cand {
            c_count[j as usize + 1] += 1;
        }
        for j in 0..candidates {
            c_count[j + 1] += c_count[j];
        }
        let c_start = c_count;
        let mut fill = c_start.clone();
        let mut c_elem = vec![0u32; e_cand.len()];
        for e in 0..weight.len() {
            for &j in &e_cand[e_start[e]..e_start[e + 1]] {
                c_elem[fill[j as usize]] = e as u32;
                fill[j as usize] += 1;
            }
        }
        Instance {
            candidates,
            weight,
            group,
            e_start,
            e_cand,
            c_start,
            c_elem,
            need: Vec::new(),
            full: Vec::new(),
            cost: vec![0.0; candidates],
            demand_points,
        }
    }

    /// An instance given directly by its sets (tests and the exhaustive references): element
    /// `e` has `weight[e]`, group `group[e]` and is covered by the candidates `sets[e]`.
    #[cfg(test)]
    pub(crate) fn from_sets(
        candidates: usize,
        sets: &[Vec<u32>],
        weight: &[f64],
        group: &[u32],
    ) -> Instance {
        let pairs_lists: Vec<Vec<(u32, f64)>> = (0..candidates)
            .map(|j| {
                sets.iter()
                    .enumerate()
                    .filter(|(_, s)| s.contains(&(j as u32)))
                    .map(|(e, _)| (e as u32, 0.0))
                    .collect()
            })
            .collect();
        let pairs = Pairs::from_lists(pairs_lists);
        let skip = vec![false; sets.len()];
        Instance::build(
            candidates,
            &[CategoryCover {
                pairs: &pairs,
                skip: &skip,
                weight,
                group,
            }],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_candidate_sets_merge_within_a_group() {
        // Demand 0 and 2 are reached by candidates {0, 1}; 1 by {1}; 3 by nobody; 4 by {0, 1}
        // in another group.
        let sets = [vec![0, 1], vec![1], vec![0, 1], vec![], vec![0, 1]];
        let weight = [10.0, 5.0, 7.0, 100.0, 1.0];
        let group = [0, 0, 0, 0, 1];
        let inst = Instance::from_sets(2, &sets, &weight, &group);
        assert_eq!(inst.demand_points, 4);
        let mut elements: Vec<(u32, Vec<u32>, f64)> = (0..inst.elements())
            .map(|e| (inst.group[e], inst.of_element(e).to_vec(), inst.weight[e]))
            .collect();
        elements.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(
            elements,
            vec![
                (0, vec![0, 1], 17.0),
                (0, vec![1], 5.0),
                (1, vec![0, 1], 1.0)
            ]
        );
        for j in 0..2 {
            for &e in inst.of_candidate(j) {
                assert!(inst.of_element(e as usize).contains(&(j as u32)));
            }
        }
        assert_eq!(inst.of_candidate(0).len(), 2);
        assert_eq!(inst.of_candidate(1).len(), 3);
    }
}
