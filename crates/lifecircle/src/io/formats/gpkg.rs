//! Reading one layer of a GeoPackage (OGC 12-128r18) through SQLite (`rusqlite`, with SQLite
//! compiled in): the layer from `gpkg_contents`, its geometry column and coordinate system from
//! `gpkg_geometry_columns` and `gpkg_spatial_ref_sys`, geometries from the GeoPackage binary
//! format (a header, then standard WKB, decoded by `geozero`).
//!
//! A GeoPackage field cannot tell an absent value from a null one: NULL is read as absent (a
//! residence with a NULL population counts 1 person, as one without the property does in
//! GeoJSON). Booleans are stored as integers and read as `true` / `false`; a text field that
//! GDAL marks as JSON (`gpkg_data_columns`, `application/json`, e.g. a list of categories) is
//! read as the JSON value it holds.

use std::path::Path;

use geo::Geometry;
use geozero::{wkb::GpkgWkb, ToGeo};
use rusqlite::{types::ValueRef, Connection, OpenFlags};

use super::{json_number, json_string, InputFile, RawGeometry, Row, CHUNK_ROWS};
use crate::{
    error::{Error, Result},
    projection::Projection,
};

/// A layer of a GeoPackage, found and described; the rows are read by [`Layer::rows`].
pub(crate) struct Layer {
    path: std::path::PathBuf,
    file: String,
    table: String,
    geometry_column: String,
    /// Every column: name, declared type (upper case), and whether it holds JSON text.
    columns: Vec<(String, String, bool)>,
    primary_key: Option<String>,
    /// The layer's own coordinate system, when it is not WGS84 longitude/latitude.
    pub projection: Option<Projection>,
}

/// A name quoted as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(super) fn open(path: &Path, file: &str) -> Result<Connection> {
    // Opening read-only never creates or changes the file; first make sure it is there, so
    // that a missing file is reported as such.
    std::fs::metadata(path).map_err(|e| Error::Read {
        file: file.to_string(),
        source: e,
    })?;
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| not_gpkg(file, e))
}

fn not_gpkg(file: &str, e: rusqlite::Error) -> Error {
    Error::File {
        file: file.to_string(),
        reason: format!("not a readable GeoPackage: {e}"),
    }
}

