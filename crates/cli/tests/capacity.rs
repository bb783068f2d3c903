//! Capacity within reach (2SFCA / E2SFCA): the command against PySAL `access` on the committed
//! fixture (`fixtures/access/`, made by its `make_fixture.py`), and the library against a
//! brute-force reference over every residence-facility pair, by straight line and along the
//! streets.

use std::collections::HashMap;

use lifecircle::{
    capacity::{Catchments, Weighting},
    LonLat, NetworkWalk, StraightLine, StreetNetwork, WalkingDistance,
};
use lifecircle_synth as synth;
use rand::RngExt;

use crate::support;

/// The weights the fixture used, as profile lines.
const RUNS: [(&str, &str); 3] = [
    ("fca2", ""),
    (
        "e2sfca_step",
        "access_bands = [[300, 1.0], [600, 0.68], [800, 0.22]]\n",
    ),
    ("e2sfca_gaussian", "access_gaussian_sigma_m = 400\n"),
];

fn expected() -> (Vec<String>, HashMap<String, Vec<Option<f64>>>) {
    let text = std::fs::read_to_string(support::fixture("access/expected.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let mut columns: HashMap<String, Vec<Option<f64>>> = HashMap::new();
    let mut ids = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        ids.push(cells[0].to_string());
        for (h, c) in header.iter().zip(&cells).skip(1) {
            let v = match *c {
                "" => None,
                "inf" => Some(f64::INFINITY),
                v => Some(v.parse().unwrap()),
            };
            columns.entry(h.clone()).or_default().push(v);
        }
    }
    (ids, columns)
}

#[test]
fn equals_pysal_access_on_the_fixture() {
    let (ids, columns) = expected();
    let dir = tempfile::tempdir().unwrap();
    let facilities = support::fixture("access/facilities.geojson");
    let residences = support::fixture("access/residences.geojson");
    let mut compared = 0;
    for (run, weights) in RUNS {
        for (demand, group) in [("population", ""), ("children", "group = \"children\"\n")] {
            let profile = dir.path().join(format!("{run}-{demand}.toml"));
            std::fs::write(
                &profile,
                format!(
                    "name = \"access-check\"\n[[category]]\nkey = \"kindergarten\"\n\
                     max_walk = \"800m\"\n{group}{weights}"
                ),
            )
            .unwrap();
            let out = dir.path().join(format!("out-{run}-{demand}"));
            support::ok(
                dir.path(),
                &[
                    "analyze",
                    "--facilities",
                    facilities.to_str().unwrap(),
                    "--residences",
                    residences.to_str().unwrap(),
                    "--profile",
                    profile.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                    "--quiet",
                ],
            );
            let got: HashMap<String, serde_json::Value> =
                support::features(&out.join("residences.geojson"))
                    .iter()
                    .map(|f| {
                        let id = support::prop(f, "id").as_str().unwrap().to_string();
                        (id, support::prop(f, "kindergarten_access").clone())
                    })
                    .collect();
            let want = &columns[&format!("{run}_{demand}")];
            for (id, w) in ids.iter().zip(want) {
                let g = got[id].as_f64();
                match (g, w) {
                    (None, None) => {}
                    // access divides by zero for a facility whose people in reach are all
                    // zero (r399 alone reaches f24): lifecircle gives such a facility no
                    // ratio, as the definition says, and its residents score 0.
                    (Some(g), Some(w)) if w.is_infinite() => {
                        assert_eq!(g, 0.0, "{run} {demand} {id}")
                    }
                    (Some(g), Some(w)) => {
                        assert!(
                            (g - w).abs() <= 1e-9 * w.abs().max(1e-12),
                            "{run} {demand} {id}: lifecircle {g}, access {w}"
                        );
                        compared += 1;
                    }
                    _ => panic!("{run} {demand} {id}: lifecircle {g:?}, access {w:?}"),
                }
            }
            // The check that must hold: people times access = capacity with demand in reach.
            let summary = support::read_json(&out.join("summary.json"));
            let access = &summary["categories"]["kindergarten"]["access"];
            assert_eq!(
                access["method"],
                if run == "fca2" { "2SFCA" } else { "E2SFCA" }
            );
            assert!(
                access["places_in_reach"].as_f64().unwrap() > 0.0,
                "{summary}"
            );
        }
    }
    assert!(compared > 6 * 350, "{compared} values compared");
}

/// Both steps by brute force: every residence-facility distance measured on its own.
fn brute_force(
    distances: &[Vec<Option<f64>>],
    capacity: &[Option<f64>],
    people: &[f64],
    weighting: &Weighting,
) -> Vec<f64> {
    let ratio: Vec<Option<f64>> = (0..capacity.len())
        .map(|j| {
            let demand: f64 = distances
                .iter()
                .zip(people)
                .filter_map(|(row, p)| row[j].map(|d| p * weighting.weight(d)))
                .sum();
            capacity[j].filter(|_| demand > 0.0).map(|s| s / demand)
        })
        .collect();
    distances
        .iter()
        .map(|row| {
            let mut any = false;
            let mut a = 0.0;
            for (d, r) in row.iter().zip(&ratio) {
                if let Some(d) = d {
                    any = true;
                    a += r.map_or(0.0, |r| r * weighting.weight(*d));
                }
            }
            if any {
                a
            } else {
                f64::NAN
            }
        })
        .collect()
}

fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g.is_nan() && w.is_nan()) || (g - w).abs() <= 1e-9 * w.abs() + 1e-15,
            "{what}: residence {i}: {g} vs brute force {w}"
        );
    }
}

