//! Reading GeoJSON FeatureCollections: streaming, in parallel, into typed values.
//!
//! A city's residence file can hold ten million features (over a gigabyte). Rather than build a
//! generic JSON tree, the reader reads the file in blocks, finds where each feature of the
//! `features` array starts and ends with a small bracket-and-string scanner, and hands each batch of
//! complete features to rayon, where each feature is parsed straight into the fields the caller
//! asked for: features of the common simple shape (flat properties, a Point) by a one-pass
//! reader of that shape alone (`fast`), every other feature by `serde_json`. Memory grows with
//! the kept values, not with the file.
//!
//! Input follows RFC 7946: WGS84 longitude/latitude, longitude first, with one exception: a
//! top-level `crs` member before the features (GDAL's legacy output, lifecircle's own with
//! `--output-coords EPSG:n`) naming an EPSG system (`urn:ogc:def:crs:EPSG::4547`, `EPSG:4547`)
//! is the file's coordinate system, read as `--coords EPSG:4547` would read it (positions
//! converted to WGS84 as they are parsed). Any other `crs` naming anything other than WGS84 is
//! rejected. Every position is checked
//! ([`LonLat::new`](crate::LonLat::new)'s checks) with hints for swapped axes and projected metre coordinates.

use std::{
    borrow::Cow,
    fmt,
    io::Read,
    path::{Path, PathBuf},
};

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Point, Polygon};
use rayon::prelude::*;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::fast;
use crate::error::{Error, FeatureError, Result};
use crate::geodesy::check_position;
use crate::projection::Projection;

/// Bytes read per block; a batch of features parsed in parallel is about this large.
const BLOCK_BYTES: usize = 8 << 20;

/// The largest single feature (or other member of the collection) read, in MiB, unless the
/// environment variable [`MAX_FEATURE_MB_VAR`] sets another. A feature is held whole in memory
/// while it is parsed, so this bounds the reader's memory whatever the file holds; GDAL's
/// GeoJSON reader has a like limit (`OGR_GEOJSON_MAX_OBJ_SIZE`, 200 MB).
pub const MAX_FEATURE_MB: usize = 256;

/// The environment variable that raises (or lowers) [`MAX_FEATURE_MB`].
pub const MAX_FEATURE_MB_VAR: &str = "LIFECIRCLE_MAX_FEATURE_MB";

/// The limit on one feature's size in bytes: [`MAX_FEATURE_MB_VAR`] when set to a whole
/// number of MiB, else [`MAX_FEATURE_MB`].
fn max_feature_bytes() -> Result<usize> {
    match std::env::var(MAX_FEATURE_MB_VAR) {
        Err(_) => Ok(MAX_FEATURE_MB << 20),
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(mb) if mb > 0 => Ok(mb.saturating_mul(1 << 20)),
            _ => Err(Error::File {
                file: MAX_FEATURE_MB_VAR.to_string(),
                reason: format!(
                    "must be a whole number of MiB greater than 0 (the largest feature read), \
                     got {text:?}"
                ),
            }),
        },
    }
}

/// Where a GeoJSON document comes from: a file (read in blocks, however large) or bytes in
/// memory, with the name that messages give it.
///
/// # Examples
/// ```
/// use lifecircle::io::{self, Source};
///
/// let text = r#"{"type":"FeatureCollection","features":[
///   {"type":"Feature","properties":{"category":"meals"},"geometry":{"type":"Point","coordinates":[24.94,60.17]}}]}"#;
/// let source = Source::from_reader("canteens.geojson", text.as_bytes())?;
/// let loaded = io::read_facilities(&source, &io::Fields::default())?;
/// assert_eq!(loaded.items.len(), 1);
/// # Ok::<(), lifecircle::Error>(())
/// ```
#[derive(Debug, Clone)]
pub enum Source {
    /// A file on disk.
    Path(PathBuf),
    /// A document in memory.
    Bytes {
        /// The name shown in messages, e.g. `data/facilities.geojson`.
        name: Cow<'static, str>,
        /// The document.
        bytes: Cow<'static, [u8]>,
    },
    /// A file of any format lifecircle reads (GeoPackage, Shapefile, FlatGeobuf, CSV, Excel,
    /// GeoTIFF, GeoJSON), with its layer, format and coordinate system when given.
    File(Box<crate::io::formats::InputFile>),
}

impl Source {
    /// A file on disk.
    pub fn path(path: impl AsRef<Path>) -> Self {
        Self::Path(path.as_ref().to_path_buf())
    }

    /// A document compiled into the program (as the [`sample`](crate::sample) is).
    pub const fn from_static(name: &'static str, bytes: &'static [u8]) -> Self {
        Self::Bytes {
            name: Cow::Borrowed(name),
            bytes: Cow::Borrowed(bytes),
        }
    }

    /// A document held in memory.
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self::Bytes {
            name: Cow::Owned(name.into()),
            bytes: Cow::Owned(bytes.into()),
        }
    }

    /// The whole document from `reader` (a network stream, a decompressor, stdin), held in
    /// memory; a file is better given as a [`path`](Self::path), which is read in blocks.
    ///
    /// # Errors
    /// [`Error::Read`] naming `name` when the reader fails.
    pub fn from_reader(name: impl Into<String>, mut reader: impl Read) -> Result<Self> {
        let name = name.into();
        let mut bytes = Vec::new();
        match reader.read_to_end(&mut bytes) {
            Ok(_) => Ok(Self::from_bytes(name, bytes)),
            Err(source) => Err(Error::Read { file: name, source }),
        }
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        match self {
            Self::Path(p) => p.display().to_string(),
            Self::Bytes { name, .. } => name.to_string(),
            Self::File(f) => f.name(),
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

/// The JSON text of one value, borrowed from the input: `"r1"`, `12.5`, `null`, `["a","b"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawJson<'a>(&'a str);

impl<'a> RawJson<'a> {
    /// Wrap the text of one JSON value.
    pub fn new(text: &'a str) -> Self {
        Self(text)
    }

    /// The value's JSON text.
    pub fn get(self) -> &'a str {
        self.0
    }
}

impl<'a> From<&'a RawValue> for RawJson<'a> {
    fn from(raw: &'a RawValue) -> Self {
        Self(raw.get())
    }
}

/// One feature, borrowed from the input buffer, with the members and properties asked for.
pub struct FeatureRef<'a> {
    file: &'a str,
    index: usize,
    id: Option<RawJson<'a>>,
    geometry: Option<ParsedGeometry>,
    properties: &'a [Option<RawJson<'a>>],
}

impl<'a> FeatureRef<'a> {
    /// A feature read from another format than GeoJSON, with its geometry already converted
    /// and checked, and its properties as JSON text.
    pub(crate) fn from_parts(
        file: &'a str,
        index: usize,
        geometry: Result<Geometry<f64>, String>,
        properties: &'a [Option<RawJson<'a>>],
    ) -> Self {
        Self {
            file,
            index,
            id: None,
            geometry: Some(geometry),
            properties,
        }
    }

    /// 0-based index of the feature in the `features` array.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The file name used in messages.
    pub fn file(&self) -> &str {
        self.file
    }

    /// The feature's own `id` member (RFC 7946 section 3.2), if any.
    pub fn feature_id(&self) -> Option<RawJson<'a>> {
        self.id.filter(|v| v.get() != "null")
    }

    /// The raw value of the `i`-th property asked for; `None` when absent. A JSON `null` is
    /// returned as a raw `null`, so callers can tell "absent" from "null".
    pub fn property(&self, i: usize) -> Option<RawJson<'a>> {
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
        match &self.geometry {
            None => Err(self.error("geometry", "the feature has no geometry member")),
            Some(Ok(geometry)) => Ok(geometry.clone()),
            Some(Err(problem)) => Err(self.error("geometry", problem.clone())),
        }
    }
}

/// Read every feature of a GeoJSON FeatureCollection, calling `parse` on each (in parallel).
///
/// `wanted` lists the property names `parse` needs; [`FeatureRef::property`] indexes into it.
/// Features for which `parse` returns an error are collected in [`Features::rejected`].
///
/// One thread reads the file in blocks and finds where each feature starts and ends, while
/// rayon parses the features of the previous block: reading, scanning and parsing overlap.
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
    if let Some(other) = crate::io::formats::other_format(source)? {
        return crate::io::formats::read_features(&other, &file, wanted, &parse);
    }
    let system = input_system(source, &file)?;
    let system = system.as_ref();
    match read_pass(source, &file, wanted, &parse, system, true)? {
        Some(features) => Ok(features),
        // A line taken for a whole feature was not one: read again, value by value.
        None => Ok(read_pass(source, &file, wanted, &parse, system, false)?
            .expect("a pass without line spans always completes")),
    }
}

