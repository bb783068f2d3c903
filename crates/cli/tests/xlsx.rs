//! The spreadsheet output (`--format xlsx`) and the outputs in an EPSG system
//! (`--output-coords EPSG:n`).
//!
//! The workbook is read back with `calamine` and compared cell by cell with `summary.csv`
//! (read with the `csv` crate, typed by `summary.csvt`), `residences.geojson` and
//! `communities.geojson` of the same run (read with `serde_json`). Projected outputs are
//! compared with the pyproj reference (`fixtures/projection_reference.csv`) and opened with
//! GDAL's `ogrinfo`; a projected GeoPackage read back as input gives the same analysis.

use std::{fs, path::Path, process::Command};

use calamine::{open_workbook, Data, Reader, Xlsx};
use serde_json::{json, Value};

use crate::{
    gdal::gdal_available,
    support::{fails, fixture, ok, read_json},
};

/// A small district of Wuhan with Chinese ids, names and an extra category (`菜市场`).
fn wuhan(dir: &Path) {
    let mut facilities = Vec::new();
    let categories = ["medical", "meals", "菜市场", "childcare"];
    for k in 0..8 {
        let lon = 114.270 + 0.006 * k as f64;
        let lat = 30.580 + 0.004 * (k % 3) as f64;
        facilities.push(json!({"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"id": format!("设施{k}"), "name": format!("第{k}号服务站"),
                "category": categories[k % 4]}}));
    }
    let mut residences = Vec::new();
    for i in 0..6 {
        for j in 0..5 {
            let lon = 114.262 + 0.009 * i as f64;
            let lat = 30.572 + 0.005 * j as f64;
            let community = if i < 3 { "江汉-1" } else { "江汉-2" };
            residences.push(json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"id": format!("住宅{i}-{j}"), "community": community,
                    "population": 10 * (i * 5 + j + 1)}}));
        }
    }
    let square = |x0: f64, x1: f64| {
        json!({"type": "Polygon", "coordinates": [[[x0, 30.56], [x1, 30.56], [x1, 30.6],
            [x0, 30.6], [x0, 30.56]]]})
    };
    let communities = vec![
        json!({"type": "Feature", "geometry": square(114.255, 114.284),
            "properties": {"id": "江汉-1", "name": "民族街社区"}}),
        json!({"type": "Feature", "geometry": square(114.284, 114.32),
            "properties": {"id": "江汉-2", "name": "花楼街社区"}}),
    ];
    for (name, features) in [
        ("facilities", facilities),
        ("residences", residences),
        ("communities", communities),
    ] {
        let fc = json!({"type": "FeatureCollection", "features": features});
        fs::write(dir.join(format!("{name}.geojson")), fc.to_string()).unwrap();
    }
}

fn analyze_wuhan(dir: &Path, out: &str, extra: &[&str]) -> String {
    run_wuhan(dir, "analyze", out, extra)
}

/// `lifecircle COMMAND` on the district of [`wuhan`], into `out`.
fn run_wuhan(dir: &Path, command: &str, out: &str, extra: &[&str]) -> String {
    let mut args = vec![
        command,
        "--facilities",
        "facilities.geojson",
        "--residences",
        "residences.geojson",
        "--communities",
        "communities.geojson",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    ok(dir, &args)
}

/// Every sheet of a workbook: name and rows.
fn sheets(path: &Path) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            let rows = range.rows().map(<[Data]>::to_vec).collect();
            (name, rows)
        })
        .collect()
}

fn sheet<'a>(all: &'a [(String, Vec<Vec<Data>>)], name: &str) -> &'a [Vec<Data>] {
    &all.iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no sheet {name}"))
        .1
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        other => panic!("expected text, found {other:?}"),
    }
}

