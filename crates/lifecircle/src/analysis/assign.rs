//! Which community each residence belongs to.
//!
//! In order of precedence: the residence's own `community` property (when it names a known
//! community); the community polygon that contains it (a point on a shared border goes to the
//! first such community in file order); the nearest community point (exact geodesic). A residence
//! outside every polygon, with no community points to fall back on, stays unassigned: it is
//! kept, counted and reported, never dropped.

use std::{collections::HashMap, ops::ControlFlow};

use geo::{BoundingRect, Geometry, Intersects, Point};

use crate::geodesy::LonLat;
use rayon::prelude::*;
use rstar::{primitives::GeomWithData, Envelope, RTree, AABB};

use crate::{
    index::PointIndex,
    model::{Community, Id, Residence},
};

/// Marks a residence that belongs to no community.
pub(super) const UNASSIGNED: u32 = u32::MAX;

/// The result of assigning residences to communities.
#[derive(Debug, Default)]
pub(super) struct Assignment {
    /// For every residence, the index of its community or [`UNASSIGNED`].
    pub community: Vec<u32>,
    /// Residences whose `community` property names no known community: (residence index,
    /// the id it gave).
    pub unknown_refs: Vec<(usize, Id)>,
}

/// [`assign`] tries the community of the previous residence first only when at most this many
/// lower-numbered communities have boxes that meet its box.
const MAX_EARLIER: usize = 32;

/// Assign every residence to a community.
pub(super) fn assign(residences: &[Residence], communities: &[Community]) -> Assignment {
    let by_id: HashMap<&Id, u32> = communities
        .iter()
        .enumerate()
        .map(|(i, c)| (&c.id, i as u32))
        .collect();

    // Polygons are tested in WGS84 longitude/latitude, the coordinate space in which RFC 7946
    // defines their edges; the R-tree of their bounding boxes only answers "which boxes contain
    // this point" in that same space (no distances are measured in degrees).
    type Boxed = GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, u32>;
    // Each area community's box, by community index.
    let envelope: Vec<Option<AABB<[f64; 2]>>> = communities
        .iter()
        .map(|c| {
            let r = c.geometry.bounding_rect().filter(|_| c.is_area())?;
            Some(AABB::from_corners(
                [r.min().x, r.min().y],
                [r.max().x, r.max().y],
            ))
        })
        .collect();
    let areas = RTree::bulk_load(
        envelope
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some(Boxed::new((*e)?.into(), i as u32)))
            .collect(),
    );
    // For each area community, the lower-numbered ones whose boxes meet its box, in file order:
    // of the communities holding a point it holds, only these can come first. `None` when
    // there are more than MAX_EARLIER of them.
    let earlier: Vec<Option<Vec<u32>>> = envelope
        .par_iter()
        .enumerate()
        .map(|(i, e)| {
            let mut found: Vec<u32> = areas
                .locate_in_envelope_intersecting((*e)?)
                .map(|b| b.data)
                .filter(|&j| (j as usize) < i)
                .take(MAX_EARLIER + 1)
                .collect();
            found.sort_unstable();
            (found.len() <= MAX_EARLIER).then_some(found)
        })
        .collect();
    let holds = |i: u32, p: &Point| match &communities[i as usize].geometry {
        Geometry::Polygon(g) => g.intersects(p),
        Geometry::MultiPolygon(g) => g.intersects(p),
        _ => false,
    };
    let point_ids: Vec<u32> = communities
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_area())
        .map(|(i, _)| i as u32)
        .collect();
    let points = PointIndex::new(
        &point_ids
            .iter()
            .map(|&i| communities[i as usize].at)
            .collect::<Vec<_>>(),
    );

    let community: Vec<u32> = residences
        .par_iter()
        .map_init(
            || (Vec::new(), None),
            |(boxes, last): &mut (Vec<u32>, Option<u32>), r| {
                if let Some(id) = &r.community {
                    return by_id.get(id).copied().unwrap_or(UNASSIGNED);
                }
                let at = [r.at.lon, r.at.lat];
                let p = Point::new(r.at.lon, r.at.lat);
                // Neighbouring residences mostly share a community: when the last one found
                // holds this point too, only its earlier neighbours can take the point from it.
                let in_box = |i: u32| envelope[i as usize].is_some_and(|e| e.contains_point(&at));
                if let Some(i) = *last {
                    if let Some(before) = &earlier[i as usize] {
                        if in_box(i) && holds(i, &p) {
                            let first = before.iter().copied().find(|&j| in_box(j) && holds(j, &p));
                            return first.unwrap_or(i);
                        }
                    }
                }
                // The communities whose box holds the point, tested in file order: the first
                // that contains the point is the lowest-numbered, which wins on a shared border.
                boxes.clear();
                let _ = areas.locate_all_at_point_int(at, |b| {
                    boxes.push(b.data);
                    ControlFlow::<()>::Continue(())
                });
                boxes.sort_unstable();
                if let Some(&i) = boxes.iter().find(|&&i| holds(i, &p)) {
                    *last = Some(i);
                    return i;
                }
                match points.nearest(r.at) {
                    Some((k, _)) => point_ids[k],
                    None => UNASSIGNED,
                }
            },
        )
        .collect();
    // A residence left unassigned although it names a community named an unknown one.
    let unknown_refs = community
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == UNASSIGNED)
        .filter_map(|(i, _)| residences[i].community.clone().map(|id| (i, id)))
        .collect();
    Assignment {
        community,
        unknown_refs,
    }
}

