//! `analyze --planned`: every `_planned` figure equals the figure of a plain run on today's and
//! the planned facilities as one file (straight line and along streets, with capacities); a
//! small case worked by hand; `site`'s sites read as planned facilities give the coverage `site`
//! reported after its plan; bad planned input stops with a message naming the file, the feature
//! and the property; GDAL types the new columns.

use std::{fs, path::Path};

use lifecircle::geodesy::LonLat;
use lifecircle_synth::{self as synth, CitySpec};
use serde_json::{json, Map, Value};

use crate::support::{
    analyze_cmd, data_arg, fails, features, geodesic_m, ll, ok, prop, read_json, synth_city, text,
};

pub(crate) fn write_fc(path: &Path, features: &[Value]) {
    let fc = json!({"type": "FeatureCollection", "features": features});
    fs::write(path, serde_json::to_string(&fc).unwrap()).unwrap();
}

pub(crate) fn read_fc(path: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    v["features"].as_array().unwrap().clone()
}

fn props(f: &geojson::Feature) -> &Map<String, Value> {
    f.properties.as_ref().expect("properties")
}

/// Every property of `plain` (the run on the merged facilities) is the `_planned` property of
/// `planned` when that has one, else the same property (ids, names, populations...). Returns
/// how many `_planned` properties were compared.
fn same_as_plain(what: &str, planned: &[geojson::Feature], plain: &[geojson::Feature]) -> usize {
    assert_eq!(planned.len(), plain.len(), "{what}: feature counts");
    let mut compared = 0;
    for (k, (a, b)) in planned.iter().zip(plain).enumerate() {
        assert_eq!(a.geometry, b.geometry, "{what} {k}: geometry");
        for (key, value) in props(b) {
            let after = format!("{key}_planned");
            match props(a).get(&after) {
                Some(v) => {
                    assert_eq!(v, value, "{what} {k}: {after} against the plain {key}");
                    compared += 1;
                }
                None => assert_eq!(
                    prop(a, key),
                    value,
                    "{what} {k}: {key} (no `_planned` column)"
                ),
            }
        }
    }
    compared
}

/// Split the synthetic city's facilities (with capacities) into today's and planned (every
/// third facility of the first three categories, with a status and year), and write them, and
/// both as one file in the same order, into `dir`.
pub(crate) fn split_facilities(dir: &Path) -> usize {
    let all = read_fc(&dir.join(synth::FACILITIES_CAPACITY_FILE));
    let planned_categories = &synth::DEFAULT_CATEGORIES[..3];
    let (mut today, mut planned) = (Vec::new(), Vec::new());
    for (i, f) in all.into_iter().enumerate() {
        let category = f["properties"]["category"].as_str().unwrap().to_string();
        if i % 3 == 0 && planned_categories.contains(&category.as_str()) {
            let mut f = f;
            f["properties"]["status"] = json!("under construction");
            f["properties"]["year"] = json!(2025 + (i % 2));
            planned.push(f);
        } else {
            today.push(f);
        }
    }
    assert!(!planned.is_empty() && !today.is_empty());
    write_fc(&dir.join("today.geojson"), &today);
    write_fc(&dir.join("planned.geojson"), &planned);
    let merged: Vec<Value> = today.iter().chain(&planned).cloned().collect();
    write_fc(&dir.join("merged.geojson"), &merged);
    planned.len()
}

