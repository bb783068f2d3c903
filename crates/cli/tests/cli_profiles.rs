//! End-to-end tests of `lifecircle analyze` with planning profiles, target groups, levels and
//! Chinese map coordinates. Expected values are computed by hand or independently here: the
//! profile files are read with the `toml` crate and matched by this file's own rules, distances
//! come from `geo`'s Karney geodesic by exhaustive search, and coordinates are converted with
//! `lifecircle::coords` only to build the inputs (the converter has its own reference tests).

use std::{
    collections::{BTreeSet, HashMap},
    fs,
    path::{Path, PathBuf},
};

use geo::{Distance, Geodesic, MapCoords, Point};
use lifecircle::{
    coords::{self, Crs},
    geodesy::LonLat,
    profile,
};
use lifecircle_synth as synth;
use serde_json::{json, Value};

use crate::support::{
    coverage_by_category, data, data_arg, fails, features, geodesic_m, ok, point_of, prop,
    read_json, run_in,
};

fn by_id<'a>(fs: &'a [geojson::Feature], id: &str) -> &'a geojson::Feature {
    fs.iter()
        .find(|f| prop(f, "id") == id)
        .unwrap_or_else(|| panic!("no feature {id}"))
}

/// The members of a JSON object, in file order (serde_json's `Value` sorts them).
fn keys_in_order(text: &str, path: &[&str]) -> Vec<String> {
    let mut v: &serde_json::value::RawValue = serde_json::from_str(text).unwrap();
    for key in path {
        let map: HashMap<String, &serde_json::value::RawValue> =
            serde_json::from_str(v.get()).unwrap();
        v = map[*key];
    }
    let entries: indexmap_free::Entries = serde_json::from_str(v.get()).unwrap();
    entries.0
}

/// Reads an object's keys in order without extra dependencies.
mod indexmap_free {
    use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

    pub struct Entries(pub Vec<String>);

    impl<'de> Deserialize<'de> for Entries {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Entries;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Entries, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, IgnoredAny)) = m.next_entry::<String, IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Entries(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

// ---------------------------------------------------------------------------------------------
// The Helsinki sample under both built-in profiles, against an independent computation.

/// A profile category as this test reads it from the TOML text.
struct RefCategory {
    key: String,
    values: Vec<String>,
    max_walk_m: f64,
    level: Option<String>,
    group: Option<String>,
}

/// Metres of a walk written as the built-in profiles write them (`15min`, `300m`).
fn metres(walk: &str, speed: f64) -> f64 {
    if let Some(min) = walk.strip_suffix("min") {
        min.trim().parse::<f64>().unwrap() * 60.0 * speed
    } else if let Some(m) = walk.strip_suffix('m') {
        m.trim().parse().unwrap()
    } else {
        panic!("walk {walk:?} not understood by the test")
    }
}

/// Categories of a built-in profile, read from its TOML text with the `toml` crate.
fn reference_categories(name: &str) -> (Vec<RefCategory>, f64) {
    let t: toml::Table = toml::from_str(profile::builtin_text(name).unwrap()).unwrap();
    let speed = t
        .get("walk_speed_m_per_s")
        .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
        .unwrap_or(1.0);
    let target = t["target_percent"].as_integer().unwrap() as f64;
    let levels = t.get("levels").and_then(|l| l.as_table()).cloned();
    let cats = t["category"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let key = c["key"].as_str().unwrap().to_string();
            let mut values: Vec<String> = vec![key.to_ascii_lowercase()];
            if let Some(a) = c.get("aliases").and_then(|a| a.as_array()) {
                values.extend(
                    a.iter()
                        .map(|v| v.as_str().unwrap().trim().to_ascii_lowercase()),
                );
            }
            let level = c.get("level").and_then(|l| l.as_str()).map(String::from);
            let walk = match (&level, c.get("max_walk")) {
                (_, Some(w)) => w.as_str().unwrap().to_string(),
                (Some(l), None) => levels.as_ref().unwrap()[l].as_str().unwrap().to_string(),
                (None, None) => t["max_walk"].as_str().unwrap().to_string(),
            };
            let own_speed = c.get("walk_speed_m_per_s").and_then(|v| v.as_float());
            RefCategory {
                key,
                values,
                max_walk_m: metres(&walk, own_speed.unwrap_or(speed)),
                level,
                group: c.get("group").and_then(|g| g.as_str()).map(String::from),
            }
        })
        .collect();
    (cats, target)
}

