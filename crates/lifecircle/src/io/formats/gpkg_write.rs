//! Writing the outputs of a run as the layers of one GeoPackage (OGC 12-128r18, version 1.2),
//! through SQLite (`rusqlite`, SQLite compiled in).
//!
//! Each layer holds exactly what the GeoJSON output of the same name holds: the layer is made
//! from the features the one GeoJSON writer formats (so the two can never disagree), parsed
//! back in parallel. Field types come from the values: `BOOLEAN` when every value is true or
//! false, `INTEGER` when every value is an integer, `REAL` for other numbers, `TEXT` for
//! strings; a field null in every feature is `REAL` when its name says it holds a distance,
//! share or amount (`<category>_m`, `_coverage`, `_access`, ...), else `TEXT`; lists (such as `lacking`) are JSON text, marked `application/json` in
//! `gpkg_data_columns` as GDAL does, since a GeoPackage has no list type. Every layer has the
//! standard R-tree spatial index and its coordinate system in `gpkg_spatial_ref_sys`.

use std::path::Path;

use geo::Geometry;
use geozero::{CoordDimensions, ToWkb};
use rayon::prelude::*;
use rusqlite::{
    params_from_iter,
    types::{ToSqlOutput, Value, ValueRef},
    Connection,
};
use serde_json::value::RawValue;

use super::layer::{FieldType, ParsedLayer};
use crate::error::{Error, Result};

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
        let geometry_type = geometry_type.gpkg_name();
        let table = quoted(name);
        let mut columns = String::from("fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom ");
        columns.push_str(geometry_type);
        for (k, t) in fields {
            columns.push_str(&format!(", {} {}", quoted(k), t.sql()));
        }
        let extent = layer.extent();
        let at = |i: usize| extent.map(|e| e[i]);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute_batch(&format!("CREATE TABLE {table} ({columns});"))
            .map_err(err)?;
        tx.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, \
             max_y, srs_id) VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![name, at(0), at(1), at(2), at(3), srs],
        )
        .map_err(err)?;
        tx.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
            rusqlite::params![name, geometry_type, srs],
        )
        .map_err(err)?;
        for (k, t) in fields {
            if *t == FieldType::Json {
                tx.execute(
                    "INSERT INTO gpkg_data_columns (table_name, column_name, mime_type) \
                     VALUES (?1, ?2, 'application/json')",
                    rusqlite::params![name, k],
                )
                .map_err(err)?;
            }
        }
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
        // The spatial index (GeoPackage extension "gpkg_rtree_index"), filled from the
        // features' envelopes, with the triggers that keep it up to date when a GIS edits the
        // layer (they use functions GDAL provides).
        let rtree = format!("rtree_{name}_geom");
        let rt = quoted(&rtree);
        tx.execute_batch(&format!(
            "CREATE VIRTUAL TABLE {rt} USING rtree(id, minx, maxx, miny, maxy);"
        ))
        .map_err(err)?;
        {
            let mut insert = tx
                .prepare(&format!("INSERT INTO {rt} VALUES (?1, ?2, ?3, ?4, ?5)"))
                .map_err(err)?;
            for (k, f) in features.iter().enumerate() {
                if let Some([x0, x1, y0, y1]) = f.envelope {
                    insert
                        .execute(rusqlite::params![k as i64 + 1, x0, x1, y0, y1])
                        .map_err(err)?;
                }
            }
        }
        tx.execute(
            "INSERT INTO gpkg_extensions VALUES (?1, 'geom', 'gpkg_rtree_index', \
             'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            [name],
        )
        .map_err(err)?;
        tx.execute_batch(&rtree_triggers(&table, &rtree))
            .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Finish the file.
    pub(crate) fn finish(self) -> Result<()> {
        let path = self.path.clone();
        self.conn.close().map_err(|(_, e)| sql_error(&path, e))
    }
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
        let text = v.get();
        let owned = |v: Value| ToSqlOutput::Owned(v);
        match (self, text) {
            (_, "null") => owned(Value::Null),
            (Self::Boolean, t) => owned(Value::Integer(i64::from(t == "true"))),
            (Self::Integer, t) => owned(t.parse().map_or(Value::Null, Value::Integer)),
            (Self::Real, t) => owned(t.parse().map_or(Value::Null, Value::Real)),
            (_, t) if t.starts_with('"') => match t
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .filter(|t| !t.contains('\\'))
            {
                Some(plain) => ToSqlOutput::Borrowed(ValueRef::Text(plain.as_bytes())),
                None => owned(serde_json::from_str::<String>(t).map_or(Value::Null, Value::Text)),
            },
            (_, t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
        }
    }
}

/// Write the communities, residences and facilities of an analysis as the layers of the
/// GeoPackage at `path` (an empty or new file), each exactly as the GeoJSON writer formats it.
pub(crate) fn write_gpkg(a: &crate::Analysis, run: &str, path: &Path) -> Result<()> {
    let mut gpkg = GpkgWriter::create(path, &WGS84)?;
    for (name, write) in crate::io::output::feature_layers_of(a) {
        let mut buf = Vec::new();
        write(a, run, &mut buf).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
        gpkg.add_layer(name, &buf, WGS84.code)?;
    }
    gpkg.finish()
}
