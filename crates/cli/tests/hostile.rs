//! Nothing misleading (issue #16, continued): what a careless or hostile user can give
//! lifecircle, and what it must answer. Each test builds its inputs by hand, runs the real
//! binary, and checks the exit status, the message and what was (not) written.

use std::{fs, path::Path};

use serde_json::{json, Value};

use crate::{
    gdal::gdal_available,
    osm_extract::pbf,
    support::{assert_clean_failure, data, data_arg, features, lifecircle, ok, read_json, text},
};

/// A GeoJSON Point feature.
fn pt(lon: f64, lat: f64, props: Value) -> Value {
    json!({"type": "Feature", "properties": props,
           "geometry": {"type": "Point", "coordinates": [lon, lat]}})
}

/// A square community polygon, `d` degrees wide, with its south-west corner at (lon, lat).
fn square(id: &str, lon: f64, lat: f64, d: f64) -> Value {
    json!({"type": "Feature", "properties": {"id": id},
           "geometry": {"type": "Polygon", "coordinates": [[
               [lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]}})
}

/// Write a FeatureCollection of `features` to `dir/name`; returns the path as a string.
fn write_fc(dir: &Path, name: &str, features: &[Value]) -> String {
    let p = dir.join(name);
    let fc = json!({"type": "FeatureCollection", "features": features});
    fs::write(&p, fc.to_string()).unwrap();
    p.to_str().unwrap().to_string()
}

/// One canteen (meals) in central Helsinki.
fn canteen(dir: &Path) -> String {
    write_fc(
        dir,
        "f.geojson",
        &[pt(24.94, 60.17, json!({"id": "c", "category": "meals"}))],
    )
}

/// `lifecircle analyze --quiet` in `dir` with these arguments and `--out out`.
fn analyze(dir: &Path, args: &[&str]) -> std::process::Output {
    lifecircle()
        .current_dir(dir)
        .args(["analyze", "--quiet", "--out", "out"])
        .args(args)
        .output()
        .unwrap()
}

/// Insist the run wrote nothing: no output directory.
#[track_caller]
fn nothing_written(dir: &Path) {
    assert!(!dir.join("out").exists(), "a failed run wrote its outputs");
}

/// The README's custom-profile example, taken from README.md itself, run on the sample: every
/// category it lists finds the facilities the sample has for its key and aliases (counted here
/// from data/facilities.geojson directly), and its own category (a primary school) finds the
/// sample's school.
#[test]
fn readme_custom_profile_works_on_the_sample() {
    let readme = fs::read_to_string(crate::support::root().join("README.md")).unwrap();
    let start = readme
        .find("```toml\nname = \"my-city\"")
        .expect("the README has the my-city example");
    let body = &readme[start + "```toml\n".len()..];
    let toml_text = &body[..body.find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("my-city.toml");
    fs::write(&profile, toml_text).unwrap();
    ok(
        dir.path(),
        &[
            "analyze",
            "--quiet",
            "--profile",
            profile.to_str().unwrap(),
            "--facilities",
            &data_arg("facilities.geojson"),
            "--residences",
            &data_arg("residences.geojson"),
            "--communities",
            &data_arg("communities.geojson"),
            "--out",
            "gaps",
        ],
    );
    let summary = read_json(&dir.path().join("gaps/summary.json"));
    let parsed: toml::Value = toml::from_str(toml_text).unwrap();
    let sample = features(&data("facilities.geojson"));
    let categories = parsed["category"].as_array().unwrap();
    assert_eq!(categories.len(), 4);
    assert_eq!(summary["categories"]["primary_school"]["facilities"], 1);
    for c in categories {
        let key = c["key"].as_str().unwrap();
        let mut names = vec![key.to_string()];
        for a in c["aliases"].as_array().unwrap() {
            names.push(a.as_str().unwrap().to_string());
        }
        let expected = sample
            .iter()
            .filter(|f| {
                let cat = crate::support::prop(f, "category").as_str().unwrap_or("");
                cat.split(';').any(|v| names.iter().any(|n| n == v))
            })
            .count();
        // OpenStreetMap maps no elderly care in the sample (the README says so); every other
        // category of the example must find facilities.
        if key != "elderly_care" {
            assert!(expected > 0, "{key}: the sample has none of {names:?}");
        }
        assert_eq!(
            summary["categories"][key]["facilities"].as_u64(),
            Some(expected as u64),
            "{key}"
        );
    }
}

/// Communities without people are not judged, and the summary says how many there are; when
/// nobody lives in any community the report says so instead of "every community reaches every
/// category".
#[test]
fn summaries_count_only_communities_with_people() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = canteen(d);
    // Three communities; the only residence (next to the canteen) lies in the first.
    let c = write_fc(
        d,
        "c.geojson",
        &[
            square("a", 24.93, 60.16, 0.02),
            square("b", 25.50, 61.00, 0.02),
            square("c", 25.60, 61.00, 0.02),
        ],
    );
    let r = write_fc(
        d,
        "r.geojson",
        &[pt(24.941, 60.171, json!({"population": 10}))],
    );
    let o = lifecircle()
        .current_dir(d)
        .args(["analyze", "--out", "out", "--categories", "meals,medical"])
        .args(["--facilities", &f, "--residences", &r, "--communities", &c])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stdout.contains("3 communities (1 with residents)"),
        "{stdout}"
    );
    // medical (no facility) is lacking in the one community with people: 1 of 1, not 1 of 3.
    let medical_row = stdout.lines().find(|l| l.contains("medical")).unwrap();
    assert!(medical_row.contains("1 of 1"), "{medical_row}");
    assert!(
        stdout.contains("1 of 1 communities with residents lack at least one category"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 of 3 communities have no residents and are not judged"),
        "{stdout}"
    );
    let s = read_json(&d.join("out/summary.json"));
    assert_eq!(s["communities"], 3);
    assert_eq!(s["communities_with_population"], 1);
    assert_eq!(s["communities_without_population"], 2);

    // Everybody outside every community: no claim that every community reaches everything.
    let r = write_fc(
        d,
        "r2.geojson",
        &[pt(24.80, 60.30, json!({"population": 10}))],
    );
    let o = lifecircle()
        .current_dir(d)
        .args(["analyze", "--out", "out2", "--categories", "meals"])
        .args(["--facilities", &f, "--residences", &r, "--communities", &c])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(!stdout.contains("Every community"), "{stdout}");
    assert!(stdout.contains("No community has residents"), "{stdout}");
    assert!(
        stderr.contains("100.0 % of the population (10 people) lies in no community"),
        "{stderr}"
    );
    let s = read_json(&d.join("out2/summary.json"));
    assert_eq!(s["communities_with_population"], 0);
    assert!(s["warnings"][0]
        .as_str()
        .unwrap()
        .contains("lies in no community"));
}

/// No usable facility is an error, like an empty facilities file, and the first reasons are
/// part of the message; nothing is written.
#[test]
fn no_usable_facility_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = canteen(d);
    let r = write_fc(d, "r.geojson", &[pt(24.941, 60.171, json!({}))]);
    let o = analyze(
        d,
        &[
            "--facilities",
            &f,
            "--residences",
            &r,
            "--category-field",
            "kind",
        ],
    );
    assert_clean_failure(
        &o,
        &[
            "f.geojson: its one feature is not a usable facility",
            "feature 0 (kind): the facility has no category",
            "--category-field",
        ],
    );
    nothing_written(d);
    let empty = write_fc(d, "empty.geojson", &[]);
    let o = analyze(d, &["--facilities", &empty, "--residences", &r]);
    assert_clean_failure(
        &o,
        &["empty.geojson: the FeatureCollection has no features"],
    );
    nothing_written(d);
}

/// When every demand point is skipped, the error names the real reason, different for each
/// cause, with the first features' reasons.
#[test]
fn no_usable_demand_point_gives_the_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = canteen(d);
    // Projected metre coordinates (UTM zone 35N).
    let utm = write_fc(
        d,
        "utm.geojson",
        &[
            pt(385_000.0, 6_672_000.0, json!({"population": 5})),
            pt(385_100.0, 6_672_100.0, json!({"population": 5})),
        ],
    );
    let o = analyze(d, &["--facilities", &f, "--residences", &utm]);
    let e = assert_clean_failure(
        &o,
        &[
            "utm.geojson: none of its 2 features is a usable residence; the first reasons:",
            "feature 0 (geometry)",
            "feature 1 (geometry)",
            "projected",
        ],
    );
    assert!(!e.contains("after skipping bad features"), "{e}");
    // A target group that names a non-numeric property.
    let words = write_fc(
        d,
        "words.geojson",
        &[pt(
            24.941,
            60.171,
            json!({"population": 5, "elderly": "many"}),
        )],
    );
    let o = analyze(d, &["--facilities", &f, "--residences", &words]);
    assert_clean_failure(&o, &["feature 0 (elderly)", "\"many\""]);
    // Features that are not objects.
    let p = d.join("numbers.geojson");
    fs::write(&p, r#"{"type":"FeatureCollection","features":[1, "two"]}"#).unwrap();
    let o = analyze(
        d,
        &["--facilities", &f, "--residences", p.to_str().unwrap()],
    );
    assert_clean_failure(&o, &["numbers.geojson", "feature 0 (feature)", "feature 1"]);
    nothing_written(d);
}

/// Implausible inputs: an absurd population is refused per feature (no `null` or `inf` in
/// the summaries), and group counts above the population, swapped coordinates and people
/// outside every community are warned about, naming the likely cause.
#[test]
fn implausible_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = canteen(d);
    let r = write_fc(
        d,
        "r.geojson",
        &[
            pt(
                24.941,
                60.171,
                json!({"id": "ok", "population": 10, "elderly": 30}),
            ),
            pt(24.942, 60.171, json!({"id": "e30", "population": 1e30})),
            pt(24.943, 60.171, json!({"id": "e308", "population": 1e308})),
        ],
    );
    let o = analyze(d, &["--facilities", &f, "--residences", &r]);
    let (_, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("feature 1 (population): the population 1e+30 is implausible"),
        "{stderr}"
    );
    assert!(stderr.contains("feature 2 (population)"), "{stderr}");
    assert!(
        stderr.contains("1 demand point count more people in `elderly` than in their population"),
        "{stderr}"
    );
    let s = read_json(&d.join("out/summary.json"));
    assert_eq!(s["population"], 10.0);
    let csv = fs::read_to_string(d.join("out/summary.csv")).unwrap();
    assert!(!csv.contains("inf") && !csv.contains("NaN"), "{csv}");

    // Residences given as [lat, lon] (both in range): every walk thousands of kilometres.
    let swapped = write_fc(
        d,
        "swapped.geojson",
        &[
            pt(60.171, 24.941, json!({"population": 10})),
            pt(60.172, 24.942, json!({"population": 10})),
        ],
    );
    let o = lifecircle()
        .current_dir(d)
        .args(["analyze", "--quiet", "--out", "out2"])
        .args(["--facilities", &f, "--residences", &swapped])
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("far beyond any walk"), "{stderr}");
    assert!(
        stderr.contains("the facilities or the demand points look like [latitude, longitude]"),
        "{stderr}"
    );
    // With communities around the residences, the facilities are the ones swapped.
    let fs_ = write_fc(
        d,
        "f_swapped.geojson",
        &[pt(60.17, 24.94, json!({"category": "meals"}))],
    );
    let c = write_fc(d, "c.geojson", &[square("a", 24.93, 60.16, 0.02)]);
    let o = lifecircle()
        .current_dir(d)
        .args(["analyze", "--quiet", "--out", "out3"])
        .args([
            "--facilities",
            &fs_,
            "--residences",
            &r,
            "--communities",
            &c,
        ])
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert!(
        stderr.contains("the facilities look like [latitude, longitude]"),
        "{stderr}"
    );
}

