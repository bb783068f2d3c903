//! Service areas (`service_areas.geojson`): every residence reported covered lies inside its
//! category's area, read back from the written files, on the sample and on seeded synthetic
//! cities, along the streets and in a straight line, dissolved and per facility; GDAL opens
//! them with the right geometry type; the flags' errors.

use std::{collections::HashMap, path::Path};

use geo::{Contains, MultiPolygon, Point};
use lifecircle_synth::{self as synth, CitySpec};

use crate::gdal::{gdal_available, ogrinfo, ogrinfo_layer};
use crate::support::*;

/// The areas of a written `service_areas.geojson`, keyed by (category, facility id or "").
fn areas(out: &Path) -> HashMap<(String, String), MultiPolygon<f64>> {
    features(&out.join("service_areas.geojson"))
        .into_iter()
        .map(|f| {
            let category = prop(&f, "category").as_str().unwrap().to_string();
            let facility = f
                .properties
                .as_ref()
                .and_then(|p| p.get("facility_id"))
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            let geometry: geo::Geometry<f64> = f.geometry.unwrap().value.try_into().unwrap();
            let shape = match geometry {
                geo::Geometry::MultiPolygon(m) => m,
                other => panic!("a MultiPolygon expected, found {other:?}"),
            };
            ((category, facility), shape)
        })
        .collect()
}

/// Check that every covered residence of `out` lies in its area (its category's, or its
/// nearest facility's when `per_facility`); returns how many (residence, category) pairs
/// were checked.
fn assert_covered_inside(out: &Path, categories: &[String], per_facility: bool) -> usize {
    let areas = areas(out);
    let mut checked = 0;
    for r in features(&out.join("residences.geojson")) {
        let at = point_of(&r);
        let missing: Vec<&str> = prop(&r, "missing")
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for c in categories {
            if missing.contains(&c.as_str()) {
                continue;
            }
            let facility = if per_facility {
                match prop(&r, &format!("{c}_id")) {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                }
            } else {
                String::new()
            };
            let area = areas
                .get(&(c.clone(), facility.clone()))
                .unwrap_or_else(|| panic!("no area for {c} {facility}"));
            assert!(
                area.contains(&Point::new(at.x(), at.y())),
                "{}: residence {} covered for {c} at {at:?} lies outside the area {facility}",
                out.display(),
                prop(&r, "id")
            );
            checked += 1;
        }
    }
    checked
}

fn sample_categories(out: &Path) -> Vec<String> {
    let s = read_json(&out.join("summary.json"));
    s["service_areas"]["categories"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn covered_residences_of_the_sample_lie_inside_their_areas() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "analyze",
        "--quiet",
        "--facilities",
        &data_arg("facilities.geojson"),
        "--residences",
        &data_arg("residences.geojson"),
        "--communities",
        &data_arg("communities.geojson"),
    ]
    .map(String::from);
    let streets = data_arg("streets.geojson");
    let cases: [(&str, Vec<&str>, bool); 4] = [
        (
            "net",
            vec!["--network", &streets, "--service-areas", "dissolved"],
            false,
        ),
        // Per facility along the streets, for the categories with few facilities (one
        // Dijkstra and one buffer per facility).
        (
            "net-each",
            vec![
                "--network",
                &streets,
                "--service-areas",
                "per-facility",
                "--categories",
                "childcare,medical,admin_services,school_primary,school_secondary",
            ],
            true,
        ),
        (
            "line",
            vec!["--detour", "1.3", "--service-areas", "dissolved"],
            false,
        ),
        ("line-each", vec!["--service-areas", "per-facility"], true),
    ];
    for (name, extra, per_facility) in cases {
        let out = dir.path().join(name);
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        args.extend(["--out", out.to_str().unwrap()]);
        args.extend(extra);
        ok(dir.path(), &args);
        let categories = sample_categories(&out);
        let checked = assert_covered_inside(&out, &categories, per_facility);
        assert!(checked > 200, "{name}: only {checked} covered pairs");
        let s = read_json(&out.join("summary.json"));
        let sa = &s["service_areas"];
        assert_eq!(sa["contains_covered"], true);
        assert_eq!(
            sa["method"],
            if name.starts_with("net") {
                "network"
            } else {
                "straight_line"
            }
        );
    }
}

#[test]
fn covered_residences_of_random_cities_lie_inside_their_areas() {
    for seed in [3u64, 17] {
        let mut spec = CitySpec::for_residences(3_000);
        spec.seed = seed;
        spec.streets = true;
        spec.facilities_per_category = 4;
        let (dir, _) = synth_city(&spec);
        let streets = dir.path().join(synth::STREETS_FILE);
        let streets = streets.to_str().unwrap();
        for (name, extra, per_facility) in [
            (
                "net",
                vec![
                    "--network",
                    streets,
                    "--max-walk",
                    "600m",
                    "--service-areas",
                    "dissolved",
                ],
                false,
            ),
            (
                "net-each",
                vec![
                    "--network",
                    streets,
                    "--snap",
                    "120m",
                    "--service-areas",
                    "per-facility",
                ],
                true,
            ),
            (
                "line",
                vec!["--max-walk", "400m", "--detour", "1.2", "--report"],
                false,
            ),
            ("line-each", vec!["--service-areas", "per-facility"], true),
        ] {
            let out = dir.path().join(name);
            let o = analyze_cmd(dir.path(), &out, &extra).output().unwrap();
            assert!(o.status.success(), "seed {seed} {name}: {}", text(&o).1);
            let checked = assert_covered_inside(&out, &spec.categories, per_facility);
            assert!(
                checked > 100,
                "seed {seed} {name}: only {checked} covered pairs"
            );
        }
    }
}

