//! Reading a Shapefile (`.shp` with its `.dbf`, and `.shx`, `.prj`, `.cpg` when present) with
//! the `shapefile` and `dbase` crates.
//!
//! The attribute text is decoded in the encoding the `.cpg` names, else the one given
//! (`--encoding`), else UTF-8; text that is not valid in that encoding stops the read with a
//! message naming the record and field, rather than being silently replaced. The coordinate
//! system comes from the `.prj` (ESRI or OGC WKT). A numeric field holding a whole number is
//! read as an integer.

use std::{fs::File, io::BufReader, path::Path};

use dbase::FieldValue;
use geo::Geometry;

use super::{json_number, json_string, InputFile, RawGeometry, Row, CHUNK_ROWS};
use crate::{
    error::{Error, Result},
    projection::Projection,
};

/// The encoding of a `.cpg` label or an `--encoding` value: a WHATWG label (`gbk`, `utf-8`),
/// or a Windows code page number as GIS tools write them (`936`, `65001`).
fn encoding_for(label: &str) -> Option<&'static encoding_rs::Encoding> {
    let t = label
        .trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_lowercase();
    let t = t.strip_prefix("cp").unwrap_or(&t);
    let named = match t {
        "936" => "gbk",
        "54936" => "gb18030",
        "65001" => "utf-8",
        "950" => "big5",
        other => other,
    };
    encoding_rs::Encoding::for_label(named.as_bytes())
        .or_else(|| encoding_rs::Encoding::for_label(label.trim().as_bytes()))
}

/// A Shapefile, opened; its records are read by [`Shapefile::rows`].
pub(crate) struct Shapefile {
    path: std::path::PathBuf,
    file: String,
    encoding: &'static encoding_rs::Encoding,
    /// The `.prj`'s coordinate system, when it is not WGS84 longitude/latitude.
    pub projection: Option<Projection>,
}

fn sidecar(path: &Path, ext: &str) -> std::path::PathBuf {
    // Keep the case of the extension the .shp has (`.SHP` goes with `.DBF`).
    let upper = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.chars().all(|c| c.is_ascii_uppercase()));
    let wanted = path.with_extension(if upper {
        ext.to_ascii_uppercase()
    } else {
        ext.to_string()
    });
    if wanted.exists() {
        wanted
    } else {
        path.with_extension(ext)
    }
}

/// Open the Shapefile `input` names: check its `.dbf`, find its encoding and coordinate system.
///
/// # Errors
/// The `.shp` or `.dbf` is missing; the `.cpg` or `--encoding` names an unknown encoding; the
/// `.prj` cannot be understood.
pub(crate) fn open(input: &InputFile, file: &str) -> Result<Shapefile> {
    let path = &input.path;
    std::fs::metadata(path).map_err(|e| Error::Read {
        file: file.to_string(),
        source: e,
    })?;
    let dbf = sidecar(path, "dbf");
    if !dbf.exists() {
        return Err(Error::File {
            file: file.to_string(),
            reason: format!(
                "a Shapefile needs its attribute file {}, which is missing (copy the .shp \
                 together with its .dbf, .shx, .prj and .cpg)",
                dbf.display()
            ),
        });
    }
    let cpg = std::fs::read_to_string(sidecar(path, "cpg")).ok();
    let encoding = match (&cpg, &input.encoding) {
        (Some(label), _) => encoding_for(label).ok_or_else(|| Error::File {
            file: file.to_string(),
            reason: format!("its .cpg names an unknown text encoding {:?}", label.trim()),
        })?,
        (None, Some(label)) => encoding_for(label).ok_or_else(|| Error::File {
            file: file.to_string(),
            reason: format!("unknown text encoding {label:?} (give e.g. utf-8, gbk or gb18030)"),
        })?,
        (None, None) => encoding_rs::UTF_8,
    };
    let projection = match std::fs::read_to_string(sidecar(path, "prj")) {
        Err(_) => None,
        Ok(wkt) => {
            let p = Projection::from_wkt(&wkt).map_err(|e| Error::File {
                file: file.to_string(),
                reason: format!(
                    "its .prj cannot be used ({e}); give the coordinate system with --coords \
                     EPSG:n"
                ),
            })?;
            (!p.is_wgs84()).then_some(p)
        }
    };
    Ok(Shapefile {
        path: path.clone(),
        file: file.to_string(),
        encoding,
        projection,
    })
}

