//! End-to-end tests of the `lifecircle` binary: a hand-computed city, the Helsinki sample
//! against an independent brute-force computation, and every kind of bad input.

use std::{fs, path::PathBuf, process::Output};

use geo::{Distance, Geodesic, Point};
use serde_json::Value;

use crate::support::{
    assert_clean_failure, data, data_arg, features, lifecircle, point_of, prop, read_json, run_in,
    text, SIX_FUNCTIONS,
};

fn point(lon: f64, lat: f64, props: &str) -> String {
    format!(
        r#"{{"type":"Feature","properties":{props},"geometry":{{"type":"Point","coordinates":[{lon},{lat}]}}}}"#
    )
}

fn square(id: &str, lon0: f64, lon1: f64) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"id":"{id}","name":"Community {id}"}},"geometry":{{"type":"Polygon","coordinates":[[[{lon0},0],[{lon1},0],[{lon1},0.01],[{lon0},0.01],[{lon0},0]]]}}}}"#
    )
}

fn fc(features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",\n")
    )
}

/// A small city on the equator where distances are easy by hand: 0.001 degree of longitude is
/// 6378137 * pi / 180 * 0.001 = 111.3195 m.
struct SmallCity {
    dir: tempfile::TempDir,
}

impl SmallCity {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let facilities = fc(&[
            point(
                0.001,
                0.005,
                r#"{"id":"canteen","category":"meals","capacity":25}"#,
            ),
            point(0.019, 0.005, r#"{"id":"clinic","category":["medical"]}"#),
        ]);
        let residences = fc(&[
            point(0.002, 0.005, r#"{"id":"r1","population":10}"#),
            point(0.009, 0.005, r#"{"id":"r2","population":30}"#),
            point(0.011, 0.005, r#"{"id":"r3","population":20}"#),
            point(0.030, 0.005, r#"{"id":"r4","population":5}"#),
        ]);
        let communities = fc(&[square("A", 0.0, 0.01), square("B", 0.01, 0.02)]);
        fs::write(dir.path().join("f.geojson"), facilities).unwrap();
        fs::write(dir.path().join("r.geojson"), residences).unwrap();
        fs::write(dir.path().join("c.geojson"), communities).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn analyze(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "analyze",
            "--facilities",
            "f.geojson",
            "--residences",
            "r.geojson",
            "--communities",
            "c.geojson",
            "--categories",
            "meals,medical",
            "--max-walk",
            "900m",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        run_in(self.dir.path(), &args)
    }
}

#[test]
fn hand_computed_small_city() {
    let city = SmallCity::new();
    let o = city.analyze(&[]);
    assert!(o.status.success(), "{:?}", text(&o));
    let out = city.path("lifecircle-out");

    // Residences: r2 is 0.008 degree (890.56 m) from the canteen; r3 0.010 degree (1113.2 m).
    let res = features(&out.join("residences.geojson"));
    assert_eq!(res.len(), 4);
    let by_id = |id: &str| {
        res.iter()
            .find(|f| prop(f, "id") == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    let r2 = by_id("r2");
    assert_eq!(prop(r2, "community"), "A");
    assert!((prop(r2, "meals_m").as_f64().unwrap() - 890.6).abs() < 0.051);
    assert_eq!(prop(r2, "meals_id"), "canteen");
    assert!((prop(r2, "medical_m").as_f64().unwrap() - 1113.2).abs() < 0.051);
    assert_eq!(prop(r2, "missing"), &serde_json::json!(["medical"]));
    let r4 = by_id("r4");
    assert_eq!(prop(r4, "community"), &Value::Null);
    assert_eq!(
        prop(r4, "missing"),
        &serde_json::json!(["meals", "medical"])
    );
    let g = r4.geometry.as_ref().unwrap();
    assert_eq!(
        g.value,
        geojson::GeometryValue::new_point(vec![0.03, 0.005])
    );

    // Communities: A (r1 10 + r2 30) reaches meals but not medical; B (r3 20) the reverse.
    let com = features(&out.join("communities.geojson"));
    let a = com.iter().find(|f| prop(f, "id") == "A").unwrap();
    assert_eq!(prop(a, "population"), 40.0);
    assert_eq!(prop(a, "meals_coverage"), 1.0);
    assert_eq!(prop(a, "medical_coverage"), 0.0);
    assert_eq!(prop(a, "lacking"), &serde_json::json!(["medical"]));
    assert_eq!(prop(a, "gap_population"), 40.0);
    assert_eq!(prop(a, "served_all"), false);
    let b = com.iter().find(|f| prop(f, "id") == "B").unwrap();
    assert_eq!(prop(b, "lacking"), &serde_json::json!(["meals"]));
    assert_eq!(prop(b, "name"), "Community B");

    // City: 65 people; meals 40 covered, medical 20 (r3); r4 unassigned but counted.
    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["mode"], "straight-line");
    assert_eq!(s["max_walk_m"], 900.0);
    assert_eq!(s["population"], 65.0);
    assert_eq!(s["unassigned_residences"], 1);
    assert_eq!(s["categories"]["meals"]["covered_population"], 40.0);
    assert!((s["categories"]["meals"]["coverage"].as_f64().unwrap() - 40.0 / 65.0).abs() < 1e-6);
    assert_eq!(s["categories"]["medical"]["covered_population"], 20.0);
    assert_eq!(s["categories"]["meals"]["communities_lacking"], 1);
    assert_eq!(s["communities_lacking"], serde_json::json!(["A", "B"]));

    // Catchments: the canteen is nearest within reach for r1 and r2 (40 people, capacity 25);
    // the clinic for r3 (20), with no capacity given.
    let fac = features(&out.join("facilities.geojson"));
    assert_eq!(fac.len(), 2);
    let canteen = fac.iter().find(|f| prop(f, "id") == "canteen").unwrap();
    assert_eq!(prop(canteen, "categories"), &serde_json::json!(["meals"]));
    assert_eq!(prop(canteen, "capacity"), 25.0);
    assert_eq!(prop(canteen, "meals_catchment"), 40.0);
    assert_eq!(prop(canteen, "meals_load"), 1.6);
    assert_eq!(prop(canteen, "medical_catchment"), &Value::Null);
    let clinic = fac.iter().find(|f| prop(f, "id") == "clinic").unwrap();
    assert_eq!(prop(clinic, "medical_catchment"), 20.0);
    assert_eq!(prop(clinic, "medical_load"), &Value::Null);
    assert_eq!(s["categories"]["meals"]["capacity"], 25.0);
    assert_eq!(s["categories"]["meals"]["facilities_over_capacity"], 1);
    assert_eq!(s["categories"]["medical"]["capacity"], Value::Null);
    // The terminal summary says so too.
    let args = [
        "analyze",
        "--facilities",
        "f.geojson",
        "--residences",
        "r.geojson",
    ];
    let o = run_in(
        city.dir.path(),
        &[&args[..], &["--max-walk", "900m", "--out", "loud"]].concat(),
    );
    assert!(
        text(&o)
            .0
            .contains("catchment exceeds their capacity: meals (1)"),
        "{:?}",
        text(&o)
    );
    let csv = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(csv
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("meals,1,65,40,0.615385,1,2,900,"));

    // A detour of 1.2 puts r2 at 1068.7 m: A's meals coverage falls to 10 / 40.
    let o = city.analyze(&["--detour", "1.2", "--out", "detour"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let com = features(&city.path("detour/communities.geojson"));
    let a = com.iter().find(|f| prop(f, "id") == "A").unwrap();
    assert_eq!(prop(a, "meals_coverage"), 0.25);
    assert_eq!(prop(a, "lacking"), &serde_json::json!(["meals", "medical"]));

    // A 90 % target with 10 minutes at 1.5 m/s (900 m) gives the same as 900m.
    let o = city.analyze(&["--max-walk", "10min", "--walk-speed", "1.5", "--out", "o3"]);
    assert!(o.status.success());
    let s = read_json(&city.path("o3/summary.json"));
    assert_eq!(s["max_walk_m"], 900.0);
    assert_eq!(s["categories"]["meals"]["covered_population"], 40.0);
}

#[test]
fn communities_alone_are_the_demand() {
    // Without residences, community points are the demand, with their population.
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("f.geojson"),
        fc(&[point(0.0, 0.0, r#"{"category":"meals; elderly_care"}"#)]),
    )
    .unwrap();
    fs::write(
        dir.path().join("c.geojson"),
        fc(&[
            point(0.005, 0.0, r#"{"id":1,"population":100}"#),
            point(0.02, 0.0, r#"{"id":2,"population":50}"#),
        ]),
    )
    .unwrap();
    let o = run_in(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            "f.geojson",
            "--communities",
            "c.geojson",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let s = read_json(&dir.path().join("lifecircle-out/summary.json"));
    assert_eq!(s["demand"], "communities");
    assert_eq!(s["population"], 150.0);
    // 0.005 degree = 556.6 m (within 900 m); 0.02 degree = 2226.4 m (not).
    assert_eq!(s["categories"]["meals"]["covered_population"], 100.0);
    assert_eq!(s["categories"]["elderly_care"]["covered_population"], 100.0);
    // The six standard functions are always analysed; childcare has no facility.
    assert_eq!(s["categories"]["childcare"]["facilities"], 0);
    assert_eq!(s["communities_lacking"], serde_json::json!([1, 2]));
}

/// The Helsinki sample in straight-line mode, checked against an independent computation:
/// exhaustive Karney geodesic search from every residence to every facility, with residences
/// given to their nearest community point.
#[test]
fn helsinki_sample_matches_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &data_arg("facilities.geojson"),
            "--residences",
            &data_arg("residences.geojson"),
            "--communities",
            &data_arg("communities.geojson"),
        ],
    );
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains("childcare"), "{stdout}");
    let out = dir.path().join("lifecircle-out");
    let s = read_json(&out.join("summary.json"));

    let facilities = features(&data("facilities.geojson"));
    let residences = features(&data("residences.geojson"));
    let communities = features(&data("communities.geojson"));
    let total: f64 = residences
        .iter()
        .map(|r| prop(r, "population").as_f64().unwrap())
        .sum();
    assert!((s["population"].as_f64().unwrap() - total).abs() < 1e-6);

    let community_of = |p: Point| {
        communities
            .iter()
            .min_by(|a, b| {
                Geodesic
                    .distance(p, point_of(a))
                    .total_cmp(&Geodesic.distance(p, point_of(b)))
            })
            .map(|c| prop(c, "id").clone())
            .unwrap()
    };
    // The six standard functions, and every other category of the file (the schools).
    let mut categories: Vec<String> = SIX_FUNCTIONS.map(String::from).to_vec();
    for f in &facilities {
        for c in prop(f, "category").as_str().unwrap().split(';') {
            if !categories.iter().any(|k| k == c.trim()) {
                categories.push(c.trim().to_string());
            }
        }
    }
    assert!(categories.len() > 6, "{categories:?}");
    for cat in &categories {
        let cat = cat.as_str();
        let of_cat: Vec<Point> = facilities
            .iter()
            .filter(|f| {
                let value = prop(f, "category").as_str().unwrap();
                value.split(';').any(|c| c.trim() == cat)
            })
            .map(point_of)
            .collect();
        let mut covered = 0.0;
        let mut per_community: std::collections::HashMap<String, (f64, f64)> = Default::default();
        for r in &residences {
            let p = point_of(r);
            let pop = prop(r, "population").as_f64().unwrap();
            let d = of_cat
                .iter()
                .map(|f| Geodesic.distance(p, *f))
                .fold(f64::INFINITY, f64::min);
            let e = per_community
                .entry(community_of(p).as_str().unwrap().to_string())
                .or_default();
            e.0 += pop;
            if d <= 900.0 {
                covered += pop;
                e.1 += pop;
            }
        }
        let c = &s["categories"][cat];
        assert_eq!(
            c["facilities"].as_u64().unwrap() as usize,
            of_cat.len(),
            "{cat}"
        );
        assert!(
            (c["covered_population"].as_f64().unwrap() - covered).abs() < 1e-6,
            "{cat}: {} vs brute force {covered}",
            c["covered_population"]
        );
        let lacking = per_community
            .values()
            .filter(|(pop, cov)| *pop > 0.0 && cov / pop < 0.85)
            .count();
        assert_eq!(
            c["communities_lacking"].as_u64().unwrap() as usize,
            lacking,
            "{cat}"
        );
        if of_cat.is_empty() {
            // A standard function without any facility (elderly care in this extract).
            assert_eq!(c["coverage"], 0.0, "{cat}");
        }
    }
}

/// No arguments: the embedded sample along its streets. Every network walk is at least the
/// straight-line distance, and the summary says it is a network analysis.
#[test]
fn no_arguments_runs_the_sample_along_the_streets() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(dir.path(), &[]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains("Helsinki"), "{stdout}");
    assert!(stdout.contains("network walk within 900 m"), "{stdout}");
    let out = dir.path().join("lifecircle-out");
    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["mode"], "network");
    assert!(s["off_network_residences"].is_u64());

    let facilities = features(&data("facilities.geojson"));
    // A category without any facility in the file is covered for nobody.
    let categories = s["categories"].as_object().unwrap();
    for (cat, c) in categories {
        if !facilities
            .iter()
            .any(|f| prop(f, "category").as_str().unwrap().contains(cat.as_str()))
        {
            assert_eq!(c["coverage"], 0.0, "{cat}");
        }
    }
    let fac_at = |id: &Value| {
        let f = facilities.iter().find(|f| prop(f, "id") == id).unwrap();
        match &f.geometry.as_ref().unwrap().value {
            geojson::GeometryValue::Point { coordinates: p } => Point::new(p[0], p[1]),
            _ => panic!("points expected"),
        }
    };
    let mut measured = 0;
    let residences = features(&out.join("residences.geojson"));
    for r in &residences {
        let at = match &r.geometry.as_ref().unwrap().value {
            geojson::GeometryValue::Point { coordinates: p } => Point::new(p[0], p[1]),
            _ => panic!("points expected"),
        };
        assert_eq!(prop(r, "off_network"), false);
        for cat in categories.keys() {
            if let Some(d) = prop(r, &format!("{cat}_m")).as_f64() {
                let straight = Geodesic.distance(at, fac_at(prop(r, &format!("{cat}_id"))));
                // Written with 1 decimal: allow 5 cm of rounding.
                assert!(
                    d >= straight - 0.05,
                    "{cat}: network {d} < straight {straight}"
                );
                assert!(d <= 900.0);
                measured += 1;
            }
        }
    }
    // Most residences reach most categories (a guard against checking nothing).
    assert!(
        measured > residences.len() * categories.len() / 2,
        "{measured}"
    );
    // Each facility's catchment is the population of the residences that walk to it.
    let mut by_facility: std::collections::HashMap<(String, String), f64> = Default::default();
    for r in &residences {
        for cat in categories.keys() {
            if let Some(id) = prop(r, &format!("{cat}_id")).as_str() {
                let pop = prop(r, "population").as_f64().unwrap();
                *by_facility
                    .entry((cat.clone(), id.to_string()))
                    .or_default() += pop;
            }
        }
    }
    for f in features(&out.join("facilities.geojson")) {
        for cat in categories.keys() {
            if let Some(catchment) = prop(&f, &format!("{cat}_catchment")).as_f64() {
                let id = prop(&f, "id").as_str().unwrap().to_string();
                let expected = by_facility
                    .remove(&(cat.clone(), id.clone()))
                    .unwrap_or(0.0);
                assert!(
                    (catchment - expected).abs() < 1e-3,
                    "{cat} {id}: {catchment}"
                );
            }
        }
    }
    assert!(by_facility.is_empty(), "{by_facility:?}");
}

#[test]
fn profiles_are_listed_and_shown() {
    let o = lifecircle().args(["profiles"]).output().unwrap();
    let (stdout, _) = text(&o);
    assert!(o.status.success());
    assert!(
        stdout.contains("six-functions") && stdout.contains("gb50180"),
        "{stdout}"
    );
    let o = lifecircle()
        .args(["profiles", "show", "gb50180"])
        .output()
        .unwrap();
    let (stdout, _) = text(&o);
    assert!(stdout.contains("GB 50180"), "{stdout}");
    let o = lifecircle()
        .args(["profiles", "show", "nope"])
        .output()
        .unwrap();
    assert_clean_failure(&o, &["no built-in profile", "six-functions"]);
}

#[test]
fn extract_then_analyze_along_the_extracted_streets() {
    let dir = tempfile::tempdir().unwrap();
    let pbf = data("raw/helsinki-centre.osm.pbf");
    let grid = data("raw/helsinki-population-2020.geojson");
    let o = run_in(
        dir.path(),
        &[
            "extract",
            pbf.to_str().unwrap(),
            "--out",
            "city",
            "--population",
            grid.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run_in(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            "city/facilities.geojson",
            "--residences",
            "city/residences.geojson",
            "--communities",
            "city/communities.geojson",
            "--network",
            pbf.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let s = read_json(&dir.path().join("lifecircle-out/summary.json"));
    assert_eq!(s["mode"], "network");
    assert_eq!(s["skipped_features"], 0);
    // The grid's people placed in the extract's homes: 7,801 (see data/README.md).
    assert!(
        (s["population"].as_f64().unwrap() - 7801.0).abs() < 0.01,
        "{}",
        s["population"]
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input: a clear message naming the file, the feature and the property; non-zero exit;
// never a panic, never a half-written output.

/// Run the small city with `residences` replaced, with and without --strict.
fn with_bad_residences(residences: &str) -> (Output, Output, tempfile::TempDir) {
    let city = SmallCity::new();
    fs::write(city.path("r.geojson"), residences).unwrap();
    let strict = city.analyze(&["--strict", "--out", "strict"]);
    let lenient = city.analyze(&[]);
    (strict, lenient, city.dir)
}

fn bad_feature(props: &str, geometry: &str) -> String {
    fc(&[
        point(0.002, 0.005, r#"{"id":"ok","population":10}"#),
        format!(r#"{{"type":"Feature","properties":{props},"geometry":{geometry}}}"#),
    ])
}

#[test]
fn bad_features_are_named_skipped_and_counted() {
    let cases = [
        (
            r#"{"id":"x","population":"many"}"#,
            r#"{"type":"Point","coordinates":[0.003,0.005]}"#,
            "(population)",
            "expected a number",
        ),
        (
            r#"{"id":"x","population":-4}"#,
            r#"{"type":"Point","coordinates":[0.003,0.005]}"#,
            "(population)",
            "negative",
        ),
        (
            r#"{"id":"x","population":null}"#,
            r#"{"type":"Point","coordinates":[0.003,0.005]}"#,
            "(population)",
            "null",
        ),
        (
            r#"{"id":"x"}"#,
            r#"{"type":"Curve","coordinates":[0.003,0.005]}"#,
            "(geometry)",
            "unsupported geometry type",
        ),
        (
            r#"{"id":"x"}"#,
            r#"{"type":"MultiPoint","coordinates":[]}"#,
            "(geometry)",
            "empty",
        ),
        (r#"{"id":"x"}"#, "null", "(geometry)", "null"),
        (
            r#"{"id":"x"}"#,
            r#"{"type":"Point","coordinates":[200.5,95.1]}"#,
            "(geometry)",
            "outside WGS84 range",
        ),
        (
            r#"{"id":"x"}"#,
            r#"{"type":"Point","coordinates":[60.17,124.94]}"#,
            "(geometry)",
            "swap",
        ),
        (
            r#"{"id":"x"}"#,
            r#"{"type":"Point","coordinates":[2776000.5,8437000.1]}"#,
            "(geometry)",
            "projected",
        ),
        (
            r#"{"id":"ok"}"#,
            r#"{"type":"Point","coordinates":[0.003,0.005]}"#,
            "(id)",
            "duplicate id",
        ),
    ];
    for (props, geometry, field, problem) in cases {
        let (strict, lenient, dir) = with_bad_residences(&bad_feature(props, geometry));
        assert_clean_failure(&strict, &["r.geojson", "feature 1", field, problem]);
        assert!(!dir.path().join("strict").exists(), "no output on failure");
        let (_, stderr) = text(&lenient);
        assert!(lenient.status.success(), "{stderr}");
        assert!(stderr.contains("skipped 1"), "{stderr}");
        assert!(stderr.contains(problem), "{stderr}");
        let s = read_json(&dir.path().join("lifecircle-out/summary.json"));
        assert_eq!(s["skipped_features"], 1, "{props} {geometry}");
        assert_eq!(s["demand_points"], 1);
    }
}

#[test]
fn bad_categories() {
    let city = SmallCity::new();
    fs::write(
        city.path("f.geojson"),
        fc(&[
            point(0.001, 0.005, r#"{"id":"a","category":"meals"}"#),
            point(0.001, 0.005, r#"{"id":"b","category":" ; "}"#),
            point(0.001, 0.005, r#"{"id":"c"}"#),
            point(0.001, 0.005, r#"{"id":"d","category":7}"#),
        ]),
    )
    .unwrap();
    let o = city.analyze(&["--strict"]);
    assert_clean_failure(&o, &["f.geojson", "feature 1", "(category)", "empty"]);
    let o = city.analyze(&[]);
    let (_, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("skipped 3"), "{stderr}");
    assert!(
        stderr.contains("feature 2 (category): the facility has no category"),
        "{stderr}"
    );
    assert!(
        stderr.contains("feature 3 (category): expected a string"),
        "{stderr}"
    );
}

#[test]
fn whole_file_errors() {
    let cases: [(&str, &[&str]); 5] = [
        (
            "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",}]}",
            &["r.geojson", "malformed JSON at line 2"],
        ),
        (
            "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[NaN,1]}}]}",
            &["r.geojson", "line 2", "NaN"],
        ),
        (
            r#"{"type":"Feature","properties":{},"geometry":null}"#,
            &["r.geojson", "expected a GeoJSON FeatureCollection", "Feature"],
        ),
        (r#"{"type":"FeatureCollection"}"#, &["r.geojson", "no \"features\""]),
        ("", &["r.geojson", "ends before"]),
    ];
    for (content, needles) in cases {
        let (strict, lenient, dir) = with_bad_residences(content);
        assert_clean_failure(&strict, needles);
        assert_clean_failure(&lenient, needles);
        assert!(!dir.path().join("lifecircle-out").exists());
    }
}

#[test]
fn missing_file_and_unwritable_output() {
    let city = SmallCity::new();
    fs::remove_file(city.path("r.geojson")).unwrap();
    let o = city.analyze(&[]);
    assert_clean_failure(&o, &["cannot read r.geojson", "No such file"]);

    let city = SmallCity::new();
    fs::write(city.path("taken"), "a file, not a directory").unwrap();
    let o = city.analyze(&["--out", "taken/sub"]);
    assert_clean_failure(&o, &["cannot write", "taken/sub"]);
}

#[test]
fn bad_settings() {
    let city = SmallCity::new();
    for (args, needle) in [
        (&["--max-walk", "fast"][..], "--max-walk"),
        (&["--target", "120"][..], "--target"),
        (&["--detour", "0.5"][..], "--detour"),
        (&["--walk-speed", "0"][..], "--walk-speed"),
    ] {
        let o = city.analyze(args);
        assert_clean_failure(&o, &[needle]);
    }
    let o = lifecircle().args(["analyze"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "a usage error");
}

/// `--out` naming the folder that holds the inputs (as `extract` writes them) must not replace
/// them: the run is refused before anything is read or written, whether the output reaches an
/// input by the same path, through a symbolic link to the folder, or as a hard link; `extract`
/// likewise.
#[test]
fn an_output_never_replaces_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("inputs");
    fs::create_dir(&inputs).unwrap();
    let names = [
        "facilities.geojson",
        "residences.geojson",
        "communities.geojson",
    ];
    for name in names {
        fs::copy(data(name), inputs.join(name)).unwrap();
    }
    let before: Vec<Vec<u8>> = names
        .iter()
        .map(|n| fs::read(inputs.join(n)).unwrap())
        .collect();
    let input = |name: &str| inputs.join(name).to_str().unwrap().to_string();
    let analyze = |out: &str| {
        let (f, r, c) = (
            input("facilities.geojson"),
            input("residences.geojson"),
            input("communities.geojson"),
        );
        let args = [
            "analyze",
            "--facilities",
            &f,
            "--residences",
            &r,
            "--communities",
            &c,
            "--out",
            out,
        ];
        run_in(dir.path(), &args)
    };
    let unchanged = || {
        for (name, bytes) in names.iter().zip(&before) {
            assert_eq!(
                &fs::read(inputs.join(name)).unwrap(),
                bytes,
                "{name} was modified"
            );
        }
        assert!(
            !inputs.join("summary.json").exists(),
            "nothing may be written"
        );
    };

    let o = analyze("inputs");
    assert_clean_failure(
        &o,
        &[
            "refusing to write",
            "communities.geojson",
            "it is the input",
        ],
    );
    unchanged();

    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&inputs, dir.path().join("link")).unwrap();
        assert_clean_failure(&analyze("link"), &["refusing to write", "it is the input"]);
        unchanged();
        let hard = dir.path().join("hard");
        fs::create_dir(&hard).unwrap();
        fs::hard_link(
            inputs.join("residences.geojson"),
            hard.join("residences.geojson"),
        )
        .unwrap();
        assert_clean_failure(
            &analyze("hard"),
            &["refusing to write", "residences.geojson"],
        );
        unchanged();
    }

    // A different folder is fine.
    let o = analyze("elsewhere");
    assert!(o.status.success(), "{}", text(&o).1);
    unchanged();

    // extract: a population grid kept where the extract writes its communities.
    let grid = inputs.join("communities.geojson");
    let pbf = data("raw/helsinki-centre.osm.pbf");
    let args = [
        "extract",
        pbf.to_str().unwrap(),
        "--out",
        inputs.to_str().unwrap(),
        "--population",
        grid.to_str().unwrap(),
    ];
    assert_clean_failure(
        &run_in(dir.path(), &args),
        &["refusing to write", "it is the input"],
    );
    unchanged();
}
