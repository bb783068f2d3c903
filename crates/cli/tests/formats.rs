//! The planner's own formats: GeoPackage and CSV inputs holding the Helsinki sample give the
//! same outputs, byte for byte, as the GeoJSON sample (the fixtures were made from data/ by
//! `ogr2ogr`: tests/fixtures/formats/make_fixtures.sh), and bad files of each format stop with
//! a message naming the file and what is wrong, or skip the bad feature and count it.

use std::{fs, path::Path};

use serde_json::json;

use crate::support::{data_arg, fails, fixture, ok, read_json};

/// A fixture of tests/fixtures/formats as an argument.
pub(crate) fn formats(name: &str) -> String {
    fixture("formats")
        .join(name)
        .to_str()
        .expect("a UTF-8 path")
        .to_string()
}

/// An output file with its run id taken out (each run has its own).
fn without_run_id(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let run = read_json(&path.with_file_name("summary.json"))["run"]
        .as_str()
        .expect("a run id")
        .to_string();
    text.replace(&run, "RUN")
}

/// Analyse the sample with these inputs into `dir/name`, along the sample's streets.
pub(crate) fn analyze(dir: &Path, name: &str, inputs: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let streets = data_arg("streets.geojson");
    let mut args = vec!["analyze", "--quiet", "--network", &streets, "--out"];
    let out_arg = out.to_str().expect("a UTF-8 path").to_string();
    args.push(&out_arg);
    args.extend_from_slice(inputs);
    ok(dir, &args);
    out
}

/// Every output of two runs is the same but for the run ids.
pub(crate) fn assert_same_outputs(expected: &Path, got: &Path) {
    let outputs = lifecircle::io::Written::in_dir(Path::new(""));
    for f in outputs.paths() {
        assert!(
            without_run_id(&expected.join(f)) == without_run_id(&got.join(f)),
            "{} differs between {} and {}",
            f.display(),
            expected.display(),
            got.display()
        );
    }
}

#[test]
fn geopackage_shapefile_csv_and_excel_inputs_give_the_geojson_outputs_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (f, r, c) = (
        data_arg("facilities.geojson"),
        data_arg("residences.geojson"),
        data_arg("communities.geojson"),
    );
    let geojson = analyze(
        dir.path(),
        "geojson",
        &["--facilities", &f, "--residences", &r, "--communities", &c],
    );
    let gpkg = formats("sample.gpkg");
    let (gf, gr, gc) = (
        format!("{gpkg}:facilities"),
        format!("{gpkg}:residences"),
        format!("{gpkg}:communities"),
    );
    let out = analyze(
        dir.path(),
        "gpkg",
        &[
            "--facilities",
            &gf,
            "--residences",
            &gr,
            "--communities",
            &gc,
        ],
    );
    assert_same_outputs(&geojson, &out);
    // Projected (WGS 84 / UTM 35N, declared in the GeoPackage): converted back exactly enough
    // that every written coordinate and distance is the same.
    let utm = formats("sample-utm35.gpkg");
    let (uf, ur) = (format!("{utm}:facilities"), format!("{utm}:residences"));
    let out = analyze(
        dir.path(),
        "utm",
        &[
            "--facilities",
            &uf,
            "--residences",
            &ur,
            "--communities",
            &c,
        ],
    );
    // The summary names the system the two GeoPackage layers were read in; all else is the
    // same.
    let summary = out.join("summary.json");
    let coords = &read_json(&summary)["coords"];
    let utm35 = "EPSG:32635 (WGS 84 / UTM zone 35N)";
    assert_eq!(
        (
            &coords["facilities"],
            &coords["residences"],
            &coords["communities"]
        ),
        (&json!(utm35), &json!(utm35), &json!("wgs84"))
    );
    let text = fs::read_to_string(&summary).unwrap();
    fs::write(&summary, text.replace(&format!("\"{utm35}\""), "\"wgs84\"")).unwrap();
    assert_same_outputs(&geojson, &out);
    let (sf, sr) = (formats("facilities.shp"), formats("residences.shp"));
    let out = analyze(
        dir.path(),
        "shp",
        &[
            "--facilities",
            &sf,
            "--residences",
            &sr,
            "--communities",
            &c,
        ],
    );
    assert_same_outputs(&geojson, &out);
    let xf = formats("facilities.xlsx");
    let out = analyze(
        dir.path(),
        "xlsx",
        &["--facilities", &xf, "--residences", &r, "--communities", &c],
    );
    assert_same_outputs(&geojson, &out);
    let (cf, cr) = (formats("facilities.csv"), formats("residences.csv"));
    let out = analyze(
        dir.path(),
        "csv",
        &[
            "--facilities",
            &cf,
            "--residences",
            &cr,
            "--communities",
            &c,
        ],
    );
    assert_same_outputs(&geojson, &out);
}

