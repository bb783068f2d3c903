//! Points from a table: a CSV file (the `csv` crate) whose longitude and latitude columns are
//! named on the command line or found by their usual names (`lon`, `lng`, `longitude`, `x`,
//! `经度`; `lat`, `latitude`, `y`, `纬度`). Every column is a property.
//!
//! A cell is a number when it is written as a JSON number (`12`, `-3.5`, `1e3`), else text; an
//! empty cell is an absent property. The text is UTF-8 (a leading byte-order mark is skipped)
//! unless an encoding is given (`gbk`, `gb18030`, any label of the WHATWG Encoding Standard).

use super::{json_string, InputFile, RawGeometry, Row, CHUNK_ROWS};
use crate::error::{Error, Result};

/// The usual names of the longitude (or easting) column, compared ignoring ASCII case.
pub(crate) const LON_NAMES: [&str; 5] = ["lon", "lng", "longitude", "x", "经度"];
/// The usual names of the latitude (or northing) column.
pub(crate) const LAT_NAMES: [&str; 4] = ["lat", "latitude", "y", "纬度"];

/// A table read whole: its header, its cells, and where the coordinates are.
pub(crate) struct Table {
    headers: Vec<String>,
    /// The cells of each data row, with the row's line in the file (1-based).
    records: Vec<(u64, Vec<String>)>,
    /// What the row numbers count: `line` (CSV) or `row` (a spreadsheet).
    unit: &'static str,
    lon: usize,
    lat: usize,
}

/// The text of `bytes` in the encoding `input` names (UTF-8 by default).
pub(crate) fn decode_text(input: &InputFile, file: &str, bytes: &[u8]) -> Result<String> {
    let label = input.encoding.as_deref().unwrap_or("utf-8");
    let encoding =
        encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| Error::File {
            file: file.to_string(),
            reason: format!("unknown text encoding {label:?} (give e.g. utf-8, gbk or gb18030)"),
        })?;
    let bytes = if encoding == encoding_rs::UTF_8 {
        bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
    } else {
        bytes
    };
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        let bad = text.find('\u{FFFD}').unwrap_or(0);
        let line = text.get(..bad).map_or(0, |t| t.matches('\n').count()) + 1;
        return Err(Error::File {
            file: file.to_string(),
            reason: format!(
                "line {line} is not valid {} text; give the file's encoding (e.g. --encoding \
                 gbk for much Chinese government data)",
                encoding.name()
            ),
        });
    }
    Ok(text.into_owned())
}

/// Read a CSV file whole.
///
/// # Errors
/// The file cannot be read, is not valid text in its encoding, is not CSV, or has no
/// longitude or latitude column.
pub(crate) fn read_csv(input: &InputFile, file: &str) -> Result<Table> {
    let bytes = std::fs::read(&input.path).map_err(|e| Error::Read {
        file: file.to_string(),
        source: e,
    })?;
    let text = decode_text(input, file, &bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let bad = |e: csv::Error| Error::File {
        file: file.to_string(),
        reason: format!("not a readable CSV file: {e}"),
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut records = Vec::new();
    for record in reader.records() {
        let record = record.map_err(bad)?;
        let line = record.position().map_or(0, |p| p.line());
        records.push((line, record.iter().map(str::to_string).collect()));
    }
    Table::new(input, file, headers, records, "line")
}

/// Read a sheet of an Excel workbook (`.xlsx`, and the other workbooks `calamine` reads): the
/// one `input` names (`FILE.xlsx:SHEET`), else the first. Its first row is the header.
///
/// # Errors
/// The file cannot be read or is not a workbook; the sheet asked for is not there (the message
/// lists those that are); the sheet has no header row or no coordinate columns.
pub(crate) fn read_xlsx(input: &InputFile, file: &str) -> Result<Table> {
    use calamine::{Data, Reader};
    std::fs::metadata(&input.path).map_err(|e| Error::Read {
        file: file.to_string(),
        source: e,
    })?;
    let bad = |reason: String| Error::File {
        file: file.to_string(),
        reason,
    };
    let mut workbook = calamine::open_workbook_auto(&input.path)
        .map_err(|e| bad(format!("not a readable Excel workbook: {e}")))?;
    let names = workbook.sheet_names();
    let sheet = match &input.layer {
        Some(asked) => names.iter().find(|n| *n == asked).cloned().ok_or_else(|| {
            bad(format!(
                "no sheet {asked:?}; its sheets: {}",
                names.join(", ")
            ))
        })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| bad("the workbook has no sheet".into()))?,
    };
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| bad(format!("sheet {sheet:?} cannot be read: {e}")))?;
    let text = |c: &Data| match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(x) => x.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(d) => d.to_string(),
        Data::Error(e) => format!("#{e:?}"),
    };
    // Rows are numbered as the spreadsheet shows them (1-based, from its first used row).
    let first_row = u64::from(range.start().map_or(0, |(r, _)| r)) + 1;
    let mut rows = range.rows();
    let headers: Vec<String> = rows
        .next()
        .ok_or_else(|| bad(format!("sheet {sheet:?} is empty")))?
        .iter()
        .map(|c| text(c).trim().to_string())
        .collect();
    let records = rows
        .enumerate()
        .map(|(k, cells)| (first_row + 1 + k as u64, cells.iter().map(text).collect()))
        .collect();
    Table::new(input, file, headers, records, "row")
}

