//! Reading GeoJSON FeatureCollections: streaming, in parallel, into typed values.
//!
//! A city's residence file can hold ten million features (over a gigabyte). Rather than build a
//! generic JSON tree, the reader reads the file in blocks, finds where each feature of the
//! `features` array starts and ends with a small bracket-and-string scanner, and hands each batch of
//! complete features to rayon, where `serde_json` parses every feature straight into the fields
//! the caller asked for. Memory grows with the kept values, not with the file.
//!
//! Input follows RFC 7946: WGS84 longitude/latitude, longitude first. A top-level `crs` member
//! naming anything other than WGS84 is rejected, and every position is checked
//! ([`check_position`]) with hints for swapped axes and projected metre coordinates.

use std::{
    borrow::Cow,
    fmt,
    io::Read,
    path::{Path, PathBuf},
};

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};
use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::{Error, FeatureError, Result};

/// Bytes read per block; a batch of features parsed in parallel is about this large.
const BLOCK_BYTES: usize = 8 << 20;

/// Where a GeoJSON document comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file on disk.
    Path(PathBuf),
    /// A document compiled into the program (the shipped sample).
    Embedded {
        /// The name shown in messages, e.g. `data/facilities.geojson`.
        name: &'static str,
        /// The document.
        bytes: &'static [u8],
    },
}

impl Source {
    /// A file on disk.
    pub fn path(path: impl AsRef<Path>) -> Self {
        Self::Path(path.as_ref().to_path_buf())
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Self::Path(p) => p.display().to_string(),
            Self::Embedded { name, .. } => (*name).to_string(),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The result of reading one file: the features the caller kept, and the ones it rejected.
#[derive(Debug)]
pub struct Features<T> {
    /// Parsed values, in file order.
    pub kept: Vec<T>,
    /// Features that could not be used, in file order.
    pub rejected: Vec<FeatureError>,
    /// Number of features in the file.
    pub total: usize,
}

/// One feature, borrowed from the input buffer, with the members and properties asked for.
pub struct FeatureRef<'a> {
    file: &'a str,
    index: usize,
    id: Option<&'a RawValue>,
    geometry: Option<&'a RawValue>,
    properties: &'a [Option<&'a RawValue>],
}

impl<'a> FeatureRef<'a> {
    /// 0-based index of the feature in the `features` array.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The file name used in messages.
    pub fn file(&self) -> &str {
        self.file
    }

    /// The feature's own `id` member (RFC 7946 section 3.2), if any.
    pub fn feature_id(&self) -> Option<&'a RawValue> {
        self.id.filter(|v| v.get() != "null")
    }

    /// The raw value of the `i`-th property asked for; `None` when absent. A JSON `null` is
    /// returned as a raw `null`, so callers can tell "absent" from "null".
    pub fn property(&self, i: usize) -> Option<&'a RawValue> {
        self.properties.get(i).copied().flatten()
    }

    /// A [`FeatureError`] for this feature.
    pub fn error(&self, field: &str, problem: impl Into<String>) -> FeatureError {
        FeatureError {
            file: self.file.to_string(),
            index: self.index,
            field: field.to_string(),
            problem: problem.into(),
        }
    }

    /// The feature's geometry, with every position checked.
    ///
    /// # Errors
    /// A missing, null, empty or unsupported geometry, or an invalid position.
    pub fn geometry(&self) -> Result<Geometry<f64>, FeatureError> {
        let raw = match self.geometry {
            None => return Err(self.error("geometry", "the feature has no geometry member")),
            Some(raw) if raw.get() == "null" => {
                return Err(self.error("geometry", "the geometry is null"))
            }
            Some(raw) => raw,
        };
        parse_geometry(raw).map_err(|problem| self.error("geometry", problem))
    }
}

