//! The outputs open in GDAL (the library under QGIS): `ogrinfo` reads every file with the
//! feature count, geometry type and field types a planner expects, and `ogr2ogr` converts the
//! gap map to a GeoPackage.
//!
//! Needs `ogrinfo` and `ogr2ogr` (Debian package `gdal-bin`). Without them the test says so and
//! passes, unless `LIFECIRCLE_REQUIRE_GDAL` is set, as CI (`.ci/run`) does.

use std::{
    collections::HashMap,
    path::Path,
    process::{Command, Output},
};

use lifecircle_synth::CitySpec;

use crate::support::{analyze_synth_city, data, synth_city};

/// True when GDAL's tools can be run; panics when they cannot but are required.
pub(crate) fn gdal_available() -> bool {
    let found = Command::new("ogrinfo").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("LIFECIRCLE_REQUIRE_GDAL").is_none(),
            "ogrinfo is required (LIFECIRCLE_REQUIRE_GDAL is set): apt-get install gdal-bin"
        );
        eprintln!("ogrinfo not found: GDAL checks skipped (apt-get install gdal-bin)");
    }
    found
}

fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().expect("run");
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// What `ogrinfo -so` says of a GeoJSON file's single layer.
pub(crate) struct Layer {
    pub(crate) geometry: String,
    pub(crate) count: usize,
    pub(crate) fields: HashMap<String, String>,
}

pub(crate) fn ogrinfo(path: &Path) -> Layer {
    let o = run(Command::new("ogrinfo")
        .args(["-ro", "-so", "-al"])
        .arg(path));
    let text = String::from_utf8(o.stdout).unwrap();
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{}: no {key:?} in\n{text}", path.display()))
            .trim()
            .to_string()
    };
    let fields = text
        .lines()
        .skip_while(|l| !l.starts_with("Data axis to CRS axis mapping"))
        .skip(1)
        .filter_map(|l| {
            let (name, ty) = l.split_once(": ")?;
            Some((name.to_string(), ty.split(' ').next()?.to_string()))
        })
        .collect();
    assert!(
        text.contains("ID[\"EPSG\",4326]"),
        "{}: not WGS84",
        path.display()
    );
    Layer {
        geometry: value("Geometry:"),
        count: value("Feature Count:").parse().unwrap(),
        fields,
    }
}

#[test]
fn outputs_open_in_gdal() {
    if !gdal_available() {
        return;
    }
    let spec = CitySpec::for_residences(3_000);
    let (dir, city) = synth_city(&spec);
    let out = analyze_synth_city(dir.path(), &["--max-walk", "300m"]);

    let residences = ogrinfo(&out.join("residences.geojson"));
    assert_eq!(residences.geometry, "Point");
    assert_eq!(residences.count, city.residences.len());
    let communities = ogrinfo(&out.join("communities.geojson"));
    assert!(
        communities.geometry.contains("Polygon"),
        "{}",
        communities.geometry
    );
    assert_eq!(communities.count, city.communities.len());
    let facilities = ogrinfo(&out.join("facilities.geojson"));
    assert_eq!(facilities.geometry, "Point");
    assert_eq!(facilities.count, city.facilities.len());

    for (layer, field, ty) in [
        // Real even where every value is whole: appending another city keeps its decimals.
        (&residences, "population", "Real"),
        (&communities, "gap_population", "Real"),
        (&communities, "lacking", "StringList"),
        (&communities, "served_all", "Integer(Boolean)"),
    ] {
        assert_eq!(
            layer.fields.get(field).map(String::as_str),
            Some(ty),
            "{field}"
        );
    }
    for category in &spec.categories {
        let m = &residences.fields[&format!("{category}_m")];
        assert_eq!(m, "Real", "{category}_m");
        let id = &residences.fields[&format!("{category}_id")];
        assert_eq!(id, "String", "{category}_id");
        let coverage = &communities.fields[&format!("{category}_coverage")];
        // Never Integer: a coverage of 0 or 1 everywhere is still written 0.0 / 1.0.
        assert_eq!(coverage, "Real", "{category}_coverage");
    }

    // The gap map converts to a GeoPackage, and back comes the same number of features.
    let gpkg = dir.path().join("gaps.gpkg");
    run(Command::new("ogr2ogr")
        .args(["-f", "GPKG"])
        .arg(&gpkg)
        .arg(out.join("communities.geojson")));
    assert_eq!(ogrinfo(&gpkg).count, city.communities.len());
}

#[test]
fn extract_outputs_open_in_gdal() {
    if !gdal_available() {
        return;
    }
    // The shipped sample is the output of `lifecircle extract` (a test in osm_extract.rs
    // checks that).
    for (file, geometry) in [
        ("facilities.geojson", "Point"),
        ("residences.geojson", "Point"),
        ("streets.geojson", "Line String"),
        ("communities.geojson", "Point"),
    ] {
        let layer = ogrinfo(&data(file));
        assert_eq!(layer.geometry, geometry, "{file}");
        let text = std::fs::read_to_string(data(file)).unwrap();
        let features = text.matches("\"type\":\"Feature\"").count();
        assert_eq!(layer.count, features, "{file}");
        assert_eq!(
            layer.fields.get("id").map(String::as_str),
            Some("String"),
            "{file}"
        );
    }
}