/// Run with today's facilities and `--planned`, and plainly on the merged file (in a straight
/// line, or along the city's streets); compare every output.
fn planned_equals_merged(network: bool) {
    let mut spec = CitySpec::for_residences(20_000);
    spec.streets = network;
    let (dir, _) = synth_city(&spec);
    let d = dir.path();
    let n_planned = split_facilities(d);
    let streets = d.join(synth::STREETS_FILE);
    let run = |out: &str, facilities: &str, more: &[&str]| {
        let mut args = vec!["--max-walk", "500m"];
        if network {
            args.extend(["--network", streets.to_str().unwrap()]);
        }
        args.extend(more);
        let mut c = analyze_cmd(d, &d.join(out), &args);
        // The last --facilities given wins.
        c.arg("--facilities").arg(d.join(facilities));
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", text(&o).1);
    };
    let planned = d.join("planned.geojson");
    run(
        "a",
        "today.geojson",
        &["--planned", planned.to_str().unwrap()],
    );
    run("b", "merged.geojson", &[]);
    let (a, b) = (d.join("a"), d.join("b"));

    let n = same_as_plain(
        "communities",
        &features(&a.join("communities.geojson")),
        &features(&b.join("communities.geojson")),
    );
    assert!(n > 0);
    let n = same_as_plain(
        "residences",
        &features(&a.join("residences.geojson")),
        &features(&b.join("residences.geojson")),
    );
    assert!(n > 0);
    let fa = features(&a.join("facilities.geojson"));
    let n = same_as_plain("facilities", &fa, &features(&b.join("facilities.geojson")));
    assert!(n > 0);
    // The planned facilities are marked, after today's, with their status and year.
    let marked: Vec<&geojson::Feature> = fa.iter().filter(|f| prop(f, "planned") == true).collect();
    assert_eq!(marked.len(), n_planned);
    assert!(fa[fa.len() - n_planned..]
        .iter()
        .all(|f| prop(f, "planned") == true));
    for f in &marked {
        assert_eq!(prop(f, "status"), "under construction");
        assert!(matches!(prop(f, "year").as_i64(), Some(2025 | 2026)));
    }
    // Every result column has its `_planned` twin in every file, with capacities too.
    let first = &features(&a.join("communities.geojson"))[0];
    for key in [
        "medical_coverage_planned",
        "lacking_planned",
        "gap_population_planned",
        "served_all_planned",
    ] {
        assert!(
            props(first).contains_key(key),
            "{key} in {:?}",
            props(first)
        );
    }
    assert!(
        props(first).keys().any(|k| k.ends_with("_access_planned")),
        "capacity within reach has `_planned` columns: {:?}",
        props(first).keys()
    );

    // summary.json: before is today's, after is the plain run's, with the change.
    let (sa, sb) = (
        read_json(&a.join("summary.json")),
        read_json(&b.join("summary.json")),
    );
    let p = &sa["planned"];
    assert_eq!(p["facilities"], n_planned);
    for (name, plain) in sb["categories"].as_object().unwrap() {
        let c = &p["categories"][name];
        assert_eq!(c["coverage_after"], plain["coverage"], "{name}");
        assert_eq!(
            c["covered_population_after"], plain["covered_population"],
            "{name}"
        );
        assert_eq!(
            c["communities_lacking_after"], plain["communities_lacking"],
            "{name}"
        );
        assert_eq!(c["coverage_before"], sa["categories"][name]["coverage"]);
        let change = c["coverage_after"].as_f64().unwrap() - c["coverage_before"].as_f64().unwrap();
        // Each of the three is rounded to 6 decimals on its own.
        assert!((c["coverage_change"].as_f64().unwrap() - change).abs() <= 2e-6);
        let offered = synth::DEFAULT_CATEGORIES[..3].contains(&name.as_str());
        assert_eq!(c["planned_facilities"].as_u64().unwrap() > 0, offered);
        if !offered {
            assert_eq!(c["coverage_after"], c["coverage_before"], "{name}");
        }
    }
    assert_eq!(
        p["communities_lacking_after_ids"],
        sb["communities_lacking"]
    );
    // The communities that change are those whose `lacking` differs, before and after.
    let gap = features(&a.join("communities.geojson"));
    let changed: Vec<&Value> = gap
        .iter()
        .filter(|f| prop(f, "lacking") != prop(f, "lacking_planned"))
        .map(|f| prop(f, "id"))
        .collect();
    let listed: Vec<&Value> = p["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(listed, changed);
    assert_eq!(p["communities_changed"], changed.len());

    // summary.csv: the `_planned` columns are the plain run's.
    let csv = |dir: &Path| -> Vec<Vec<String>> {
        fs::read_to_string(dir.join("summary.csv"))
            .unwrap()
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect()
    };
    let (ca, cb) = (csv(&a), csv(&b));
    let col = |rows: &[Vec<String>], name: &str| rows[0].iter().position(|h| h == name).unwrap();
    for (ra, rb) in ca[1..].iter().zip(&cb[1..]) {
        assert_eq!(ra[0], rb[0]);
        for name in [
            "coverage",
            "covered_population",
            "communities_lacking",
            "facilities",
        ] {
            assert_eq!(
                ra[col(&ca, &format!("{name}_planned"))],
                rb[col(&cb, name)],
                "{} {name}",
                ra[0]
            );
        }
    }
}

#[test]
fn planned_columns_equal_a_run_on_the_merged_facilities_straight_line() {
    planned_equals_merged(false);
}

#[test]
fn planned_columns_equal_a_run_on_the_merged_facilities_along_streets() {
    planned_equals_merged(true);
}

/// A position `east_m` metres east of a point in central Helsinki.
fn east(east_m: f64) -> LonLat {
    let m_per_deg = 6_371_008.8 * std::f64::consts::PI / 180.0;
    ll(
        24.94 + east_m / (m_per_deg * 60.17f64.to_radians().cos()),
        60.17,
    )
}

fn point(p: LonLat, props: Value) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon(), p.lat()]}, "properties": props})
}