/// Read every feature of a GeoJSON FeatureCollection, calling `parse` on each (in parallel).
///
/// `wanted` lists the property names `parse` needs; [`FeatureRef::property`] indexes into it.
/// Features for which `parse` returns an error are collected in [`Features::rejected`].
///
/// # Errors
/// The file cannot be read, is not valid JSON, is not a FeatureCollection, or declares a CRS
/// other than WGS84.
pub fn read_features<T, F>(source: &Source, wanted: &[&str], parse: F) -> Result<Features<T>>
where
    T: Send,
    F: Fn(&FeatureRef<'_>) -> Result<T, FeatureError> + Sync,
{
    let file = source.name();
    let mut reader: Box<dyn Read> = match source {
        Source::Path(p) => Box::new(std::fs::File::open(p).map_err(|e| Error::Read {
            file: file.clone(),
            source: e,
        })?),
        Source::Embedded { bytes, .. } => Box::new(*bytes),
    };
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK_BYTES + (BLOCK_BYTES >> 2));
    let mut scan = Scanner::default();
    let mut out = Features {
        kept: Vec::new(),
        rejected: Vec::new(),
        total: 0,
    };
    let mut eof = false;
    loop {
        if !eof {
            eof = fill(&mut reader, &mut buf, BLOCK_BYTES).map_err(|e| Error::Read {
                file: file.clone(),
                source: e,
            })?;
        }
        let spans = scan.scan(&buf, eof).map_err(|(at, reason)| {
            let (line, column) = scan.line_column(&buf, at);
            Error::Json {
                file: file.clone(),
                line,
                column,
                reason,
            }
        })?;
        let first_index = out.total;
        out.total += spans.len();
        let parsed: Vec<Result<T, FeatureFailure>> = spans
            .par_iter()
            .enumerate()
            .map(|(k, &(start, end))| {
                let bytes = &buf[start..end];
                let index = first_index + k;
                let mut inline = [None; 8];
                let mut heap = Vec::new();
                let props: &mut [Option<&RawValue>] = if wanted.len() <= inline.len() {
                    &mut inline[..wanted.len()]
                } else {
                    heap.resize(wanted.len(), None);
                    &mut heap
                };
                let parts = parse_feature(bytes, wanted, props)
                    .map_err(|e| FeatureFailure::from_json(e, index, start))?;
                let feature = FeatureRef {
                    file: &file,
                    index,
                    id: parts.id,
                    geometry: parts.geometry,
                    properties: props,
                };
                if let Some(kind) = parts.kind {
                    if kind != "Feature" {
                        return Err(FeatureFailure::Bad(feature.error(
                            "type",
                            format!("expected a Feature, found type \"{kind}\""),
                        )));
                    }
                }
                parse(&feature).map_err(FeatureFailure::Bad)
            })
            .collect();
        for result in parsed {
            match result {
                Ok(v) => out.kept.push(v),
                Err(FeatureFailure::Bad(e)) => out.rejected.push(e),
                Err(FeatureFailure::Data { index, reason }) => out.rejected.push(FeatureError {
                    file: file.clone(),
                    index,
                    field: "feature".into(),
                    problem: reason,
                }),
                Err(FeatureFailure::Syntax {
                    start,
                    line,
                    column,
                    reason,
                }) => {
                    let (l0, c0) = scan.line_column(&buf, start);
                    return Err(Error::Json {
                        file,
                        line: l0 + line - 1,
                        column: if line == 1 { c0 + column - 1 } else { column },
                        reason,
                    });
                }
            }
        }
        scan.compact(&mut buf);
        if scan.done {
            break;
        }
        if eof {
            let (line, column) = scan.line_column(&buf, buf.len());
            return Err(Error::Json {
                file,
                line,
                column,
                reason: "the file ends before the FeatureCollection is complete".into(),
            });
        }
    }
    scan.finish(&file)?;
    Ok(out)
}