/// Anything after the FeatureCollection (garbage, a second collection) is refused.
#[test]
fn trailing_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = fs::read_to_string(canteen(d)).unwrap();
    let r = write_fc(d, "r.geojson", &[pt(24.941, 60.171, json!({}))]);
    for (name, extra) in [
        ("garbage", "\nxyz"),
        (
            "second",
            "\n{\"type\":\"FeatureCollection\",\"features\":[]}",
        ),
    ] {
        let p = d.join(format!("{name}.geojson"));
        fs::write(&p, format!("{good}{extra}")).unwrap();
        let o = analyze(
            d,
            &["--facilities", p.to_str().unwrap(), "--residences", &r],
        );
        assert_clean_failure(
            &o,
            &[
                &format!("{name}.geojson"),
                "line 2, column 1",
                "more data follows the end of the FeatureCollection",
            ],
        );
        nothing_written(d);
    }
    // Trailing whitespace is fine.
    let p = d.join("spaces.geojson");
    fs::write(&p, format!("{good}\n \n\t")).unwrap();
    let o = analyze(
        d,
        &["--facilities", p.to_str().unwrap(), "--residences", &r],
    );
    assert!(o.status.success(), "{}", text(&o).1);
}

/// Whitespace and a long string spanning several read blocks are read, in order.
#[test]
fn long_whitespace_and_long_values_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let one = pt(24.94, 60.17, json!({"id": "a", "category": "meals"})).to_string();
    let two = pt(
        24.95,
        60.17,
        json!({"id": "b", "category": "meals", "note": "x".repeat(20 << 20)}),
    )
    .to_string();
    let p = d.join("f.geojson");
    fs::write(
        &p,
        format!(
            "{{\"type\":\"FeatureCollection\",\"features\":[{one},{}{two}]}}",
            " ".repeat(20 << 20)
        ),
    )
    .unwrap();
    let r = write_fc(d, "r.geojson", &[pt(24.941, 60.171, json!({}))]);
    let o = analyze(
        d,
        &["--facilities", p.to_str().unwrap(), "--residences", &r],
    );
    assert!(o.status.success(), "{}", text(&o).1);
    let s = read_json(&d.join("out/summary.json"));
    assert_eq!(s["categories"]["meals"]["facilities"], 2);
}

