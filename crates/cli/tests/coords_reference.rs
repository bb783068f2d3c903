//! `lifecircle::coords` against reference points computed by an independent implementation
//! (the PyPI package coord-convert 0.2.1, cross-checked with prcoords 1.0.2); see
//! `tests/fixtures/make_gcj02_reference.py` for how the fixture was made.

use lifecircle::coords::{convert, in_china_rectangle, Crs};
use lifecircle::geodesy::{surface_distance_m, LonLat};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

const FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/gcj02_bd09_reference.csv"
));

struct Row {
    name: String,
    wgs: LonLat,
    gcj: LonLat,
    bd: LonLat,
    in_china: bool,
}

fn rows() -> Vec<Row> {
    let mut lines = FIXTURE.lines().filter(|l| !l.starts_with('#'));
    assert_eq!(
        lines.next(),
        Some("name,wgs_lon,wgs_lat,gcj_lon,gcj_lat,bd_lon,bd_lat,in_china")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 8, "{l}");
            let n = |i: usize| -> f64 { f[i].parse().unwrap_or_else(|e| panic!("{l}: {e}")) };
            Row {
                name: f[0].to_string(),
                wgs: crate::support::ll(n(1), n(2)),
                gcj: crate::support::ll(n(3), n(4)),
                bd: crate::support::ll(n(5), n(6)),
                in_china: f[7] == "1",
            }
        })
        .collect()
}

fn max_deg_diff(a: LonLat, b: LonLat) -> f64 {
    (a.lon() - b.lon()).abs().max((a.lat() - b.lat()).abs())
}

#[test]
fn fixture_covers_china_and_abroad() {
    let rows = rows();
    let inside = rows.iter().filter(|r| r.in_china).count();
    assert!(inside >= 190, "{inside} rows inside China");
    assert!(rows.len() - inside >= 10);
    for r in &rows {
        assert_eq!(in_china_rectangle(r.wgs), r.in_china, "{}", r.name);
    }
}

#[test]
fn forward_matches_reference() {
    let mut worst: f64 = 0.0;
    for r in rows() {
        let gcj = convert(r.wgs, Crs::Wgs84, Crs::Gcj02);
        let bd = convert(r.wgs, Crs::Wgs84, Crs::Bd09);
        let bd_from_gcj = convert(r.gcj, Crs::Gcj02, Crs::Bd09);
        for (what, got, want) in [
            ("gcj", gcj, r.gcj),
            ("bd", bd, r.bd),
            ("bd from gcj", bd_from_gcj, r.bd),
        ] {
            let d = max_deg_diff(got, want);
            assert!(d < 1e-7, "{} {what}: {got:?} vs {want:?}", r.name);
            worst = worst.max(d);
        }
    }
    eprintln!("forward: max difference from the reference {worst:e} deg");
}

#[test]
fn inverse_recovers_the_reference_input() {
    let (mut worst_gcj, mut worst_bd, mut worst_bd_gcj) = (0.0f64, 0.0f64, 0.0f64);
    for r in rows() {
        let from_gcj = convert(r.gcj, Crs::Gcj02, Crs::Wgs84);
        let from_bd = convert(r.bd, Crs::Bd09, Crs::Wgs84);
        let gcj_from_bd = convert(r.bd, Crs::Bd09, Crs::Gcj02);
        let d_gcj = surface_distance_m(from_gcj, r.wgs);
        let d_bd = surface_distance_m(from_bd, r.wgs);
        let d_bd_gcj = surface_distance_m(gcj_from_bd, r.gcj);
        assert!(d_gcj < 0.5, "{}: gcj02 -> wgs84 off by {d_gcj} m", r.name);
        assert!(d_bd < 0.5, "{}: bd09 -> wgs84 off by {d_bd} m", r.name);
        assert!(
            d_bd_gcj < 0.5,
            "{}: bd09 -> gcj02 off by {d_bd_gcj} m",
            r.name
        );
        worst_gcj = worst_gcj.max(d_gcj);
        worst_bd = worst_bd.max(d_bd);
        worst_bd_gcj = worst_bd_gcj.max(d_bd_gcj);
    }
    eprintln!(
        "inverse: max error gcj02->wgs84 {worst_gcj:e} m, bd09->wgs84 {worst_bd:e} m, \
         bd09->gcj02 {worst_bd_gcj:e} m"
    );
    // The iteration is meant to be far better than the 0.5 m requirement.
    assert!(worst_gcj.max(worst_bd).max(worst_bd_gcj) < 1e-3);
}

#[test]
fn outside_china_every_system_is_wgs84() {
    for r in rows().into_iter().filter(|r| !r.in_china) {
        for from in Crs::ALL {
            for to in Crs::ALL {
                assert_eq!(convert(r.wgs, from, to), r.wgs, "{} {from}->{to}", r.name);
            }
        }
    }
}

#[test]
fn offsets_are_a_few_hundred_metres_inside_china() {
    // A plausibility bound independent of the formulas' details: GCJ-02 moves points by tens
    // to several hundred metres, BD-09 by roughly a kilometre or less more.
    for r in rows().into_iter().filter(|r| r.in_china) {
        let d_gcj = surface_distance_m(r.wgs, r.gcj);
        let d_bd = surface_distance_m(r.wgs, r.bd);
        assert!((1.0..1500.0).contains(&d_gcj), "{}: {d_gcj} m", r.name);
        assert!((1.0..2500.0).contains(&d_bd), "{}: {d_bd} m", r.name);
    }
}

#[test]
fn round_trips_property() {
    const SEED: u64 = 0x6c69_6665_6369_7263; // "lifecirc"
    eprintln!("proptest seed {SEED}");
    let config = Config {
        cases: 2000,
        rng_seed: RngSeed::Fixed(SEED),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    // Inside the rectangle with a margin of 0.1 degrees so the forward and inverse rectangle
    // tests agree (see the module documentation).
    let strategy = (72.2f64..137.6, 1.0f64..55.6);
    let worst = std::cell::Cell::new(0.0f64);
    runner
        .run(&strategy, |(lon, lat)| {
            let w = crate::support::ll(lon, lat);
            for crs in [Crs::Gcj02, Crs::Bd09] {
                let there = convert(w, Crs::Wgs84, crs);
                let back = convert(there, crs, Crs::Wgs84);
                let d = surface_distance_m(w, back);
                worst.set(worst.get().max(d));
                prop_assert!(d < 1e-3, "{crs}: {w:?} -> {there:?} -> {back:?}: {d} m");
            }
            let g = convert(w, Crs::Wgs84, Crs::Gcj02);
            let g_back = convert(convert(g, Crs::Gcj02, Crs::Bd09), Crs::Bd09, Crs::Gcj02);
            let d = surface_distance_m(g, g_back);
            worst.set(worst.get().max(d));
            prop_assert!(d < 1e-3, "gcj->bd->gcj {g:?}: {d} m");
            Ok(())
        })
        .unwrap();
    eprintln!("property round trips: max error {:e} m", worst.get());
}
