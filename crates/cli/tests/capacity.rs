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