fn random_city(seed: u64) -> (Vec<LonLat>, Vec<f64>, Vec<LonLat>, Vec<Option<f64>>) {
    let mut rng = synth::rng(seed);
    let place = |rng: &mut synth::Rng| {
        support::ll(
            24.93 + rng.random::<f64>() * 0.04,
            60.16 + rng.random::<f64>() * 0.02,
        )
    };
    let homes: Vec<LonLat> = (0..600).map(|_| place(&mut rng)).collect();
    let people: Vec<f64> = (0..600)
        .map(|_| f64::from(rng.random_range(0..80u32)))
        .collect();
    let sites: Vec<LonLat> = (0..30).map(|_| place(&mut rng)).collect();
    let capacity = (0..30)
        .map(|_| (rng.random::<f64>() < 0.9).then(|| f64::from(rng.random_range(0..200u32))))
        .collect();
    (homes, people, sites, capacity)
}

#[test]
fn straight_line_equals_brute_force() {
    for seed in 1..=5 {
        let (homes, people, sites, capacity) = random_city(seed);
        for (detour, max_walk_m) in [(1.0, 700.0), (1.3, 1000.0)] {
            let distances: Vec<Vec<Option<f64>>> = homes
                .iter()
                .map(|h| {
                    sites
                        .iter()
                        .map(|s| {
                            Some(support::geodesic_m(*h, *s) * detour).filter(|&d| d <= max_walk_m)
                        })
                        .collect()
                })
                .collect();
            let pairs = StraightLine::new(detour)
                .unwrap()
                .prepare(&homes)
                .within(&sites, max_walk_m);
            for weighting in [
                Weighting::Uniform,
                Weighting::steps(vec![(300.0, 1.0), (600.0, 0.6), (800.0, 0.2)]).unwrap(),
                Weighting::gaussian(350.0).unwrap(),
            ] {
                let got = Catchments::compute(&pairs, &capacity, &people, &weighting);
                let want = brute_force(&distances, &capacity, &people, &weighting);
                assert_close(&format!("seed {seed}, {weighting:?}"), &got.access, &want);
                let (placed, offered) = got.check_sum(&capacity, &people);
                assert!(
                    (placed - offered).abs() <= 1e-9 * offered,
                    "{placed} vs {offered}"
                );
            }
        }
    }
}