impl Table {
    /// A table with the coordinate columns found.
    ///
    /// # Errors
    /// A coordinate column asked for is missing, or none of the usual names is there.
    pub(crate) fn new(
        input: &InputFile,
        file: &str,
        headers: Vec<String>,
        records: Vec<(u64, Vec<String>)>,
        unit: &'static str,
    ) -> Result<Self> {
        let find = |given: Option<&str>, names: &[&str], what: &str, flag: &str| {
            let found = match given {
                Some(g) => headers.iter().position(|h| h == g.trim()),
                None => names
                    .iter()
                    .find_map(|n| headers.iter().position(|h| h.eq_ignore_ascii_case(n))),
            };
            found.ok_or_else(|| Error::File {
                file: file.to_string(),
                reason: format!(
                    "no {what} column ({}); its columns: {}; name it with {flag}",
                    match given {
                        Some(g) => format!("{g:?} was asked for"),
                        None => format!("looked for {}", names.join(", ")),
                    },
                    headers.join(", "),
                ),
            })
        };
        let lon = find(
            input.lon_field.as_deref(),
            &LON_NAMES,
            "longitude",
            "--lon-field",
        )?;
        let lat = find(
            input.lat_field.as_deref(),
            &LAT_NAMES,
            "latitude",
            "--lat-field",
        )?;
        Ok(Self {
            headers,
            records,
            unit,
            lon,
            lat,
        })
    }

    /// Hand every row, with the properties `wanted`, to `emit` in chunks.
    pub(crate) fn rows(
        &self,
        wanted: &[&str],
        emit: &mut dyn FnMut(Vec<Row>) -> bool,
    ) -> Result<()> {
        let slots: Vec<Option<usize>> = wanted
            .iter()
            .map(|w| {
                self.headers
                    .iter()
                    .position(|h| h == w)
                    .or_else(|| self.headers.iter().position(|h| h.eq_ignore_ascii_case(w)))
            })
            .collect();
        for records in self.records.chunks(CHUNK_ROWS) {
            let chunk = records
                .iter()
                .map(|(line, cells)| Row {
                    props: slots
                        .iter()
                        .map(|s| s.and_then(|i| cells.get(i)).and_then(|c| cell_json(c)))
                        .collect(),
                    geometry: self.point(*line, cells),
                })
                .collect();
            if !emit(chunk) {
                break;
            }
        }
        Ok(())
    }

    fn point(&self, line: u64, cells: &[String]) -> RawGeometry {
        let coordinate = |i: usize| -> std::result::Result<f64, String> {
            let name = self.headers.get(i).map_or("", String::as_str);
            let cell = cells.get(i).map_or("", |c| c.trim());
            if cell.is_empty() {
                return Err(format!(
                    "{} {line}, column {name:?}: the cell is empty",
                    self.unit
                ));
            }
            cell.parse::<f64>().map_err(|_| {
                format!(
                    "{} {line}, column {name:?}: expected a number, found {:?}",
                    self.unit,
                    crate::io::geojson::shorten(cell)
                )
            })
        };
        match (coordinate(self.lon), coordinate(self.lat)) {
            (Ok(x), Ok(y)) => RawGeometry::Point(x, y),
            (Err(e), _) | (_, Err(e)) => RawGeometry::Bad(e),
        }
    }
}

/// The JSON text of a cell: a number written as one, else a string; `None` when empty.
pub(crate) fn cell_json(cell: &str) -> Option<String> {
    let t = cell.trim();
    if t.is_empty() {
        None
    } else if is_json_number(t) {
        Some(t.to_string())
    } else {
        Some(json_string(cell))
    }
}

/// Whether `t` is a number in JSON's grammar (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`).
fn is_json_number(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_become_numbers_or_strings() {
        assert_eq!(cell_json("12").as_deref(), Some("12"));
        assert_eq!(cell_json(" -3.5e2 ").as_deref(), Some("-3.5e2"));
        assert_eq!(cell_json("007").as_deref(), Some("\"007\""));
        assert_eq!(cell_json("1.").as_deref(), Some("\"1.\""));
        assert_eq!(cell_json("养老").as_deref(), Some("\"养老\""));
        assert_eq!(cell_json("a\"b").as_deref(), Some("\"a\\\"b\""));
        assert_eq!(cell_json("  "), None);
    }

    #[test]
    fn gbk_text_and_wrong_encodings() {
        let input = InputFile {
            encoding: Some("gbk".into()),
            ..InputFile::default()
        };
        // "经度" in GBK.
        let gbk = [0xBEu8, 0xAD, 0xB6, 0xC8];
        assert_eq!(decode_text(&input, "f.csv", &gbk).unwrap(), "经度");
        // Not UTF-8.
        let e = decode_text(&InputFile::default(), "f.csv", b"a\n\xBE\xAD")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2 is not valid UTF-8"), "{e}");
        // A byte GBK does not define as the first of a pair.
        let e = decode_text(&input, "f.csv", b"ok\n\xFF\x30")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2 is not valid GBK"), "{e}");
    }
}
