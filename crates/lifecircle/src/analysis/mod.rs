//! The coverage-gap analysis: who can reach each category of service within the walk, per
//! residence, per community and for the whole city.

use std::collections::{BTreeSet, HashMap};

use geo::{Geometry, Point};
use rayon::prelude::*;

mod assign;

use self::assign::UNASSIGNED;
use crate::{
    coords::{self, CoordSystems, Crs},
    error::{Error, FeatureError, Result},
    geodesy::LonLat,
    io::load::{GroupCounts, Loaded},
    model::{Community, Facility, Id, Residence},
    profile::{CategorySpec, Profile, Walk},
    walk::{straight_line::StraightLine, Reach, WalkingDistance},
};

/// Settings for one analysis: a planning profile, and command-line overrides that, when given,
/// apply to every category.
///
/// Precedence for each category: an override (`max_walk`, `walk_speed_m_per_s`,
/// `target_percent`) if set, else the category's own value in the profile, else the profile's
/// default. Minutes are turned into metres with the category's walking speed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The planning profile: categories, aliases, walks, targets, target groups, levels.
    pub profile: Profile,
    /// Overrides every category's maximum walk.
    pub max_walk: Option<Walk>,
    /// Overrides every category's walking speed, m/s (used to turn minutes into metres).
    pub walk_speed_m_per_s: Option<f64>,
    /// Overrides every category's target share, percent.
    pub target_percent: Option<f64>,
    /// Only these categories, in this order. A name that is a profile category's key or alias
    /// selects that category; any other name is matched exactly against facility categories as
    /// a local extra. `None`: the profile's categories, plus (with `include_other_categories`)
    /// every other category found among the facilities.
    pub categories: Option<Vec<String>>,
    /// Make any bad feature fatal instead of skipping it.
    pub strict: bool,
    /// Coordinate systems of the inputs and outputs.
    pub coords: CoordSystems,
}

impl Settings {
    /// The default profile ([`profile::DEFAULT_PROFILE`](crate::profile::DEFAULT_PROFILE))
    /// with every category walking `max_walk_m` metres against `target_percent`.
    ///
    /// # Errors
    /// A non-positive or non-finite reach, a target outside 0..=100 %, or an empty category name.
    pub fn new(
        max_walk_m: f64,
        target_percent: f64,
        categories: Option<Vec<String>>,
        strict: bool,
    ) -> Result<Self> {
        if !(max_walk_m.is_finite() && max_walk_m > 0.0) {
            return Err(Error::Settings(format!(
                "the walking reach must be a positive distance, got {max_walk_m} m"
            )));
        }
        let settings = Self {
            max_walk: Some(Walk::Metres(max_walk_m)),
            target_percent: Some(target_percent),
            categories,
            strict,
            ..Self::for_profile(Profile::builtin(crate::profile::DEFAULT_PROFILE)?)
        };
        settings.check()?;
        Ok(settings)
    }

    /// A profile without overrides, WGS84 everywhere, lenient.
    pub fn for_profile(profile: Profile) -> Self {
        Self {
            profile,
            max_walk: None,
            walk_speed_m_per_s: None,
            target_percent: None,
            categories: None,
            strict: false,
            coords: CoordSystems::default(),
        }
    }

