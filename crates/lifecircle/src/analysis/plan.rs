//! What an analysis measures: a planning profile with overrides ([`Plan`], built and checked
//! by [`PlanBuilder`]), resolved per category against the facilities ([`CategoryPlan`]).

use std::collections::{BTreeSet, HashMap};

use crate::{
    capacity::{Standard, Weighting},
    coords::{CoordSystems, InputSystems},
    error::{Result, Setting, SettingsError},
    model::Facility,
    profile::{CategorySpec, Profile, Walk},
    projection::{CrsSpec, Projection},
};

/// How to analyse: a planning profile, overrides that apply to every category, the coordinate
/// systems of the inputs and outputs, and whether a bad feature stops the run. Built with
/// [`Plan::builder`] and checked once, by [`PlanBuilder::build`].
///
/// Precedence for each category: an override (`max_walk`, `walk_speed_m_per_s`,
/// `target_percent`) if set, else the category's own value in the profile, else the profile's
/// default. Minutes are turned into metres with the category's walking speed.
///
/// # Examples
/// ```
/// use lifecircle::{Plan, Profile, Walk};
///
/// let plan = Plan::builder(Profile::builtin("six-functions")?)
///     .max_walk(Walk::Minutes(10.0))
///     .target_percent(90.0)
///     .build()?;
/// assert_eq!(plan.max_walk(), Some(Walk::Minutes(10.0)));
/// assert!(Plan::builder(Profile::default()).target_percent(120.0).build().is_err());
/// # Ok::<(), lifecircle::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Plan {
    profile: Profile,
    max_walk: Option<Walk>,
    walk_speed_m_per_s: Option<f64>,
    target_percent: Option<f64>,
    categories: Option<Vec<String>>,
    strict: bool,
    coords: CoordSystems,
    /// The projected system the outputs are written in, when one was asked for.
    output_projection: Option<Projection>,
    input_systems: InputSystems,
}

/// Builds a [`Plan`]; [`build`](PlanBuilder::build) checks every value once.
#[derive(Debug, Clone)]
#[must_use]
pub struct PlanBuilder {
    plan: Plan,
}

impl PlanBuilder {
    /// Every category walks this far (a time is turned into metres at the category's speed).
    pub fn max_walk(mut self, walk: Walk) -> Self {
        self.plan.max_walk = Some(walk);
        self
    }

    /// Every category walks at this speed, m/s (it turns minutes into metres).
    pub fn walk_speed_m_per_s(mut self, speed: f64) -> Self {
        self.plan.walk_speed_m_per_s = Some(speed);
        self
    }

    /// A community lacks a category when less than this share (percent) of the people the
    /// category counts reaches one; for every category.
    pub fn target_percent(mut self, percent: f64) -> Self {
        self.plan.target_percent = Some(percent);
        self
    }

    /// Only these categories, in this order. A name that is a profile category's key or alias
    /// selects that category; any other name is matched exactly against the facilities'
    /// category values, as a local extra. Without it: the profile's categories, plus (with
    /// the profile's `include_other_categories`) every other category value found.
    pub fn categories<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.plan.categories = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Make any bad feature (or unknown community reference) fatal instead of skipping it.
    pub fn strict(mut self, strict: bool) -> Self {
        self.plan.strict = strict;
        self
    }

    /// The coordinate systems of the inputs and outputs (WGS84 everywhere by default).
    pub fn coords(mut self, coords: CoordSystems) -> Self {
        self.plan.coords = coords;
        self
    }

    /// The coordinate system of every geometry written: a map system (as
    /// [`CoordSystems::output`]) or a projected system given by EPSG code, into which the
    /// WGS84 positions are converted when written.
    pub fn output_crs(mut self, crs: CrsSpec) -> Self {
        self.plan.coords.output = crs.map_crs();
        self.plan.output_projection = crs.projection().filter(|p| !p.is_wgs84()).cloned();
        self
    }

    /// The checked plan.
    ///
    /// # Errors
    /// A [`SettingsError`] for a walk or walking speed that is not positive and finite, a
    /// target outside 0..=100 %, or an empty list of categories or an empty name in it.
    pub fn build(self) -> std::result::Result<Plan, SettingsError> {
        let p = &self.plan;
        if let Some(w) = p.max_walk {
            let (Walk::Minutes(v) | Walk::Metres(v)) = w;
            if !(v.is_finite() && v > 0.0) {
                return Err(SettingsError::new(
                    Setting::MaxWalk,
                    w,
                    "must be a positive time or distance",
                ));
            }
        }
        if let Some(s) = p.walk_speed_m_per_s {
            if !(s.is_finite() && s > 0.0) {
                return Err(SettingsError::new(
                    Setting::WalkSpeed,
                    s,
                    "must be a positive number of m/s",
                ));
            }
        }
        if let Some(t) = p.target_percent {
            if !(0.0..=100.0).contains(&t) {
                return Err(SettingsError::new(
                    Setting::TargetPercent,
                    t,
                    "must be a percentage from 0 to 100",
                ));
            }
        }
        if let Some(cats) = &p.categories {
            if cats.is_empty() || cats.iter().any(|c| c.trim().is_empty()) {
                return Err(SettingsError::new(
                    Setting::Categories,
                    format!("{cats:?}"),
                    "needs one or more non-empty names",
                ));
            }
        }
        Ok(self.plan)
    }
}

