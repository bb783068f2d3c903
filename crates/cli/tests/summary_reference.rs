//! The per-community, per-facility and city sums of a city large enough to be summed in several
//! parallel chunks, against plain sums over the residences the same run wrote.

use std::collections::HashMap;

use lifecircle_synth::CitySpec;

use crate::support::{analyze_synth_city, read_json, synth_city};

#[derive(Default)]
struct Sum {
    population: f64,
    gap: f64,
    covered: HashMap<String, f64>,
}

#[test]
fn chunked_sums_equal_plain_sums_over_the_written_residences() {
    let mut spec = CitySpec::for_residences(150_000);
    spec.seed = 11;
    let (dir, _city) = synth_city(&spec);
    let out = analyze_synth_city(dir.path(), &["--max-walk", "500m"]);

    // Plain sums, in file order, from each residence's community, population and `missing`.
    let residences = read_json(&out.join("residences.geojson"));
    let categories: Vec<String> = spec.categories.clone();
    let mut per_community: HashMap<String, Sum> = HashMap::new();
    // Per (category, facility id): the people who have it as their nearest within reach.
    let mut catchment: HashMap<(String, String), f64> = HashMap::new();
    let mut city = Sum::default();
    let mut unassigned = 0;
    for f in residences["features"].as_array().unwrap() {
        let p = &f["properties"];
        let population = p["population"].as_f64().unwrap();
        let missing: Vec<&str> = p["missing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        for c in categories.iter().filter(|c| !missing.contains(&c.as_str())) {
            let facility = p[format!("{c}_id")].as_str().unwrap().to_string();
            *catchment.entry((c.clone(), facility)).or_default() += population;
        }
        let mut sums = vec![&mut city];
        let community = p["community"].as_str().map(String::from);
        let entry = community.map(|c| per_community.entry(c).or_default());
        match entry {
            Some(e) => sums.push(e),
            None => unassigned += 1,
        }
        for s in sums {
            s.population += population;
            if !missing.is_empty() {
                s.gap += population;
            }
            for c in categories.iter().filter(|c| !missing.contains(&c.as_str())) {
                *s.covered.entry(c.clone()).or_default() += population;
            }
        }
    }
    assert!(
        per_community.len() > 50,
        "{} communities",
        per_community.len()
    );
    assert!(city.gap > 0.0, "the city should have gaps");

    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["unassigned_residences"], unassigned);
    for c in &categories {
        let written = summary["categories"][c]["covered_population"]
            .as_f64()
            .unwrap();
        let plain = city.covered.get(c).copied().unwrap_or(0.0);
        assert!((written - plain).abs() < 1e-3, "{c}: {written} vs {plain}");
    }
    let facilities = read_json(&out.join("facilities.geojson"));
    let mut nonzero = 0;
    for f in facilities["features"].as_array().unwrap() {
        let p = &f["properties"];
        let id = p["id"].as_str().unwrap();
        for c in &categories {
            let Some(written) = p[format!("{c}_catchment")].as_f64() else {
                continue;
            };
            let plain = catchment
                .remove(&(c.clone(), id.to_string()))
                .unwrap_or(0.0);
            assert!(
                (written - plain).abs() < 1e-3,
                "{c} {id}: {written} vs {plain}"
            );
            nonzero += usize::from(plain > 0.0);
        }
    }
    assert!(nonzero > 100, "{nonzero} facilities with a catchment");
    assert!(
        catchment.is_empty(),
        "facilities missing from facilities.geojson"
    );
    let communities = read_json(&out.join("communities.geojson"));
    for f in communities["features"].as_array().unwrap() {
        let p = &f["properties"];
        let id = p["id"].as_str().unwrap();
        let Some(s) = per_community.get(id) else {
            assert_eq!(p["population"], 0.0, "{id}");
            continue;
        };
        assert!((p["population"].as_f64().unwrap() - s.population).abs() < 1e-3);
        assert!((p["gap_population"].as_f64().unwrap() - s.gap).abs() < 1e-3);
        for c in &categories {
            let written = p[format!("{c}_coverage")].as_f64().unwrap();
            let plain = s.covered.get(c).copied().unwrap_or(0.0) / s.population;
            assert!(
                (written - plain).abs() <= 5.1e-5,
                "{id} {c}: {written} vs {plain}"
            );
        }
    }
}
