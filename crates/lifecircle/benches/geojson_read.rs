//! What the fast GeoJSON feature reader (`src/io/geojson/fast.rs`) buys over `serde_json`, on the
//! same features: 100,000 synthetic residences (flat properties, Point geometry, the shape the
//! fast reader takes) held in memory, read once with the fast reader first and once with every
//! feature sent to `serde_json` (the hidden `FAST_READER` switch).
//!
//! - `features`: `read_features` asking for `id` and `population` with a parse that only takes
//!   the geometry and the raw values: the reader alone (block scan, feature parse, collection).
//! - `load residences`: `io::read_residences`, the whole reading of a residence file (ids,
//!   populations, position checks).
//!
//! Run with `cargo bench --bench geojson_read -- --sample-size 10`. Per-feature times are the
//! reported times divided by 100,000 (criterion also prints features per second).

use std::{hint::black_box, sync::atomic::Ordering};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lifecircle::io::{
    self as load,
    geojson::{read_features, FAST_READER},
    Fields, Source,
};
use lifecircle_synth::{self as synth, CitySpec};

const RESIDENCES: usize = 100_000;

/// The residences file of a seeded synthetic city, in memory.
fn residences() -> Source {
    let city = synth::generate(&CitySpec::for_residences(RESIDENCES))
        .expect("the synthetic city spec is valid");
    let dir = tempfile::tempdir().expect("a temporary directory");
    synth::write_geojson(&city, dir.path()).expect("the city can be written");
    let bytes = std::fs::read(dir.path().join(synth::RESIDENCES_FILE)).expect("written");
    Source::from_bytes(synth::RESIDENCES_FILE, bytes)
}

/// The reader alone: every feature's geometry and the raw `population`.
fn features(source: &Source) -> usize {
    let read = read_features(source, &["id", "population"], |f| {
        let geometry = f.geometry()?;
        Ok((geometry, f.property(1).map(|raw| raw.get().len())))
    })
    .expect("the synthetic residences are valid");
    assert!(read.rejected.is_empty());
    read.kept.len()
}

fn bench(c: &mut Criterion) {
    let source = residences();
    let Source::Bytes { bytes, .. } = &source else {
        unreachable!()
    };
    eprintln!(
        "{RESIDENCES} residences, {:.1} MB of GeoJSON in memory",
        bytes.len() as f64 / 1e6
    );
    // Both readers must read the same: same count, same residences.
    let fields = Fields::default();
    let fast = load::read_residences(&source, &fields).expect("valid");
    FAST_READER.store(false, Ordering::Relaxed);
    let slow = load::read_residences(&source, &fields).expect("valid");
    FAST_READER.store(true, Ordering::Relaxed);
    assert_eq!(fast.items.len(), RESIDENCES);
    assert_eq!(format!("{:?}", fast.items), format!("{:?}", slow.items));

    let mut g = c.benchmark_group("geojson_read");
    g.throughput(Throughput::Elements(RESIDENCES as u64));
    for (mode, fast_reader) in [("fast reader", true), ("serde_json only", false)] {
        FAST_READER.store(fast_reader, Ordering::Relaxed);
        g.bench_function(format!("features, {mode}"), |b| {
            b.iter(|| black_box(features(black_box(&source))))
        });
        g.bench_function(format!("load residences, {mode}"), |b| {
            b.iter(|| black_box(load::read_residences(black_box(&source), &fields).unwrap()))
        });
    }
    FAST_READER.store(true, Ordering::Relaxed);
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