/// Find the layer `input` names (or the only one) and describe it.
///
/// # Errors
/// The file cannot be opened or is not a GeoPackage; the layer asked for is not there (the
/// message lists those that are); no layer is named and there are several (listed too); the
/// layer's coordinate system cannot be used.
pub(crate) fn open_layer(input: &InputFile, file: &str) -> Result<Layer> {
    let conn = open(&input.path, file)?;
    let bad = |e| not_gpkg(file, e);
    let layers: Vec<String> = conn
        .prepare("SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY rowid")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(bad)?;
    let list = || {
        layers
            .iter()
            .map(|l| format!("{}:{l}", input.path.display()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let table = match (&input.layer, layers.as_slice()) {
        (Some(asked), _) => layers
            .iter()
            .find(|l| *l == asked)
            .or_else(|| layers.iter().find(|l| l.eq_ignore_ascii_case(asked)))
            .cloned()
            .ok_or_else(|| Error::File {
                file: file.to_string(),
                reason: if layers.is_empty() {
                    format!("no layer {asked:?}: the GeoPackage has no feature layer")
                } else {
                    format!("no layer {asked:?}; its layers: {}", list())
                },
            })?,
        (None, [only]) => only.clone(),
        (None, []) => {
            return Err(Error::File {
                file: file.to_string(),
                reason: "the GeoPackage has no feature layer".into(),
            })
        }
        (None, _) => {
            return Err(Error::File {
                file: file.to_string(),
                reason: format!(
                    "the GeoPackage has {} layers; name one as FILE:LAYER: {}",
                    layers.len(),
                    list()
                ),
            })
        }
    };
    let (geometry_column, srs): (String, Option<(String, i64, String, i64)>) = conn
        .query_row(
            "SELECT g.column_name, s.organization, s.organization_coordsys_id, s.definition, \
             g.srs_id FROM gpkg_geometry_columns g LEFT JOIN gpkg_spatial_ref_sys s \
             ON s.srs_id = g.srs_id WHERE g.table_name = ?1",
            [&table],
            |r| {
                let srs = match r.get::<_, Option<String>>(1)? {
                    Some(org) => Some((
                        org,
                        r.get::<_, Option<i64>>(2)?.unwrap_or(-1),
                        r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                        r.get::<_, i64>(4)?,
                    )),
                    None => None,
                };
                Ok((r.get(0)?, srs))
            },
        )
        .map_err(bad)?;
    let projection = match srs {
        // EPSG:4326 and CGCS2000 (4490) are read as they are; srs_id 0 and -1 are the
        // "undefined" systems of the standard.
        None => None,
        Some((_, _, _, srs_id)) if srs_id <= 0 => None,
        Some((org, code, _, _))
            if org.eq_ignore_ascii_case("epsg") && matches!(code, 4326 | 4490) =>
        {
            None
        }
        Some((org, code, wkt, _)) => {
            let p = if org.eq_ignore_ascii_case("epsg") {
                Projection::epsg(code as u32).or_else(|e| Projection::from_wkt(&wkt).map_err(|_| e))
            } else {
                Projection::from_wkt(&wkt)
            };
            Some(p.map_err(|e| Error::File {
                file: file.to_string(),
                reason: format!("the layer's coordinate system {e}"),
            })?)
        }
    };
    let json_columns: Vec<String> = conn
        .prepare(
            "SELECT column_name FROM gpkg_data_columns WHERE table_name = ?1 \
             AND mime_type = 'application/json'",
        )
        .and_then(|mut s| {
            s.query_map([&table], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        // The table is optional.
        .unwrap_or_default();
    let mut primary_key = None;
    let columns: Vec<(String, String, bool)> = conn
        .prepare(&format!("PRAGMA table_info({})", quoted(&table)))
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    r.get::<_, i64>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(bad)?
        .into_iter()
        .map(|(name, ty, pk)| {
            if pk == 1 {
                primary_key = Some(name.clone());
            }
            let json = json_columns.contains(&name);
            (name, ty.to_ascii_uppercase(), json)
        })
        .collect();
    Ok(Layer {
        path: input.path.clone(),
        file: file.to_string(),
        table,
        geometry_column,
        columns,
        primary_key,
        projection,
    })
}

impl Layer {
    /// Read every row (in primary-key order) with the properties `wanted`, handing them to
    /// `emit` in chunks.
    ///
    /// The rows are handed over as they come from SQLite, each packed into one buffer
    /// ([`RawRow`]): formatting the values as JSON and copying them into their own strings
    /// runs in parallel ([`RawRow::row`]), not on the one thread SQLite reads on.
    pub(crate) fn rows(
        &self,
        wanted: &[&str],
        emit: &mut dyn FnMut(Vec<RawRow>) -> bool,
    ) -> Result<()> {
        let conn = open(&self.path, &self.file)?;
        let bad = |e| not_gpkg(&self.file, e);
        // Each wanted property: its column's place in the SELECT, its type, whether JSON.
        let mut select = vec![quoted(&self.geometry_column)];
        let slots: Vec<Option<(usize, bool, bool)>> = wanted
            .iter()
            .map(|w| {
                let (name, ty, json) =
                    self.columns
                        .iter()
                        .find(|(name, ..)| name == w)
                        .or_else(|| {
                            self.columns
                                .iter()
                                .find(|(name, ..)| name.eq_ignore_ascii_case(w))
                        })?;
                select.push(quoted(name));
                Some((select.len() - 1, ty == "BOOLEAN", *json))
            })
            .collect();
        let order = self
            .primary_key
            .as_deref()
            .map(|k| format!(" ORDER BY {}", quoted(k)))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {} FROM {}{order}",
            select.join(", "),
            quoted(&self.table)
        );
        let mut stmt = conn.prepare(&sql).map_err(bad)?;
        let mut rows = stmt.query([]).map_err(bad)?;
        let mut chunk = Vec::with_capacity(CHUNK_ROWS);
        while let Some(r) = rows.next().map_err(bad)? {
            let mut raw = RawRow(Vec::with_capacity(128));
            raw.push(r.get_ref(0).map_err(bad)?);
            for slot in &slots {
                match slot {
                    None => raw.0.push(ABSENT),
                    Some((i, boolean, json)) => {
                        raw.0.push(u8::from(*boolean) | (u8::from(*json) << 1));
                        raw.push(r.get_ref(*i).map_err(bad)?);
                    }
                }
            }
            chunk.push(raw);
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

/// A row as SQLite gave it, packed into one buffer: the geometry value, then per property
/// asked for a flag byte ([`ABSENT`], or bit 0 boolean and bit 1 JSON) and its value. A value
/// is a tag byte (0 NULL, 1 integer, 2 real, 3 text, 4 blob) and its 8 bytes, or a 4-byte length
/// and the bytes.
pub(crate) struct RawRow(Vec<u8>);

/// The flag of a property the layer does not have.
const ABSENT: u8 = 0xFF;

impl RawRow {
    fn push(&mut self, v: ValueRef<'_>) {
        let b = &mut self.0;
        match v {
            ValueRef::Null => b.push(0),
            ValueRef::Integer(n) => {
                b.push(1);
                b.extend_from_slice(&n.to_le_bytes());
            }
            ValueRef::Real(x) => {
                b.push(2);
                b.extend_from_slice(&x.to_le_bytes());
            }
            ValueRef::Text(t) | ValueRef::Blob(t) => {
                b.push(if matches!(v, ValueRef::Text(_)) { 3 } else { 4 });
                b.extend_from_slice(&(t.len() as u32).to_le_bytes());
                b.extend_from_slice(t);
            }
        }
    }

    /// The value at `at`, and where the next begins.
    fn value(&self, at: usize) -> (ValueRef<'_>, usize) {
        let b = &self.0;
        let word = |i: usize| -> [u8; 8] {
            b.get(i..i + 8)
                .and_then(|s| s.try_into().ok())
                .unwrap_or_default()
        };
        match b.get(at) {
            Some(1) => (ValueRef::Integer(i64::from_le_bytes(word(at + 1))), at + 9),
            Some(2) => (ValueRef::Real(f64::from_le_bytes(word(at + 1))), at + 9),
            Some(&tag @ (3 | 4)) => {
                let len = b
                    .get(at + 1..at + 5)
                    .and_then(|s| s.try_into().ok())
                    .map_or(0, u32::from_le_bytes) as usize;
                let bytes = b.get(at + 5..at + 5 + len).unwrap_or_default();
                let v = if tag == 3 {
                    ValueRef::Text(bytes)
                } else {
                    ValueRef::Blob(bytes)
                };
                (v, at + 5 + len)
            }
            _ => (ValueRef::Null, at + 1),
        }
    }

    /// The row: the geometry blob and the JSON text of each property.
    pub(crate) fn row(self) -> Row {
        let (g, mut at) = self.value(0);
        let geometry = match g {
            ValueRef::Blob(b) => RawGeometry::Gpkg(b.to_vec()),
            ValueRef::Null => RawGeometry::Bad("the feature has no geometry (NULL)".into()),
            _ => RawGeometry::Bad("the geometry is not a GeoPackage geometry blob".into()),
        };
        let mut props = Vec::new();
        while let Some(&flag) = self.0.get(at) {
            at += 1;
            if flag == ABSENT {
                props.push(None);
                continue;
            }
            let (v, next) = self.value(at);
            at = next;
            props.push(value_json(v, flag & 1 != 0, flag & 2 != 0));
        }
        Row { props, geometry }
    }
}

/// The JSON text of a field value; `None` for NULL (and for blobs, which no property holds).
fn value_json(v: ValueRef<'_>, boolean: bool, json: bool) -> Option<String> {
    Some(match v {
        ValueRef::Null | ValueRef::Blob(_) => return None,
        ValueRef::Integer(n) if boolean => (if n == 0 { "false" } else { "true" }).into(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(x) => json_number(x),
        ValueRef::Text(t) => {
            let t = String::from_utf8_lossy(t);
            if json && serde_json::from_str::<serde::de::IgnoredAny>(&t).is_ok() {
                t.into_owned()
            } else {
                json_string(&t)
            }
        }
    })
}

/// The geometry of a GeoPackage geometry blob.
pub(super) fn decode(blob: &[u8]) -> std::result::Result<Geometry<f64>, String> {
    match blob {
        [b'G', b'P', _version, flags, ..] if flags & 0x10 != 0 => {
            Err("the geometry is empty".into())
        }
        [b'G', b'P', ..] => GpkgWkb(blob)
            .to_geo()
            .map_err(|e| format!("cannot decode the GeoPackage geometry: {e}")),
        _ => Err("not a GeoPackage geometry blob (it does not start with \"GP\")".into()),
    }
}