/// Read until `buf` has grown by `block` bytes or the reader is exhausted; true at end of file.
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, block: usize) -> std::io::Result<bool> {
    let mut len = buf.len();
    buf.resize(len + block, 0);
    let result = loop {
        match reader.read(&mut buf[len..]) {
            Ok(0) => break Ok(true),
            Ok(n) => {
                len += n;
                if len == buf.len() {
                    break Ok(false);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    buf.truncate(len);
    result
}

enum FeatureFailure {
    Bad(FeatureError),
    Data {
        index: usize,
        reason: String,
    },
    Syntax {
        start: usize,
        line: usize,
        column: usize,
        reason: String,
    },
}

impl FeatureFailure {
    fn from_json(e: serde_json::Error, index: usize, start: usize) -> Self {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => Self::Data {
                index,
                reason: strip_location(&e),
            },
            _ => {
                let mut reason = strip_location(&e);
                if reason.contains("expected value") {
                    reason.push_str(" (NaN, Infinity and trailing commas are not valid JSON)");
                }
                Self::Syntax {
                    start,
                    line: e.line(),
                    column: e.column(),
                    reason,
                }
            }
        }
    }
}

fn strip_location(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

// ---------------------------------------------------------------------------------------------
// The top-level scanner: finds the features of the `features` array without parsing them.

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    #[default]
    Start,
    /// Inside the top-level object, before a member (`first`: no member yet).
    Members { first: bool },
    /// Inside the `features` array (`first`: no feature yet).
    Features { first: bool },
}

#[derive(Default)]
struct Scanner {
    phase: Phase,
    /// Position in the buffer up to which everything has been consumed.
    pos: usize,
    done: bool,
    /// Lines before the buffer's first byte.
    lines_before: usize,
    /// Byte offset (in the file) of the buffer's first byte's line start, as a negative column
    /// offset: the column of buffer byte 0 is `first_column + 1`.
    first_column: usize,
    top_type: Option<String>,
    crs: Option<String>,
    saw_features: bool,
}

type ScanError = (usize, String);

impl Scanner {
    /// Scan as far as `buf` allows; return the byte ranges of the complete features found.
    fn scan(&mut self, buf: &[u8], eof: bool) -> Result<Vec<(usize, usize)>, ScanError> {
        let mut spans = Vec::new();
        while !self.done {
            match self.step(buf, &mut spans)? {
                Step::Advanced => {}
                Step::NeedMore => {
                    if eof {
                        return Err((
                            buf.len(),
                            "the file ends before the FeatureCollection is complete".into(),
                        ));
                    }
                    break;
                }
            }
        }
        Ok(spans)
    }

    fn step(&mut self, buf: &[u8], spans: &mut Vec<(usize, usize)>) -> Result<Step, ScanError> {
        let mut i = self.pos;
        if i == 0 && self.phase == Phase::Start && buf.starts_with(b"\xEF\xBB\xBF") {
            i = 3;
        }
        i = skip_ws(buf, i);
        let Some(&c) = buf.get(i) else {
            return Ok(Step::NeedMore);
        };
        match self.phase {
            Phase::Start => {
                if c != b'{' {
                    return Err((
                        i,
                        "a GeoJSON FeatureCollection must be a JSON object starting with '{'"
                            .into(),
                    ));
                }
                self.phase = Phase::Members { first: true };
                self.pos = i + 1;
            }
            Phase::Members { first } => {
                if c == b'}' {
                    self.pos = i + 1;
                    self.done = true;
                    return Ok(Step::Advanced);
                }
                if !first {
                    if c != b',' {
                        return Err((i, "expected ',' or '}' after a member".into()));
                    }
                    i = skip_ws(buf, i + 1);
                }
                let Some(key_end) = scan_value(buf, i)? else {
                    return Ok(Step::NeedMore);
                };
                if buf.get(i) != Some(&b'"') {
                    return Err((i, "expected a member name in double quotes".into()));
                }
                let key = String::from_utf8_lossy(&buf[i + 1..key_end - 1]).into_owned();
                let j = skip_ws(buf, key_end);
                match buf.get(j) {
                    None => return Ok(Step::NeedMore),
                    Some(b':') => {}
                    Some(_) => return Err((j, "expected ':' after a member name".into())),
                }
                let v = skip_ws(buf, j + 1);
                if v >= buf.len() {
                    return Ok(Step::NeedMore);
                }
                if key == "features" {
                    if buf[v] != b'[' {
                        return Err((v, "\"features\" must be an array".into()));
                    }
                    self.saw_features = true;
                    self.phase = Phase::Features { first: true };
                    self.pos = v + 1;
                } else {
                    let Some(end) = scan_value(buf, v)? else {
                        return Ok(Step::NeedMore);
                    };
                    let text = String::from_utf8_lossy(&buf[v..end]);
                    match key.as_str() {
                        "type" => self.top_type = Some(text.trim_matches('"').to_string()),
                        "crs" => self.crs = Some(text.into_owned()),
                        _ => {}
                    }
                    self.phase = Phase::Members { first: false };
                    self.pos = end;
                }
            }
            Phase::Features { first } => {
                if c == b']' {
                    self.phase = Phase::Members { first: false };
                    self.pos = i + 1;
                    return Ok(Step::Advanced);
                }
                if !first {
                    if c != b',' {
                        return Err((i, "expected ',' or ']' between features".into()));
                    }
                    i = skip_ws(buf, i + 1);
                }
                let Some(end) = scan_value(buf, i)? else {
                    return Ok(Step::NeedMore);
                };
                spans.push((i, end));
                self.phase = Phase::Features { first: false };
                self.pos = end;
            }
        }
        Ok(Step::Advanced)
    }

    /// Drop the consumed part of the buffer, keeping line numbers right.
    fn compact(&mut self, buf: &mut Vec<u8>) {
        let consumed = &buf[..self.pos];
        let newlines = memchr::memchr_iter(b'\n', consumed).count();
        if newlines > 0 {
            self.lines_before += newlines;
            let last = memchr::memrchr(b'\n', consumed).unwrap_or(0);
            self.first_column = self.pos - last - 1;
        } else {
            self.first_column += self.pos;
        }
        buf.drain(..self.pos);
        self.pos = 0;
    }

    /// 1-based line and column of buffer offset `at`.
    fn line_column(&self, buf: &[u8], at: usize) -> (usize, usize) {
        let at = at.min(buf.len());
        let before = &buf[..at];
        let newlines = memchr::memchr_iter(b'\n', before).count();
        let column = match memchr::memrchr(b'\n', before) {
            Some(last) => at - last,
            None => self.first_column + at + 1,
        };
        (self.lines_before + newlines + 1, column)
    }

    /// Checks that need the whole top-level object.
    fn finish(&self, file: &str) -> Result<()> {
        let err = |reason: String| Error::File {
            file: file.to_string(),
            reason,
        };
        match self.top_type.as_deref() {
            Some("FeatureCollection") => {}
            Some(other) => {
                return Err(err(format!(
                    "expected a GeoJSON FeatureCollection, found type \"{other}\"{}",
                    if other == "Feature" {
                        " (wrap the feature in {\"type\": \"FeatureCollection\", \"features\": [...]})"
                    } else {
                        ""
                    }
                )))
            }
            None => {
                return Err(err(
                    "expected a GeoJSON FeatureCollection, but the object has no \"type\" member"
                        .into(),
                ))
            }
        }
        if !self.saw_features {
            return Err(err("the FeatureCollection has no \"features\" array".into()));
        }
        if let Some(crs) = &self.crs {
            let wgs84 = ["CRS84", "EPSG::4326", "EPSG:4326", "crs84"];
            if crs != "null" && !wgs84.iter().any(|w| crs.contains(w)) {
                return Err(err(format!(
                    "declares the coordinate reference system {crs}; lifecircle reads WGS84 \
                     longitude/latitude (RFC 7946). Reproject first, e.g. \
                     `ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`"
                )));
            }
        }
        Ok(())
    }
}

enum Step {
    Advanced,
    NeedMore,
}

#[inline]
fn skip_ws(buf: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = buf.get(i) {
        i += 1;
    }
    i
}

/// End (exclusive) of the JSON value starting at `i`; `None` if the buffer ends first.
fn scan_value(buf: &[u8], i: usize) -> Result<Option<usize>, ScanError> {
    let Some(&c) = buf.get(i) else {
        return Ok(None);
    };
    match c {
        b'"' => Ok(scan_string(buf, i + 1)),
        b'{' | b'[' => {
            let mut stack: Vec<u8> = vec![c];
            let mut j = i + 1;
            while j < buf.len() {
                match buf[j] {
                    b'"' => match scan_string(buf, j + 1) {
                        Some(end) => {
                            j = end;
                            continue;
                        }
                        None => return Ok(None),
                    },
                    b @ (b'{' | b'[') => stack.push(b),
                    b @ (b'}' | b']') => {
                        let open = stack.pop().unwrap_or(0);
                        if (open == b'{') != (b == b'}') {
                            return Err((j, format!("unexpected '{}'", b as char)));
                        }
                        if stack.is_empty() {
                            return Ok(Some(j + 1));
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            Ok(None)
        }
        b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
            let mut j = i;
            while j < buf.len() {
                if matches!(buf[j], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                    return Ok(Some(j));
                }
                j += 1;
            }
            Ok(None)
        }
        other => Err((
            i,
            format!("expected a JSON value, found '{}'", other as char),
        )),
    }
}

/// End (exclusive, after the closing quote) of a string whose content starts at `i`.
#[inline]
fn scan_string(buf: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let k = memchr::memchr2(b'"', b'\\', &buf[i..])?;
        if buf[i + k] == b'"' {
            return Some(i + k + 1);
        }
        i += k + 2;
        if i > buf.len() {
            return None;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One feature: serde straight into the members and properties asked for.

struct FeatureParts<'a> {
    kind: Option<Cow<'a, str>>,
    id: Option<&'a RawValue>,
    geometry: Option<&'a RawValue>,
}

fn parse_feature<'a>(
    bytes: &'a [u8],
    wanted: &[&str],
    props: &mut [Option<&'a RawValue>],
) -> Result<FeatureParts<'a>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parts = FeatureSeed { wanted, props }.deserialize(&mut de)?;
    de.end()?;
    Ok(parts)
}

/// A string that borrows from the input unless it had to be unescaped.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

struct FeatureSeed<'w, 'p, 'a> {
    wanted: &'w [&'w str],
    props: &'p mut [Option<&'a RawValue>],
}

impl<'de, 'w, 'p> DeserializeSeed<'de> for FeatureSeed<'w, 'p, 'de> {
    type Value = FeatureParts<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, 'w, 'p> Visitor<'de> for FeatureSeed<'w, 'p, 'de> {
    type Value = FeatureParts<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON Feature object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut parts = FeatureParts {
            kind: None,
            id: None,
            geometry: None,
        };
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "type" => parts.kind = Some(map.next_value::<Key<'de>>()?.0),
                "id" => parts.id = Some(map.next_value()?),
                "geometry" => parts.geometry = Some(map.next_value()?),
                "properties" => map.next_value_seed(PropsSeed {
                    wanted: self.wanted,
                    props: &mut *self.props,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(parts)
    }
}

struct PropsSeed<'w, 'p, 'a> {
    wanted: &'w [&'w str],
    props: &'p mut [Option<&'a RawValue>],
}

impl<'de, 'w, 'p> DeserializeSeed<'de> for PropsSeed<'w, 'p, 'de> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, 'w, 'p> Visitor<'de> for PropsSeed<'w, 'p, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a properties object or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match self.wanted.iter().position(|w| *w == key.0.as_ref()) {
                Some(i) => self.props[i] = Some(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Geometry.

#[derive(serde::Deserialize)]
struct RawGeometry<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    coordinates: Option<&'a RawValue>,
    #[serde(borrow, default)]
    geometries: Option<Vec<&'a RawValue>>,
}

/// A GeoJSON position: two or three numbers, longitude first; a third (altitude) is ignored.
struct Position(Coord<f64>);

impl<'de> de::Deserialize<'de> for Position {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Position;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a position [longitude, latitude]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Position, A::Error> {
                let x: Option<f64> = seq.next_element()?;
                let y: Option<f64> = seq.next_element()?;
                let (Some(x), Some(y)) = (x, y) else {
                    return Err(de::Error::custom(
                        "a position needs at least two numbers [longitude, latitude]",
                    ));
                };
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Position(Coord { x, y }))
            }
        }
        d.deserialize_seq(V)
    }
}

