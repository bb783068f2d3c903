//! The fast straight-line nearest-facility search, and the table of every facility within the
//! walk, against exhaustive search with Karney's geodesic (geo::Geodesic), on random and
//! adversarial point sets.

use lifecircle::{LonLat, PointIndex, StraightLine, WalkingDistance};
use lifecircle_synth as synth;
use rand::RngExt;

use crate::support::geodesic_m;

fn wrap_lon(lon: f64) -> f64 {
    if lon > 180.0 {
        lon - 360.0
    } else if lon < -180.0 {
        lon + 360.0
    } else {
        lon
    }
}

/// Check [`PreparedDemand::within`] against every (demand, facility) pair measured with
/// Karney's geodesic: the same pairs (either answer within a micrometre of the limit), the same
/// distances to 1e-9 relative up to walking scale (5 km; the chord-to-arc formula's error grows
/// with the cube of the distance, to 1e-7 relative at 50 km, then Karney's algorithm takes over),
/// and its least distance per demand point equal to the nearest.
fn check_within(
    name: &str,
    demand: &[LonLat],
    facilities: &[LonLat],
    max_walk_m: f64,
    detour: f64,
) {
    let walk = StraightLine::new(detour).unwrap();
    let prepared = walk.prepare(demand);
    let pairs = prepared.within(facilities, max_walk_m);
    assert_eq!(pairs.facilities(), facilities.len(), "{name}");
    let rel = if max_walk_m <= 5000.0 { 1e-9 } else { 1e-7 };
    let mut found = 0;
    for (j, f) in facilities.iter().enumerate() {
        let (ids, dists) = pairs.of_facility(j);
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "{name}: facility {j} not in order"
        );
        let mut got = ids.iter().zip(dists).peekable();
        for (i, p) in demand.iter().enumerate() {
            let d = geodesic_m(*p, *f) * detour;
            let listed = got.next_if(|(&k, _)| k as usize == i);
            let near_limit = (d - max_walk_m).abs() <= 1e-6 * max_walk_m.max(1.0);
            match listed {
                Some((_, &g)) => {
                    assert!(
                        d <= max_walk_m || near_limit,
                        "{name}: demand {i} listed for facility {j} at {g} m, Karney {d} m > {max_walk_m} m"
                    );
                    assert!(
                        (g - d).abs() <= rel * d + 1e-6,
                        "{name}: demand {i}, facility {j}: {g} m, Karney {d} m"
                    );
                    found += 1;
                }
                None => assert!(
                    d > max_walk_m || near_limit,
                    "{name}: demand {i} missing for facility {j}: Karney {d} m <= {max_walk_m} m"
                ),
            }
        }
        assert!(
            got.next().is_none(),
            "{name}: facility {j}: an index out of range"
        );
    }
    assert_eq!(found, pairs.len(), "{name}");
    // The least distance of each demand point's pairs is its nearest facility's.
    let mut least = vec![f64::INFINITY; demand.len()];
    for (_, i, d) in pairs.iter() {
        least[i] = least[i].min(d);
    }
    for (i, (r, l)) in prepared
        .nearest(facilities, max_walk_m)
        .iter()
        .zip(&least)
        .enumerate()
    {
        if r.within(max_walk_m) {
            assert!(
                (f64::from(r.distance_m) - l).abs() <= 1e-6 * l + 1e-3,
                "{name}: demand {i}: nearest {r:?}, least pair {l} m"
            );
        } else {
            assert!(
                l.is_infinite() || (l - max_walk_m).abs() < 1e-3,
                "{name}: demand {i}: {l} m"
            );
        }
    }
}

/// Check every demand point: the distance reported equals the exhaustive minimum, and the
/// facility reported is at that minimum distance (any of several tied facilities is right).
fn check(name: &str, demand: &[LonLat], facilities: &[LonLat]) {
    let reach = StraightLine::default()
        .prepare(demand)
        .nearest(facilities, 900.0);
    let index = PointIndex::new(facilities);
    for (k, p) in demand.iter().enumerate() {
        let best = facilities
            .iter()
            .map(|f| geodesic_m(*p, *f))
            .fold(f64::INFINITY, f64::min);
        // f32 storage: 1.2e-7 relative; the chord-to-arc formula: below 1e-7 relative.
        let tol = 3e-7 * best + 1e-3;
        let got = f64::from(reach[k].distance_m);
        assert!(
            (got - best).abs() <= tol,
            "{name}: demand {k} {p:?}: got {got} m, exhaustive search {best} m"
        );
        let chosen = reach[k].facility().expect("a facility");
        let chosen_d = geodesic_m(*p, facilities[chosen]);
        assert!(
            (chosen_d - best).abs() <= tol,
            "{name}: demand {k}: facility {chosen} is {chosen_d} m away, the nearest {best} m"
        );
        let (single, single_d) = index.nearest(*p).expect("a facility");
        assert!(
            (single_d - best).abs() <= 1e-7 * best + 1e-6,
            "{name}: PointIndex::nearest for demand {k}: {single} at {single_d} m vs {best} m"
        );
    }
    check_within(name, demand, facilities, 900.0, 1.0);
    check_within(name, demand, facilities, 1200.0, 1.3);
}

