//! A layer of the outputs parsed back from the GeoJSON the one GeoJSON writer formats, for the
//! writers of other formats (GeoPackage, FlatGeobuf), so that every format holds exactly what
//! the GeoJSON output holds: the features with their geometries and raw property values, and
//! the fields typed from the values.
//!
//! Field types come from the values: boolean when every value is true or false, integer when
//! every value is an integer, real for other numbers, text for strings, JSON for lists and
//! objects; a field null in every feature is real when its name says it holds a distance,
//! share or amount (`<category>_m`, `_coverage`, `_access`, ...), else text.

use std::{borrow::Cow, fmt};

use geo::{BoundingRect, Geometry};
use geozero::{geojson::GeoJson, ToGeo};
use rayon::prelude::*;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A field's type, from the values it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    /// Only nulls so far.
    Unknown,
    Boolean,
    Integer,
    Real,
    Text,
    Json,
}

impl FieldType {
    pub(crate) fn of(v: &RawValue) -> Self {
        match v.get().as_bytes().first() {
            Some(b'n') => Self::Unknown,
            Some(b't' | b'f') => Self::Boolean,
            Some(b'"') => Self::Text,
            Some(b'[' | b'{') => Self::Json,
            _ if v.get().bytes().all(|b| b.is_ascii_digit() || b == b'-') => Self::Integer,
            _ => Self::Real,
        }
    }

    /// The type of a field that is null in every feature (the distances of a category with
    /// no facility, say), from the name lifecircle gives it: a distance, share, ratio or amount
    /// is `REAL`, so that a run appended to the layer later keeps its numbers; anything else
    /// `TEXT`.
    pub(crate) fn named(name: &str) -> Self {
        const REAL_SUFFIXES: [&str; 11] = [
            "_m",
            "_access",
            "_places_in_reach",
            "_places_needed",
            "_shortfall",
            "_ratio",
            "_demand_in_reach",
            "_catchment",
            "_load",
            "_coverage_after",
            "_cumulative_coverage",
        ];
        let real = REAL_SUFFIXES.iter().any(|s| name.ends_with(s))
            || name.contains("_coverage")
            || name.starts_with("population")
            || matches!(name, "capacity" | "gap_population");
        if real {
            Self::Real
        } else {
            Self::Text
        }
    }

    /// The value to store for a JSON value `text` of a field of this type, as every writer of
    /// a typed format stores it: booleans, integers and reals of their fields (null when they
    /// do not parse), strings unescaped, lists and objects as their JSON text, and anything
    /// else in a text field as its JSON text (a number in a field of mixed numbers and text).
    ///
    /// # Errors
    /// A string that is not valid JSON.
    pub(crate) fn typed(self, text: &str) -> std::result::Result<Typed<'_>, String> {
        Ok(match (self, text) {
            (_, "null") => Typed::Null,
            (Self::Boolean, t) => Typed::Bool(t == "true"),
            (Self::Integer, t) => t.parse().map_or(Typed::Null, Typed::Int),
            (Self::Real, t) => t.parse().map_or(Typed::Null, Typed::Real),
            (Self::Json, t) => Typed::Json(t),
            (_, t) if t.starts_with('"') => match t
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .filter(|t| !t.contains('\\'))
            {
                Some(plain) => Typed::Text(Cow::Borrowed(plain)),
                None => Typed::Text(Cow::Owned(
                    serde_json::from_str::<String>(t).map_err(|e| e.to_string())?,
                )),
            },
            (_, t) => Typed::Text(Cow::Borrowed(t)),
        })
    }

    pub(crate) fn join(self, other: Self) -> Self {
        use FieldType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Unknown, b) => b,
            (a, Unknown) => a,
            (Integer, Real) | (Real, Integer) => Real,
            _ => Text,
        }
    }
}

/// A value as a typed format stores it (see [`FieldType::typed`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Typed<'t> {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(Cow<'t, str>),
    /// A list or object, as JSON text.
    Json(&'t str),
}

/// The geometry type of a feature or layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Point,
    LineString,
    Polygon,
    MultiPoint,
    MultiLineString,
    MultiPolygon,
    /// A collection, or (for a layer) features of several types.
    Mixed,
}

impl Kind {
    fn of(g: &Geometry<f64>) -> Self {
        match g {
            Geometry::Point(_) => Self::Point,
            Geometry::LineString(_) => Self::LineString,
            Geometry::Polygon(_) => Self::Polygon,
            Geometry::MultiPoint(_) => Self::MultiPoint,
            Geometry::MultiLineString(_) => Self::MultiLineString,
            Geometry::MultiPolygon(_) => Self::MultiPolygon,
            _ => Self::Mixed,
        }
    }

    /// The GeoPackage geometry type name.
    pub(crate) fn gpkg_name(self) -> &'static str {
        match self {
            Self::Point => "POINT",
            Self::LineString => "LINESTRING",
            Self::Polygon => "POLYGON",
            Self::MultiPoint => "MULTIPOINT",
            Self::MultiLineString => "MULTILINESTRING",
            Self::MultiPolygon => "MULTIPOLYGON",
            Self::Mixed => "GEOMETRY",
        }
    }
}