#[test]
fn geopackage_layers_must_be_named_when_there_are_several() {
    let dir = tempfile::tempdir().unwrap();
    let gpkg = formats("sample.gpkg");
    let e = fails(
        dir.path(),
        &["analyze", "--facilities", &gpkg, "--communities", &gpkg],
        &["sample.gpkg: the GeoPackage has 3 layers; name one as FILE:LAYER"],
    );
    assert!(e.contains("sample.gpkg:residences"), "{e}");
    let nope = format!("{gpkg}:schools");
    fails(
        dir.path(),
        &["analyze", "--facilities", &nope, "--communities", &nope],
        &[
            "sample.gpkg:schools: no layer \"schools\"; its layers:",
            "sample.gpkg:facilities",
        ],
    );
}

#[test]
fn corrupt_and_missing_files_of_each_format() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.gpkg");
    fs::write(&bad, b"this is not SQLite").unwrap();
    let bad = bad.to_str().unwrap();
    let c = data_arg("communities.geojson");
    fails(
        dir.path(),
        &["analyze", "--facilities", bad, "--communities", &c],
        &["bad.gpkg: not a readable GeoPackage"],
    );
    // A GeoPackage cut short.
    let cut = dir.path().join("cut.gpkg");
    let bytes = fs::read(formats("sample.gpkg")).unwrap();
    fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let cut = format!("{}:facilities", cut.to_str().unwrap());
    fails(
        dir.path(),
        &["analyze", "--facilities", &cut, "--communities", &c],
        &["cut.gpkg:facilities: not a readable GeoPackage"],
    );
    fails(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            "missing.gpkg",
            "--communities",
            &c,
        ],
        &["cannot read missing.gpkg"],
    );
    // CSV: no coordinate column, and a quote left open.
    fs::write(dir.path().join("nocoords.csv"), "id,category\na,meals\n").unwrap();
    fails(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            "nocoords.csv",
            "--communities",
            &c,
        ],
        &[
            "nocoords.csv: no longitude column (looked for lon, lng, longitude, x, 经度); its \
             columns: id, category; name it with --lon-field",
        ],
    );
    fs::write(
        dir.path().join("asked.csv"),
        "east,north,category\n24.9,60.1,meals\n",
    )
    .unwrap();
    fails(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            "asked.csv",
            "--communities",
            &c,
            "--lon-field",
            "lng",
        ],
        &["asked.csv: no longitude column (\"lng\" was asked for); its columns: east, north, category"],
    );
}

