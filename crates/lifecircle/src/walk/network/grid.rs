//! A uniform grid of street pieces for nearest-piece queries.
//!
//! Pieces are 3-D segments in ECEF metres. The grid lies in a plane (tangent to the Earth at the
//! network's centre): every piece is listed in each cell that its projection onto the plane
//! touches. Orthogonal projection onto a plane never lengthens a distance, so a piece whose
//! projection is at least `b` from the query's projection is at least `b` away in 3-D; the
//! search visits rings of cells around the query until that lower bound exceeds the best
//! distance found (or the snapping limit). The answer is therefore exact, and, with ties broken
//! by the lower piece index, independent of the order in which cells are visited.
//!
//! For a city the nearest piece is usually found in the query's own cell and its eight
//! neighbours: a few dozen exact distance computations, against several hundred node visits for
//! an R-tree nearest-neighbour search.

use crate::geodesy::Ecef;

/// Lower bounds are relaxed by this much, so that rounding never prunes a piece that is as
/// near as the best (a tie, which the lower index must win), metres.
const SLACK_M: f64 = 1e-6;

/// The nearest piece to a point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit {
    /// Piece index.
    pub piece: u32,
    /// Fraction along the piece from its first end, 0..=1.
    pub t: f64,
    /// Squared 3-D distance from the point to the piece, square metres.
    pub d2: f64,
}

/// Pieces listed by the grid cells their projections touch (CSR).
pub(crate) struct PieceGrid {
    /// The two ends of every piece, ECEF metres.
    ends: Vec<[Ecef; 2]>,
    /// Plane origin and its two orthonormal axes.
    origin: Ecef,
    axis_x: [f64; 3],
    axis_y: [f64; 3],
    /// Plane coordinates of the grid's lower-left corner, metres.
    x0: f64,
    y0: f64,
    /// Cell side, metres.
    cell_m: f64,
    width: usize,
    height: usize,
    /// The pieces in cell `c` (row-major) are `cell_pieces[cell_start[c]..cell_start[c + 1]]`.
    cell_start: Vec<u32>,
    cell_pieces: Vec<u32>,
}