/// Homes 100 m, 700 m and 1500 m east of today's clinic, and a clinic planned at 1400 m; a
/// 500 m straight walk. Today home 0 reaches a clinic (100 m); with the planned one home 2 does
/// too (100 m); home 1 (700 m from both) reaches neither.
#[test]
fn a_small_case_worked_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_fc(
        &d.join("f.geojson"),
        &[point(
            east(0.0),
            json!({"id": "clinic", "category": "medical"}),
        )],
    );
    write_fc(
        &d.join("p.geojson"),
        &[point(
            east(1400.0),
            json!({"id": "new-clinic", "category": "medical", "status": "planned", "year": "2026"}),
        )],
    );
    let homes = [(100.0, 30.0, "A"), (700.0, 20.0, "A"), (1500.0, 50.0, "B")];
    write_fc(
        &d.join("r.geojson"),
        &homes
            .iter()
            .enumerate()
            .map(|(i, (m, pop, c))| {
                point(
                    east(*m),
                    json!({"id": format!("r{i}"), "population": pop, "community": c}),
                )
            })
            .collect::<Vec<_>>(),
    );
    let stdout = ok(
        d,
        &[
            "analyze",
            "--facilities",
            "f.geojson",
            "--residences",
            "r.geojson",
            "--planned",
            "p.geojson",
            "--categories",
            "medical",
            "--max-walk",
            "500m",
            "--out",
            "o",
        ],
    );
    // Covered: 30 of 100 today, 80 of 100 with the planned clinic.
    assert!(stdout.contains("30 → 80 (+50)"), "{stdout}");
    assert!(stdout.contains("30.0 % → 80.0 % (+50 pt)"), "{stdout}");
    assert!(
        stdout.contains("Planned: 1 facility from p.geojson"),
        "{stdout}"
    );
    let s = read_json(&d.join("o/summary.json"));
    let m = &s["planned"]["categories"]["medical"];
    assert_eq!(m["covered_population_before"], 30.0);
    assert_eq!(m["covered_population_after"], 80.0);
    assert_eq!(m["coverage_after"], 0.8);
    assert_eq!(m["coverage_change"], 0.5);
    // Community A: 30 of 50 (60 %) before and after; B: 0 of 50, then all 50.
    assert_eq!(m["communities_lacking_before"], 2);
    assert_eq!(m["communities_lacking_after"], 1);
    assert_eq!(s["planned"]["communities_changed"], 1);
    assert_eq!(s["planned"]["changed"][0]["id"], "B");
    assert_eq!(
        s["planned"]["changed"][0]["lacking_before"],
        json!(["medical"])
    );
    assert_eq!(s["planned"]["changed"][0]["lacking_after"], json!([]));
    let gap = features(&d.join("o/communities.geojson"));
    let b = gap.iter().find(|f| prop(f, "id") == "B").unwrap();
    assert_eq!(prop(b, "medical_coverage"), 0.0);
    assert_eq!(prop(b, "medical_coverage_planned"), 1.0);
    assert_eq!(prop(b, "gap_population_planned"), 0.0);
    assert_eq!(prop(b, "served_all_planned"), true);
    let res = features(&d.join("o/residences.geojson"));
    // Distances by Karney's geodesic (geo), written with one decimal.
    let near = geodesic_m(east(1500.0), east(1400.0));
    assert!((prop(&res[2], "medical_m_planned").as_f64().unwrap() - near).abs() <= 0.05 + 1e-9);
    assert_eq!(prop(&res[2], "medical_id_planned"), "new-clinic");
    // Today the nearest clinic is 1500 m off, beyond the walk: no distance within reach.
    let today_m = prop(&res[2], "medical_m").as_f64();
    assert!(today_m.is_none_or(|m| m > 500.0), "{today_m:?}");
    assert_eq!(prop(&res[2], "missing"), &json!(["medical"]));
    assert_eq!(prop(&res[2], "missing_planned"), &json!([]));
    assert_eq!(prop(&res[1], "missing_planned"), &json!(["medical"]));
    let to_today = geodesic_m(east(100.0), east(0.0));
    for k in ["medical_m", "medical_m_planned"] {
        assert!((prop(&res[0], k).as_f64().unwrap() - to_today).abs() <= 0.05 + 1e-9);
    }
    let fac = features(&d.join("o/facilities.geojson"));
    assert_eq!(fac.len(), 2);
    assert_eq!(prop(&fac[0], "planned"), false);
    assert_eq!(prop(&fac[0], "medical_catchment"), 30.0);
    assert_eq!(prop(&fac[1], "planned"), true);
    assert_eq!(prop(&fac[1], "status"), "planned");
    assert_eq!(prop(&fac[1], "year"), 2026);
    assert!(prop(&fac[1], "medical_catchment").is_null());
    assert_eq!(prop(&fac[1], "medical_catchment_planned"), 50.0);

    // --planned-until leaves the clinic planned for 2026 out of a 2025 plan.
    let o = crate::support::run_in(
        d,
        &[
            "analyze",
            "--facilities",
            "f.geojson",
            "--residences",
            "r.geojson",
            "--planned",
            "p.geojson",
            "--planned-until",
            "2025",
            "--out",
            "o2",
        ],
    );
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("every planned facility is planned after 2025"),
        "{stderr}"
    );
    assert!(!d.join("o2/summary.json").exists());
}