/// Communities named only by residence `community` properties: one per distinct id, placed at
/// the mean position of its residences.
pub(super) fn communities_from_properties(residences: &[Residence]) -> (Vec<Community>, Vec<u32>) {
    let mut index: HashMap<&Id, u32> = HashMap::new();
    let mut sums: Vec<(f64, f64, f64, u32)> = Vec::new();
    let mut ids: Vec<&Id> = Vec::new();
    let of = residences
        .iter()
        .map(|r| match &r.community {
            None => UNASSIGNED,
            Some(id) => {
                let k = *index.entry(id).or_insert_with(|| {
                    ids.push(id);
                    sums.push((0.0, 0.0, 0.0, r.index));
                    (ids.len() - 1) as u32
                });
                let s = &mut sums[k as usize];
                s.0 += r.at.lon;
                s.1 += r.at.lat;
                s.2 += 1.0;
                k
            }
        })
        .collect();
    let communities = ids
        .into_iter()
        .zip(sums)
        .map(|(id, (lon, lat, n, index))| {
            let at = LonLat::unchecked(lon / n, lat / n);
            Community {
                id: id.clone(),
                name: None,
                population: None,
                geometry: Geometry::Point(Point::new(at.lon, at.lat)),
                at,
                index,
            }
        })
        .collect();
    (communities, of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::LonLat;
    use geo::{polygon, MultiPolygon};

    fn residence(lon: f64, lat: f64, community: Option<Id>) -> Residence {
        Residence {
            id: Id::Num(0),
            at: LonLat::unchecked(lon, lat),
            population: 1.0,
            community,
            index: 0,
        }
    }

    fn community(id: &str, geometry: Geometry<f64>) -> Community {
        let at = match &geometry {
            Geometry::Point(p) => LonLat::unchecked(p.x(), p.y()),
            _ => LonLat::unchecked(0.0, 0.0),
        };
        Community {
            id: Id::Text(id.into()),
            name: None,
            population: None,
            geometry,
            at,
            index: 0,
        }
    }

    #[test]
    fn polygons_with_holes_multipolygons_and_points() {
        // A: the square 0..10 with a hole 4..6; B: two squares 20..22 and 30..32; C: a point.
        let a = polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.), (x: 0., y: 0.)],
            interiors: [[(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 6.), (x: 4., y: 4.)]],
        );
        let b = MultiPolygon(vec![
            polygon![(x: 20., y: 0.), (x: 22., y: 0.), (x: 22., y: 2.), (x: 20., y: 2.), (x: 20., y: 0.)],
            polygon![(x: 30., y: 0.), (x: 32., y: 0.), (x: 32., y: 2.), (x: 30., y: 2.), (x: 30., y: 0.)],
        ]);
        let communities = vec![
            community("A", Geometry::Polygon(a)),
            community("B", Geometry::MultiPolygon(b)),
            community("C", Geometry::Point(Point::new(50.0, 50.0))),
        ];
        let residences = vec![
            residence(1.0, 1.0, None),                       // in A
            residence(5.0, 5.0, None),                       // in A's hole: nearest point C
            residence(31.0, 1.0, None),                      // in B's second part
            residence(10.0, 5.0, None),                      // on A's border: A
            residence(40.0, 40.0, None),                     // outside: nearest point C
            residence(1.0, 1.0, Some(Id::Text("B".into()))), // its own property wins
            residence(1.0, 1.0, Some(Id::Text("Z".into()))), // unknown reference
        ];
        let a = assign(&residences, &communities);
        assert_eq!(a.community, vec![0, 2, 1, 0, 2, 1, UNASSIGNED]);
        assert_eq!(a.unknown_refs, vec![(6, Id::Text("Z".into()))]);

        // Without point communities, residences outside every polygon stay unassigned.
        let a = assign(&residences[..5], &communities[..2]);
        assert_eq!(a.community, vec![0, UNASSIGNED, 1, 0, UNASSIGNED]);
    }

    #[test]
    fn overlapping_boxes_and_shared_borders_match_a_plain_search() {
        // Squares on a 4 x 4 grid of side 5 sharing their edges, listed in a scrambled order,
        // a diamond over them (its box covers several squares), and a square with a hole.
        let square = |x: f64, y: f64, side: f64| polygon![(x: x, y: y), (x: x + side, y: y), (x: x + side, y: y + side), (x: x, y: y + side), (x: x, y: y)];
        let mut communities = Vec::new();
        for k in 0..16 {
            let cell = (k * 7) % 16;
            let (x, y) = ((cell % 4) as f64 * 5.0, (cell / 4) as f64 * 5.0);
            communities.push(community(
                &format!("s{k}"),
                Geometry::Polygon(square(x, y, 5.0)),
            ));
        }
        communities.insert(
            5,
            community(
                "diamond",
                Geometry::Polygon(polygon![(x: 10., y: 2.), (x: 18., y: 10.), (x: 10., y: 18.), (x: 2., y: 10.), (x: 10., y: 2.)]),
            ),
        );
        let holed = geo::Polygon::new(
            square(3.0, 3.0, 9.0).exterior().clone(),
            vec![square(5.0, 5.0, 5.0).exterior().clone()],
        );
        communities.insert(2, community("holed", Geometry::Polygon(holed)));
        // Points on a lattice of step 0.5 (on many edges and corners), row by row, so that
        // neighbours follow one another, plus some outside every square.
        let residences: Vec<Residence> = (-4..=44)
            .flat_map(|j| (-4..=44).map(move |i| residence(i as f64 * 0.5, j as f64 * 0.5, None)))
            .collect();
        let plain: Vec<u32> = residences
            .iter()
            .map(|r| {
                let p = Point::new(r.at.lon, r.at.lat);
                communities
                    .iter()
                    .position(|c| match &c.geometry {
                        Geometry::Polygon(g) => g.intersects(&p),
                        _ => false,
                    })
                    .map_or(UNASSIGNED, |i| i as u32)
            })
            .collect();
        assert!(plain.contains(&UNASSIGNED) && plain.contains(&5) && plain.contains(&2));
        assert_eq!(assign(&residences, &communities).community, plain);
    }

    #[test]
    fn nearest_community_point() {
        let communities = vec![
            community("west", Geometry::Point(Point::new(24.93, 60.17))),
            community("east", Geometry::Point(Point::new(24.96, 60.17))),
        ];
        let residences = vec![
            residence(24.94, 60.171, None),
            residence(24.951, 60.169, None),
        ];
        assert_eq!(assign(&residences, &communities).community, vec![0, 1]);
    }
}