/// The cell a GeoJSON property value should be.
fn expected_cell(v: &Value) -> Data {
    match v {
        // An empty text or list is an empty cell.
        Value::Null => Data::Empty,
        Value::String(s) if s.is_empty() => Data::Empty,
        Value::Array(items) if items.is_empty() => Data::Empty,
        Value::Bool(b) => Data::Bool(*b),
        Value::Number(n) => Data::Float(n.as_f64().unwrap()),
        Value::String(s) => Data::String(s.clone()),
        Value::Array(items) => Data::String(
            items
                .iter()
                .map(|i| i.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Value::Object(_) => Data::String(v.to_string()),
    }
}

/// A table's rows (after its header) against the features of a GeoJSON file, property by
/// property; `coords`: the names of the coordinate columns, compared with the points.
fn assert_rows_match_features(rows: &[Vec<Data>], geojson: &Path, coords: Option<[&str; 2]>) {
    let fc = read_json(geojson);
    let features = fc["features"].as_array().unwrap();
    let header: Vec<String> = rows[0].iter().map(text).collect();
    assert_eq!(rows.len() - 1, features.len(), "{}", geojson.display());
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    let mut compared = 0;
    for (f, row) in features.iter().zip(&rows[1..]) {
        let props = f["properties"].as_object().unwrap();
        for (k, v) in props {
            let cell = row.get(column(k)).cloned().unwrap_or(Data::Empty);
            assert_eq!(cell, expected_cell(v), "{}: {k}", geojson.display());
            compared += 1;
        }
        if let Some([x, y]) = coords {
            let c = &f["geometry"]["coordinates"];
            assert_eq!(row[column(x)], Data::Float(c[0].as_f64().unwrap()));
            assert_eq!(row[column(y)], Data::Float(c[1].as_f64().unwrap()));
        }
    }
    // Every column is a property or a coordinate.
    let extra = coords.map_or(0, |_| 2);
    let keys: std::collections::BTreeSet<&String> = features
        .iter()
        .flat_map(|f| f["properties"].as_object().unwrap().keys())
        .collect();
    assert_eq!(header.len(), keys.len() + extra, "{header:?}");
    assert!(compared > 0);
}

#[test]
fn workbook_sheets_hold_the_summary_residences_and_gap_map_of_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    wuhan(dir.path());
    let stdout = analyze_wuhan(dir.path(), "out", &["--format", "geojson,xlsx"]);
    let out = dir.path().join("out");
    assert!(
        stdout.contains("lifecircle.xlsx (sheets summary, residences"),
        "{stdout}"
    );
    let all = sheets(&out.join("lifecircle.xlsx"));
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["summary", "residences", "communities", "facilities"]
    );

    // summary: the rows of summary.csv, typed by summary.csvt.
    let types: Vec<String> = fs::read_to_string(out.join("summary.csvt"))
        .unwrap()
        .trim()
        .split(',')
        .map(|t| t.trim_matches('"').to_string())
        .collect();
    let mut csv = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    let summary = sheet(&all, "summary");
    assert_eq!(
        summary[0].iter().map(text).collect::<Vec<_>>(),
        header,
        "header"
    );
    let records: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(summary.len() - 1, records.len());
    for (record, row) in records.iter().zip(&summary[1..]) {
        for (j, value) in record.iter().enumerate() {
            let want = match types[j].as_str() {
                _ if value.is_empty() => Data::Empty,
                "Integer" | "Real" => Data::Float(value.parse().unwrap()),
                _ => Data::String(value.to_string()),
            };
            let got = row.get(j).cloned().unwrap_or(Data::Empty);
            assert_eq!(got, want, "summary {}: {}", &record[0], header[j]);
        }
    }
    // Chinese text intact: the extra category is a row of its own.
    assert!(summary
        .iter()
        .any(|r| r[0] == Data::String("菜市场".into())));

    assert_rows_match_features(
        sheet(&all, "residences"),
        &out.join("residences.geojson"),
        Some(["lon", "lat"]),
    );
    let residences = sheet(&all, "residences");
    assert_eq!(
        residences[0][..5].iter().map(text).collect::<Vec<_>>(),
        ["id", "community", "lon", "lat", "population"]
    );
    assert_eq!(residences[1][0], Data::String("住宅0-0".into()));
    assert_rows_match_features(
        sheet(&all, "communities"),
        &out.join("communities.geojson"),
        None,
    );
    assert_eq!(
        sheet(&all, "communities")[1][1],
        Data::String("民族街社区".into())
    );
    assert_rows_match_features(
        sheet(&all, "facilities"),
        &out.join("facilities.geojson"),
        Some(["lon", "lat"]),
    );

    // The shares are shown as percentages, the headers bold, the header row frozen.
    let styles = zip_entry(&out.join("lifecircle.xlsx"), "xl/styles.xml");
    assert!(styles.contains(r#"formatCode="0.0%""#), "{styles}");
    assert!(styles.contains("<b/>"), "{styles}");
    let first = zip_entry(&out.join("lifecircle.xlsx"), "xl/worksheets/sheet1.xml");
    assert!(first.contains(r#"state="frozen""#), "{first}");
}

/// A file inside a workbook (a zip archive), as text.
fn zip_entry(path: &Path, name: &str) -> String {
    let o = Command::new("unzip")
        .arg("-p")
        .arg(path)
        .arg(name)
        .output()
        .expect("unzip");
    assert!(o.status.success(), "unzip -p {} {name}", path.display());
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn a_residence_table_longer_than_a_sheet_goes_on_in_more_sheets() {
    use lifecircle::{analyze, io, sample, Inputs, Plan, Profile, StraightLine};
    let fields = io::Fields::default();
    let facilities = io::read_facilities(&sample::FACILITIES, &fields).unwrap();
    let residences = io::read_residences(&sample::RESIDENCES, &fields).unwrap();
    let communities = io::read_communities(&sample::COMMUNITIES, &fields).unwrap();
    let inputs = Inputs::from_loaded(&facilities, Some(&residences), Some(&communities));
    let plan = Plan::builder(Profile::default()).build().unwrap();
    let a = analyze(inputs, plan, &StraightLine::default(), &()).unwrap();
    assert_eq!(a.demand.len(), 161);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("split.xlsx");
    // 50 rows a sheet: a header and 49 residences; 161 = 3 x 49 + 14.
    io::formats::write_xlsx(&a, "run-1", &path, 50).unwrap();
    let all = sheets(&path);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names[..6],
        [
            "summary",
            "residences",
            "residences_2",
            "residences_3",
            "residences_4",
            "communities",
        ]
    );
    assert!(
        names[6..].iter().all(|n| n.starts_with("facilities")),
        "{names:?}"
    );
    let mut rows: Vec<Vec<Data>> = Vec::new();
    for (k, name) in ["residences", "residences_2", "residences_3", "residences_4"]
        .iter()
        .enumerate()
    {
        let s = sheet(&all, name);
        assert_eq!(s.len(), if k < 3 { 50 } else { 15 }, "{name}");
        if k == 0 {
            rows.push(s[0].clone());
        } else {
            assert_eq!(s[0], rows[0], "{name} repeats the header");
        }
        rows.extend(s[1..].iter().cloned());
    }
    let geojson = dir.path().join("residences.geojson");
    let mut f = fs::File::create(&geojson).unwrap();
    io::write_residences(&a, "run-1", &mut f).unwrap();
    drop(f);
    assert_rows_match_features(&rows, &geojson, Some(["lon", "lat"]));
}

/// The pyproj reference points of EPSG:4547: longitude, latitude, x, y.
fn reference_4547() -> Vec<[f64; 4]> {
    fs::read_to_string(fixture("projection_reference.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("4547,"))
        .map(|l| {
            let v: Vec<f64> = l.split(',').skip(1).map(|x| x.parse().unwrap()).collect();
            [v[0], v[1], v[2], v[3]]
        })
        .collect()
}

#[test]
fn outputs_in_a_gauss_kruger_zone_agree_with_pyproj_to_the_millimetre() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference_4547();
    assert_eq!(reference.len(), 40);
    let residences: Vec<Value> = reference
        .iter()
        .enumerate()
        .map(|(k, [lon, lat, _, _])| {
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"id": k, "population": 1}})
        })
        .collect();
    let facilities: Vec<Value> = reference
        .iter()
        .take(3)
        .map(|[lon, lat, _, _]| {
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {"category": "medical"}})
        })
        .collect();
    for (name, features) in [("facilities", facilities), ("residences", residences)] {
        let fc = json!({"type": "FeatureCollection", "features": features});
        fs::write(dir.path().join(format!("{name}.geojson")), fc.to_string()).unwrap();
    }
    let stdout = ok(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            "facilities.geojson",
            "--residences",
            "residences.geojson",
            "--output-coords",
            "EPSG:4547",
            "--format",
            "geojson,gpkg,fgb,xlsx",
            "--out",
            "gk",
        ],
    );
    assert!(
        stdout
            .contains("geometries written in EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)"),
        "{stdout}"
    );
    let out = dir.path().join("gk");
    let fc = read_json(&out.join("residences.geojson"));
    assert_eq!(
        fc["crs"],
        json!({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4547"}})
    );
    let mut worst_m: f64 = 0.0;
    for f in fc["features"].as_array().unwrap() {
        let k = f["properties"]["id"].as_u64().unwrap() as usize;
        let c = &f["geometry"]["coordinates"];
        let [_, _, x, y] = reference[k];
        let d = (c[0].as_f64().unwrap() - x).hypot(c[1].as_f64().unwrap() - y);
        worst_m = worst_m.max(d);
    }
    // The reference is rounded to 0.1 mm, the output too.
    assert!(worst_m < 1e-3, "worst {worst_m} m from pyproj");
    // The workbook's coordinate columns say the system and hold the same numbers.
    let all = sheets(&out.join("lifecircle.xlsx"));
    assert_rows_match_features(
        sheet(&all, "residences"),
        &out.join("residences.geojson"),
        Some(["x_epsg4547", "y_epsg4547"]),
    );
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(
        summary["coords"]["output"],
        "EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)"
    );
    assert_eq!(summary["coords"]["residences"], "wgs84");

    if !gdal_available() {
        return;
    }
    for (file, layer) in [
        ("lifecircle.gpkg", "residences"),
        ("lifecircle.gpkg", "facilities"),
        ("residences.fgb", "residences"),
        ("residences.geojson", "residences"),
    ] {
        let o = Command::new("ogrinfo")
            .args(["-ro", "-so"])
            .arg(out.join(file))
            .arg(layer)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{file}: {text}");
        assert!(
            text.trim_end().ends_with("ID[\"EPSG\",4547]]")
                || text.contains("    ID[\"EPSG\",4547]]"),
            "{file} {layer}: {text}"
        );
        assert!(
            text.contains("Feature Count: 40") || layer != "residences",
            "{text}"
        );
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!stderr.contains("Warning"), "{file}: {stderr}");
    }
}

