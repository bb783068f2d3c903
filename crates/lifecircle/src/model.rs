//! The planning data: facilities (supply), residences (demand) and communities (the units a plan
//! reports on).

use std::fmt;

use geo::Geometry;

use crate::geodesy::LonLat;

/// A feature identifier as found in the input: a number or a string.
///
/// Taken from the property named by `--id-field` (default `id`), else the GeoJSON feature `id`,
/// else the feature's index in its file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Id {
    /// A numeric id (written back as a JSON number).
    Num(i64),
    /// A text id (held inline, without a heap allocation, up to 24 bytes).
    Text(compact_str::CompactString),
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Num(n) => write!(f, "{n}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

/// A service point: a neighbourhood centre, clinic, canteen, kindergarten...
#[derive(Debug, Clone)]
pub struct Facility {
    /// Identifier.
    pub id: Id,
    /// Display name, if the input has one.
    pub name: Option<Box<str>>,
    /// Capacity (school places, beds...), if the input has one.
    pub capacity: Option<f64>,
    /// Location (a representative point inside areas and on lines).
    pub at: LonLat,
    /// The service categories it provides (a centre hosting several functions has several).
    pub categories: Vec<Box<str>>,
    /// Index of the feature in its file.
    pub index: u32,
}

/// A demand point: a building, household or grid cell with its population.
#[derive(Debug, Clone)]
pub struct Residence {
    /// Identifier.
    pub id: Id,
    /// Location.
    pub at: LonLat,
    /// Number of people (1 when the input gives none).
    pub population: f64,
    /// The community the input assigns it to, if any (`--community-field`).
    pub community: Option<Id>,
    /// Index of the feature in its file.
    pub index: u32,
}

/// A planning unit (社区): a polygon or a point, with an optional population.
#[derive(Debug, Clone)]
pub struct Community {
    /// Identifier.
    pub id: Id,
    /// Display name.
    pub name: Option<Box<str>>,
    /// Population given in the input, if any.
    pub population: Option<f64>,
    /// The geometry as read (Point, Polygon or MultiPolygon), written back to the gap map.
    pub geometry: Geometry<f64>,
    /// A representative point inside the community (the point itself for point communities).
    pub at: LonLat,
    /// Index of the feature in its file.
    pub index: u32,
}

impl Community {
    /// True when the community is an area (Polygon or MultiPolygon) rather than a point.
    pub fn is_area(&self) -> bool {
        matches!(
            self.geometry,
            Geometry::Polygon(_) | Geometry::MultiPolygon(_)
        )
    }
}

/// The six standard functions of the "1+6+X" neighbourhood centre, in the order plans list them.
pub const SIX_FUNCTIONS: [&str; 6] = [
    "elderly_care",
    "childcare",
    "medical",
    "meals",
    "culture_sports",
    "admin_services",
];

#[cfg(test)]
mod size {
    /// Ten million residences: every byte of an id counts.
    #[test]
    fn an_id_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<super::Id>(), 24);
    }
}
