//! Service areas: for every category, the area within its walk of a facility (the
//! "15-minute circle" drawn on a map), dissolved per category or one per facility.
//!
//! # What an area contains
//! Every demand point that [`analyze`](crate::analyze) reports covered lies inside its
//! category's area (the converse need not hold along streets: a point inside may snap to
//! another, unreachable street; [`CategoryArea::uncovered_inside_population`] measures how
//! much of that there is).
//!
//! - **Straight line** ([`AreaModel::StraightLine`]): the disc of radius walk / detour around
//!   each facility. `analyze` covers a point when its geodesic distance (from the 3-D chord)
//!   times the detour is within the walk; the disc drawn in the local plane ([`LocalFrame`],
//!   which never lengthens a distance) contains every such point, so it contains the geodesic
//!   circle on the ellipsoid.
//! - **Network** ([`AreaModel::Network`]): `analyze` covers a point when the access leg, the
//!   street path and the egress leg add up to at most the walk, with the access leg at most
//!   the snap distance `snap`. Let `R(s)` = walk − egress − path(s) be the walk left at street
//!   point `s`; the area is the union over reached
//!   `s` of the disc of radius `min(R(s), snap)` around `s`. Along a street path away from
//!   its facility, `R` falls by one metre per metre walked while the straight distance
//!   changes by at most that much, so by the triangle inequality the disc of `s` lies inside
//!   the disc of any point `u` upstream on its shortest path: `|x − u| ≤ |x − s| + |s − u| ≤
//!   R(s) + (R(u) − R(s)) = R(u)`. Following the path back from a point where `R(s) < snap`
//!   reaches either a point where `R = snap` (the end of a street part where `R ≥ snap`) or
//!   the facility itself with `R < snap` there. The union is therefore exactly the buffer of
//!   radius `snap` around the street parts where `R ≥ snap`, together with, for every
//!   facility whose own left walk (walk − egress) is below `snap`, the disc of that radius
//!   around its snap point. No splitting of streets into short pieces is needed.
//! - With a width cap ([`AreaOptions::width_cap_m`], network only) the area is the buffer of
//!   that width around every street part reached within the walk: a cleaner streets-only
//!   picture that does not claim to contain every covered point
//!   ([`ServiceAreas::contains_covered`] is false).
//!
//! The shapes are built in a [`LocalFrame`] (metres), where `geo` buffers and dissolves them
//! (radii enlarged so that the polygons contain the true discs and buffers: see
//! [`drawn_radius_m`]), and turned back into WGS84. The areas (`area_km2`) are measured in
//! that plane.
//!
//! # Examples
//! ```
//! use lifecircle::service_area::{service_areas, AreaModel, AreaOptions};
//! use lifecircle::{analyze, Facility, Inputs, LonLat, Plan, Profile, Residence, StraightLine, Walk};
//!
//! let facilities = [Facility::new("canteen", LonLat::new(24.94, 60.17)?, ["meals"])?];
//! let homes = [Residence::new("a", LonLat::new(24.941, 60.17)?, 10.0)?];
//! let plan = Plan::builder(Profile::builtin("six-functions")?)
//!     .max_walk(Walk::Metres(500.0))
//!     .categories(["meals"])
//!     .build()?;
//! let a = analyze(Inputs::new(&facilities).residences(&homes), plan, &StraightLine::default(), &())?;
//! let model = AreaModel::StraightLine { detour: 1.0 };
//! let areas = service_areas(&a, &model, &AreaOptions::default())?;
//! // A 500 m disc: 0.785 km², drawn at most 1 % larger in area.
//! let km2 = areas.categories[0].area_km2;
//! assert!(km2 > std::f64::consts::PI * 0.25 && km2 < std::f64::consts::PI * 0.25 * 1.01);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod frame;
mod shape;

