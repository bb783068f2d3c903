//! `lifecircle site`: the chosen sites fed back to `analyze` give exactly the coverage reported
//! after the plan (on the Helsinki sample); optimal counts and covered populations equal those
//! of exhaustive enumeration on small instances, in a straight line (Karney's geodesic) and
//! along a street grid (shortest paths by hand), with an existing facility fixed; bad input
//! stops cleanly without writing anything.

use std::{fs, path::Path};

use lifecircle::geodesy::LonLat;
use lifecircle_synth::rng;
use rand::RngExt;
use serde_json::{json, Value};

use crate::support::{data_arg, fails, features, geodesic_m, ll, ok, prop, read_json};

/// A position `east_m`, `north_m` metres from a point in central Helsinki.
fn at(east_m: f64, north_m: f64) -> LonLat {
    let m_per_deg = 6_371_008.8 * std::f64::consts::PI / 180.0;
    ll(
        24.94 + east_m / (m_per_deg * 60.17f64.to_radians().cos()),
        60.17 + north_m / m_per_deg,
    )
}

fn point(p: LonLat, props: Value) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon(), p.lat()]}, "properties": props})
}

fn write_fc(path: &Path, features: Vec<Value>) {
    let fc = json!({"type": "FeatureCollection", "features": features});
    fs::write(path, serde_json::to_string(&fc).unwrap()).unwrap();
}

/// A small city: an existing `medical` facility, residences with populations, and candidate
/// sites with costs.
struct Small {
    facility: LonLat,
    homes: Vec<(LonLat, f64)>,
    candidates: Vec<(LonLat, f64)>,
}

impl Small {
    fn write(&self, dir: &Path) {
        write_fc(
            &dir.join("facilities.geojson"),
            vec![point(
                self.facility,
                json!({"id": "f0", "category": "medical"}),
            )],
        );
        write_fc(
            &dir.join("residences.geojson"),
            self.homes
                .iter()
                .enumerate()
                .map(|(i, (p, pop))| {
                    point(*p, json!({"id": format!("r{i}"), "population": pop, "community": if i % 2 == 0 { "A" } else { "B" }}))
                })
                .collect(),
        );
        write_fc(
            &dir.join("candidates.geojson"),
            self.candidates
                .iter()
                .enumerate()
                .map(|(j, (p, cost))| point(*p, json!({"id": format!("c{j}"), "cost": cost})))
                .collect(),
        );
    }
}

/// Per subset of candidates (bit mask): the population covered, given who reaches what.
fn enumerate(homes: &[(LonLat, f64)], existing: &[bool], reach: &[Vec<bool>]) -> Vec<(u32, f64)> {
    let m = reach.len();
    (0..1u32 << m)
        .map(|mask| {
            let covered = homes
                .iter()
                .enumerate()
                .filter(|(i, _)| existing[*i] || (0..m).any(|j| mask >> j & 1 == 1 && reach[j][*i]))
                .map(|(_, (_, pop))| pop)
                .sum();
            (mask, covered)
        })
        .collect()
}

fn site_args<'a>(dir: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "site",
        "--quiet",
        "--facilities",
        dir.join("facilities.geojson").to_str().unwrap(),
        "--residences",
        dir.join("residences.geojson").to_str().unwrap(),
        "--candidates",
        dir.join("candidates.geojson").to_str().unwrap(),
        "--category",
        "medical",
        "--out",
        dir.join("out").to_str().unwrap(),
    ]
    .into_iter()
    .map(|s| &*Box::leak(s.to_string().into_boxed_str()))
    .collect::<Vec<&str>>();
    args.extend_from_slice(extra);
    args
}

fn problem(dir: &Path) -> Value {
    read_json(&dir.join("out/summary.json"))["problems"][0].clone()
}

