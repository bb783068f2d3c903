//! Projections against PROJ: points of EPSG:4547, 4526, 32650 (and the first and last
//! CGCS2000 Gauss-Krüger zones and Web Mercator) converted by lifecircle agree with pyproj
//! within 1 mm both ways (fixtures/projection_reference.csv, made by
//! fixtures/make_projection_reference.py; its first line names the pyproj and PROJ versions).

use lifecircle::projection::Projection;

use crate::support::{fixture, geodesic_m, ll};

/// The reference rows: EPSG code, longitude, latitude, x, y.
fn reference() -> Vec<(u32, f64, f64, f64, f64)> {
    let text = std::fs::read_to_string(fixture("projection_reference.csv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("epsg"))
        .map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            let n = |i: usize| v[i].parse::<f64>().unwrap();
            (v[0].parse().unwrap(), n(1), n(2), n(3), n(4))
        })
        .collect()
}

#[test]
fn projections_agree_with_pyproj_within_a_millimetre() {
    let rows = reference();
    assert_eq!(rows.len(), 240);
    for code in [4547, 4526, 32650, 4534, 4554, 3857] {
        assert_eq!(rows.iter().filter(|r| r.0 == code).count(), 40, "{code}");
    }
    let mut worst_forward_m: f64 = 0.0;
    let mut worst_inverse_m: f64 = 0.0;
    for &(code, lon, lat, x, y) in &rows {
        let p = Projection::epsg(code).unwrap();
        let (px, py) = p.from_wgs84(lon, lat).unwrap();
        // Web Mercator metres are not ground metres; its scale is 1 / cos(latitude).
        let scale = if code == 3857 {
            lat.to_radians().cos()
        } else {
            1.0
        };
        let forward_m = (px - x).hypot(py - y) * scale;
        assert!(
            forward_m < 1e-3,
            "EPSG:{code} [{lon}, {lat}]: [{px}, {py}] against PROJ's [{x}, {y}]"
        );
        let (plon, plat) = p.to_wgs84(x, y).unwrap();
        let inverse_m = geodesic_m(ll(plon, plat), ll(lon, lat));
        // The reference x, y are rounded to 0.1 mm.
        assert!(
            inverse_m < 1e-3,
            "EPSG:{code} [{x}, {y}]: [{plon}, {plat}] against [{lon}, {lat}]: {inverse_m} m"
        );
        worst_forward_m = worst_forward_m.max(forward_m);
        worst_inverse_m = worst_inverse_m.max(inverse_m);
    }
    eprintln!("worst: forward {worst_forward_m:.2e} m, inverse {worst_inverse_m:.2e} m");
}