use geo::{
    algorithm::indexed::IntervalTreeMultiPolygon, Area, BooleanOps, Contains, Coord, LineString,
    MultiPolygon, Point, Polygon,
};
use rayon::prelude::*;

pub use frame::LocalFrame;
pub use shape::{drawn_radius_m, ANGLE, MARGIN_M};

use crate::{
    analysis::{places::group_column, Analysis},
    error::{Setting, SettingsError},
    io::GroupCounts,
    walk::network::{Snap, StreetNetwork, StreetReach},
};

/// How the areas are cut: one per category, or one per facility.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AreaKind {
    /// One (Multi)Polygon per category: the union of its facilities' areas.
    #[default]
    Dissolved,
    /// One (Multi)Polygon per facility and category it serves.
    PerFacility,
}

/// How to build the service areas.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AreaOptions {
    /// Dissolved or per facility.
    pub kind: AreaKind,
    /// Network only: draw every reached street part with this width (metres on each side)
    /// instead of the walk left there; containment of the covered points is then not claimed.
    pub width_cap_m: Option<f64>,
}

/// The walking model the areas follow, as `analyze` measured with it.
#[derive(Clone, Copy)]
pub enum AreaModel<'a> {
    /// Geodesic distance times `detour`.
    StraightLine {
        /// The detour factor (1 or more).
        detour: f64,
    },
    /// Along the streets of `network`, reaching them by a straight walk of at most
    /// `max_snap_m` metres.
    Network {
        /// The street network.
        network: &'a StreetNetwork,
        /// The longest straight walk to a street, metres.
        max_snap_m: f64,
    },
}

impl AreaModel<'_> {
    /// `"straight_line"` or `"network"`, as written to the outputs.
    pub fn mode(&self) -> &'static str {
        match self {
            Self::StraightLine { .. } => "straight_line",
            Self::Network { .. } => "network",
        }
    }
}

/// One service area.
#[derive(Debug, Clone)]
pub struct ServiceArea {
    /// The category, an index into [`Analysis::categories`].
    pub category: usize,
    /// Per facility: the facility, an index into [`Analysis::facilities`]; `None` when
    /// dissolved.
    pub facility: Option<usize>,
    /// The facilities drawn (for the network, those on it).
    pub facilities: usize,
    /// The area in WGS84 (longitude, latitude); empty when no facility reaches anywhere.
    pub shape: MultiPolygon<f64>,
    /// Its area, km², measured in the local frame.
    pub area_km2: f64,
}

/// A category's dissolved area and what lies in it.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryArea {
    /// The category, an index into [`Analysis::categories`].
    pub category: usize,
    /// Area of the union of its facilities' areas, km².
    pub area_km2: f64,
    /// The facilities drawn.
    pub facilities: usize,
    /// Demand points that are not covered but lie inside the area.
    pub uncovered_inside: usize,
    /// Their population (everyone, not only a category's target group).
    pub uncovered_inside_population: f64,
    /// The people among them that the category counts (its target group where a demand point
    /// has the group's count, else its population, as for coverage); equal to
    /// `uncovered_inside_population` without group counts.
    pub uncovered_inside_counted: f64,
}

/// The service areas of an analysis.
#[derive(Debug, Clone)]
pub struct ServiceAreas {
    /// `"straight_line"` or `"network"`.
    pub mode: &'static str,
    /// Dissolved or per facility.
    pub kind: AreaKind,
    /// The width cap used, metres (network only).
    pub width_cap_m: Option<f64>,
    /// True when every covered demand point lies in its category's area (false with a width
    /// cap).
    pub contains_covered: bool,
    /// The margin added to every radius, metres ([`MARGIN_M`]).
    pub margin_m: f64,
    /// Vertices to a full circle ([`ANGLE`]).
    pub circle_vertices: usize,
    /// The areas: per category, or per facility in category order.
    pub areas: Vec<ServiceArea>,
    /// Per category (in the order of [`Analysis::categories`]), its dissolved area.
    pub categories: Vec<CategoryArea>,
}

