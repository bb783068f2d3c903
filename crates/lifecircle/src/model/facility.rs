//! Service points.

use super::{check_count, feature_index, Id, NOT_FROM_FILE};
use crate::{error::InvalidValue, geodesy::LonLat};

/// A service point: a neighbourhood centre, clinic, canteen, kindergarten...
///
/// # Examples
/// ```
/// use lifecircle::{Facility, LonLat};
///
/// let centre = Facility::new("c1", LonLat::new(121.47, 31.23)?, ["meals", "elderly_care"])?
///     .with_name("Jing'an neighbourhood centre")
///     .with_capacity(120.0)?;
/// assert_eq!(centre.categories().len(), 2);
/// # Ok::<(), lifecircle::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Facility {
    pub(crate) id: Id,
    pub(crate) name: Option<Box<str>>,
    pub(crate) capacity: Option<f64>,
    /// Capacities under other properties (a centre's `beds`, `places`...), by property name.
    pub(crate) capacities: Vec<(Box<str>, f64)>,
    pub(crate) at: LonLat,
    pub(crate) categories: Vec<Box<str>>,
    pub(crate) index: u32,
}

impl Facility {
    /// A facility at `at` providing `categories` (a centre hosting several functions has
    /// several; values are matched against a profile's keys and aliases).
    ///
    /// # Errors
    /// No category, or an empty (blank) one.
    pub fn new<C, S>(id: impl Into<Id>, at: LonLat, categories: C) -> Result<Self, InvalidValue>
    where
        C: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let categories: Vec<Box<str>> = categories
            .into_iter()
            .map(|c| c.as_ref().trim().into())
            .collect();
        if categories.is_empty() || categories.iter().any(|c| c.is_empty()) {
            return Err(InvalidValue::new(
                "categories",
                format!("{categories:?}"),
                "a facility needs one or more non-empty categories",
            ));
        }
        Ok(Self {
            id: id.into(),
            name: None,
            capacity: None,
            capacities: Vec::new(),
            at,
            categories,
            index: NOT_FROM_FILE,
        })
    }

    /// With a display name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<Box<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With a capacity (places, beds...).
    ///
    /// # Errors
    /// A capacity that is negative or not finite.
    pub fn with_capacity(mut self, capacity: f64) -> Result<Self, InvalidValue> {
        self.capacity = Some(check_count("capacity", capacity)?);
        Ok(self)
    }

    /// With a capacity under a named property (`beds`, `places`...), for categories whose
    /// profile names that property as their `capacity_field`.
    ///
    /// # Errors
    /// A capacity that is negative or not finite.
    pub fn with_capacity_in(
        mut self,
        field: impl Into<Box<str>>,
        capacity: f64,
    ) -> Result<Self, InvalidValue> {
        let capacity = check_count("capacity", capacity)?;
        let field = field.into();
        self.capacities.retain(|(f, _)| *f != field);
        self.capacities.push((field, capacity));
        Ok(self)
    }

    /// The capacity under `field` (`None`: the default capacity of [`capacity`](Self::capacity)).
    pub fn capacity_in(&self, field: Option<&str>) -> Option<f64> {
        match field {
            None => self.capacity,
            Some(f) => self
                .capacities
                .iter()
                .find(|(k, _)| k.as_ref() == f)
                .map(|&(_, c)| c),
        }
    }

    /// Identifier.
    pub fn id(&self) -> &Id {
        &self.id
    }

    /// Display name, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Capacity (school places, beds...), if given.
    pub fn capacity(&self) -> Option<f64> {
        self.capacity
    }

    /// Location (a representative point inside areas and on lines).
    pub fn at(&self) -> LonLat {
        self.at
    }

    /// The service categories it provides.
    pub fn categories(&self) -> &[Box<str>] {
        &self.categories
    }

    /// Index of the feature in its file, for values read from one.
    pub fn feature_index(&self) -> Option<usize> {
        feature_index(self.index)
    }
}