    /// Check the overrides.
    ///
    /// # Errors
    /// A non-positive walk or walking speed, a target outside 0..=100 %, or an empty category
    /// name, each named by its command-line option.
    pub fn check(&self) -> Result<()> {
        if let Some(w) = self.max_walk {
            let (Walk::Minutes(v) | Walk::Metres(v)) = w;
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::Settings(format!(
                    "--max-walk must be a positive time or distance, got {w}"
                )));
            }
        }
        if let Some(s) = self.walk_speed_m_per_s {
            if !(s.is_finite() && s > 0.0) {
                return Err(Error::Settings(format!(
                    "--walk-speed must be a positive number of m/s, got {s}"
                )));
            }
        }
        if let Some(t) = self.target_percent {
            if !(0.0..=100.0).contains(&t) {
                return Err(Error::Settings(format!(
                    "--target must be a percentage from 0 to 100, got {t}"
                )));
            }
        }
        if let Some(cats) = &self.categories {
            if cats.is_empty() || cats.iter().any(|c| c.trim().is_empty()) {
                return Err(Error::Settings(
                    "--categories needs one or more non-empty names separated by commas".into(),
                ));
            }
        }
        Ok(())
    }

    /// The residence properties holding target-group counts that the analysed profile
    /// categories need, each once, in profile order.
    pub fn group_fields(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let selected: Vec<&CategorySpec> = match &self.categories {
            None => self.profile.categories.iter().collect(),
            Some(names) => names
                .iter()
                .filter_map(|n| self.profile.category_for(n))
                .collect(),
        };
        for g in selected.into_iter().filter_map(|c| c.group.as_ref()) {
            if !out.contains(g) {
                out.push(g.clone());
            }
        }
        out
    }

    /// The resolved plan for a profile category.
    fn plan_for(&self, spec: &CategorySpec) -> CategoryPlan {
        let p = &self.profile;
        let speed = self
            .walk_speed_m_per_s
            .unwrap_or_else(|| spec.walk_speed_or(p.walk_speed_m_per_s));
        let walk = self.max_walk.unwrap_or(spec.max_walk);
        CategoryPlan {
            key: spec.key.clone(),
            name_zh: spec.name_zh.clone(),
            name_en: spec.name_en.clone(),
            max_walk_m: walk.to_metres(speed),
            walk_speed_m_per_s: speed,
            target_percent: self
                .target_percent
                .unwrap_or_else(|| p.target_percent_for(spec)),
            group: spec.group.clone(),
            level: spec.level.clone(),
            extra: false,
        }
    }

    /// The plan for a category value the profile does not list (a local extra).
    fn plan_for_extra(&self, value: &str) -> Result<CategoryPlan> {
        let p = &self.profile;
        let speed = self.walk_speed_m_per_s.unwrap_or(p.walk_speed_m_per_s);
        let walk = self.max_walk.or(p.max_walk).ok_or_else(|| {
            Error::Settings(format!(
                "category '{value}' is not in profile '{}', which has no default max_walk for \
                 other categories: give --max-walk, or use a profile that lists it",
                p.name
            ))
        })?;
        Ok(CategoryPlan {
            key: value.to_string(),
            name_zh: value.to_string(),
            name_en: value.to_string(),
            max_walk_m: walk.to_metres(speed),
            walk_speed_m_per_s: speed,
            target_percent: self.target_percent.unwrap_or(p.target_percent),
            group: None,
            level: None,
            extra: true,
        })
    }
}

/// What one category is measured with, resolved from the profile and the overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryPlan {
    /// The profile key, or the facility category value for a local extra.
    pub key: String,
    /// Chinese display name.
    pub name_zh: String,
    /// English display name.
    pub name_en: String,
    /// Maximum walk, metres.
    pub max_walk_m: f64,
    /// Walking speed used to turn minutes into metres, m/s.
    pub walk_speed_m_per_s: f64,
    /// Target share, percent.
    pub target_percent: f64,
    /// Residence property counting the target group; `None`: the whole population.
    pub group: Option<String>,
    /// The profile level the category belongs to.
    pub level: Option<String>,
    /// True for a category found in the data but not listed by the profile (the "X").
    pub extra: bool,
}

impl CategoryPlan {
    /// What the category's coverage counts: its group's name, or `population`.
    pub fn counts(&self) -> &str {
        self.group.as_deref().unwrap_or("population")
    }
}

/// The loaded inputs of an analysis.
#[derive(Debug)]
pub struct Inputs {
    /// Service points.
    pub facilities: Loaded<Facility>,
    /// Demand points, if given.
    pub residences: Option<Loaded<Residence>>,
    /// Communities, if given.
    pub communities: Option<Loaded<Community>>,
}

/// Results for one category of service.
#[derive(Debug)]
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
    /// People lacking at least one category.
    pub gap_population: f64,
}

