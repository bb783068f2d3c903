//! Planned facilities as a second stage: today's facilities and the planned ones, measured
//! beside today's ([`Scenario`]).
//!
//! Only what the planned facilities change is measured again: the demand is prepared once for
//! both stages, and a category that no planned facility offers keeps today's walks.

use std::borrow::Cow;

use super::{plan::plan_categories, CategoryPlan, CategoryResult, Measure, Plan, Planned};
use crate::{
    analysis::Analysis,
    error::{FeatureError, Result},
    model::{Facility, PlannedFacility},
};

/// Before and after the planned facilities: [`Analysis::scenario`] of an analysis given
/// [`Inputs::planned`](crate::Inputs::planned).
///
/// The analysis itself is the stage before (today's facilities); [`after`](Self::after) is the
/// analysis of today's facilities and the planned ones together, with the same categories in
/// the same order, the same demand and the same communities: it holds what
/// [`analyze`](crate::analyze) reports when given both as one set of facilities.
#[derive(Debug)]
pub struct Scenario<'a> {
    /// The stage after: today's facilities, then the planned ones (from
    /// [`first_planned`](Self::first_planned) on, in their file's order).
    pub after: Analysis<'a>,
    /// Index in `after.facilities` of the first planned facility.
    pub first_planned: usize,
    /// The planned facilities' file, as named in messages.
    pub file: String,
    /// Per planned facility (in order): its status and year, when given.
    pub planned: Vec<(Option<Box<str>>, Option<i32>)>,
    /// Per category: the planned facilities that offer it (0: the category keeps today's
    /// walks, not measured again).
    pub planned_per_category: Vec<usize>,
    /// The communities whose lacking categories differ after (input order).
    pub changed_communities: Vec<usize>,
}

/// One category before and after the planned facilities ([`Scenario::changes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryChange {
    /// The category's key.
    pub name: String,
    /// Planned facilities that offer it.
    pub planned: usize,
    /// Share of the people it counts within reach, today (0 to 1).
    pub coverage_before: f64,
    /// The same share with the planned facilities.
    pub coverage_after: f64,
    /// The people it counts within reach, today.
    pub covered_before: f64,
    /// The same with the planned facilities.
    pub covered_after: f64,
    /// Communities below target, today.
    pub communities_lacking_before: usize,
    /// Communities below target with the planned facilities.
    pub communities_lacking_after: usize,
}

impl Scenario<'_> {
    /// True when facility `i` of [`after`](Self::after) is a planned one.
    pub fn is_planned(&self, i: usize) -> bool {
        i >= self.first_planned
    }

    /// The status and year of facility `i` of [`after`](Self::after), when it is planned.
    pub fn planned_of(&self, i: usize) -> Option<(Option<&str>, Option<i32>)> {
        let (status, year) = self.planned.get(i.checked_sub(self.first_planned)?)?;
        Some((status.as_deref(), *year))
    }

    /// Every category before (`before`, the analysis this scenario belongs to) and after.
    pub fn changes(&self, before: &Analysis<'_>) -> Vec<CategoryChange> {
        before
            .categories
            .iter()
            .zip(&self.after.categories)
            .zip(&self.planned_per_category)
            .map(|((b, a), &planned)| CategoryChange {
                name: b.name.clone(),
                planned,
                coverage_before: b.coverage,
                coverage_after: a.coverage,
                covered_before: b.covered_population,
                covered_after: a.covered_population,
                communities_lacking_before: b.communities_lacking,
                communities_lacking_after: a.communities_lacking,
            })
            .collect()
    }
}

/// Today's facilities and the planned ones as one list, with the categories planned over it.
pub(super) struct Merged {
    facilities: Vec<Facility>,
    plans: Vec<(CategoryPlan, Vec<u32>)>,
    first_planned: usize,
    file: String,
    planned: Vec<(Option<Box<str>>, Option<i32>)>,
    planned_per_category: Vec<usize>,
}