/// What an analysis found, from the `summary.json` in `out`: per category, the communities
/// lacking each, and the population.
fn analysis_of(out: &Path) -> (Value, Value, Value) {
    let s = read_json(&out.join("summary.json"));
    (
        s["categories"].clone(),
        s["communities_lacking"].clone(),
        s["population"].clone(),
    )
}

#[test]
fn a_projected_geopackage_read_back_gives_the_same_analysis() {
    let dir = tempfile::tempdir().unwrap();
    wuhan(dir.path());
    analyze_wuhan(dir.path(), "wgs", &[]);
    analyze_wuhan(
        dir.path(),
        "gk",
        &["--output-coords", "EPSG:4547", "--format", "gpkg,geojson"],
    );
    // The WGS84 run's positions, converted, are the projected run's.
    let wgs = read_json(&dir.path().join("wgs/residences.geojson"));
    let gk = read_json(&dir.path().join("gk/residences.geojson"));
    let p = lifecircle::projection::Projection::epsg(4547).unwrap();
    for (a, b) in wgs["features"]
        .as_array()
        .unwrap()
        .iter()
        .zip(gk["features"].as_array().unwrap())
    {
        let (lon, lat) = (
            a["geometry"]["coordinates"][0].as_f64().unwrap(),
            a["geometry"]["coordinates"][1].as_f64().unwrap(),
        );
        let (x, y) = (
            b["geometry"]["coordinates"][0].as_f64().unwrap(),
            b["geometry"]["coordinates"][1].as_f64().unwrap(),
        );
        let (blon, blat) = p.to_wgs84(x, y).unwrap();
        let d = crate::support::geodesic_m(
            crate::support::ll(lon, lat),
            crate::support::ll(blon, blat),
        );
        // The WGS84 output is rounded to 7 decimals (about 1 cm).
        assert!(d < 0.01, "{d} m");
    }
    // Residences and communities read back from the projected GeoPackage.
    ok(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            "facilities.geojson",
            "--residences",
            "gk/lifecircle.gpkg:residences",
            "--communities",
            "gk/lifecircle.gpkg:communities",
            "--residences-coords",
            "EPSG:4547",
            "--communities-coords",
            "EPSG:4547",
            "--out",
            "back",
        ],
    );
    let summary = |run: &str| analysis_of(&dir.path().join(run));
    assert_eq!(summary("back"), summary("wgs"));
    let back = read_json(&dir.path().join("back/summary.json"));
    assert_eq!(
        back["coords"]["residences"],
        "EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)"
    );
    assert_eq!(back["coords"]["facilities"], "wgs84");
}

