//! The residence layer of `--format gpkg` and `--format fgb`, written straight from the analysis
//! values, equals the GeoJSON residences feature by feature: every position and every value,
//! read back with SQLite and the `flatgeobuf` crate (not lifecircle's readers). On the sample
//! along its streets (`off_network` booleans) and on a seeded synthetic city with planned
//! facilities, capacities (`_access` reals), numeric residence ids (integer column) and
//! facility ids of both kinds (a text column holding numbers). Each field's type is the one its
//! values call for, and the GeoPackage's spatial index passes SQLite's `rtreecheck` and finds
//! every point a scan finds.

use std::{collections::HashMap, fs, path::Path};

use ::flatgeobuf::{
    geozero::{ColumnValue, PropertyProcessor},
    FallibleStreamingIterator, FeatureProperties, FgbReader,
};
use lifecircle_synth::{self as synth, CitySpec};
use serde_json::{json, Map, Value};

use crate::{
    planned::{read_fc, split_facilities, write_fc},
    support::{analyze_cmd, data_arg, ok, synth_city, text},
};

/// The property names of the first feature of a GeoJSON file written by lifecircle (one
/// feature a line), in the order written.
fn keys_in_order(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(r#"{"type":"Feature""#))
        .unwrap();
    let props = line.split_once(r#""properties":"#).unwrap().1;
    let first: Value = serde_json::from_str(line.trim_end_matches(',')).unwrap();
    let mut keys: Vec<String> = first["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    keys.sort_by_key(|k| props.find(&format!("\"{k}\":")).unwrap());
    keys
}

/// A GeoJSON residence: its position and properties, numbers parsed exactly.
struct Residence {
    x: f64,
    y: f64,
    props: Map<String, Value>,
}

fn geojson_residences(path: &Path) -> Vec<Residence> {
    let v: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            Residence {
                x: c[0].as_f64().unwrap(),
                y: c[1].as_f64().unwrap(),
                props: f["properties"].as_object().unwrap().clone(),
            }
        })
        .collect()
}

/// The SQL type each field's values call for: BOOLEAN, INTEGER, REAL or TEXT (strings, lists,
/// or a mix); `None` when the field is null everywhere (typed by its name, checked elsewhere).
fn expected_types(rows: &[Residence]) -> HashMap<String, Option<&'static str>> {
    let mut types: HashMap<String, Option<&'static str>> = HashMap::new();
    for r in rows {
        for (k, v) in &r.props {
            let t = match v {
                Value::Null => None,
                Value::Bool(_) => Some("BOOLEAN"),
                Value::Number(n) if n.is_i64() => Some("INTEGER"),
                Value::Number(_) => Some("REAL"),
                _ => Some("TEXT"),
            };
            let slot = types.entry(k.clone()).or_insert(None);
            *slot = match (*slot, t) {
                (a, None) => a,
                (None, b) => b,
                (Some(a), Some(b)) if a == b => Some(a),
                (Some("INTEGER" | "REAL"), Some("INTEGER" | "REAL")) => Some("REAL"),
                _ => Some("TEXT"),
            };
        }
    }
    types
}

/// A GeoJSON value against the value SQLite holds for it in a field of `declared` type.
fn same_sql(declared: &str, json: &Value, sql: &rusqlite::types::Value) -> bool {
    use rusqlite::types::Value as S;
    match (json, sql) {
        (Value::Null, S::Null) => true,
        (Value::Bool(b), S::Integer(n)) => declared == "BOOLEAN" && i64::from(*b) == *n,
        (Value::Number(n), S::Integer(i)) => n.as_i64() == Some(*i),
        (Value::Number(n), S::Real(x)) => n.as_f64().map(f64::to_bits) == Some(x.to_bits()),
        (Value::Number(n), S::Text(t)) => declared == "TEXT" && n.to_string() == *t,
        (Value::String(s), S::Text(t)) => s == t,
        (Value::Array(_), S::Text(t)) => {
            serde_json::from_str::<Value>(t).ok().as_ref() == Some(json)
        }
        _ => false,
    }
}

