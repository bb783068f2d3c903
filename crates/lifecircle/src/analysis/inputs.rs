//! What an analysis reads: facilities, and residences or communities (or both), as slices of
//! model values, with what loading them skipped.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::{
    coords::{self, Crs},
    error::FeatureError,
    geodesy::LonLat,
    io::{GroupCounts, Loaded},
    model::{Community, Facility, PlannedFacility, Residence},
};

/// The inputs of [`analyze`](crate::analyze): facilities, and residences, communities or both.
///
/// Built from values made in code ([`Inputs::new`] and its setters) or from loaded files
/// ([`Inputs::from_loaded`], which also carries the features that loading skipped, so that the
/// analysis reports them).
///
/// # Examples
/// ```
/// use lifecircle::{Facility, Inputs, LonLat, Residence};
///
/// let facilities = [Facility::new(1, LonLat::new(24.94, 60.17)?, ["meals"])?];
/// let homes = [Residence::new("r1", LonLat::new(24.941, 60.171)?, 120.0)?];
/// let inputs = Inputs::new(&facilities).residences(&homes);
/// # Ok::<(), lifecircle::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Inputs<'a> {
    pub(crate) facilities: &'a [Facility],
    pub(crate) residences: Option<&'a [Residence]>,
    pub(crate) communities: Option<&'a [Community]>,
    pub(crate) groups: Option<&'a GroupCounts>,
    pub(crate) skipped: Vec<FeatureError>,
    pub(crate) population_defaulted: usize,
    pub(crate) planned: Option<Planned<'a>>,
}

/// Planned facilities, added to today's as a second stage ([`Inputs::planned`]).
#[derive(Debug, Clone)]
pub struct Planned<'a> {
    pub(crate) items: &'a [PlannedFacility],
    pub(crate) file: String,
    pub(crate) category_field: String,
    pub(crate) crs: Crs,
}

impl<'a> Planned<'a> {
    /// Planned facilities given in code, in WGS84 (named `planned facilities` in messages).
    pub fn new(items: &'a [PlannedFacility]) -> Self {
        Self {
            items,
            file: "planned facilities".into(),
            category_field: "category".into(),
            crs: Crs::Wgs84,
        }
    }

    /// Planned facilities as read from a file (its name and category property are used in
    /// messages), with positions in `crs`.
    pub fn from_loaded(
        loaded: &'a Loaded<PlannedFacility>,
        category_field: &str,
        crs: Crs,
    ) -> Self {
        Self {
            items: &loaded.items,
            file: loaded.file.clone(),
            category_field: category_field.into(),
            crs,
        }
    }
}

impl<'a> Inputs<'a> {
    /// The facilities, with no demand yet: add [`residences`](Self::residences),
    /// [`communities`](Self::communities) or both.
    pub fn new(facilities: &'a [Facility]) -> Self {
        Self {
            facilities,
            residences: None,
            communities: None,
            groups: None,
            skipped: Vec::new(),
            population_defaulted: 0,
            planned: None,
        }
    }

    /// Planned facilities: the analysis measures a second stage, today's facilities and these,
    /// and reports both ([`Analysis::scenario`](crate::Analysis::scenario)). Each planned
    /// facility must offer an analysed category.
    pub fn planned(mut self, planned: Planned<'a>) -> Self {
        self.planned = Some(planned);
        self
    }

    /// [`planned`](Self::planned), from a file as loaded: the features that loading skipped
    /// are reported as those of the other inputs.
    pub fn planned_loaded(
        mut self,
        loaded: &'a Loaded<PlannedFacility>,
        category_field: &str,
        crs: Crs,
    ) -> Self {
        self.skipped.extend(loaded.rejected.iter().cloned());
        self.planned = Some(Planned::from_loaded(loaded, category_field, crs));
        self
    }

    /// The demand points.
    pub fn residences(mut self, residences: &'a [Residence]) -> Self {
        self.residences = Some(residences);
        self
    }

    /// The communities: areas that residences fall in, or points. Without residences, each
    /// community is a demand point of its own population.
    pub fn communities(mut self, communities: &'a [Community]) -> Self {
        self.communities = Some(communities);
        self
    }

    /// Target-group counts (e.g. `elderly`, `children`) per residence, parallel to the
    /// residences; a category whose profile names a group counts that group where a residence
    /// has a count, and its whole population where not.
    pub fn groups(mut self, groups: &'a GroupCounts) -> Self {
        self.groups = Some(groups);
        self
    }

    /// The inputs as loaded from files, with the features that loading skipped (reported by the
    /// analysis; with a strict plan, the first of them stops it).
    pub fn from_loaded(
        facilities: &'a Loaded<Facility>,
        residences: Option<&'a Loaded<Residence>>,
        communities: Option<&'a Loaded<Community>>,
    ) -> Self {
        let mut inputs = Self::new(&facilities.items);
        inputs.skipped.extend(facilities.rejected.iter().cloned());
        if let Some(r) = residences {
            inputs.residences = Some(&r.items);
            inputs.groups = Some(&r.groups);
            inputs.skipped.extend(r.rejected.iter().cloned());
            inputs.population_defaulted = r.population_defaulted;
        }
        if let Some(c) = communities {
            inputs.communities = Some(&c.items);
            inputs.skipped.extend(c.rejected.iter().cloned());
        }
        inputs
    }
}

/// The `at` point of every item converted from `from` to WGS84, in parallel; borrowed as is for
/// WGS84 input.
pub(crate) fn points_to_wgs84<'a, T: Clone + Send + Sync>(
    items: &'a [T],
    from: Crs,
    at: impl Fn(&mut T) -> &mut LonLat + Sync,
) -> Cow<'a, [T]> {
    if from == Crs::Wgs84 {
        return Cow::Borrowed(items);
    }
    let mut owned = items.to_vec();
    owned.par_iter_mut().for_each(|x| {
        let p = at(x);
        *p = coords::convert(*p, from, Crs::Wgs84);
    });
    Cow::Owned(owned)
}

/// Communities converted from `from` to WGS84, vertex by vertex, with their representative
/// points; borrowed as they are for WGS84 input.
pub(crate) fn communities_to_wgs84(communities: &[Community], from: Crs) -> Cow<'_, [Community]> {
    let mut converted = points_to_wgs84(communities, from, |c| &mut c.at);
    if let Cow::Owned(owned) = &mut converted {
        owned
            .par_iter_mut()
            .for_each(|c| coords::convert_geometry(&mut c.geometry, from, Crs::Wgs84));
    }
    converted
}
