//! The straight-line core at city scale: reading a residence file and finding every
//! residence's nearest facility, on the seeded synthetic city of `examples/synth_city.rs`
//! (1,000,000 residences, six categories of about 1,000 facilities each).
//!
//! Run with `cargo bench --bench core -- --sample-size 10`. The whole command, outputs included,
//! is timed by `benches/run.sh`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use lifecircle::{
    io::{self, Fields, Source},
    LonLat, StraightLine, WalkingDistance,
};
use lifecircle_synth::{self as synth, CitySpec};

const RESIDENCES: usize = 1_000_000;
const MAX_WALK_M: f64 = 900.0;

fn core(c: &mut Criterion) {
    let spec = CitySpec::for_residences(RESIDENCES);
    let city = synth::generate(&spec).expect("the synthetic city spec is valid");
    let dir = tempfile::tempdir().expect("a temporary directory");
    synth::write_geojson(&city, dir.path()).expect("the city can be written");
    let residences = Source::path(dir.path().join("residences.geojson"));

    let mut group = c.benchmark_group("core");
    group.sample_size(10);
    group.bench_function("read 1M residences (134 MB GeoJSON)", |b| {
        b.iter(|| black_box(io::read_residences(&residences, &Fields::default()).unwrap()))
    });

    let demand: Vec<LonLat> = city.residences.iter().map(|(p, _)| *p).collect();
    let walk = StraightLine::default();
    group.bench_function("index 1M residences", |b| {
        b.iter(|| black_box(walk.prepare(&demand)).unplaced().len())
    });
    let prepared = walk.prepare(&demand);
    let by_category: Vec<Vec<LonLat>> = spec
        .categories
        .iter()
        .map(|name| {
            city.facilities
                .iter()
                .filter(|(_, c)| c == name)
                .map(|(p, _)| *p)
                .collect()
        })
        .collect();
    group.bench_function("nearest facility, 6 categories x 1M residences", |b| {
        b.iter(|| {
            for facilities in &by_category {
                black_box(prepared.nearest(facilities, MAX_WALK_M));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, core);
criterion_main!(benches);
