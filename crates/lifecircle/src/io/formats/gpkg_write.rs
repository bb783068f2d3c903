//! Writing the outputs of a run as the layers of one GeoPackage (OGC 12-128r18, version 1.2),
//! through SQLite (`rusqlite`, SQLite compiled in).
//!
//! Each layer holds exactly what the GeoJSON output of the same name holds: the residence
//! layer is written straight from the analysis values through the GeoJSON writer's own list of
//! fields ([`residences_write`]); the other layers are made from the features the one GeoJSON
//! writer formats (so the two can never disagree), parsed back in parallel. Field types come from the values: `BOOLEAN` when every value is true or
//! false, `INTEGER` when every value is an integer, `REAL` for other numbers, `TEXT` for
//! strings; a field null in every feature is `REAL` when its name says it holds a distance,
//! share or amount (`<category>_m`, `_coverage`, `_access`, ...), else `TEXT`; lists (such as `lacking`) are JSON text, marked `application/json` in
//! `gpkg_data_columns` as GDAL does, since a GeoPackage has no list type. Every layer has the
//! standard R-tree spatial index (packed by [`bulk_load_rtree`]) and its coordinate system in
//! `gpkg_spatial_ref_sys`.

use std::{borrow::Cow, path::Path};

use geo::Geometry;
use geozero::{CoordDimensions, ToWkb};
use rayon::prelude::*;
use rusqlite::{
    params_from_iter,
    types::{ToSqlOutput, Value, ValueRef},
    Connection,
};
use serde_json::value::RawValue;

use super::{
    layer::{FieldType, Kind, ParsedLayer, Typed},
    residences_write,
};
use crate::error::{Error, Result};
use crate::io::output::ResidenceTable;

/// The `application_id` of a GeoPackage ("GPKG").
const APPLICATION_ID: i32 = 0x4750_4B47;
/// The `user_version` of a GeoPackage 1.2.
const USER_VERSION: i32 = 10200;

/// A GeoPackage being written.
pub(crate) struct GpkgWriter {
    conn: Connection,
    path: std::path::PathBuf,
}

/// The coordinate system of the layers: EPSG code, name and WKT.
pub(crate) struct Srs<'a> {
    pub code: i32,
    pub name: &'a str,
    pub wkt: &'a str,
}

/// WGS84 longitude/latitude, the system of the outputs unless another is asked for.
pub(crate) const WGS84: Srs<'static> = Srs {
    code: 4326,
    name: "WGS 84 geodetic",
    wkt: r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#,
};

fn sql_error(path: &Path, e: rusqlite::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    }
}

