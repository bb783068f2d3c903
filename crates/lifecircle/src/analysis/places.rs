//! Capacity within reach per category: the floating catchment ([`crate::capacity`]) over every
//! pair within the walk, and per community the places in reach, the places a standard asks for
//! and the shortfall.

use super::{assign::UNASSIGNED, CategoryResult, CommunityResult};
use crate::{capacity::Catchments, io::GroupCounts, model::Residence, walk::Pairs};

/// A category's capacity-aware results (for categories whose facilities give a capacity).
#[derive(Debug, Clone)]
pub struct CapacityResult {
    /// Per facility of the category (in [`CategoryResult::facilities`] order), its capacity;
    /// `None` for a facility without one (it takes no part and is reported).
    pub capacity: Vec<Option<f64>>,
    /// Facilities of the category without a capacity.
    pub without_capacity: usize,
    /// Both steps of the floating catchment: per facility its ratio and weighted demand in
    /// reach, per demand point its access (places per counted person; NaN: nothing in reach).
    pub catchments: Catchments,
    /// Pairs (demand point, facility) within the walk.
    pub pairs: usize,
    /// Per community: the places within reach of its people, the sum of counted people times
    /// their access.
    pub places_in_reach: Vec<f64>,
    /// Per community: the places the standard asks for (empty without a standard).
    pub places_needed: Vec<f64>,
    /// The whole city: places within reach (equals the capacity of facilities with demand in
    /// reach).
    pub city_places_in_reach: f64,
    /// Total capacity of the category's facilities that give one.
    pub total_capacity: f64,
    /// Total weighted demand within reach of the facilities.
    pub demand_in_reach: f64,
}

impl CapacityResult {
    /// The shortfall of community `c`: places needed beyond those in reach (0 without a
    /// standard, or when there are enough).
    pub fn shortfall(&self, c: usize) -> f64 {
        match (self.places_needed.get(c), self.places_in_reach.get(c)) {
            (Some(need), Some(have)) => (need - have).max(0.0),
            _ => 0.0,
        }
    }

    /// True when the standard is given and community `c` is short of places.
    pub fn lacks(&self, c: usize) -> bool {
        self.shortfall(c) > 1e-9 * self.places_needed.get(c).copied().unwrap_or(0.0).max(1.0)
    }

    /// Access of community `c`: places in reach per counted person (`None`: nobody counted).
    pub fn access_of(&self, c: usize, counted: f64) -> Option<f64> {
        (counted > 0.0).then(|| self.places_in_reach.get(c).copied().unwrap_or(0.0) / counted)
    }

    /// City-wide access: places in reach per counted person (`None`: nobody counted).
    pub fn city_access(&self, counted: f64) -> Option<f64> {
        (counted > 0.0).then(|| self.city_places_in_reach / counted)
    }
}

/// The people category `cat` counts at each demand point: its group's count where the point
/// has one, else the point's population.
pub(crate) fn counted_people(
    cat: &CategoryResult,
    demand: &[Residence],
    groups: &GroupCounts,
) -> Vec<f64> {
    let column = group_column(cat, groups);
    demand
        .iter()
        .enumerate()
        .map(|(k, r)| {
            column
                .and_then(|g| groups.get(k, g))
                .unwrap_or(r.population)
        })
        .collect()
}

/// The column of `groups` that holds the target group category `cat` counts, if any.
pub(crate) fn group_column(cat: &CategoryResult, groups: &GroupCounts) -> Option<usize> {
    cat.plan
        .group
        .as_ref()
        .and_then(|g| groups.names.iter().position(|n| n == g))
}

/// Both steps for one category, and the per-community places.
pub(crate) fn capacity_result(
    cat: &CategoryResult,
    capacity: Vec<Option<f64>>,
    pairs: &Pairs,
    people: &[f64],
    demand_community: &[u32],
    communities: usize,
) -> CapacityResult {
    let catchments = Catchments::compute(pairs, &capacity, people, &cat.plan.weighting);
    let mut places_in_reach = vec![0.0; communities];
    let mut counted = vec![0.0; communities];
    let mut city = 0.0;
    for ((&a, &p), &c) in catchments.access.iter().zip(people).zip(demand_community) {
        let places = if a.is_nan() { 0.0 } else { a * p };
        city += places;
        if c != UNASSIGNED && (c as usize) < communities {
            places_in_reach[c as usize] += places;
            counted[c as usize] += p;
        }
    }
    let places_needed = match &cat.plan.standard {
        Some(st) => counted.iter().map(|&n| st.places_for(n)).collect(),
        None => Vec::new(),
    };
    CapacityResult {
        without_capacity: capacity.iter().filter(|c| c.is_none()).count(),
        total_capacity: capacity.iter().flatten().sum(),
        demand_in_reach: catchments.demand_in_reach.iter().sum(),
        capacity,
        pairs: pairs.len(),
        catchments,
        places_in_reach,
        places_needed,
        city_places_in_reach: city,
    }
}

/// Communities short of places, per category (indices into the categories), in each
/// community's result.
pub(crate) fn mark_short(categories: &[CategoryResult], results: &mut [CommunityResult]) {
    for (c, r) in results.iter_mut().enumerate() {
        r.lacking_capacity = categories
            .iter()
            .enumerate()
            .filter(|(_, cat)| cat.capacity.as_ref().is_some_and(|cap| cap.lacks(c)))
            .map(|(j, _)| j)
            .collect();
    }
}
