//! Areas from OpenStreetMap ways and multipolygon relations.
//!
//! A relation's member ways are joined end to end (by node id) into closed rings; which rings are
//! outer and which are holes is decided by nesting (a ring inside an odd number of others is a
//! hole), not by the members' roles, which are often wrong.

use std::collections::HashMap;

use geo::{
    coordinate_position::CoordPos, BoundingRect, Coord, CoordinatePosition, LineString,
    MultiPolygon, Polygon,
};

/// Why rings could not be assembled.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum RingError {
    /// A chain of ways does not close: it ends at this node.
    Open {
        /// The node where the chain stops.
        end_node: i64,
        /// The way the chain started with.
        first_way: i64,
    },
    /// A ring has fewer than 3 distinct nodes.
    Degenerate {
        /// The way the ring started with.
        first_way: i64,
    },
}

impl std::fmt::Display for RingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Open {
                end_node,
                first_way,
            } => write!(
                f,
                "the ring starting with way w{first_way} is not closed: no member way continues \
                 it at node n{end_node}"
            ),
            Self::Degenerate { first_way } => write!(
                f,
                "the ring starting with way w{first_way} has fewer than 3 distinct nodes"
            ),
        }
    }
}

/// One member way: its id and its nodes (id, position).
pub(super) struct MemberWay<'a> {
    /// Way id.
    pub id: i64,
    /// Node ids, in way order.
    pub nodes: &'a [i64],
    /// Positions of `nodes`, same length.
    pub coords: &'a [Coord<f64>],
}

