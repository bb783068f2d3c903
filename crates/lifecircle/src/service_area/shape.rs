//! Discs and street buffers in the local frame, drawn so that they contain the true ones, and
//! their union, by `geo`'s buffering and boolean operations (`i_overlay` inside).
//!
//! # How much larger than true
//! `geo` approximates a circle by a polygon whose vertices lie *on* the circle, which loses up
//! to `r (1 - cos(step / 2))` between two vertices `step` radians apart. Discs and the round
//! ends of street buffers are drawn with steps of at most [`ANGLE`] (π/32, 64 vertices to a
//! full circle); the round joins where street parts meet, with steps below `2 ANGLE` (how
//! `i_overlay` divides a join). Every radius is therefore first enlarged by [`MARGIN_M`] and
//! then divided by `cos(ANGLE)`, so the polygon contains the true disc or buffer: the outline
//! lies at most 0.49 % of the radius plus 5 cm outside it. The 5 cm margin covers the
//! rounding of written coordinates to 7 decimals (at most 0.8 cm, for the area's vertices and
//! again for a residence's position), the `f32` distances of the residence table (below 0.1
//! mm for walks under 10 km) and the integer grid `i_overlay` works on (below 0.1 mm for a
//! city under 100 km across).

use std::f64::consts::PI;

use geo::{
    algorithm::buffer::{BufferStyle, LineCap, LineJoin},
    unary_union, BooleanOps, Buffer, Coord, LineString, MultiLineString, MultiPolygon, Point, Rect,
};
use rayon::prelude::*;

/// The angular step of `geo`'s round caps and of discs, radians.
pub const ANGLE: f64 = PI / 32.0;

/// The margin added to every radius, metres (see the module documentation).
pub const MARGIN_M: f64 = 0.05;

/// The radius to draw so that the polygon contains the true disc of radius `r_m`.
pub fn drawn_radius_m(r_m: f64) -> f64 {
    (r_m + MARGIN_M) / ANGLE.cos()
}

fn style(r_m: f64) -> BufferStyle<f64> {
    BufferStyle::new(drawn_radius_m(r_m))
        .line_cap(LineCap::Round(ANGLE))
        .line_join(LineJoin::Round(ANGLE))
}

/// A polygon containing the disc of radius `r_m` around `centre` (empty for a negative
/// radius).
pub(crate) fn disc(centre: [f64; 2], r_m: f64) -> MultiPolygon<f64> {
    if r_m.is_nan() || r_m < 0.0 {
        return MultiPolygon::new(Vec::new());
    }
    Point::new(centre[0], centre[1]).buffer_with_style(style(r_m))
}

/// The union of discs, each (centre, radius).
pub(crate) fn discs(items: &[([f64; 2], f64)]) -> MultiPolygon<f64> {
    let order = z_order(items.iter().map(|(c, _)| *c));
    let shapes: Vec<MultiPolygon<f64>> = order
        .par_chunks(GROUP)
        .map(|group| {
            let shapes: Vec<MultiPolygon<f64>> = group
                .iter()
                .map(|&k| disc(items[k].0, items[k].1))
                .collect();
            unary_union(shapes.iter())
        })
        .collect();
    tree_union(shapes)
}