#[test]
fn helsinki_under_both_profiles_matches_brute_force() {
    let facilities = features(&data("facilities.geojson"));
    let residences = features(&data("residences.geojson"));
    let communities = features(&data("communities.geojson"));
    // Residences go to their nearest community point (the sample's communities are points).
    let community_of: Vec<String> = residences
        .iter()
        .map(|r| {
            let p = point_of(r);
            let c = communities
                .iter()
                .min_by(|a, b| {
                    Geodesic
                        .distance(p, point_of(a))
                        .total_cmp(&Geodesic.distance(p, point_of(b)))
                })
                .unwrap();
            prop(c, "id").as_str().unwrap().to_string()
        })
        .collect();
    let population: Vec<f64> = residences
        .iter()
        .map(|r| prop(r, "population").as_f64().unwrap())
        .collect();
    let total: f64 = population.iter().sum();

    let dir = tempfile::tempdir().unwrap();
    for name in ["six-functions", "gb50180"] {
        let mut args = vec!["analyze", "--profile", name, "--out", name, "--quiet"];
        let inputs = ["facilities", "residences", "communities"]
            .map(|input| (format!("--{input}"), data_arg(&format!("{input}.geojson"))));
        for (flag, path) in &inputs {
            args.extend([flag.as_str(), path.as_str()]);
        }
        ok(dir.path(), &args);
        let out = dir.path().join(name);
        let (cats, target) = reference_categories(name);
        let summary_text = fs::read_to_string(out.join("summary.json")).unwrap();
        let s: Value = serde_json::from_str(&summary_text).unwrap();
        let com = features(&out.join("communities.geojson"));
        assert_eq!(s["profile"]["name"], name);
        // Categories in profile order; six-functions then adds the other values found in the
        // data (local extras), in alphabetical order.
        let extras: BTreeSet<String> = if name == "six-functions" {
            facilities
                .iter()
                .map(|f| {
                    prop(f, "category")
                        .as_str()
                        .unwrap()
                        .trim()
                        .to_ascii_lowercase()
                })
                .filter(|v| !cats.iter().any(|c| c.values.contains(v)))
                .collect()
        } else {
            BTreeSet::new()
        };
        assert_eq!(
            keys_in_order(&summary_text, &["categories"]),
            cats.iter()
                .map(|c| c.key.as_str())
                .chain(extras.iter().map(String::as_str))
                .collect::<Vec<_>>()
        );
        for extra in &extras {
            let c = &s["categories"][extra];
            let n = facilities
                .iter()
                .filter(|f| {
                    prop(f, "category")
                        .as_str()
                        .unwrap()
                        .trim()
                        .eq_ignore_ascii_case(extra)
                })
                .count();
            assert_eq!(c["facilities"], n, "{name}/{extra}");
            assert_eq!(c["extra"], true, "{name}/{extra}");
        }
        let mut listed = 0;
        for cat in &cats {
            let of_cat: Vec<Point> = facilities
                .iter()
                .filter(|f| {
                    let v = prop(f, "category");
                    cat.values
                        .contains(&v.as_str().unwrap().trim().to_ascii_lowercase())
                })
                .map(point_of)
                .collect();
            let mut covered = 0.0;
            let mut per_community: HashMap<&str, (f64, f64)> = HashMap::new();
            for (k, r) in residences.iter().enumerate() {
                let p = point_of(r);
                let d = of_cat
                    .iter()
                    .map(|f| Geodesic.distance(p, *f))
                    .fold(f64::INFINITY, f64::min);
                let e = per_community.entry(&community_of[k]).or_default();
                e.0 += population[k];
                if d <= cat.max_walk_m {
                    covered += population[k];
                    e.1 += population[k];
                }
            }
            let c = &s["categories"][&cat.key];
            let at = format!("{name}/{}", cat.key);
            assert_eq!(c["facilities"], of_cat.len(), "{at}");
            assert_eq!(c["max_walk_m"], cat.max_walk_m, "{at}");
            assert_eq!(c["target_percent"], target, "{at}");
            assert_eq!(c["extra"], false, "{at}");
            // The sample has no group counts: a group falls back to everyone, and says so.
            let counts = cat.group.as_deref().unwrap_or("population");
            assert_eq!(c["counts"], counts, "{at}");
            // The summary writes populations to 3 decimals.
            let counted = c["counted_population"].as_f64().unwrap();
            assert!(close(counted, total, 0.0005), "{at}: {counted} vs {total}");
            if cat.group.is_some() {
                assert_eq!(c["group_defaulted"], residences.len(), "{at}");
            }
            assert!(
                close(c["covered_population"].as_f64().unwrap(), covered, 1e-6),
                "{at}: {} vs brute force {covered}",
                c["covered_population"]
            );
            let mut lacking = 0;
            for f in &com {
                let id = prop(f, "id");
                let Some(&(pop, cov)) = per_community.get(id.as_str().unwrap()) else {
                    // Nobody lives nearest to this community: no share, nothing lacking.
                    assert_eq!(prop(f, "population"), 0.0, "{at} {id}");
                    assert_eq!(prop(f, &format!("{}_coverage", cat.key)), &Value::Null);
                    assert_eq!(prop(f, "lacking"), &json!([]), "{at} {id}");
                    continue;
                };
                let share = cov / pop;
                let written = prop(f, &format!("{}_coverage", cat.key)).as_f64().unwrap();
                assert!(
                    close(written, share, 0.000051),
                    "{at} {id}: {written} vs {share}"
                );
                if let Some(g) = &cat.group {
                    let k = format!("{}_coverage_{g}", cat.key);
                    assert_eq!(prop(f, &k).as_f64(), Some(written), "{at} {id}");
                    assert_eq!(prop(f, &format!("population_{g}")), prop(f, "population"));
                }
                let is_lacking = share < target / 100.0;
                lacking += usize::from(is_lacking);
                let in_list = |key: &str| {
                    prop(f, key)
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|v| v == cat.key.as_str())
                };
                assert_eq!(in_list("lacking"), is_lacking, "{at} {id}");
                if let Some(level) = &cat.level {
                    assert_eq!(
                        in_list(&format!("lacking_{level}")),
                        is_lacking,
                        "{at} {id}"
                    );
                }
            }
            assert_eq!(c["communities_lacking"], lacking, "{at}");
            listed += 1;
        }
        assert_eq!(
            s["categories"].as_object().unwrap().len(),
            listed + extras.len(),
            "{name}"
        );
        match name {
            "gb50180" => {
                assert_eq!(s["max_walk_m"], Value::Null, "the walks differ by level");
                let levels = s["levels"].as_object().unwrap();
                assert_eq!(
                    keys_in_order(&summary_text, &["levels"]),
                    ["5min", "10min", "15min"],
                    "nearest level first"
                );
                for (level, body) in levels {
                    let want: Vec<&str> = cats
                        .iter()
                        .filter(|c| c.level.as_deref() == Some(level.as_str()))
                        .map(|c| c.key.as_str())
                        .collect();
                    assert_eq!(body["categories"], json!(want), "{level}");
                }
                assert_eq!(levels["5min"]["walk"], "300m");
            }
            _ => {
                assert_eq!(s["max_walk_m"], 900.0);
                assert!(s.get("levels").is_none());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A hand-built city for target groups, aliases, custom profiles and overrides.
//
// On the equator a geodesic along it is the equator itself, so 0.001 degree of longitude is
// 6378137 m * pi / 180 * 0.001 = 111.3195 m. The canteen stands at longitude 0:
//   r_near   0.0027 E  300.6 m   population 50, elderly 10
//   r_far    0.00674 E 750.3 m   population 100, elderly 40
//   r_nogrp  0.00674 W 750.3 m   population 20, no elderly property
//   r_remote 0.018 E   2003.8 m  population 30, elderly 30
// Communities: W = [-0.01, 0), A = [0, 0.01), C = [0.01, 0.02).

const CITY_PROFILE: &str = r#"
name = "elderly-city"
description = "test: meals and elderly care for the elderly at 0.8 m/s"
walk_speed_m_per_s = 1.0
target_percent = 60
include_other_categories = true
max_walk = "500m"

[levels]
near = "15min"

[[category]]
key = "meals"
aliases = ["助餐", "canteen"]
level = "near"
group = "elderly"
walk_speed_m_per_s = 0.8

[[category]]
key = "elderly_care"
aliases = ["养老", "nursing_home"]
max_walk = "15min"
group = "elderly"
walk_speed_m_per_s = 0.8
target_percent = 50
"#;

fn pt(lon: f64, lat: f64, props: Value) -> Value {
    json!({"type": "Feature", "properties": props,
           "geometry": {"type": "Point", "coordinates": [lon, lat]}})
}

fn square(id: &str, lon0: f64, lon1: f64) -> Value {
    json!({"type": "Feature", "properties": {"id": id},
           "geometry": {"type": "Polygon", "coordinates":
               [[[lon0, -0.005], [lon1, -0.005], [lon1, 0.005], [lon0, 0.005], [lon0, -0.005]]]}})
}

fn write_fc(path: &Path, features: Vec<Value>) {
    let fc = json!({"type": "FeatureCollection", "features": features});
    fs::write(path, serde_json::to_string(&fc).unwrap()).unwrap();
}

struct City {
    dir: tempfile::TempDir,
}

impl City {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_fc(
            &d.join("f.geojson"),
            vec![
                pt(0.0, 0.0, json!({"id": "canteen", "category": "助餐"})),
                // 0.0045 E of the canteen: 500.9 m from it; the only elderly care, an alias.
                pt(0.0045, 0.0, json!({"id": "home", "category": "养老"})),
                pt(0.0, 0.0, json!({"id": "chemist", "category": "pharmacy"})),
            ],
        );
        write_fc(
            &d.join("r.geojson"),
            vec![
                pt(
                    0.0027,
                    0.0,
                    json!({"id": "r_near", "population": 50, "elderly": 10}),
                ),
                pt(
                    0.00674,
                    0.0,
                    json!({"id": "r_far", "population": 100, "elderly": "40"}),
                ),
                pt(-0.00674, 0.0, json!({"id": "r_nogrp", "population": 20})),
                pt(
                    0.018,
                    0.0,
                    json!({"id": "r_remote", "population": 30, "elderly": 30}),
                ),
            ],
        );
        write_fc(
            &d.join("c.geojson"),
            vec![
                square("W", -0.01, 0.0),
                square("A", 0.0, 0.01),
                square("C", 0.01, 0.02),
            ],
        );
        fs::write(d.join("city.toml"), CITY_PROFILE).unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn args<'a>(&self, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        const INPUTS: &str =
            "analyze --facilities f.geojson --residences r.geojson --communities c.geojson";
        let mut args: Vec<&str> = INPUTS.split(' ').collect();
        args.extend(["--quiet", "--out", out]);
        args.extend_from_slice(extra);
        args
    }

    fn run(
        &self,
        out: &str,
        extra: &[&str],
    ) -> (Value, Vec<geojson::Feature>, Vec<geojson::Feature>) {
        ok(self.dir.path(), &self.args(out, extra));
        let o = self.path(out);
        (
            read_json(&o.join("summary.json")),
            features(&o.join("communities.geojson")),
            features(&o.join("residences.geojson")),
        )
    }
}

#[test]
fn target_groups_walk_speeds_and_aliases_by_hand() {
    let city = City::new();
    let (s, com, res) = city.run("groups", &["--profile", "city.toml"]);
    assert_eq!(s["profile"]["name"], "elderly-city");
    assert_eq!(s["profile"]["origin"], "city.toml");

    // meals: 15 min at 0.8 m/s = 720 m. Only r_near (300.6 m) is within it; r_far at 750.3 m
    // is not. The elderly counted: 10 + 40 + 20 (r_nogrp, its whole population) + 30 = 100,
    // covered 10. Everyone: 50 of 200.
    let meals = &s["categories"]["meals"];
    assert_eq!(meals["counts"], "elderly");
    assert_eq!(meals["max_walk_m"], 720.0);
    assert_eq!(meals["walk_speed_m_per_s"], 0.8);
    assert_eq!(meals["target_percent"], 60.0);
    assert_eq!(meals["level"], "near");
    assert_eq!(meals["facilities"], 1, "the 助餐 canteen");
    assert_eq!(meals["counted_population"], 100.0);
    assert_eq!(meals["covered_population"], 10.0);
    assert_eq!(meals["coverage"], 0.1);
    assert_eq!(meals["coverage_everyone"], 0.25);
    assert_eq!(meals["group_defaulted"], 1);

    // elderly_care (the 养老 home at 0.0045 E): r_near 0.0018 deg = 200.4 m, r_far 0.00224 deg
    // = 249.4 m, r_nogrp 0.01124 deg = 1251.3 m, r_remote 0.0135 deg = 1502.8 m; within 720 m:
    // elderly 10 + 40 = 50 of 100.
    let care = &s["categories"]["elderly_care"];
    assert_eq!(
        care["facilities"], 1,
        "the 养老 home counts as elderly_care"
    );
    assert_eq!(care["covered_population"], 50.0);
    assert_eq!(care["coverage"], 0.5);
    assert_eq!(care["target_percent"], 50.0);
    assert!(care.get("level").is_none());

    // pharmacy is not in the profile: a local extra at the profile's 500 m, counting everyone.
    // r_near (300.6 m) only: 50 of 200.
    let x = &s["categories"]["pharmacy"];
    assert_eq!(x["extra"], true);
    assert_eq!(x["counts"], "population");
    assert_eq!(x["max_walk_m"], 500.0);
    assert_eq!(x["covered_population"], 50.0);
    assert!(x.get("group_defaulted").is_none());
    assert_eq!(s["max_walk_m"], Value::Null);
    assert_eq!(s["target_percent"], Value::Null);
    assert_eq!(s["levels"]["near"]["categories"], json!(["meals"]));

    // Community A holds r_near and r_far: elderly 50, meals covers 10 of them (0.2, below the
    // 60 % target); everyone 50 of 150 (0.3333). Elderly care covers 50 of 50 (1.0).
    let a = by_id(&com, "A");
    assert_eq!(prop(a, "population"), 150.0);
    assert_eq!(prop(a, "population_elderly"), 50.0);
    assert_eq!(prop(a, "meals_coverage_elderly"), 0.2);
    assert_eq!(prop(a, "meals_coverage"), 0.3333);
    assert_eq!(prop(a, "elderly_care_coverage_elderly"), 1.0);
    assert_eq!(prop(a, "lacking"), &json!(["meals", "pharmacy"]));
    assert_eq!(prop(a, "lacking_near"), &json!(["meals"]));
    // W holds r_nogrp only, counted with its whole population (20).
    let w = by_id(&com, "W");
    assert_eq!(prop(w, "population_elderly"), 20.0);
    assert_eq!(prop(w, "meals_coverage_elderly"), 0.0);
    assert_eq!(prop(w, "elderly_care_coverage_elderly"), 0.0);
    assert!(prop(w, "pharmacy_coverage_elderly").is_null());

    let missing = |id: &str| prop(by_id(&res, id), "missing");
    assert_eq!(missing("r_far"), &json!(["meals", "pharmacy"]));
    assert_eq!(missing("r_near"), &json!([]));
    assert!(close(
        prop(by_id(&res, "r_far"), "meals_m").as_f64().unwrap(),
        750.3,
        0.051
    ));

    let csv = fs::read_to_string(city.path("groups/summary.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "category,facilities,population,covered_population,coverage,communities_lacking,\
         communities,max_walk_m,mode,counts,target_percent,walk_speed_m_per_s,level,\
         access_method,capacity,demand_in_reach,access,places_needed,shortfall,communities_short,run"
    );
    // meals lacks in W (0), A (0.2) and C (r_remote, 0). No capacity: the capacity columns are
    // empty. The last column is the run id.
    assert_eq!(
        lines.next().unwrap().rsplit_once(',').unwrap().0,
        "meals,1,100,10,0.1,3,3,720,straight-line,elderly,60,0.8,near,,,,,,,"
    );

    // The same city at 1.0 m/s for everyone (--walk-speed overrides every category): meals
    // reaches 900 m, so r_far and r_nogrp (750.3 m) are covered: elderly 10 + 40 + 20 = 70.
    let (s, com, _) = city.run("fast", &["--profile", "city.toml", "--walk-speed", "1.0"]);
    let meals = &s["categories"]["meals"];
    assert_eq!(meals["max_walk_m"], 900.0);
    assert_eq!(meals["covered_population"], 70.0);
    assert_eq!(meals["coverage_everyone"], 0.85); // 170 of 200
    assert_eq!(prop(by_id(&com, "A"), "meals_coverage_elderly"), 1.0);
    assert_eq!(
        s["categories"]["pharmacy"]["max_walk_m"], 500.0,
        "metres do not scale"
    );
}

#[test]
fn default_profile_resolves_aliases_and_reads_groups() {
    let city = City::new();
    let (s, com, _) = city.run("default", &[]);
    let text = fs::read_to_string(city.path("default/summary.json")).unwrap();
    assert_eq!(s["profile"]["name"], "six-functions");
    assert_eq!(s["profile"]["origin"], "built-in profile 'six-functions'");
    // The six functions in their standard order, then the extra found in the data.
    let mut want = lifecircle::SIX_FUNCTIONS.to_vec();
    want.push("pharmacy");
    assert_eq!(keys_in_order(&text, &["categories"]), want);
    // 养老 and 助餐 are aliases of the six functions; 900 m for all at 1.0 m/s.
    assert_eq!(s["categories"]["elderly_care"]["facilities"], 1);
    assert_eq!(s["categories"]["meals"]["facilities"], 1);
    assert_eq!(s["max_walk_m"], 900.0);
    // meals within 900 m: r_near, r_far, r_nogrp: elderly 10 + 40 + 20 = 70 of 100.
    assert_eq!(s["categories"]["meals"]["covered_population"], 70.0);
    // childcare counts `children`, which no residence has: everyone, and said so.
    assert_eq!(s["categories"]["childcare"]["counts"], "children");
    assert_eq!(s["categories"]["childcare"]["group_defaulted"], 4);
    assert_eq!(s["categories"]["childcare"]["counted_population"], 200.0);
    assert_eq!(prop(by_id(&com, "C"), "population_children"), 30.0);

    // --categories takes aliases too; --max-walk and --target override every category.
    let (s, _, _) = city.run(
        "narrow",
        &[
            "--categories",
            "养老,pharmacy",
            "--max-walk",
            "0.25km",
            "--target",
            "40",
        ],
    );
    let text = fs::read_to_string(city.path("narrow/summary.json")).unwrap();
    assert_eq!(
        keys_in_order(&text, &["categories"]),
        ["elderly_care", "pharmacy"]
    );
    assert_eq!(s["max_walk_m"], 250.0);
    assert_eq!(s["target_percent"], 40.0);
    // Within 250 m of the home: r_near (200.4 m) and r_far (249.4 m): elderly 50 of 100.
    assert_eq!(s["categories"]["elderly_care"]["covered_population"], 50.0);
    assert_eq!(s["categories"]["pharmacy"]["covered_population"], 0.0);
}

#[test]
fn bad_group_counts_are_feature_errors() {
    let city = City::new();
    for (value, problem) in [
        (json!(-3), "must not be negative"),
        (json!("many"), "expected a number"),
        (Value::Null, "null"),
    ] {
        write_fc(
            &city.path("r.geojson"),
            vec![
                pt(
                    0.0027,
                    0.0,
                    json!({"id": "ok", "population": 5, "elderly": 1}),
                ),
                pt(
                    0.003,
                    0.0,
                    json!({"id": "bad", "population": 5, "elderly": value}),
                ),
            ],
        );
        fails(
            city.dir.path(),
            &city.args("strict", &["--strict"]),
            &["r.geojson", "feature 1 (elderly)", problem],
        );
        let o = run_in(city.dir.path(), &city.args("lenient", &[]));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{stderr}");
        assert!(
            stderr.contains("skipped 1") && stderr.contains(problem),
            "{stderr}"
        );
        let s = read_json(&city.path("lenient/summary.json"));
        assert_eq!(s["demand_points"], 1);
        assert_eq!(s["categories"]["meals"]["counted_population"], 1.0);
    }
    // A profile without groups does not read the property at all.
    let o = run_in(
        city.dir.path(),
        &city.args("none", &["--profile", "gb50180", "--categories", "medical"]),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = read_json(&city.path("none/summary.json"));
    assert_eq!(s["skipped_features"], 0);
    assert_eq!(s["categories"]["health_centre"]["counts"], "population");
}

#[test]
fn bad_profiles_fail_clearly() {
    let city = City::new();
    let d = city.dir.path();
    let cases: [(&str, &[&str]); 4] = [
        (
            "name = \"x\"\nmaxwalk = \"5min\"\n[[category]]\nkey = \"a\"\nmax_walk = \"5min\"\n",
            &["bad.toml", "line 2", "unknown field `maxwalk`"],
        ),
        (
            "name = \"x\"\n[[category]]\nkey = \"a\"\nmax_walk = \"-300m\"\n",
            &["bad.toml", "category #1 'a'", "max_walk", "positive"],
        ),
        (
            "name = \"x\"\n[[category]]\nkey = \"a\"\naliases = [\"养老\"]\nmax_walk = \"1km\"\n\
             [[category]]\nkey = \"b\"\naliases = [\"养老\"]\nmax_walk = \"1km\"\n",
            &[
                "bad.toml",
                "category #2 'b'",
                "alias '养老' is already claimed by category #1 'a'",
            ],
        ),
        (
            "name = \"x\"\n[[category]]\nkey = \"a\"\nmax_walk = \"1km\"\ngroup = \"\"\n",
            &["bad.toml", "group must not be empty"],
        ),
    ];
    for (text, needles) in cases {
        fs::write(d.join("bad.toml"), text).unwrap();
        fails(d, &city.args("o", &["--profile", "bad.toml"]), needles);
        assert!(!city.path("o").exists(), "no output for a bad profile");
    }
    fails(
        d,
        &city.args("o", &["--profile", "gb50137"]),
        &[
            "no built-in profile or file named 'gb50137'",
            "six-functions, gb50180",
        ],
    );
    fails(
        d,
        &city.args("o", &["--profile", "missing.toml"]),
        &["missing.toml"],
    );
    // gb50180 has no default walk for a category it does not list.
    fails(
        d,
        &city.args("o", &["--profile", "gb50180", "--categories", "pharmacy"]),
        &["'pharmacy' is not in profile 'gb50180'", "--max-walk"],
    );
    // An unknown coordinate system is a usage error (exit 2), named.
    let o = run_in(d, &city.args("o", &["--coords", "mars"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wgs84, gcj02, bd09"));
}

// ---------------------------------------------------------------------------------------------
// Chinese map coordinates: a synthetic city in Shanghai (inside China, where GCJ-02 and BD-09
// differ from WGS84 by several hundred metres), written in WGS84 and again in GCJ-02 / BD-09.

fn to_crs(p: LonLat, crs: Crs) -> LonLat {
    coords::convert(p, Crs::Wgs84, crs)
}

/// Write the city with every coordinate converted to `crs`.
fn write_city_in(city: &synth::City, crs: Crs, dir: &Path) {
    let mut c = city.clone();
    for r in &mut c.residences {
        r.0 = to_crs(r.0, crs);
    }
    for f in &mut c.facilities {
        f.0 = to_crs(f.0, crs);
    }
    for s in &mut c.streets {
        for p in s.iter_mut() {
            *p = to_crs(*p, crs);
        }
    }
    for com in &mut c.communities {
        com.polygon = com.polygon.map_coords(|xy| {
            let p = to_crs(crate::support::ll(xy.x, xy.y), crs);
            geo::Coord {
                x: p.lon(),
                y: p.lat(),
            }
        });
    }
    synth::write_geojson(&c, dir).unwrap();
}

/// Largest difference in coverage, in percentage points.
fn max_gap_pp(a: &Value, b: &Value) -> f64 {
    let (a, b) = (coverage_by_category(a), coverage_by_category(b));
    assert_eq!(
        a.iter().map(|x| &x.0).collect::<Vec<_>>(),
        b.iter().map(|x| &x.0).collect::<Vec<_>>()
    );
    a.iter()
        .zip(&b)
        .map(|(x, y)| 100.0 * (x.1 - y.1).abs())
        .fold(0.0, f64::max)
}

fn positions(p: &Path) -> HashMap<String, LonLat> {
    features(p)
        .iter()
        .map(|f| {
            let q = point_of(f);
            (
                prop(f, "id").as_str().unwrap().to_string(),
                crate::support::ll(q.x(), q.y()),
            )
        })
        .collect()
}

/// Largest difference between two runs' walks to the nearest facility (`<category>_m`) over
/// every residence and category, metres.
fn walk_gap_m(a: &Path, b: &Path) -> f64 {
    let (fa, fb) = (
        features(&a.join("residences.geojson")),
        features(&b.join("residences.geojson")),
    );
    assert_eq!(fa.len(), fb.len());
    let mut worst = 0.0f64;
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(prop(x, "id"), prop(y, "id"));
        for (k, v) in x.properties.as_ref().unwrap() {
            if let (true, Some(dx)) = (k.ends_with("_m"), v.as_f64()) {
                let dy = prop(y, k).as_f64().unwrap_or(f64::INFINITY);
                worst = worst.max((dx - dy).abs());
            }
        }
    }
    worst
}

#[test]
fn chinese_map_coordinates_give_the_same_coverage() {
    let mut spec = synth::CitySpec::for_residences(20_000);
    spec.seed = 7;
    spec.streets = true;
    println!(
        "synthetic city: seed {}, 20,000 residences, centre 121.47 E 31.23 N",
        spec.seed
    );
    let city = synth::generate(&spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_city_in(&city, Crs::Wgs84, &d.join("wgs84"));
    write_city_in(&city, Crs::Gcj02, &d.join("gcj02"));
    write_city_in(&city, Crs::Bd09, &d.join("bd09"));
    // The shift is real here: several hundred metres for the first residence.
    let r0 = city.residences[0].0;
    for crs in [Crs::Gcj02, Crs::Bd09] {
        let shift = geodesic_m(r0, to_crs(r0, crs));
        assert!(shift > 300.0 && shift < 1200.0, "{crs}: {shift} m");
    }

    let run = |out: &str, fac: &str, rest: &str, network: bool, extra: &[&str]| -> Value {
        let f = format!("{fac}/facilities.geojson");
        let r = format!("{rest}/residences.geojson");
        let c = format!("{rest}/communities.geojson");
        let n = format!("{rest}/streets.geojson");
        let mut args = vec![
            "analyze",
            "--facilities",
            &f,
            "--residences",
            &r,
            "--communities",
            &c,
            "--out",
            out,
            "--quiet",
        ];
        if network {
            args.extend(["--network", n.as_str()]);
        }
        args.extend_from_slice(extra);
        ok(d, &args);
        read_json(&d.join(out).join("summary.json"))
    };

    for network in [false, true] {
        let tag = if network { "network" } else { "straight" };
        let base = run(&format!("{tag}-wgs84"), "wgs84", "wgs84", network, &[]);
        let mixed_raw = run(&format!("{tag}-raw"), "gcj02", "wgs84", network, &[]);
        let raw_gap = max_gap_pp(&base, &mixed_raw);
        // Unconverted GCJ-02 facilities against WGS84 homes really change the answer...
        assert!(raw_gap > 1.0, "{tag}: unconverted gap only {raw_gap} pp");
        if !network {
            let worst = walk_gap_m(&d.join("straight-wgs84"), &d.join("straight-raw"));
            assert!(worst > 100.0, "unconverted: walks differ by only {worst} m");
        }
        for crs in ["gcj02", "bd09"] {
            // ... every input in the Chinese system, and one file in it, agree with WGS84.
            let all = run(
                &format!("{tag}-{crs}"),
                crs,
                crs,
                network,
                &["--coords", crs],
            );
            assert_eq!(all["coords"]["facilities"], crs);
            assert_eq!(all["coords"]["communities"], crs);
            assert_eq!(all["coords"]["measured_in"], "wgs84");
            assert_eq!(all["coords"]["output"], "wgs84");
            if network {
                assert_eq!(all["coords"]["network"], crs);
            }
            let gap = max_gap_pp(&base, &all);
            assert!(gap <= 0.3, "{tag} {crs}: {gap} pp");
            let flag = format!("--facilities-coords={crs}");
            let mixed = run(
                &format!("{tag}-mixed-{crs}"),
                crs,
                "wgs84",
                network,
                &[flag.as_str()],
            );
            assert_eq!(mixed["coords"]["facilities"], crs);
            assert_eq!(mixed["coords"]["residences"], "wgs84");
            let gap = max_gap_pp(&base, &mixed);
            assert!(gap <= 0.3, "{tag} mixed {crs}: {gap} pp");
            if !network {
                // Every walk is the same to the written decimetre (plus a rounding step).
                let base_dir = d.join("straight-wgs84");
                for out in [format!("straight-{crs}"), format!("straight-mixed-{crs}")] {
                    let worst = walk_gap_m(&base_dir, &d.join(&out));
                    assert!(worst <= 0.11, "{out}: walks differ by {worst} m");
                }
            }
        }
    }

    // Outputs: WGS84 by default (the converted inputs land on the original points), or the
    // Chinese system with --output-coords, which converts back to the original within 0.5 m.
    let original: HashMap<String, LonLat> = city
        .residences
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("r{i}"), r.0))
        .collect();
    for crs in [Crs::Gcj02, Crs::Bd09] {
        let name = crs.name();
        let worst = |written: &HashMap<String, LonLat>, back: &dyn Fn(LonLat) -> LonLat| {
            assert_eq!(written.len(), original.len());
            written
                .iter()
                .map(|(id, p)| geodesic_m(back(*p), original[id]))
                .fold(0.0, f64::max)
        };
        let plain = positions(&d.join(format!("straight-{name}/residences.geojson")));
        let w = worst(&plain, &|p| p);
        assert!(w < 0.5, "{name} input, WGS84 output: {w} m");
        run(
            &format!("out-{name}"),
            "wgs84",
            "wgs84",
            false,
            &["--output-coords", name],
        );
        let out = d.join(format!("out-{name}"));
        let written = positions(&out.join("residences.geojson"));
        let w = worst(&written, &|p| coords::convert(p, crs, Crs::Wgs84));
        assert!(w < 0.5, "{name} output round trip: {w} m");
        // Facilities (with their catchments) too.
        let facilities = positions(&out.join("facilities.geojson"));
        assert_eq!(facilities.len(), city.facilities.len());
        for (i, (at, _)) in city.facilities.iter().enumerate() {
            let back = coords::convert(facilities[&format!("f{i}")], crs, Crs::Wgs84);
            let m = geodesic_m(back, *at);
            assert!(m < 0.5, "{name} facility f{i}: {m} m");
        }
        // Community polygons: every vertex is converted.
        let com = features(&out.join("communities.geojson"));
        let mut vertices = 0;
        for (f, c) in com.iter().zip(&city.communities) {
            assert_eq!(prop(f, "id"), c.id.as_str());
            let rings = match &f.geometry.as_ref().unwrap().value {
                geojson::GeometryValue::Polygon { coordinates } => coordinates.clone(),
                other => panic!("{other:?}"),
            };
            let exterior = &rings[0];
            assert_eq!(exterior.len(), c.polygon.exterior().0.len());
            for (p, q) in exterior.iter().zip(&c.polygon.exterior().0) {
                let back = coords::convert(crate::support::ll(p[0], p[1]), crs, Crs::Wgs84);
                let m = geodesic_m(back, crate::support::ll(q.x, q.y));
                assert!(m < 0.5, "{name} community {}: {m} m", c.id);
                vertices += 1;
            }
        }
        assert!(vertices > 100, "{vertices}");
    }
}

#[test]
fn position_checks_still_apply_with_chinese_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_fc(
        &d.join("f.geojson"),
        vec![pt(121.47, 31.23, json!({"category": "meals"}))],
    );
    for (coords, problem) in [
        (json!([31.23, 121.471]), "swap"),
        (json!([13_522_000.5, 3_662_000.1]), "projected"),
    ] {
        let bad = json!({"type": "Feature", "properties": {"id": "bad"},
                         "geometry": {"type": "Point", "coordinates": coords}});
        write_fc(
            &d.join("r.geojson"),
            vec![pt(121.471, 31.231, json!({"id": "ok"})), bad],
        );
        for crs in ["gcj02", "bd09"] {
            fails(
                d,
                &[
                    "analyze",
                    "--facilities",
                    "f.geojson",
                    "--residences",
                    "r.geojson",
                    "--coords",
                    crs,
                    "--strict",
                    "--quiet",
                ],
                &["r.geojson", "feature 1 (geometry)", problem],
            );
        }
    }
}

/// Group rows stay aligned with the residences when features are skipped or rejected as
/// duplicates, and a group may share its property with another field.
#[test]
fn group_counts_stay_aligned_with_residences() {
    use lifecircle::io::{self as load, Source};
    let text = serde_json::to_string(&json!({"type": "FeatureCollection", "features": [
        pt(1.0, 2.0, json!({"id": "a", "population": 10, "elderly": 4})),
        pt(1.0, 2.0, json!({"id": "b", "population": -1, "elderly": 1})),
        pt(1.0, 2.0, json!({"id": "a", "population": 3, "elderly": 2})),
        pt(1.0, 2.0, json!({"id": "c", "population": 7})),
        pt(1.0, 2.0, json!({"id": "d", "elderly": 0.5, "children": 2})),
    ]}))
    .unwrap();
    let source = Source::from_bytes("r.geojson", text);
    let groups = ["elderly", "population", "children"].map(String::from);
    let r = load::read_residences_with_groups(&source, &load::Fields::default(), &groups).unwrap();
    let ids: Vec<String> = r.items.iter().map(|x| x.id().to_string()).collect();
    assert_eq!(ids, ["a", "c", "d"]);
    assert_eq!(r.groups.names, groups);
    let row = |i: usize| [0, 1, 2].map(|g| r.groups.get(i, g));
    assert_eq!(row(0), [Some(4.0), Some(10.0), None]);
    assert_eq!(row(1), [None, Some(7.0), None]);
    // d has no population (it counts 1 person) and no `population` group count.
    assert_eq!(row(2), [Some(0.5), None, Some(2.0)]);
    assert_eq!(r.items[2].population(), 1.0);
    let rejected: Vec<(usize, &str)> = r
        .rejected
        .iter()
        .map(|e| (e.index, e.field.as_str()))
        .collect();
    assert_eq!(rejected, [(1, "population"), (2, "id")]);

    // Without groups the plain reader gives the same residences and no counts.
    let plain = load::read_residences(&source, &load::Fields::default()).unwrap();
    assert_eq!(plain.items.len(), 3);
    assert!(plain.groups.names.is_empty() && plain.groups.counts.is_empty());
    let too_many: Vec<String> = (0..=load::MAX_GROUPS).map(|g| format!("g{g}")).collect();
    let e = load::read_residences_with_groups(&source, &load::Fields::default(), &too_many);
    assert!(e.unwrap_err().to_string().contains("at most 8"));
}
