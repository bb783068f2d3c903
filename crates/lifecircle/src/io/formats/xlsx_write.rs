//! Writing the tables of a run as one Excel workbook (`lifecircle.xlsx`) with
//! `rust_xlsxwriter`, for the planner whose report is a spreadsheet.
//!
//! Every sheet holds what a file of the same run holds, made from the same writers' output so
//! the two cannot disagree:
//! - `summary`: the rows of `summary.csv`, typed by `summary.csvt` (numbers as numbers, the
//!   shares `coverage*` as numbers with a percent format);
//! - `residences`: the properties of `residences.geojson`, with the point's coordinates after
//!   the community (`lon`, `lat`, or `x_epsg<n>`, `y_epsg<n>` in a projected output system);
//! - `communities`: the properties of the gap map, without geometry (the shares `*_coverage*`
//!   with a percent format);
//! - `facilities`: the properties of `facilities.geojson` with the coordinates after the name;
//! - for `site`: `sites`, `curve` (the rows of `curve.csv`) and `communities` (before and
//!   after).
//!
//! Numbers are numbers, `true`/`false` are Excel booleans, null is an empty cell, a list of
//! names (`lacking`, `missing`) is the names joined by `", "` (an empty list or text: an empty
//! cell). Headers are bold, the header row is frozen, columns are as wide as their header and
//! first rows. A table longer than Excel's 1,048,576 rows goes on in `<sheet>_2`,
//! `<sheet>_3`, ... each with the header.
//! Large sheets are written in `rust_xlsxwriter`'s constant-memory mode (rows go to a
//! temporary file as they are written), and the residences are converted a chunk at a time as
//! the GeoJSON writer formats them, so the workbook never holds the whole table in memory.

use std::{io::Write, path::Path};

use rayon::prelude::*;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde_json::value::RawValue;

use super::layer::Feature;
use crate::error::{Error, Result};

/// The name of the workbook in an output set.
pub const XLSX_FILE: &str = "lifecircle.xlsx";

/// Excel's most rows in a sheet (header included).
pub const EXCEL_MAX_ROWS: u32 = 1_048_576;

/// Feature lines converted at a time.
const CHUNK_LINES: usize = 16_384;

/// Rows looked at to size the columns.
const WIDTH_SAMPLE: usize = 1_000;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Empty,
    Number(f64),
    Bool(bool),
    Text(String),
}

impl Cell {
    /// The cell for a JSON value as the GeoJSON writer writes it.
    fn of_json(v: &RawValue) -> Self {
        let t = v.get();
        match t.as_bytes().first() {
            None | Some(b'n') => Self::Empty,
            Some(b't') => Self::Bool(true),
            Some(b'f') => Self::Bool(false),
            Some(b'"') => serde_json::from_str(t).map_or_else(|_| Self::Text(t.into()), Self::Text),
            Some(b'[') => match serde_json::from_str::<Vec<String>>(t) {
                Ok(names) if names.is_empty() => Self::Empty,
                Ok(names) => Self::Text(names.join(", ")),
                Err(_) => Self::Text(t.into()),
            },
            Some(b'{') => Self::Text(t.into()),
            _ => t
                .parse()
                .map_or_else(|_| Self::Text(t.into()), Self::Number),
        }
    }

    /// Approximate width in Excel's character units (CJK characters count two).
    fn width(&self) -> usize {
        match self {
            Self::Empty => 0,
            Self::Bool(_) => 5,
            Self::Number(x) => format!("{x}").len(),
            Self::Text(s) => text_width(s),
        }
    }
}

fn text_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// The columns of a table: names and whether each holds shares (shown as percentages).
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    pub names: Vec<String>,
    pub percent: Vec<bool>,
}

impl Columns {
    fn new(names: Vec<String>, is_share: impl Fn(&str) -> bool) -> Self {
        let percent = names.iter().map(|n| is_share(n)).collect();
        Self { names, percent }
    }
}

/// Whether a summary, gap-map or sites column holds a share (0 to 1): `coverage`,
/// `coverage_planned`, `coverage_change`, `<category>_coverage...`,
/// `<category>_cumulative_coverage`.
fn is_share(name: &str) -> bool {
    name == "coverage" || name.starts_with("coverage_") || name.contains("_coverage")
}

