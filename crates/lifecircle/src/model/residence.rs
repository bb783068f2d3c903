//! Demand points.

use super::{check_count, feature_index, Id, NOT_FROM_FILE};
use crate::{error::InvalidValue, geodesy::LonLat};

/// A demand point: a building, household or grid cell with its population.
///
/// # Examples
/// ```
/// use lifecircle::{LonLat, Residence};
///
/// let home = Residence::new(17, LonLat::new(24.94, 60.17)?, 42.0)?.with_community("Kluuvi");
/// assert_eq!(home.population(), 42.0);
/// assert!(Residence::new(18, LonLat::new(24.94, 60.17)?, -3.0).is_err());
/// # Ok::<(), lifecircle::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Residence {
    pub(crate) id: Id,
    pub(crate) at: LonLat,
    pub(crate) population: f64,
    pub(crate) community: Option<Id>,
    pub(crate) index: u32,
}

impl Residence {
    /// A demand point of `population` people at `at`.
    ///
    /// # Errors
    /// A population that is negative or not finite.
    pub fn new(id: impl Into<Id>, at: LonLat, population: f64) -> Result<Self, InvalidValue> {
        Ok(Self {
            id: id.into(),
            at,
            population: check_count("population", population)?,
            community: None,
            index: NOT_FROM_FILE,
        })
    }

    /// Assigned to the community with this id (it takes precedence over the polygon that
    /// contains the point).
    #[must_use]
    pub fn with_community(mut self, community: impl Into<Id>) -> Self {
        self.community = Some(community.into());
        self
    }

    /// Identifier.
    pub fn id(&self) -> &Id {
        &self.id
    }

    /// Location.
    pub fn at(&self) -> LonLat {
        self.at
    }

    /// Number of people.
    pub fn population(&self) -> f64 {
        self.population
    }

    /// The community it is assigned to by id, if any.
    pub fn community(&self) -> Option<&Id> {
        self.community.as_ref()
    }

    /// Index of the feature in its file, for values read from one.
    pub fn feature_index(&self) -> Option<usize> {
        feature_index(self.index)
    }

    /// The feature index, or `position` (its place among the values given) when it was built
    /// in code; for messages.
    pub(crate) fn index_or(&self, position: usize) -> usize {
        self.feature_index().unwrap_or(position)
    }
}