/// What `ogrinfo -so` says of one layer of a GeoPackage; insists that GDAL warned of nothing.
pub(crate) fn ogrinfo_layer(path: &Path, layer: &str) -> Layer {
    let o = run(Command::new("ogrinfo")
        .args(["-ro", "-so"])
        .arg(path)
        .arg(layer));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.trim().is_empty(), "{layer}: GDAL says {stderr}");
    let text = String::from_utf8(o.stdout).unwrap();
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{layer}: no {key:?} in\n{text}"))
            .trim()
            .to_string()
    };
    let fields = text
        .lines()
        .skip_while(|l| !l.starts_with("Geometry Column"))
        .skip(1)
        .filter_map(|l| {
            let (name, ty) = l.split_once(": ")?;
            Some((name.to_string(), ty.split(' ').next()?.to_string()))
        })
        .collect();
    assert!(text.contains("ID[\"EPSG\",4326]"), "{layer}: not WGS84");
    Layer {
        geometry: value("Geometry:"),
        count: value("Feature Count:").parse().unwrap(),
        fields,
    }
}

#[test]
fn geopackage_output_opens_in_gdal_with_its_layers_and_field_types() {
    if !gdal_available() {
        return;
    }
    let spec = CitySpec::for_residences(3_000);
    let (dir, city) = synth_city(&spec);
    let out = analyze_synth_city(
        dir.path(),
        &["--max-walk", "300m", "--format", "gpkg,geojson"],
    );
    let gpkg = out.join("lifecircle.gpkg");
    let residences = ogrinfo_layer(&gpkg, "residences");
    assert_eq!(residences.geometry, "Point");
    assert_eq!(residences.count, city.residences.len());
    let communities = ogrinfo_layer(&gpkg, "communities");
    assert!(
        communities.geometry.contains("Polygon"),
        "{}",
        communities.geometry
    );
    assert_eq!(communities.count, city.communities.len());
    let facilities = ogrinfo_layer(&gpkg, "facilities");
    assert_eq!(facilities.geometry, "Point");
    assert_eq!(facilities.count, city.facilities.len());
    for (layer, field, ty) in [
        // Populations are real-valued (shared out from grids, or estimated), as in GeoJSON.
        (&residences, "population", "Real"),
        (&residences, "missing", "String(JSON)"),
        (&communities, "gap_population", "Real"),
        (&communities, "lacking", "String(JSON)"),
        (&communities, "served_all", "Integer(Boolean)"),
        (&facilities, "categories", "String(JSON)"),
    ] {
        assert_eq!(
            layer.fields.get(field).map(String::as_str),
            Some(ty),
            "{field}: {:?}",
            layer.fields
        );
    }
    for category in &spec.categories {
        assert_eq!(residences.fields[&format!("{category}_m")], "Real");
        assert_eq!(residences.fields[&format!("{category}_id")], "String");
    }
    // ogr2ogr converts a layer back to GeoJSON, with every feature and the same values as the
    // GeoJSON output (compared property by property on the first feature).
    let back = dir.path().join("back.geojson");
    run(Command::new("ogr2ogr")
        .args(["-f", "GeoJSON"])
        .arg(&back)
        .arg(&gpkg)
        .arg("residences"));
    let back = crate::support::features(&back);
    let ours = crate::support::features(&out.join("residences.geojson"));
    assert_eq!(back.len(), ours.len());
    for (a, b) in back.iter().zip(&ours).take(50) {
        for (k, v) in b.properties.as_ref().unwrap() {
            let got = crate::support::prop(a, k);
            match (v, got) {
                // GDAL writes a JSON field back as its text.
                (serde_json::Value::Number(x), serde_json::Value::Number(y)) => {
                    assert_eq!(x.as_f64(), y.as_f64(), "{k}")
                }
                (serde_json::Value::Array(_), serde_json::Value::String(s)) => {
                    assert_eq!(
                        &serde_json::from_str::<serde_json::Value>(s).unwrap(),
                        v,
                        "{k}"
                    )
                }
                _ => assert_eq!(got, v, "{k}"),
            }
        }
        assert_eq!(a.geometry, b.geometry);
    }
}

/// A category without any facility (elderly care on the sample) has distances and coverage
/// that are null or zero everywhere; in the GeoPackage its columns are still Real, so that a
/// city appended to the layer later keeps its numbers.
#[test]
fn geopackage_columns_of_a_category_without_facilities_are_real() {
    if !gdal_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    crate::support::ok(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            data("facilities.geojson").to_str().unwrap(),
            "--residences",
            data("residences.geojson").to_str().unwrap(),
            "--communities",
            data("communities.geojson").to_str().unwrap(),
            "--format",
            "gpkg",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
    );
    let gpkg = out.join("lifecircle.gpkg");
    let residences = ogrinfo_layer(&gpkg, "residences");
    assert_eq!(
        residences.fields["elderly_care_m"], "Real",
        "{:?}",
        residences.fields
    );
    assert_eq!(residences.fields["elderly_care_id"], "String");
    let communities = ogrinfo_layer(&gpkg, "communities");
    assert_eq!(communities.fields["elderly_care_coverage"], "Real");
    assert_eq!(communities.fields["elderly_care_coverage_elderly"], "Real");
}