/// A finished analysis.
#[derive(Debug)]
pub struct Analysis {
    /// `"straight-line"` or `"network"`.
    pub mode: &'static str,
    /// The settings used.
    pub settings: Settings,
    /// All facilities read (in WGS84).
    pub facilities: Vec<Facility>,
    /// The demand points: residences, or community points when no residences were given.
    pub demand: Vec<Residence>,
    /// True when the demand points are the communities themselves.
    pub demand_is_communities: bool,
    /// For every demand point, its community index, or [`UNASSIGNED`].
    pub demand_community: Vec<u32>,
    /// Communities (from the file, or derived from residence `community` properties).
    pub communities: Vec<Community>,
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
}

impl Analysis {
    /// Categories a demand point lacks (no facility within the category's walk), as indices.
    pub fn missing(&self, demand: usize) -> impl Iterator<Item = usize> + '_ {
        self.categories
            .iter()
            .enumerate()
            .filter(move |(_, c)| !c.within(demand))
            .map(|(i, _)| i)
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
            .zip(&self.demand)
            .filter(|(c, _)| **c == UNASSIGNED)
            .fold((0, 0.0), |(n, p), (_, r)| (n + 1, p + r.population))
    }

    /// Number of demand points off the walking model, and their population.
    pub fn off_network(&self) -> (usize, f64) {
        self.unplaced
            .iter()
            .zip(&self.demand)
            .filter(|(u, _)| **u)
            .fold((0, 0.0), |(n, p), (_, r)| (n + 1, p + r.population))
    }
}

/// The value every item has, if they all have the same one (and there is at least one).
fn shared(mut values: impl Iterator<Item = f64>) -> Option<f64> {
    let first = values.next()?;
    values.all(|v| v == first).then_some(first)
}

/// Stages reported while an analysis runs (for progress display).
pub trait Progress: Sync {
    /// A new stage begins.
    fn stage(&self, what: &str);
}

impl Progress for () {
    fn stage(&self, _what: &str) {}
}

/// Convert the `at` point of every item from `from` to WGS84, in parallel.
fn points_to_wgs84<T: Send>(items: &mut [T], from: Crs, at: impl Fn(&mut T) -> &mut LonLat + Sync) {
    if from != Crs::Wgs84 {
        items.par_iter_mut().for_each(|x| {
            let p = at(x);
            *p = coords::convert(*p, from, Crs::Wgs84);
        });
    }
}

/// Convert the loaded inputs to WGS84 as `coords` declares them (a no-op for WGS84 inputs).
/// Communities are converted vertex by vertex, with their representative point.
pub fn inputs_to_wgs84(inputs: &mut Inputs, coords: &CoordSystems) {
    points_to_wgs84(&mut inputs.facilities.items, coords.facilities, |f| {
        &mut f.at
    });
    if let Some(r) = &mut inputs.residences {
        points_to_wgs84(&mut r.items, coords.residences, |r| &mut r.at);
    }
    if let Some(c) = &mut inputs.communities {
        let from = coords.communities;
        points_to_wgs84(&mut c.items, from, |c| &mut c.at);
        if from != Crs::Wgs84 {
            c.items
                .par_iter_mut()
                .for_each(|c| coords::convert_geometry(&mut c.geometry, from, Crs::Wgs84));
        }
    }
}

