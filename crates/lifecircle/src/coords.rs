//! Chinese map coordinate systems: WGS84, GCJ-02 and BD-09.
//!
//! Web maps in China do not publish WGS84 coordinates:
//! - **GCJ-02** ("Mars coordinates"; Amap/Gaode, Tencent, Google Maps in China) shifts WGS84
//!   positions by a smooth, deliberately obscure offset of a few hundred metres.
//! - **BD-09** (Baidu) applies a second shift on top of GCJ-02 (a small rotation and scaling
//!   about the origin of the longitude/latitude plane plus 0.0065° east, 0.006° north).
//!
//! Data downloaded from those maps must be converted to WGS84 before it is mixed with GPS or
//! OpenStreetMap data, or distances come out hundreds of metres wrong.
//!
//! # Algorithms
//! - WGS84 → GCJ-02 is the published formula (the widely circulated "eviltransform"
//!   algorithm): the `transformLat`/`transformLon` polynomials in `lon − 105°`, `lat − 35°`
//!   give metre-like offsets, which are turned into degrees with the Krasovsky 1940 ellipsoid
//!   (a = 6 378 245 m, e² = 0.006 693 421 622 965 943 23).
//! - GCJ-02 → BD-09 is the published closed formula with `x_pi = π · 3000 / 180`.
//! - The inverses (GCJ-02 → WGS84, BD-09 → GCJ-02, BD-09 → WGS84) have no closed form. They
//!   are solved by fixed-point iteration on the forward function, `w ← w − (f(w) − g)`, which
//!   converges fast because the offsets change slowly (the Jacobian of `f − identity` is below
//!   0.02 in norm). The iteration stops when a step is below 1e-12° (0.1 µm), so a round trip
//!   is exact to well under a millimetre; the commonly used closed-form "approximate" inverses
//!   are only good to about a metre (GCJ-02) or a decimetre (BD-09).
//!
//! # Outside China
//! The published algorithm leaves coordinates unchanged "out of China", which it decides with a
//! crude rectangle: longitude 72.004°..=137.8347° and latitude 0.8293°..=55.8271°
//! ([`in_china_rectangle`]). This module does the same for GCJ-02 **and** BD-09: outside the
//! rectangle every system equals WGS84 (Baidu's own documentation says its maps use WGS84
//! coordinates abroad). Two consequences to know about:
//! - The rectangle also covers Korea, Mongolia, much of South-East Asia and western Japan,
//!   where real map data are WGS84 yet the formula shifts them; convert only data that really
//!   come from a Chinese map service.
//! - The test is made on the input point of each conversion (the WGS84 point going forward,
//!   the GCJ-02 or BD-09 point going back). Within about a kilometre of the rectangle's edges
//!   the forward and inverse tests can disagree, so round trips there may not be exact.
//!
//! Non-finite input (NaN, infinities) is outside the rectangle and is returned unchanged.
//!
//! # Units
//! All coordinates are longitude/latitude in degrees.

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use geo::{Coord, Geometry, MapCoordsInPlace};

use crate::geodesy::LonLat;

/// Semi-major axis of the Krasovsky 1940 ellipsoid used by GCJ-02, metres.
pub(crate) const KRASOVSKY_A_M: f64 = 6_378_245.0;
/// First eccentricity squared of the Krasovsky 1940 ellipsoid (f = 1/298.3), as GCJ-02 uses it.
#[allow(clippy::excessive_precision)]
pub(crate) const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943_23;
/// The BD-09 angular constant `x_pi = π · 3000 / 180`.
const X_PI: f64 = PI * 3000.0 / 180.0;
/// BD-09's fixed eastward shift, degrees.
const BD_DLON: f64 = 0.0065;
/// BD-09's fixed northward shift, degrees.
const BD_DLAT: f64 = 0.006;
/// The inverses stop when a step is smaller than this, degrees (about 0.1 µm).
const INVERSE_TOL_DEG: f64 = 1e-12;
/// Upper bound on inverse iterations (convergence normally takes 4 to 8).
const INVERSE_MAX_ITER: usize = 40;

