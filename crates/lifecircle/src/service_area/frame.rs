//! The local metric frame the service areas are built in: the plane tangent to the WGS84
//! ellipsoid at the centre of the city, onto which Earth-centred (ECEF) positions are projected
//! orthographically.
//!
//! # Why this projection
//! The walking distances `analyze` measures are built from 3-D straight distances between ECEF
//! positions (the access and egress legs, the chord of a straight line) and lengths along
//! straight ECEF street pieces. The orthographic projection onto a plane is affine, so a
//! straight 3-D piece projects onto a straight planar segment (the point a fraction `t` along
//! the piece projects to the point a fraction `t` along the segment), and it never lengthens a
//! distance: a point within `r` metres of another in 3-D is within `r` metres of it in the
//! plane. A disc or segment buffer of radius `r` drawn in the plane therefore contains the
//! projection of every point that `analyze` finds within `r`, exactly, wherever the city is
//! (across the antimeridian, near the poles). It shortens distances by a factor
//! `cos(θ)` at an angle `θ` from the centre (1 − 5·10⁻⁶ at 20 km), so the areas are that much
//! larger than the true ones, never smaller.
//!
//! A position in the plane goes back to WGS84 through the point of the ellipsoid that projects
//! onto it (the root of a quadratic, then the geodetic latitude of a surface point in closed
//! form): the round trip is exact to well under a millimetre.

use crate::geodesy::{to_ecef, Ecef, LonLat, WGS84_A_M, WGS84_F};

/// The plane tangent to the ellipsoid at a centre, with `x` east and `y` north, in metres.
#[derive(Debug, Clone, Copy)]
pub struct LocalFrame {
    origin: Ecef,
    east: [f64; 3],
    north: [f64; 3],
    up: [f64; 3],
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

impl LocalFrame {
    /// The frame tangent at `centre`.
    pub fn at(centre: LonLat) -> Self {
        let (sin_lat, cos_lat) = centre.lat().to_radians().sin_cos();
        let (sin_lon, cos_lon) = centre.lon().to_radians().sin_cos();
        Self {
            origin: to_ecef(centre.lon(), centre.lat()),
            east: [-sin_lon, cos_lon, 0.0],
            north: [-sin_lat * cos_lon, -sin_lat * sin_lon, cos_lat],
            up: [cos_lat * cos_lon, cos_lat * sin_lon, sin_lat],
        }
    }

    /// The frame around `points`: tangent at the direction of their mean ECEF position (any
    /// centre works; a central one keeps the areas closest to true). `None` without points.
    pub fn around(points: impl Iterator<Item = LonLat>) -> Option<Self> {
        let (mut sum, mut n) = ([0.0f64; 3], 0usize);
        for p in points {
            let e = p.to_ecef();
            for k in 0..3 {
                sum[k] += e[k];
            }
            n += 1;
        }
        if n == 0 {
            return None;
        }
        let lon = sum[1].atan2(sum[0]).to_degrees();
        let lat = sum[2].atan2(sum[0].hypot(sum[1])).to_degrees();
        let centre = LonLat::new(lon, lat).ok()?;
        Some(Self::at(centre))
    }

    /// An ECEF position in the plane, metres.
    #[inline]
    pub fn project(&self, p: &Ecef) -> [f64; 2] {
        let d = [
            p[0] - self.origin[0],
            p[1] - self.origin[1],
            p[2] - self.origin[2],
        ];
        [dot(&d, &self.east), dot(&d, &self.north)]
    }

    /// A WGS84 position in the plane, metres.
    #[inline]
    pub fn xy(&self, p: LonLat) -> [f64; 2] {
        self.project(&p.to_ecef())
    }

    /// The WGS84 position (longitude, latitude in degrees) that projects onto `[x, y]`: the
    /// point of the ellipsoid surface on the near side. Positions farther from the centre than
    /// the ellipsoid reaches give NaN.
    pub fn lonlat(&self, [x, y]: [f64; 2]) -> (f64, f64) {
        let b = WGS84_A_M * (1.0 - WGS84_F);
        let (a2, b2) = (WGS84_A_M * WGS84_A_M, b * b);
        let q = [
            self.origin[0] + x * self.east[0] + y * self.north[0],
            self.origin[1] + x * self.east[1] + y * self.north[1],
            self.origin[2] + x * self.east[2] + y * self.north[2],
        ];
        let u = &self.up;
        // |q + z·up| on the ellipsoid: A z² + B z + C = 0; the root nearest 0.
        let qa = (u[0] * u[0] + u[1] * u[1]) / a2 + u[2] * u[2] / b2;
        let qb = 2.0 * ((q[0] * u[0] + q[1] * u[1]) / a2 + q[2] * u[2] / b2);
        let qc = (q[0] * q[0] + q[1] * q[1]) / a2 + q[2] * q[2] / b2 - 1.0;
        let disc = (qb * qb - 4.0 * qa * qc).sqrt();
        // The stable form of (-B + sqrt(B² - 4AC)) / 2A.
        let z = -2.0 * qc / (qb + disc);
        let p = [q[0] + z * u[0], q[1] + z * u[1], q[2] + z * u[2]];
        let e2 = WGS84_F * (2.0 - WGS84_F);
        // On the surface, tan(geodetic latitude) = Z / ((1 - e²) · hypot(X, Y)) exactly.
        let lat = p[2].atan2((1.0 - e2) * p[0].hypot(p[1])).to_degrees();
        let lon = p[1].atan2(p[0]).to_degrees();
        (lon, lat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::{chord2_m2, surface_distance_m};

    #[test]
    fn round_trip_is_exact_to_a_millimetre() {
        for (lon0, lat0) in [(24.94, 60.17), (179.99, -33.0), (114.3, 30.6), (0.0, 89.9)] {
            let f = LocalFrame::at(LonLat::new(lon0, lat0).unwrap());
            for (dlon, dlat) in [(0.0, 0.0), (0.2, 0.1), (-0.15, -0.05), (0.009, -0.2)] {
                let lon = lon0 + dlon;
                let lon = if lon > 180.0 { lon - 360.0 } else { lon };
                let p = LonLat::new(lon, lat0 + dlat).unwrap();
                let (lon2, lat2) = f.lonlat(f.xy(p));
                let back = LonLat::new(lon2, lat2).unwrap();
                assert!(
                    surface_distance_m(p, back) < 1e-3,
                    "{p:?} came back as {back:?}"
                );
            }
        }
    }

    #[test]
    fn projection_never_lengthens_and_is_true_near_the_centre() {
        let centre = LonLat::new(24.94, 60.17).unwrap();
        let f = LocalFrame::at(centre);
        let a = LonLat::new(25.1, 60.25).unwrap();
        let b = LonLat::new(25.11, 60.251).unwrap();
        let [ax, ay] = f.xy(a);
        let [bx, by] = f.xy(b);
        let planar = (ax - bx).hypot(ay - by);
        let chord = chord2_m2(&a.to_ecef(), &b.to_ecef()).sqrt();
        assert!(planar <= chord);
        // About 11 km from the centre the plane shortens by about 1.5e-6.
        assert!((chord - planar) / chord < 1e-5, "{planar} vs {chord}");
        // Straight north of the centre by 1 km: y within a centimetre of the arc.
        let north = LonLat::new(24.94, 60.17 + 1000.0 / 111_420.0).unwrap();
        let [x, y] = f.xy(north);
        assert!(x.abs() < 1e-6);
        assert!((y - surface_distance_m(centre, north)).abs() < 0.01);
    }
}