/// Check `site` on `small` against enumeration, for the fewest sites covering everyone any
/// candidate reaches and for the best two sites, exact and fast.
fn check_against_enumeration(
    dir: &Path,
    small: &Small,
    existing: &[bool],
    reach: &[Vec<bool>],
    walk: &[&str],
    seed: u64,
) {
    small.write(dir);
    let all = enumerate(&small.homes, existing, reach);
    let full = all.iter().map(|x| x.1).fold(0.0, f64::max);
    let fewest = all
        .iter()
        .filter(|x| x.1 == full)
        .map(|x| x.0.count_ones())
        .min()
        .unwrap();
    let best2 = all
        .iter()
        .filter(|x| x.0.count_ones() <= 2)
        .map(|x| x.1)
        .fold(0.0, f64::max);
    let before = all[0].1;

    let mut args: Vec<&str> = walk.to_vec();
    args.push("--exact");
    ok(dir, &site_args(dir, &args));
    let p = problem(dir);
    assert_eq!(p["sites"], fewest, "seed {seed}: fewest sites");
    assert_eq!(p["proven_optimal"], true);
    let c = &p["categories"][0];
    assert_eq!(
        c["covered_population"].as_f64().unwrap(),
        before,
        "seed {seed}"
    );
    assert_eq!(
        c["covered_population_after"].as_f64().unwrap(),
        full,
        "seed {seed}"
    );

    let mut args2 = args.clone();
    args2.extend(["--new", "2"]);
    ok(dir, &site_args(dir, &args2));
    let p = problem(dir);
    assert_eq!(
        p["categories"][0]["covered_population_after"]
            .as_f64()
            .unwrap(),
        best2,
        "seed {seed}: best two"
    );
    assert_eq!(p["objective"].as_f64().unwrap(), best2 - before);

    // The fast method's bound contains the optimum.
    let mut args3: Vec<&str> = walk.to_vec();
    args3.push("--fast");
    ok(dir, &site_args(dir, &args3));
    let p = problem(dir);
    let (found, bound) = (
        p["sites"].as_u64().unwrap() as u32,
        p["bound"].as_f64().unwrap(),
    );
    assert!(
        bound <= fewest as f64 && fewest <= found,
        "seed {seed}: bound {bound}, optimum {fewest}, found {found}"
    );
    assert_eq!(
        p["categories"][0]["covered_population_after"]
            .as_f64()
            .unwrap(),
        full
    );
}

#[test]
fn straight_line_equals_enumeration() {
    for seed in 0..4u64 {
        let mut r = rng(seed);
        let mut p = || at(r.random_range(0.0..2000.0), r.random_range(0.0..2000.0));
        let small = Small {
            facility: p(),
            homes: (0..14).map(|_| (p(), 0.0)).collect(),
            candidates: (0..7).map(|_| (p(), 1.0)).collect(),
        };
        let mut r = rng(seed + 100);
        let small = Small {
            homes: small
                .homes
                .iter()
                .map(|(h, _)| (*h, r.random_range(1..20) as f64))
                .collect(),
            ..small
        };
        let walk_m = 500.0;
        let within = |a: LonLat, b: LonLat| {
            let d = geodesic_m(a, b);
            assert!(
                (d - walk_m).abs() > 0.01,
                "seed {seed}: a pair at the limit"
            );
            d <= walk_m
        };
        let existing: Vec<bool> = small
            .homes
            .iter()
            .map(|(h, _)| within(*h, small.facility))
            .collect();
        let reach: Vec<Vec<bool>> = small
            .candidates
            .iter()
            .map(|(c, _)| small.homes.iter().map(|(h, _)| within(*h, *c)).collect())
            .collect();
        let dir = tempfile::tempdir().unwrap();
        check_against_enumeration(
            dir.path(),
            &small,
            &existing,
            &reach,
            &["--max-walk", "500m"],
            seed,
        );
    }
}