fn check_geopackage(what: &str, gpkg: &Path, rows: &[Residence], keys: &[String]) {
    let db = rusqlite::Connection::open(gpkg).unwrap();
    let declared: Vec<(String, String)> = db
        .prepare("SELECT name, type FROM pragma_table_info('residences')")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let names: Vec<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[..2], ["fid", "geom"], "{what}");
    assert_eq!(names[2..], *keys, "{what}: the fields, in order");
    for (name, want) in expected_types(rows) {
        let got = &declared.iter().find(|(n, _)| *n == name).unwrap().1;
        if let Some(want) = want {
            assert_eq!(got, want, "{what}: type of {name}");
        }
    }
    let json_lists: Vec<String> = db
        .prepare("SELECT column_name FROM gpkg_data_columns WHERE table_name = 'residences' AND mime_type = 'application/json'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(
        json_lists.contains(&"missing".to_string()),
        "{what}: {json_lists:?}"
    );

    let mut stmt = db.prepare("SELECT * FROM residences ORDER BY fid").unwrap();
    let mut got = stmt.query([]).unwrap();
    let mut n = 0;
    while let Some(row) = got.next().unwrap() {
        let want = &rows[n];
        assert_eq!(row.get::<_, i64>(0).unwrap(), n as i64 + 1, "{what}: fid");
        let blob: Vec<u8> = row.get(1).unwrap();
        assert_eq!(blob.len(), 29, "{what} {n}: a point without envelope");
        assert_eq!(
            &blob[..8],
            &[b'G', b'P', 0, 1, 0xE6, 0x10, 0, 0],
            "{what} {n}"
        );
        assert_eq!(&blob[8..13], &[1, 1, 0, 0, 0], "{what} {n}: a WKB point");
        let x = f64::from_le_bytes(blob[13..21].try_into().unwrap());
        let y = f64::from_le_bytes(blob[21..29].try_into().unwrap());
        assert_eq!(
            (x.to_bits(), y.to_bits()),
            (want.x.to_bits(), want.y.to_bits()),
            "{what} {n}: position"
        );
        for (j, (name, t)) in declared.iter().enumerate().skip(2) {
            let v: rusqlite::types::Value = row.get(j).unwrap();
            assert!(
                same_sql(t, &want.props[name], &v),
                "{what} {n}: {name} ({t}) is {v:?} where the GeoJSON has {}",
                want.props[name]
            );
        }
        n += 1;
    }
    assert_eq!(n, rows.len(), "{what}: rows");

    // The spatial index, packed by lifecircle, is sound for SQLite and finds what a scan finds.
    let check: String = db
        .query_row("SELECT rtreecheck('rtree_residences_geom')", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(check, "ok", "{what}");
    let (xs, ys): (Vec<f64>, Vec<f64>) = rows.iter().map(|r| (r.x, r.y)).unzip();
    let mid = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 3], v[2 * v.len() / 3])
    };
    let ((x0, x1), (y0, y1)) = (mid(&xs), mid(&ys));
    let mut found: Vec<i64> = db
        .prepare("SELECT id FROM rtree_residences_geom WHERE maxx >= ?1 AND minx <= ?2 AND maxy >= ?3 AND miny <= ?4")
        .unwrap()
        .query_map([x0, x1, y0, y1], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    found.sort_unstable();
    let scanned: Vec<i64> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| (x0..=x1).contains(&r.x) && (y0..=y1).contains(&r.y))
        .map(|(k, _)| k as i64 + 1)
        .collect();
    assert!(!scanned.is_empty(), "{what}");
    // The index stores boxes rounded outwards to f32: it may add points within a float's
    // width of the box, never miss one.
    assert!(
        scanned.iter().all(|k| found.binary_search(k).is_ok()),
        "{what}: the index misses points"
    );
    for k in &found {
        let r = &rows[*k as usize - 1];
        let near = |v: f64, lo: f64, hi: f64| v >= lo - 1e-5 && v <= hi + 1e-5;
        assert!(
            near(r.x, x0, x1) && near(r.y, y0, y1),
            "{what}: {k} found far from the box"
        );
    }
}