/// Run the analysis. The inputs are first converted to WGS84 from the systems that
/// `settings.coords` declares; every distance is measured in WGS84.
///
/// # Errors
/// Bad overrides (see [`Settings::check`]); with `strict`, the first skipped feature; without
/// residences and communities, or with no demand point left, a settings error; a category that
/// needs a default walk the profile does not have.
pub fn analyze(
    mut inputs: Inputs,
    settings: Settings,
    walking: &dyn WalkingDistance,
    progress: &dyn Progress,
) -> Result<Analysis> {
    settings.check()?;
    inputs_to_wgs84(&mut inputs, &settings.coords);
    let Inputs {
        facilities,
        residences,
        communities,
    } = inputs;
    let mut skipped = facilities.rejected;
    let mut population_defaulted = 0;
    let mut groups = GroupCounts::default();
    let residences = residences.map(|r| {
        skipped.extend(r.rejected);
        population_defaulted = r.population_defaulted;
        groups = r.groups;
        r.items
    });
    let communities = communities.map(|c| {
        skipped.extend(c.rejected);
        c.items
    });
    if settings.strict {
        if let Some(first) = skipped.into_iter().next() {
            return Err(Error::Feature(first));
        }
        skipped = Vec::new();
    }
    let facilities = facilities.items;

    progress.stage("assigning residences to communities");
    let communities_given = communities.is_some();
    let (demand, demand_is_communities, communities, demand_community, unknown_community_refs) =
        match (residences, communities) {
            (Some(res), Some(com)) => {
                let a = assign::assign(&res, &com);
                (res, false, com, a.community, a.unknown_refs)
            }
            (Some(res), None) => {
                let (com, of) = communities_from_properties(&res);
                (res, false, com, of, Vec::new())
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
                (demand, true, com, of, Vec::new())
            }
            (None, None) => {
                return Err(Error::Settings(
                    "nothing to measure from: give --residences, --communities, or both".into(),
                ))
            }
        };
    if settings.strict {
        if let Some((i, id)) = unknown_community_refs.first() {
            return Err(Error::Settings(format!(
                "residence {} names community \"{id}\", which is not among the communities",
                demand[*i].index
            )));
        }
    }
    if demand.is_empty() {
        return Err(Error::Settings(
            "no usable demand point (residence or community) is left after skipping bad features"
                .into(),
        ));
    }
    if groups.counts.len() != demand.len() * groups.names.len() {
        // No counts, or counts that do not match the demand points: every group falls back.
        groups = GroupCounts::default();
    }

    let plans = plan_categories(&settings, &facilities)?;
    progress.stage("indexing demand points");
    let points: Vec<LonLat> = demand.par_iter().map(|r| r.at).collect();
    let prepared = walking.prepare(&points);
    let unplaced = prepared.unplaced();

    let mut categories = Vec::with_capacity(plans.len());
    for (plan, idx) in plans {
        progress.stage(&format!("measuring walks to {}", plan.key));
        let at: Vec<LonLat> = idx.iter().map(|&i| facilities[i as usize].at).collect();
        let reach = prepared.nearest(&at, plan.max_walk_m);
        categories.push(CategoryResult {
            name: plan.key.clone(),
            plan,
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
        });
    }
    drop(prepared);
    drop(points);

    progress.stage("summarising coverage");
    let community_results = summarise(
        &demand,
        &demand_community,
        communities.len(),
        &mut categories,
        &groups,
    );
    let population = demand.iter().map(|r| r.population).sum();
    let profile = &settings.profile;
    let mut levels: Vec<(String, Walk)> = profile
        .levels
        .iter()
        .map(|(k, w)| (k.clone(), *w))
        .collect();
    levels.sort_by(|a, b| {
        let m = |w: Walk| w.to_metres(profile.walk_speed_m_per_s);
        m(a.1).total_cmp(&m(b.1)).then_with(|| a.0.cmp(&b.0))
    });
    Ok(Analysis {
        mode: walking.mode(),
        settings,
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
    })
}