fn coords<'de, T: de::Deserialize<'de>>(raw: Option<&'de RawValue>) -> Result<T, String> {
    let raw = raw.ok_or_else(|| "the geometry has no coordinates".to_string())?;
    serde_json::from_str(raw.get()).map_err(|e| {
        let msg = strip_location(&e);
        if msg.contains("invalid type: null") {
            "a coordinate is null".to_string()
        } else {
            format!("invalid coordinates: {msg}")
        }
    })
}

fn line(points: Vec<Position>) -> Result<LineString<f64>, String> {
    let line: LineString<f64> = points.into_iter().map(|p| p.0).collect();
    for c in &line.0 {
        check_position(c.x, c.y)?;
    }
    Ok(line)
}

fn polygon(rings: Vec<Vec<Position>>) -> Result<Polygon<f64>, String> {
    let mut rings = rings.into_iter();
    let exterior = line(rings.next().ok_or("a polygon needs at least one ring")?)?;
    let mut interiors = Vec::new();
    for ring in std::iter::once(exterior).chain(rings.map(line).collect::<Result<Vec<_>, _>>()?) {
        if ring.0.len() < 4 {
            return Err(format!(
                "a polygon ring needs at least 4 positions, found {}",
                ring.0.len()
            ));
        }
        if ring.0.first() != ring.0.last() {
            return Err("a polygon ring must end where it starts".into());
        }
        interiors.push(ring);
    }
    let exterior = interiors.remove(0);
    Ok(Polygon::new(exterior, interiors))
}

