//! Mutation fuzzing of the three readers of untrusted files: GeoJSON (every reader: facilities,
//! residences with groups, communities, street networks, then an analysis of what was read),
//! profile TOML (parsed, checked into a plan, written back) and `.osm.pbf` (a whole extract).
//!
//! Each target takes the committed corpus in `tests/fuzz/<target>/`, and proptest mutates its
//! files (bit flips, interesting bytes, deletions, insertions, duplications, truncations,
//! splices of two files). A reader must return, `Ok` or `Err`, and never panic; a panic fails
//! the test with the smallest mutation list proptest finds, and the input is saved under the
//! test's temporary directory (`fuzz-crashes/`) to be added to the corpus.
//!
//! CI runs each target for a few seconds. Run longer with, e.g.:
//!
//! ```sh
//! LIFECIRCLE_FUZZ_SECS=600 LIFECIRCLE_FUZZ_CASES=10000000 LIFECIRCLE_FUZZ_SEED=7 \
//!   cargo test --release --test integration fuzz -- --nocapture
//! ```
//!
//! The seed is printed; the same seed, cases and corpus give the same inputs.

use std::{
    fs,
    panic::{catch_unwind, AssertUnwindSafe},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use lifecircle::{
    analyze,
    io::{self, Fields, Source},
    osm::{self, Mapping},
    Crs, Inputs, Plan, Profile, StraightLine,
};
use proptest::{
    collection::vec,
    prelude::*,
    test_runner::{Config, RngSeed, TestRunner},
};

use crate::osm_extract::pbf;

/// One change to an input; positions are taken modulo its length.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Set(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Duplicate(usize, usize),
    Truncate(usize),
    Splice(usize, usize, usize, usize),
}

/// Bytes that change a JSON or TOML document's structure, or its encoding.
const INTERESTING: &[u8] = b"{}[]\",:.-+eE0179 \n\t\\=#'ntf\x00\xff\xc3\x80";

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![proptest::sample::select(INTERESTING), any::<u8>()];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (any::<usize>(), byte.clone()).prop_map(|(p, b)| Mutation::Set(p, b)),
        (any::<usize>(), 1usize..32).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (any::<usize>(), vec(byte, 1..8)).prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<usize>(), 1usize..256).prop_map(|(p, n)| Mutation::Duplicate(p, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>(), any::<usize>(), 1usize..256)
            .prop_map(|(f, p, q, n)| Mutation::Splice(f, p, q, n)),
    ]
}

fn apply(corpus: &[Vec<u8>], first: usize, mutations: &[Mutation]) -> Vec<u8> {
    let mut b = corpus[first % corpus.len()].clone();
    for m in mutations {
        let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
        match m {
            Mutation::Flip(p, bit) if !b.is_empty() => {
                let i = p % b.len();
                b[i] ^= 1 << bit;
            }
            Mutation::Set(p, v) if !b.is_empty() => {
                let i = p % b.len();
                b[i] = *v;
            }
            Mutation::Delete(p, n) => {
                let i = at(*p, b.len());
                let end = (i + n).min(b.len());
                b.drain(i..end);
            }
            Mutation::Insert(p, bytes) => {
                let i = at(*p, b.len());
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Duplicate(p, n) => {
                let i = at(*p, b.len());
                let end = (i + n).min(b.len());
                let copy = b[i..end].to_vec();
                b.splice(end..end, copy);
            }
            Mutation::Truncate(p) => {
                let i = at(*p, b.len());
                b.truncate(i);
            }
            Mutation::Splice(f, p, q, n) => {
                let other = &corpus[f % corpus.len()];
                let i = at(*p, b.len());
                let j = at(*q, other.len());
                let end = (j + n).min(other.len());
                b.splice(i..i, other[j..end].iter().copied());
            }
            _ => {}
        }
    }
    b
}

/// The committed corpus of a target (and `extra` seeds made in code).
fn corpus(target: &str, extra: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz")).join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out: Vec<Vec<u8>> = files.iter().map(|p| fs::read(p).unwrap()).collect();
    out.extend(extra);
    assert!(!out.is_empty(), "{target}: an empty corpus");
    out
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a whole number, got {v:?}")),
        Err(_) => default,
    }
}