/// The categories to measure, each with the indices of its facilities: as asked with
/// `--categories`, or the profile's categories plus (with `include_other_categories`) every
/// other category value found, sorted. A facility counts for a profile category when one of its
/// values is the category's key or an alias; for an extra, when a value equals it exactly.
fn plan_categories(
    settings: &Settings,
    facilities: &[Facility],
) -> Result<Vec<(CategoryPlan, Vec<u32>)>> {
    let profile = &settings.profile;
    let mut plans: Vec<CategoryPlan> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    let mut by_extra: HashMap<String, usize> = HashMap::new();
    let mut add_extra = |value: &str, plans: &mut Vec<CategoryPlan>| -> Result<()> {
        if !by_extra.contains_key(value) {
            by_extra.insert(value.to_string(), plans.len());
            plans.push(settings.plan_for_extra(value)?);
        }
        Ok(())
    };
    match &settings.categories {
        Some(names) => {
            for name in names.iter().map(|n| n.trim()) {
                match profile.category_for(name) {
                    Some(spec) => {
                        if !by_key.contains_key(&spec.key) {
                            by_key.insert(spec.key.clone(), plans.len());
                            plans.push(settings.plan_for(spec));
                        }
                    }
                    None => add_extra(name, &mut plans)?,
                }
            }
        }
        None => {
            for spec in &profile.categories {
                by_key.insert(spec.key.clone(), plans.len());
                plans.push(settings.plan_for(spec));
            }
            if profile.include_other_categories {
                let extras: BTreeSet<&str> = facilities
                    .iter()
                    .flat_map(|f| f.categories.iter().map(|c| c.as_ref()))
                    .filter(|c| profile.category_for(c).is_none())
                    .collect();
                for e in extras {
                    add_extra(e, &mut plans)?;
                }
            }
        }
    }
    // Resolve each distinct category value once.
    let mut resolved: HashMap<&str, Option<usize>> = HashMap::new();
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); plans.len()];
    for (i, f) in facilities.iter().enumerate() {
        for value in &f.categories {
            let j = *resolved.entry(value.as_ref()).or_insert_with(|| {
                match profile.category_for(value) {
                    Some(spec) => by_key.get(&spec.key).copied(),
                    None => by_extra.get(value.as_ref()).copied(),
                }
            });
            if let Some(list) = j.and_then(|j| members.get_mut(j)) {
                // Two values of one facility may name the same category.
                if list.last() != Some(&(i as u32)) {
                    list.push(i as u32);
                }
            }
        }
    }
    Ok(plans.into_iter().zip(members).collect())
}

/// Communities named only by residence `community` properties: one per distinct id, placed at
/// the mean position of its residences.
fn communities_from_properties(residences: &[Residence]) -> (Vec<Community>, Vec<u32>) {
    let mut index: HashMap<&Id, u32> = HashMap::new();
    let mut sums: Vec<(f64, f64, f64, u32)> = Vec::new();
    let mut ids: Vec<&Id> = Vec::new();
    let of = residences
        .iter()
        .map(|r| match &r.community {
            None => UNASSIGNED,
            Some(id) => {
                let k = *index.entry(id).or_insert_with(|| {
                    ids.push(id);
                    sums.push((0.0, 0.0, 0.0, r.index));
                    (ids.len() - 1) as u32
                });
                let s = &mut sums[k as usize];
                s.0 += r.at.lon;
                s.1 += r.at.lat;
                s.2 += 1.0;
                k
            }
        })
        .collect();
    let communities = ids
        .into_iter()
        .zip(sums)
        .map(|(id, (lon, lat, n, index))| {
            let at = LonLat::new(lon / n, lat / n);
            Community {
                id: id.clone(),
                name: None,
                population: None,
                geometry: Geometry::Point(Point::new(at.lon, at.lat)),
                at,
                index,
            }
        })
        .collect();
    (communities, of)
}

/// Fewest demand points summed per chunk by [`summarise`].
const SUMMARY_CHUNK: usize = 1 << 16;

/// What [`Sums::add`] reads besides the demand point.
struct SumContext<'a> {
    categories: &'a [CategoryResult],
    /// The column of each category's group among the counts read, if any.
    column: Vec<Option<usize>>,
    groups: &'a GroupCounts,
    /// Where each category's facilities start in [`Sums::catchment`], and (last) their total.
    catchment_start: Vec<usize>,
}

impl<'a> SumContext<'a> {
    fn new(categories: &'a [CategoryResult], groups: &'a GroupCounts) -> Self {
        let column = categories
            .iter()
            .map(|c| {
                let g = c.plan.group.as_ref()?;
                groups.names.iter().position(|n| n == g)
            })
            .collect();
        let mut catchment_start = Vec::with_capacity(categories.len() + 1);
        let mut at = 0;
        catchment_start.push(at);
        for c in categories {
            at += c.facilities.len();
            catchment_start.push(at);
        }
        SumContext {
            categories,
            column,
            groups,
            catchment_start,
        }
    }

    /// The range of category `j`'s facilities in [`Sums::catchment`].
    fn catchment_range(&self, j: usize) -> std::ops::Range<usize> {
        self.catchment_start[j]..self.catchment_start[j + 1]
    }
}