/// A name quoted as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl GpkgWriter {
    /// Start a GeoPackage at `path` (an empty or new file) with the tables every GeoPackage
    /// has and the coordinate system `srs`.
    pub(crate) fn create(path: &Path, srs: &Srs<'_>) -> Result<Self> {
        let err = |e| sql_error(path, e);
        let conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID};
             PRAGMA user_version = {USER_VERSION};
             PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             CREATE TABLE gpkg_spatial_ref_sys (
               srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
               organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
               description TEXT);
             CREATE TABLE gpkg_contents (
               table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
               identifier TEXT UNIQUE, description TEXT DEFAULT '',
               last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
               min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
               CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
             CREATE TABLE gpkg_geometry_columns (
               table_name TEXT NOT NULL, column_name TEXT NOT NULL,
               geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
               z TINYINT NOT NULL, m TINYINT NOT NULL,
               CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
               CONSTRAINT uk_gc_table_name UNIQUE (table_name),
               CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
               CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
             CREATE TABLE gpkg_tile_matrix_set (
               table_name TEXT NOT NULL PRIMARY KEY, srs_id INTEGER NOT NULL,
               min_x DOUBLE NOT NULL, min_y DOUBLE NOT NULL, max_x DOUBLE NOT NULL,
               max_y DOUBLE NOT NULL,
               CONSTRAINT fk_gtms_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
               CONSTRAINT fk_gtms_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
             CREATE TABLE gpkg_tile_matrix (
               table_name TEXT NOT NULL, zoom_level INTEGER NOT NULL,
               matrix_width INTEGER NOT NULL, matrix_height INTEGER NOT NULL,
               tile_width INTEGER NOT NULL, tile_height INTEGER NOT NULL,
               pixel_x_size DOUBLE NOT NULL, pixel_y_size DOUBLE NOT NULL,
               CONSTRAINT pk_ttm PRIMARY KEY (table_name, zoom_level),
               CONSTRAINT fk_tmm_table_name FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name));
             CREATE TABLE gpkg_extensions (
               table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
               definition TEXT NOT NULL, scope TEXT NOT NULL,
               CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
             CREATE TABLE gpkg_data_columns (
               table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
               description TEXT, mime_type TEXT, constraint_name TEXT,
               CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
               CONSTRAINT gdc_tn UNIQUE (table_name, name));
             CREATE TABLE gpkg_data_column_constraints (
               constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT,
               min NUMERIC, min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN,
               description TEXT,
               CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
             INSERT INTO gpkg_extensions VALUES
               ('gpkg_data_columns', NULL, 'gpkg_schema',
                'http://www.geopackage.org/spec/#extension_schema', 'read-write'),
               ('gpkg_data_column_constraints', NULL, 'gpkg_schema',
                'http://www.geopackage.org/spec/#extension_schema', 'read-write');
             INSERT INTO gpkg_spatial_ref_sys VALUES
               ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined',
                'undefined cartesian coordinate reference system'),
               ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined',
                'undefined geographic coordinate reference system');"
        ))
        .map_err(err)?;
        conn.execute(
            "INSERT OR REPLACE INTO gpkg_spatial_ref_sys VALUES (?1, ?2, 'EPSG', ?2, ?3, NULL)",
            rusqlite::params![srs.name, srs.code, srs.wkt],
        )
        .map_err(err)?;
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Add the layer `name` made of the features of a GeoJSON FeatureCollection written by the
    /// one GeoJSON writer (one feature a line).
    pub(crate) fn add_layer(&mut self, name: &str, geojson: &[u8], srs: i32) -> Result<()> {
        let path = self.path.clone();
        let err = |e| sql_error(&path, e);
        let bad = |reason: String| Error::Write {
            path: path.clone(),
            source: std::io::Error::other(format!("layer {name}: {reason}")),
        };
        let layer = ParsedLayer::from_geojson(geojson).map_err(bad)?;
        let ParsedLayer {
            fields,
            features,
            geometry_type,
        } = &layer;
        // The geometries as GeoPackage blobs (points carry no envelope in their header: their
        // coordinates are their envelope).
        let blobs: Vec<Vec<u8>> = features
            .par_iter()
            .map(|f| {
                let header_envelope = match (&f.geometry, f.envelope) {
                    (Geometry::Point(_), _) | (_, None) => Vec::new(),
                    (_, Some(e)) => e.to_vec(),
                };
                f.geometry
                    .to_gpkg_wkb(CoordDimensions::xy(), Some(srs), header_envelope)
                    .map_err(|e| e.to_string())
            })
            .collect::<std::result::Result<_, String>>()
            .map_err(bad)?;
        let tx = self.conn.transaction().map_err(err)?;
        let table =
            create_layer(&tx, name, fields, *geometry_type, layer.extent(), srs).map_err(err)?;
        {
            let placeholders: Vec<String> = (0..fields.len() + 1)
                .map(|i| format!("?{}", i + 1))
                .collect();
            let names: Vec<String> = fields.iter().map(|(k, _)| quoted(k)).collect();
            let mut insert = tx
                .prepare(&format!(
                    "INSERT INTO {table} (geom{}{}) VALUES ({})",
                    if names.is_empty() { "" } else { ", " },
                    names.join(", "),
                    placeholders.join(", ")
                ))
                .map_err(err)?;
            let mut values: Vec<ToSqlOutput<'_>> = Vec::with_capacity(fields.len() + 1);
            for (f, blob) in features.iter().zip(&blobs) {
                values.clear();
                values.push(ToSqlOutput::Borrowed(ValueRef::Blob(blob)));
                for (j, (k, t)) in fields.iter().enumerate() {
                    let v = f.value(j, k);
                    values.push(v.map_or(ToSqlOutput::Borrowed(ValueRef::Null), |v| t.value(v)));
                }
                insert
                    .execute(params_from_iter(values.iter()))
                    .map_err(err)?;
            }
        }
        spatial_index(
            &tx,
            name,
            &table,
            features
                .iter()
                .enumerate()
                .filter_map(|(k, f)| f.envelope.map(|e| (k as i64 + 1, e))),
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Add the residence table of an analysis as the layer `name`, its rows straight from the
    /// analysis values ([`residences_write`](super::residences_write)): the same fields, types
    /// and values as [`add_layer`](Self::add_layer) of its GeoJSON.
    pub(crate) fn add_residences(
        &mut self,
        a: &crate::Analysis,
        run: &str,
        name: &str,
        srs: i32,
    ) -> Result<()> {
        let table = ResidenceTable::new(a);
        if table.is_empty() {
            let mut buf = Vec::new();
            crate::io::output::write_residences(a, run, &mut buf).map_err(|source| {
                Error::Write {
                    path: self.path.clone(),
                    source,
                }
            })?;
            return self.add_layer(name, &buf, srs);
        }
        let path = self.path.clone();
        let err = |e| sql_error(&path, e);
        let fields = residences_write::fields(&table);
        let tx = self.conn.transaction().map_err(err)?;
        let quoted_table = create_layer(&tx, name, &fields, Kind::Point, None, srs).map_err(err)?;
        let names: Vec<String> = fields.iter().map(|(k, _)| quoted(k)).collect();
        let positions =
            residences_write::insert_gpkg_rows(&tx, &table, &quoted_table, &fields, &names, srs)
                .map_err(err)?;
        let mut e = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for [x, y] in &positions {
            e = [e[0].min(*x), e[1].min(*y), e[2].max(*x), e[3].max(*y)];
        }
        tx.execute(
            "UPDATE gpkg_contents SET min_x = ?2, min_y = ?3, max_x = ?4, max_y = ?5 \
             WHERE table_name = ?1",
            rusqlite::params![name, e[0], e[1], e[2], e[3]],
        )
        .map_err(err)?;
        spatial_index(
            &tx,
            name,
            &quoted_table,
            positions
                .iter()
                .enumerate()
                .map(|(k, &[x, y])| (k as i64 + 1, [x, x, y, y])),
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Finish the file.
    pub(crate) fn finish(self) -> Result<()> {
        let path = self.path.clone();
        self.conn.close().map_err(|(_, e)| sql_error(&path, e))
    }
}

/// Create the feature table `name` with a `geom` column and `fields`, and describe it in
/// `gpkg_contents` (with its extent), `gpkg_geometry_columns` and, for JSON fields,
/// `gpkg_data_columns`. Returns the table's quoted name.
fn create_layer(
    tx: &rusqlite::Transaction<'_>,
    name: &str,
    fields: &[(String, FieldType)],
    geometry_type: Kind,
    extent: Option<[f64; 4]>,
    srs: i32,
) -> rusqlite::Result<String> {
    let geometry_type = geometry_type.gpkg_name();
    let table = quoted(name);
    let mut columns = String::from("fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom ");
    columns.push_str(geometry_type);
    for (k, t) in fields {
        columns.push_str(&format!(", {} {}", quoted(k), t.sql()));
    }
    let at = |i: usize| extent.map(|e| e[i]);
    tx.execute_batch(&format!("CREATE TABLE {table} ({columns});"))?;
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, \
         max_y, srs_id) VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![name, at(0), at(1), at(2), at(3), srs],
    )?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
        rusqlite::params![name, geometry_type, srs],
    )?;
    for (k, t) in fields {
        if *t == FieldType::Json {
            tx.execute(
                "INSERT INTO gpkg_data_columns (table_name, column_name, mime_type) \
                 VALUES (?1, ?2, 'application/json')",
                rusqlite::params![name, k],
            )?;
        }
    }
    Ok(table)
}