/// A table being written into one or more sheets of a workbook (`name`, `name_2`, ...).
struct SheetWriter {
    name: String,
    columns: Columns,
    widths: Vec<f64>,
    max_rows: u32,
    /// The sheet being filled (index in the workbook) and its next row.
    current: Option<(usize, u32)>,
    sheets: usize,
    bold: Format,
    percent: Format,
}

impl SheetWriter {
    fn new(name: &str, columns: Columns, sample: &[Vec<Cell>], max_rows: u32) -> Self {
        let widths = columns
            .names
            .iter()
            .enumerate()
            .map(|(j, n)| {
                let data = sample
                    .iter()
                    .take(WIDTH_SAMPLE)
                    .map(|r| r.get(j).map_or(0, Cell::width))
                    .max()
                    .unwrap_or(0);
                (text_width(n).max(data) + 2).clamp(6, 50) as f64
            })
            .collect();
        Self {
            name: name.to_string(),
            columns,
            widths,
            max_rows: max_rows.max(2),
            current: None,
            sheets: 0,
            bold: Format::new().set_bold(),
            percent: Format::new().set_num_format("0.0%"),
        }
    }

    /// Start the next sheet, with the header.
    fn start_sheet(&mut self, wb: &mut Workbook) -> std::result::Result<usize, XlsxError> {
        self.sheets += 1;
        let name = if self.sheets == 1 {
            self.name.clone()
        } else {
            format!("{}_{}", self.name, self.sheets)
        };
        let index = wb.worksheets().len();
        let ws: &mut Worksheet = wb.add_worksheet_with_constant_memory()?;
        ws.set_name(&name)?;
        for (j, w) in self.widths.iter().enumerate() {
            ws.set_column_width(col(j)?, *w)?;
        }
        for (j, n) in self.columns.names.iter().enumerate() {
            ws.write_string_with_format(0, col(j)?, n, &self.bold)?;
        }
        ws.set_freeze_panes(1, 0)?;
        self.current = Some((index, 1));
        Ok(index)
    }

    fn push(&mut self, wb: &mut Workbook, row: &[Cell]) -> std::result::Result<(), XlsxError> {
        let (index, r) = match self.current {
            Some((i, r)) if r < self.max_rows => (i, r),
            _ => (self.start_sheet(wb)?, 1),
        };
        let ws = wb.worksheet_from_index(index)?;
        for (j, c) in row.iter().enumerate() {
            let cj = col(j)?;
            let pct = self.columns.percent.get(j).copied().unwrap_or(false);
            match c {
                Cell::Empty => {}
                Cell::Number(x) if pct => {
                    ws.write_number_with_format(r, cj, *x, &self.percent)?;
                }
                Cell::Number(x) => {
                    ws.write_number(r, cj, *x)?;
                }
                Cell::Bool(b) => {
                    ws.write_boolean(r, cj, *b)?;
                }
                Cell::Text(s) if s.is_empty() => {}
                Cell::Text(s) => {
                    ws.write_string(r, cj, s)?;
                }
            }
        }
        self.current = Some((index, r + 1));
        Ok(())
    }

    /// Make sure the table has a sheet, even without rows.
    fn finish(&mut self, wb: &mut Workbook) -> std::result::Result<(), XlsxError> {
        if self.current.is_none() {
            self.start_sheet(wb)?;
        }
        Ok(())
    }
}

fn col(j: usize) -> std::result::Result<u16, XlsxError> {
    u16::try_from(j)
        .ok()
        .filter(|&c| c < 16_384)
        .ok_or(XlsxError::RowColumnLimitError)
}

/// Where the coordinates of a feature table go, and their column names.
#[derive(Debug, Clone)]
pub(crate) struct CoordColumns {
    /// The property after which they go (`community`, `name`); first when absent.
    pub after: String,
    /// The names: `lon`, `lat` or `x_epsg4547`, `y_epsg4547`.
    pub names: [String; 2],
}