fn random_in(rng: &mut synth::Rng, n: usize, lon: (f64, f64), lat: (f64, f64)) -> Vec<LonLat> {
    (0..n)
        .map(|_| {
            crate::support::ll(
                wrap_lon(rng.random_range(lon.0..lon.1)),
                rng.random_range(lat.0..lat.1),
            )
        })
        .collect()
}

#[test]
fn random_city() {
    for seed in [1u64, 2, 3] {
        println!("seed {seed}");
        let mut rng = synth::rng(seed);
        let facilities = random_in(&mut rng, 300, (121.3, 121.6), (31.1, 31.35));
        let demand = random_in(&mut rng, 3000, (121.25, 121.65), (31.05, 31.4));
        check("random city", &demand, &facilities);
    }
}

#[test]
fn clustered_and_duplicated() {
    let seed = 11u64;
    println!("seed {seed}");
    let mut rng = synth::rng(seed);
    let mut facilities = Vec::new();
    for centre in [(24.93, 60.16), (24.95, 60.18), (24.99, 60.2)] {
        facilities.extend(random_in(
            &mut rng,
            40,
            (centre.0 - 0.0005, centre.0 + 0.0005),
            (centre.1 - 0.0003, centre.1 + 0.0003),
        ));
    }
    // Exact duplicates of facilities, and demand points sitting exactly on facilities.
    let copies: Vec<LonLat> = facilities.iter().step_by(7).copied().collect();
    facilities.extend(copies.iter().copied());
    let mut demand = random_in(&mut rng, 2000, (24.9, 25.02), (60.14, 60.22));
    demand.extend(copies);
    check("clustered", &demand, &facilities);
}

#[test]
fn single_facility() {
    let mut rng = synth::rng(5);
    let demand = random_in(&mut rng, 500, (-74.1, -73.8), (40.6, 40.9));
    check("single", &demand, &[crate::support::ll(-73.97, 40.78)]);
}

#[test]
fn far_apart_cities() {
    // Demand in Helsinki, facilities in Shanghai, Sydney and Sao Paulo: thousands of km, where
    // the exact geodesic (not the chord) decides.
    let mut rng = synth::rng(7);
    let demand = random_in(&mut rng, 200, (24.8, 25.1), (60.1, 60.3));
    let mut facilities = random_in(&mut rng, 20, (121.3, 121.6), (31.1, 31.3));
    facilities.extend(random_in(&mut rng, 20, (151.0, 151.3), (-34.0, -33.8)));
    facilities.extend(random_in(&mut rng, 20, (-46.8, -46.5), (-23.7, -23.4)));
    check("far apart", &demand, &facilities);
    // And a mix: some demand next to facilities, some a continent away.
    let mut demand2 = random_in(&mut rng, 200, (121.2, 121.7), (31.0, 31.4));
    demand2.extend(random_in(&mut rng, 50, (2.2, 2.5), (48.8, 48.9)));
    check("mixed", &demand2, &facilities);
    // Every pair, some of them 20,000 km apart.
    check_within("whole earth", &demand2, &facilities, 2.1e7, 1.0);
    check_within("continental", &demand2, &facilities, 1.2e7, 1.1);
}

#[test]
fn near_the_poles() {
    let mut rng = synth::rng(13);
    let facilities = random_in(&mut rng, 60, (-180.0, 180.0), (89.7, 90.0));
    let demand = random_in(&mut rng, 800, (-180.0, 180.0), (89.5, 90.0));
    check("north pole", &demand, &facilities);
    let facilities = random_in(&mut rng, 60, (-180.0, 180.0), (-90.0, -89.8));
    let demand = random_in(&mut rng, 800, (-180.0, 180.0), (-90.0, -89.6));
    check("south pole", &demand, &facilities);
}

#[test]
fn across_the_antimeridian() {
    // Fiji: a city split by the 180th meridian. A point at 179.999 E is 200 m from one at
    // 179.999 W, not 40,000 km.
    let mut rng = synth::rng(17);
    let facilities = random_in(&mut rng, 50, (179.97, 180.03), (-16.9, -16.7));
    let demand = random_in(&mut rng, 1500, (179.95, 180.05), (-16.95, -16.65));
    check("antimeridian", &demand, &facilities);
    let r = StraightLine::default()
        .prepare(&[crate::support::ll(179.999, 0.0)])
        .nearest(&[crate::support::ll(-179.999, 0.0)], 900.0);
    // 0.002 degrees of longitude on the equator: 6378137 * 0.002 * pi / 180 = 222.64 m.
    assert!((f64::from(r[0].distance_m) - 222.639).abs() < 0.01, "{r:?}");
}