/// The spatial index of the layer `name` (GeoPackage extension "gpkg_rtree_index"), filled
/// from the features' envelopes (fid, [min x, max x, min y, max y]), with the triggers that
/// keep it up to date when a GIS edits the layer (they use functions GDAL provides).
fn spatial_index(
    tx: &rusqlite::Transaction<'_>,
    name: &str,
    table: &str,
    envelopes: impl Iterator<Item = (i64, [f64; 4])>,
) -> rusqlite::Result<()> {
    let rtree = format!("rtree_{name}_geom");
    let rt = quoted(&rtree);
    tx.execute_batch(&format!(
        "CREATE VIRTUAL TABLE {rt} USING rtree(id, minx, maxx, miny, maxy);"
    ))?;
    bulk_load_rtree(tx, &rtree, envelopes.collect())?;
    tx.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, 'geom', 'gpkg_rtree_index', \
         'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        [name],
    )?;
    tx.execute_batch(&rtree_triggers(table, &rtree))
}

/// Cells per node of an SQLite R-tree of two dimensions (`RTREE_MAXCELLS` in SQLite's
/// `rtree.c`): a node of 4 + 24 x 51 = 1228 bytes, the size SQLite itself gives a 2-D R-tree
/// with pages of 4096 bytes or more.
const RTREE_CELLS: usize = 51;