/// One feature, parsed back from its GeoJSON line: the properties as raw JSON, and the
/// geometry.
pub(crate) struct Feature<'a> {
    properties: Vec<(Cow<'a, str>, &'a RawValue)>,
    pub geometry: Geometry<f64>,
    /// min x, max x, min y, max y.
    pub envelope: Option<[f64; 4]>,
    kind: Kind,
}

impl<'a> Feature<'a> {
    /// Parse one feature line (without its trailing comma).
    pub(crate) fn parse(line: &'a [u8]) -> std::result::Result<Self, String> {
        #[derive(serde::Deserialize)]
        struct Parts<'a> {
            #[serde(borrow)]
            properties: Props<'a>,
            #[serde(borrow)]
            geometry: &'a RawValue,
        }
        let parts: Parts<'a> = serde_json::from_slice(line).map_err(|e| e.to_string())?;
        let geometry = GeoJson(parts.geometry.get())
            .to_geo()
            .map_err(|e| e.to_string())?;
        let kind = Kind::of(&geometry);
        let envelope = geometry
            .bounding_rect()
            .map(|r| [r.min().x, r.max().x, r.min().y, r.max().y]);
        Ok(Self {
            properties: parts.properties.0,
            geometry,
            envelope,
            kind,
        })
    }

    /// The properties, in the order written, values as raw JSON.
    pub(crate) fn properties(&self) -> &[(Cow<'a, str>, &'a RawValue)] {
        &self.properties
    }

    /// The value of the field `name`, the `j`-th of the layer (looked for at the same place
    /// first, since the writer writes every feature's properties in one order).
    pub(crate) fn value(&self, j: usize, name: &str) -> Option<&'a RawValue> {
        match self.properties.get(j) {
            Some((k, v)) if k == name => Some(*v),
            _ => self
                .properties
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| *v),
        }
    }
}

/// A layer parsed back from a GeoJSON FeatureCollection written by the one GeoJSON writer (one
/// feature a line): its fields with their types, in order of first appearance, its features,
/// and its geometry type.
pub(crate) struct ParsedLayer<'a> {
    pub fields: Vec<(String, FieldType)>,
    pub features: Vec<Feature<'a>>,
    /// The features' own type when they share one (a point layer when there are none).
    pub geometry_type: Kind,
}

impl<'a> ParsedLayer<'a> {
    /// Parse the features (in parallel) and type the fields.
    ///
    /// # Errors
    /// A feature line that is not a GeoJSON feature (the parser's message).
    pub(crate) fn from_geojson(geojson: &'a [u8]) -> std::result::Result<Self, String> {
        let lines: Vec<&[u8]> = geojson
            .split(|&b| b == b'\n')
            .filter(|l| l.starts_with(br#"{"type":"Feature""#))
            .collect();
        let features: Vec<Feature> = lines
            .par_iter()
            .map(|line| Feature::parse(line.strip_suffix(b",").unwrap_or(line)))
            .collect::<std::result::Result<_, String>>()?;
        let mut fields: Vec<(String, FieldType)> = Vec::new();
        for f in &features {
            for (j, (k, v)) in f.properties.iter().enumerate() {
                let t = FieldType::of(v);
                let slot = match fields.get(j) {
                    Some((name, _)) if name == k => Some(j),
                    _ => fields.iter().position(|(name, _)| name == k),
                };
                match slot {
                    Some(i) => fields[i].1 = fields[i].1.join(t),
                    None => fields.push((k.to_string(), t)),
                }
            }
        }
        for (k, t) in &mut fields {
            if *t == FieldType::Unknown {
                *t = FieldType::named(k);
            }
        }
        let mut kinds = features.iter().map(|f| f.kind);
        let geometry_type = match kinds.next() {
            Some(first) if kinds.all(|k| k == first) => first,
            Some(_) => Kind::Mixed,
            None => Kind::Point,
        };
        Ok(Self {
            fields,
            features,
            geometry_type,
        })
    }

    /// The extent of the features: min x, min y, max x, max y (`None` without geometries).
    pub(crate) fn extent(&self) -> Option<[f64; 4]> {
        let mut e = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for [x0, x1, y0, y1] in self.features.iter().filter_map(|f| f.envelope) {
            e = [e[0].min(x0), e[1].min(y0), e[2].max(x1), e[3].max(y1)];
        }
        e[0].is_finite().then_some(e)
    }
}

/// The members of a `properties` object in their order, values kept as raw JSON.
struct Props<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Props<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Props<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a properties object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Props<'a>, A::Error> {
                let mut out = Vec::new();
                while let Some(Key(k)) = map.next_key::<Key<'a>>()? {
                    out.push((k, map.next_value::<&'de RawValue>()?));
                }
                Ok(Props(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A member name, borrowed from the line unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}
