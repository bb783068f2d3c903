//! Planning units.

use geo::{Geometry, InteriorPoint};

use super::{check_count, feature_index, Id, NOT_FROM_FILE};
use crate::{error::InvalidValue, geodesy::LonLat};

/// A planning unit (社区): a polygon or a point, with an optional population.
///
/// # Examples
/// ```
/// use geo::polygon;
/// use lifecircle::Community;
///
/// let area = polygon![(x: 24.93, y: 60.16), (x: 24.95, y: 60.16), (x: 24.95, y: 60.18), (x: 24.93, y: 60.18)];
/// let kluuvi = Community::new("kluuvi", area.into())?.with_name("Kluuvi");
/// assert!(kluuvi.is_area());
/// # Ok::<(), lifecircle::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Community {
    pub(crate) id: Id,
    pub(crate) name: Option<Box<str>>,
    pub(crate) population: Option<f64>,
    pub(crate) geometry: Geometry<f64>,
    pub(crate) at: LonLat,
    pub(crate) index: u32,
}

impl Community {
    /// A community with this geometry: a Polygon or MultiPolygon (residences inside it belong
    /// to it) or a Point (residences outside every polygon go to the nearest point), in WGS84
    /// longitude/latitude.
    ///
    /// # Errors
    /// Another kind of geometry, a vertex out of range, or an area without an inside point.
    pub fn new(id: impl Into<Id>, geometry: Geometry<f64>) -> Result<Self, InvalidValue> {
        if !matches!(
            geometry,
            Geometry::Point(_) | Geometry::Polygon(_) | Geometry::MultiPolygon(_)
        ) {
            return Err(InvalidValue::new(
                "geometry",
                "of another kind",
                "a community must be a Polygon, MultiPolygon or Point",
            ));
        }
        for c in geo::CoordsIter::coords_iter(&geometry) {
            LonLat::new(c.x, c.y)?;
        }
        let at = representative_point(&geometry).ok_or_else(|| {
            InvalidValue::new(
                "geometry",
                "without area",
                "no representative point can be found for it",
            )
        })?;
        Ok(Self {
            id: id.into(),
            name: None,
            population: None,
            geometry,
            at,
            index: NOT_FROM_FILE,
        })
    }

    /// With a display name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<Box<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With a population of its own: the demand point's population when the community is
    /// analysed without residences.
    ///
    /// # Errors
    /// A population that is negative or not finite.
    pub fn with_population(mut self, population: f64) -> Result<Self, InvalidValue> {
        self.population = Some(check_count("population", population)?);
        Ok(self)
    }

    /// Identifier.
    pub fn id(&self) -> &Id {
        &self.id
    }

    /// Display name, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Population given with the community, if any.
    pub fn population(&self) -> Option<f64> {
        self.population
    }

    /// The geometry (Point, Polygon or MultiPolygon), written back to the gap map.
    pub fn geometry(&self) -> &Geometry<f64> {
        &self.geometry
    }

    /// A representative point inside the community (the point itself for point communities).
    pub fn at(&self) -> LonLat {
        self.at
    }

    /// True when the community is an area (Polygon or MultiPolygon) rather than a point.
    pub fn is_area(&self) -> bool {
        matches!(
            self.geometry,
            Geometry::Polygon(_) | Geometry::MultiPolygon(_)
        )
    }

    /// Index of the feature in its file, for values read from one.
    pub fn feature_index(&self) -> Option<usize> {
        feature_index(self.index)
    }
}

/// The point itself for a Point, else a point inside the area.
pub(crate) fn representative_point(geometry: &Geometry<f64>) -> Option<LonLat> {
    let p = match geometry {
        Geometry::Point(p) => Some(*p),
        g => g.interior_point(),
    }?;
    Some(LonLat::unchecked(p.x(), p.y()))
}