/// Fill the empty SQLite R-tree `rtree` with `entries` (id, [min x, max x, min y, max y]) by
/// writing its nodes straight into its shadow tables (`_node`, `_rowid`, `_parent`), as GDAL
/// does for large layers: inserting a million entries one by one through the virtual table
/// takes seconds, packing them takes a fraction of that. The entries are packed in Hilbert
/// order of their centres into full nodes, level by level; the root is node 1 and holds the
/// tree's depth. Boxes are rounded outwards to `f32`, as SQLite stores them. The layout is
/// SQLite's own (`rtree.c`: big-endian, a 2-byte depth in the root, a 2-byte cell count, cells
/// of an 8-byte id and four 4-byte floats), and `rtreecheck()` accepts it (tested).
fn bulk_load_rtree(
    tx: &rusqlite::Transaction<'_>,
    rtree: &str,
    mut entries: Vec<(i64, [f64; 4])>,
) -> rusqlite::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let down = |v: f64| {
        let f = v as f32;
        if f64::from(f) > v {
            f.next_down()
        } else {
            f
        }
    };
    let up = |v: f64| {
        let f = v as f32;
        if f64::from(f) < v {
            f.next_up()
        } else {
            f
        }
    };
    let mut extent = flatgeobuf::packed_r_tree::NodeItem::create(0);
    for (_, [x0, x1, y0, y1]) in &entries {
        extent.expand(&flatgeobuf::packed_r_tree::NodeItem::bounds(
            *x0, *y0, *x1, *y1,
        ));
    }
    entries.par_sort_by_cached_key(|(id, [x0, x1, y0, y1])| {
        (
            residences_write::hilbert_of((x0 + x1) / 2.0, (y0 + y1) / 2.0, &extent),
            *id,
        )
    });
    // Level 0: the entries with their boxes; each level above: a cell per node below.
    let mut level: Vec<(i64, [f32; 4])> = entries
        .iter()
        .map(|&(id, [x0, x1, y0, y1])| (id, [down(x0), up(x1), down(y0), up(y1)]))
        .collect();
    // Nodes, in the order they are made: (cells, depth of the level, is a leaf).
    let mut nodes: Vec<Vec<(i64, [f32; 4])>> = Vec::new();
    let mut depth = 0u16;
    let mut levels: Vec<std::ops::Range<usize>> = Vec::new();
    loop {
        let first = nodes.len();
        for cells in level.chunks(RTREE_CELLS) {
            nodes.push(cells.to_vec());
        }
        levels.push(first..nodes.len());
        if nodes.len() - first == 1 {
            break;
        }
        depth += 1;
        level = (first..nodes.len())
            .map(|n| {
                let mut b = [
                    f32::INFINITY,
                    f32::NEG_INFINITY,
                    f32::INFINITY,
                    f32::NEG_INFINITY,
                ];
                for (_, c) in &nodes[n] {
                    b = [
                        b[0].min(c[0]),
                        b[1].max(c[1]),
                        b[2].min(c[2]),
                        b[3].max(c[3]),
                    ];
                }
                // Placeholder id: the node's index, numbered below.
                (n as i64, b)
            })
            .collect();
    }
    // Node numbers: the root (the last node made) is 1, the others 2, 3, ... in order.
    let root = nodes.len() - 1;
    let number = |n: usize| if n == root { 1 } else { n as i64 + 2 };
    let name = |suffix: &str| quoted(&format!("{rtree}_{suffix}"));
    let mut put_node = tx.prepare(&format!(
        "INSERT OR REPLACE INTO {} (nodeno, data) VALUES (?1, ?2)",
        name("node")
    ))?;
    let mut put_rowid = tx.prepare(&format!(
        "INSERT INTO {} (rowid, nodeno) VALUES (?1, ?2)",
        name("rowid")
    ))?;
    let mut put_parent = tx.prepare(&format!(
        "INSERT INTO {} (nodeno, parentnode) VALUES (?1, ?2)",
        name("parent")
    ))?;
    let mut blob = vec![0u8; 4 + 24 * RTREE_CELLS];
    for (l, range) in levels.iter().enumerate() {
        for n in range.clone() {
            blob.fill(0);
            if n == root {
                blob[0..2].copy_from_slice(&depth.to_be_bytes());
            }
            let cells = &nodes[n];
            blob[2..4].copy_from_slice(&(cells.len() as u16).to_be_bytes());
            for (i, (id, b)) in cells.iter().enumerate() {
                let at = 4 + 24 * i;
                let id = if l == 0 { *id } else { number(*id as usize) };
                blob[at..at + 8].copy_from_slice(&id.to_be_bytes());
                for (k, v) in b.iter().enumerate() {
                    blob[at + 8 + 4 * k..at + 12 + 4 * k].copy_from_slice(&v.to_be_bytes());
                }
                if l == 0 {
                    put_rowid.execute(rusqlite::params![id, number(n)])?;
                } else {
                    put_parent.execute(rusqlite::params![id, number(n)])?;
                }
            }
            put_node.execute(rusqlite::params![number(n), &blob[..]])?;
        }
    }
    Ok(())
}