/// The service areas of every category of `a`, following `model` (the walking model `a` was
/// computed with).
///
/// # Errors
/// A width cap that is not a positive distance, or one given for the straight-line model.
pub fn service_areas(
    a: &Analysis,
    model: &AreaModel<'_>,
    options: &AreaOptions,
) -> Result<ServiceAreas, SettingsError> {
    service_areas_counting(a, model, options, &GroupCounts::default())
}

/// [`service_areas`], with the target-group counts the analysis was given
/// ([`Inputs::groups`](crate::Inputs::groups)), so that the uncovered people inside each area
/// are also counted as the category counts them ([`CategoryArea::uncovered_inside_counted`]).
pub fn service_areas_counting(
    a: &Analysis,
    model: &AreaModel<'_>,
    options: &AreaOptions,
    groups: &GroupCounts,
) -> Result<ServiceAreas, SettingsError> {
    if let Some(cap) = options.width_cap_m {
        if !(cap.is_finite() && cap > 0.0) {
            return Err(SettingsError::new(
                Setting::AreaBuffer,
                format!("{cap}m"),
                "must be a distance above 0 m",
            ));
        }
        if matches!(model, AreaModel::StraightLine { .. }) {
            return Err(SettingsError::new(
                Setting::AreaBuffer,
                format!("{cap}m"),
                "caps the width of street buffers and needs a street network",
            ));
        }
    }
    let frame = LocalFrame::around(
        a.facilities
            .iter()
            .map(|f| f.at())
            .chain(a.demand.iter().map(|d| d.at())),
    )
    .unwrap_or_else(|| LocalFrame::at(crate::LonLat::unchecked(0.0, 0.0)));
    let node_xy: Vec<[f64; 2]> = match model {
        AreaModel::Network { network, .. } => network
            .node_positions()
            .par_iter()
            .map(|&p| frame.xy(p))
            .collect(),
        AreaModel::StraightLine { .. } => Vec::new(),
    };
    let demand_xy: Vec<[f64; 2]> = a.demand.par_iter().map(|d| frame.xy(d.at())).collect();
    let per_category: Vec<(Vec<ServiceArea>, CategoryArea)> = (0..a.categories.len())
        .into_par_iter()
        .map(|j| {
            let c = &a.categories[j];
            let walk_m = c.plan.max_walk_m;
            let at: Vec<[f64; 2]> = c
                .facilities
                .iter()
                .map(|&f| frame.xy(a.facilities[f as usize].at()))
                .collect();
            // The dissolved area of the category, and with per-facility areas each facility's
            // (their union is the dissolved area, drawn directly rather than by dissolving
            // the overlapping single areas, which is far slower).
            let (dissolved, single, drawn): (MultiPolygon<f64>, Vec<Drawn>, usize) = match *model {
                AreaModel::StraightLine { detour } => {
                    let r = walk_m / detour;
                    let items: Vec<_> = at.iter().map(|&p| (p, r)).collect();
                    let single = match options.kind {
                        AreaKind::Dissolved => Vec::new(),
                        AreaKind::PerFacility => c
                            .facilities
                            .par_iter()
                            .zip(&at)
                            .map(|(&f, &p)| (Some(f as usize), 1, shape::disc(p, r)))
                            .collect(),
                    };
                    (shape::discs(&items), single, at.len())
                }
                AreaModel::Network {
                    network,
                    max_snap_m,
                } => {
                    let places: Vec<crate::LonLat> = c
                        .facilities
                        .iter()
                        .map(|&f| a.facilities[f as usize].at())
                        .collect();
                    let snaps = network.snap_all(&places, max_snap_m);
                    let drawn = snaps.iter().filter(|s| s.is_some()).count();
                    let street = StreetShape {
                        network,
                        node_xy: &node_xy,
                        walk_m,
                        max_snap_m,
                        width_cap_m: options.width_cap_m,
                    };
                    let single = match options.kind {
                        AreaKind::Dissolved => Vec::new(),
                        AreaKind::PerFacility => c
                            .facilities
                            .iter()
                            .zip(&snaps)
                            .zip(street.shapes_each(&snaps))
                            .map(|((&f, s), shape)| {
                                (Some(f as usize), usize::from(s.is_some()), shape)
                            })
                            .collect(),
                    };
                    (street.shape(&snaps), single, drawn)
                }
            };
            let inside = IntervalTreeMultiPolygon::new(&dissolved);
            let column = group_column(c, groups);
            let (uncovered_inside, uncovered_inside_population, uncovered_inside_counted) =
                demand_xy
                    .par_iter()
                    .enumerate()
                    .filter(|&(k, p)| !c.within(k) && inside.contains(&Point::new(p[0], p[1])))
                    .map(|(k, _)| {
                        let population = a.demand[k].population();
                        let counted = column.and_then(|g| groups.get(k, g)).unwrap_or(population);
                        (1usize, population, counted)
                    })
                    .reduce(|| (0, 0.0, 0.0), |x, y| (x.0 + y.0, x.1 + y.1, x.2 + y.2));
            let summary = CategoryArea {
                category: j,
                area_km2: dissolved.unsigned_area() / 1e6,
                facilities: drawn,
                uncovered_inside,
                uncovered_inside_population,
                uncovered_inside_counted,
            };
            let shapes = match options.kind {
                AreaKind::Dissolved => vec![(None, drawn, dissolved)],
                AreaKind::PerFacility => single,
            };
            let areas = shapes
                .into_iter()
                .map(|(facility, facilities, planar)| ServiceArea {
                    category: j,
                    facility,
                    facilities,
                    area_km2: planar.unsigned_area() / 1e6,
                    shape: to_wgs84(&frame, &planar),
                })
                .collect();
            (areas, summary)
        })
        .collect();
    let mut areas = Vec::new();
    let mut categories = Vec::new();
    for (mut shapes, summary) in per_category {
        areas.append(&mut shapes);
        categories.push(summary);
    }
    Ok(ServiceAreas {
        mode: model.mode(),
        kind: options.kind,
        width_cap_m: options.width_cap_m,
        contains_covered: options.width_cap_m.is_none(),
        margin_m: MARGIN_M,
        circle_vertices: (2.0 * std::f64::consts::PI / ANGLE).round() as usize,
        areas,
        categories,
    })
}