/// The bytes at the start of a GeoJSON file searched for a `crs` member.
const CRS_PREFIX_BYTES: u64 = 64 << 10;

/// The coordinate system a GeoJSON source declares in a top-level `crs` member before its
/// features, when it names one other than WGS84: its JSON text and the system.
///
/// # Errors
/// The file cannot be read; the member names an EPSG code lifecircle does not know.
fn declared_crs(source: &Source, file: &str) -> Result<Option<(String, Projection)>> {
    let mut start = Vec::new();
    let read_error = |e| Error::Read {
        file: file.to_string(),
        source: e,
    };
    match source {
        Source::Bytes { bytes, .. } => {
            start.extend_from_slice(&bytes[..bytes.len().min(CRS_PREFIX_BYTES as usize)]);
        }
        Source::Path(p) => {
            let f = std::fs::File::open(p).map_err(read_error)?;
            f.take(CRS_PREFIX_BYTES)
                .read_to_end(&mut start)
                .map_err(read_error)?;
        }
        Source::File(input) => {
            let f = std::fs::File::open(&input.path).map_err(read_error)?;
            f.take(CRS_PREFIX_BYTES)
                .read_to_end(&mut start)
                .map_err(read_error)?;
        }
    }
    let mut scan = Scanner::default();
    let eof = (start.len() as u64) < CRS_PREFIX_BYTES;
    // A file that does not scan is refused by the reading itself, with the place.
    let _ = scan.scan(&start, eof, &mut Vec::new());
    let Some(crs) = scan.crs else {
        return Ok(None);
    };
    let Some(code) = crs_epsg_code(&crs) else {
        return Ok(None);
    };
    if matches!(code, 4326 | 4490) {
        return Ok(None);
    }
    let projection = Projection::epsg(code).map_err(|e| Error::File {
        file: file.to_string(),
        reason: format!("declares the coordinate reference system {crs}: {e}"),
    })?;
    Ok(Some((crs, projection)))
}

/// The EPSG code a `crs` member's JSON text names (`{"type":"name","properties":{"name":
/// "urn:ogc:def:crs:EPSG::4547"}}`, or `EPSG:4547`); `None` for another form.
fn crs_epsg_code(crs: &str) -> Option<u32> {
    let value: serde_json::Value = serde_json::from_str(crs).ok()?;
    let name = value.pointer("/properties/name")?.as_str()?.trim();
    let code = if let Some(rest) = name.strip_prefix("urn:ogc:def:crs:EPSG:") {
        // `urn:ogc:def:crs:EPSG::4547`, or with a version between the colons.
        rest.rsplit_once(':')?.1
    } else {
        let (authority, code) = name.split_once(':')?;
        if !authority.eq_ignore_ascii_case("epsg") {
            return None;
        }
        code
    };
    code.trim().parse().ok()
}

/// The coordinate system a GeoJSON source's positions are read in: the one its `crs` member
/// declares (see [`declared_crs`]); `None` for WGS84.
///
/// # Errors
/// A system given for the file (`--coords`) that the file does not declare, or that disagrees
/// with the one it declares (both named); an unknown EPSG code in the file.
fn input_system(source: &Source, file: &str) -> Result<Option<Projection>> {
    let given = match source {
        Source::File(input) => input.projection.clone().filter(|p| !p.is_wgs84()),
        _ => None,
    };
    let declared = declared_crs(source, file)?;
    match (given, declared) {
        (None, declared) => Ok(declared.map(|(_, p)| p)),
        (Some(given), None) => Err(Error::File {
            file: file.to_string(),
            reason: format!(
                "a GeoJSON file is WGS84 longitude/latitude (RFC 7946) unless its `crs` member \
                 names another system; {} applies to GeoPackage, FlatGeobuf, Shapefile, CSV and \
                 Excel inputs. Convert the file, e.g. `ogr2ogr -s_srs {} -t_srs EPSG:4326 \
                 out.geojson in.geojson`",
                given.name(),
                given.name()
            ),
        }),
        (Some(given), Some((_, declared))) if given == declared => Ok(Some(declared)),
        (Some(given), Some((crs, declared))) => Err(Error::File {
            file: file.to_string(),
            reason: format!(
                "the file declares the coordinate reference system {} ({crs}), but {} was \
                 given for it; leave out the one given, or give the file's own",
                declared.name(),
                given.name()
            ),
        }),
    }
}

/// The coordinate system named in a GeoJSON source's `crs` member, when it is one other than
/// WGS84 (for people; `None` too when the file cannot be read: its reading says why).
pub(crate) fn declared_projection(source: &Source) -> Option<Projection> {
    declared_crs(source, &source.name())
        .ok()
        .flatten()
        .map(|(_, p)| p)
}

thread_local! {
    /// The coordinate system of the GeoJSON feature being parsed on this thread, when its
    /// file declares one other than WGS84: its positions are converted to WGS84 before they
    /// are checked. Set by [`parse_one`] around one feature's parse (the serde visitors that
    /// check positions take no context of their own).
    static INPUT_SYSTEM: std::cell::RefCell<Option<Projection>> =
        const { std::cell::RefCell::new(None) };
}

/// A position as read, converted to WGS84 when the file declares another system, and checked.
fn input_position(x: f64, y: f64) -> std::result::Result<(f64, f64), String> {
    let (x, y) = INPUT_SYSTEM.with(|system| match &*system.borrow() {
        Some(p) => p.to_wgs84(x, y).map_err(|e| e.to_string()),
        None => Ok((x, y)),
    })?;
    check_position(x, y)?;
    Ok((x, y))
}