/// Parse a GeoJSON geometry object, checking every position.
pub fn parse_geometry(raw: &RawValue) -> Result<Geometry<f64>, String> {
    let g: RawGeometry = serde_json::from_str(raw.get())
        .map_err(|e| format!("not a GeoJSON geometry object: {}", strip_location(&e)))?;
    let geometry = match g.kind.as_ref() {
        "Point" => {
            let p: Position = coords(g.coordinates)?;
            check_position(p.0.x, p.0.y)?;
            Geometry::Point(Point(p.0))
        }
        "MultiPoint" => {
            let ps: Vec<Position> = coords(g.coordinates)?;
            Geometry::MultiPoint(MultiPoint(line(ps)?.0.into_iter().map(Point).collect()))
        }
        "LineString" => Geometry::LineString(line(coords(g.coordinates)?)?),
        "MultiLineString" => {
            let ls: Vec<Vec<Position>> = coords(g.coordinates)?;
            Geometry::MultiLineString(MultiLineString(
                ls.into_iter().map(line).collect::<Result<_, _>>()?,
            ))
        }
        "Polygon" => Geometry::Polygon(polygon(coords(g.coordinates)?)?),
        "MultiPolygon" => {
            let ps: Vec<Vec<Vec<Position>>> = coords(g.coordinates)?;
            Geometry::MultiPolygon(MultiPolygon(
                ps.into_iter().map(polygon).collect::<Result<_, _>>()?,
            ))
        }
        "GeometryCollection" => {
            let parts = g
                .geometries
                .ok_or("a GeometryCollection needs a \"geometries\" array")?;
            Geometry::GeometryCollection(
                parts
                    .into_iter()
                    .map(parse_geometry)
                    .collect::<Result<Vec<_>, _>>()?
                    .into_iter()
                    .collect(),
            )
        }
        other => return Err(format!("unsupported geometry type \"{other}\"")),
    };
    if is_empty(&geometry) {
        return Err(format!("the {} is empty", g.kind));
    }
    Ok(geometry)
}