#[test]
fn street_network_equals_brute_force() {
    // A street grid of 100 m blocks; distances by the network model's own nearest query on one
    // facility at a time, which the network tests check against a plain Dijkstra.
    let mut lines = Vec::new();
    let at = |e: f64, n: f64| support::ll(24.93 + e / 55_800.0, 60.16 + n / 111_400.0);
    // Lines meet only at shared vertices: a vertex at every crossing.
    let steps: Vec<f64> = (0..=20).map(|k| f64::from(k) * 100.0).collect();
    for &x in &steps {
        lines.push(steps.iter().map(|&y| at(x, y)).collect::<Vec<_>>());
        lines.push(steps.iter().map(|&y| at(y, x)).collect::<Vec<_>>());
    }
    let net = StreetNetwork::from_lines(&lines);
    let walk = NetworkWalk::new(net, 60.0).unwrap();
    for seed in 1..=3 {
        let (homes, people, sites, capacity) = random_city(seed);
        let prepared = walk.prepare(&homes);
        let max_walk_m = 900.0;
        let per_site: Vec<Vec<Option<f64>>> = sites
            .iter()
            .map(|s| {
                prepared
                    .nearest(std::slice::from_ref(s), max_walk_m)
                    .iter()
                    .map(|r| r.within(max_walk_m).then(|| f64::from(r.distance_m)))
                    .collect()
            })
            .collect();
        let distances: Vec<Vec<Option<f64>>> = (0..homes.len())
            .map(|i| per_site.iter().map(|col| col[i]).collect())
            .collect();
        let pairs = prepared.within(&sites, max_walk_m);
        // Same pairs; distances equal to the f32 the nearest query stores.
        let mut listed = 0;
        for (j, i, d) in pairs.iter() {
            let want = distances[i][j].expect("a pair the nearest query finds");
            assert!((d - want).abs() <= 1e-3, "pair ({i}, {j}): {d} vs {want}");
            listed += 1;
        }
        let expected = distances.iter().flatten().flatten().count();
        assert_eq!(listed, expected, "seed {seed}");
        assert!(listed > 1000, "seed {seed}: {listed} pairs");
        // With uniform weights only the pairs matter, so the scores are exact.
        let got = Catchments::compute(&pairs, &capacity, &people, &Weighting::Uniform);
        let want = brute_force(&distances, &capacity, &people, &Weighting::Uniform);
        assert_close(&format!("network seed {seed}"), &got.access, &want);
    }
}

#[test]
fn a_pair_exactly_at_the_walk_counts() {
    // The cut-off is inclusive: a pair whose walk is exactly `max_walk_m` is within it, one
    // a hair beyond is not, by straight line and along the streets.
    let home = support::ll(24.93, 60.16);
    let site = support::ll(24.9377, 60.1612);
    let street = vec![support::ll(24.929, 60.1599), support::ll(24.9387, 60.1611)];
    let network = NetworkWalk::new(StreetNetwork::from_lines(&[street]), 100.0).unwrap();
    let straight = StraightLine::new(1.0).unwrap();
    let models: [&dyn WalkingDistance; 2] = [&straight, &network];
    for model in models {
        let prepared = model.prepare(std::slice::from_ref(&home));
        let all = prepared.within(std::slice::from_ref(&site), 1e6);
        let (_, _, d) = all.iter().next().expect("one pair");
        assert!(d > 400.0, "{}: {d}", model.mode());
        let at = prepared.within(std::slice::from_ref(&site), d);
        assert_eq!(at.len(), 1, "{}: a pair at exactly {d} m", model.mode());
        let below = prepared.within(std::slice::from_ref(&site), d.next_down());
        assert!(below.is_empty(), "{}: below {d} m", model.mode());
    }
}

/// Metres east along the equator, as a longitude: a geodesic along the equator is an arc of
/// the equatorial circle, `a * dlon`.
fn east_m(x: f64) -> f64 {
    (x / 6_378_137.0).to_degrees()
}

/// A point feature on the equator `x` metres east of 0°, with these properties.
fn on_equator(x: f64, properties: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [east_m(x), 0.0]},
        "properties": properties
    })
}

/// A rectangle from `x0` to `x1` metres east, 100 m either side of the equator.
fn strip(id: &str, x0: f64, x1: f64) -> serde_json::Value {
    let lat = (100.0 / 6_356_752.314_2_f64).to_degrees();
    let (w, e) = (east_m(x0), east_m(x1));
    serde_json::json!({
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[[w, -lat], [e, -lat], [e, lat], [w, lat], [w, -lat]]]},
        "properties": {"id": id}
    })
}

fn collection(features: Vec<serde_json::Value>) -> String {
    serde_json::json!({"type": "FeatureCollection", "features": features}).to_string()
}