/// Bounds of the "China" rectangle of the published GCJ-02 algorithm, degrees.
pub(crate) const CHINA_LON_MIN: f64 = 72.004;
/// See [`CHINA_LON_MIN`].
pub(crate) const CHINA_LON_MAX: f64 = 137.8347;
/// See [`CHINA_LON_MIN`].
pub(crate) const CHINA_LAT_MIN: f64 = 0.8293;
/// See [`CHINA_LON_MIN`].
pub(crate) const CHINA_LAT_MAX: f64 = 55.8271;

/// A geographic coordinate system used by map data about China.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crs {
    /// WGS84 longitude/latitude (GPS, OpenStreetMap, RFC 7946 GeoJSON).
    Wgs84,
    /// GCJ-02, the official Chinese obfuscated system (Amap/Gaode, Tencent, Google China).
    Gcj02,
    /// BD-09 longitude/latitude (Baidu Maps, `bd09ll`).
    Bd09,
}

impl Crs {
    /// Every system, in the order they are listed to users.
    pub const ALL: [Crs; 3] = [Crs::Wgs84, Crs::Gcj02, Crs::Bd09];

    /// The lower-case name used on the command line and in files: `wgs84`, `gcj02`, `bd09`.
    pub const fn name(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Crs {
    type Err = String;

    /// Parses `wgs84`, `gcj02` or `bd09`, ignoring ASCII case and surrounding whitespace;
    /// the hyphenated spellings `wgs-84`, `gcj-02`, `bd-09` are accepted too.
    ///
    /// # Errors
    /// A message naming the value and listing the choices.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "wgs84" | "wgs-84" => Ok(Crs::Wgs84),
            "gcj02" | "gcj-02" => Ok(Crs::Gcj02),
            "bd09" | "bd-09" => Ok(Crs::Bd09),
            _ => Err(format!(
                "unknown coordinate system '{s}': expected one of wgs84, gcj02, bd09"
            )),
        }
    }
}

/// Whether a point lies in the rectangle that the published GCJ-02 algorithm treats as China
/// (longitude 72.004..=137.8347, latitude 0.8293..=55.8271, degrees). False for NaN.
#[inline]
pub fn in_china_rectangle(p: LonLat) -> bool {
    (CHINA_LON_MIN..=CHINA_LON_MAX).contains(&p.lon)
        && (CHINA_LAT_MIN..=CHINA_LAT_MAX).contains(&p.lat)
}

/// The `transformLat` polynomial of the published algorithm (x = lon − 105, y = lat − 35).
#[inline]
fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

/// The `transformLon` polynomial of the published algorithm (x = lon − 105, y = lat − 35).
#[inline]
fn transform_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

/// WGS84 → GCJ-02 without the rectangle test.
#[inline]
fn wgs_to_gcj_unchecked(p: LonLat) -> LonLat {
    let x = p.lon - 105.0;
    let y = p.lat - 35.0;
    let d_lat = transform_lat(x, y);
    let d_lon = transform_lon(x, y);
    let rad_lat = p.lat / 180.0 * PI;
    let s = rad_lat.sin();
    let magic = 1.0 - KRASOVSKY_EE * s * s;
    let sqrt_magic = magic.sqrt();
    let d_lat =
        (d_lat * 180.0) / ((KRASOVSKY_A_M * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon * 180.0) / (KRASOVSKY_A_M / sqrt_magic * rad_lat.cos() * PI);
    LonLat::unchecked(p.lon + d_lon, p.lat + d_lat)
}

/// GCJ-02 → BD-09 without the rectangle test.
#[inline]
fn gcj_to_bd_unchecked(p: LonLat) -> LonLat {
    let (x, y) = (p.lon, p.lat);
    let z = (x * x + y * y).sqrt() + 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) + 0.000003 * (x * X_PI).cos();
    LonLat::unchecked(z * theta.cos() + BD_DLON, z * theta.sin() + BD_DLAT)
}