fn sub(a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn dot(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn unit(a: [f64; 3]) -> Option<[f64; 3]> {
    let n = dot(&a, &a).sqrt();
    (n > 0.0 && n.is_finite()).then(|| [a[0] / n, a[1] / n, a[2] / n])
}

/// Projection of `q` on the segment `a`-`b`: the clamped fraction along it and the squared
/// distance to the segment.
#[inline]
pub(crate) fn project(a: &Ecef, b: &Ecef, q: &Ecef) -> (f64, f64) {
    let ab = sub(b, a);
    let aq = sub(q, a);
    let len2 = dot(&ab, &ab);
    let t = if len2 > 0.0 {
        (dot(&aq, &ab) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let foot = [a[0] + t * ab[0], a[1] + t * ab[1], a[2] + t * ab[2]];
    let d = sub(&foot, q);
    (t, dot(&d, &d))
}

impl PieceGrid {
    /// Index `ends` (all coordinates finite).
    pub(super) fn new(ends: Vec<[Ecef; 2]>) -> PieceGrid {
        // The plane: through the mean of the piece ends, perpendicular to its direction from
        // the Earth's centre (any orthonormal axes would keep the search exact).
        let n = ends.len().max(1) as f64;
        let mut origin = [0.0; 3];
        for [a, b] in &ends {
            for k in 0..3 {
                origin[k] += (a[k] + b[k]) / (2.0 * n);
            }
        }
        let up = unit(origin).unwrap_or([0.0, 0.0, 1.0]);
        let axis_x = unit(cross(&[0.0, 0.0, 1.0], &up))
            .or_else(|| unit(cross(&[1.0, 0.0, 0.0], &up)))
            .unwrap_or([1.0, 0.0, 0.0]);
        let axis_y = cross(&up, &axis_x);
        let mut grid = PieceGrid {
            ends,
            origin,
            axis_x,
            axis_y,
            x0: 0.0,
            y0: 0.0,
            cell_m: 1.0,
            width: 1,
            height: 1,
            cell_start: Vec::new(),
            cell_pieces: Vec::new(),
        };
        let flat: Vec<[[f64; 2]; 2]> = grid
            .ends
            .iter()
            .map(|[a, b]| [grid.plane(a), grid.plane(b)])
            .collect();
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for p in flat.iter().flatten() {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        if flat.is_empty() {
            lo = [0.0; 2];
            hi = [0.0; 2];
        }
        // About one cell per piece: square cells over the bounding box, or, for a network
        // that is nearly a line, cells along it.
        let (w, h) = (hi[0] - lo[0], hi[1] - lo[1]);
        let count = flat.len().max(1) as f64;
        let cell_m = (w * h / count).sqrt().max(w.max(h) / count).max(1e-3);
        grid.x0 = lo[0];
        grid.y0 = lo[1];
        grid.cell_m = cell_m;
        grid.width = (w / cell_m) as usize + 1;
        grid.height = (h / cell_m) as usize + 1;

        let cells = grid.width * grid.height;
        let mut cell_start = vec![0u32; cells + 1];
        for seg in &flat {
            grid.cells_of_segment(seg, |c| cell_start[c + 1] += 1);
        }
        for c in 0..cells {
            cell_start[c + 1] += cell_start[c];
        }
        let mut fill: Vec<u32> = cell_start[..cells].to_vec();
        let mut cell_pieces = vec![0u32; cell_start[cells] as usize];
        for (i, seg) in flat.iter().enumerate() {
            grid.cells_of_segment(seg, |c| {
                cell_pieces[fill[c] as usize] = i as u32;
                fill[c] += 1;
            });
        }
        grid.cell_start = cell_start;
        grid.cell_pieces = cell_pieces;
        grid
    }

    /// Plane coordinates of an ECEF point, metres.
    #[inline]
    fn plane(&self, p: &Ecef) -> [f64; 2] {
        let d = sub(p, &self.origin);
        [dot(&d, &self.axis_x), dot(&d, &self.axis_y)]
    }

    fn column(&self, x: f64) -> usize {
        (((x - self.x0) / self.cell_m).floor().max(0.0) as usize).min(self.width - 1)
    }

    fn row(&self, y: f64) -> usize {
        (((y - self.y0) / self.cell_m).floor().max(0.0) as usize).min(self.height - 1)
    }

    /// Call `visit` with every cell the segment touches (and possibly a few neighbours: a
    /// cell too many costs a distance computation, a cell too few would lose answers).
    fn cells_of_segment(&self, [a, b]: &[[f64; 2]; 2], mut visit: impl FnMut(usize)) {
        let margin = 1e-6 * self.cell_m;
        let (lx, hx) = (a[0].min(b[0]) - margin, a[0].max(b[0]) + margin);
        let dx = b[0] - a[0];
        for col in self.column(lx)..=self.column(hx) {
            let left = (self.x0 + col as f64 * self.cell_m).max(lx);
            let right = (self.x0 + (col + 1) as f64 * self.cell_m).min(hx);
            // The segment's y over this column.
            let (ya, yb) = if dx.abs() > 0.0 {
                let y_at = |x: f64| a[1] + ((x - a[0]) / dx).clamp(0.0, 1.0) * (b[1] - a[1]);
                (y_at(left), y_at(right))
            } else {
                (a[1], b[1])
            };
            let (ly, hy) = (ya.min(yb) - margin, ya.max(yb) + margin);
            for row in self.row(ly)..=self.row(hy) {
                visit(row * self.width + col);
            }
        }
    }

    /// The nearest piece within `max_m` metres of `q` (ties: lowest piece index).
    pub(super) fn nearest(&self, q: &Ecef, max_m: f64) -> Option<Hit> {
        if self.ends.is_empty() || max_m.is_nan() || max_m < 0.0 {
            return None;
        }
        let [x, y] = self.plane(q);
        // Cell coordinates, possibly outside the grid.
        let fx = (x - self.x0) / self.cell_m;
        let fy = (y - self.y0) / self.cell_m;
        if !(fx.is_finite() && fy.is_finite()) {
            return None;
        }
        let limit = 1e15;
        let (fx, fy) = (fx.clamp(-limit, limit), fy.clamp(-limit, limit));
        let (ci, cj) = (fx.floor() as i64, fy.floor() as i64);
        // Distance (in cells) from q to the edge of its own cell.
        let inner = (fx - ci as f64)
            .min(ci as f64 + 1.0 - fx)
            .min(fy - cj as f64)
            .min(cj as f64 + 1.0 - fy);
        let (w, h) = (self.width as i64, self.height as i64);
        // Rings nearer than the grid are empty.
        let gap = (-ci).max(ci - (w - 1)).max(-cj).max(cj - (h - 1)).max(0);
        let mut best: Option<Hit> = None;
        // The best distance so far (metres), or the limit while there is none.
        let mut best_m = max_m;
        let mut r = gap;
        loop {
            // Everything in ring r and beyond is at least this far in the plane, hence in 3-D.
            let ring_m = ((r - 1) as f64 + inner).max(0.0) * self.cell_m;
            if ring_m > best_m + SLACK_M {
                break;
            }
            self.visit_ring(ci, cj, r, |i, j| {
                // Skip a cell that cannot hold anything nearer than the best so far.
                let dx = (i as f64 - fx).max(fx - (i + 1) as f64).max(0.0);
                let dy = (j as f64 - fy).max(fy - (j + 1) as f64).max(0.0);
                let cell_m2 = (dx * dx + dy * dy) * self.cell_m * self.cell_m;
                if cell_m2 > (best_m + SLACK_M) * (best_m + SLACK_M) {
                    return;
                }
                let c = j as usize * self.width + i as usize;
                let (start, end) = (self.cell_start[c] as usize, self.cell_start[c + 1] as usize);
                for &piece in &self.cell_pieces[start..end] {
                    let [a, b] = &self.ends[piece as usize];
                    let (t, d2) = project(a, b, q);
                    let closer = match best {
                        None => d2.sqrt() <= max_m,
                        Some(b) => d2 < b.d2 || (d2 == b.d2 && piece < b.piece),
                    };
                    if closer {
                        best = Some(Hit { piece, t, d2 });
                        best_m = d2.sqrt();
                    }
                }
            });
            let covers_grid = ci - r <= 0 && ci + r >= w - 1 && cj - r <= 0 && cj + r >= h - 1;
            if covers_grid {
                break;
            }
            r += 1;
        }
        best
    }

    /// Call `visit` with the grid cells (column, row) at Chebyshev distance `r` from `(ci, cj)`.
    fn visit_ring(&self, ci: i64, cj: i64, r: i64, mut visit: impl FnMut(i64, i64)) {
        let (w, h) = (self.width as i64, self.height as i64);
        let (i_lo, i_hi) = ((ci - r).max(0), (ci + r).min(w - 1));
        for j in [cj - r, cj + r] {
            if (0..h).contains(&j) {
                for i in i_lo..=i_hi {
                    visit(i, j);
                }
            }
            if r == 0 {
                return;
            }
        }
        let (j_lo, j_hi) = ((cj - r + 1).max(0), (cj + r - 1).min(h - 1));
        for i in [ci - r, ci + r] {
            if (0..w).contains(&i) {
                for j in j_lo..=j_hi {
                    visit(i, j);
                }
            }
        }
    }

    /// The index of the cell containing `q` (clamped to the grid), for ordering queries.
    pub(super) fn cell_of(&self, q: &Ecef) -> usize {
        let [x, y] = self.plane(q);
        self.row(y) * self.width + self.column(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geodesy::to_ecef;

    /// A uniform number in [0, 1) from the project's seeded generator.
    fn rng(state: &mut lifecircle_synth::Rng) -> f64 {
        rand::RngExt::random::<f64>(state)
    }

    #[test]
    fn projection_clamps_to_the_segment() {
        let a = [0.0, 0.0, 0.0];
        let b = [10.0, 0.0, 0.0];
        let (t, d2) = project(&a, &b, &[4.0, 3.0, 0.0]);
        assert!((t - 0.4).abs() < 1e-12 && (d2 - 9.0).abs() < 1e-12);
        let (t, d2) = project(&a, &b, &[-3.0, 4.0, 0.0]);
        assert!(t == 0.0 && (d2 - 25.0).abs() < 1e-12);
        let (t, d2) = project(&a, &b, &[13.0, 0.0, 4.0]);
        assert!(t == 1.0 && (d2 - 25.0).abs() < 1e-12);
        // A zero-length segment is its single point.
        let (t, d2) = project(&a, &a, &[0.0, 2.0, 0.0]);
        assert!(t == 0.0 && (d2 - 4.0).abs() < 1e-12);
    }

    /// Brute force over all pieces: the nearest within `max_m`, lowest index on ties.
    fn brute(ends: &[[Ecef; 2]], q: &Ecef, max_m: f64) -> Option<(u32, f64)> {
        let mut best: Option<(u32, f64)> = None;
        for (i, [a, b]) in ends.iter().enumerate() {
            let (_, d2) = project(a, b, q);
            if best.is_none_or(|(_, bd2)| d2 < bd2) {
                best = Some((i as u32, d2));
            }
        }
        best.filter(|&(_, d2)| d2.sqrt() <= max_m)
    }

    #[test]
    fn grid_search_equals_brute_force() {
        // Short and long pieces (some spanning many cells, diagonals, a north-south line and a
        // near-polar cluster), queries inside, at the edge of and far outside the grid.
        for seed in 1..=12u64 {
            println!("seed {seed}");
            let mut s = lifecircle_synth::rng(seed);
            let lat0 = if seed % 4 == 0 {
                89.9
            } else {
                rng(&mut s) * 120.0 - 60.0
            };
            let lon0 = rng(&mut s) * 300.0 - 150.0;
            let spread = if seed % 3 == 0 { 0.001 } else { 0.05 };
            let mut ends: Vec<[Ecef; 2]> = Vec::new();
            for k in 0..300 {
                let (lon, lat) = (
                    lon0 + (rng(&mut s) - 0.5) * spread * 2.0,
                    lat0 + (rng(&mut s) - 0.5) * spread,
                );
                let reach = if k % 25 == 0 { 20.0 } else { 0.05 };
                let (lon2, lat2) = if seed % 5 == 0 {
                    (lon0, lat + (rng(&mut s) - 0.5) * spread * reach)
                } else {
                    (
                        lon + (rng(&mut s) - 0.5) * spread * reach,
                        lat + (rng(&mut s) - 0.5) * spread * reach,
                    )
                };
                let lat2 = lat2.clamp(-90.0, 90.0);
                // Every third piece starts where the previous one ends (ties at shared ends).
                let start = match ends.last() {
                    Some(&[_, end]) if k % 3 == 0 => end,
                    _ => to_ecef(lon, lat),
                };
                ends.push([start, to_ecef(lon2, lat2)]);
            }
            let grid = PieceGrid::new(ends.clone());
            for k in 0..400 {
                let far = if k % 10 == 0 { 3.0 } else { 1.2 };
                let q = if k % 7 == 0 {
                    ends[k % ends.len()][k % 2] // exactly on a piece end
                } else {
                    to_ecef(
                        lon0 + (rng(&mut s) - 0.5) * spread * 2.0 * far,
                        (lat0 + (rng(&mut s) - 0.5) * spread * far).clamp(-90.0, 90.0),
                    )
                };
                for max_m in [50.0, 500.0, f64::INFINITY] {
                    let expected = brute(&ends, &q, max_m);
                    let got = grid.nearest(&q, max_m).map(|h| (h.piece, h.d2));
                    assert_eq!(got, expected, "seed {seed}, query {k}, max {max_m}");
                }
            }
        }
    }

    #[test]
    fn empty_grid_finds_nothing() {
        let grid = PieceGrid::new(Vec::new());
        assert_eq!(grid.nearest(&to_ecef(0.0, 0.0), f64::INFINITY), None);
    }
}