/// The properties of a FlatGeobuf feature as JSON values.
struct Props(Map<String, Value>);

impl PropertyProcessor for Props {
    fn property(
        &mut self,
        _: usize,
        name: &str,
        value: &ColumnValue,
    ) -> ::flatgeobuf::geozero::error::Result<bool> {
        let v = match value {
            ColumnValue::Bool(b) => json!(b),
            ColumnValue::Long(n) => json!(n),
            ColumnValue::Double(x) => json!(x),
            ColumnValue::String(s) => json!(s),
            ColumnValue::Json(s) => serde_json::from_str(s).unwrap(),
            other => panic!("{name}: an unexpected column value {other:?}"),
        };
        self.0.insert(name.to_string(), v);
        Ok(false)
    }
}

fn check_flatgeobuf(what: &str, fgb: &Path, rows: &[Residence], keys: &[String]) {
    let mut file = fs::File::open(fgb).unwrap();
    let reader = FgbReader::open(&mut file).unwrap();
    let header = reader.header();
    assert_eq!(header.features_count(), rows.len() as u64, "{what}");
    assert_eq!(header.index_node_size(), 16, "{what}: the spatial index");
    assert_eq!(header.crs().unwrap().code(), 4326, "{what}");
    let columns: Vec<(String, ::flatgeobuf::ColumnType)> = header
        .columns()
        .unwrap()
        .iter()
        .map(|c| (c.name().to_string(), c.type_()))
        .collect();
    let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, *keys, "{what}: the fields, in order");
    for (name, want) in expected_types(rows) {
        use ::flatgeobuf::ColumnType as C;
        let got = columns.iter().find(|(n, _)| *n == name).unwrap().1;
        let want = match (want, name.as_str()) {
            (None, _) => continue,
            (Some(_), "missing" | "missing_planned") => C::Json,
            (Some("BOOLEAN"), _) => C::Bool,
            (Some("INTEGER"), _) => C::Long,
            (Some("REAL"), _) => C::Double,
            (Some(_), _) => C::String,
        };
        assert_eq!(got, want, "{what}: type of {name}");
    }
    let by_id: HashMap<String, &Residence> = rows
        .iter()
        .map(|r| (r.props["id"].to_string(), r))
        .collect();
    assert_eq!(by_id.len(), rows.len(), "{what}: ids are unique");
    let mut features = reader.select_all().unwrap();
    let mut n = 0;
    while let Some(f) = features.next().unwrap() {
        let mut props = Props(Map::new());
        f.process_properties(&mut props).unwrap();
        let id = props.0["id"].to_string();
        let want = by_id[&id];
        let xy = f.geometry().unwrap().xy().unwrap();
        assert_eq!(
            (xy.get(0).to_bits(), xy.get(1).to_bits()),
            (want.x.to_bits(), want.y.to_bits()),
            "{what} {id}: position"
        );
        for (name, v) in &want.props {
            // FlatGeobuf leaves a null out; a number in a text field is its text.
            let got = props.0.get(name).cloned().unwrap_or(Value::Null);
            let same = match (v, &got) {
                (Value::Number(n), Value::String(s)) => n.to_string() == *s,
                (Value::Number(a), Value::Number(b)) => {
                    a.as_f64().map(f64::to_bits) == b.as_f64().map(f64::to_bits)
                        && a.is_i64() == b.is_i64()
                }
                _ => *v == got,
            };
            assert!(
                same,
                "{what} {id}: {name} is {got} where the GeoJSON has {v}"
            );
        }
        assert_eq!(
            props.0.len(),
            want.props.values().filter(|v| !v.is_null()).count(),
            "{what} {id}"
        );
        n += 1;
    }
    assert_eq!(n, rows.len(), "{what}: features");
}

