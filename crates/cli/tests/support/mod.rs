//! Helpers shared by the integration tests: where the repository's data and the fixtures are,
//! running the `lifecircle` binary, and reading what it wrote with independent parsers
//! (`serde_json`, the `geojson` crate).

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use geo::{Distance, Geodesic, Point};
use lifecircle::geodesy::LonLat;
use lifecircle_synth::{self as synth, CitySpec};
use serde_json::Value;

/// The six functions of the 15-minute community life circle, in the default profile's order;
/// written out here rather than taken from the library, so that a test notices a change.
pub const SIX_FUNCTIONS: [&str; 6] = [
    "elderly_care",
    "childcare",
    "medical",
    "meals",
    "culture_sports",
    "admin_services",
];

/// The repository root (the workspace above `crates/cli`).
pub fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// A file under the repository's `data/`, e.g. `data("raw/helsinki-centre.osm.pbf")`.
pub fn data(name: &str) -> PathBuf {
    root().join("data").join(name)
}

/// A file under `crates/cli/tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(name)
}

/// [`data`] as a command-line argument.
pub fn data_arg(name: &str) -> String {
    data(name).to_str().expect("a UTF-8 path").to_string()
}

/// The `lifecircle` binary built for these tests.
pub fn lifecircle() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lifecircle"))
}

/// Run `lifecircle ARGS` in `dir` and wait for it.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    lifecircle()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run lifecircle")
}

/// A run's stdout and stderr as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Run `lifecircle ARGS` in `dir` and insist on success without a panic; returns stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run_in(dir, args);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stdout
}

/// Run `lifecircle ARGS` in `dir` and insist on a clean failure whose message has every
/// needle (see [`assert_clean_failure`]); returns stderr.
pub fn fails(dir: &Path, args: &[&str], needles: &[&str]) -> String {
    let o = run_in(dir, args);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o).1);
    assert_clean_failure(&o, needles)
}

/// Insist that a run failed cleanly: exit status 1, no panic, and every needle in the message.
/// Returns stderr.
#[track_caller]
pub fn assert_clean_failure(o: &Output, needles: &[&str]) -> String {
    let (_, stderr) = text(o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "expected {n:?} in: {stderr}");
    }
    stderr
}

/// A JSON file, parsed with `serde_json`.
pub fn read_json(p: &Path) -> Value {
    let text = fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Coverage per category from a `summary.json`, by category name (`serde_json` sorts keys).
pub fn coverage_by_category(summary: &Value) -> Vec<(String, f64)> {
    summary["categories"]
        .as_object()
        .expect("summary.json has categories")
        .iter()
        .map(|(k, v)| (k.clone(), v["coverage"].as_f64().expect("a coverage")))
        .collect()
}

/// The features of a GeoJSON FeatureCollection, parsed with the `geojson` crate (an independent
/// parser).
pub fn features(p: &Path) -> Vec<geojson::Feature> {
    let text = fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    match text.parse::<geojson::GeoJson>() {
        Ok(geojson::GeoJson::FeatureCollection(fc)) => fc.features,
        Ok(other) => panic!("{}: not a FeatureCollection: {other:?}", p.display()),
        Err(e) => panic!("{}: not valid GeoJSON: {e}", p.display()),
    }
}

/// A feature's property, `null` when it has none of that name (the feature must have a
/// properties object, as every feature lifecircle writes has).
pub fn prop<'a>(f: &'a geojson::Feature, k: &str) -> &'a Value {
    f.properties
        .as_ref()
        .expect("a properties object")
        .get(k)
        .unwrap_or(&Value::Null)
}

/// A Point feature's position (longitude, latitude).
pub fn point_of(f: &geojson::Feature) -> Point {
    match &f.geometry.as_ref().expect("geometry").value {
        geojson::GeometryValue::Point { coordinates: p } => Point::new(p[0], p[1]),
        other => panic!("a point expected, found {other:?}"),
    }
}

/// The geodesic distance between two positions, metres (Karney's algorithm in `geo`, an
/// implementation independent of lifecircle's).
pub fn geodesic_m(a: LonLat, b: LonLat) -> f64 {
    Geodesic.distance(Point::new(a.lon(), a.lat()), Point::new(b.lon(), b.lat()))
}

/// The seeded synthetic city of `spec`, written as GeoJSON into a new temporary directory.
pub fn synth_city(spec: &CitySpec) -> (tempfile::TempDir, synth::City) {
    let dir = tempfile::tempdir().unwrap();
    let city = synth::generate(spec).unwrap();
    synth::write_geojson(&city, dir.path()).unwrap();
    (dir, city)
}

/// `lifecircle analyze --quiet` on the facilities, residences and communities that
/// [`synth_city`] wrote to `dir`, with `extra` arguments, writing to `dir/out`; insists on
/// `lifecircle analyze --quiet` on the synthetic city in `dir`, into `out`, with `extra`
/// arguments; the command, not yet run.
pub fn analyze_cmd(dir: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = lifecircle();
    c.args(["analyze", "--quiet", "--out"])
        .arg(out)
        .arg("--facilities")
        .arg(dir.join(synth::FACILITIES_FILE))
        .arg("--residences")
        .arg(dir.join(synth::RESIDENCES_FILE))
        .arg("--communities")
        .arg(dir.join(synth::COMMUNITIES_FILE))
        .args(extra);
    c
}

/// success and returns `dir/out`.
pub fn analyze_synth_city(dir: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join("out");
    let o = analyze_cmd(dir, &out, extra)
        .output()
        .expect("run lifecircle");
    assert!(o.status.success(), "{}", text(&o).1);
    out
}

/// A position the test knows to be in range.
pub fn ll(lon: f64, lat: f64) -> lifecircle::LonLat {
    lifecircle::LonLat::new(lon, lat).expect("a test position in range")
}
