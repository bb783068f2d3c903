//! Street-network engine at city scale: ~120,000 street pieces, 1,000,000 clustered residences,
//! 6 categories of 1,000 facilities each.
//!
//! Run with `cargo bench --bench network -- --sample-size 10`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use lifecircle::{LonLat, Snap, StreetNetwork};
use lifecircle_synth as synth;
use rand::RngExt;
use rayon::prelude::*;
use rstar::{
    primitives::{GeomWithData, Line},
    RTree,
};

const RESIDENCES: usize = 1_000_000;
const CATEGORIES: usize = 6;
const FACILITIES_PER_CATEGORY: usize = 1_000;
const MAX_SNAP_M: f64 = 300.0;
const MAX_WALK_M: f64 = 1_000.0;

struct City {
    lines: Vec<Vec<LonLat>>,
    residences: Vec<LonLat>,
    categories: Vec<Vec<LonLat>>,
}

/// A street grid of 180 x 180 junctions 120 m apart (a 21.5 km square), 8% of the links
/// removed, each link a line with a jittered midpoint vertex; residences in 3,000 clusters;
/// facilities spread uniformly.
fn city(seed: u64) -> City {
    let mut rng = synth::rng(seed);
    let origin = LonLat::new(121.3, 31.1).expect("a valid position");
    let m_per_deg_lat = 110_900.0;
    let m_per_deg_lon = 111_320.0 * origin.lat().to_radians().cos();
    let at = |e: f64, n: f64| {
        LonLat::new(
            origin.lon() + e / m_per_deg_lon,
            origin.lat() + n / m_per_deg_lat,
        )
        .expect("a position inside the city")
    };
    let n = 180usize;
    let spacing = 120.0;
    let side = spacing * (n - 1) as f64;
    let mut lines = Vec::new();
    for i in 0..n {
        for j in 0..n {
            let (x, y) = (i as f64 * spacing, j as f64 * spacing);
            for (di, dj) in [(1usize, 0usize), (0, 1)] {
                if i + di >= n || j + dj >= n || rng.random::<f64>() < 0.08 {
                    continue;
                }
                let (x2, y2) = ((i + di) as f64 * spacing, (j + dj) as f64 * spacing);
                let mid = at(
                    (x + x2) / 2.0 + (rng.random::<f64>() - 0.5) * 20.0,
                    (y + y2) / 2.0 + (rng.random::<f64>() - 0.5) * 20.0,
                );
                lines.push(vec![at(x, y), mid, at(x2, y2)]);
            }
        }
    }
    let clusters: Vec<(f64, f64)> = (0..3_000)
        .map(|_| (rng.random::<f64>() * side, rng.random::<f64>() * side))
        .collect();
    let residences = (0..RESIDENCES)
        .map(|k| {
            let (cx, cy) = clusters[k % clusters.len()];
            at(
                cx + 80.0 * synth::normal(&mut rng),
                cy + 80.0 * synth::normal(&mut rng),
            )
        })
        .collect();
    let categories = (0..CATEGORIES)
        .map(|_| {
            (0..FACILITIES_PER_CATEGORY)
                .map(|_| at(rng.random::<f64>() * side, rng.random::<f64>() * side))
                .collect()
        })
        .collect();
    City {
        lines,
        residences,
        categories,
    }
}

fn bench(c: &mut Criterion) {
    let city = city(20_240_601);
    let net = StreetNetwork::from_lines(&city.lines);
    let demand = net.snap_all(&city.residences, MAX_SNAP_M);
    let supply: Vec<Vec<Option<Snap>>> = city
        .categories
        .iter()
        .map(|f| net.snap_all(f, MAX_SNAP_M))
        .collect();
    let reached: usize = supply
        .iter()
        .map(|s| net.nearest(s, &demand, MAX_WALK_M).iter().flatten().count())
        .sum();
    eprintln!(
        "city: {} lines, {} pieces, {} nodes, {:.0} km of street; {} residences ({} on the \
         network), {} x {} facilities; {} of {} residence-category pairs within {} m",
        city.lines.len(),
        net.pieces(),
        net.nodes(),
        net.length_m() / 1000.0,
        city.residences.len(),
        demand.iter().flatten().count(),
        CATEGORIES,
        FACILITIES_PER_CATEGORY,
        reached,
        RESIDENCES * CATEGORIES,
        MAX_WALK_M
    );

    let mut g = c.benchmark_group("network");
    g.bench_function("from_lines 120k pieces", |b| {
        b.iter(|| StreetNetwork::from_lines(black_box(&city.lines)))
    });
    // Baseline for the snapping grid: the nearest piece by an rstar R-tree of 3-D segments,
    // for the first 100,000 residences.
    let tree = RTree::bulk_load(
        city.lines
            .iter()
            .flat_map(|l| l.windows(2))
            .enumerate()
            .map(|(i, w)| GeomWithData::new(Line::new(w[0].to_ecef(), w[1].to_ecef()), i))
            .collect(),
    );
    let sample = &city.residences[..100_000];
    g.bench_function("rstar nearest piece, 100k residences", |b| {
        b.iter(|| {
            sample
                .par_iter()
                .map(|p| tree.nearest_neighbor(p.to_ecef()).map(|s| s.data))
                .collect::<Vec<_>>()
        })
    });
    g.bench_function("snap_all 100k residences", |b| {
        b.iter(|| net.snap_all(black_box(sample), MAX_SNAP_M))
    });
    g.bench_function("snap_all 1M residences", |b| {
        b.iter(|| net.snap_all(black_box(&city.residences), MAX_SNAP_M))
    });
    g.bench_function(
        "nearest 1 category, no residences (the Dijkstra alone)",
        |b| b.iter(|| net.nearest(black_box(&supply[0]), &[], MAX_WALK_M)),
    );
    g.bench_function("nearest 1 category, 1M residences", |b| {
        b.iter(|| net.nearest(black_box(&supply[0]), &demand, MAX_WALK_M))
    });
    g.bench_function("nearest 6 categories, 1M residences", |b| {
        b.iter(|| net.nearest_per_category(black_box(&supply), &demand, MAX_WALK_M))
    });
    g.bench_function("engine: snap 1M + 6k, 6 categories", |b| {
        b.iter(|| {
            let demand = net.snap_all(black_box(&city.residences), MAX_SNAP_M);
            let supply: Vec<Vec<Option<Snap>>> = city
                .categories
                .iter()
                .map(|f| net.snap_all(f, MAX_SNAP_M))
                .collect();
            net.nearest_per_category(&supply, &demand, MAX_WALK_M)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