/// Join member ways into closed rings (node-id sequences turned into coordinates).
///
/// # Errors
/// A chain that does not close, or a ring with fewer than 3 distinct nodes.
pub(super) fn assemble_rings(ways: &[MemberWay<'_>]) -> Result<Vec<LineString<f64>>, RingError> {
    // Endpoint index of the open ways.
    let mut ends: HashMap<i64, Vec<usize>> = HashMap::new();
    let mut used = vec![false; ways.len()];
    let mut rings = Vec::new();
    for (i, w) in ways.iter().enumerate() {
        let (Some(&a), Some(&b)) = (w.nodes.first(), w.nodes.last()) else {
            used[i] = true;
            continue;
        };
        if a != b {
            ends.entry(a).or_default().push(i);
            ends.entry(b).or_default().push(i);
        }
    }
    for start in 0..ways.len() {
        if used[start] {
            continue;
        }
        used[start] = true;
        let w = &ways[start];
        let mut ids: Vec<i64> = w.nodes.to_vec();
        let mut coords: Vec<Coord<f64>> = w.coords.to_vec();
        while let (Some(&first), Some(&last)) = (ids.first(), ids.last()) {
            if first == last && ids.len() > 1 {
                break;
            }
            let next = ends
                .get(&last)
                .and_then(|c| c.iter().copied().find(|&j| !used[j]));
            let Some(j) = next else {
                return Err(RingError::Open {
                    end_node: last,
                    first_way: w.id,
                });
            };
            used[j] = true;
            let other = &ways[j];
            if other.nodes.first() == Some(&last) {
                ids.extend(other.nodes.iter().skip(1));
                coords.extend(other.coords.iter().skip(1));
            } else {
                ids.extend(other.nodes.iter().rev().skip(1));
                coords.extend(other.coords.iter().rev().skip(1));
            }
        }
        let mut distinct = ids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 3 {
            return Err(RingError::Degenerate { first_way: w.id });
        }
        rings.push(LineString::new(coords));
    }
    Ok(rings)
}

/// Whether ring `inner` lies inside ring `outer` (decided by the first vertex of `inner` that is
/// not on `outer`'s boundary; rings that only touch count as not nested).
fn inside(inner: &LineString<f64>, outer: &Polygon<f64>) -> bool {
    for c in &inner.0 {
        match outer.coordinate_position(c) {
            CoordPos::Inside => return true,
            CoordPos::Outside => return false,
            CoordPos::OnBoundary => {}
        }
    }
    false
}

/// Build a multipolygon from closed rings: rings nested an even number of times are outer
/// boundaries, the others holes of their innermost enclosing ring.
pub(super) fn multipolygon_from_rings(rings: Vec<LineString<f64>>) -> MultiPolygon<f64> {
    let shells: Vec<Polygon<f64>> = rings
        .iter()
        .map(|r| Polygon::new(r.clone(), vec![]))
        .collect();
    let boxes: Vec<_> = rings.iter().map(|r| r.bounding_rect()).collect();
    let n = rings.len();
    // containers[i]: rings that contain ring i.
    let mut containers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            let (Some(bi), Some(bj)) = (boxes[i], boxes[j]) else {
                continue;
            };
            let box_inside = bj.min().x <= bi.min().x
                && bj.min().y <= bi.min().y
                && bj.max().x >= bi.max().x
                && bj.max().y >= bi.max().y;
            if box_inside && inside(&rings[i], &shells[j]) {
                containers[i].push(j);
            }
        }
    }
    let depth: Vec<usize> = containers.iter().map(Vec::len).collect();
    let mut holes: Vec<Vec<LineString<f64>>> = vec![Vec::new(); n];
    for i in 0..n {
        if depth[i] % 2 == 1 {
            // The innermost container is the one nested deepest.
            if let Some(&parent) = containers[i].iter().max_by_key(|&&j| depth[j]) {
                holes[parent].push(rings[i].clone());
            }
        }
    }
    MultiPolygon::new(
        rings
            .into_iter()
            .zip(holes)
            .enumerate()
            .filter(|(i, _)| depth[*i].is_multiple_of(2))
            .map(|(_, (ring, holes))| Polygon::new(ring, holes))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Contains, Point};

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    #[test]
    fn joins_reversed_pieces_and_nests_holes() {
        // A 4x4 square in two halves (the second reversed), a 2x2 hole, and a 1x1 island in it.
        let (a, b) = (
            [1, 2, 3],
            [1, 4, 3], // reversed direction relative to the ring
        );
        let ca = [c(0., 0.), c(4., 0.), c(4., 4.)];
        let cb = [c(0., 0.), c(0., 4.), c(4., 4.)];
        let hole = [10, 11, 12, 13, 10];
        let ch = [c(1., 1.), c(3., 1.), c(3., 3.), c(1., 3.), c(1., 1.)];
        let island = [20, 21, 22, 23, 20];
        let ci = [
            c(1.5, 1.5),
            c(2.5, 1.5),
            c(2.5, 2.5),
            c(1.5, 2.5),
            c(1.5, 1.5),
        ];
        let ways = [
            MemberWay {
                id: 1,
                nodes: &a,
                coords: &ca,
            },
            MemberWay {
                id: 3,
                nodes: &hole,
                coords: &ch,
            },
            MemberWay {
                id: 2,
                nodes: &b,
                coords: &cb,
            },
            MemberWay {
                id: 4,
                nodes: &island,
                coords: &ci,
            },
        ];
        let rings = assemble_rings(&ways).unwrap();
        assert_eq!(rings.len(), 3);
        let mp = multipolygon_from_rings(rings);
        assert_eq!(mp.0.len(), 2);
        // 16 - 4 + 1, computed by hand.
        assert!((mp.unsigned_area() - 13.0).abs() < 1e-12);
        assert!(mp.contains(&Point::new(0.5, 0.5)));
        assert!(!mp.contains(&Point::new(1.2, 1.2)));
        assert!(mp.contains(&Point::new(2.0, 2.0)));
    }

    #[test]
    fn open_ring_is_an_error() {
        let a = [1, 2, 3];
        let ca = [c(0., 0.), c(1., 0.), c(1., 1.)];
        let e = assemble_rings(&[MemberWay {
            id: 7,
            nodes: &a,
            coords: &ca,
        }])
        .unwrap_err();
        assert_eq!(
            e,
            RingError::Open {
                end_node: 3,
                first_way: 7
            }
        );
        assert!(e.to_string().contains("w7") && e.to_string().contains("n3"));
        let d = [1, 2, 1];
        let cd = [c(0., 0.), c(1., 0.), c(0., 0.)];
        let e = assemble_rings(&[MemberWay {
            id: 8,
            nodes: &d,
            coords: &cd,
        }])
        .unwrap_err();
        assert_eq!(e, RingError::Degenerate { first_way: 8 });
    }
}