/// `lifecircle analyze --quiet` on the sample's facilities and residences along its streets,
/// into `out`, with `extra` arguments; insists on success.
fn analyze_sample_streets(dir: &Path, out: &Path, extra: &[&str]) {
    let (facilities, residences) = (
        data_arg("facilities.geojson"),
        data_arg("residences.geojson"),
    );
    let streets = data_arg("streets.geojson");
    let mut args = vec![
        "analyze",
        "--quiet",
        "--facilities",
        &facilities,
        "--residences",
        &residences,
        "--network",
        &streets,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    ok(dir, &args);
}

#[test]
fn a_width_cap_says_containment_is_not_claimed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    analyze_sample_streets(dir.path(), &out, &["--area-buffer", "50m"]);
    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["service_areas"]["contains_covered"], false);
    assert_eq!(s["service_areas"]["width_cap_m"], 50.0);
    for f in features(&out.join("service_areas.geojson")) {
        assert_eq!(prop(&f, "contains_covered"), false);
        assert_eq!(prop(&f, "width_cap_m"), 50.0);
    }
}

#[test]
fn no_service_areas_writes_no_file_and_bad_flags_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let facilities = data_arg("facilities.geojson");
    let residences = data_arg("residences.geojson");
    let streets = data_arg("streets.geojson");
    let o = out.to_str().unwrap();
    let base = [
        "analyze",
        "--quiet",
        "--facilities",
        &facilities,
        "--residences",
        &residences,
        "--out",
        o,
    ];
    fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        base.iter().chain(extra).copied().collect()
    }
    // Not drawn without the flag unless a picture shows them, nor with `none` even then.
    for extra in [&[][..], &["--service-areas", "none", "--report"][..]] {
        ok(dir.path(), &with(&base, extra));
        assert!(out.join("summary.json").exists());
        assert!(!out.join("service_areas.geojson").exists(), "{extra:?}");
        assert!(read_json(&out.join("summary.json"))
            .get("service_areas")
            .is_none());
    }
    ok(dir.path(), &with(&base, &["--map-png"]));
    assert!(out.join("service_areas.geojson").exists());
    // A usage error (exit status 2) naming the flag, the value and the choices.
    let o = run_in(dir.path(), &with(&base, &["--service-areas", "round"]));
    assert_eq!(o.status.code(), Some(2));
    let (_, stderr) = text(&o);
    for needle in ["--service-areas", "round", "dissolved, per-facility, none"] {
        assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    }
    fails(
        dir.path(),
        &with(&base, &["--area-buffer", "50m"]),
        &["--area-buffer", "--network"],
    );
    fails(
        dir.path(),
        &with(&base, &["--network", &streets, "--area-buffer", "-5m"]),
        &["--area-buffer"],
    );
    fails(
        dir.path(),
        &with(&base, &["--network", &streets, "--area-buffer", "5min"]),
        &["--area-buffer", "50m"],
    );
    fails(
        dir.path(),
        &with(
            &base,
            &[
                "--network",
                &streets,
                "--service-areas",
                "none",
                "--area-buffer",
                "50m",
            ],
        ),
        &["--area-buffer", "none"],
    );
}

#[test]
fn service_areas_open_in_gdal_as_multipolygons() {
    if !gdal_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    analyze_sample_streets(
        dir.path(),
        &out,
        &[
            "--format",
            "geojson,gpkg,fgb",
            "--service-areas",
            "dissolved",
        ],
    );
    let categories = sample_categories(&out).len();
    let geojson = ogrinfo(&out.join("service_areas.geojson"));
    assert_eq!(geojson.geometry, "Multi Polygon");
    assert_eq!(geojson.count, categories);
    assert_eq!(
        geojson.fields.get("area_km2").map(String::as_str),
        Some("Real")
    );
    assert_eq!(
        geojson.fields.get("contains_covered").map(String::as_str),
        Some("Integer(Boolean)")
    );
    let gpkg = ogrinfo_layer(&out.join("lifecircle.gpkg"), "service_areas");
    assert_eq!(gpkg.geometry, "Multi Polygon");
    assert_eq!(gpkg.count, categories);
    let fgb = ogrinfo(&out.join("service_areas.fgb"));
    assert_eq!(fgb.geometry, "Multi Polygon");
    assert_eq!(fgb.count, categories);
}