/// The feature lines of a GeoJSON FeatureCollection written by the one GeoJSON writer.
fn feature_lines(geojson: &[u8]) -> impl Iterator<Item = &[u8]> {
    geojson
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(br#"{"type":"Feature""#))
        .map(|l| l.strip_suffix(b",").unwrap_or(l))
}

/// A parsed feature as a row in `columns` (the coordinates, when asked, where they go).
fn row_of(f: &Feature<'_>, names: &[String], coords: Option<&CoordColumns>) -> Vec<Cell> {
    let props = f.properties();
    let xy = match &f.geometry {
        geo::Geometry::Point(p) => [Cell::Number(p.x()), Cell::Number(p.y())],
        _ => [Cell::Empty, Cell::Empty],
    };
    let mut xy = Some(xy);
    let mut row = Vec::with_capacity(names.len());
    for (j, n) in names.iter().enumerate() {
        if let Some(c) = coords {
            if *n == c.names[0] {
                if let Some([x, y]) = xy.take() {
                    row.push(x);
                    row.push(y);
                }
                continue;
            }
            if *n == c.names[1] {
                continue;
            }
        }
        let v = match props.get(j) {
            Some((k, v)) if k == n => Some(*v),
            _ => props.iter().find(|(k, _)| k == n).map(|(_, v)| *v),
        };
        row.push(v.map_or(Cell::Empty, Cell::of_json));
    }
    row
}

/// The column names of features: their properties in order of first appearance, with the
/// coordinate columns inserted.
fn feature_columns(features: &[Feature<'_>], coords: Option<&CoordColumns>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for f in features {
        for (j, (k, _)) in f.properties().iter().enumerate() {
            let known = matches!(names.get(j), Some(n) if n == k) || names.iter().any(|n| n == k);
            if !known {
                names.push(k.to_string());
            }
        }
    }
    if let Some(c) = coords {
        let at = names
            .iter()
            .position(|n| *n == c.after)
            .map_or(0, |i| i + 1);
        names.insert(at, c.names[1].clone());
        names.insert(at, c.names[0].clone());
    }
    names
}

fn parse_lines<'a>(lines: &[&'a [u8]]) -> std::result::Result<Vec<Feature<'a>>, String> {
    lines.par_iter().map(|l| Feature::parse(l)).collect()
}

/// A workbook being written to `path`.
pub(crate) struct XlsxWriter {
    wb: Workbook,
    path: std::path::PathBuf,
    max_rows: u32,
}

impl XlsxWriter {
    /// A workbook whose sheets hold at most `max_rows` rows each (header included).
    pub(crate) fn new(path: &Path, max_rows: u32) -> Result<Self> {
        let mut wb = Workbook::new();
        // Excel's own level: deflate is most of the time of a large workbook, and level 3
        // takes about 0.7 of the default's time for a file about 5 % larger.
        wb.set_zip_compression_level(3);
        if let Some(dir) = path.parent() {
            // The constant-memory sheets' temporary files go beside the output.
            wb.set_tempdir(dir).map_err(|e| xlsx_error(path, e))?;
        }
        Ok(Self {
            wb,
            path: path.to_path_buf(),
            max_rows,
        })
    }

    fn err(&self, e: XlsxError) -> Error {
        xlsx_error(&self.path, e)
    }

