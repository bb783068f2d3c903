//! The coverage-gap analysis: who can reach each category of service within the walk, per
//! residence, per community and for the whole city.
//!
//! [`analyze`] drives it: the inputs ([`Inputs`]) are converted to WGS84, residences are
//! assigned to communities (`assign`), the plan is resolved per category against the facilities
//! ([`plan`](Plan)), the walking model measures each category's nearest facility, and the sums
//! (`sums`) give coverage per community and for the city ([`Analysis`]).

use std::borrow::Cow;

use rayon::prelude::*;

mod assign;
mod checks;
mod inputs;
pub(crate) mod places;
mod plan;
mod result;
mod scenario;
mod sums;

pub(crate) use self::places::counted_people;
pub use self::{
    checks::{FarCause, Warning, FAR_M},
    inputs::{Inputs, Planned},
    places::CapacityResult,
    plan::{CategoryPlan, Plan, PlanBuilder},
    result::{Analysis, CategoryResult, CommunityResult},
    scenario::{CategoryChange, Scenario},
};
use self::{
    inputs::{communities_to_wgs84, points_to_wgs84},
    plan::plan_categories,
    sums::summarise,
};
use crate::{
    error::{Error, Result, Setting, SettingsError},
    geodesy::LonLat,
    io::GroupCounts,
    model::{Facility, Residence},
    profile::Walk,
    walk::{PreparedDemand, WalkingDistance},
};

/// The capacities of a category's facilities, when any of them gives one.
fn category_capacity(
    category: &CategoryPlan,
    idx: &[u32],
    facilities: &[Facility],
) -> Option<Vec<Option<f64>>> {
    let field = category.capacity_field.as_deref();
    let capacity: Vec<Option<f64>> = idx
        .iter()
        .map(|&i| facilities[i as usize].capacity_in(field))
        .collect();
    capacity.iter().any(Option::is_some).then_some(capacity)
}

/// What measuring a category needs: the prepared demand and what the sums count.
struct Measure<'m> {
    prepared: &'m dyn PreparedDemand,
    demand: &'m [Residence],
    demand_community: &'m [u32],
    communities: usize,
    groups: &'m GroupCounts,
    progress: &'m dyn Progress,
}

impl Measure<'_> {
    /// Every demand point's nearest facility of a category (its facilities `idx` of
    /// `facilities`) and, when they give capacities, the capacity within reach; the sums are
    /// left to `summarise`. `stage` is appended to the progress stage's name.
    fn category(
        &self,
        category: CategoryPlan,
        idx: Vec<u32>,
        facilities: &[Facility],
        stage: &str,
    ) -> CategoryResult {
        let progress = self.progress;
        progress.stage(&format!("measuring walks to {}{stage}", category.key));
        let at: Vec<LonLat> = idx.iter().map(|&i| facilities[i as usize].at).collect();
        let reach = self.prepared.nearest(&at, category.max_walk_m);
        let pairs = category_capacity(&category, &idx, facilities).map(|capacity| {
            progress.stage(&format!(
                "measuring capacity within reach of {}",
                category.key
            ));
            (capacity, self.prepared.within(&at, category.max_walk_m))
        });
        let mut result = CategoryResult {
            name: category.key.clone(),
            plan: category,
            facilities: idx,
            reach,
            covered_population: 0.0,
            coverage: 0.0,
            counted_population: 0.0,
            covered_everyone: 0.0,
            coverage_everyone: 0.0,
            group_defaulted: 0,
            communities_lacking: 0,
            catchment: Vec::new(),
            capacity: None,
        };
        if let Some((capacity, pairs)) = pairs {
            let people = places::counted_people(&result, self.demand, self.groups);
            result.capacity = Some(places::capacity_result(
                &result,
                capacity,
                &pairs,
                &people,
                self.demand_community,
                self.communities,
            ));
        }
        result
    }
}

/// Stages reported while an analysis runs (for progress display).
pub trait Progress: Sync {
    /// A new stage begins.
    fn stage(&self, what: &str);
}

impl Progress for () {
    fn stage(&self, _what: &str) {}
}