/// The hand-worked city of [`capacity_by_hand_end_to_end`], written into `dir`.
fn hand_city(dir: &std::path::Path, capacity_field: &str) {
    use serde_json::json;
    let facility = |x: f64, id: &str, capacity: Option<f64>| {
        let mut p = json!({"id": id, "category": "kindergarten"});
        if let Some(c) = capacity {
            p[capacity_field] = json!(c);
        }
        on_equator(x, p)
    };
    let files = [
        (
            "facilities.geojson",
            collection(vec![
                facility(0.0, "F0", Some(60.0)),
                facility(1000.0, "F1", Some(30.0)),
                facility(5000.0, "F2", None),
            ]),
        ),
        (
            "residences.geojson",
            collection(vec![
                on_equator(200.0, json!({"id": "R0", "population": 100})),
                on_equator(450.0, json!({"id": "R1", "population": 50})),
                on_equator(1300.0, json!({"id": "R2", "population": 20})),
                on_equator(3000.0, json!({"id": "R3", "population": 10})),
            ]),
        ),
        (
            "communities.geojson",
            collection(vec![
                strip("West", -100.0, 500.0),
                strip("East", 500.0, 3500.0),
            ]),
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

#[test]
fn capacity_by_hand_end_to_end() {
    // Along the equator, walk 600 m. F0 (60 places) at 0 m, F1 (30) at 1000 m, F2 (no
    // capacity) at 5000 m. R0 (100 people) at 200 m reaches F0; R1 (50) at 450 m reaches F0
    // (450 m) and F1 (550 m); R2 (20) at 1300 m reaches F1 (300 m); R3 (10) at 3000 m
    // reaches nothing.
    //   step 1: R_F0 = 60 / (100 + 50) = 0.4, R_F1 = 30 / (50 + 20) = 3/7;
    //   step 2: A_R0 = 0.4, A_R1 = 0.4 + 3/7, A_R2 = 3/7, A_R3 none.
    // Standard 600 places per 1000: West (R0, R1: 150 people, all within the walk) has
    // 100 * 0.4 + 50 * (0.4 + 3/7) = 60 + 150/7 places in reach and needs 90, so it is short
    // by 90 - 60 - 150/7 = 30 - 150/7 although nobody lacks on distance ("near but full");
    // East (R2, R3: 30 people) has 20 * 3/7 = 60/7 and needs 18, short by 18 - 60/7.
    let dir = tempfile::tempdir().unwrap();
    hand_city(dir.path(), "capacity");
    std::fs::write(
        dir.path().join("profile.toml"),
        "name = \"hand\"\n[[category]]\nkey = \"kindergarten\"\nmax_walk = \"600m\"\n\
         standard = { places = 600, per = 1000, source = \"test\" }\n",
    )
    .unwrap();
    let args = [
        "analyze",
        "--facilities",
        "facilities.geojson",
        "--residences",
        "residences.geojson",
        "--communities",
        "communities.geojson",
        "--profile",
        "profile.toml",
        "--out",
        "out",
    ];
    let o = support::run_in(dir.path(), &args);
    let (stdout, stderr) = support::text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "warning: 1 of 3 kindergarten facilities have no `capacity`; they take no part in \
             the capacity within reach (2SFCA)"
        ),
        "{stderr}"
    );
    let close = |got: &serde_json::Value, want: f64, what: &str| {
        let g = got.as_f64().unwrap_or_else(|| panic!("{what}: {got}"));
        assert!(
            (g - want).abs() <= 1e-6 * want.abs().max(1.0),
            "{what}: {g} vs {want}"
        );
    };
    let out = dir.path().join("out");
    let by_id = |file: &str| -> HashMap<String, geojson::Feature> {
        support::features(&out.join(file))
            .into_iter()
            .map(|f| (support::prop(&f, "id").as_str().unwrap().to_string(), f))
            .collect()
    };
    let res = by_id("residences.geojson");
    let a = |id: &str| support::prop(&res[id], "kindergarten_access");
    close(a("R0"), 0.4, "R0");
    close(a("R1"), 0.4 + 3.0 / 7.0, "R1");
    close(a("R2"), 3.0 / 7.0, "R2");
    assert!(a("R3").is_null(), "R3 reaches nothing: {}", a("R3"));

    let fac = by_id("facilities.geojson");
    close(
        support::prop(&fac["F0"], "kindergarten_ratio"),
        0.4,
        "F0 ratio",
    );
    close(
        support::prop(&fac["F1"], "kindergarten_ratio"),
        3.0 / 7.0,
        "F1 ratio",
    );
    close(
        support::prop(&fac["F0"], "kindergarten_demand_in_reach"),
        150.0,
        "F0",
    );
    close(
        support::prop(&fac["F1"], "kindergarten_demand_in_reach"),
        70.0,
        "F1",
    );
    assert!(support::prop(&fac["F2"], "kindergarten_ratio").is_null());

    let com = by_id("communities.geojson");
    let (west, east) = (&com["West"], &com["East"]);
    let west_places = 60.0 + 150.0 / 7.0;
    close(
        support::prop(west, "kindergarten_places_in_reach"),
        west_places,
        "West",
    );
    close(
        support::prop(west, "kindergarten_places_needed"),
        90.0,
        "West",
    );
    close(
        support::prop(west, "kindergarten_shortfall"),
        90.0 - west_places,
        "West",
    );
    close(
        support::prop(west, "kindergarten_access"),
        west_places / 150.0,
        "West",
    );
    assert_eq!(support::prop(west, "lacking"), &serde_json::json!([]));
    assert_eq!(
        support::prop(west, "lacking_capacity"),
        &serde_json::json!(["kindergarten"])
    );
    close(
        support::prop(east, "kindergarten_places_in_reach"),
        60.0 / 7.0,
        "East",
    );
    close(
        support::prop(east, "kindergarten_shortfall"),
        18.0 - 60.0 / 7.0,
        "East",
    );
    assert_eq!(
        support::prop(east, "lacking_capacity"),
        &serde_json::json!(["kindergarten"])
    );

    // The summaries: capacity 90 (the facility without one left out), demand in reach
    // 150 + 70, city access 90 places / 180 people, needed 90 + 18, short 18 in all.
    let summary = support::read_json(&out.join("summary.json"));
    let access = &summary["categories"]["kindergarten"]["access"];
    close(&access["capacity"], 90.0, "capacity");
    close(&access["places_in_reach"], 90.0, "places in reach");
    close(&access["access"], 0.5, "city access");
    close(&access["standard"]["shortfall"], 18.0, "shortfall");
    assert_eq!(access["facilities_without_capacity"], 1);
    assert_eq!(access["standard"]["communities_short"], 2);
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cell = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("access_method"), "2SFCA");
    let num = |name: &str| cell(name).parse::<f64>().unwrap();
    assert_eq!(
        [num("capacity"), num("demand_in_reach"), num("access")],
        [90.0, 220.0, 0.5]
    );
    assert!((num("places_needed") - 108.0).abs() < 1e-3 && (num("shortfall") - 18.0).abs() < 1e-3);
    assert_eq!(cell("communities_short"), "2");
    // The terminal: places per 1,000 counted people (500), and the communities short.
    let line = stdout
        .lines()
        .find(|l| l.contains("kindergarten") && l.contains("2SFCA"))
        .unwrap_or_else(|| panic!("no capacity row in:\n{stdout}"));
    for want in [
        "90 (1 without)",
        "220",
        "500.0",
        "600 per 1000",
        "2 of 2",
        "18",
    ] {
        assert!(line.contains(want), "{want:?} in {line}");
    }
}