#[test]
fn csv_cells_that_are_not_numbers_are_bad_features_named_by_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("pois.csv"),
        "名称,category,经度,纬度,capacity\n\
         食堂,meals,24.95,60.17,40\n\
         诊所,medical,东经24度,60.17,\n\
         托儿所,childcare,24.95,,12\n\
         老年中心,elderly_care,24.951,60.171,many\n",
    )
    .unwrap();
    let c = data_arg("communities.geojson");
    let o = crate::support::run_in(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            "pois.csv",
            "--communities",
            &c,
            "--name-field",
            "名称",
            "--out",
            "out",
        ],
    );
    let (_, stderr) = crate::support::text(&o);
    assert!(o.status.success(), "{stderr}");
    for needle in [
        "skipped 3 unusable features",
        "pois.csv: feature 1 (geometry): line 3, column \"经度\": expected a number, found \"东经24度\"",
        "pois.csv: feature 2 (geometry): line 4, column \"纬度\": the cell is empty",
        "pois.csv: feature 3 (capacity): expected a number, found \"many\"",
    ] {
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    }
    let summary = read_json(&dir.path().join("out/summary.json"));
    assert_eq!(summary["skipped_features"], 3);
    let facilities = crate::support::features(&dir.path().join("out/facilities.geojson"));
    assert_eq!(facilities.len(), 1);
    assert_eq!(crate::support::prop(&facilities[0], "name"), "食堂");
    // --strict stops at the first.
    fails(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            "pois.csv",
            "--communities",
            &c,
            "--strict",
            "--out",
            "strict",
        ],
        &["pois.csv: feature 1 (geometry): line 3, column \"经度\""],
    );
    assert!(!dir.path().join("strict/summary.json").exists());
}

#[test]
fn gbk_csv_reads_with_its_encoding_and_fails_clearly_without() {
    let dir = tempfile::tempdir().unwrap();
    let text = "名称,类别,lng,lat\n社区食堂,meals,24.95,60.17\n";
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    fs::write(dir.path().join("gbk.csv"), &gbk).unwrap();
    let c = data_arg("communities.geojson");
    let args = [
        "analyze",
        "--facilities",
        "gbk.csv",
        "--communities",
        &c,
        "--name-field",
        "名称",
        "--category-field",
        "类别",
        "--out",
        "out",
    ];
    fails(
        dir.path(),
        &args,
        &["gbk.csv: line 1 is not valid UTF-8 text; give the file's encoding (e.g. --encoding gbk"],
    );
    let mut with_encoding = args.to_vec();
    with_encoding.extend(["--encoding", "gbk"]);
    ok(dir.path(), &with_encoding);
    let facilities = crate::support::features(&dir.path().join("out/facilities.geojson"));
    assert_eq!(crate::support::prop(&facilities[0], "name"), "社区食堂");
    let mut unknown = args.to_vec();
    unknown.extend(["--encoding", "klingon"]);
    fails(
        dir.path(),
        &unknown,
        &["gbk.csv: unknown text encoding \"klingon\""],
    );
}

#[test]
fn unknown_epsg_codes_and_projected_geojson_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = data_arg("facilities.geojson");
    let o = crate::support::run_in(
        dir.path(),
        &["analyze", "--facilities", &f, "--coords", "EPSG:99999"],
    );
    let (_, stderr) = crate::support::text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("EPSG:99999: unknown EPSG code"), "{stderr}");
    let c = data_arg("communities.geojson");
    fails(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &f,
            "--communities",
            &c,
            "--facilities-coords",
            "EPSG:4547",
        ],
        &[
            "facilities.geojson: a GeoJSON file is WGS84 longitude/latitude (RFC 7946) unless its \
             `crs` member names another system; EPSG:4547 applies to",
        ],
    );
}

#[test]
fn projected_coordinates_without_a_system_suggest_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // Gauss-Krüger CM 114E metres (Wuhan), with no system declared.
    fs::write(
        dir.path().join("gk.csv"),
        "x,y,category\n534000.0,3379000.0,meals\n",
    )
    .unwrap();
    let c = data_arg("communities.geojson");
    fails(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            "gk.csv",
            "--communities",
            &c,
            "--strict",
        ],
        &[
            "gk.csv: its one feature is not a usable facility",
            "feature 0 (geometry): position [534000, 3379000] looks like projected coordinates in metres",
            "--coords EPSG:n",
        ],
    );
    // Named: read, converted to WGS84 (checked against pyproj in projection_reference).
    ok(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            "gk.csv",
            "--facilities-coords",
            "EPSG:4547",
            "--communities",
            &c,
            "--out",
            "out",
        ],
    );
    let facilities = crate::support::features(&dir.path().join("out/facilities.geojson"));
    let p = crate::support::point_of(&facilities[0]);
    assert!(
        (p.x() - 114.35).abs() < 0.01 && (p.y() - 30.53).abs() < 0.01,
        "{p:?}"
    );
}

