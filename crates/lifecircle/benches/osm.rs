//! Reading the Helsinki sample .osm.pbf: walkable ways alone, and the full extract.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use lifecircle::osm::{self, Mapping};

fn bench(c: &mut Criterion) {
    let data = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("data/raw");
    let pbf = data.join("helsinki-centre.osm.pbf");
    let grid = data.join("helsinki-population-2020.geojson");
    let mapping = Mapping::builtin();
    let mut g = c.benchmark_group("osm");
    g.sample_size(20);
    g.bench_function("walkable_lines helsinki-centre", |b| {
        b.iter(|| osm::walkable_lines(&pbf).unwrap())
    });
    g.bench_function("extract helsinki-centre with grid", |b| {
        b.iter(|| osm::extract(&pbf, Some(&grid), &mapping).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