fn check_outputs(what: &str, out: &Path) {
    let rows = geojson_residences(&out.join("residences.geojson"));
    assert!(!rows.is_empty());
    let keys = keys_in_order(&out.join("residences.geojson"));
    check_geopackage(
        &format!("{what} gpkg"),
        &out.join("lifecircle.gpkg"),
        &rows,
        &keys,
    );
    check_flatgeobuf(
        &format!("{what} fgb"),
        &out.join("residences.fgb"),
        &rows,
        &keys,
    );
}

#[test]
fn the_sample_residence_layers_equal_the_geojson() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    ok(
        dir.path(),
        &[
            "analyze",
            "--quiet",
            "--facilities",
            &data_arg("facilities.geojson"),
            "--residences",
            &data_arg("residences.geojson"),
            "--communities",
            &data_arg("communities.geojson"),
            "--network",
            &data_arg("streets.geojson"),
            "--format",
            "geojson,gpkg,fgb",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let rows = geojson_residences(&out.join("residences.geojson"));
    assert!(rows.iter().all(|r| r.props["off_network"].is_boolean()));
    check_outputs("sample", &out);
}

#[test]
fn a_planned_city_with_capacities_has_every_column_kind_equal_to_the_geojson() {
    let (dir, _) = synth_city(&CitySpec::for_residences(20_000));
    let d = dir.path();
    split_facilities(d);
    // Numeric residence ids (an integer field), and some facilities with numeric ids (the
    // nearest-facility fields then mix numbers and text: text fields holding numbers).
    let residences: Vec<Value> = read_fc(&d.join(synth::RESIDENCES_FILE))
        .into_iter()
        .enumerate()
        .map(|(k, mut f)| {
            f["properties"]["id"] = json!(k as i64 * 7 - 1000);
            f
        })
        .collect();
    write_fc(&d.join(synth::RESIDENCES_FILE), &residences);
    let today: Vec<Value> = read_fc(&d.join("today.geojson"))
        .into_iter()
        .enumerate()
        .map(|(i, mut f)| {
            if i % 4 == 0 {
                f["properties"]["id"] = json!(100_000 + i);
            }
            f
        })
        .collect();
    write_fc(&d.join("today.geojson"), &today);
    let out = d.join("out");
    let planned = d.join("planned.geojson");
    let mut c = analyze_cmd(
        d,
        &out,
        &[
            "--max-walk",
            "500m",
            "--planned",
            planned.to_str().unwrap(),
            "--format",
            "geojson,gpkg,fgb",
        ],
    );
    c.arg("--facilities").arg(d.join("today.geojson"));
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    let rows = geojson_residences(&out.join("residences.geojson"));
    let types = expected_types(&rows);
    // Every kind of column is there.
    let has = |suffix: &str, kind: &str| {
        types
            .iter()
            .any(|(k, t)| k.ends_with(suffix) && *t == Some(kind))
    };
    assert_eq!(types["id"], Some("INTEGER"));
    assert_eq!(types["population"], Some("REAL"));
    assert_eq!(types["missing_planned"], Some("TEXT"));
    for (suffix, kind) in [
        ("_m_planned", "REAL"),
        ("_id", "TEXT"),
        ("_access", "REAL"),
        ("_access_planned", "REAL"),
    ] {
        assert!(has(suffix, kind), "a {kind} field *{suffix}: {types:?}");
    }
    assert!(
        rows.iter().any(|r| r.props["childcare_id"].is_number())
            && rows.iter().any(|r| r.props["childcare_id"].is_string()),
        "nearest facility ids of both kinds"
    );
    check_outputs("planned city", &out);
}