/// A polygon containing every point within `r_m` of one of the segments (a segment with equal
/// ends is a point).
///
/// Where many buffers overlap (a dense street grid with a wide snap distance), the cells of a
/// grid of side `r_m / 4` that lie wholly within one segment's buffer are found first (all four
/// corners within `r_m` of it: a buffer is convex). The union of those cells lies inside the
/// true area, and a segment whose whole buffer lies in marked cells adds nothing to it, so
/// only the other segments are buffered and dissolved with the cells. Those left are joined
/// end to end into lines ([`chains`]) and buffered with round joins. The result is the same
/// set, with far fewer overlapping outlines for the boolean operations to cut.
pub(crate) fn segments_buffer(segments: &[[[f64; 2]; 2]], r_m: f64) -> MultiPolygon<f64> {
    if segments.is_empty() || r_m.is_nan() || r_m < 0.0 {
        return MultiPolygon::new(Vec::new());
    }
    let mut items: Vec<([f64; 2], MultiPolygon<f64>)> = Vec::new();
    let kept: Vec<[[f64; 2]; 2]> = match CellCover::new(segments, r_m) {
        Some(cover) => {
            items.extend(cover.rectangles());
            segments
                .iter()
                .filter(|s| !cover.covers(s))
                .copied()
                .collect()
        }
        None => segments.to_vec(),
    };
    let lines = chains(&kept);
    let order = z_order(lines.iter().map(|l| l.0[0].into()));
    items.par_extend(order.par_chunks(GROUP_CHAINS).map(|group| {
        let at: [f64; 2] = lines[group[0]].0[0].into();
        let lines = MultiLineString::new(group.iter().map(|&k| lines[k].clone()).collect());
        (at, lines.buffer_with_style(style(r_m)))
    }));
    let order = z_order(items.iter().map(|(at, _)| *at));
    let mut slots: Vec<Option<MultiPolygon<f64>>> =
        items.into_iter().map(|(_, m)| Some(m)).collect();
    let shapes: Vec<MultiPolygon<f64>> = order.iter().filter_map(|&k| slots[k].take()).collect();
    tree_union(shapes)
}

/// The segments joined into lines of at most [`CHAIN`] segments where they share an end (the
/// same coordinates, bit for bit), so that a street is buffered as one line with round joins
/// instead of as overlapping capsules: the same set (a line's buffer is the union of its
/// segments' buffers), with far fewer vertices for the boolean operations. A segment of zero
/// length stays a line of its own.
fn chains(segments: &[[[f64; 2]; 2]]) -> Vec<LineString<f64>> {
    let key = |p: [f64; 2]| (p[0].to_bits(), p[1].to_bits());
    let mut at: std::collections::HashMap<(u64, u64), Vec<usize>> =
        std::collections::HashMap::with_capacity(segments.len() * 2);
    for (k, &[a, b]) in segments.iter().enumerate() {
        if a != b {
            at.entry(key(a)).or_default().push(k);
            at.entry(key(b)).or_default().push(k);
        }
    }
    let mut used = vec![false; segments.len()];
    // Extends `line` from its last point by unused segments, at most `room` of them.
    let extend = |line: &mut Vec<[f64; 2]>, used: &mut Vec<bool>, room: usize| {
        for _ in 0..room {
            let end = line[line.len() - 1];
            let Some(&m) = at
                .get(&key(end))
                .and_then(|ks| ks.iter().find(|&&m| !used[m]))
            else {
                break;
            };
            used[m] = true;
            let [p, q] = segments[m];
            line.push(if p == end { q } else { p });
        }
    };
    let mut lines = Vec::new();
    for (k, &[a, b]) in segments.iter().enumerate() {
        if used[k] {
            continue;
        }
        used[k] = true;
        if a == b {
            lines.push(vec![a, b]);
            continue;
        }
        let mut back = vec![a];
        extend(&mut back, &mut used, CHAIN / 2);
        let mut line: Vec<[f64; 2]> = back.into_iter().rev().collect();
        line.push(b);
        let room = CHAIN.saturating_sub(line.len() - 1);
        extend(&mut line, &mut used, room);
        lines.push(line);
    }
    lines
        .into_iter()
        .map(|l| l.into_iter().map(|[x, y]| Coord { x, y }).collect())
        .collect()
}

/// The cells of a square grid that lie wholly inside one segment's buffer.
struct CellCover {
    x0: f64,
    y0: f64,
    cell_m: f64,
    width: usize,
    height: usize,
    r_m: f64,
    marked: Vec<bool>,
}