/// The triggers of the R-tree spatial index, as the GeoPackage 1.2 standard gives them.
fn rtree_triggers(table: &str, rtree: &str) -> String {
    let t = table;
    let r = quoted(rtree);
    let n = |suffix: &str| quoted(&format!("{rtree}_{suffix}"));
    format!(
        "CREATE TRIGGER {insert} AFTER INSERT ON {t} WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
         CREATE TRIGGER {update1} AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN INSERT OR REPLACE INTO {r} VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
         CREATE TRIGGER {update2} AFTER UPDATE OF geom ON {t} WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;
         CREATE TRIGGER {update3} AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM {r} WHERE id = OLD.fid; INSERT OR REPLACE INTO {r} VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)); END;
         CREATE TRIGGER {update4} AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom)) BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END;
         CREATE TRIGGER {delete} AFTER DELETE ON {t} WHEN old.geom NOT NULL BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;",
        insert = n("insert"),
        update1 = n("update1"),
        update2 = n("update2"),
        update3 = n("update3"),
        update4 = n("update4"),
        delete = n("delete"),
    )
}

impl FieldType {
    fn sql(self) -> &'static str {
        match self {
            Self::Boolean => "BOOLEAN",
            Self::Integer => "INTEGER",
            Self::Real => "REAL",
            Self::Unknown | Self::Text | Self::Json => "TEXT",
        }
    }

    /// The value to store for a JSON value of a field of this type (text borrowed from the
    /// line when it has no escapes).
    fn value(self, v: &RawValue) -> ToSqlOutput<'_> {
        sql_value(self.typed(v.get()).unwrap_or(Typed::Null))
    }
}

/// A typed value as SQLite stores it (booleans as 0 and 1, lists as JSON text).
pub(crate) fn sql_value(v: Typed<'_>) -> ToSqlOutput<'_> {
    match v {
        Typed::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        Typed::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(b))),
        Typed::Int(n) => ToSqlOutput::Owned(Value::Integer(n)),
        Typed::Real(x) => ToSqlOutput::Owned(Value::Real(x)),
        Typed::Text(Cow::Borrowed(t)) | Typed::Json(t) => {
            ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes()))
        }
        Typed::Text(Cow::Owned(t)) => ToSqlOutput::Owned(Value::Text(t)),
    }
}

/// Write the communities, residences and facilities of an analysis as the layers of the
/// GeoPackage at `path` (an empty or new file), each exactly as the GeoJSON writer formats it.
pub(crate) fn write_gpkg(a: &crate::Analysis, run: &str, path: &Path) -> Result<()> {
    let srs = crate::io::output::output_srs(a);
    let srs = srs.as_srs();
    let mut gpkg = GpkgWriter::create(path, &srs)?;
    for (name, write) in crate::io::output::feature_layers_of(a) {
        if name == RESIDENCES {
            gpkg.add_residences(a, run, name, srs.code)?;
            continue;
        }
        let mut buf = Vec::new();
        write(a, run, &mut buf).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
        gpkg.add_layer(name, &buf, srs.code)?;
    }
    gpkg.finish()
}

/// The name of the residence layer, written straight from the analysis values.
pub(crate) const RESIDENCES: &str = "residences";
