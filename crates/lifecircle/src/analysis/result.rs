//! What an analysis found: per category, per community, per demand point.

use std::borrow::Cow;

use super::{assign::UNASSIGNED, places::CapacityResult, CategoryPlan, Plan, Warning};
use crate::{
    error::FeatureError,
    model::{Community, Facility, Id, Residence},
    profile::Walk,
    walk::Reach,
};

/// Results for one category of service.
#[derive(Debug, Clone)]
pub struct CategoryResult {
    /// The category's key: the profile key (`meals`, `elderly_care`, ...), or the value found
    /// in the data for a local extra.
    pub name: String,
    /// How the category is measured.
    pub plan: CategoryPlan,
    /// Indices (into [`Analysis::facilities`]) of the facilities offering it.
    pub facilities: Vec<u32>,
    /// For every demand point, its nearest facility of this category; `Reach::facility`
    /// indexes [`CategoryResult::facilities`].
    pub reach: Vec<Reach>,
    /// The people the category counts (its target group, or everyone) with a facility within
    /// the walk.
    pub covered_population: f64,
    /// `covered_population` over `counted_population` (0 when nobody is counted).
    pub coverage: f64,
    /// The people the category counts: the sum of its group's counts (a demand point without
    /// one counts its whole population), or the whole population.
    pub counted_population: f64,
    /// Everyone (the whole population) within the walk.
    pub covered_everyone: f64,
    /// `covered_everyone` over the whole population (0 when there is nobody).
    pub coverage_everyone: f64,
    /// Demand points that have no count for the category's group and count their whole
    /// population instead (0 for categories without a group).
    pub group_defaulted: usize,
    /// Number of communities below target for this category.
    pub communities_lacking: usize,
    /// Per facility of the category (in [`CategoryResult::facilities`] order), its catchment:
    /// the people the category counts who have it as their nearest facility within the walk.
    pub catchment: Vec<f64>,
    /// Capacity within reach (2SFCA / E2SFCA), for a category whose facilities give a
    /// capacity.
    pub capacity: Option<CapacityResult>,
}

impl CategoryResult {
    /// The total capacity of the category's facilities that give one, and how many of those
    /// have a catchment above their capacity; `None` when no facility gives one.
    pub fn capacity(&self, facilities: &[Facility]) -> Option<(f64, usize)> {
        let mut found = None;
        for (k, &i) in self.facilities.iter().enumerate() {
            if let Some(cap) = facilities[i as usize].capacity {
                let (total, over) = found.get_or_insert((0.0, 0));
                *total += cap;
                *over += usize::from(self.catchment.get(k).copied().unwrap_or(0.0) > cap);
            }
        }
        found
    }

    /// The facility a demand point reaches (its nearest), if any.
    pub fn facility_of(&self, demand: usize) -> Option<usize> {
        let r = self.reach.get(demand)?;
        r.facility()
            .and_then(|k| self.facilities.get(k))
            .map(|&i| i as usize)
    }

    /// True when demand point `demand` has a facility within the category's walk.
    pub fn within(&self, demand: usize) -> bool {
        self.reach
            .get(demand)
            .is_some_and(|r| r.within(self.plan.max_walk_m))
    }
}

/// Results for one community.
#[derive(Debug)]
pub struct CommunityResult {
    /// Population of its demand points.
    pub population: f64,
    /// Per category (same order as [`Analysis::categories`]): share of the people the category
    /// counts (its group, or everyone) within reach, or `None` when it counts nobody here.
    pub coverage: Vec<Option<f64>>,
    /// Per category: share of the whole population within reach, or `None` when the community
    /// has no population.
    pub coverage_everyone: Vec<Option<f64>>,
    /// Per category: the people it counts here.
    pub counted: Vec<f64>,
    /// Indices of categories below target (judged on `coverage`).
    pub lacking: Vec<usize>,
    /// Indices of categories short of places against their standard (capacity within reach).
    pub lacking_capacity: Vec<usize>,
    /// People lacking at least one category.
    pub gap_population: f64,
}