impl Merged {
    /// The merged list, checked: every planned facility offers an analysed category and adds
    /// none (the two stages compare the same categories).
    ///
    /// # Errors
    /// A planned facility that offers no analysed category, or one that would add a
    /// category, as a [`FeatureError`] of the planned file.
    pub(super) fn new(
        plan: &Plan,
        facilities: &[Facility],
        before: &[(CategoryPlan, Vec<u32>)],
        p: Planned<'_>,
        items: Cow<'_, [PlannedFacility]>,
    ) -> Result<Self> {
        let first_planned = facilities.len();
        let mut merged = Vec::with_capacity(first_planned + items.len());
        merged.extend_from_slice(facilities);
        merged.extend(items.iter().map(|x| x.facility.clone()));
        let plans = plan_categories(plan, &merged)?;
        let analysed = || {
            before
                .iter()
                .map(|(c, _)| c.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let error = |k: usize, problem: String| FeatureError {
            file: p.file.clone(),
            index: items[k].facility.feature_index().unwrap_or(k),
            field: p.category_field.clone(),
            problem,
        };
        // A category the planned facilities add (a local extra of the profile).
        if let Some((c, idx)) = plans
            .iter()
            .find(|(c, _)| !before.iter().any(|(b, _)| b.key == c.key))
        {
            let k = idx.first().map_or(0, |&i| i as usize - first_planned);
            return Err(error(
                k,
                format!(
                    "\"{}\" is not a category of today's analysis ({}): planned facilities \
                     are compared on today's categories",
                    c.key,
                    analysed()
                ),
            )
            .into());
        }
        let mut offers = vec![false; items.len()];
        let mut planned_per_category = Vec::with_capacity(plans.len());
        for (_, idx) in &plans {
            let planned = idx.iter().filter(|&&i| i as usize >= first_planned);
            let mut n = 0;
            for &i in planned {
                offers[i as usize - first_planned] = true;
                n += 1;
            }
            planned_per_category.push(n);
        }
        if let Some(k) = offers.iter().position(|o| !o) {
            let values: Vec<&str> = items[k]
                .facility
                .categories
                .iter()
                .map(AsRef::as_ref)
                .collect();
            return Err(error(
                k,
                format!(
                    "{} is not a category of the analysis (analysed: {})",
                    values
                        .iter()
                        .map(|v| format!("\"{v}\""))
                        .collect::<Vec<_>>()
                        .join(", "),
                    analysed()
                ),
            )
            .into());
        }
        Ok(Self {
            facilities: merged,
            plans,
            first_planned,
            file: p.file,
            planned: items.iter().map(|x| (x.status.clone(), x.year)).collect(),
            planned_per_category,
        })
    }

    /// Measure the stage after: categories with planned facilities again, the others copied
    /// from `before` (today's walks, nearest facilities and capacities are theirs too, as
    /// today's facilities keep their indices in the merged list).
    pub(super) fn measure(
        mut self,
        m: &Measure<'_>,
        before: &[CategoryResult],
    ) -> (Vec<Facility>, Vec<CategoryResult>, Self) {
        let facilities = std::mem::take(&mut self.facilities);
        let categories = std::mem::take(&mut self.plans)
            .into_iter()
            .zip(before)
            .zip(&self.planned_per_category)
            .map(|(((category, idx), b), &planned)| {
                if planned == 0 && b.facilities == idx {
                    b.clone()
                } else {
                    m.category(category, idx, &facilities)
                }
            })
            .collect();
        (facilities, categories, self)
    }

    /// The scenario, with the communities whose lacking categories change.
    pub(super) fn finish<'a>(self, before: &Analysis<'a>, after: Analysis<'a>) -> Scenario<'a> {
        let changed_communities = before
            .community_results
            .iter()
            .zip(&after.community_results)
            .enumerate()
            .filter(|(_, (b, a))| b.lacking != a.lacking)
            .map(|(i, _)| i)
            .collect();
        Scenario {
            after,
            first_planned: self.first_planned,
            file: self.file,
            planned: self.planned,
            planned_per_category: self.planned_per_category,
            changed_communities,
        }
    }
}