/// `site`'s sites, given to `analyze --planned`, give the coverage `site` reported after them.
#[test]
fn site_results_are_planned_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let common = [
        "--facilities".to_string(),
        data_arg("facilities.geojson"),
        "--residences".into(),
        data_arg("residences.geojson"),
        "--communities".into(),
        data_arg("communities.geojson"),
        "--network".into(),
        data_arg("streets.geojson"),
        "--quiet".into(),
    ];
    let mut args: Vec<String> = [
        "site",
        "--category",
        "medical,elderly_care",
        "--new",
        "3",
        "--candidates-from",
        "grid:250m",
        "--out",
        "s",
    ]
    .map(String::from)
    .to_vec();
    args.extend(common.iter().cloned());
    ok(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let mut args: Vec<String> = ["analyze", "--planned", "s/sites.geojson", "--out", "a"]
        .map(String::from)
        .to_vec();
    args.extend(common.iter().cloned());
    ok(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let site = read_json(&d.join("s/summary.json"));
    let planned = read_json(&d.join("a/summary.json"));
    let mut checked = 0;
    for p in site["problems"].as_array().unwrap() {
        for c in p["categories"].as_array().unwrap() {
            let name = c["category"].as_str().unwrap();
            let ours = &planned["planned"]["categories"][name];
            assert_eq!(
                ours["covered_population_after"], c["covered_population_after"],
                "{name}"
            );
            assert_eq!(
                ours["communities_lacking_after"], c["communities_lacking_after"],
                "{name}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2);
}

#[test]
fn bad_planned_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_fc(
        &d.join("f.geojson"),
        &[point(
            east(0.0),
            json!({"id": "clinic", "category": "medical"}),
        )],
    );
    write_fc(
        &d.join("r.geojson"),
        &[point(east(100.0), json!({"id": "r0", "population": 10}))],
    );
    let base = [
        "analyze",
        "--facilities",
        "f.geojson",
        "--residences",
        "r.geojson",
        "--categories",
        "medical",
        "--out",
        "o",
        "--planned",
    ];
    let with = |file: &str, more: &[&'static str]| {
        let mut v: Vec<String> = base.map(String::from).to_vec();
        v.push(file.into());
        v.extend(more.iter().map(|s| s.to_string()));
        v
    };
    let run_fails = |args: Vec<String>, needles: &[&str]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(d, &args, needles);
        assert!(!d.join("o/summary.json").exists(), "nothing written");
    };
    run_fails(
        with("missing.geojson", &[]),
        &["cannot read missing.geojson"],
    );
    // A year that is not one: skipped with a warning, or the error with --strict.
    write_fc(
        &d.join("bad-year.geojson"),
        &[
            point(east(50.0), json!({"id": "p0", "category": "medical"})),
            point(
                east(60.0),
                json!({"id": "p1", "category": "medical", "year": "soon"}),
            ),
        ],
    );
    run_fails(
        with("bad-year.geojson", &["--strict"]),
        &[
            "bad-year.geojson: feature 1 (year)",
            "whole number",
            "\"soon\"",
        ],
    );
    let args = with("bad-year.geojson", &[]);
    let o = crate::support::run_in(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let (_, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("bad-year.geojson: feature 1 (year)"),
        "{stderr}"
    );
    fs::remove_dir_all(d.join("o")).unwrap();
    // A category that is not analysed.
    write_fc(
        &d.join("unknown.geojson"),
        &[
            point(east(50.0), json!({"id": "p0", "category": "medical"})),
            point(east(60.0), json!({"id": "p1", "category": "bakery"})),
        ],
    );
    run_fails(
        with("unknown.geojson", &[]),
        &[
            "unknown.geojson: feature 1 (category)",
            "\"bakery\" is not a category of the analysis (analysed: medical)",
        ],
    );
    // A feature without a usable geometry, with --strict.
    fs::write(
        d.join("no-geometry.geojson"),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null,"properties":{"id":"p0","category":"medical"}}]}"#,
    )
    .unwrap();
    run_fails(
        with("no-geometry.geojson", &[]),
        &["no-geometry.geojson", "planned facility", "geometry"],
    );
    // --planned is analyze's.
    fails(
        d,
        &[
            "site",
            "--facilities",
            "f.geojson",
            "--residences",
            "r.geojson",
            "--new",
            "1",
            "--category",
            "medical",
            "--candidates-from",
            "grid:100m",
            "--planned",
            "f.geojson",
        ],
        &["--planned is an option of `analyze`"],
    );
}

