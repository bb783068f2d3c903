//! Inputs in the planner's own formats: GeoPackage, FlatGeobuf, CSV (and, through the same rows, every other
//! table-like format), read into the same features the GeoJSON reader gives, so every format
//! gets the same per-feature checks and messages ([`io::read_facilities`](crate::io::read_facilities)
//! and the others do not know which format they read).
//!
//! A reader of one format produces rows (property values as JSON text, a geometry still in
//! the file's coordinate system) in chunks on a thread of its own; rayon converts and checks
//! each chunk's geometries and runs the caller's parser while the next chunk is read.

mod fgb;
mod fgb_write;
mod gpkg;
mod gpkg_write;
mod layer;
pub(crate) mod raster;
mod residences_write;
mod shp;
mod table;
mod xlsx_write;

pub(crate) use fgb_write::write_fgb;
pub(crate) use gpkg_write::{write_gpkg, Srs, RESIDENCES, WGS84};
pub(crate) use residences_write::write_fgb_residences;
pub(crate) use xlsx_write::write_site_xlsx;
pub use xlsx_write::{write_xlsx, EXCEL_MAX_ROWS, XLSX_FILE};

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

use geo::{Coord, Geometry, MapCoords};
use rayon::prelude::*;

use crate::{
    error::{Error, FeatureError, Result},
    geodesy::check_position,
    io::geojson::{is_empty, FeatureRef, Features, RawJson, Source},
    projection::Projection,
};

/// A file format lifecircle reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// GeoJSON FeatureCollection (`.geojson`, `.json`, and any unknown extension).
    GeoJson,
    /// GeoPackage (`.gpkg`): one layer of it.
    GeoPackage,
    /// FlatGeobuf (`.fgb`).
    FlatGeobuf,
    /// Points from longitude and latitude columns of a CSV file (`.csv`).
    Csv,
    /// Shapefile (`.shp`, with its `.dbf`; `.shx`, `.prj` and `.cpg` when present).
    Shapefile,
    /// Points from longitude and latitude columns of an Excel sheet (`.xlsx`, `.xls`).
    Excel,
    /// A population raster (GeoTIFF, `.tif`, `.tiff`): one point per populated cell, as
    /// residences or as `extract`'s population.
    GeoTiff,
}

impl Format {
    /// Every format, in the order they are listed to users.
    pub const ALL: [Format; 7] = [
        Format::GeoJson,
        Format::GeoPackage,
        Format::FlatGeobuf,
        Format::Shapefile,
        Format::Csv,
        Format::Excel,
        Format::GeoTiff,
    ];

    /// The name used on the command line: `geojson`, `gpkg`, `csv`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::GeoJson => "geojson",
            Self::GeoPackage => "gpkg",
            Self::FlatGeobuf => "fgb",
            Self::Csv => "csv",
            Self::Shapefile => "shp",
            Self::Excel => "xlsx",
            Self::GeoTiff => "tif",
        }
    }

    /// The format a file name's extension says (case ignored); `None` for another extension.
    pub fn from_extension(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "geojson" | "json" => Self::GeoJson,
            "gpkg" => Self::GeoPackage,
            "fgb" => Self::FlatGeobuf,
            "csv" => Self::Csv,
            "shp" => Self::Shapefile,
            "xlsx" | "xls" => Self::Excel,
            "tif" | "tiff" => Self::GeoTiff,
            _ => return None,
        })
    }

    /// Whether a file of this format may hold several layers (chosen by `FILE:LAYER`).
    fn has_layers(self) -> bool {
        matches!(self, Self::GeoPackage | Self::Excel)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    /// # Errors
    /// A message naming the value and listing the formats.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|f| f.name() == t || (t == "json" && *f == Self::GeoJson))
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
                format!("unknown format '{s}': expected one of {}", names.join(", "))
            })
    }
}

/// A format of the outputs (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// One GeoJSON file per output (the default).
    GeoJson,
    /// One GeoPackage, `lifecircle.gpkg`, with every output as a layer.
    GeoPackage,
    /// One FlatGeobuf file per output (`communities.fgb`, ...), each with its spatial index.
    FlatGeobuf,
    /// One Excel workbook, `lifecircle.xlsx`, with the summary and the tables as sheets.
    Xlsx,
}

impl OutputFormat {
    /// Every output format, in the order they are listed to users.
    pub const ALL: [OutputFormat; 4] = [
        OutputFormat::GeoJson,
        OutputFormat::GeoPackage,
        OutputFormat::FlatGeobuf,
        OutputFormat::Xlsx,
    ];