impl Plan {
    /// The same plan, measuring only these categories (as [`PlanBuilder::categories`]).
    pub(crate) fn with_categories(mut self, names: Vec<String>) -> Self {
        self.categories = Some(names);
        self
    }

    /// The same plan for inputs that are already WGS84 (the outputs keep their system).
    pub(crate) fn with_wgs84_inputs(mut self) -> Self {
        self.coords = CoordSystems {
            output: self.coords.output,
            ..CoordSystems::default()
        };
        self
    }

    /// A builder for a plan under `profile`, without overrides, WGS84 everywhere, lenient.
    pub fn builder(profile: Profile) -> PlanBuilder {
        PlanBuilder {
            plan: Self {
                profile,
                max_walk: None,
                walk_speed_m_per_s: None,
                target_percent: None,
                categories: None,
                strict: false,
                coords: CoordSystems::default(),
                output_projection: None,
                input_systems: InputSystems::default(),
            },
        }
    }

    /// The planning profile: categories, aliases, walks, targets, target groups, levels.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The walk that overrides every category's, if any.
    pub fn max_walk(&self) -> Option<Walk> {
        self.max_walk
    }

    /// The walking speed that overrides every category's, m/s, if any.
    pub fn walk_speed_m_per_s(&self) -> Option<f64> {
        self.walk_speed_m_per_s
    }

    /// The target share that overrides every category's, percent, if any.
    pub fn target_percent(&self) -> Option<f64> {
        self.target_percent
    }

    /// The categories asked for, if the plan names them.
    pub fn categories(&self) -> Option<&[String]> {
        self.categories.as_deref()
    }

    /// True when a bad feature stops the analysis.
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// The coordinate systems of the inputs and outputs.
    pub fn coords(&self) -> &CoordSystems {
        &self.coords
    }

    /// The same plan, naming each input's coordinate system as read (a projected system the
    /// file declares, say) in the summaries.
    pub fn with_input_systems(mut self, systems: InputSystems) -> Self {
        self.input_systems = systems;
        self
    }

    /// Each input's coordinate system as read, where known beyond [`Plan::coords`].
    pub fn input_systems(&self) -> &InputSystems {
        &self.input_systems
    }

    /// The projected system the outputs are written in, when one was asked for
    /// ([`PlanBuilder::output_crs`]); `None`: [`CoordSystems::output`].
    pub fn output_projection(&self) -> Option<&Projection> {
        self.output_projection.as_ref()
    }

    /// The residence properties holding target-group counts that the analysed profile
    /// categories need, each once, in profile order.
    pub fn group_fields(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for g in self
            .selected_specs()
            .into_iter()
            .filter_map(|c| c.group.as_ref())
        {
            if !out.contains(g) {
                out.push(g.clone());
            }
        }
        out
    }

    /// The facility properties holding capacities that the analysed profile categories name
    /// (`capacity_field`), each once, in profile order.
    pub fn capacity_fields(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in self.selected_specs() {
            if let Some(f) = &c.capacity_field {
                if !out.contains(f) {
                    out.push(f.clone());
                }
            }
        }
        out
    }

    /// The profile categories the plan analyses.
    fn selected_specs(&self) -> Vec<&CategorySpec> {
        match &self.categories {
            None => self.profile.categories.iter().collect(),
            Some(names) => names
                .iter()
                .filter_map(|n| self.profile.category_for(n))
                .collect(),
        }
    }

    /// The resolved plan for a profile category.
    pub(crate) fn plan_for(&self, spec: &CategorySpec) -> CategoryPlan {
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
            capacity_field: spec.capacity_field.clone(),
            weighting: spec.weighting.clone(),
            standard: spec.standard.clone(),
        }
    }

    /// The plan for a category value the profile does not list (a local extra).
    pub(crate) fn plan_for_extra(&self, value: &str) -> Result<CategoryPlan> {
        let p = &self.profile;
        let speed = self.walk_speed_m_per_s.unwrap_or(p.walk_speed_m_per_s);
        let walk = self.max_walk.or(p.max_walk).ok_or_else(|| {
            SettingsError::without_value(
                Setting::MaxWalk,
                format!(
                    "category '{value}' is not in profile '{}', which has no default walk for \
                     other categories: give a walk for every category, or use a profile that \
                     lists it",
                    p.name
                ),
            )
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
            capacity_field: None,
            weighting: Weighting::Uniform,
            standard: None,
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
    /// Facility property holding the capacity; `None`: the facilities' default capacity.
    pub capacity_field: Option<String>,
    /// Distance weights of the floating catchment.
    pub weighting: Weighting,
    /// Provision standard, if the profile gives one.
    pub standard: Option<Standard>,
}

impl CategoryPlan {
    /// What the category's coverage counts: its group's name, or `population`.
    pub fn counts(&self) -> &str {
        self.group.as_deref().unwrap_or("population")
    }
}

/// The categories to measure, each with the indices of its facilities: as asked with
/// `--categories`, or the profile's categories plus (with `include_other_categories`) every
/// other category value found, sorted. A facility counts for a profile category when one of its
/// values is the category's key or an alias; for an extra, when a value equals it exactly.
pub(crate) fn plan_categories(
    settings: &Plan,
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