    /// Add the rows of a CSV text with a header (as `summary.csv`), typed by `types` (the
    /// `.csvt` types: `Integer` and `Real` become numbers, the rest text).
    pub(crate) fn add_csv(&mut self, sheet: &str, csv_text: &[u8], types: &[&str]) -> Result<()> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(csv_text);
        let bad = |e: String| Error::Write {
            path: self.path.clone(),
            source: std::io::Error::other(format!("sheet {sheet}: {e}")),
        };
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| bad(e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| bad(e.to_string()))?;
            let row: Vec<Cell> = record
                .iter()
                .enumerate()
                .map(|(j, v)| match types.get(j).copied() {
                    _ if v.is_empty() => Cell::Empty,
                    Some("Integer" | "Real") => v
                        .parse()
                        .map_or_else(|_| Cell::Text(v.into()), Cell::Number),
                    _ => Cell::Text(v.into()),
                })
                .collect();
            rows.push(row);
        }
        let columns = Columns::new(header, is_share);
        let mut sw = SheetWriter::new(sheet, columns, &rows, self.max_rows);
        for r in &rows {
            sw.push(&mut self.wb, r).map_err(|e| self.err(e))?;
        }
        sw.finish(&mut self.wb).map_err(|e| self.err(e))
    }

    /// Add the features of a GeoJSON FeatureCollection written by the one GeoJSON writer as a
    /// table: their properties, and their point coordinates when `coords` says where.
    pub(crate) fn add_features(
        &mut self,
        sheet: &str,
        geojson: &[u8],
        coords: Option<&CoordColumns>,
    ) -> Result<()> {
        let lines: Vec<&[u8]> = feature_lines(geojson).collect();
        let features = parse_lines(&lines).map_err(|e| self.bad(sheet, e))?;
        let names = feature_columns(&features, coords);
        let rows: Vec<Vec<Cell>> = features
            .par_iter()
            .map(|f| row_of(f, &names, coords))
            .collect();
        let columns = Columns::new(names, is_share);
        let mut sw = SheetWriter::new(sheet, columns, &rows, self.max_rows);
        for r in &rows {
            sw.push(&mut self.wb, r).map_err(|e| self.err(e))?;
        }
        sw.finish(&mut self.wb).map_err(|e| self.err(e))
    }

    /// A sink for a large GeoJSON FeatureCollection written by the one GeoJSON writer (every
    /// feature with the properties of the first, in one order, as the residences are): its
    /// features are converted into rows of the table `sheet` a chunk at a time as they come.
    pub(crate) fn feature_sink<'w>(
        &'w mut self,
        sheet: &str,
        coords: Option<CoordColumns>,
    ) -> FeatureSink<'w> {
        FeatureSink {
            xlsx: self,
            sheet: sheet.to_string(),
            coords,
            pending: Vec::new(),
            lines: 0,
            table: None,
        }
    }

    fn bad(&self, sheet: &str, reason: String) -> Error {
        Error::Write {
            path: self.path.clone(),
            source: std::io::Error::other(format!("sheet {sheet}: {reason}")),
        }
    }

    /// Write the workbook.
    pub(crate) fn finish(mut self) -> Result<()> {
        let path = self.path.clone();
        self.wb.save(&path).map_err(|e| xlsx_error(&path, e))
    }
}

fn xlsx_error(path: &Path, e: XlsxError) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    }
}

/// See [`XlsxWriter::feature_sink`].
pub(crate) struct FeatureSink<'w> {
    xlsx: &'w mut XlsxWriter,
    sheet: String,
    coords: Option<CoordColumns>,
    /// Bytes not yet converted (whole lines, and the start of the next).
    pending: Vec<u8>,
    /// Complete lines in `pending`.
    lines: usize,
    table: Option<SheetWriter>,
}