    /// The name used on the command line: `geojson`, `gpkg`, `fgb`, `xlsx`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::GeoJson => "geojson",
            Self::GeoPackage => "gpkg",
            Self::FlatGeobuf => "fgb",
            Self::Xlsx => "xlsx",
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OutputFormat {
    type Err = String;

    /// # Errors
    /// A message naming the value and listing the formats.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|f| f.name() == t)
            .ok_or_else(|| {
                format!("unknown output format '{s}': expected geojson, gpkg, fgb or xlsx")
            })
    }
}

/// An input file with what lifecircle needs to know to read it: the layer (of a GeoPackage),
/// the format (when the extension does not say it), the coordinate system (when the file does
/// not say it), the text encoding and the coordinate columns (of a table).
#[derive(Debug, Clone, Default)]
pub struct InputFile {
    /// The file.
    pub path: PathBuf,
    /// The layer of a GeoPackage or the sheet of a workbook; `None`: its only layer, the
    /// first sheet.
    pub layer: Option<String>,
    /// The format; `None`: from the extension (GeoJSON when it says none).
    pub format: Option<Format>,
    /// The coordinate system of the coordinates in the file, overriding the one the file
    /// declares; `None`: the file's own, or WGS84 longitude/latitude when it declares none.
    pub projection: Option<Projection>,
    /// The text encoding of a CSV file (an encoding label such as `gbk`); `None`: UTF-8.
    pub encoding: Option<String>,
    /// The longitude (or easting) column of a table; `None`: found by its name.
    pub lon_field: Option<String>,
    /// The latitude (or northing) column of a table; `None`: found by its name.
    pub lat_field: Option<String>,
}

impl InputFile {
    /// The file at `path`, where `FILE.gpkg:LAYER` names a layer (unless a file of that whole
    /// name exists).
    pub fn new(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        let mut input = Self {
            path: path.to_path_buf(),
            ..Self::default()
        };
        if path.exists() {
            return input;
        }
        if let Some((file, layer)) = path.to_str().and_then(|p| p.rsplit_once(':')) {
            let file = Path::new(file);
            if !layer.is_empty() && Format::from_extension(file).is_some_and(Format::has_layers) {
                input.path = file.to_path_buf();
                input.layer = Some(layer.to_string());
            }
        }
        input
    }

    /// The format: as given, else from the extension, else GeoJSON.
    pub fn format(&self) -> Format {
        self.format
            .or_else(|| Format::from_extension(&self.path))
            .unwrap_or(Format::GeoJson)
    }