fn is_empty(g: &Geometry<f64>) -> bool {
    match g {
        Geometry::Point(_) => false,
        Geometry::MultiPoint(m) => m.0.is_empty(),
        Geometry::LineString(l) => l.0.is_empty(),
        Geometry::MultiLineString(m) => m.0.iter().all(|l| l.0.is_empty()),
        Geometry::Polygon(p) => p.exterior().0.is_empty(),
        Geometry::MultiPolygon(m) => m.0.is_empty(),
        Geometry::GeometryCollection(c) => c.0.iter().all(is_empty),
        _ => true,
    }
}

/// Check one position: finite, longitude in -180..=180, latitude in -90..=90.
///
/// The message recognises the two common mistakes: `[latitude, longitude]` order, and projected
/// coordinates in metres (UTM, Web Mercator, CGCS2000 Gauss-Krüger...).
pub fn check_position(lon: f64, lat: f64) -> Result<(), String> {
    if !lon.is_finite() || !lat.is_finite() {
        return Err(format!("position [{lon}, {lat}] is not a finite number"));
    }
    if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) {
        return Ok(());
    }
    if lon.abs() <= 90.0 && lat.abs() <= 180.0 {
        return Err(format!(
            "position [{lon}, {lat}] has latitude {lat} outside -90..90; it looks like \
             [latitude, longitude]: GeoJSON (RFC 7946) puts longitude first, so swap the two values"
        ));
    }
    if lon.abs() > 1000.0 || lat.abs() > 1000.0 {
        return Err(format!(
            "position [{lon}, {lat}] looks like projected coordinates in metres, not WGS84 \
             degrees; reproject to longitude/latitude first, e.g. \
             `ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson`"
        ));
    }
    Err(format!(
        "position [{lon}, {lat}] is outside WGS84 range (longitude -180..180, latitude -90..90)"
    ))
}