/// A finished analysis. It borrows the inputs it was given where it could use them as they
/// are (WGS84 values), and owns converted or derived ones.
#[derive(Debug)]
pub struct Analysis<'a> {
    /// `"straight-line"` or `"network"`.
    pub mode: &'static str,
    /// The plan used.
    pub plan: Plan,
    /// All facilities given (in WGS84).
    pub facilities: Cow<'a, [Facility]>,
    /// The demand points (in WGS84): residences, or community points when no residences were
    /// given.
    pub demand: Cow<'a, [Residence]>,
    /// True when the demand points are the communities themselves.
    pub demand_is_communities: bool,
    /// For every demand point, its community index, or `u32::MAX` when it belongs to none.
    pub demand_community: Vec<u32>,
    /// Communities (as given, in WGS84, or derived from residence `community` properties).
    pub communities: Cow<'a, [Community]>,
    /// True when the communities came from a file (false: derived from residences).
    pub communities_given: bool,
    /// Per-community results, parallel to `communities`.
    pub community_results: Vec<CommunityResult>,
    /// Per-category results.
    pub categories: Vec<CategoryResult>,
    /// The profile's walking levels, nearest first (by their walk at the profile's speed).
    pub levels: Vec<(String, Walk)>,
    /// Demand points not placed on the walking model (off the street network).
    pub unplaced: Vec<bool>,
    /// Features skipped in any input file.
    pub skipped: Vec<FeatureError>,
    /// Residences whose `community` property named no known community.
    pub unknown_community_refs: Vec<(usize, Id)>,
    /// Residences whose population was absent and counted as 1.
    pub population_defaulted: usize,
    /// Total demand population.
    pub population: f64,
    /// Inputs that are probably a mistake (checked after the analysis).
    pub warnings: Vec<Warning>,
    /// With planned facilities ([`Inputs::planned`](crate::Inputs::planned)), the stage after
    /// them beside this one (today's).
    pub scenario: Option<Box<super::Scenario<'a>>>,
    /// The service areas, when drawn ([`crate::service_area::service_areas`]; `analyze`
    /// leaves this `None`): the outputs write them as `service_areas`.
    pub service_areas: Option<crate::service_area::ServiceAreas>,
}

impl Analysis<'_> {
    /// Categories a demand point lacks (no facility within the category's walk), as indices.
    pub fn missing(&self, demand: usize) -> impl Iterator<Item = usize> + '_ {
        self.categories
            .iter()
            .enumerate()
            .filter(move |(_, c)| !c.within(demand))
            .map(|(i, _)| i)
    }

    /// Number of communities that lack at least one category (below its target).
    pub fn communities_lacking(&self) -> usize {
        self.community_results
            .iter()
            .filter(|r| !r.lacking.is_empty())
            .count()
    }

    /// Number of communities with people in them (population above 0): only these can lack
    /// a category.
    pub fn populated_communities(&self) -> usize {
        self.community_results
            .iter()
            .filter(|r| r.population > 0.0)
            .count()
    }

    /// The communities that lack at least one category, largest gap population first (then
    /// the most categories lacking, then input order), as indices.
    pub fn communities_by_gap(&self) -> Vec<usize> {
        let r = &self.community_results;
        let mut worst: Vec<usize> = (0..r.len()).filter(|&i| !r[i].lacking.is_empty()).collect();
        worst.sort_by(|&x, &y| {
            r[y].gap_population
                .total_cmp(&r[x].gap_population)
                .then(r[y].lacking.len().cmp(&r[x].lacking.len()))
                .then(x.cmp(&y))
        });
        worst
    }

    /// The maximum walk, metres, when every category has the same one.
    pub fn shared_max_walk_m(&self) -> Option<f64> {
        shared(self.categories.iter().map(|c| c.plan.max_walk_m))
    }

    /// The target share, percent, when every category has the same one.
    pub fn shared_target_percent(&self) -> Option<f64> {
        shared(self.categories.iter().map(|c| c.plan.target_percent))
    }

    /// Indices of the categories at a level.
    pub fn level_categories<'a>(&'a self, level: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.categories
            .iter()
            .enumerate()
            .filter(move |(_, c)| c.plan.level.as_deref() == Some(level))
            .map(|(j, _)| j)
    }

    /// Number of demand points that belong to no community, and their population.
    pub fn unassigned(&self) -> (usize, f64) {
        self.demand_community
            .iter()
            .zip(self.demand.iter())
            .filter(|(c, _)| **c == UNASSIGNED)
            .fold((0, 0.0), |(n, p), (_, r)| (n + 1, p + r.population))
    }

    /// The capacity properties the profile names (a category's `capacity_field`) that none of
    /// the category's facilities gives, as `(category, property)`: a misspelt name would
    /// otherwise leave the category without capacity within reach, silently. A category
    /// without facilities is not listed.
    pub fn absent_capacity_fields(&self) -> Vec<(&str, &str)> {
        self.categories
            .iter()
            .filter(|c| c.capacity.is_none() && !c.facilities.is_empty())
            .filter_map(|c| Some((c.name.as_str(), c.plan.capacity_field.as_deref()?)))
            .collect()
    }

    /// Number of demand points off the walking model, and their population.
    pub fn off_network(&self) -> (usize, f64) {
        self.unplaced
            .iter()
            .zip(self.demand.iter())
            .filter(|(u, _)| **u)
            .fold((0, 0.0), |(n, p), (_, r)| (n + 1, p + r.population))
    }
}

/// The value every item has, if they all have the same one (and there is at least one).
fn shared(mut values: impl Iterator<Item = f64>) -> Option<f64> {
    let first = values.next()?;
    values.all(|v| v == first).then_some(first)
}