/// Copy a Shapefile fixture's files (`name.shp`, `.shx`, `.dbf`, `.prj`, `.cpg`) into `dir`.
fn copy_shapefile(name: &str, dir: &Path) {
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        let from = fixture("formats").join(format!("{name}.{ext}"));
        if from.exists() {
            fs::copy(&from, dir.join(format!("{name}.{ext}"))).unwrap();
        }
    }
}

#[test]
fn gbk_shapefile_in_gauss_kruger_reads_with_its_chinese_names_and_positions() {
    let dir = tempfile::tempdir().unwrap();
    let f = data_arg("facilities.geojson");
    let c = formats("wuhan-gbk.shp");
    ok(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &f,
            "--communities",
            &c,
            "--out",
            "out",
            "-q",
        ],
    );
    let communities = crate::support::features(&dir.path().join("out/communities.geojson"));
    let names: Vec<&serde_json::Value> = communities
        .iter()
        .map(|f| crate::support::prop(f, "name"))
        .collect();
    assert_eq!(
        names,
        ["江汉区民权街道", "江岸区大智街道", "硚口区汉中街道"]
    );
    // The corners came back from EPSG:4547 (read from the .prj) to the hand-written positions
    // of wuhan-communities.geojson, within the 7 decimals written.
    let expected = crate::support::features(&fixture("formats").join("wuhan-communities.geojson"));
    for (got, want) in communities.iter().zip(&expected) {
        let corners = |f: &geojson::Feature| -> Vec<(f64, f64)> {
            let mut v = Vec::new();
            match &f.geometry.as_ref().unwrap().value {
                geojson::GeometryValue::Polygon { coordinates: p } => {
                    v.extend(p[0].iter().map(|c| (c[0], c[1])))
                }
                geojson::GeometryValue::MultiPolygon { coordinates: m } => {
                    v.extend(m[0][0].iter().map(|c| (c[0], c[1])))
                }
                other => panic!("{other:?}"),
            }
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            v.dedup();
            v
        };
        let (a, b) = (corners(got), corners(want));
        assert_eq!(a.len(), b.len());
        for (p, q) in a.iter().zip(&b) {
            assert!(
                (p.0 - q.0).abs() < 1e-7 && (p.1 - q.1).abs() < 1e-7,
                "{p:?} {q:?}"
            );
        }
    }
}

#[test]
fn broken_shapefiles_stop_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let f = data_arg("facilities.geojson");
    // No .dbf.
    copy_shapefile("wuhan-gbk", dir.path());
    fs::remove_file(dir.path().join("wuhan-gbk.dbf")).unwrap();
    fails(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &f,
            "--communities",
            "wuhan-gbk.shp",
        ],
        &[
            "wuhan-gbk.shp: a Shapefile needs its attribute file",
            "wuhan-gbk.dbf, which is missing",
        ],
    );
    // Invalid GBK: a name byte that no GBK character starts with.
    copy_shapefile("wuhan-gbk", dir.path());
    let mut dbf = fs::read(dir.path().join("wuhan-gbk.dbf")).unwrap();
    let name = "江汉".chars().collect::<String>();
    let (gbk, _, _) = encoding_rs::GBK.encode(&name);
    let at = dbf
        .windows(gbk.len())
        .position(|w| w == &gbk[..])
        .expect("the GBK name in the .dbf");
    dbf[at] = 0xFF;
    fs::write(dir.path().join("wuhan-gbk.dbf"), &dbf).unwrap();
    fails(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &f,
            "--communities",
            "wuhan-gbk.shp",
        ],
        &["wuhan-gbk.shp: record 0 of its .dbf: field \"name\" is not valid GBK text"],
    );
    // GBK read as UTF-8 (no .cpg, no --encoding).
    copy_shapefile("wuhan-gbk", dir.path());
    fs::remove_file(dir.path().join("wuhan-gbk.cpg")).unwrap();
    fails(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &f,
            "--communities",
            "wuhan-gbk.shp",
        ],
        &[
            "wuhan-gbk.shp: record 0 of its .dbf:",
            "is not valid UTF-8 text; give the file's encoding with --encoding (e.g. gbk)",
        ],
    );
    ok(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &f,
            "--communities",
            "wuhan-gbk.shp",
            "--encoding",
            "gbk",
            "-q",
        ],
    );
    // A .shp cut short.
    copy_shapefile("wuhan-gbk", dir.path());
    let shp = fs::read(dir.path().join("wuhan-gbk.shp")).unwrap();
    fs::write(dir.path().join("wuhan-gbk.shp"), &shp[..shp.len() - 40]).unwrap();
    fails(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &f,
            "--communities",
            "wuhan-gbk.shp",
        ],
        &["wuhan-gbk.shp: record"],
    );
    // A .prj that names no system lifecircle can use.
    copy_shapefile("wuhan-gbk", dir.path());
    fs::write(dir.path().join("wuhan-gbk.prj"), "PROJCS[\"nonsense\"").unwrap();
    fails(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &f,
            "--communities",
            "wuhan-gbk.shp",
        ],
        &["wuhan-gbk.shp: its .prj cannot be used", "--coords EPSG:n"],
    );
}