/// Real-valued fields are written with a decimal point (GDAL types them Real even when every
/// value is whole), and categories that differ only in case get fields that differ otherwise.
#[test]
fn outputs_are_typed_for_gis_tools() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = write_fc(
        d,
        "f.geojson",
        &[
            pt(24.94, 60.17, json!({"id": 1, "category": "Bakery"})),
            pt(24.94, 60.17, json!({"id": 2, "category": "bakery"})),
        ],
    );
    let r = write_fc(
        d,
        "r.geojson",
        &[pt(24.9401, 60.1701, json!({"id": 1, "population": 7}))],
    );
    let c = write_fc(d, "c.geojson", &[square("a", 24.93, 60.16, 0.02)]);
    let o = analyze(
        d,
        &[
            "--facilities",
            &f,
            "--residences",
            &r,
            "--communities",
            &c,
            "--categories",
            "Bakery,bakery,medical",
        ],
    );
    assert!(o.status.success(), "{}", text(&o).1);
    let gap = fs::read_to_string(d.join("out/communities.geojson")).unwrap();
    assert!(gap.contains(r#""Bakery_coverage":1.0"#), "{gap}");
    assert!(gap.contains(r#""bakery_2_coverage":1.0"#), "{gap}");
    assert!(gap.contains(r#""medical_coverage":0.0"#), "{gap}");
    assert!(gap.contains(r#""population":7.0"#), "{gap}");
    for file in [
        "communities.geojson",
        "residences.geojson",
        "facilities.geojson",
    ] {
        let v = read_json(&d.join("out").join(file));
        for feature in v["features"].as_array().unwrap() {
            let keys: Vec<String> = feature["properties"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.to_lowercase())
                .collect();
            let mut unique = keys.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), keys.len(), "{file}: {keys:?}");
        }
    }
    if !gdal_available() {
        return;
    }
    let info = std::process::Command::new("ogrinfo")
        .args(["-so", "-al"])
        .arg(d.join("out/communities.geojson"))
        .output()
        .unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    for field in [
        "Bakery_coverage: Real",
        "bakery_2_coverage: Real",
        "medical_coverage: Real",
        "population: Real",
    ] {
        assert!(info.contains(field), "{field} in {info}");
    }
}

/// Messages a user can act on.
#[test]
fn messages_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = canteen(d);
    let r = write_fc(d, "r.geojson", &[pt(24.941, 60.171, json!({}))]);
    let base = ["--facilities", f.as_str(), "--residences", r.as_str()];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        analyze(d, &a)
    };
    assert_clean_failure(
        &with(&["--max-walk", "-5min"]),
        &["--max-walk", "\"-5min\"", "must be a positive number"],
    );
    assert_clean_failure(
        &with(&["--max-walk", "1e9km"]),
        &["--max-walk", "at most 100 km"],
    );
    // An exponent is a number.
    assert!(with(&["--max-walk", "9e2m"]).status.success());
    fs::remove_dir_all(d.join("out")).unwrap();
    assert_clean_failure(&with(&["--walk-speed", "-1"]), &["--walk-speed"]);
    nothing_written(d);

    // --out names a file.
    fs::write(d.join("file"), "x").unwrap();
    let o = lifecircle()
        .current_dir(d)
        .args(["analyze", "--quiet", "--out", "file"])
        .args(base)
        .output()
        .unwrap();
    assert_clean_failure(
        &o,
        &["cannot write into file", "is a file, not a directory"],
    );
    assert_eq!(fs::read_to_string(d.join("file")).unwrap(), "x");

    // UTF-16 text.
    let text16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            fs::read_to_string(&f)
                .unwrap()
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    fs::write(d.join("f16.geojson"), text16).unwrap();
    let o = analyze(d, &["--facilities", "f16.geojson", "--residences", &r]);
    assert_clean_failure(&o, &["f16.geojson", "UTF-16", "iconv"]);

    // GeoJSON or gzip given to extract.
    let o = lifecircle()
        .current_dir(d)
        .args(["extract", &f, "--out", "x"])
        .output()
        .unwrap();
    assert_clean_failure(
        &o,
        &["f.geojson", "JSON text", ".osm.pbf", "lifecircle analyze"],
    );
    fs::write(d.join("city.osm.gz"), [0x1F, 0x8B, 8, 0, 0, 0, 0, 0]).unwrap();
    let o = lifecircle()
        .current_dir(d)
        .args(["extract", "city.osm.gz", "--out", "x"])
        .output()
        .unwrap();
    let e = assert_clean_failure(&o, &["city.osm.gz", "gzip-compressed", "osmium"]);
    assert!(!e.contains("blob header"), "{e}");
    assert!(!d.join("x").exists());

    // Control characters from the data are escaped on the terminal.
    let nul = write_fc(
        d,
        "nul.geojson",
        &[pt(24.94, 60.17, json!({"category": "a\u{0}b\u{1b}[31m"}))],
    );
    let o = lifecircle()
        .current_dir(d)
        .args([
            "analyze",
            "--out",
            "out4",
            "--facilities",
            &nul,
            "--residences",
            &r,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(!o.stdout.contains(&0) && !o.stdout.contains(&0x1b));
    assert!(text(&o).0.contains(r"a\u{0}b\u{1b}[31m"), "{}", text(&o).0);

    // A UTF-16 profile.
    let toml16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("name = \"x\"\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    fs::write(d.join("p16.toml"), toml16).unwrap();
    let o = with(&["--profile", "p16.toml"]);
    assert_clean_failure(&o, &["p16.toml", "UTF-16", "iconv"]);

    // --snap has no effect in a straight line: said so.
    let o = lifecircle()
        .current_dir(d)
        .args(["analyze", "--quiet", "--out", "out6", "--snap", "50m"])
        .args(base)
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("--snap 50m is ignored without --network"),
        "{stderr}"
    );

    // --detour has no effect along streets: said so.
    let o = lifecircle()
        .current_dir(d)
        .args(["analyze", "--quiet", "--out", "out5"])
        .args(base)
        .args(["--network", &data_arg("streets.geojson"), "--detour", "1.3"])
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("--detour 1.3 is ignored with --network"),
        "{stderr}"
    );
}

/// An extract that maps streets but no homes: extract says plainly that there are too few
/// homes and what to do (never "-0 residents"), and analyze gives the true reason.
#[test]
fn an_extract_without_homes_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut w = pbf::Writer::default();
    // A 1 km street grid and a restaurant; no building.
    let mut id = 1;
    for row in 0..5 {
        let lat = 60.16 + f64::from(row) * 0.002;
        w.node(id, 24.93, lat, &[]);
        w.node(id + 1, 24.95, lat, &[]);
        w.way(1000 + id, &[id, id + 1], &[("highway", "residential")]);
        id += 2;
    }
    w.node(
        500,
        24.94,
        60.161,
        &[("amenity", "restaurant"), ("name", "R")],
    );
    fs::write(d.join("city.osm.pbf"), w.finish()).unwrap();
    let o = lifecircle()
        .current_dir(d)
        .args(["extract", "city.osm.pbf", "--out", "city"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stdout.contains("residences: 0 buildings, 0 residents"),
        "{stdout}"
    );
    assert!(!stdout.contains("-0"), "{stdout}");
    assert!(stdout.contains("too few homes"), "{stdout}");
    assert!(stdout.contains("--population"), "{stdout}");

    let o = analyze(
        d,
        &[
            "--facilities",
            "city/facilities.geojson",
            "--residences",
            "city/residences.geojson",
        ],
    );
    let e = assert_clean_failure(
        &o,
        &[
            "city/residences.geojson: the FeatureCollection has no features",
            "population grid",
        ],
    );
    assert!(!e.contains("skipping"), "{e}");
    // Nor any community (no boundary or place in the extract).
    let o = analyze(
        d,
        &[
            "--facilities",
            "city/facilities.geojson",
            "--communities",
            "city/communities.geojson",
        ],
    );
    assert_clean_failure(
        &o,
        &[
            "city/communities.geojson: the FeatureCollection has no features",
            "Leave out --communities",
        ],
    );
}

/// A feature larger than the limit on one value (here lowered to 1 MiB by the environment
/// variable) is refused once that much of it has been read, naming the file, the feature and
/// how to raise the limit; the reader never holds the rest of it. A feature under the limit in a
/// file of many blocks reads as usual, and a limit that is not a number is an error of its own.
#[test]
fn a_feature_larger_than_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let r = write_fc(d, "r.geojson", &[pt(24.941, 60.171, json!({}))]);
    let with_note = |mb: usize| {
        let note = "x".repeat(mb << 20);
        write_fc(
            d,
            &format!("note-{mb}.geojson"),
            &[
                pt(24.94, 60.17, json!({"id": "a", "category": "meals"})),
                pt(
                    24.95,
                    60.17,
                    json!({"id": "b", "category": "meals", "note": note}),
                ),
            ],
        )
    };
    let run = |limit: &str, facilities: &str| {
        lifecircle()
            .current_dir(d)
            .env("LIFECIRCLE_MAX_FEATURE_MB", limit)
            .args(["analyze", "--quiet", "--out", "out"])
            .args(["--facilities", facilities, "--residences", &r])
            .output()
            .unwrap()
    };
    let big = with_note(20);
    let o = run("1", &big);
    assert_clean_failure(
        &o,
        &[
            "note-20.geojson",
            "feature 1 is larger than 1 MiB",
            "LIFECIRCLE_MAX_FEATURE_MB",
        ],
    );
    nothing_written(d);
    let o = run("lots", &big);
    assert_clean_failure(
        &o,
        &["LIFECIRCLE_MAX_FEATURE_MB", "whole number of MiB", "lots"],
    );
    nothing_written(d);
    // Under the limit the same file reads, the note being a property nobody asked for.
    let o = run("32", &big);
    assert!(o.status.success(), "{}", text(&o).1);
}