/// The usual closed-form approximation of BD-09 → GCJ-02 (good to about 1e-6°); the start of
/// the exact iteration.
#[inline]
fn bd_to_gcj_approx(p: LonLat) -> LonLat {
    let x = p.lon - BD_DLON;
    let y = p.lat - BD_DLAT;
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    LonLat::unchecked(z * theta.cos(), z * theta.sin())
}

/// Solves `forward(w) = target` for `w` by fixed-point iteration from `start`.
fn invert(target: LonLat, start: LonLat, forward: impl Fn(LonLat) -> LonLat) -> LonLat {
    let mut w = start;
    for _ in 0..INVERSE_MAX_ITER {
        let f = forward(w);
        let d_lon = f.lon - target.lon;
        let d_lat = f.lat - target.lat;
        w = LonLat::unchecked(w.lon - d_lon, w.lat - d_lat);
        // Written so that NaN steps also end the loop.
        if !(d_lon.abs() >= INVERSE_TOL_DEG || d_lat.abs() >= INVERSE_TOL_DEG) {
            break;
        }
    }
    w
}

/// WGS84 → GCJ-02 (identity outside the China rectangle).
pub fn wgs84_to_gcj02(p: LonLat) -> LonLat {
    if in_china_rectangle(p) {
        wgs_to_gcj_unchecked(p)
    } else {
        p
    }
}

/// GCJ-02 → WGS84 by iteration, exact to well under a millimetre (identity outside the China
/// rectangle).
pub fn gcj02_to_wgs84(p: LonLat) -> LonLat {
    if in_china_rectangle(p) {
        invert(p, p, wgs_to_gcj_unchecked)
    } else {
        p
    }
}

/// GCJ-02 → BD-09 (identity outside the China rectangle).
pub fn gcj02_to_bd09(p: LonLat) -> LonLat {
    if in_china_rectangle(p) {
        gcj_to_bd_unchecked(p)
    } else {
        p
    }
}

/// BD-09 → GCJ-02 by iteration on the forward formula (identity outside the China rectangle).
pub fn bd09_to_gcj02(p: LonLat) -> LonLat {
    if in_china_rectangle(p) {
        invert(p, bd_to_gcj_approx(p), gcj_to_bd_unchecked)
    } else {
        p
    }
}

/// WGS84 → BD-09 (identity outside the China rectangle, tested on the WGS84 point).
pub fn wgs84_to_bd09(p: LonLat) -> LonLat {
    if in_china_rectangle(p) {
        gcj_to_bd_unchecked(wgs_to_gcj_unchecked(p))
    } else {
        p
    }
}

/// BD-09 → WGS84 by iteration (identity outside the China rectangle, tested on the BD-09
/// point).
pub fn bd09_to_wgs84(p: LonLat) -> LonLat {
    if in_china_rectangle(p) {
        let gcj = invert(p, bd_to_gcj_approx(p), gcj_to_bd_unchecked);
        invert(gcj, gcj, wgs_to_gcj_unchecked)
    } else {
        p
    }
}

/// Converts a position from one coordinate system to another.
///
/// See the [module documentation](self) for the algorithms, their accuracy and the
/// "outside China" rule. Converting to the same system returns the point unchanged.
pub fn convert(p: LonLat, from: Crs, to: Crs) -> LonLat {
    match (from, to) {
        (Crs::Wgs84, Crs::Wgs84) | (Crs::Gcj02, Crs::Gcj02) | (Crs::Bd09, Crs::Bd09) => p,
        (Crs::Wgs84, Crs::Gcj02) => wgs84_to_gcj02(p),
        (Crs::Wgs84, Crs::Bd09) => wgs84_to_bd09(p),
        (Crs::Gcj02, Crs::Wgs84) => gcj02_to_wgs84(p),
        (Crs::Gcj02, Crs::Bd09) => gcj02_to_bd09(p),
        (Crs::Bd09, Crs::Wgs84) => bd09_to_wgs84(p),
        (Crs::Bd09, Crs::Gcj02) => bd09_to_gcj02(p),
    }
}