impl Shapefile {
    /// Hand every record, with the properties `wanted`, to `emit` in chunks.
    ///
    /// # Errors
    /// The `.shp` or `.dbf` is corrupt, or a text field is not valid in the encoding.
    pub(crate) fn rows(
        &self,
        wanted: &[&str],
        emit: &mut dyn FnMut(Vec<Row>) -> bool,
    ) -> Result<()> {
        let bad = |what: String| Error::File {
            file: self.file.clone(),
            reason: what,
        };
        let shapes = shapefile::ShapeReader::from_path(&self.path)
            .map_err(|e| bad(format!("not a readable Shapefile: {e}")))?;
        let dbf = File::open(sidecar(&self.path, "dbf")).map_err(|e| Error::Read {
            file: self.file.clone(),
            source: e,
        })?;
        // UTF-8 is decoded strictly by dbase; other encodings are decoded by `encoding_rs`
        // with U+FFFD for bytes that are not valid, which is refused below.
        let builder = dbase::ReaderBuilder::new();
        let builder = if self.encoding == encoding_rs::UTF_8 {
            builder.with_encoding(dbase::Unicode)
        } else {
            builder.with_encoding(dbase::encoding::EncodingRs::from(self.encoding))
        };
        let records = builder
            .build(BufReader::new(dbf))
            .map_err(|e| bad(format!("its .dbf is not a readable dBase file: {e}")))?;
        // Each wanted property's field name, as the .dbf spells it.
        let names: Vec<Option<String>> = wanted
            .iter()
            .map(|w| {
                let fields = records.fields();
                fields
                    .iter()
                    .find(|f| f.name() == *w)
                    .or_else(|| fields.iter().find(|f| f.name().eq_ignore_ascii_case(w)))
                    .map(|f| f.name().to_string())
            })
            .collect();
        let mut reader = shapefile::Reader::new(shapes, records);
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        for (k, item) in reader.iter_shapes_and_records().enumerate() {
            let not_text = |field: &str| {
                bad(format!(
                    "record {k} of its .dbf: {field} is not valid {} text; give the file's \
                     encoding with --encoding (e.g. gbk) or a .cpg file",
                    self.encoding.name()
                ))
            };
            let (shape, record) = item.map_err(|e| match e {
                shapefile::Error::DbaseError(d)
                    if matches!(d.kind(), dbase::ErrorKind::StringDecodeError(_)) =>
                {
                    not_text("a text field")
                }
                other => bad(format!("record {k}: not a readable Shapefile: {other}")),
            })?;
            for (name, value) in record.clone() {
                if let FieldValue::Character(Some(t)) | FieldValue::Memo(t) = value {
                    if t.contains('\u{FFFD}') {
                        return Err(not_text(&format!("field {name:?}")));
                    }
                }
            }
            let geometry = match shape {
                shapefile::Shape::NullShape => {
                    RawGeometry::Bad("the feature has no geometry (a null shape)".into())
                }
                shape => match Geometry::<f64>::try_from(shape) {
                    Ok(g) => RawGeometry::Geo(g),
                    Err(e) => RawGeometry::Bad(format!("unusable shape: {e}")),
                },
            };
            let props = names
                .iter()
                .map(|n| {
                    n.as_deref()
                        .and_then(|n| record.get(n))
                        .and_then(field_json)
                })
                .collect();
            chunk.push(Row { props, geometry });
            if chunk.len() == CHUNK_ROWS
                && !emit(std::mem::replace(
                    &mut chunk,
                    Vec::with_capacity(CHUNK_ROWS),
                ))
            {
                return Ok(());
            }
        }
        if !chunk.is_empty() {
            emit(chunk);
        }
        Ok(())
    }
}

/// The JSON text of a dBase field value; `None` when empty.
fn field_json(v: &FieldValue) -> Option<String> {
    let number = |x: f64| {
        if x.fract() == 0.0 && x.abs() < 9e15 {
            format!("{}", x as i64)
        } else {
            json_number(x)
        }
    };
    Some(match v {
        FieldValue::Character(Some(s)) | FieldValue::Memo(s) => {
            let t = s.trim_end();
            if t.is_empty() {
                return None;
            }
            json_string(t)
        }
        FieldValue::Numeric(Some(x)) | FieldValue::Double(x) | FieldValue::Currency(x) => {
            number(*x)
        }
        FieldValue::Float(Some(x)) => number(f64::from(*x)),
        FieldValue::Integer(n) => n.to_string(),
        FieldValue::Logical(Some(b)) => b.to_string(),
        FieldValue::Date(Some(d)) => json_string(&d.to_string()),
        FieldValue::DateTime(d) => json_string(&format!("{d:?}")),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_page_labels() {
        assert_eq!(encoding_for("936"), Some(encoding_rs::GBK));
        assert_eq!(encoding_for("CP936"), Some(encoding_rs::GBK));
        assert_eq!(encoding_for("GBK\n"), Some(encoding_rs::GBK));
        assert_eq!(encoding_for("UTF-8"), Some(encoding_rs::UTF_8));
        assert_eq!(encoding_for("65001"), Some(encoding_rs::UTF_8));
        assert_eq!(encoding_for("GB18030"), Some(encoding_rs::GB18030));
        assert_eq!(encoding_for("klingon"), None);
    }
}