/// Run `read` on mutations of the corpus until `cases` inputs or the time budget; a panic
/// fails the test. Returns the number of inputs read.
fn fuzz(target: &str, corpus: &[Vec<u8>], cases: u64, read: impl Fn(&[u8])) -> u64 {
    let seed = env_number("LIFECIRCLE_FUZZ_SEED", 0x6675_7a7a);
    let secs = env_number("LIFECIRCLE_FUZZ_SECS", 3);
    let cases = env_number("LIFECIRCLE_FUZZ_CASES", cases);
    eprintln!(
        "fuzz {target}: seed {seed}, up to {cases} inputs or {secs} s, corpus of {}",
        corpus.len()
    );
    let config = Config {
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    };
    let start = Instant::now();
    let budget = Duration::from_secs(secs);
    let runs = std::cell::Cell::new(0u64);
    let crashes = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes");
    let strategy = (any::<usize>(), vec(mutation(), 1..6));
    let mut runner = TestRunner::new(config);
    // One case at a time, so that the run stops at the time budget; a failing case is shrunk.
    while runs.get() < cases && start.elapsed() < budget {
        let tree = strategy
            .new_tree(&mut runner)
            .unwrap_or_else(|e| panic!("{target}: no input: {e}"));
        let result = runner.run_one(tree, |(first, mutations)| {
            let input = apply(corpus, first, &mutations);
            runs.set(runs.get() + 1);
            if catch_unwind(AssertUnwindSafe(|| read(&input))).is_err() {
                fs::create_dir_all(&crashes).unwrap();
                let path = crashes.join(format!("{target}-{}", runs.get()));
                fs::write(&path, &input).unwrap();
                return Err(TestCaseError::fail(format!(
                    "{target}: the reader panicked; input saved as {}",
                    path.display()
                )));
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }
    eprintln!(
        "fuzz {target}: {} inputs in {:.1} s",
        runs.get(),
        start.elapsed().as_secs_f64()
    );
    runs.get()
}

/// Every GeoJSON reader on the bytes, then an analysis of what they gave.
fn read_geojson(bytes: &[u8]) {
    let source = Source::from_bytes("fuzz.geojson", bytes.to_vec());
    let fields = Fields::default();
    let facilities = io::read_facilities(&source, &fields);
    let residences = io::read_residences_with_groups(&source, &fields, &["elderly".into()]);
    let communities = io::read_communities(&source, &fields);
    let _ = io::read_street_network(&source, Crs::Gcj02);
    if let (Ok(f), Ok(r), Ok(c)) = (&facilities, &residences, &communities) {
        if f.items.len() + r.items.len() + c.items.len() < 500 {
            let plan = Plan::builder(Profile::default())
                .build()
                .expect("the default plan is valid");
            let inputs = Inputs::from_loaded(f, Some(r), Some(c));
            let _ = analyze(inputs, plan, &StraightLine::default(), &());
        }
    }
}

#[test]
fn fuzz_geojson_reader() {
    let corpus = corpus("geojson", Vec::new());
    assert!(fuzz("geojson", &corpus, 20_000, read_geojson) > 0);
}

#[test]
fn fuzz_profile_reader() {
    let profiles = [
        include_bytes!("../../../profiles/six-functions.toml").to_vec(),
        include_bytes!("../../../profiles/gb50180.toml").to_vec(),
    ];
    let corpus = corpus("profile", profiles.to_vec());
    let read = |bytes: &[u8]| {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        if let Ok(p) = Profile::from_toml_str(text, "fuzz.toml") {
            let _ = p.to_canonical_toml();
            let _ = Plan::builder(p).build();
        }
    };
    assert!(fuzz("profile", &corpus, 20_000, read) > 0);
}

/// A small extract made in code: streets, homes, facilities and a place.
fn pbf_seed() -> Vec<u8> {
    let mut w = pbf::Writer::default();
    let mut id = 1;
    for row in 0..3 {
        let lat = 60.16 + f64::from(row) * 0.002;
        w.node(id, 24.93, lat, &[]);
        w.node(id + 1, 24.95, lat, &[]);
        w.way(1000 + id, &[id, id + 1], &[("highway", "residential")]);
        id += 2;
    }
    w.node(
        100,
        24.940,
        60.161,
        &[("amenity", "restaurant"), ("name", "R")],
    );
    w.node(101, 24.941, 60.162, &[("amenity", "kindergarten")]);
    w.node(102, 24.942, 60.163, &[("place", "suburb"), ("name", "P")]);
    for (k, (lon, lat)) in [
        (24.935, 60.1605),
        (24.936, 60.1605),
        (24.936, 60.1612),
        (24.935, 60.1612),
    ]
    .into_iter()
    .enumerate()
    {
        w.node(200 + k as i64, lon, lat, &[]);
    }
    w.way(
        2000,
        &[200, 201, 202, 203, 200],
        &[("building", "apartments"), ("building:levels", "5")],
    );
    w.finish()
}

/// Writes the extract made in code into the corpus (`cargo test --release --test integration
/// write_pbf_seed -- --ignored`), where [`fuzz_pbf_reader`] insists it is.
#[test]
#[ignore]
fn write_pbf_seed() {
    let p = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fuzz/pbf/seed.osm.pbf"
    ));
    fs::write(p, pbf_seed()).unwrap();
}

#[test]
fn fuzz_pbf_reader() {
    let corpus = corpus("pbf", Vec::new());
    assert!(
        corpus.contains(&pbf_seed()),
        "run write_pbf_seed to update the corpus"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.osm.pbf");
    let mapping = Mapping::builtin();
    let read = |bytes: &[u8]| {
        fs::write(&path, bytes).unwrap();
        let _ = osm::extract(&path, None, &mapping);
    };
    assert!(fuzz("pbf", &corpus, 5_000, read) > 0);
}