#[test]
fn excel_sheets_with_merged_and_empty_cells_skip_the_rows_they_break() {
    let dir = tempfile::tempdir().unwrap();
    let pois = formats("pois-merged.xlsx");
    let c = data_arg("communities.geojson");
    let args = [
        "analyze",
        "--facilities",
        &pois,
        "--communities",
        &c,
        "--name-field",
        "名称",
        "--category-field",
        "类别",
        "--out",
        "out",
    ];
    let o = crate::support::run_in(dir.path(), &args);
    let (_, stderr) = crate::support::text(&o);
    assert!(o.status.success(), "{stderr}");
    for needle in [
        "skipped 3 unusable features",
        // The merged cell's value is in its first row only.
        "pois-merged.xlsx: feature 1 (类别): the facility has no category",
        "pois-merged.xlsx: feature 2 (geometry): row 4, column \"纬度\": the cell is empty",
        "pois-merged.xlsx: feature 3 (geometry): row 5, column \"经度\": expected a number, found \"东经24.95\"",
    ] {
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    }
    let facilities = crate::support::features(&dir.path().join("out/facilities.geojson"));
    assert_eq!(facilities.len(), 1);
    assert_eq!(crate::support::prop(&facilities[0], "name"), "社区食堂");
    // Another sheet by name; a sheet that is not there.
    let other = format!("{pois}:other");
    ok(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &other,
            "--communities",
            &c,
            "--out",
            "other",
            "-q",
        ],
    );
    let missing = format!("{pois}:schools");
    fails(
        dir.path(),
        &["analyze", "--facilities", &missing, "--communities", &c],
        &["pois-merged.xlsx:schools: no sheet \"schools\"; its sheets: 设施, other"],
    );
    // A file that is not a workbook.
    fs::write(dir.path().join("bad.xlsx"), b"not a zip").unwrap();
    fails(
        dir.path(),
        &["analyze", "--facilities", "bad.xlsx", "--communities", &c],
        &["bad.xlsx: not a readable Excel workbook"],
    );
}

#[test]
fn an_osm_network_is_read_as_one_when_coordinate_systems_are_given() {
    let dir = tempfile::tempdir().unwrap();
    let (f, r, pbf) = (
        data_arg("facilities.geojson"),
        data_arg("residences.geojson"),
        data_arg("raw/helsinki-centre.osm.pbf"),
    );
    ok(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &f,
            "--residences",
            &r,
            "--network",
            &pbf,
            "--coords",
            "wgs84",
            "--out",
            "out",
            "-q",
        ],
    );
    let summary = read_json(&dir.path().join("out/summary.json"));
    assert_eq!(summary["mode"], "network");
}