/// One pass over the file. With `by_lines`, a line that looks like one whole feature is taken
/// as one without scanning its bytes (most large files hold one feature per line); the parser
/// then confirms it. `None` when it turned out not to be one.
fn read_pass<T, F>(
    source: &Source,
    file: &str,
    wanted: &[&str],
    parse: &F,
    system: Option<&Projection>,
    by_lines: bool,
) -> Result<Option<Features<T>>>
where
    T: Send,
    F: Fn(&FeatureRef<'_>) -> Result<T, FeatureError> + Sync,
{
    let (reader, file_bytes): (Box<dyn Read + Send + '_>, Option<u64>) = match source {
        Source::Path(p) => {
            let f = std::fs::File::open(p).map_err(|e| Error::Read {
                file: file.to_string(),
                source: e,
            })?;
            let len = f.metadata().ok().map(|m| m.len());
            (Box::new(f), len)
        }
        Source::Bytes { bytes, .. } => (Box::new(&bytes[..]), Some(bytes.len() as u64)),
        Source::File(input) => {
            let f = std::fs::File::open(&input.path).map_err(|e| Error::Read {
                file: file.to_string(),
                source: e,
            })?;
            let len = f.metadata().ok().map(|m| m.len());
            (Box::new(f), len)
        }
    };
    std::thread::scope(|scope| {
        // Two blocks in flight: one being parsed, one being scanned.
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        // Parsed blocks' buffers go back to the scanner, so that their memory is reused
        // instead of being freshly mapped (and zeroed by the system) for every block.
        let (recycle_tx, recycle_rx) = std::sync::mpsc::channel();
        let scanner = scope.spawn(move || scan_blocks(reader, file, by_lines, tx, recycle_rx));
        let parsed = parse_blocks(rx, recycle_tx, file, file_bytes, wanted, parse, system);
        let scanned = scanner
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let Some(out) = parsed? else {
            return Ok(None);
        };
        scanned?.finish(file, system.is_some())?;
        Ok(Some(out))
    })
}

/// A block of the file with the byte ranges of the complete features in it.
struct Block {
    buf: Vec<u8>,
    spans: Vec<(usize, usize)>,
    /// Bytes of the block taken up by its features (the rest starts the next block).
    consumed: usize,
    /// Index of the block's first feature in the `features` array.
    first_index: usize,
    /// Where the block's first byte is in the file, for line and column numbers.
    at: TextPosition,
    /// Some spans are whole lines taken for features, still to be confirmed by the parser.
    by_lines: bool,
}

/// Lines before a buffer's first byte, and that byte's 0-based column.
#[derive(Clone, Copy, Default)]
struct TextPosition {
    lines_before: usize,
    first_column: usize,
}

impl TextPosition {
    /// 1-based line and column of offset `at` in `buf`, which starts at this position.
    fn line_column(self, buf: &[u8], at: usize) -> (usize, usize) {
        let before = &buf[..at.min(buf.len())];
        let newlines = memchr::memchr_iter(b'\n', before).count();
        let column = match memchr::memrchr(b'\n', before) {
            Some(last) => before.len() - last,
            None => self.first_column + before.len() + 1,
        };
        (self.lines_before + newlines + 1, column)
    }

    /// The position just after `consumed`.
    fn after(self, consumed: &[u8]) -> Self {
        match memchr::memrchr(b'\n', consumed) {
            Some(last) => Self {
                lines_before: self.lines_before + memchr::memchr_iter(b'\n', consumed).count(),
                first_column: consumed.len() - last - 1,
            },
            None => Self {
                lines_before: self.lines_before,
                first_column: self.first_column + consumed.len(),
            },
        }
    }
}

/// The scanning thread: read blocks, find the features, hand each block on.
fn scan_blocks(
    mut reader: Box<dyn Read + Send + '_>,
    file: &str,
    by_lines: bool,
    tx: std::sync::mpsc::SyncSender<Result<Block>>,
    recycled: std::sync::mpsc::Receiver<Vec<u8>>,
) -> Result<Scanner> {
    let mut scan = Scanner {
        by_lines,
        ..Scanner::default()
    };
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK_BYTES + (BLOCK_BYTES >> 2));
    let mut at = TextPosition::default();
    let mut first_index = 0;
    let mut eof = false;
    let json_error = |buf: &[u8], at: TextPosition, offset: usize, reason: String| {
        let (line, column) = at.line_column(buf, offset);
        Error::Json {
            file: file.to_string(),
            line,
            column,
            reason,
        }
    };
    let max_value = max_feature_bytes()?;
    loop {
        if !eof {
            eof = match fill(&mut *reader, &mut buf, BLOCK_BYTES) {
                Ok(eof) => eof,
                Err(e) => {
                    let _ = tx.send(Err(Error::Read {
                        file: file.to_string(),
                        source: e,
                    }));
                    return Ok(scan);
                }
            };
        }
        let mut spans = Vec::new();
        if let Err((offset, reason)) = scan.scan(&buf, eof, &mut spans) {
            let error = if scan.not_json {
                Error::File {
                    file: file.to_string(),
                    reason,
                }
            } else {
                json_error(&buf, at, offset, reason)
            };
            if scan.took_lines && !spans.is_empty() {
                // A line taken for a feature may have misled the scan: the parser confirms
                // the lines first, and reads the file again value by value if one was not.
                let block = Block {
                    buf: std::mem::take(&mut buf),
                    spans,
                    consumed: scan.pos,
                    first_index,
                    at,
                    by_lines: true,
                };
                if tx.send(Ok(block)).is_err() {
                    return Ok(scan);
                }
            }
            let _ = tx.send(Err(error));
            return Ok(scan);
        }
        let consumed = scan.pos;
        if !eof && buf.len() - consumed > max_value {
            // One value fills more than the limit and is not finished: stop before holding
            // more of it.
            let _ = tx.send(Err(Error::File {
                file: file.to_string(),
                reason: scan.too_large(first_index + spans.len(), max_value),
            }));
            return Ok(scan);
        }
        scan.pos = 0;
        scan.line_end = None;
        if spans.is_empty() {
            // Nothing to parse yet (whitespace, members, or the start of a long value): drop
            // what was consumed and read on; a value cut by the buffer's end is resumed.
            at = at.after(&buf[..consumed]);
            buf.drain(..consumed);
            if eof {
                // The scan accepted the end of the file: the collection is complete.
                return Ok(scan);
            }
            continue;
        }
        let block_by_lines = std::mem::take(&mut scan.took_lines);
        let mut next = recycled.try_recv().unwrap_or_default();
        next.clear();
        next.reserve(BLOCK_BYTES + (BLOCK_BYTES >> 2));
        next.extend_from_slice(&buf[consumed..]);
        let block_at = at;
        at = at.after(&buf[..consumed]);
        let count = spans.len();
        let block = Block {
            buf: std::mem::replace(&mut buf, next),
            spans,
            consumed,
            first_index,
            at: block_at,
            by_lines: block_by_lines,
        };
        first_index += count;
        if tx.send(Ok(block)).is_err() {
            // The parser stopped on an error of its own.
            return Ok(scan);
        }
        if eof {
            return Ok(scan);
        }
    }
}