impl FeatureSink<'_> {
    /// Convert the complete lines in `pending`.
    fn convert(&mut self, all: bool) -> std::io::Result<()> {
        let end = if all {
            self.pending.len()
        } else {
            match self.pending.iter().rposition(|&b| b == b'\n') {
                Some(i) => i + 1,
                None => return Ok(()),
            }
        };
        let rest = self.pending.split_off(end);
        let chunk = std::mem::replace(&mut self.pending, rest);
        self.lines = 0;
        let lines: Vec<&[u8]> = feature_lines(&chunk).collect();
        let features = parse_lines(&lines).map_err(std::io::Error::other)?;
        if features.is_empty() {
            return Ok(());
        }
        let coords = self.coords.as_ref();
        if self.table.is_none() {
            let names = feature_columns(&features[..1], coords);
            let sample: Vec<Vec<Cell>> = features
                .iter()
                .take(WIDTH_SAMPLE)
                .map(|f| row_of(f, &names, coords))
                .collect();
            let columns = Columns::new(names, is_share);
            self.table = Some(SheetWriter::new(
                &self.sheet,
                columns,
                &sample,
                self.xlsx.max_rows,
            ));
        }
        let Some(table) = self.table.as_mut() else {
            return Ok(());
        };
        let names = &table.columns.names;
        let rows = features
            .par_iter()
            .map(|f| {
                let known = f
                    .properties()
                    .iter()
                    .all(|(k, _)| names.iter().any(|n| n == k));
                if known {
                    Ok(row_of(f, names, coords))
                } else {
                    Err(format!(
                        "a feature has properties the first feature does not have: {:?}",
                        f.properties()
                            .iter()
                            .map(|(k, _)| k.as_ref())
                            .filter(|k| !names.iter().any(|n| n == k))
                            .collect::<Vec<_>>()
                    ))
                }
            })
            .collect::<std::result::Result<Vec<Vec<Cell>>, String>>()
            .map_err(std::io::Error::other)?;
        for r in &rows {
            table
                .push(&mut self.xlsx.wb, r)
                .map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    /// Convert what is left and close the table.
    pub(crate) fn finish(mut self) -> Result<()> {
        let sheet = self.sheet.clone();
        self.convert(true)
            .map_err(|e| self.xlsx.bad(&sheet, e.to_string()))?;
        match self.table.as_mut() {
            Some(t) => t.finish(&mut self.xlsx.wb).map_err(|e| self.xlsx.err(e)),
            None => {
                // No features: a sheet with the id column only.
                let mut t = SheetWriter::new(
                    &sheet,
                    Columns::new(vec!["id".to_string()], is_share),
                    &[],
                    self.xlsx.max_rows,
                );
                t.finish(&mut self.xlsx.wb).map_err(|e| self.xlsx.err(e))
            }
        }
    }
}

impl Write for FeatureSink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.lines += memchr::memchr_iter(b'\n', buf).count();
        if self.lines >= CHUNK_LINES {
            self.convert(false)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The names of the coordinate columns of the tables of `a`: `lon`, `lat` in WGS84 (with
/// the system appended in GCJ-02 or BD-09: `lon_gcj02`), `x_epsg<n>`, `y_epsg<n>` in a
/// projected system.
pub(crate) fn coordinate_names(a: &crate::Analysis) -> [String; 2] {
    crate::io::output::coordinate_names(a)
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Write the workbook of an analysis to `path` (a new file): the sheets `summary`,
/// `residences`, `communities` and `facilities`, each sheet at most `max_rows` rows long
/// ([`EXCEL_MAX_ROWS`]), a longer table going on in `residences_2`, ...
///
/// `summary` holds the rows of `summary.csv` (numbers as numbers, the `coverage*` shares shown
/// as percentages); `residences` and `facilities` the properties of their GeoJSON output with
/// the point's coordinates (`lon`, `lat`, or `x_epsg<n>`, `y_epsg<n>` in a projected output
/// system); `communities` the gap map's properties. Null is an empty cell, a list of names
/// the names joined by `", "`.
///
/// # Errors
/// The file cannot be written.
pub fn write_xlsx(a: &crate::Analysis, run: &str, path: &Path, max_rows: u32) -> Result<()> {
    use crate::io::output as out;
    let mut x = XlsxWriter::new(path, max_rows)?;
    let err = io_error(path);
    let mut csv = Vec::new();
    out::write_summary_csv(a, run, &mut csv).map_err(&err)?;
    let types: Vec<&str> = out::summary_columns(a).iter().map(|(_, t)| *t).collect();
    x.add_csv("summary", &csv, &types)?;
    let names = coordinate_names(a);
    let mut sink = x.feature_sink(
        "residences",
        Some(CoordColumns {
            after: "community".into(),
            names: names.clone(),
        }),
    );
    out::write_residences(a, run, &mut sink).map_err(&err)?;
    sink.finish()?;
    let mut buf = Vec::new();
    out::write_communities(a, run, &mut buf).map_err(&err)?;
    x.add_features("communities", &buf, None)?;
    buf.clear();
    out::write_facilities(a, run, &mut buf).map_err(&err)?;
    x.add_features(
        "facilities",
        &buf,
        Some(&CoordColumns {
            after: "name".into(),
            names,
        }),
    )?;
    x.finish()
}

/// Write the workbook of a siting to `path` (a new file): the sheets `sites` (the new sites
/// with their coordinates after the name), `curve` (the rows of `curve.csv`) and
/// `communities` (the gap map before and after, without geometry).
///
/// # Errors
/// The file cannot be written.
pub(crate) fn write_site_xlsx(
    s: &crate::site::Siting<'_>,
    fields: &crate::io::SiteFields<'_>,
    run: &str,
    path: &Path,
) -> Result<()> {
    use crate::io::site as out;
    let mut x = XlsxWriter::new(path, EXCEL_MAX_ROWS)?;
    let err = io_error(path);
    let mut buf = Vec::new();
    out::write_sites(s, fields, run, &mut buf).map_err(&err)?;
    x.add_features(
        "sites",
        &buf,
        Some(&CoordColumns {
            after: fields.name.to_string(),
            names: coordinate_names(&s.before),
        }),
    )?;
    buf.clear();
    out::write_curve(s, run, &mut buf).map_err(&err)?;
    x.add_csv("curve", &buf, &out::CURVE_TYPES)?;
    buf.clear();
    out::write_communities_change(s, run, &mut buf).map_err(&err)?;
    x.add_features("communities", &buf, None)?;
    x.finish()
}
