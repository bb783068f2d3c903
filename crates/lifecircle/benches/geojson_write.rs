//! Writing the analysis outputs of a seeded synthetic city (100,000 residences, six categories):
//! the whole `io::write_outputs` into a temporary directory (four files and the summaries, as
//! `lifecircle analyze` writes them), and each GeoJSON writer alone into `io::sink()`, so that
//! the writers' own speed shows without the disk.
//!
//! Run with `cargo bench --bench geojson_write -- --sample-size 10`.

use std::{hint::black_box, io};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lifecircle::{
    analyze,
    io::{self as output, Fields, Loaded, Source},
    Analysis, Community, Facility, Inputs, Plan, Profile, Residence, StraightLine, Walk,
};
use lifecircle_synth::{self as synth, CitySpec};

const RESIDENCES: usize = 100_000;
const MAX_WALK_M: f64 = 900.0;

/// The analysis of a synthetic city, straight-line walks of 900 m, as `lifecircle analyze`
/// would run it on the city's files.
fn analysis() -> Analysis<'static> {
    let city = synth::generate(&CitySpec::for_residences(RESIDENCES))
        .expect("the synthetic city spec is valid");
    let dir = tempfile::tempdir().expect("a temporary directory");
    synth::write_geojson(&city, dir.path()).expect("the city can be written");
    let file = |name: &str| Source::path(dir.path().join(name));
    let fields = Fields::default();
    // Loaded once and kept for the whole run: the analysis borrows them.
    let facilities: &'static Loaded<Facility> = Box::leak(Box::new(
        output::read_facilities(&file(synth::FACILITIES_FILE), &fields).unwrap(),
    ));
    let residences: &'static Loaded<Residence> = Box::leak(Box::new(
        output::read_residences(&file(synth::RESIDENCES_FILE), &fields).unwrap(),
    ));
    let communities: &'static Loaded<Community> = Box::leak(Box::new(
        output::read_communities(&file(synth::COMMUNITIES_FILE), &fields).unwrap(),
    ));
    let inputs = Inputs::from_loaded(facilities, Some(residences), Some(communities));
    let plan = Plan::builder(Profile::default())
        .max_walk(Walk::Metres(MAX_WALK_M))
        .target_percent(100.0)
        .build()
        .unwrap();
    analyze(inputs, plan, &StraightLine::default(), &()).unwrap()
}

fn bench(c: &mut Criterion) {
    let a = analysis();
    let out = tempfile::tempdir().expect("a temporary directory");
    let written = output::write_outputs(&a, out.path()).unwrap();
    for path in [
        &written.residences,
        &written.communities,
        &written.facilities,
    ] {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        eprintln!(
            "{}: {:.1} MB",
            path.file_name().unwrap().to_string_lossy(),
            bytes as f64 / 1e6
        );
    }

    let mut g = c.benchmark_group("geojson_write");
    g.throughput(Throughput::Elements(RESIDENCES as u64));
    g.bench_function("write_all 100k residences to a temporary directory", |b| {
        b.iter(|| output::write_outputs(black_box(&a), out.path()).unwrap())
    });
    g.bench_function("write_residences 100k to a sink", |b| {
        b.iter(|| output::write_residences(black_box(&a), "bench", &mut io::sink()).unwrap())
    });
    g.finish();
    // The smaller files, without a per-residence rate.
    let mut g = c.benchmark_group("geojson_write");
    g.bench_function("write_communities to a sink", |b| {
        b.iter(|| output::write_communities(black_box(&a), "bench", &mut io::sink()).unwrap())
    });
    g.bench_function("write_facilities to a sink", |b| {
        b.iter(|| output::write_facilities(black_box(&a), "bench", &mut io::sink()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