    /// The name used in messages: the path, and `:LAYER` when a layer is named.
    pub fn name(&self) -> String {
        match &self.layer {
            Some(layer) => format!("{}:{layer}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

/// The input to read with a reader of this module, or `None` for a GeoJSON source (read by the
/// streaming GeoJSON reader, which also checks the coordinate system given for it).
pub(crate) fn other_format(source: &Source) -> Result<Option<InputFile>> {
    let input = match source {
        Source::Bytes { .. } => return Ok(None),
        Source::Path(p) => InputFile::new(p),
        Source::File(f) => (**f).clone(),
    };
    Ok((input.format() != Format::GeoJson).then_some(input))
}

/// The coordinate system `source` is read in, for people: the system given for it (as
/// `--coords`), else the one the file declares (a GeoPackage layer's, a FlatGeobuf header's,
/// a Shapefile's `.prj`, a GeoTIFF's, a GeoJSON `crs` member's), as `EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM
/// 114E)`; `None` when neither names a system other than WGS84 (or CGCS2000 longitude /
/// latitude), or the file cannot be opened (its reading says why).
pub fn declared_system(source: &Source) -> Option<String> {
    let input = match source {
        Source::Bytes { .. } => return None,
        Source::Path(p) => InputFile::new(p),
        Source::File(f) => (**f).clone(),
    };
    let file = input.name();
    let projection = match (&input.projection, input.format()) {
        (Some(p), _) => Some(p.clone()),
        (None, Format::GeoPackage) => gpkg::open_layer(&input, &file).ok()?.projection,
        (None, Format::FlatGeobuf) => fgb::open(&input, &file).ok()?.projection,
        (None, Format::Shapefile) => shp::open(&input, &file).ok()?.projection,
        (None, Format::GeoTiff) => raster::Raster::open(&input, &file).ok()?.projection,
        (None, Format::GeoJson) => crate::io::geojson::declared_projection(source),
        (None, _) => None,
    };
    projection
        .filter(|p| !p.is_wgs84() && !same_as_wgs84(p))
        .map(|p| p.describe())
}

/// Whether a system without an EPSG code is WGS84 longitude/latitude under another name (a
/// Shapefile's `GCS_WGS_1984` `.prj`): geographic, and a point converts to itself.
fn same_as_wgs84(p: &Projection) -> bool {
    p.is_geographic()
        && [(24.94, 60.17), (114.3, 30.6), (-70.0, -33.4)]
            .iter()
            .all(|&(lon, lat)| {
                p.to_wgs84(lon, lat)
                    .is_ok_and(|(x, y)| (x - lon).abs() < 1e-9 && (y - lat).abs() < 1e-9)
            })
}

/// Read the features of a non-GeoJSON input, calling `parse` on each (in parallel).
pub(crate) fn read_features<T, F>(
    input: &InputFile,
    file: &str,
    wanted: &[&str],
    parse: &F,
) -> Result<Features<T>>
where
    T: Send,
    F: Fn(&FeatureRef<'_>) -> std::result::Result<T, FeatureError> + Sync,
{
    match input.format() {
        Format::GeoPackage => {
            let layer = gpkg::open_layer(input, file)?;
            let projection = input.projection.clone().or(layer.projection.clone());
            let decoder = layer.decoder(wanted);
            pipeline_blocks(
                file,
                projection.as_ref(),
                wanted.len(),
                |emit| layer.rows(&decoder, emit),
                &|bytes, row| decoder.row(bytes, row),
                parse,
            )
        }
        Format::FlatGeobuf => {
            let fgb = fgb::open(input, file)?;
            let projection = input.projection.clone().or(fgb.projection.clone());
            let decoder = fgb.decoder(wanted);
            pipeline_blocks(
                file,
                projection.as_ref(),
                wanted.len(),
                |emit| fgb.features(emit),
                &|bytes, row| decoder.row(bytes, row),
                parse,
            )
        }
        Format::Csv => {
            let table = table::read_csv(input, file)?;
            let projection = input.projection.clone();
            pipeline(
                file,
                projection.as_ref(),
                |emit| table.rows(wanted, emit),
                parse,
            )
        }
        Format::Excel => {
            let table = table::read_xlsx(input, file)?;
            let projection = input.projection.clone();
            pipeline(
                file,
                projection.as_ref(),
                |emit| table.rows(wanted, emit),
                parse,
            )
        }
        Format::Shapefile => {
            let shapefile = shp::open(input, file)?;
            let projection = input.projection.clone().or(shapefile.projection.clone());
            pipeline(
                file,
                projection.as_ref(),
                |emit| shapefile.rows(wanted, emit),
                parse,
            )
        }
        Format::GeoTiff => {
            if !wanted.contains(&raster::CELL_VALUE) {
                return Err(Error::File {
                    file: file.to_string(),
                    reason: "a population raster (GeoTIFF) is read as residences \
                             (--residences) or as extract's --population, not as facilities, \
                             communities or streets"
                        .into(),
                });
            }
            let raster = raster::Raster::open(input, file)?;
            let projection = raster.projection.clone();
            pipeline(
                file,
                projection.as_ref(),
                |emit| raster.rows(wanted, emit),
                parse,
            )
        }
        Format::GeoJson => Err(Error::File {
            file: file.to_string(),
            reason: "read as GeoJSON by the GeoJSON reader".into(),
        }),
    }
}

/// Whether `source` is a population raster (read with [`raster::CELL_ID`] and
/// [`raster::CELL_VALUE`] for the id and population).
pub(crate) fn is_raster(source: &Source) -> bool {
    match source {
        Source::Bytes { .. } => false,
        Source::Path(p) => InputFile::new(p).format() == Format::GeoTiff,
        Source::File(f) => f.format() == Format::GeoTiff,
    }
}

/// One feature as a format's reader produced it.
pub(crate) struct Row {
    /// The JSON text of each property asked for, in order; `None` when absent (or null: the
    /// formats of this module cannot tell the two apart).
    pub props: Vec<Option<String>>,
    /// The geometry, in the file's coordinate system.
    pub geometry: RawGeometry,
}

/// A geometry as read, before it is converted and checked (which runs in parallel).
pub(crate) enum RawGeometry {
    /// A point.
    Point(f64, f64),
    /// A geometry decoded by the format's reader.
    Geo(Geometry<f64>),
    /// The feature has no usable geometry: the reason.
    Bad(String),
}

/// Rows are handed over in chunks of this many.
pub(crate) const CHUNK_ROWS: usize = 1 << 16;

/// Features still encoded as the file holds them, packed one after another into one buffer
/// (a chunk of a FlatGeobuf file, or rows as SQLite gave them): decoded in parallel, straight
/// from their bytes, without a buffer of their own.
pub(crate) struct Block {
    /// The features' bytes.
    pub bytes: Vec<u8>,
    /// Where each feature ends in `bytes` (the first starts at 0).
    pub ends: Vec<usize>,
}

impl Block {
    /// An empty block with room for `bytes` bytes.
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(CHUNK_ROWS),
        }
    }

    /// The number of features.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The bytes of feature `k`.
    fn feature(&self, k: usize) -> &[u8] {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.bytes[start..self.ends[k]]
    }
}

/// One decoded feature, in buffers reused from feature to feature: the JSON text of its
/// properties one after another, where each wanted one lies, and its geometry.
pub(crate) struct RowBuf {
    text: Vec<u8>,
    spans: Vec<Option<(usize, usize)>>,
    /// The geometry, in the file's coordinate system.
    pub geometry: RawGeometry,
}

impl RowBuf {
    fn new() -> Self {
        Self {
            text: Vec::with_capacity(256),
            spans: Vec::new(),
            geometry: RawGeometry::Bad(String::new()),
        }
    }

    /// Empty the buffers for a feature with `wanted` properties, all absent.
    pub(crate) fn clear(&mut self, wanted: usize) {
        self.text.clear();
        self.spans.clear();
        self.spans.resize(wanted, None);
    }

    /// Set property `slot` to the JSON text `write` appends to the buffer it is given.
    pub(crate) fn set(&mut self, slot: usize, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.text.len();
        write(&mut self.text);
        if let Some(span) = self.spans.get_mut(slot) {
            *span = Some((start, self.text.len()));
        }
    }

    /// Mark property `slot` absent (a later value of a repeated column replaces an earlier).
    pub(crate) fn unset(&mut self, slot: usize) {
        if let Some(span) = self.spans.get_mut(slot) {
            *span = None;
        }
    }

    /// Property `i`'s JSON text.
    fn prop(&self, i: usize) -> Option<RawJson<'_>> {
        let (start, end) = self.spans[i]?;
        // Only JSON text is written, which is UTF-8.
        std::str::from_utf8(&self.text[start..end])
            .ok()
            .map(RawJson::new)
    }
}

/// The JSON text of an integer, appended.
pub(crate) fn push_integer(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// The JSON text of a number (`null` when not finite), appended.
pub(crate) fn push_number(out: &mut Vec<u8>, v: f64) {
    if !v.is_finite() || serde_json::to_writer(&mut *out, &v).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// The JSON text of a text value (a JSON string), appended.
pub(crate) fn push_string(out: &mut Vec<u8>, text: &str) {
    if serde_json::to_writer(&mut *out, text).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// Run `produce` on a thread of its own, and convert and parse the chunks of rows it emits in
/// parallel, in order. `emit` returns false when the consumer has stopped (the producer should
/// return then).
fn pipeline<T, F, P>(
    file: &str,
    projection: Option<&Projection>,
    produce: P,
    parse: &F,
) -> Result<Features<T>>
where
    T: Send,
    F: Fn(&FeatureRef<'_>) -> std::result::Result<T, FeatureError> + Sync,
    P: FnOnce(&mut dyn FnMut(Vec<Row>) -> bool) -> Result<()> + Send,
{
    let projection = projection.filter(|p| !p.is_wgs84());
    pipeline_chunks(produce, |chunk: Vec<Row>, base| {
        chunk
            .into_par_iter()
            .enumerate()
            .map(|(k, row)| {
                with_props(
                    row.props.len(),
                    |i| row.props[i].as_deref().map(RawJson::new),
                    |props| {
                        let geometry = geometry_to_wgs84(row.geometry, projection);
                        parse(&FeatureRef::from_parts(file, base + k, geometry, props))
                    },
                )
            })
            .collect()
    })
}

/// [`pipeline`] for a reader that emits its features still encoded, in [`Block`]s, each
/// decoded by `decode` (into a [`RowBuf`] emptied for `wanted` properties) in parallel with
/// the rest of the work.
fn pipeline_blocks<T, F, P, D>(
    file: &str,
    projection: Option<&Projection>,
    wanted: usize,
    produce: P,
    decode: &D,
    parse: &F,
) -> Result<Features<T>>
where
    T: Send,
    F: Fn(&FeatureRef<'_>) -> std::result::Result<T, FeatureError> + Sync,
    P: FnOnce(&mut dyn FnMut(Block) -> bool) -> Result<()> + Send,
    D: Fn(&[u8], &mut RowBuf) + Sync,
{
    let projection = projection.filter(|p| !p.is_wgs84());
    pipeline_chunks(produce, |block: Block, base| {
        (0..block.len())
            .into_par_iter()
            .map_init(RowBuf::new, |row, k| {
                row.clear(wanted);
                decode(block.feature(k), row);
                let raw = std::mem::replace(&mut row.geometry, RawGeometry::Bad(String::new()));
                let geometry = geometry_to_wgs84(raw, projection);
                with_props(
                    wanted,
                    |i| row.prop(i),
                    |props| parse(&FeatureRef::from_parts(file, base + k, geometry, props)),
                )
            })
            .collect()
    })
}

/// Call `f` with the `n` properties `prop` gives, as a slice (on the stack when there are
/// few, as there mostly are).
fn with_props<'a, R>(
    n: usize,
    prop: impl Fn(usize) -> Option<RawJson<'a>>,
    f: impl FnOnce(&[Option<RawJson<'a>>]) -> R,
) -> R {
    const INLINE: usize = 16;
    if n <= INLINE {
        let mut props = [None; INLINE];
        for (i, p) in props.iter_mut().enumerate().take(n) {
            *p = prop(i);
        }
        f(&props[..n])
    } else {
        let props: Vec<_> = (0..n).map(prop).collect();
        f(&props)
    }
}

/// Run `produce` on a thread of its own and turn each chunk it emits into parsed features
/// with `parse_chunk` (given the index of the chunk's first feature), in order.
fn pipeline_chunks<T, C, P, G>(produce: P, parse_chunk: G) -> Result<Features<T>>
where
    T: Send,
    C: Send,
    P: FnOnce(&mut dyn FnMut(C) -> bool) -> Result<()> + Send,
    G: Fn(C, usize) -> Vec<std::result::Result<T, FeatureError>>,
{
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<C>(1);
        let producer = scope.spawn(move || produce(&mut |chunk| tx.send(chunk).is_ok()));
        let mut out = Features {
            kept: Vec::new(),
            rejected: Vec::new(),
            total: 0,
        };
        for chunk in rx {
            let parsed = parse_chunk(chunk, out.total);
            out.total += parsed.len();
            for r in parsed {
                match r {
                    Ok(v) => out.kept.push(v),
                    Err(e) => out.rejected.push(e),
                }
            }
        }
        producer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok(out)
    })
}

/// Decode a geometry, convert it to WGS84 and check every position.
fn geometry_to_wgs84(
    raw: RawGeometry,
    projection: Option<&Projection>,
) -> std::result::Result<Geometry<f64>, String> {
    let geometry = match raw {
        RawGeometry::Point(x, y) => Geometry::Point(geo::Point::new(x, y)),
        RawGeometry::Geo(g) => g,
        RawGeometry::Bad(reason) => return Err(reason),
    };
    if is_empty(&geometry) {
        return Err("the geometry is empty".into());
    }
    geometry.try_map_coords(|c| {
        let (x, y) = match projection {
            Some(p) => p.to_wgs84(c.x, c.y).map_err(|e| e.to_string())?,
            None => (c.x, c.y),
        };
        check_position(x, y).map_err(|e| {
            if e.contains("projected coordinates") {
                format!(
                    "{e}; or name the file's coordinate system (lifecircle's --coords \
                     EPSG:n, e.g. EPSG:4547 for CGCS2000 / Gauss-Krüger CM 114E)"
                )
            } else {
                e
            }
        })?;
        Ok(Coord { x, y })
    })
}

/// The JSON text of a text value: a JSON string.
pub(crate) fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "null".into())
}

/// The JSON text of a number (`null` when not finite).
pub(crate) fn json_number(v: f64) -> String {
    if v.is_finite() {
        serde_json::to_string(&v).unwrap_or_else(|_| "null".into())
    } else {
        "null".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_and_formats_from_names() {
        let f = InputFile::new("no/such/city.gpkg:communities");
        assert_eq!(f.path, Path::new("no/such/city.gpkg"));
        assert_eq!(f.layer.as_deref(), Some("communities"));
        assert_eq!(f.format(), Format::GeoPackage);
        assert_eq!(f.name(), "no/such/city.gpkg:communities");
        // A colon in a GeoJSON name is part of the name.
        let f = InputFile::new("no/such/a:b.geojson");
        assert_eq!(f.layer, None);
        assert_eq!(f.format(), Format::GeoJson);
        assert_eq!(InputFile::new("x.CSV").format(), Format::Csv);
        assert_eq!(InputFile::new("x.txt").format(), Format::GeoJson);
        assert_eq!("GPKG".parse::<Format>(), Ok(Format::GeoPackage));
        assert!("dxf".parse::<Format>().unwrap_err().contains("gpkg"));
    }
}