impl CellCover {
    /// `None` when too few segments for the grid to pay, or the grid would be too large.
    fn new(segments: &[[[f64; 2]; 2]], r_m: f64) -> Option<Self> {
        if segments.len() < 256 || r_m.is_nan() || r_m <= 0.0 {
            return None;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for p in segments.iter().flatten() {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        let cell_m = r_m / CELLS_PER_RADIUS;
        let (x0, y0) = (x0 - r_m, y0 - r_m);
        let width = ((x1 + r_m - x0) / cell_m).ceil() as usize + 1;
        let height = ((y1 + r_m - y0) / cell_m).ceil() as usize + 1;
        if width.saturating_mul(height) > 50_000_000 {
            return None;
        }
        let mut cover = Self {
            x0,
            y0,
            cell_m,
            width,
            height,
            r_m,
            marked: vec![false; width * height],
        };
        let half_diag_m = cell_m * std::f64::consts::FRAC_1_SQRT_2;
        let r2 = r_m * r_m;
        let sure2 = (r_m - half_diag_m).max(0.0).powi(2);
        for &[a, b] in segments {
            let (i0, j0, i1, j1) = cover.cells_of(a, b, r_m);
            for j in j0..j1 {
                for i in i0..i1 {
                    let k = j * width + i;
                    if cover.marked[k] {
                        continue;
                    }
                    let (cx, cy) = cover.corner(i, j);
                    let mid2 = dist2_to_segment([cx + cell_m / 2.0, cy + cell_m / 2.0], a, b);
                    // Within r - half diagonal of the centre: every point of the cell is
                    // within r; beyond r: the centre itself is not.
                    cover.marked[k] = mid2 <= sure2
                        || (mid2 <= r2
                            && [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)].iter().all(
                                |&(dx, dy)| {
                                    dist2_to_segment([cx + dx * cell_m, cy + dy * cell_m], a, b)
                                        <= r2
                                },
                            ));
                }
            }
        }
        Some(cover)
    }

    /// The range of cells (i0, j0, i1, j1; ends excluded) the box of a segment grown by
    /// `grow_m` meets.
    fn cells_of(&self, a: [f64; 2], b: [f64; 2], grow_m: f64) -> (usize, usize, usize, usize) {
        let cell =
            |v: f64, v0: f64, n: usize| (((v - v0) / self.cell_m).floor().max(0.0) as usize).min(n);
        let i0 = cell(a[0].min(b[0]) - grow_m, self.x0, self.width);
        let j0 = cell(a[1].min(b[1]) - grow_m, self.y0, self.height);
        let i1 = (cell(a[0].max(b[0]) + grow_m, self.x0, self.width) + 1).min(self.width);
        let j1 = (cell(a[1].max(b[1]) + grow_m, self.y0, self.height) + 1).min(self.height);
        (i0, j0, i1, j1)
    }

    /// The south-west corner of cell (i, j).
    fn corner(&self, i: usize, j: usize) -> (f64, f64) {
        (
            self.x0 + i as f64 * self.cell_m,
            self.y0 + j as f64 * self.cell_m,
        )
    }

    /// True when every cell the segment's buffer may meet is marked: every cell whose centre
    /// lies within the radius plus half a diagonal of the segment (a cell farther away has no
    /// point within the radius).
    fn covers(&self, &[a, b]: &[[f64; 2]; 2]) -> bool {
        let (i0, j0, i1, j1) = self.cells_of(a, b, self.r_m);
        let reach2 = (self.r_m + self.cell_m * std::f64::consts::FRAC_1_SQRT_2).powi(2);
        (j0..j1).all(|j| {
            (i0..i1).all(|i| {
                self.marked[j * self.width + i] || {
                    let (cx, cy) = self.corner(i, j);
                    let mid = [cx + self.cell_m / 2.0, cy + self.cell_m / 2.0];
                    dist2_to_segment(mid, a, b) > reach2
                }
            })
        })
    }

    /// The marked cells as rectangles, one per run of marked cells in a row, grouped by row,
    /// each group with a position for ordering.
    fn rectangles(&self) -> Vec<([f64; 2], MultiPolygon<f64>)> {
        (0..self.height)
            .into_par_iter()
            .filter_map(|j| {
                let row = &self.marked[j * self.width..(j + 1) * self.width];
                let y = self.y0 + j as f64 * self.cell_m;
                let mut rects = Vec::new();
                let mut i = 0;
                while i < row.len() {
                    if !row[i] {
                        i += 1;
                        continue;
                    }
                    let start = i;
                    while i < row.len() && row[i] {
                        i += 1;
                    }
                    let (xa, xb) = (
                        self.x0 + start as f64 * self.cell_m,
                        self.x0 + i as f64 * self.cell_m,
                    );
                    rects.push(
                        Rect::new(
                            Coord { x: xa, y },
                            Coord {
                                x: xb,
                                y: y + self.cell_m,
                            },
                        )
                        .to_polygon(),
                    );
                }
                if rects.is_empty() {
                    return None;
                }
                let mid = self.x0 + self.width as f64 * self.cell_m / 2.0;
                Some(([mid, y], MultiPolygon::new(rects)))
            })
            .collect()
    }
}

/// Squared distance from `p` to the segment `a`-`b`, square metres.
fn dist2_to_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    ex * ex + ey * ey
}

