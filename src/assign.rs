//! Which community each residence belongs to.
//!
//! In order of precedence: the residence's own `community` property (when it names a known
//! community); the community polygon that contains it (a point on a shared border goes to the
//! first such community in file order); the nearest community point (exact geodesic). A residence
//! outside every polygon, with no community points to fall back on, stays unassigned: it is
//! kept, counted and reported, never dropped.

use std::{collections::HashMap, ops::ControlFlow};

use geo::{BoundingRect, Geometry, Intersects, Point};
use rayon::prelude::*;
use rstar::{primitives::GeomWithData, RTree, AABB};

use crate::{
    model::{Community, Id, Residence},
    straight_line::PointIndex,
};

/// Marks a residence that belongs to no community.
pub const UNASSIGNED: u32 = u32::MAX;

/// The result of assigning residences to communities.
#[derive(Debug, Default)]
pub struct Assignment {
    /// For every residence, the index of its community or [`UNASSIGNED`].
    pub community: Vec<u32>,
    /// Residences whose `community` property names no known community: (residence index,
    /// the id it gave).
    pub unknown_refs: Vec<(usize, Id)>,
}

/// Assign every residence to a community.
pub fn assign(residences: &[Residence], communities: &[Community]) -> Assignment {
    let by_id: HashMap<&Id, u32> = communities
        .iter()
        .enumerate()
        .map(|(i, c)| (&c.id, i as u32))
        .collect();

    // Polygons are tested in WGS84 longitude/latitude, the coordinate space in which RFC 7946
    // defines their edges; the R-tree of their bounding boxes only answers "which boxes contain
    // this point" in that same space (no distances are measured in degrees).
    type Boxed = GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, u32>;
    let boxes: Vec<Boxed> = communities
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_area())
        .filter_map(|(i, c)| {
            let r = c.geometry.bounding_rect()?;
            Some(Boxed::new(
                AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]).into(),
                i as u32,
            ))
        })
        .collect();
    let areas = RTree::bulk_load(boxes);
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
        .map_init(Vec::new, |boxes: &mut Vec<u32>, r| {
            if let Some(id) = &r.community {
                return by_id.get(id).copied().unwrap_or(UNASSIGNED);
            }
            // The communities whose box holds the point, tested in file order: the first that
            // contains the point is the lowest-numbered, which wins on a shared border.
            boxes.clear();
            let _ = areas.locate_all_at_point_int([r.at.lon, r.at.lat], |b| {
                boxes.push(b.data);
                ControlFlow::<()>::Continue(())
            });
            boxes.sort_unstable();
            let p = Point::new(r.at.lon, r.at.lat);
            let inside = boxes
                .iter()
                .find(|&&i| match &communities[i as usize].geometry {
                    Geometry::Polygon(g) => g.intersects(&p),
                    Geometry::MultiPolygon(g) => g.intersects(&p),
                    _ => false,
                });
            if let Some(&i) = inside {
                return i;
            }
            match points.nearest(r.at) {
                Some((k, _)) => point_ids[k],
                None => UNASSIGNED,
            }
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::LonLat;
    use geo::{polygon, MultiPolygon};

    fn residence(lon: f64, lat: f64, community: Option<Id>) -> Residence {
        Residence {
            id: Id::Num(0),
            at: LonLat::new(lon, lat),
            population: 1.0,
            community,
            index: 0,
        }
    }

    fn community(id: &str, geometry: Geometry<f64>) -> Community {
        let at = match &geometry {
            Geometry::Point(p) => LonLat::new(p.x(), p.y()),
            _ => LonLat::new(0.0, 0.0),
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
