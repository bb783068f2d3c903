//! Siting on the seeded synthetic city of `examples/synth_city.rs` with 100,000 residences: the
//! fewest new admin-services sites for full coverage and the best 10, from a 250 m candidate
//! grid with the existing facilities fixed, by the exact and the fast method (coverage sets,
//! solving and the analysis before and after included; reading files not).
//!
//! Run with `cargo bench --bench site`. The whole command, 1M-residence cases included, is timed
//! by `benches/site.sh`.

use std::{hint::black_box, time::Duration};

use criterion::{criterion_group, criterion_main, Criterion};
use lifecircle::{
    io::{self, Fields, Source},
    site::{self, CandidateSource, Goal, Hosting, SiteOptions, Solver},
    Inputs, Plan, Profile, StraightLine, Walk,
};
use lifecircle_synth::{self as synth, CitySpec};

fn siting(c: &mut Criterion) {
    let spec = CitySpec::for_residences(100_000);
    let city = synth::generate(&spec).expect("the synthetic city spec is valid");
    let dir = tempfile::tempdir().expect("a temporary directory");
    synth::write_geojson(&city, dir.path()).expect("the city can be written");
    let fields = Fields::default();
    let read = |name: &str| Source::path(dir.path().join(name));
    let facilities = io::read_facilities(&read("facilities.geojson"), &fields).unwrap();
    let residences = io::read_residences(&read("residences.geojson"), &fields).unwrap();
    let communities = io::read_communities(&read("communities.geojson"), &fields).unwrap();
    let plan = Plan::builder(Profile::default())
        .max_walk(Walk::Metres(1000.0))
        .build()
        .unwrap();
    let walk = StraightLine::default();

    let mut group = c.benchmark_group("site");
    group.sample_size(10);
    for (label, goal) in [("fewest sites", Goal::Full), ("best 10", Goal::New(10))] {
        for (method, solver) in [("exact", Solver::Exact), ("fast", Solver::Fast)] {
            let options = SiteOptions {
                hosting: Hosting::Categories(vec!["admin_services".into()]),
                candidates: CandidateSource::Grid { spacing_m: 250.0 },
                goal,
                solver,
                time_limit: Duration::from_secs(60),
            };
            group.bench_function(
                format!("100k, admin_services 1000 m, {label}, {method}"),
                |b| {
                    b.iter(|| {
                        let inputs =
                            Inputs::from_loaded(&facilities, Some(&residences), Some(&communities));
                        black_box(site::site(inputs, plan.clone(), &walk, &options, &()).unwrap())
                            .sites()
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, siting);
criterion_main!(benches);