#[test]
fn gdal_types_the_planned_columns() {
    if !crate::gdal::gdal_available() {
        return;
    }
    let (dir, _) = synth_city(&CitySpec::for_residences(3_000));
    let d = dir.path();
    split_facilities(d);
    let out = d.join("o");
    let planned = d.join("planned.geojson");
    let mut c = analyze_cmd(
        d,
        &out,
        &["--max-walk", "400m", "--planned", planned.to_str().unwrap()],
    );
    c.arg("--facilities").arg(d.join("today.geojson"));
    c.current_dir(d);
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    let communities = crate::gdal::ogrinfo(&out.join("communities.geojson"));
    let residences = crate::gdal::ogrinfo(&out.join("residences.geojson"));
    let facilities = crate::gdal::ogrinfo(&out.join("facilities.geojson"));
    for (layer, field, ty) in [
        (&communities, "medical_coverage_planned", "Real"),
        (&communities, "lacking_planned", "StringList"),
        (&communities, "gap_population_planned", "Real"),
        (&communities, "served_all_planned", "Integer(Boolean)"),
        (&residences, "medical_m_planned", "Real"),
        (&residences, "medical_id_planned", "String"),
        (&residences, "missing_planned", "StringList"),
        (&facilities, "planned", "Integer(Boolean)"),
        (&facilities, "status", "String"),
        (&facilities, "year", "Integer"),
        (&facilities, "medical_catchment_planned", "Real"),
    ] {
        assert_eq!(
            layer.fields.get(field).map(String::as_str),
            Some(ty),
            "{field}: {:?}",
            layer.fields
        );
    }
    // summary.csv, typed by summary.csvt.
    let o = std::process::Command::new("ogrinfo")
        .args(["-ro", "-so", "-al"])
        .arg(out.join("summary.csv"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let info = String::from_utf8(o.stdout).unwrap();
    let summary: std::collections::HashMap<&str, &str> = info
        .lines()
        .filter_map(|l| {
            let (name, ty) = l.split_once(": ")?;
            Some((name, ty.split(' ').next()?))
        })
        .collect();
    for (field, ty) in [
        ("coverage_planned", "Real"),
        ("coverage_change", "Real"),
        ("communities_lacking_planned", "Integer"),
        ("planned_facilities", "Integer"),
    ] {
        assert_eq!(
            summary.get(field).copied(),
            Some(ty),
            "{field}: {summary:?}"
        );
    }
}

/// The map report shows the planned scenario: the coverage table before and after, the map
/// selector's planned measures, the planned facilities' own symbol; in headless Chromium the
/// map draws in a planned measure without a console message.
#[test]
fn the_report_shows_the_planned_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_fc(
        &d.join("p.geojson"),
        &[point(
            ll(24.9466, 60.1738),
            json!({"id": "new-care", "category": "elderly_care", "status": "planned", "year": 2026}),
        )],
    );
    ok(
        d,
        &[
            "analyze",
            "--facilities",
            &data_arg("facilities.geojson"),
            "--residences",
            &data_arg("residences.geojson"),
            "--communities",
            &data_arg("communities.geojson"),
            "--planned",
            "p.geojson",
            "--report",
            "--quiet",
            "--out",
            "o",
        ],
    );
    let html = fs::read_to_string(d.join("o/report.html")).unwrap();
    for want in [
        "<th>coverage today</th><th>with planned</th><th>change</th>",
        "<option value=\"pgap\">",
        "<option value=\"p0\">with planned: coverage: elderly_care",
        "<g id=\"planned\">",
        "Planned: 1 facilities from p.geojson",
    ] {
        assert!(html.contains(want), "{want} missing from report.html");
    }
    let Some(browser) = crate::report::chromium() else {
        return;
    };
    // The page opened on the planned coverage of elderly care.
    let page = d.join("o/report-planned.html");
    fs::write(
        &page,
        html.replace("<option value=\"p0\">", "<option value=\"p0\" selected>"),
    )
    .unwrap();
    let (dom, log) = crate::report::headless(browser, d, &page, &["--dump-dom"]);
    assert!(
        dom.contains("data-map=\"drawn 6\""),
        "the map script did not finish:\n{log}"
    );
    assert!(
        dom.contains("planned (colour of its category)"),
        "legend: {dom}"
    );
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
}