/// Converts every vertex of a geometry in place (a no-op when `from == to`).
pub fn convert_geometry(g: &mut Geometry<f64>, from: Crs, to: Crs) {
    if from == to {
        return;
    }
    g.map_coords_in_place(|c| {
        let p = convert(LonLat::unchecked(c.x, c.y), from, to);
        Coord { x: p.lon, y: p.lat }
    });
}

/// The coordinate system of each input and of the outputs of one analysis.
///
/// Inputs are converted to WGS84 once, right after loading; every distance is measured in
/// WGS84; written geometries are converted to `output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoordSystems {
    /// The facilities file.
    pub facilities: Crs,
    /// The residences file.
    pub residences: Crs,
    /// The communities file.
    pub communities: Crs,
    /// The street network (GeoJSON lines or `.osm.pbf`).
    pub network: Crs,
    /// Every geometry written (`communities.geojson`, `residences.geojson`).
    pub output: Crs,
}

impl CoordSystems {
    /// Every input in `input`, outputs in `output`.
    pub const fn uniform(input: Crs, output: Crs) -> Self {
        Self {
            facilities: input,
            residences: input,
            communities: input,
            network: input,
            output,
        }
    }
}

/// Each input's coordinate system as read, for the summaries (`EPSG:4547 (CGCS2000 /
/// 3-degree Gauss-Kruger CM 114E)` for a file in a projected system); `None`: the map system
/// of [`CoordSystems`] (`wgs84`, `gcj02`, `bd09`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputSystems {
    /// The facilities file.
    pub facilities: Option<String>,
    /// The residences file.
    pub residences: Option<String>,
    /// The communities file.
    pub communities: Option<String>,
    /// The street network.
    pub network: Option<String>,
}