#[test]
fn a_capacity_property_nobody_has_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    hand_city(dir.path(), "places");
    let inputs = [
        "analyze",
        "--facilities",
        "facilities.geojson",
        "--residences",
        "residences.geojson",
        "--out",
        "out",
    ];
    // Asked for by the flag, given by no facility (a misspelling).
    let mut args = inputs.to_vec();
    args.extend(["--capacity-field", "plaecs"]);
    support::fails(
        dir.path(),
        &args,
        &["facilities.geojson: no facility has the property `plaecs` given by --capacity-field"],
    );
    // Named by the profile for the category, given by none of its facilities.
    std::fs::write(
        dir.path().join("beds.toml"),
        "name = \"beds\"\n[[category]]\nkey = \"kindergarten\"\nmax_walk = \"600m\"\ncapacity_field = \"beds\"\n",
    )
    .unwrap();
    let mut args = inputs.to_vec();
    args.extend(["--profile", "beds.toml"]);
    support::fails(
        dir.path(),
        &args,
        &["no kindergarten facility has the property `beds`, which the profile names as the capacity_field of kindergarten"],
    );
    assert!(!dir.path().join("out/summary.json").exists());
    // The right name works (under the default profile kindergarten counts as childcare), and
    // without any capacity the category simply has none.
    let mut args = inputs.to_vec();
    args.extend(["--capacity-field", "places"]);
    support::ok(dir.path(), &args);
    let summary = support::read_json(&dir.path().join("out/summary.json"));
    assert_eq!(
        summary["categories"]["childcare"]["access"]["capacity"],
        90.0
    );
    support::ok(dir.path(), &inputs);
    let summary = support::read_json(&dir.path().join("out/summary.json"));
    assert!(summary["categories"]["childcare"].get("access").is_none());
}