/// One drawn area in the local frame: the facility (per facility), the facilities drawn, the
/// shape.
type Drawn = (Option<usize>, usize, MultiPolygon<f64>);

/// The street part of network areas, for one category.
struct StreetShape<'n> {
    network: &'n StreetNetwork,
    node_xy: &'n [[f64; 2]],
    walk_m: f64,
    max_snap_m: f64,
    width_cap_m: Option<f64>,
}

impl StreetShape<'_> {
    /// The walk that must be left on a street part for it to be drawn, and the radius it is
    /// drawn with, metres.
    fn min_left_and_radius_m(&self) -> (f64, f64) {
        match self.width_cap_m {
            Some(cap) => (0.0, cap),
            None => (self.max_snap_m, self.max_snap_m),
        }
    }

    /// The area of the facilities snapped at `snaps` together, in the local frame.
    fn shape(&self, snaps: &[Option<Snap>]) -> MultiPolygon<f64> {
        let (min_left_m, _) = self.min_left_and_radius_m();
        self.shape_of(self.network.street_reach(snaps, self.walk_m, min_left_m))
    }

    /// The area of each facility snapped at `snaps` alone, in the local frame.
    fn shapes_each(&self, snaps: &[Option<Snap>]) -> Vec<MultiPolygon<f64>> {
        let (min_left_m, _) = self.min_left_and_radius_m();
        self.network
            .street_reach_each(snaps, self.walk_m, min_left_m)
            .into_par_iter()
            .map(|reach| self.shape_of(reach))
            .collect()
    }

    /// The area of what a street reach found.
    fn shape_of(&self, reach: StreetReach) -> MultiPolygon<f64> {
        let (_, radius_m) = self.min_left_and_radius_m();
        let point = |piece: u32, along_m: f64| -> Option<[f64; 2]> {
            let [u, v] = self.network.piece_node_pair(piece)?;
            let len_m = self.network.piece_length_m(piece)?;
            let (a, b) = (self.node_xy.get(u as usize)?, self.node_xy.get(v as usize)?);
            if along_m >= len_m {
                // The end node itself, bit for bit, so that parts meeting there join.
                return Some(*b);
            }
            let t = if len_m > 0.0 {
                (along_m / len_m).clamp(0.0, 1.0)
            } else {
                0.0
            };
            Some([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])])
        };
        let segments: Vec<[[f64; 2]; 2]> = reach
            .parts
            .iter()
            .filter_map(|&(piece, from, to)| Some([point(piece, from)?, point(piece, to)?]))
            .collect();
        let streets = shape::segments_buffer(&segments, radius_m);
        if self.width_cap_m.is_some() || reach.ends.is_empty() {
            return streets;
        }
        let ends: Vec<([f64; 2], f64)> = reach
            .ends
            .iter()
            .filter_map(|&(piece, along_m, left_m)| Some((point(piece, along_m)?, left_m)))
            .collect();
        streets.union(&shape::discs(&ends))
    }
}