impl Default for CoordSystems {
    /// WGS84 everywhere.
    fn default() -> Self {
        Self::uniform(Crs::Wgs84, Crs::Wgs84)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::surface_distance_m;

    #[test]
    fn crs_parse_and_display() {
        for crs in Crs::ALL {
            assert_eq!(crs.to_string().parse::<Crs>(), Ok(crs));
        }
        assert_eq!(" GCJ02 ".parse::<Crs>(), Ok(Crs::Gcj02));
        assert_eq!("Bd-09".parse::<Crs>(), Ok(Crs::Bd09));
        assert_eq!("WGS84".parse::<Crs>(), Ok(Crs::Wgs84));
        let err = "mars".parse::<Crs>().unwrap_err();
        assert!(err.contains("'mars'"), "{err}");
        assert!(err.contains("wgs84, gcj02, bd09"), "{err}");
    }

    #[test]
    fn rectangle_edges_are_inclusive() {
        assert!(in_china_rectangle(LonLat::unchecked(72.004, 0.8293)));
        assert!(in_china_rectangle(LonLat::unchecked(137.8347, 55.8271)));
        assert!(!in_china_rectangle(LonLat::unchecked(72.0039, 30.0)));
        assert!(!in_china_rectangle(LonLat::unchecked(100.0, 55.8272)));
        assert!(!in_china_rectangle(LonLat::unchecked(f64::NAN, 30.0)));
    }

    #[test]
    fn offset_at_the_formula_origin_matches_hand_calculation() {
        // At lon 105, lat 35 (x = y = 0) every sine and sqrt term vanishes, so the offsets are
        // transformLat = -100 and transformLon = 300 "metres", divided by the Krasovsky
        // meridian and parallel radii:
        //   dlat = -100 * 180 / (pi * a (1 - e2) / (1 - e2 sin^2 35)^1.5)
        //   dlon =  300 * 180 / (pi * a cos 35 / (1 - e2 sin^2 35)^0.5)
        let lat = 35f64.to_radians();
        let w = 1.0 - KRASOVSKY_EE * lat.sin().powi(2);
        let m = KRASOVSKY_A_M * (1.0 - KRASOVSKY_EE) / w.powf(1.5);
        let n = KRASOVSKY_A_M / w.sqrt();
        let expected_dlat = -100.0 / m * 180.0 / PI;
        let expected_dlon = 300.0 / (n * lat.cos()) * 180.0 / PI;
        let g = wgs84_to_gcj02(LonLat::unchecked(105.0, 35.0));
        assert!((g.lat - 35.0 - expected_dlat).abs() < 1e-12, "{g:?}");
        assert!((g.lon - 105.0 - expected_dlon).abs() < 1e-12, "{g:?}");
    }

    #[test]
    fn bd09_of_a_point_on_the_lon_axis() {
        // At gcj (lon, 0): sin(0) = 0 so z = lon; theta = 0.000003 cos(lon x_pi).
        let lon: f64 = 100.0;
        let theta = 0.000003 * (lon * X_PI).cos();
        let expected = LonLat::unchecked(lon * theta.cos() + 0.0065, lon * theta.sin() + 0.006);
        // lat 0 is outside the rectangle, so use the unchecked formula here.
        let b = gcj_to_bd_unchecked(LonLat::unchecked(lon, 0.0));
        assert!((b.lon - expected.lon).abs() < 1e-12 && (b.lat - expected.lat).abs() < 1e-12);
    }

    #[test]
    fn inverses_are_exact_on_a_grid() {
        let mut worst = 0.0f64;
        for i in 0..=30 {
            for j in 0..=20 {
                let w = LonLat::unchecked(73.5 + 2.0 * i as f64, 18.5 + 1.7 * j as f64);
                for crs in [Crs::Gcj02, Crs::Bd09] {
                    let back = convert(convert(w, Crs::Wgs84, crs), crs, Crs::Wgs84);
                    worst = worst.max(surface_distance_m(w, back));
                }
                let g = wgs84_to_gcj02(w);
                let g_back = bd09_to_gcj02(gcj02_to_bd09(g));
                worst = worst.max(surface_distance_m(g, g_back));
            }
        }
        assert!(worst < 1e-6, "worst round trip {worst} m");
    }

    #[test]
    fn geometry_conversion_moves_every_vertex() {
        let ring = [
            (121.47, 31.23),
            (121.48, 31.23),
            (121.48, 31.24),
            (121.47, 31.23),
        ];
        let poly = geo::Polygon::new(ring.iter().copied().collect(), Vec::new());
        let mut g = Geometry::Polygon(poly);
        convert_geometry(&mut g, Crs::Wgs84, Crs::Gcj02);
        let Geometry::Polygon(p) = &g else {
            panic!("still a polygon expected")
        };
        for (c, (lon, lat)) in p.exterior().0.iter().zip(ring) {
            let want = wgs84_to_gcj02(LonLat::unchecked(lon, lat));
            assert_eq!((c.x, c.y), (want.lon, want.lat));
        }
        let before = g.clone();
        convert_geometry(&mut g, Crs::Bd09, Crs::Bd09);
        assert_eq!(g, before);
    }

    #[test]
    fn outside_china_is_identity() {
        let helsinki = LonLat::unchecked(24.9384, 60.1699);
        for from in Crs::ALL {
            for to in Crs::ALL {
                assert_eq!(convert(helsinki, from, to), helsinki, "{from} -> {to}");
            }
        }
        let nan = LonLat::unchecked(f64::NAN, 30.0);
        let out = convert(nan, Crs::Bd09, Crs::Wgs84);
        assert!(out.lon.is_nan() && out.lat == 30.0);
    }
}