#[test]
fn bad_capacities_are_skipped_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    hand_city(dir.path(), "capacity");
    let bad = [
        ("-3", "the capacity must not be negative, found -3"),
        ("\"NaN\"", "expected a finite number, found \"NaN\""),
        ("\"lots\"", "expected a number, found \"lots\""),
        ("1e400", "expected a finite number, found 1e400"),
        ("[3]", "(capacity)"),
    ];
    let mut text = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (k, (value, _)) in bad.iter().enumerate() {
        text.push_str(&format!(
            "{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Point\",\"coordinates\":[0.001,0]}},\
             \"properties\":{{\"id\":\"B{k}\",\"category\":\"childcare\",\"capacity\":{value}}}}},\n"
        ));
    }
    text.push_str(
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[0.002,0]},\
         \"properties\":{\"id\":\"G\",\"category\":\"childcare\",\"capacity\":40}}]}",
    );
    std::fs::write(dir.path().join("bad.geojson"), text).unwrap();
    let args = [
        "analyze",
        "--facilities",
        "bad.geojson",
        "--residences",
        "residences.geojson",
        "--out",
        "out",
        "--quiet",
    ];
    let o = support::run_in(dir.path(), &args);
    let (_, stderr) = support::text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("skipped 5 unusable features"), "{stderr}");
    for (k, (_, reason)) in bad.iter().enumerate() {
        let line = format!("bad.geojson: feature {k} (capacity): ");
        assert!(stderr.contains(&line), "{line} in {stderr}");
        assert!(stderr.contains(reason), "{reason} in {stderr}");
    }
    let summary = support::read_json(&dir.path().join("out/summary.json"));
    assert_eq!(summary["skipped_features"], 5);
    assert_eq!(
        summary["categories"]["childcare"]["access"]["capacity"],
        40.0
    );
    // --strict stops at the first, and writes nothing.
    let mut strict = args.to_vec();
    strict.push("--strict");
    support::fails(dir.path(), &strict, &[bad[0].1]);
}

#[test]
fn bad_weights_and_standards_stop_the_run() {
    let dir = tempfile::tempdir().unwrap();
    hand_city(dir.path(), "capacity");
    let cases = [
        (
            "access_bands = [[600, 1.0], [300, 0.5]]",
            "access_bands band 2: limits must be positive distances in metres, each larger than the one before",
        ),
        ("access_bands = [[300, 1.5]]", "access_bands band 1: the weight must be from 0 to 1"),
        ("access_bands = []", "access_bands needs at least one distance band"),
        (
            "access_bands = [[300, 1.0]]\naccess_gaussian_sigma_m = 300",
            "give access_bands or access_gaussian_sigma_m, not both",
        ),
        (
            "access_gaussian_sigma_m = 0",
            "the Gaussian sigma must be a positive distance in metres",
        ),
        (
            "standard = { places = 0, per = 1000 }",
            "standard (0 places per 1000): places and per must both be positive numbers",
        ),
        (
            "standard = { places = 30, per = -5 }",
            "standard (30 places per -5): places and per must both be positive numbers",
        ),
        ("standard = { places = 30 }", "missing field `per`"),
    ];
    for (k, (line, reason)) in cases.iter().enumerate() {
        let name = format!("p{k}.toml");
        std::fs::write(
            dir.path().join(&name),
            format!(
                "name = \"p\"\n[[category]]\nkey = \"kindergarten\"\nmax_walk = \"600m\"\n{line}\n"
            ),
        )
        .unwrap();
        let out = format!("out{k}");
        support::fails(
            dir.path(),
            &[
                "analyze",
                "--facilities",
                "facilities.geojson",
                "--residences",
                "residences.geojson",
                "--profile",
                &name,
                "--out",
                &out,
            ],
            &[&name, "'kindergarten'", reason],
        );
        assert!(!dir.path().join(&out).join("summary.json").exists());
    }
}