/// The cells of the cover per radius: finer cells mark more of the area near its edge, so
/// fewer segments are left to buffer, for more cells to check.
const CELLS_PER_RADIUS: f64 = 4.0;

/// The most segments joined into one line (see [`chains`]).
const CHAIN: usize = 32;

/// How many lines are buffered together before their unions are merged.
const GROUP_CHAINS: usize = 4;

/// How many discs are buffered together before their unions are merged.
const GROUP: usize = 16;

/// The indices of `points` in Z order (Morton order of a 2^16 grid over their extent), so
/// that neighbours in the list are neighbours on the map.
fn z_order(points: impl Iterator<Item = [f64; 2]> + Clone) -> Vec<usize> {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for [x, y] in points.clone() {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let span = (x1 - x0).max(y1 - y0).max(1e-9);
    let cell = |v: f64, v0: f64| (((v - v0) / span * 65535.0) as u32).min(65535);
    let spread = |mut v: u32| {
        v = (v | (v << 8)) & 0x00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333;
        (v | (v << 1)) & 0x5555_5555
    };
    let mut keyed: Vec<(u32, usize)> = points
        .enumerate()
        .map(|(k, [x, y])| (spread(cell(x, x0)) | (spread(cell(y, y0)) << 1), k))
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, k)| k).collect()
}

