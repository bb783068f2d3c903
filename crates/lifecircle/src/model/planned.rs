//! Planned service points: facilities under construction or planned for a year.

use super::Facility;

/// A facility that is planned (not yet open): the facility, and what the plan says about it.
///
/// [`analyze`](crate::analyze) adds planned facilities to today's as a second stage
/// ([`Inputs::planned`](crate::Inputs::planned)) and reports both ([`Scenario`](crate::Scenario)).
///
/// # Examples
/// ```
/// use lifecircle::{Facility, LonLat, PlannedFacility};
///
/// let centre = Facility::new("p1", LonLat::new(121.47, 31.23)?, ["meals"])?;
/// let planned = PlannedFacility::new(centre).with_status("under construction").with_year(2025);
/// assert_eq!(planned.year(), Some(2025));
/// # Ok::<(), lifecircle::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PlannedFacility {
    pub(crate) facility: Facility,
    pub(crate) status: Option<Box<str>>,
    pub(crate) year: Option<i32>,
}

impl PlannedFacility {
    /// A planned facility without status or year.
    pub fn new(facility: Facility) -> Self {
        Self {
            facility,
            status: None,
            year: None,
        }
    }

    /// With a status (`planned`, `under construction`, ...), as the plan words it.
    #[must_use]
    pub fn with_status(mut self, status: impl Into<Box<str>>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// With the year it is to open.
    #[must_use]
    pub fn with_year(mut self, year: i32) -> Self {
        self.year = Some(year);
        self
    }

    /// The facility.
    pub fn facility(&self) -> &Facility {
        &self.facility
    }

    /// Its status, if given.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// The year it is to open, if given.
    pub fn year(&self) -> Option<i32> {
        self.year
    }
}