/// Population sums per community and category, and for the city.
///
/// The per-community sums are flat, one row of categories per community: the sum for
/// community `c` and category `j` is at `c * categories + j`.
struct Sums {
    /// Categories per row of the per-community sums.
    nc: usize,
    /// The people each category counts.
    counted: Vec<f64>,
    /// The people each category counts with a facility within the walk.
    covered: Vec<f64>,
    /// Everyone with a facility of the category within the walk.
    covered_all: Vec<f64>,
    population: Vec<f64>,
    gap_population: Vec<f64>,
    city_counted: Vec<f64>,
    city_covered: Vec<f64>,
    city_covered_all: Vec<f64>,
    defaulted: Vec<usize>,
    total: f64,
    /// Per category, per facility (see [`SumContext::catchment_range`]): the counted people
    /// within the walk it is nearest to.
    catchment: Vec<f64>,
}

impl Sums {
    fn new(n_communities: usize, with: &SumContext<'_>) -> Self {
        let nc = with.categories.len();
        Sums {
            nc,
            counted: vec![0.0; n_communities * nc],
            covered: vec![0.0; n_communities * nc],
            covered_all: vec![0.0; n_communities * nc],
            population: vec![0.0; n_communities],
            gap_population: vec![0.0; n_communities],
            city_counted: vec![0.0; nc],
            city_covered: vec![0.0; nc],
            city_covered_all: vec![0.0; nc],
            defaulted: vec![0; nc],
            total: 0.0,
            catchment: vec![0.0; with.catchment_start[nc]],
        }
    }

    /// Set every sum back to zero.
    fn clear(&mut self) {
        for v in [
            &mut self.counted,
            &mut self.covered,
            &mut self.covered_all,
            &mut self.population,
            &mut self.gap_population,
            &mut self.city_counted,
            &mut self.city_covered,
            &mut self.city_covered_all,
            &mut self.catchment,
        ] {
            v.fill(0.0);
        }
        self.defaulted.fill(0);
        self.total = 0.0;
    }

    /// Add demand point `k`, of community `community`.
    fn add(&mut self, k: usize, r: &Residence, community: u32, with: &SumContext<'_>) {
        let c = community as usize;
        let in_community = community != UNASSIGNED && c < self.population.len();
        self.total += r.population;
        if in_community {
            self.population[c] += r.population;
        }
        let row = if in_community { c * self.nc } else { 0 };
        let mut all = true;
        for (j, cat) in with.categories.iter().enumerate() {
            let group_count = with.column[j].and_then(|g| with.groups.get(k, g));
            let weight = match (&cat.plan.group, group_count) {
                (_, Some(count)) => count,
                (None, None) => r.population,
                (Some(_), None) => {
                    self.defaulted[j] += 1;
                    r.population
                }
            };
            let within = cat.within(k);
            all &= within;
            self.city_counted[j] += weight;
            if within {
                self.city_covered[j] += weight;
                self.city_covered_all[j] += r.population;
                if let Some(f) = cat.reach[k].facility() {
                    self.catchment[with.catchment_start[j] + f] += weight;
                }
            }
            if in_community {
                self.counted[row + j] += weight;
                if within {
                    self.covered[row + j] += weight;
                    self.covered_all[row + j] += r.population;
                }
            }
        }
        if in_community && !all {
            self.gap_population[c] += r.population;
        }
    }

    fn merge(&mut self, other: &Sums) {
        fn add_all(to: &mut [f64], from: &[f64]) {
            to.iter_mut().zip(from).for_each(|(a, b)| *a += b);
        }
        add_all(&mut self.counted, &other.counted);
        add_all(&mut self.covered, &other.covered);
        add_all(&mut self.covered_all, &other.covered_all);
        add_all(&mut self.catchment, &other.catchment);
        add_all(&mut self.population, &other.population);
        add_all(&mut self.gap_population, &other.gap_population);
        add_all(&mut self.city_counted, &other.city_counted);
        add_all(&mut self.city_covered, &other.city_covered);
        add_all(&mut self.city_covered_all, &other.city_covered_all);
        self.defaulted
            .iter_mut()
            .zip(&other.defaulted)
            .for_each(|(a, b)| *a += b);
        self.total += other.total;
    }
}