#[test]
fn projected_geojson_outputs_read_back_give_the_same_analysis() {
    let dir = tempfile::tempdir().unwrap();
    wuhan(dir.path());
    analyze_wuhan(dir.path(), "wgs", &[]);
    analyze_wuhan(dir.path(), "gk", &["--output-coords", "EPSG:4547"]);
    // Written with a `crs` member naming EPSG:4547 and metre coordinates.
    let gk = read_json(&dir.path().join("gk/residences.geojson"));
    assert_eq!(
        gk["crs"]["properties"]["name"],
        "urn:ogc:def:crs:EPSG::4547"
    );
    assert!(
        gk["features"][0]["geometry"]["coordinates"][0]
            .as_f64()
            .unwrap()
            > 1e5
    );
    // Read back as inputs with no system given: the `crs` member names it. (The facilities
    // output lists each facility's categories rather than one category: the facilities are
    // the original ones, as in the GeoPackage test above.)
    let inputs = [
        "--facilities",
        "facilities.geojson",
        "--residences",
        "gk/residences.geojson",
        "--communities",
        "gk/communities.geojson",
    ];
    let mut args = vec!["analyze"];
    args.extend_from_slice(&inputs);
    args.extend_from_slice(&["--out", "back"]);
    ok(dir.path(), &args);
    let summary = |run: &str| analysis_of(&dir.path().join(run));
    assert_eq!(summary("back"), summary("wgs"));
    let back = read_json(&dir.path().join("back/summary.json"));
    for input in ["residences", "communities"] {
        assert_eq!(
            back["coords"][input],
            "EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)"
        );
    }
    assert_eq!(back["coords"]["facilities"], "wgs84");
    // Each residence read back is within a centimetre of the original (the projected output
    // is rounded to 0.1 mm, the WGS84 one to about 1 cm).
    let wgs = read_json(&dir.path().join("wgs/residences.geojson"));
    let again = read_json(&dir.path().join("back/residences.geojson"));
    let wgs = wgs["features"].as_array().unwrap();
    let again = again["features"].as_array().unwrap();
    assert_eq!(wgs.len(), again.len());
    for (a, b) in wgs.iter().zip(again) {
        let at = |f: &Value| {
            let c = &f["geometry"]["coordinates"];
            crate::support::ll(c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
        };
        let d = crate::support::geodesic_m(at(a), at(b));
        assert!(d < 0.02, "{d} m");
    }
    // The same system given as well: read the same; another one: refused, naming both.
    let mut args = vec!["analyze"];
    args.extend_from_slice(&inputs);
    args.extend_from_slice(&["--residences-coords", "EPSG:4547", "--out", "same"]);
    ok(dir.path(), &args);
    assert_eq!(summary("same"), summary("wgs"));
    let mut args = vec!["analyze"];
    args.extend_from_slice(&inputs);
    args.extend_from_slice(&["--residences-coords", "EPSG:4526", "--out", "other"]);
    fails(
        dir.path(),
        &args,
        &[
            "gk/residences.geojson: the file declares the coordinate reference system EPSG:4547",
            "but EPSG:4526 was given for it",
        ],
    );
    assert!(!dir.path().join("other").exists());
}

#[test]
fn site_workbook_holds_the_sites_curve_and_gap_map_of_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    wuhan(dir.path());
    let stdout = run_wuhan(
        dir.path(),
        "site",
        "s",
        &[
            "--category",
            "medical",
            "--max-walk",
            "300m",
            "--candidates-from",
            "grid:250m",
            "--format",
            "xlsx",
        ],
    );
    assert!(
        stdout.contains("(sheets sites, curve, communities)"),
        "{stdout}"
    );
    let out = dir.path().join("s");
    let all = sheets(&out.join("lifecircle.xlsx"));
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["sites", "curve", "communities"]);
    let sites = read_json(&out.join("sites.geojson"));
    assert!(!sites["features"].as_array().unwrap().is_empty());
    assert_rows_match_features(
        sheet(&all, "sites"),
        &out.join("sites.geojson"),
        Some(["lon", "lat"]),
    );
    assert_rows_match_features(
        sheet(&all, "communities"),
        &out.join("communities.geojson"),
        None,
    );
    let curve = sheet(&all, "curve");
    let text_csv = fs::read_to_string(out.join("curve.csv")).unwrap();
    let lines: Vec<&str> = text_csv.lines().collect();
    assert_eq!(curve.len(), lines.len());
    for (line, row) in lines.iter().zip(curve).skip(1) {
        for (j, v) in line.split(',').enumerate() {
            let want = match v.parse::<f64>() {
                Ok(x) if j >= 2 => Data::Float(x),
                _ => Data::String(v.to_string()),
            };
            assert_eq!(row[j], want, "{line}");
        }
    }
}