/// Parse the features of each block in parallel, in file order.
fn parse_blocks<T, F>(
    rx: std::sync::mpsc::Receiver<Result<Block>>,
    recycle: std::sync::mpsc::Sender<Vec<u8>>,
    file: &str,
    file_bytes: Option<u64>,
    wanted: &[&str],
    parse: &F,
    system: Option<&Projection>,
) -> Result<Option<Features<T>>>
where
    T: Send,
    F: Fn(&FeatureRef<'_>) -> Result<T, FeatureError> + Sync,
{
    let mut out = Features {
        kept: Vec::new(),
        rejected: Vec::new(),
        total: 0,
    };
    // One block's results, reused from block to block.
    let mut parsed: Vec<Result<T, FeatureFailure>> = Vec::new();
    for block in rx {
        let block = block?;
        if block.first_index == 0 && !block.spans.is_empty() {
            // Size the result once from the first block's features per byte, rather than
            // doubling (and copying) it while ten million features come in.
            if let Some(len) = file_bytes {
                let per_byte = block.spans.len() as f64 / block.consumed.max(1) as f64;
                out.kept
                    .reserve((len as f64 * per_byte * 1.02) as usize + 16);
            }
        }
        out.total += block.spans.len();
        parsed.clear();
        parsed.par_extend(
            block
                .spans
                .par_iter()
                .enumerate()
                .map(|(k, &(start, end))| {
                    parse_one(
                        &block.buf[start..end],
                        file,
                        block.first_index + k,
                        start,
                        wanted,
                        parse,
                        system,
                    )
                }),
        );
        if block.by_lines && !lines_confirmed(&block, &parsed) {
            return Ok(None);
        }
        if parsed.iter().all(Result::is_ok) {
            // The usual block: moved into place in parallel, which also spreads the cost of
            // the system mapping fresh pages for `kept`.
            out.kept
                .par_extend(parsed.par_drain(..).map(|result| match result {
                    Ok(v) => v,
                    Err(_) => unreachable!("every result of the block was checked to be Ok"),
                }));
        }
        for result in parsed.drain(..) {
            match result {
                Ok(v) => out.kept.push(v),
                Err(FeatureFailure::Bad(e)) => out.rejected.push(e),
                Err(FeatureFailure::Data { index, reason }) => out.rejected.push(FeatureError {
                    file: file.to_string(),
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
                    let (l0, c0) = block.at.line_column(&block.buf, start);
                    return Err(Error::Json {
                        file: file.to_string(),
                        line: l0 + line - 1,
                        column: if line == 1 { c0 + column - 1 } else { column },
                        reason,
                    });
                }
            }
        }
        // The scanner may have finished; then the buffer is simply freed.
        let _ = recycle.send(block.buf);
    }
    Ok(Some(out))
}

/// True when every span of a block that the JSON parser could not read is nonetheless exactly
/// one JSON value. A span it did read is one: the parser reads a whole value and then checks
/// that nothing follows.
fn lines_confirmed<T>(block: &Block, parsed: &[Result<T, FeatureFailure>]) -> bool {
    block
        .spans
        .iter()
        .zip(parsed)
        .all(|(&(start, end), result)| {
            !matches!(
                result,
                Err(FeatureFailure::Syntax { .. } | FeatureFailure::Data { .. })
            ) || scan_value(&block.buf[start..end], 0, &mut ValueScan::default())
                == Ok(Some(end - start))
        })
}

/// Parse one feature's bytes and hand it to `parse`.
fn parse_one<T, F>(
    bytes: &[u8],
    file: &str,
    index: usize,
    start: usize,
    wanted: &[&str],
    parse: &F,
    system: Option<&Projection>,
) -> Result<T, FeatureFailure>
where
    F: Fn(&FeatureRef<'_>) -> Result<T, FeatureError>,
{
    if let Some(p) = system {
        // Positions are converted from the file's system while this feature is parsed (the
        // parse below runs on this thread and starts no other work).
        INPUT_SYSTEM.with(|s| *s.borrow_mut() = Some(p.clone()));
        let result = parse_one(bytes, file, index, start, wanted, parse, None);
        INPUT_SYSTEM.with(|s| *s.borrow_mut() = None);
        return result;
    }
    let mut inline = [None; 8];
    let mut heap = Vec::new();
    let props: &mut [Option<RawJson<'_>>] = if wanted.len() <= inline.len() {
        &mut inline[..wanted.len()]
    } else {
        heap.resize(wanted.len(), None);
        &mut heap
    };
    let parts = parse_feature(bytes, wanted, props)
        .map_err(|e| FeatureFailure::from_json(e, index, start))?;
    let feature = FeatureRef {
        file,
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
}

/// Read until `buf` has grown by `block` bytes or the reader is exhausted; true at end of file.
/// The bytes go straight into the spare capacity, which is not zeroed first.
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, block: usize) -> std::io::Result<bool> {
    let n = reader.take(block as u64).read_to_end(buf)?;
    Ok(n < block)
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
//
// It never goes back over bytes it has passed: whitespace is consumed as it is skipped, and a
// value that the buffer ends inside is resumed where its scan stopped (`ValueScan`). Reading
// thus takes time linear in the file size, and memory bounded by the block size plus the
// largest single feature, whatever the file holds between and inside its features.

#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    #[default]
    Start,
    /// Inside the top-level object, before a member or its end (`first`: no member yet).
    Members { first: bool },
    /// Before a member name (after the '{' or a ',').
    MemberName,
    /// After a member name: its ':'.
    Colon,
    /// After the ':': the member's value.
    MemberValue,
    /// Inside the `features` array, before a feature or its end (`first`: no feature yet).
    Features { first: bool },
    /// After a ',' between features: a feature must follow.
    Feature,
    /// After the FeatureCollection's closing '}': only whitespace may follow.
    After,
}

#[derive(Default)]
struct Scanner {
    phase: Phase,
    /// Position in the buffer up to which everything has been consumed.
    pos: usize,
    /// The FeatureCollection's closing '}' has been seen.
    done: bool,
    /// The start of the file was checked (byte order mark, encoding, other formats).
    start_checked: bool,
    /// The start of the file showed another encoding or format.
    not_json: bool,
    /// The name of the member being read.
    key: String,
    /// The scan of the value at `pos`, when the buffer ended inside it.
    value: ValueScan,
    top_type: Option<String>,
    crs: Option<String>,
    saw_features: bool,
    /// Take a line that starts with `{` and ends with `}` (and maybe a comma) for one feature.
    by_lines: bool,
    /// A line was taken for a feature since the last block was handed on.
    took_lines: bool,
    /// The next newline at or after the last search in this buffer (`usize::MAX`: none).
    line_end: Option<usize>,
}

type ScanError = (usize, String);

impl Scanner {
    /// Scan as far as `buf` allows, adding the byte ranges of the complete features found to
    /// `spans`. At the end of the file, the FeatureCollection must be complete and followed by
    /// nothing but whitespace.
    fn scan(
        &mut self,
        buf: &[u8],
        eof: bool,
        spans: &mut Vec<(usize, usize)>,
    ) -> Result<(), ScanError> {
        loop {
            match self.step(buf, spans)? {
                Step::Advanced => {}
                Step::NeedMore => {
                    if eof && !self.done {
                        return Err((
                            buf.len(),
                            "the file ends before the FeatureCollection is complete".into(),
                        ));
                    }
                    return Ok(());
                }
            }
        }
    }

    /// The first bytes of the file: a byte order mark is skipped; other encodings and formats
    /// are named.
    fn check_start(buf: &[u8]) -> Result<usize, ScanError> {
        if buf.starts_with(b"\xEF\xBB\xBF") {
            return Ok(3);
        }
        let utf16 = buf.starts_with(b"\xFF\xFE")
            || buf.starts_with(b"\xFE\xFF")
            || matches!(buf, [0, b'{' | b'[' | b' ' | b'\n' | b'\r', ..])
            || matches!(buf, [b'{' | b'[' | b' ' | b'\n' | b'\r', 0, ..]);
        let found = if utf16 {
            "the file is UTF-16 text; GeoJSON is UTF-8 (RFC 8259): convert it first, e.g. \
             `iconv -f UTF-16 -t UTF-8 in.geojson > out.geojson`"
        } else if buf.starts_with(b"\x1F\x8B") {
            "the file is gzip-compressed: decompress it first (`gunzip -k FILE`)"
        } else if buf.starts_with(b"PK\x03\x04") {
            "the file is a zip archive: unpack it, and convert a shapefile or other format to \
             GeoJSON with `ogr2ogr -f GeoJSON -t_srs EPSG:4326 out.geojson in.shp`"
        } else if buf.get(4..15) == Some(b"\x0A\x09OSMHeader") {
            "the file is an OpenStreetMap .osm.pbf extract: turn it into GeoJSON inputs with \
             `lifecircle extract`, or give it to --network"
        } else if buf.starts_with(b"SQLite format 3\0") {
            "the file is an SQLite database (a GeoPackage?): convert the layer to GeoJSON with \
             `ogr2ogr -f GeoJSON -t_srs EPSG:4326 out.geojson in.gpkg LAYER`"
        } else {
            return Ok(0);
        };
        Err((0, found.to_string()))
    }

    fn step(&mut self, buf: &[u8], spans: &mut Vec<(usize, usize)>) -> Result<Step, ScanError> {
        let mut i = self.pos;
        if !self.start_checked {
            self.start_checked = true;
            i = Self::check_start(buf).inspect_err(|_| self.not_json = true)?;
        }
        i = skip_ws(buf, i);
        let Some(&c) = buf.get(i) else {
            // Whitespace is consumed, never scanned twice.
            self.pos = i;
            return Ok(Step::NeedMore);
        };
        self.pos = i;
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
                    self.phase = Phase::After;
                } else if first {
                    self.phase = Phase::MemberName;
                } else if c == b',' {
                    self.phase = Phase::MemberName;
                    self.pos = i + 1;
                } else {
                    return Err((i, "expected ',' or '}' after a member".into()));
                }
            }
            Phase::MemberName => {
                if c != b'"' {
                    return Err((i, "expected a member name in double quotes".into()));
                }
                let Some(end) = scan_value(buf, i, &mut self.value)? else {
                    return Ok(Step::NeedMore);
                };
                self.key = String::from_utf8_lossy(&buf[i + 1..end - 1]).into_owned();
                self.phase = Phase::Colon;
                self.pos = end;
            }
            Phase::Colon => {
                if c != b':' {
                    return Err((i, "expected ':' after a member name".into()));
                }
                self.phase = Phase::MemberValue;
                self.pos = i + 1;
            }
            Phase::MemberValue => {
                if self.key == "features" {
                    if c != b'[' {
                        return Err((i, "\"features\" must be an array".into()));
                    }
                    self.saw_features = true;
                    self.phase = Phase::Features { first: true };
                    self.pos = i + 1;
                } else {
                    let Some(end) = scan_value(buf, i, &mut self.value)? else {
                        return Ok(Step::NeedMore);
                    };
                    let text = String::from_utf8_lossy(&buf[i..end]);
                    match self.key.as_str() {
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
                } else if first {
                    self.phase = Phase::Feature;
                } else if c == b',' {
                    self.phase = Phase::Feature;
                    self.pos = i + 1;
                } else {
                    return Err((i, "expected ',' or ']' between features".into()));
                }
            }
            Phase::Feature => {
                if c == b']' {
                    return Err((i, "expected a feature after ',' (a trailing comma?)".into()));
                }
                // A value whose scan was cut by the end of a buffer is resumed, not taken again.
                let whole_line = if self.value.offset == 0 {
                    self.whole_line(buf, i)
                } else {
                    None
                };
                let end = match whole_line {
                    Some(end) => end,
                    None => match scan_value(buf, i, &mut self.value)? {
                        Some(end) => end,
                        None => return Ok(Step::NeedMore),
                    },
                };
                spans.push((i, end));
                self.phase = Phase::Features { first: false };
                self.pos = end;
            }
            Phase::After => {
                let shown: String = String::from_utf8_lossy(&buf[i..buf.len().min(i + 40)])
                    .chars()
                    .flat_map(char::escape_debug)
                    .take(40)
                    .collect();
                return Err((
                    i,
                    format!(
                        "more data follows the end of the FeatureCollection (`{shown}`); a \
                         GeoJSON file holds exactly one FeatureCollection: remove the rest, or \
                         merge the collections (e.g. `ogr2ogr -append`)"
                    ),
                ));
            }
        }
        Ok(Step::Advanced)
    }

    /// Why the value being read is refused for its size (`index`: the feature it would be).
    fn too_large(&self, index: usize, max_value: usize) -> String {
        let what = match self.phase {
            Phase::Feature => format!("feature {index} is"),
            Phase::MemberValue => format!("the member \"{}\" is", self.key),
            _ => "a member name is".to_string(),
        };
        format!(
            "{what} larger than {} MiB, the most read as one value (the file is probably \
             damaged or not meant as input); set {MAX_FEATURE_MB_VAR} to a larger number of MiB \
             to read it anyway",
            max_value >> 20
        )
    }

    /// With `by_lines`, the end of the feature starting at `i` when its line looks like exactly
    /// one feature: it starts with `{` and ends with `}`, maybe followed by a comma.
    fn whole_line(&mut self, buf: &[u8], i: usize) -> Option<usize> {
        if !self.by_lines || buf.get(i) != Some(&b'{') {
            return None;
        }
        let line_end = match self.line_end {
            Some(e) if e >= i => e,
            _ => memchr::memchr(b'\n', &buf[i..]).map_or(usize::MAX, |k| i + k),
        };
        self.line_end = Some(line_end);
        let line = buf.get(i..line_end)?;
        let trim = |l: &[u8]| {
            l.len()
                - l.iter()
                    .rev()
                    .take_while(|b| matches!(b, b' ' | b'\t' | b'\r'))
                    .count()
        };
        let mut end = trim(line);
        if line[..end].ends_with(b",") {
            end = trim(&line[..end - 1]);
        }
        (end > 1 && line[end - 1] == b'}').then(|| {
            self.took_lines = true;
            i + end
        })
    }

    /// Checks that need the whole top-level object.
    /// Check the end of the scan; `system_read`: the file's `crs` member named its coordinate
    /// system before the features, and the positions were read in it.
    fn finish(&self, file: &str, system_read: bool) -> Result<()> {
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
        if let Some(crs) = self.crs.as_ref().filter(|_| !system_read) {
            let wgs84 = ["CRS84", "EPSG::4326", "EPSG:4326", "crs84"];
            if crs != "null" && !wgs84.iter().any(|w| crs.contains(w)) {
                return Err(err(format!(
                    "declares the coordinate reference system {crs}; lifecircle reads WGS84 \
                     longitude/latitude (RFC 7946), or a system named by an EPSG code in a \
                     `crs` member before the features. Reproject first, e.g. \
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

/// How far the scan of one value got when the buffer ended inside it, so that it goes on from
/// there when more of the file has been read.
#[derive(Default)]
struct ValueScan {
    /// Bytes of the value scanned so far, from its first byte (0: not started).
    offset: usize,
    /// The open brackets, innermost in the lowest bit (1 = object); past 128 levels the outer
    /// ones are kept in `deep`.
    bits: u128,
    depth: usize,
    deep: Vec<bool>,
    /// The scan stopped inside a string.
    in_string: bool,
}

/// End (exclusive) of the JSON value starting at `buf[i]`; `None` if the buffer ends first, with
/// the progress kept in `st` (a later call on a longer buffer, with the value still at `i`,
/// goes on from there). `st` is reset when the value is complete.
fn scan_value(buf: &[u8], i: usize, st: &mut ValueScan) -> Result<Option<usize>, ScanError> {
    let Some(&c) = buf.get(i) else {
        return Ok(None);
    };
    match c {
        b'"' | b'{' | b'[' => scan_nested(buf, i, st),
        b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
            let mut j = i + st.offset;
            while j < buf.len() {
                if matches!(buf[j], b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                    *st = ValueScan::default();
                    return Ok(Some(j));
                }
                j += 1;
            }
            st.offset = j - i;
            Ok(None)
        }
        other => Err((
            i,
            format!("expected a JSON value, found '{}'", other.escape_ascii()),
        )),
    }
}

/// Bytes that matter to [`scan_nested`] outside strings: quotes and brackets.
const STRUCTURAL: [bool; 256] = byte_set(b"\"{}[]");
/// Bytes that end a run of plain string content: the closing quote and backslash.
const IN_STRING: [bool; 256] = byte_set(b"\"\\");

const fn byte_set(bytes: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut k = 0;
    while k < bytes.len() {
        set[bytes[k] as usize] = true;
        k += 1;
    }
    set
}

/// End (exclusive) of the string, object or array starting at `buf[i]`, as [`scan_value`].
/// Brackets must match; the nesting is kept as a bit stack, on the heap only past 128 levels.
fn scan_nested(buf: &[u8], i: usize, st: &mut ValueScan) -> Result<Option<usize>, ScanError> {
    let n = buf.len();
    let (mut bits, mut depth, mut in_string) = (st.bits, st.depth, st.in_string);
    let mut j = i + st.offset;
    if st.offset == 0 && buf.get(i) == Some(&b'"') {
        in_string = true;
        j += 1;
    }
    // The buffer ends inside the value: keep the progress.
    macro_rules! stop {
        ($in_string:expr) => {{
            st.offset = j - i;
            st.bits = bits;
            st.depth = depth;
            st.in_string = $in_string;
            return Ok(None);
        }};
    }
    loop {
        if in_string {
            // Strings in features are short: a byte loop beats a vectorised search here.
            while j < n && !IN_STRING[usize::from(buf[j])] {
                j += 1;
            }
            match buf.get(j) {
                Some(b'"') => {
                    j += 1;
                    in_string = false;
                    if depth == 0 {
                        *st = ValueScan::default();
                        return Ok(Some(j));
                    }
                }
                // A backslash: skip it and the byte it escapes.
                Some(_) => j += 2,
                None => stop!(true),
            }
            continue;
        }
        // Most bytes are neither brackets nor quotes: skip them in a tight loop.
        while j < n && !STRUCTURAL[usize::from(buf[j])] {
            j += 1;
        }
        let Some(&b) = buf.get(j) else { stop!(false) };
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                if depth >= 128 {
                    st.deep.push(bits >> 127 == 1);
                }
                bits = (bits << 1) | u128::from(b == b'{');
                depth += 1;
            }
            _ => {
                let open_object = bits & 1 == 1;
                if depth == 0 || open_object != (b == b'}') {
                    *st = ValueScan::default();
                    return Err((j, format!("unexpected '{}'", b as char)));
                }
                bits >>= 1;
                depth -= 1;
                if depth >= 128 {
                    bits |= u128::from(st.deep.pop().unwrap_or(false)) << 127;
                }
                if depth == 0 {
                    *st = ValueScan::default();
                    return Ok(Some(j + 1));
                }
            }
        }
        j += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// One feature: serde straight into the members and properties asked for.

pub(super) struct FeatureParts<'a> {
    pub(super) kind: Option<Cow<'a, str>>,
    pub(super) id: Option<RawJson<'a>>,
    pub(super) geometry: Option<ParsedGeometry>,
}

impl<'a> From<fast::Simple<'a>> for FeatureParts<'a> {
    /// The members the fast reader found, the Point's position checked as the general path
    /// checks it.
    fn from(simple: fast::Simple<'a>) -> Self {
        FeatureParts {
            kind: simple.kind.map(Cow::Borrowed),
            id: simple.id,
            geometry: simple
                .point
                .map(|(x, y)| input_position(x, y).map(|(x, y)| Geometry::Point(Point::new(x, y)))),
        }
    }
}

/// Whether features of the simple shape go to the fast reader (`fast`) before `serde_json`.
/// For benchmarks only (`benches/geojson_read.rs` sets it to `false` to time `serde_json` on
/// the same features); process-wide, and not part of the API.
#[doc(hidden)]
pub static FAST_READER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

fn parse_feature<'a>(
    bytes: &'a [u8],
    wanted: &[&str],
    props: &mut [Option<RawJson<'a>>],
) -> Result<FeatureParts<'a>, serde_json::Error> {
    // Checking the whole feature's UTF-8 once is cheaper than checking every string in it;
    // invalid text goes the slow way, where serde_json says where the bad bytes are.
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            if FAST_READER.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(simple) = fast::parse(text, wanted, props) {
                    return Ok(FeatureParts::from(simple));
                }
            }
            props.fill(None);
            parse_with(serde_json::Deserializer::from_str(text), wanted, props)
        }
        Err(_) => parse_with(serde_json::Deserializer::from_slice(bytes), wanted, props),
    }
}

pub(super) fn parse_with<'a, R: serde_json::de::Read<'a>>(
    mut de: serde_json::Deserializer<R>,
    wanted: &[&str],
    props: &mut [Option<RawJson<'a>>],
) -> Result<FeatureParts<'a>, serde_json::Error> {
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
    props: &'p mut [Option<RawJson<'a>>],
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
                "id" => parts.id = Some(map.next_value::<&RawValue>()?.into()),
                "geometry" => parts.geometry = Some(map.next_value::<GeometryMember>()?.0),
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
    props: &'p mut [Option<RawJson<'a>>],
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
                Some(i) => self.props[i] = Some(map.next_value::<&RawValue>()?.into()),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Geometry, parsed in the same pass as the feature.