/// Coverage per community and for the city. A category with a target group weighs each demand
/// point by its group count (its whole population when it has none); `lacking` compares that
/// coverage with the category's target.
fn summarise(
    demand: &[Residence],
    demand_community: &[u32],
    n_communities: usize,
    categories: &mut [CategoryResult],
    groups: &GroupCounts,
) -> Vec<CommunityResult> {
    let nc = categories.len();
    let with = SumContext::new(categories, groups);
    // Sums over fixed chunks of demand points, added up in chunk order, so that the totals do
    // not depend on the number of threads. A chunk holds at least 8 demand points per
    // community, so that the partial sums never take more memory than the demand points
    // themselves. The chunks are summed in parallel a wave at a time, one per thread, into
    // partial sums that are reused from wave to wave.
    let chunk_len = SUMMARY_CHUNK.max(n_communities.saturating_mul(8));
    let n_chunks = demand.len().div_ceil(chunk_len);
    let wave = rayon::current_num_threads().clamp(1, n_chunks.max(1));
    let mut sums = Sums::new(n_communities, &with);
    let mut partials: Vec<Sums> = (0..wave).map(|_| Sums::new(n_communities, &with)).collect();
    for first in (0..n_chunks).step_by(wave) {
        let count = wave.min(n_chunks - first);
        partials[..count]
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, part)| {
                part.clear();
                let start = (first + i) * chunk_len;
                let end = (start + chunk_len).min(demand.len());
                for k in start..end {
                    part.add(k, &demand[k], demand_community[k], &with);
                }
            });
        for part in &partials[..count] {
            sums.merge(part);
        }
    }
    drop(partials);
    let share = |x: f64, of: f64| (of > 0.0).then(|| x / of);
    let results: Vec<CommunityResult> = (0..n_communities)
        .map(|c| {
            let pop = sums.population[c];
            let row = c * nc..(c + 1) * nc;
            let counted = &sums.counted[row.clone()];
            let coverage: Vec<Option<f64>> = sums.covered[row.clone()]
                .iter()
                .zip(counted)
                .map(|(&covered, &counted)| share(covered, counted))
                .collect();
            let lacking = coverage
                .iter()
                .zip(with.categories.iter())
                .enumerate()
                .filter(|(_, (cov, cat))| cov.is_some_and(|v| v < cat.plan.target_percent / 100.0))
                .map(|(j, _)| j)
                .collect();
            CommunityResult {
                population: pop,
                coverage,
                coverage_everyone: sums.covered_all[row]
                    .iter()
                    .map(|&x| share(x, pop))
                    .collect(),
                counted: counted.to_vec(),
                lacking,
                gap_population: sums.gap_population[c],
            }
        })
        .collect();
    let catchments: Vec<Vec<f64>> = (0..nc)
        .map(|j| sums.catchment[with.catchment_range(j)].to_vec())
        .collect();
    drop(with);
    for ((j, cat), catchment) in categories.iter_mut().enumerate().zip(catchments) {
        cat.counted_population = sums.city_counted[j];
        cat.covered_population = sums.city_covered[j];
        cat.coverage = share(sums.city_covered[j], sums.city_counted[j]).unwrap_or(0.0);
        cat.covered_everyone = sums.city_covered_all[j];
        cat.coverage_everyone = share(sums.city_covered_all[j], sums.total).unwrap_or(0.0);
        cat.group_defaulted = sums.defaulted[j];
        cat.catchment = catchment;
        cat.communities_lacking = results.iter().filter(|r| r.lacking.contains(&j)).count();
    }
    results
}

/// Straight-line walking with the given detour factor, checked.
///
/// # Errors
/// A detour below 1 or not finite.
pub fn straight_line(detour: f64) -> Result<StraightLine> {
    if !(detour.is_finite() && detour >= 1.0) {
        return Err(Error::Settings(format!(
            "--detour must be a number of at least 1.0 (1.2-1.4 approximates street circuity), got {detour}"
        )));
    }
    Ok(StraightLine { detour })
}
