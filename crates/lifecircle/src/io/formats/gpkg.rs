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

use super::{
    push_integer, push_number, push_string, Block, InputFile, RawGeometry, RowBuf, CHUNK_ROWS,
};
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

/// What reads the properties `wanted` from a layer's rows and decodes them (in parallel, on
/// rayon's threads).
pub(crate) struct Decoder {
    /// The columns selected: the geometry, then each wanted property the layer has.
    select: Vec<String>,
    /// Each wanted property: its column's place in the SELECT, whether boolean, whether JSON.
    slots: Vec<Option<(usize, bool, bool)>>,
}

impl Layer {
    /// The decoder of this layer's rows into rows with the properties `wanted`.
    pub(crate) fn decoder(&self, wanted: &[&str]) -> Decoder {
        let mut select = vec![quoted(&self.geometry_column)];
        let slots = wanted
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
        Decoder { select, slots }
    }

    /// Read every row (in primary-key order) with the columns `decoder` asks for, handing
    /// them to `emit` in [`Block`]s.
    ///
    /// Each row is packed as SQLite gives it into the block's one buffer: the geometry value,
    /// then per property asked for a flag byte ([`ABSENT`], or bit 0 boolean and bit 1 JSON)
    /// and its value. A value is a tag byte (0 NULL, 1 integer, 2 real, 3 text, 4 blob) and its
    /// 8 bytes, or a 4-byte length and the bytes. Formatting the values as JSON and decoding
    /// the geometries runs in parallel ([`Decoder::row`]), not on the one thread SQLite reads
    /// on.
    pub(crate) fn rows(
        &self,
        decoder: &Decoder,
        emit: &mut dyn FnMut(Block) -> bool,
    ) -> Result<()> {
        /// A block is handed over when it holds this many bytes (or [`CHUNK_ROWS`] rows).
        const BLOCK_BYTES: usize = 4 << 20;
        let conn = open(&self.path, &self.file)?;
        let bad = |e| not_gpkg(&self.file, e);
        // SQLite reads the file's pages through a memory map rather than copying each into
        // its page cache (the file is only read).
        conn.pragma_update(None, "mmap_size", 1i64 << 40)
            .map_err(bad)?;
        let order = self
            .primary_key
            .as_deref()
            .map(|k| format!(" ORDER BY {}", quoted(k)))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {} FROM {}{order}",
            decoder.select.join(", "),
            quoted(&self.table)
        );
        let mut stmt = conn.prepare(&sql).map_err(bad)?;
        let mut rows = stmt.query([]).map_err(bad)?;
        let mut block = Block::with_capacity(BLOCK_BYTES + (BLOCK_BYTES >> 2));
        while let Some(r) = rows.next().map_err(bad)? {
            let b = &mut block.bytes;
            push(b, r.get_ref(0).map_err(bad)?);
            for slot in &decoder.slots {
                match slot {
                    None => b.push(ABSENT),
                    Some((i, boolean, json)) => {
                        b.push(u8::from(*boolean) | (u8::from(*json) << 1));
                        push(b, r.get_ref(*i).map_err(bad)?);
                    }
                }
            }
            block.ends.push(block.bytes.len());
            if (block.len() == CHUNK_ROWS || block.bytes.len() >= BLOCK_BYTES)
                && !emit(std::mem::replace(
                    &mut block,
                    Block::with_capacity(BLOCK_BYTES + (BLOCK_BYTES >> 2)),
                ))
            {
                return Ok(());
            }
        }
        if block.len() > 0 {
            emit(block);
        }
        Ok(())
    }
}

/// The flag of a property the layer does not have.
const ABSENT: u8 = 0xFF;