/// The union of shapes listed in map order, merged pairwise (neighbours first), so that each
/// boolean operation meets only the outlines of two already dissolved groups instead of every
/// overlapping edge at once.
fn tree_union(mut shapes: Vec<MultiPolygon<f64>>) -> MultiPolygon<f64> {
    while shapes.len() > 1 {
        shapes = shapes
            .par_chunks(2)
            .map(|pair| match pair {
                [a, b] => a.union(b),
                [a] => a.clone(),
                _ => MultiPolygon::new(Vec::new()),
            })
            .collect();
    }
    shapes
        .pop()
        .unwrap_or_else(|| MultiPolygon::new(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Contains};

    /// Points at exactly the true distance around a shape are inside its polygon.
    #[test]
    fn a_disc_contains_its_circle_and_is_barely_larger() {
        let r = 300.0;
        let d = disc([10.0, -20.0], r);
        for k in 0..3600 {
            let t = k as f64 * PI / 1800.0;
            let p = Point::new(10.0 + r * t.cos(), -20.0 + r * t.sin());
            assert!(d.contains(&p), "{p:?}");
            let out = Point::new(
                10.0 + (drawn_radius_m(r) + 0.01) * t.cos(),
                -20.0 + (drawn_radius_m(r) + 0.01) * t.sin(),
            );
            assert!(!d.contains(&out), "{out:?}");
        }
        let true_area = PI * r * r;
        assert!(d.unsigned_area() > true_area);
        assert!(d.unsigned_area() < true_area * 1.01);
    }

    #[test]
    fn a_street_buffer_contains_every_point_at_its_radius() {
        // A zigzag street, so the joins are of every angle, and a lone point.
        let pts = [
            [0.0, 0.0],
            [100.0, 0.0],
            [150.0, 80.0],
            [90.0, 120.0],
            [300.0, 110.0],
        ];
        let segs: Vec<[[f64; 2]; 2]> = pts
            .windows(2)
            .map(|w| [w[0], w[1]])
            .chain([[[500.0, 500.0], [500.0, 500.0]]])
            .collect();
        let r = 57.0;
        let b = segments_buffer(&segs, r);
        for [a, c] in &segs {
            for s in 0..=20 {
                let f = s as f64 / 20.0;
                let q = [a[0] + f * (c[0] - a[0]), a[1] + f * (c[1] - a[1])];
                for k in 0..720 {
                    let t = k as f64 * PI / 360.0;
                    let p = Point::new(q[0] + r * t.cos(), q[1] + r * t.sin());
                    assert!(b.contains(&p), "{p:?} around {q:?}");
                }
            }
        }
    }

    /// Every segment is in exactly one line, as two consecutive points, and no line is longer
    /// than `CHAIN` segments (a long street, a branching grid, a loop, a point).
    #[test]
    fn chains_hold_each_segment_once() {
        let mut segs: Vec<[[f64; 2]; 2]> = (0..100)
            .map(|k| [[k as f64, 0.0], [k as f64 + 1.0, 0.0]])
            .collect();
        for k in 0..6 {
            for m in 0..6 {
                let (x, y) = (k as f64 * 10.0, 50.0 + m as f64 * 10.0);
                segs.push([[x, y], [x + 10.0, y]]);
                segs.push([[x, y], [x, y + 10.0]]);
            }
        }
        segs.extend([
            [[500.0, 0.0], [510.0, 0.0]],
            [[510.0, 0.0], [505.0, 9.0]],
            [[505.0, 9.0], [500.0, 0.0]],
            [[-7.0, -7.0], [-7.0, -7.0]],
        ]);
        let lines = chains(&segs);
        let key = |p: Coord<f64>| (p.x.to_bits(), p.y.to_bits());
        let mut seen: Vec<((u64, u64), (u64, u64))> = Vec::new();
        for l in &lines {
            assert!(l.0.len() >= 2 && l.0.len() <= CHAIN + 1, "{}", l.0.len());
            for w in l.0.windows(2) {
                let (a, b) = (key(w[0]), key(w[1]));
                seen.push(if a <= b { (a, b) } else { (b, a) });
            }
        }
        let mut want: Vec<_> = segs
            .iter()
            .map(|&[a, b]| {
                let (a, b) = (key(a.into()), key(b.into()));
                if a <= b {
                    (a, b)
                } else {
                    (b, a)
                }
            })
            .collect();
        seen.sort_unstable();
        want.sort_unstable();
        assert_eq!(seen, want);
        // The long street is joined, not left as 100 lines.
        assert!(lines.len() < segs.len() / 2, "{} lines", lines.len());
    }

    /// A dense grid of short pieces (the case the cell cover is for) against brute force:
    /// random points are inside iff within the radius of some piece, away from the drawn band.
    #[test]
    fn a_dense_grid_buffer_matches_brute_force() {
        use rand::RngExt as _;
        let mut segs = Vec::new();
        for k in 0..=20 {
            let c = k as f64 * 90.0;
            for m in 0..20 {
                let (a, b) = (m as f64 * 90.0, (m + 1) as f64 * 90.0);
                segs.push([[c, a], [c, b]]);
                segs.push([[a, c], [b, c]]);
            }
        }
        // A few pieces missing, and a lone street beyond, so the area has holes and bays.
        segs.retain(|[a, b]| !(a[0] > 500.0 && a[0] < 1000.0 && b[1] > 600.0 && b[1] < 1300.0));
        segs.push([[2500.0, 0.0], [2600.0, 700.0]]);
        let r = 120.0;
        assert!(segs.len() >= 256, "{}", segs.len());
        let shape = segments_buffer(&segs, r);
        let mut rng = lifecircle_synth::rng(5);
        let mut checked = 0;
        for _ in 0..5000 {
            let p = [
                -200.0 + rng.random::<f64>() * 3000.0,
                -200.0 + rng.random::<f64>() * 2200.0,
            ];
            let d = segs
                .iter()
                .map(|&[a, b]| dist2_to_segment(p, a, b).sqrt())
                .fold(f64::INFINITY, f64::min);
            if (r - 0.01..=drawn_radius_m(r) + 0.01).contains(&d) {
                continue;
            }
            assert_eq!(
                shape.contains(&Point::new(p[0], p[1])),
                d < r,
                "{p:?} at {d} m"
            );
            checked += 1;
        }
        assert!(checked > 4900);
    }
}