/// A street grid of 6 x 6 nodes 200 m apart; homes, the facility and candidates on nodes, so
/// the walk is 200 m per step along the grid (the Manhattan distance in steps).
#[test]
fn network_equals_enumeration() {
    let node = |x: usize, y: usize| at(x as f64 * 200.0, y as f64 * 200.0);
    let mut lines = Vec::new();
    for k in 0..6 {
        for (a, b) in [((0, k), (5, k)), ((k, 0), (k, 5))] {
            let pts: Vec<Value> = (0..6)
                .map(|s| {
                    let (x, y) = if a.1 == b.1 { (s, k) } else { (k, s) };
                    let p = node(x, y);
                    json!([p.lon(), p.lat()])
                })
                .collect();
            lines.push(json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": pts}, "properties": {}}));
        }
    }
    for seed in 10..13u64 {
        let mut r = rng(seed);
        let mut cell = || (r.random_range(0..6usize), r.random_range(0..6usize));
        let f = cell();
        let homes: Vec<(usize, usize)> = (0..12).map(|_| cell()).collect();
        let cands: Vec<(usize, usize)> = (0..6).map(|_| cell()).collect();
        let mut r = rng(seed + 100);
        let mut small = Small {
            facility: node(f.0, f.1),
            homes: homes
                .iter()
                .map(|&(x, y)| (node(x, y), r.random_range(1..20) as f64))
                .collect(),
            candidates: cands.iter().map(|&(x, y)| (node(x, y), 1.0)).collect(),
        };
        // One home 3 km from every street: off the network, never covered.
        small.homes.push((at(-3000.0, -3000.0), 7.0));
        let steps = |a: (usize, usize), b: (usize, usize)| a.0.abs_diff(b.0) + a.1.abs_diff(b.1);
        // 450 m: two steps (400 m) are within, three (600 m) are not.
        let mut existing: Vec<bool> = homes.iter().map(|&h| steps(h, f) <= 2).collect();
        existing.push(false);
        let reach: Vec<Vec<bool>> = cands
            .iter()
            .map(|&c| {
                let mut v: Vec<bool> = homes.iter().map(|&h| steps(h, c) <= 2).collect();
                v.push(false);
                v
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        write_fc(&dir.path().join("streets.geojson"), lines.clone());
        let streets = dir.path().join("streets.geojson");
        let streets = streets.to_str().unwrap().to_string();
        let walk = ["--max-walk", "450m", "--network", &streets, "--snap", "50m"];
        check_against_enumeration(dir.path(), &small, &existing, &reach, &walk, seed);
        let u = &problem(dir.path())["categories"][0]["unreached"];
        assert_eq!(
            u["off_network_population"], 7.0,
            "the home far from the streets"
        );
    }
}

/// `site --centre --goal full` on the sample: the sites, added to the existing facilities and
/// given to `analyze`, give exactly the coverage `site` reported after the plan, per category
/// and per community.
#[test]
fn sites_fed_back_to_analyze_give_the_reported_after_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let common = |f: &str| {
        vec![
            "--facilities".to_string(),
            f.to_string(),
            "--residences".into(),
            data_arg("residences.geojson"),
            "--communities".into(),
            data_arg("communities.geojson"),
            "--network".into(),
            data_arg("streets.geojson"),
            "--quiet".into(),
        ]
    };
    let mut args: Vec<String> = vec![
        "site".into(),
        "--centre".into(),
        "--goal".into(),
        "full".into(),
        "--candidates-from".into(),
        "grid:250m".into(),
        "--out".into(),
        "s".into(),
    ];
    args.extend(common(&data_arg("facilities.geojson")));
    args.retain(|a| a != "--quiet");
    let printed = ok(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let summary = read_json(&d.join("s/summary.json"));
    let p = &summary["problems"][0];
    assert!(p["sites"].as_u64().unwrap() > 0);
    assert_eq!(p["proven_optimal"], true);

    // The existing facilities and the new sites in one file.
    let mut all: Value = serde_json::from_str(
        &fs::read_to_string(crate::support::data("facilities.geojson")).unwrap(),
    )
    .unwrap();
    let sites: Value =
        serde_json::from_str(&fs::read_to_string(d.join("s/sites.geojson")).unwrap()).unwrap();
    let n_sites = sites["features"].as_array().unwrap().len();
    all["features"]
        .as_array_mut()
        .unwrap()
        .extend(sites["features"].as_array().unwrap().iter().cloned());
    fs::write(d.join("with-sites.geojson"), all.to_string()).unwrap();
    // The sited categories only (the default profile adds the local extras found).
    let six = crate::support::SIX_FUNCTIONS.join(",");
    let mut args: Vec<String> = vec![
        "analyze".into(),
        "--out".into(),
        "a".into(),
        "--categories".into(),
        six,
    ];
    args.extend(common(d.join("with-sites.geojson").to_str().unwrap()));
    ok(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let analysed = read_json(&d.join("a/summary.json"));
    // Only communities with residents are judged: the sample's sixth has none.
    assert_eq!(summary["communities"], 6);
    assert_eq!(
        summary["communities_with_population"],
        analysed["communities_with_population"]
    );
    assert_eq!(summary["communities_with_population"], 5);
    assert_eq!(summary["communities_without_population"], 1);
    assert!(
        printed.contains("5 communities with residents (1 without)"),
        "{printed}"
    );
    assert!(printed.contains("5 of 5"), "{printed}");
    for c in p["categories"].as_array().unwrap() {
        let name = c["category"].as_str().unwrap();
        let a = &analysed["categories"][name];
        assert_eq!(
            a["facilities"].as_u64().unwrap(),
            c["facilities"].as_u64().unwrap() + n_sites as u64,
            "{name}"
        );
        assert_eq!(
            a["covered_population"], c["covered_population_after"],
            "{name}"
        );
        assert_eq!(
            a["communities_lacking"], c["communities_lacking_after"],
            "{name}"
        );
    }
    let gap_after = features(&d.join("s/communities.geojson"));
    let gap = features(&d.join("a/communities.geojson"));
    assert_eq!(gap.len(), gap_after.len());
    for (x, y) in gap_after.iter().zip(&gap) {
        assert_eq!(prop(x, "id"), prop(y, "id"));
        assert_eq!(prop(x, "lacking_after"), prop(y, "lacking"));
        for c in p["categories"].as_array().unwrap() {
            let name = c["category"].as_str().unwrap();
            assert_eq!(
                prop(x, &format!("{name}_coverage_after")),
                prop(y, &format!("{name}_coverage")),
                "{name}"
            );
        }
    }
    // The sites are in build order, each adding no more than the one before.
    let adds: Vec<f64> = features(&d.join("s/sites.geojson"))
        .iter()
        .map(|f| prop(f, "new_covered_population").as_f64().unwrap())
        .collect();
    assert!(adds.windows(2).all(|w| w[0] >= w[1]), "{adds:?}");
}

#[test]
fn bad_input_stops_cleanly_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let small = Small {
        facility: at(0.0, 0.0),
        homes: vec![
            (at(100.0, 0.0), 5.0),
            (at(1500.0, 0.0), 3.0),
            (at(3000.0, 0.0), 2.0),
        ],
        candidates: vec![(at(1400.0, 0.0), 4.0), (at(1600.0, 100.0), 2.0)],
    };
    small.write(d);
    let out = d.join("out");
    let check = |extra: &[&str], needles: &[&str]| {
        fails(d, &site_args(d, extra), needles);
        assert!(!out.exists(), "{extra:?}: nothing may be written");
    };
    let walk = ["--max-walk", "500m"];
    check(
        &[&walk[..], &["--goal", "100"]].concat(),
        &[
            "100 % coverage of medical cannot be reached",
            "80.00 %",
            "2 people (1 points) are farther than the walk",
        ],
    );
    check(
        &[&walk[..], &["--new", "3"]].concat(),
        &["3 new sites asked for", "only 2 candidate sites"],
    );
    check(
        &[&walk[..], &["--budget", "1"]].concat(),
        &["budget 1", "cheapest candidate site, which costs 2"],
    );
    check(
        &["--max-walk", "50m"],
        &["none of the 2 candidate sites reaches a demand point"],
    );
    // An unknown category.
    let mut args = site_args(d, &walk);
    let k = args.iter().position(|a| *a == "medical").unwrap();
    args[k] = "saunas";
    fails(d, &args, &["unknown category \"saunas\""]);
    assert!(!out.exists());
    // Bad costs: negative, not a number.
    for (cost, needle) in [
        (json!(-3), "must be a number of 0 or more"),
        (json!("cheap"), "cost"),
    ] {
        write_fc(
            &d.join("candidates.geojson"),
            vec![
                point(at(1400.0, 0.0), json!({"id": "c0", "cost": 1})),
                point(at(1600.0, 0.0), json!({"id": "c1", "cost": cost})),
            ],
        );
        check(&walk, &["candidates.geojson", "feature 1", needle]);
    }
    // No candidates at all.
    write_fc(&d.join("candidates.geojson"), vec![]);
    check(&walk, &["no candidate sites"]);
    // Budget without costs.
    write_fc(
        &d.join("candidates.geojson"),
        vec![point(at(1400.0, 0.0), json!({"id": "c0"}))],
    );
    check(
        &[&walk[..], &["--budget", "10"]].concat(),
        &["no candidate site has a cost"],
    );
}

/// The same objectives as PySAL spopt (LSCP and MCLP with the existing facility pre-located,
/// solved by CBC) on the committed fixture (`tests/fixtures/site/`, made by its script).
#[test]
fn exact_objectives_equal_spopt_with_cbc() {
    let expected = read_json(&crate::support::fixture("site/expected.json"));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = |name: &str| {
        crate::support::fixture(&format!("site/{name}"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let run = |extra: &[&str]| -> Value {
        let mut args: Vec<String> = [
            "site",
            "--quiet",
            "--category",
            "medical",
            "--max-walk",
            "400m",
            "--exact",
            "--out",
            "out",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for (flag, file) in [
            ("--facilities", "facilities.geojson"),
            ("--residences", "residences.geojson"),
            ("--candidates", "candidates.geojson"),
        ] {
            args.push(flag.into());
            args.push(f(file));
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        ok(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
        read_json(&d.join("out/summary.json"))["problems"][0].clone()
    };
    let p = run(&[]);
    assert_eq!(p["sites"], expected["lscp_new_sites"]);
    assert_eq!(p["proven_optimal"], true);
    for k in ["1", "2", "3"] {
        let p = run(&["--new", k]);
        assert_eq!(
            p["categories"][0]["covered_population_after"],
            expected["mclp"][k]["covered_population"],
            "MCLP with {k} new sites"
        );
        assert_eq!(p["proven_optimal"], true);
    }
}

/// The same sites, in the same order, with one thread and with four.
#[test]
fn same_sites_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let sites = |threads: &str| -> Vec<(Value, Value)> {
        let out = dir.path().join(format!("out-{threads}"));
        let o = crate::support::lifecircle()
            .env("RAYON_NUM_THREADS", threads)
            .args([
                "site",
                "--quiet",
                "--centre",
                "--candidates-from",
                "streets",
                "--fast",
                "--facilities",
            ])
            .arg(crate::support::data("facilities.geojson"))
            .arg("--residences")
            .arg(crate::support::data("residences.geojson"))
            .arg("--communities")
            .arg(crate::support::data("communities.geojson"))
            .arg("--network")
            .arg(crate::support::data("streets.geojson"))
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        features(&out.join("sites.geojson"))
            .iter()
            .map(|f| {
                (
                    prop(f, "id").clone(),
                    prop(f, "new_covered_population").clone(),
                )
            })
            .collect()
    };
    let one = sites("1");
    assert!(!one.is_empty());
    assert_eq!(one, sites("4"));
}

/// Categories that share a walk share one table, and a shorter walk's pairs are read from the
/// longest walk's: by straight line and along the streets, they are exactly what a search
/// bounded by the shorter walk finds.
#[test]
fn shorter_walks_read_from_the_longest_equal_their_own_search() {
    use lifecircle::{NetworkWalk, StraightLine, StreetNetwork, WalkingDistance};
    let mut lines = Vec::new();
    let steps: Vec<f64> = (0..=15).map(|k| f64::from(k) * 100.0).collect();
    for &x in &steps {
        lines.push(steps.iter().map(|&y| at(x, y)).collect::<Vec<_>>());
        lines.push(steps.iter().map(|&y| at(y, x)).collect::<Vec<_>>());
    }
    let network = NetworkWalk::new(StreetNetwork::from_lines(&lines), 60.0).unwrap();
    let straight = StraightLine::new(1.2).unwrap();
    let mut r = rng(77);
    let mut spot = || at(r.random_range(-100.0..1600.0), r.random_range(-100.0..1600.0));
    let homes: Vec<LonLat> = (0..400).map(|_| spot()).collect();
    let sites: Vec<LonLat> = (0..30).map(|_| spot()).collect();
    let models: [&dyn WalkingDistance; 2] = [&straight, &network];
    for model in models {
        let prepared = model.prepare(&homes);
        let longest = prepared.within(&sites, 900.0);
        assert!(longest.len() > 2000, "{}: {}", model.mode(), longest.len());
        for walk_m in [900.0, 612.5, 300.0, 0.0] {
            let own = prepared.within(&sites, walk_m);
            assert_eq!(
                longest.no_longer_than(walk_m),
                own,
                "{} at {walk_m} m",
                model.mode()
            );
        }
    }
}