/// Append a value as [`Layer::rows`] packs it.
fn push(b: &mut Vec<u8>, v: ValueRef<'_>) {
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

/// The value packed at `at` in `b`, and where the next begins.
fn value(b: &[u8], at: usize) -> (ValueRef<'_>, usize) {
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

impl Decoder {
    /// Decode a row packed by [`Layer::rows`] into `row` (emptied for the wanted properties):
    /// the geometry and the JSON text of each property.
    pub(crate) fn row(&self, b: &[u8], row: &mut RowBuf) {
        let (g, mut at) = value(b, 0);
        row.geometry = match g {
            ValueRef::Blob(blob) => match decode(blob) {
                Ok(g) => RawGeometry::Geo(g),
                Err(reason) => RawGeometry::Bad(reason),
            },
            ValueRef::Null => RawGeometry::Bad("the feature has no geometry (NULL)".into()),
            _ => RawGeometry::Bad("the geometry is not a GeoPackage geometry blob".into()),
        };
        let mut slot = 0;
        while let Some(&flag) = b.get(at) {
            at += 1;
            if flag != ABSENT {
                let (v, next) = value(b, at);
                at = next;
                push_json(row, slot, v, flag & 1 != 0, flag & 2 != 0);
            }
            slot += 1;
        }
    }
}

/// Set property `slot` of `row` to the JSON text of a field value; absent for NULL (and for
/// blobs, which no property holds).
fn push_json(row: &mut RowBuf, slot: usize, v: ValueRef<'_>, boolean: bool, json: bool) {
    match v {
        ValueRef::Null | ValueRef::Blob(_) => {}
        ValueRef::Integer(n) if boolean => row.set(slot, |out| {
            out.extend_from_slice(if n == 0 { b"false" } else { b"true" })
        }),
        ValueRef::Integer(n) => row.set(slot, |out| push_integer(out, n)),
        ValueRef::Real(x) => row.set(slot, |out| push_number(out, x)),
        ValueRef::Text(t) => {
            let t = String::from_utf8_lossy(t);
            row.set(slot, |out| {
                if json && serde_json::from_str::<serde::de::IgnoredAny>(&t).is_ok() {
                    out.extend_from_slice(t.as_bytes());
                } else {
                    push_string(out, &t);
                }
            });
        }
    }
}

/// The geometry of a GeoPackage geometry blob.
pub(super) fn decode(blob: &[u8]) -> std::result::Result<Geometry<f64>, String> {
    match blob {
        [b'G', b'P', _version, flags, ..] if flags & 0x10 != 0 => {
            Err("the geometry is empty".into())
        }
        [b'G', b'P', ..] => point(blob)
            .map(Ok)
            .unwrap_or_else(|| GpkgWkb(blob).to_geo())
            .map_err(|e| format!("cannot decode the GeoPackage geometry: {e}")),
        _ => Err("not a GeoPackage geometry blob (it does not start with \"GP\")".into()),
    }
}

/// The point a GeoPackage geometry blob holds, read directly when it is a plain 2D point
/// (most rows of a residence layer: decoding them by hand instead of through `geozero`'s
/// geometry builder is a third of the reading time); `None` for anything else, which `geozero`
/// decodes.
fn point(blob: &[u8]) -> Option<Geometry<f64>> {
    let flags = *blob.get(3)?;
    // A standard (not extended) binary; its envelope: none, or 4, 6 or 8 numbers.
    if flags & 0x20 != 0 {
        return None;
    }
    let envelope = match (flags >> 1) & 0x7 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        _ => return None,
    };
    let wkb = blob.get(8 + envelope..)?;
    if wkb.len() != 21 {
        return None;
    }
    let little = match wkb[0] {
        0 => false,
        1 => true,
        _ => return None,
    };
    let word = |at: usize| -> Option<[u8; 8]> { wkb.get(at..at + 8)?.try_into().ok() };
    let ty: [u8; 4] = wkb.get(1..5)?.try_into().ok()?;
    let (ty, x, y) = if little {
        (
            u32::from_le_bytes(ty),
            f64::from_le_bytes(word(5)?),
            f64::from_le_bytes(word(13)?),
        )
    } else {
        (
            u32::from_be_bytes(ty),
            f64::from_be_bytes(word(5)?),
            f64::from_be_bytes(word(13)?),
        )
    };
    (ty == 1).then(|| Geometry::Point(geo::Point::new(x, y)))
}

#[cfg(test)]
mod tests {
    use crate::io::geojson::{read_features, Source};

    /// Each residence of a GeoPackage layer: its index, `id` and position.
    fn residences(path: &std::path::Path) -> Vec<(usize, String, geo::Geometry<f64>)> {
        let source = Source::path(format!("{}:residences", path.display()));
        let read = read_features(&source, &["id"], |f| {
            let id = f.property(0).map(|raw| raw.get().to_string());
            Ok((f.index(), id.unwrap_or_default(), f.geometry()?))
        })
        .unwrap();
        assert!(read.rejected.is_empty());
        read.kept
    }

    /// A layer is read in key order with the features numbered in that order, whatever order
    /// its rows were written in: the sample's residences with their keys spread apart, and
    /// with their order reversed, against the sample read as it is.
    #[test]
    fn layers_are_read_in_key_order() {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../cli/tests/fixtures/formats/sample.gpkg"
        );
        let original = residences(std::path::Path::new(fixture));
        assert_eq!(original.len(), 161);
        let dir = tempfile::tempdir().unwrap();
        for (name, renumber, reversed) in [
            ("spread.gpkg", "fid * 50000", false),
            ("reversed.gpkg", "(200 - fid) * 50000", true),
        ] {
            let path = dir.path().join(name);
            std::fs::copy(fixture, &path).unwrap();
            let conn = rusqlite::Connection::open(&path).unwrap();
            // The R-tree triggers call GeoPackage functions plain SQLite does not have.
            let triggers: Vec<String> = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            for t in triggers {
                conn.execute(&format!("DROP TRIGGER \"{t}\""), []).unwrap();
            }
            conn.execute(&format!("UPDATE residences SET fid = {renumber}"), [])
                .unwrap();
            drop(conn);
            let mut expected: Vec<_> = original.iter().map(|(_, id, g)| (id, g)).collect();
            if reversed {
                expected.reverse();
            }
            let read = residences(&path);
            let got: Vec<_> = read.iter().map(|(_, id, g)| (id, g)).collect();
            assert_eq!(got, expected, "{name}");
            assert!(read.iter().enumerate().all(|(k, (index, ..))| k == *index));
        }
    }
}