/// A parsed geometry member, or what is wrong with it.
type ParsedGeometry = Result<Geometry<f64>, String>;

/// Coordinates as read, before the geometry type says what shape they must have.
enum Coords {
    /// A number outside any position.
    Num(f64),
    /// `[longitude, latitude]` (a third number, the altitude, is dropped).
    Pos(Coord<f64>),
    /// An array of anything else.
    List(Vec<Coords>),
    /// A value that has no place in coordinates (null, string, boolean, object).
    Other(&'static str),
}

impl<'de> de::Deserialize<'de> for Coords {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Coords;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("GeoJSON coordinates")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Coords, E> {
                Ok(Coords::Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Coords, E> {
                Ok(Coords::Num(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Coords, E> {
                Ok(Coords::Num(v as f64))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Coords, E> {
                Ok(Coords::Other("null"))
            }
            fn visit_none<E: de::Error>(self) -> Result<Coords, E> {
                Ok(Coords::Other("null"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Coords, E> {
                Ok(Coords::Other("a boolean"))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Coords, E> {
                Ok(Coords::Other("a string"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Coords, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Coords::Other("an object"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Coords, A::Error> {
                let Some(first) = seq.next_element::<Coords>()? else {
                    return Ok(Coords::List(Vec::new()));
                };
                let mut items = match first {
                    Coords::Num(x) => match seq.next_element::<Coords>()? {
                        Some(Coords::Num(y)) => {
                            // Altitude and anything after it are not used.
                            let mut extra = Vec::new();
                            while let Some(c) = seq.next_element::<Coords>()? {
                                if !matches!(c, Coords::Num(_)) {
                                    extra.push(c);
                                }
                            }
                            if extra.is_empty() {
                                return Ok(Coords::Pos(Coord { x, y }));
                            }
                            let mut items = vec![Coords::Num(x), Coords::Num(y)];
                            items.append(&mut extra);
                            return Ok(Coords::List(items));
                        }
                        Some(second) => vec![Coords::Num(x), second],
                        None => vec![Coords::Num(x)],
                    },
                    first => vec![first],
                };
                while let Some(c) = seq.next_element::<Coords>()? {
                    items.push(c);
                }
                Ok(Coords::List(items))
            }
        }
        d.deserialize_any(V)
    }
}

impl Coords {
    fn describe(&self) -> &'static str {
        match self {
            Self::Num(_) => "a number",
            Self::Pos(_) => "a position",
            Self::List(_) => "an array",
            Self::Other(what) => what,
        }
    }

    fn has_null(&self) -> bool {
        match self {
            Self::Other(what) => *what == "null",
            Self::List(items) => items.iter().any(Coords::has_null),
            _ => false,
        }
    }

    /// A checked position.
    fn position(self) -> Result<Coord<f64>, String> {
        match self {
            Self::Pos(c) => {
                let (x, y) = input_position(c.x, c.y)?;
                Ok(Coord { x, y })
            }
            other if other.has_null() => Err("a coordinate is null".into()),
            Self::List(items) if items.len() < 2 => {
                Err("a position needs at least two numbers [longitude, latitude]".into())
            }
            other => Err(format!(
                "invalid coordinates: expected a position [longitude, latitude], found {}",
                other.describe()
            )),
        }
    }

    /// The items of an array of positions, lines, rings or polygons.
    fn items(self, of: &str) -> Result<Vec<Coords>, String> {
        match self {
            Self::List(items) => Ok(items),
            // A single position where an array of them belongs.
            other if other.has_null() => Err("a coordinate is null".into()),
            other => Err(format!(
                "invalid coordinates: expected an array of {of}, found {}",
                other.describe()
            )),
        }
    }

    fn line(self) -> Result<LineString<f64>, String> {
        self.items("positions")?
            .into_iter()
            .map(Coords::position)
            .collect::<Result<Vec<_>, _>>()
            .map(LineString)
    }

    fn polygon(self) -> Result<Polygon<f64>, String> {
        let mut rings = self
            .items("rings")?
            .into_iter()
            .map(|ring| {
                let ring = ring.line()?;
                if ring.0.len() < 4 {
                    return Err(format!(
                        "a polygon ring needs at least 4 positions, found {}",
                        ring.0.len()
                    ));
                }
                if ring.0.first() != ring.0.last() {
                    return Err("a polygon ring must end where it starts".into());
                }
                Ok(ring)
            })
            .collect::<Result<Vec<_>, String>>()?;
        if rings.is_empty() {
            return Err("a polygon needs at least one ring".into());
        }
        let exterior = rings.remove(0);
        Ok(Polygon::new(exterior, rings))
    }
}

/// A string member value, or `None` when it is something else.
struct MaybeStr<'a>(Option<Cow<'a, str>>);

impl<'de> de::Deserialize<'de> for MaybeStr<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeStr(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(MaybeStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A geometry member: the geometry, or what is wrong with it. JSON syntax errors stay errors.
struct GeometryMember(ParsedGeometry);

impl<'de> de::Deserialize<'de> for GeometryMember {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = GeometryMember;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a GeoJSON geometry object")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(GeometryMember(Err("the geometry is null".into())))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                self.visit_unit()
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut kind: Option<MaybeStr<'de>> = None;
                let mut coordinates = None;
                let mut geometries = None;
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match key.0.as_ref() {
                        "type" => kind = Some(map.next_value()?),
                        "coordinates" => coordinates = Some(map.next_value::<Coords>()?),
                        "geometries" => geometries = Some(map.next_value::<GeometryList>()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(GeometryMember(build_geometry(
                    kind,
                    coordinates,
                    geometries,
                )))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(not_an_object("an array"))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(not_an_object("a string"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(not_an_object("a number"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(not_an_object("a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(not_an_object("a number"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(not_an_object("a boolean"))
            }
        }
        d.deserialize_any(V)
    }
}

fn not_an_object(found: &str) -> GeometryMember {
    GeometryMember(Err(format!("not a GeoJSON geometry object: found {found}")))
}

/// The `geometries` member of a GeometryCollection.
struct GeometryList(Result<Vec<ParsedGeometry>, String>);

impl<'de> de::Deserialize<'de> for GeometryList {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Anything but an array is read as coordinates would be, to describe it.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = GeometryList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of GeoJSON geometry objects")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts = Vec::new();
                while let Some(GeometryMember(g)) = seq.next_element()? {
                    parts.push(g);
                }
                Ok(GeometryList(Ok(parts)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(not_a_list())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(not_a_list())
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(not_a_list())
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(not_a_list())
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(not_a_list())
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(not_a_list())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(not_a_list())
            }
        }
        d.deserialize_any(V)
    }
}

fn not_a_list() -> GeometryList {
    GeometryList(Err(
        "a GeometryCollection needs a \"geometries\" array".into()
    ))
}

/// Build a geometry from its members, checking every position.
fn build_geometry(
    kind: Option<MaybeStr<'_>>,
    coordinates: Option<Coords>,
    geometries: Option<GeometryList>,
) -> ParsedGeometry {
    let kind = match kind {
        None => return Err("not a GeoJSON geometry object: it has no \"type\"".into()),
        Some(MaybeStr(None)) => {
            return Err("not a GeoJSON geometry object: \"type\" must be a string".into())
        }
        Some(MaybeStr(Some(kind))) => kind,
    };
    let coords = move || coordinates.ok_or_else(|| "the geometry has no coordinates".to_string());
    let geometry = match kind.as_ref() {
        "Point" => Geometry::Point(Point(coords()?.position()?)),
        "MultiPoint" => Geometry::MultiPoint(coords()?.line()?.0.into_iter().map(Point).collect()),
        "LineString" => Geometry::LineString(coords()?.line()?),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(
            coords()?
                .items("lines")?
                .into_iter()
                .map(Coords::line)
                .collect::<Result<_, _>>()?,
        )),
        "Polygon" => Geometry::Polygon(coords()?.polygon()?),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
            coords()?
                .items("polygons")?
                .into_iter()
                .map(Coords::polygon)
                .collect::<Result<_, _>>()?,
        )),
        "GeometryCollection" => {
            let parts = geometries.unwrap_or_else(not_a_list).0?;
            Geometry::GeometryCollection(parts.into_iter().collect::<Result<Vec<_>, _>>()?.into())
        }
        other => return Err(format!("unsupported geometry type \"{other}\"")),
    };
    if is_empty(&geometry) {
        return Err(format!("the {kind} is empty"));
    }
    Ok(geometry)
}

pub(crate) fn is_empty(g: &Geometry<f64>) -> bool {
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

// ---------------------------------------------------------------------------------------------
// Property values.

/// A property value of the wrong kind: what was expected, and the value found (shortened).
///
/// `Display` gives `expected a number, found "many"`; [`FeatureRef::error`] takes it as the
/// problem of a [`FeatureError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// What the property should hold (`a number`, `a finite number`, `a string`).
    pub expected: &'static str,
    /// The value found, shortened for messages.
    pub found: String,
}

impl ValueError {
    fn new(expected: &'static str, raw: &str) -> Self {
        Self {
            expected,
            found: shorten(raw),
        }
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, found {}", self.expected, self.found)
    }
}

impl std::error::Error for ValueError {}

impl From<ValueError> for String {
    fn from(e: ValueError) -> Self {
        e.to_string()
    }
}

/// A property read as a number: a JSON number, or a string holding one.
///
/// `Ok(None)` when the value is JSON `null`.
///
/// # Errors
/// A value that is not a number, or not finite.
pub fn number(raw: RawJson<'_>) -> Result<Option<f64>, ValueError> {
    let text = raw.get();
    if text == "null" {
        return Ok(None);
    }
    if text.len() <= 15 && text.bytes().all(|b| b.is_ascii_digit()) {
        // A plain count: exact as an integer, and the same double the text parses to.
        if let Ok(n) = text.parse::<u64>() {
            return Ok(Some(n as f64));
        }
    }
    let t = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
    let v: f64 = t
        .unwrap_or(text)
        .trim()
        .parse()
        .map_err(|_| ValueError::new("a number", text))?;
    if !v.is_finite() {
        return Err(ValueError::new("a finite number", text));
    }
    Ok(Some(v))
}

/// A property read as a string (`null` gives `Ok(None)`).
///
/// # Errors
/// A value that is not a string.
pub fn string(raw: RawJson<'_>) -> Result<Option<String>, ValueError> {
    if raw.get() == "null" {
        return Ok(None);
    }
    serde_json::from_str::<String>(raw.get())
        .map(Some)
        .map_err(|_| ValueError::new("a string", raw.get()))
}

/// A value shortened for an error message.
pub(crate) fn shorten(text: &str) -> String {
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
        Source::from_static("test.geojson", text.as_bytes())
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

    fn geometries(features: &str) -> Vec<Result<Geometry<f64>, String>> {
        let text = format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#);
        let text: &'static str = Box::leak(text.into_boxed_str());
        let fc = read_features(&embedded(text), &[], |f| Ok(f.geometry())).unwrap();
        fc.kept
            .into_iter()
            .map(|g| g.map_err(|e| e.problem))
            .collect()
    }

    #[test]
    fn every_geometry_type_in_any_member_order() {
        use geo::{line_string, point, polygon};
        let got = geometries(
            r#"
            {"type":"Feature","geometry":{"coordinates":[24.5,60.25,12.0],"type":"Point"}},
            {"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}},
            {"type":"Feature","geometry":{"type":"LineString","bbox":[0,0,1,1],"coordinates":[[0,0],[1,1]]}},
            {"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[0,0],[1,1]],[[2,2],[3,3]]]}},
            {"geometry":{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,1]]]},"type":"Feature"},
            {"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}},
            {"type":"Feature","geometry":{"geometries":[{"type":"Point","coordinates":[5,6]}],"type":"GeometryCollection"}}
            "#,
        );
        let triangle = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 0.)];
        let expected: Vec<Geometry<f64>> = vec![
            point!(x: 24.5, y: 60.25).into(),
            geo::MultiPoint::from(vec![point!(x: 1., y: 2.), point!(x: 3., y: 4.)]).into(),
            line_string![(x: 0., y: 0.), (x: 1., y: 1.)].into(),
            MultiLineString(vec![
                line_string![(x: 0., y: 0.), (x: 1., y: 1.)],
                line_string![(x: 2., y: 2.), (x: 3., y: 3.)],
            ])
            .into(),
            polygon!(
                exterior: [(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.), (x: 0., y: 0.)],
                interiors: [[(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 1.)]],
            )
            .into(),
            MultiPolygon(vec![triangle]).into(),
            Geometry::GeometryCollection(geo::GeometryCollection(vec![point!(x: 5., y: 6.).into()])),
        ];
        let got: Vec<Geometry<f64>> = got.into_iter().map(Result::unwrap).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn bad_geometries_say_what_is_wrong() {
        let cases = [
            (
                r#"{"type":"Point","coordinates":"24,60"}"#,
                "found a string",
            ),
            (
                r#"{"type":"Point","coordinates":[24]}"#,
                "at least two numbers",
            ),
            (r#"{"type":"Point","coordinates":[24,null]}"#, "null"),
            (r#"{"type":"Point"}"#, "no coordinates"),
            (r#"{"coordinates":[1,2]}"#, "no \"type\""),
            (r#"{"type":7,"coordinates":[1,2]}"#, "must be a string"),
            (
                r#"{"type":"LineString","coordinates":[1,2]}"#,
                "expected an array of positions",
            ),
            (
                r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}"#,
                "end where it starts",
            ),
            (
                r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}"#,
                "at least 4",
            ),
            (
                r#"{"type":"Polygon","coordinates":[]}"#,
                "at least one ring",
            ),
            (r#"{"type":"GeometryCollection"}"#, "\"geometries\" array"),
            (
                r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[200,0]}]}"#,
                "outside",
            ),
            (r#"{"type":"LineString","coordinates":[]}"#, "empty"),
            (r#""Point""#, "not a GeoJSON geometry object"),
            (r#"[1,2]"#, "not a GeoJSON geometry object"),
        ];
        let features: Vec<String> = cases
            .iter()
            .map(|(g, _)| format!(r#"{{"type":"Feature","geometry":{g}}}"#))
            .collect();
        let got = geometries(&features.join(","));
        for ((geometry, expected), got) in cases.iter().zip(got) {
            let problem = got.expect_err(geometry);
            assert!(problem.contains(expected), "{geometry}: {problem}");
        }
    }

    #[test]
    fn deep_nesting_is_scanned_and_mismatches_are_named() {
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"x":{deep}}},"geometry":{{"type":"Point","coordinates":[1,2]}}}}]}}"#
        );
        let text: &'static str = Box::leak(text.into_boxed_str());
        // Past 128 levels the scanner keeps the nesting on the heap and still finds the feature.
        let fc = read_pop(text).unwrap();
        assert_eq!((fc.kept.len(), fc.total), (1, 1));
        let broken = format!("{}1{}}}", "[".repeat(200), "]".repeat(199));
        let text = format!(r#"{{"type":"FeatureCollection","features":[{{"p":{broken}]}}"#);
        let text: &'static str = Box::leak(text.into_boxed_str());
        let e = read_pop(text).unwrap_err().to_string();
        assert!(e.contains("unexpected '}'"), "{e}");
    }

    #[test]
    fn values_cut_by_the_buffer_end_are_resumed() {
        let values = [
            r#""a \" } ] b""#,
            r#"{"a":[1,{"b":"]}\\"}],"c":"\"{"}"#,
            "-12.5e3",
            "true",
            r#"[[[[[[[[[]]]]]]]]]"#,
        ];
        for v in values {
            // After a space, so that a number's end is seen.
            let text = format!("{v} ");
            let bytes = text.as_bytes();
            let whole = scan_value(bytes, 0, &mut ValueScan::default()).unwrap();
            assert_eq!(whole, Some(v.len()), "{v}");
            // Given one more byte at a time, the scan goes on where it stopped.
            let mut st = ValueScan::default();
            let mut found = None;
            for k in 1..=bytes.len() {
                if let Some(end) = scan_value(&bytes[..k], 0, &mut st).unwrap() {
                    found = Some((k, end));
                    break;
                }
                assert!(st.offset <= k + 1, "{v}: offset {} past {k}", st.offset);
            }
            let (k, end) = found.unwrap_or_else(|| panic!("{v}: never complete"));
            assert_eq!(end, v.len(), "{v}");
            assert!(k <= v.len() + 1, "{v}");
        }
        let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
        let mut st = ValueScan::default();
        for k in 1..deep.len() {
            assert_eq!(scan_value(&deep.as_bytes()[..k], 0, &mut st), Ok(None));
        }
        assert_eq!(
            scan_value(deep.as_bytes(), 0, &mut st),
            Ok(Some(deep.len()))
        );
    }

    #[test]
    fn whitespace_and_long_values_across_blocks_and_trailing_data() {
        let feature = r#"{"type":"Feature","properties":{"population":2,"note":"NOTE"},"geometry":{"type":"Point","coordinates":[24.9,60.1]}}"#;
        // Twenty megabytes of whitespace between features and a string property of twenty
        // megabytes: both span several blocks.
        let spaces = " \n".repeat(10 << 20);
        let long = feature.replace("NOTE", &"x".repeat(20 << 20));
        let text = format!(
            r#"{{"type":"FeatureCollection","features":[{feature},{spaces}{long}{spaces},{feature}]{spaces}}}{spaces}"#
        );
        let text: &'static str = Box::leak(text.into_boxed_str());
        let fc = read_pop(text).unwrap();
        assert_eq!(
            fc.kept,
            vec![(0, Some(2.0)), (1, Some(2.0)), (2, Some(2.0))]
        );
        for trailing in ["x", "{\"type\":\"FeatureCollection\",\"features\":[]}"] {
            for gap in ["", "\n", spaces.as_str()] {
                let t = format!(
                    r#"{{"type":"FeatureCollection","features":[{feature}]}}{gap}{trailing}"#
                );
                let e = read_pop(Box::leak(t.into_boxed_str()))
                    .unwrap_err()
                    .to_string();
                assert!(
                    e.contains("more data follows the end of the FeatureCollection"),
                    "{e}"
                );
            }
        }
        let e = read_pop(r#"{"type":"FeatureCollection","features":[{"type":"Feature"},]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("trailing comma"), "{e}");
    }

    #[test]
    fn other_encodings_and_formats_are_named() {
        let cases: [(&'static [u8], &str); 5] = [
            (b"\xFF\xFE{\0\"\0", "UTF-16"),
            (b"{\0\"\0t\0", "UTF-16"),
            (b"\x1F\x8B\x08\0\0", "gzip"),
            (b"PK\x03\x04\0\0", "zip"),
            (b"\0\0\0\x0D\x0A\x09OSMHeader\x18", "lifecircle extract"),
        ];
        for (bytes, needle) in cases {
            let source = Source::from_bytes("f.geojson", bytes.to_vec());
            let e = read_features(&source, &[], |_| Ok(()))
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{e}");
        }
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
    fn lines_that_are_not_whole_features_are_read_value_by_value() {
        let point = r#""geometry":{"type":"Point","coordinates":[24.9,60.1]}"#;
        let one = |pop: &str| {
            format!(r#"{{"type":"Feature","properties":{{"population":{pop}}},{point}}}"#)
        };
        let read = |body: String| {
            let text = format!("{{\"type\":\"FeatureCollection\",\"features\":[\n{body}\n]}}");
            read_pop(Box::leak(text.into_boxed_str()))
        };
        // One feature per line: the common layout.
        let lines = read(format!("{},\n{},\n{}", one("1"), one("2"), one("3"))).unwrap();
        assert_eq!(
            lines.kept,
            vec![(0, Some(1.0)), (1, Some(2.0)), (2, Some(3.0))]
        );
        // Two features on a line.
        let two = read(format!("{}, {},\n{}", one("1"), one("2"), one("3"))).unwrap();
        assert_eq!(two.kept, lines.kept);
        // A line that starts with '{' and ends with '}' but is only the start of a feature,
        // whose "type" member is `kind`.
        let split = |kind: &str| {
            read(format!(
                "{},\n{{\"type\":{kind},\"properties\":{{\"population\":2}}\n,{point}}},\n{}",
                one("1"),
                one("3")
            ))
            .unwrap()
        };
        assert_eq!(split("\"Feature\"").kept, lines.kept);
        // The same, where the parser stops early on a wrong type: the feature is rejected, and
        // the file is still read to its end.
        let early = split("5");
        assert_eq!(early.kept, vec![(0, Some(1.0)), (2, Some(3.0))]);
        assert_eq!(early.rejected.len(), 1);
        assert_eq!(early.rejected[0].index, 1);
        // A syntax error on a line is reported at its place in the file.
        let Err(Error::Json { line, column, .. }) =
            read(format!("{},\n{},\n{}", one("1"), one("2x"), one("3")))
        else {
            panic!("a syntax error must be reported");
        };
        // Column 47 is the `x`: `{"type":"Feature","properties":{"population":2` is 46 long.
        assert_eq!((line, column), (3, 47));
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
    fn a_declared_epsg_system_is_read_and_an_unknown_one_refused() {
        use geo::CoordsIter;
        // EPSG:4547 (CGCS2000 / Gauss-Krüger CM 114E): the point at the central meridian,
        // 500 km false easting, is on 114°E; its latitude is the one the projection gives.
        let gk = Projection::epsg(4547).unwrap();
        let (_, lat) = gk.to_wgs84(500_000.0, 3_380_000.0).unwrap();
        for name in ["urn:ogc:def:crs:EPSG::4547", "EPSG:4547"] {
            let text = format!(
                r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"{name}"}}}},"features":[
{{"type":"Feature","properties":{{}},"geometry":{{"type":"Point","coordinates":[500000.0,3380000.0]}}}},
{{"type":"Feature","properties":{{}},"geometry":{{"type":"LineString","coordinates":[[500000.0,3380000.0],[500000.0,3380000.0]]}}}}]}}"#
            );
            let read = read_features(&Source::from_bytes("gk.geojson", text), &[], |f| {
                f.geometry()
            })
            .unwrap();
            assert!(read.rejected.is_empty(), "{:?}", read.rejected);
            for g in &read.kept {
                let c = g.coords_iter().next().unwrap();
                assert!(
                    (c.x - 114.0).abs() < 1e-9 && (c.y - lat).abs() < 1e-9,
                    "{c:?}"
                );
                assert!((c.y - 30.5).abs() < 0.1, "{c:?}");
            }
        }
        // An EPSG code lifecircle does not know: refused, naming it.
        let e = read_pop(
            r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::99999"}},"features":[]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("EPSG:99999: unknown EPSG code"), "{e}");
        // A system named otherwise than by an EPSG code: refused as before.
        let e = read_pop(
            r#"{"type":"FeatureCollection","crs":{"type":"link","properties":{"href":"x.prj"}},"features":[]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("ogr2ogr"), "{e}");
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
        // A syntax error inside a feature of a later block: line and column in the whole file.
        let last = format!("\"population\":{}", n - 1);
        let nan: &'static str =
            Box::leak(text.replace(&last, "\"population\":NaN").into_boxed_str());
        let e = read_pop(nan).unwrap_err().to_string();
        assert!(e.contains(&format!("line {}, column 46", n + 1)), "{e}");
    }
}