/// A shape in the local frame, in WGS84.
fn to_wgs84(frame: &LocalFrame, m: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let ring = |r: &LineString<f64>| -> LineString<f64> {
        r.0.iter()
            .map(|c| {
                let (x, y) = frame.lonlat([c.x, c.y]);
                Coord { x, y }
            })
            .collect()
    };
    MultiPolygon::new(
        m.0.iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        analyze, Facility, Inputs, LonLat, NetworkWalk, Plan, Profile, Residence, StraightLine,
        Walk, WalkingDistance,
    };
    use geo::{Contains, Point};
    use rand::RngExt as _;
    use std::f64::consts::PI;

    fn plan(walk_m: f64) -> Plan {
        Plan::builder(Profile::builtin("six-functions").unwrap())
            .max_walk(Walk::Metres(walk_m))
            .categories(["meals"])
            .build()
            .unwrap()
    }

    /// Area of the union of two discs of radius `r` whose centres are `d` apart.
    fn two_discs_m2(r: f64, d: f64) -> f64 {
        let lens = if d >= 2.0 * r {
            0.0
        } else {
            2.0 * r * r * (d / (2.0 * r)).acos() - d / 2.0 * (4.0 * r * r - d * d).sqrt()
        };
        2.0 * PI * r * r - lens
    }

    #[test]
    fn two_straight_line_discs_match_the_analytic_union() {
        let a0 = LonLat::new(114.30, 30.60).unwrap();
        let frame = LocalFrame::at(a0);
        // Two canteens about 600 m apart, walk 400 m: overlapping discs.
        let f = [
            Facility::new("a", a0, ["meals"]).unwrap(),
            Facility::new("b", LonLat::new(114.306, 30.601).unwrap(), ["meals"]).unwrap(),
        ];
        let homes = [Residence::new("h", a0, 1.0).unwrap()];
        let a = analyze(
            Inputs::new(&f).residences(&homes),
            plan(400.0),
            &StraightLine::default(),
            &(),
        )
        .unwrap();
        let sa = service_areas(
            &a,
            &AreaModel::StraightLine { detour: 1.0 },
            &AreaOptions::default(),
        )
        .unwrap();
        let [ax, ay] = frame.xy(f[0].at());
        let [bx, by] = frame.xy(f[1].at());
        let d = (ax - bx).hypot(ay - by);
        let (lo, hi) = (
            two_discs_m2(400.0, d),
            two_discs_m2(drawn_radius_m(400.0), d),
        );
        let got = sa.categories[0].area_km2 * 1e6;
        assert!(lo < got && got <= hi * 1.0001, "{lo} < {got} <= {hi}");
        // Random points: inside iff within 400 m of a centre, away from the drawn band.
        let shape = &sa.areas[0].shape;
        let mut rng = lifecircle_synth::rng(7);
        let mut checked = 0;
        for _ in 0..4000 {
            let p = [
                ax - 600.0 + rng.random::<f64>() * (d + 1200.0),
                ay - 600.0 + rng.random::<f64>() * 1200.0,
            ];
            let near = (p[0] - ax)
                .hypot(p[1] - ay)
                .min((p[0] - bx).hypot(p[1] - by));
            if (400.0 - 0.01..=drawn_radius_m(400.0) + 0.01).contains(&near) {
                continue;
            }
            let (lon, lat) = frame.lonlat(p);
            assert_eq!(
                shape.contains(&Point::new(lon, lat)),
                near < 400.0,
                "{p:?} at {near} m"
            );
            checked += 1;
        }
        assert!(checked > 3900);
    }

    #[test]
    fn uncovered_people_inside_are_counted_by_target_group() {
        // Two parallel streets about 119 m apart, not connected; a facility on the southern
        // one. Two homes about 80 m north of it lie inside its area (snap 100 m) but snap to
        // the northern street, from which it cannot be reached: uncovered inside.
        let line = |lat: f64| -> Vec<LonLat> {
            (0..=10)
                .map(|k| LonLat::new(k as f64 * 0.0018, lat).unwrap())
                .collect()
        };
        let net = crate::StreetNetwork::from_lines(&[line(0.0), line(0.00108)]);
        let walk = NetworkWalk::new(net, 100.0).unwrap();
        let f =
            [Facility::new("a", LonLat::new(0.009, 0.0).unwrap(), ["meals", "medical"]).unwrap()];
        let homes = [
            Residence::new("h1", LonLat::new(0.009, 0.00072).unwrap(), 100.0).unwrap(),
            Residence::new("h2", LonLat::new(0.0092, 0.00072).unwrap(), 50.0).unwrap(),
            Residence::new("h3", LonLat::new(0.0091, 0.0001).unwrap(), 10.0).unwrap(),
        ];
        let groups = GroupCounts {
            names: vec!["elderly".into()],
            counts: vec![7.0, f64::NAN, 3.0],
        };
        let plan = Plan::builder(Profile::builtin("six-functions").unwrap())
            .max_walk(Walk::Metres(500.0))
            .categories(["meals", "medical"])
            .build()
            .unwrap();
        let a = analyze(
            Inputs::new(&f).residences(&homes).groups(&groups),
            plan,
            &walk,
            &(),
        )
        .unwrap();
        assert!(a
            .categories
            .iter()
            .all(|c| !c.within(0) && !c.within(1) && c.within(2)));
        let model = walk.area_model().unwrap();
        let sa = service_areas_counting(&a, &model, &AreaOptions::default(), &groups).unwrap();
        let counts = |sa: &ServiceAreas| -> Vec<(usize, f64, f64)> {
            sa.categories
                .iter()
                .map(|c| {
                    (
                        c.uncovered_inside,
                        c.uncovered_inside_population,
                        c.uncovered_inside_counted,
                    )
                })
                .collect()
        };
        // Meals counts the elderly (7 at h1; h2 has no count, so its population), medical
        // everyone.
        assert_eq!(counts(&sa), vec![(2, 150.0, 57.0), (2, 150.0, 150.0)]);
        let plain = service_areas(&a, &model, &AreaOptions::default()).unwrap();
        assert_eq!(counts(&plain), vec![(2, 150.0, 150.0), (2, 150.0, 150.0)]);
    }

    #[test]
    fn a_straight_street_gives_the_capsule_worked_by_hand() {
        // One street along the equator, about 2 km; a canteen on it; walk 500 m, snap 100 m.
        // The walk left is 500 - |s - f| along the street: at least 100 m within 400 m of the
        // canteen, so the area is the capsule of half-length 400 m and radius 100 m (the discs
        // beyond fall inside it).
        let street: Vec<LonLat> = (0..=10)
            .map(|k| LonLat::new(k as f64 * 0.0018, 0.0).unwrap())
            .collect();
        let net = crate::StreetNetwork::from_lines(&[street]);
        let walk = NetworkWalk::new(net, 100.0).unwrap();
        let f = [Facility::new("a", LonLat::new(0.009, 0.0).unwrap(), ["meals"]).unwrap()];
        let homes = [Residence::new("h", LonLat::new(0.0091, 0.0002).unwrap(), 1.0).unwrap()];
        let a = analyze(Inputs::new(&f).residences(&homes), plan(500.0), &walk, &()).unwrap();
        let model = walk.area_model().unwrap();
        let sa = service_areas(&a, &model, &AreaOptions::default()).unwrap();
        let capsule = |r: f64| 800.0 * 2.0 * r + PI * r * r;
        let got = sa.categories[0].area_km2 * 1e6;
        let (lo, hi) = (capsule(100.0), capsule(drawn_radius_m(100.0)));
        assert!(lo < got && got <= hi * 1.0001, "{lo} < {got} <= {hi}");
        // Points: inside iff within 100 m of the street part within 400 m of the canteen.
        let frame = LocalFrame::at(f[0].at());
        let shape = &sa.areas[0].shape;
        let mut rng = lifecircle_synth::rng(11);
        for _ in 0..3000 {
            let p = [
                -600.0 + rng.random::<f64>() * 1200.0,
                -200.0 + rng.random::<f64>() * 400.0,
            ];
            let along = p[0].clamp(-400.0, 400.0);
            let off = (p[0] - along).hypot(p[1]);
            if (100.0 - 0.05..=drawn_radius_m(100.0) + 0.05).contains(&off) {
                continue;
            }
            let (lon, lat) = frame.lonlat(p);
            assert_eq!(
                shape.contains(&Point::new(lon, lat)),
                off < 100.0,
                "{p:?} {off}"
            );
        }
        // With a 30 m width cap: the street reached within the whole walk (500 m each way).
        let capped = AreaOptions {
            width_cap_m: Some(30.0),
            ..AreaOptions::default()
        };
        let sa = service_areas(&a, &model, &capped).unwrap();
        assert!(!sa.contains_covered);
        let got = sa.categories[0].area_km2 * 1e6;
        let capsule = |r: f64| 1000.0 * 2.0 * r + PI * r * r;
        assert!(
            capsule(30.0) < got && got <= capsule(drawn_radius_m(30.0)) * 1.0001,
            "{got}"
        );
    }

    #[test]
    fn a_width_cap_needs_a_network_and_a_positive_width() {
        let f = [Facility::new("a", LonLat::new(1.0, 1.0).unwrap(), ["meals"]).unwrap()];
        let homes = [Residence::new("h", LonLat::new(1.0, 1.0).unwrap(), 1.0).unwrap()];
        let a = analyze(
            Inputs::new(&f).residences(&homes),
            plan(500.0),
            &StraightLine::default(),
            &(),
        )
        .unwrap();
        let model = AreaModel::StraightLine { detour: 1.0 };
        for cap in [30.0, -1.0, f64::NAN] {
            let o = AreaOptions {
                width_cap_m: Some(cap),
                ..AreaOptions::default()
            };
            let e = service_areas(&a, &model, &o).unwrap_err();
            assert_eq!(e.setting, Setting::AreaBuffer);
        }
    }
}