/// Measure who reaches each category of service within its walk: per demand point, per
/// community and for the whole city.
///
/// The inputs are first converted to WGS84 from the systems that the plan's
/// [`coords`](Plan::coords) declare (borrowed as they are when already WGS84); every distance is
/// measured in WGS84, by `walking`. Each stage is announced to `progress` (`&()` for none).
///
/// # Errors
/// With a strict plan, the first feature that loading skipped ([`Error::Feature`]) or a
/// residence naming an unknown community; a [`SettingsError`](crate::SettingsError) without
/// residences and communities, with no demand point, or for a category that needs a default
/// walk the profile does not have.
pub fn analyze<'a>(
    inputs: Inputs<'a>,
    plan: Plan,
    walking: &dyn WalkingDistance,
    progress: &dyn Progress,
) -> Result<Analysis<'a>> {
    let Inputs {
        facilities,
        residences,
        communities,
        groups,
        mut skipped,
        population_defaulted,
        planned,
    } = inputs;
    if plan.strict() {
        if let Some(first) = skipped.into_iter().next() {
            return Err(Error::Feature(first));
        }
        skipped = Vec::new();
    }
    let coords = plan.coords();
    let facilities = points_to_wgs84(facilities, coords.facilities, |f| &mut f.at);
    let residences = residences.map(|r| points_to_wgs84(r, coords.residences, |r| &mut r.at));
    let communities = communities.map(|c| communities_to_wgs84(c, coords.communities));

    progress.stage("assigning residences to communities");
    let communities_given = communities.is_some();
    let (demand, demand_is_communities, communities, demand_community, unknown_community_refs) =
        match (residences, communities) {
            (Some(res), Some(com)) => {
                let a = assign::assign(&res, &com);
                (res, false, com, a.community, a.unknown_refs)
            }
            (Some(res), None) => {
                let (com, of) = assign::communities_from_properties(&res);
                (res, false, Cow::Owned(com), of, Vec::new())
            }
            (None, Some(com)) => {
                let demand: Vec<Residence> = com
                    .iter()
                    .map(|c| Residence {
                        id: c.id.clone(),
                        at: c.at,
                        population: c.population.unwrap_or(1.0),
                        community: Some(c.id.clone()),
                        index: c.index,
                    })
                    .collect();
                let of = (0..com.len() as u32).collect();
                (Cow::Owned(demand), true, com, of, Vec::new())
            }
            (None, None) => {
                return Err(SettingsError::without_value(
                    Setting::Demand,
                    "nothing to measure from: give residences, communities, or both",
                )
                .into())
            }
        };
    if plan.strict() {
        if let Some((i, id)) = unknown_community_refs.first() {
            return Err(SettingsError::new(
                Setting::CommunityRef,
                format!("\"{id}\""),
                format!(
                    "of residence {} must name one of the communities",
                    demand[*i].index_or(*i)
                ),
            )
            .into());
        }
    }
    if demand.is_empty() {
        return Err(SettingsError::without_value(
            Setting::Demand,
            "no usable demand point (residence or community) is left after skipping bad features",
        )
        .into());
    }
    // No counts, or counts that do not match the demand points: every group falls back.
    let no_groups = GroupCounts::default();
    let groups = groups
        .filter(|g| g.counts.len() == demand.len() * g.names.len())
        .unwrap_or(&no_groups);

    let plans = plan_categories(&plan, &facilities)?;
    let planned = planned
        .map(|p| {
            let items = points_to_wgs84(p.items, p.crs, |x| &mut x.facility.at);
            (p, items)
        })
        .map(|(p, items)| scenario::Merged::new(&plan, &facilities, &plans, p, items))
        .transpose()?;
    progress.stage("indexing demand points");
    let points: Vec<LonLat> = demand.par_iter().map(|r| r.at).collect();
    let prepared = walking.prepare(&points);
    let unplaced = prepared.unplaced();
    let measure = Measure {
        prepared: prepared.as_ref(),
        demand: &demand,
        demand_community: &demand_community,
        communities: communities.len(),
        groups,
        progress,
    };
    let categories: Vec<CategoryResult> = plans
        .into_iter()
        .map(|(category, idx)| measure.category(category, idx, &facilities, ""))
        .collect();
    let after = planned.map(|m| m.measure(&measure, &categories));
    drop(prepared);
    drop(points);

    progress.stage("summarising coverage");
    let stage = |facilities, mut categories: Vec<CategoryResult>| {
        let mut community_results = summarise(
            &demand,
            &demand_community,
            communities.len(),
            &mut categories,
            groups,
        );
        places::mark_short(&categories, &mut community_results);
        (facilities, categories, community_results)
    };
    let after = after.map(|(facilities, categories, merged)| {
        (stage(Cow::Owned(facilities), categories), merged)
    });
    let (facilities, categories, community_results) = stage(facilities, categories);
    let population = demand.iter().map(|r| r.population).sum();
    let profile = plan.profile();
    let mut levels: Vec<(String, Walk)> = profile
        .levels
        .iter()
        .map(|(k, w)| (k.clone(), *w))
        .collect();
    levels.sort_by(|a, b| {
        let m = |w: Walk| w.to_metres(profile.walk_speed_m_per_s);
        m(a.1).total_cmp(&m(b.1)).then_with(|| a.0.cmp(&b.0))
    });
    let mut analysis = Analysis {
        mode: walking.mode(),
        plan,
        facilities,
        demand,
        demand_is_communities,
        demand_community,
        communities,
        communities_given,
        community_results,
        categories,
        levels,
        unplaced,
        skipped,
        unknown_community_refs,
        population_defaulted,
        population,
        warnings: Vec::new(),
        scenario: None,
        service_areas: None,
    };
    if let Some(((facilities, categories, community_results), merged)) = after {
        let after = Analysis {
            mode: analysis.mode,
            plan: analysis.plan.clone(),
            facilities,
            demand: analysis.demand.clone(),
            demand_is_communities,
            demand_community: analysis.demand_community.clone(),
            communities: analysis.communities.clone(),
            communities_given,
            community_results,
            categories,
            levels: analysis.levels.clone(),
            unplaced: analysis.unplaced.clone(),
            skipped: Vec::new(),
            unknown_community_refs: Vec::new(),
            population_defaulted,
            population,
            warnings: Vec::new(),
            scenario: None,
            service_areas: None,
        };
        analysis.scenario = Some(Box::new(merged.finish(&analysis, after)));
    }
    analysis.warnings = checks::check(&analysis, groups);
    Ok(analysis)
}