// ---------------------------------------------------------------------------------------------
// Property values.

/// A property read as a number: a JSON number, or a string holding one.
///
/// `Ok(None)` when the value is JSON `null`.
pub fn number(raw: &RawValue) -> Result<Option<f64>, String> {
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    let t = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
    let v: f64 = t
        .unwrap_or(text)
        .trim()
        .parse()
        .map_err(|_| format!("expected a number, found {}", shorten(text)))?;
    if !v.is_finite() {
        return Err(format!("expected a finite number, found {}", shorten(text)));
    }
    Ok(Some(v))
}

/// A property read as a string (`null` gives `Ok(None)`).
pub fn string(raw: &RawValue) -> Result<Option<String>, String> {
    if raw.get() == "null" {
        return Ok(None);
    }
    serde_json::from_str::<String>(raw.get())
        .map(Some)
        .map_err(|_| format!("expected a string, found {}", shorten(raw.get())))
}

/// A value shortened for an error message.
pub fn shorten(text: &str) -> String {
    if text.chars().count() <= 60 {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(57).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded(text: &'static str) -> Source {
        Source::Embedded {
            name: "test.geojson",
            bytes: text.as_bytes(),
        }
    }

    fn read_pop(text: &'static str) -> Result<Features<(usize, Option<f64>)>> {
        read_features(&embedded(text), &["population"], |f| {
            f.geometry()?;
            let pop = match f.property(0) {
                Some(raw) => number(raw).map_err(|p| f.error("population", p))?,
                None => None,
            };
            Ok((f.index(), pop))
        })
    }

    #[test]
    fn reads_features_and_properties() {
        let fc = read_pop(
            r#"{"type":"FeatureCollection","features":[
              {"type":"Feature","properties":{"population":3,"x":[1,{"a":"]"}]},
               "geometry":{"type":"Point","coordinates":[24.9,60.1]}},
              {"type":"Feature","properties":{"population":"7.5"},
               "geometry":{"type":"Point","coordinates":[24.9,60.1,12]}},
              {"type":"Feature","properties":null,
               "geometry":{"type":"Point","coordinates":[24.9,60.1]}}
            ]}"#,
        )
        .unwrap();
        assert_eq!(fc.kept, vec![(0, Some(3.0)), (1, Some(7.5)), (2, None)]);
        assert!(fc.rejected.is_empty());
        assert_eq!(fc.total, 3);
    }

    #[test]
    fn bad_features_are_rejected_with_index_and_field() {
        let fc = read_pop(
            r#"{"features":[
              {"type":"Feature","properties":{"population":"many"},
               "geometry":{"type":"Point","coordinates":[24.9,60.1]}},
              {"type":"Feature","properties":{},
               "geometry":{"type":"Point","coordinates":[60.1,124.9]}},
              {"type":"Feature","properties":{},"geometry":null},
              {"type":"Feature","properties":{},
               "geometry":{"type":"Point","coordinates":[2776000.5,8437000.1]}}
            ], "type": "FeatureCollection"}"#,
        )
        .unwrap();
        assert!(fc.kept.is_empty());
        let r = &fc.rejected;
        assert_eq!((r[0].index, r[0].field.as_str()), (0, "population"));
        assert!(r[0].problem.contains("\"many\""), "{}", r[0].problem);
        assert_eq!((r[1].index, r[1].field.as_str()), (1, "geometry"));
        assert!(r[1].problem.contains("swap"), "{}", r[1].problem);
        assert!(r[2].problem.contains("null"));
        assert!(r[3].problem.contains("projected"), "{}", r[3].problem);
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let e = read_pop(
            "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\n\"properties\":{\"population\": NaN}}]}",
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("NaN"), "{msg}");
    }

    #[test]
    fn not_a_feature_collection() {
        let e = read_pop(r#"{"type":"Feature","properties":{},"geometry":null}"#).unwrap_err();
        assert!(e.to_string().contains("FeatureCollection"), "{e}");
        let e = read_pop(r#"[1,2]"#).unwrap_err();
        assert!(e.to_string().contains("JSON object"), "{e}");
        let e = read_pop(r#"{"type":"FeatureCollection","features":[{"#).unwrap_err();
        assert!(e.to_string().contains("ends before"), "{e}");
    }

    #[test]
    fn projected_crs_is_refused() {
        let e = read_pop(
            r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3879"}},"features":[]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("ogr2ogr"), "{e}");
    }

    #[test]
    fn reads_across_block_boundaries() {
        // More than one block of features, with line numbers still right at the end.
        let mut text = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
        let n = 120_000;
        for i in 0..n {
            if i > 0 {
                text.push_str(",\n");
            }
            text.push_str(&format!(
                "{{\"type\":\"Feature\",\"properties\":{{\"population\":{i},\"name\":\"a \\\" }} b\"}},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[24.9,60.1]}}}}"
            ));
        }
        text.push_str("\n]}");
        assert!(text.len() > BLOCK_BYTES);
        let text: &'static str = Box::leak(text.into_boxed_str());
        let fc = read_pop(text).unwrap();
        assert_eq!(fc.kept.len(), n);
        assert!(fc
            .kept
            .iter()
            .enumerate()
            .all(|(i, k)| *k == (i, Some(i as f64))));
        let broken: &'static str = Box::leak(text.replace("\n]}", "\n}").into_boxed_str());
        let e = read_pop(broken).unwrap_err().to_string();
        assert!(e.contains(&format!("line {}", n + 2)), "{e}");
    }
}
