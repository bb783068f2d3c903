//! Walking distances along a street network, from many residences to the nearest facility.
//!
//! # Distance model
//! The walking distance from a residence to a facility is
//!
//! *access leg* + *street path* + *egress leg*:
//!
//! - the **access leg** runs straight from the residence to the nearest point on the nearest
//!   *street piece* (the straight segment between two consecutive vertices of a street line);
//! - the **street path** is the shortest path along the streets from that point to the nearest
//!   point of the facility's own nearest piece; streets are two-way;
//! - the **egress leg** runs straight from there to the facility.
//!
//! A residence and a facility snapped to the same piece may also walk straight along it.
//!
//! Graph nodes are the line vertices, with vertices of identical coordinates merged into one node
//! (so lines are connected exactly where they share a vertex; two lines that merely cross, or a
//! line that crosses itself, are *not* connected at the crossing). Pieces between the same two
//! nodes are one piece (duplicate lines count once), and zero-length pieces (repeated vertices)
//! are dropped; neither changes any distance. Vertices that are not finite WGS84 positions are
//! skipped together with the pieces that touch them.
//!
//! A point farther than `max_snap_m` from every piece is *off-network*: it is never covered and
//! never borrows a distance from an unrelated street. A facility or residence that is on the
//! network but cannot reach any facility within `max_walk_m` gets no [`Reach`].
//!
//! # Geometry and units
//! All distances are metres. Pieces are straight 3-D segments between the ECEF positions
//! ([`crate::geodesy::to_ecef`]) of their end vertices. A piece's length is the surface distance
//! between its ends ([`crate::geodesy::surface_distance_from_chord_m`]); the access and egress
//! legs are the 3-D distances from the point to the segment; the position along a piece is the
//! projected fraction times the piece length. For street pieces (tens to hundreds of metres)
//! the chord lies within a millimetre of the surface; it sags by `L² / 8R`, about 2 cm for a
//! 1 km piece, which is the worst error of the access leg of a point near the middle of such a
//! piece.
//!
//! # Algorithm
//! 1. [`StreetNetwork::from_lines`] merges vertices into nodes, builds a compressed adjacency
//!    (CSR) with piece lengths, and a uniform grid of pieces in a plane tangent to the Earth at
//!    the network's centre (about one cell per piece).
//! 2. [`StreetNetwork::snap_all`] snaps every point once, in parallel: nearest piece within
//!    `max_snap_m`, giving a [`Snap`]. The nearest piece is exact (3-D point-to-segment
//!    distances; ties go to the lower piece index): projecting onto a plane never lengthens a
//!    distance, so the grid's rings of cells give a lower bound that stops the search. Points
//!    are queried in grid-cell order for cache locality.
//! 3. [`StreetNetwork::nearest`] runs, per facility category, **one** multi-source Dijkstra from
//!    all facilities at once (each seeds both ends of its piece with egress + partial piece),
//!    bounded by `max_walk_m`, keeping for every node the distance and the facility it came
//!    from. Each residence then reads the two ends of its own piece (+ partial piece + access)
//!    and the facilities on its own piece, in parallel. Ties are broken by the lower facility
//!    index, so results are deterministic. Categories are independent:
//!    [`StreetNetwork::nearest_per_category`] runs them in parallel.
//!
//! # Speed
//! `cargo bench --bench network -- --sample-size 10` (a 21.5 km street grid of 118,794 pieces,
//! 1,000,000 clustered residences, 6 categories of 1,000 facilities, 1,000 m walks, on a shared
//! 2-core machine): building the network 39 ms; snapping 1M residences 0.37 s (an rstar R-tree
//! nearest-neighbour query takes about 6 times as long per point); one category's Dijkstra
//! 23 ms, with the reads for 1M residences 37 ms; all 6 categories 0.21 s; snapping plus all
//! categories 0.54 s.
//!

use std::{cmp::Reverse, collections::BinaryHeap};

use rayon::prelude::*;

use crate::{
    geodesy::{chord2_m2, surface_distance_from_chord_m, to_ecef, Ecef, LonLat},
    walk::{Pairs, Reach},
};

mod grid;
mod walking;

pub use walking::NetworkWalk;

use grid::PieceGrid;

/// No node / no facility.
const NONE: u32 = u32::MAX;

/// A facility's snap as the searches use it: piece, facility index, along, egress (metres).
type Seed = (u32, u32, f64, f64);

/// What [`StreetNetwork::street_reach`] finds.
#[derive(Debug, Default)]
pub(crate) struct StreetReach {
    /// (piece, from, to): metres along the piece from its first end, `from <= to`.
    pub parts: Vec<(u32, f64, f64)>,
    /// (piece, along, left walk in metres): facility snaps with less than the minimum left.
    pub ends: Vec<(u32, f64, f64)>,
}

/// The residences on each piece, for [`StreetNetwork::within`]: (residence, along, access).
pub(crate) struct DemandByPiece {
    start: Vec<u32>,
    entries: Vec<(u32, f64, f64)>,
}

impl DemandByPiece {
    pub(crate) fn new(net: &StreetNetwork, demand: &[Option<Snap>]) -> Self {
        let pieces = net.pieces();
        let usable = |s: &Option<Snap>| -> Option<(u32, f64, f64)> {
            let s = s.as_ref()?;
            let len_m = *net.piece_len_m.get(s.piece as usize)?;
            let (along_m, access_m) = checked(s, len_m)?;
            Some((s.piece, along_m, access_m))
        };
        let mut start = vec![0u32; pieces + 1];
        for (piece, ..) in demand.iter().filter_map(usable) {
            start[piece as usize + 1] += 1;
        }
        for p in 0..pieces {
            start[p + 1] += start[p];
        }
        let mut fill = start[..pieces].to_vec();
        let mut entries = vec![(0u32, 0.0, 0.0); start[pieces] as usize];
        for (r, snap) in demand.iter().enumerate() {
            if let Some((piece, along_m, access_m)) = usable(snap) {
                let slot = &mut fill[piece as usize];
                entries[*slot as usize] = (r as u32, along_m, access_m);
                *slot += 1;
            }
        }
        Self { start, entries }
    }

    fn on(&self, piece: u32) -> &[(u32, f64, f64)] {
        let p = piece as usize;
        &self.entries[self.start[p] as usize..self.start[p + 1] as usize]
    }
}

/// A search's distances, reset through the list of nodes it reached.
struct Scratch {
    dist: Vec<f64>,
    touched: Vec<u32>,
}

impl Scratch {
    fn new(nodes: usize) -> Self {
        Self {
            dist: vec![f64::INFINITY; nodes],
            touched: Vec::new(),
        }
    }

    fn clear(&mut self) {
        for &n in &self.touched {
            self.dist[n as usize] = f64::INFINITY;
        }
        self.touched.clear();
    }
}

/// Where a point meets the street network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    /// The street piece, `0..`[`StreetNetwork::pieces`].
    pub piece: u32,
    /// Distance along the piece from its first end ([`StreetNetwork::piece_ends`]), metres.
    pub along_m: f64,
    /// Straight distance from the point to the piece (the access or egress leg), metres.
    pub access_m: f64,
}

/// A walkable street network: nodes, pieces, a CSR adjacency and a grid of pieces for snapping.
///
/// Node and piece counts are limited to `u32::MAX - 1` (far beyond any city).
pub struct StreetNetwork {
    /// Position of every node.
    node_lonlat: Vec<LonLat>,
    /// The two end nodes of every piece (first end < second end).
    piece_nodes: Vec<[u32; 2]>,
    /// Length of every piece, metres.
    piece_len_m: Vec<f64>,
    /// CSR: the neighbours of node `v` are `adj_node[adj_start[v]..adj_start[v + 1]]`.
    adj_start: Vec<u32>,
    adj_node: Vec<u32>,
    adj_len_m: Vec<f64>,
    /// The piece of each adjacency entry.
    adj_piece: Vec<u32>,
    grid: PieceGrid,
    length_m: f64,
}

impl std::fmt::Debug for StreetNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreetNetwork")
            .field("nodes", &self.nodes())
            .field("pieces", &self.pieces())
            .field("length_m", &self.length_m)
            .finish()
    }
}

/// The merge key of a position: identical coordinates give identical keys. `-0.0` and `0.0`,
/// longitudes -180 and 180, and every longitude at a pole are the same place.
fn vertex_key(p: LonLat) -> Option<(u64, u64)> {
    let valid = p.lon.is_finite()
        && p.lat.is_finite()
        && (-180.0..=180.0).contains(&p.lon)
        && (-90.0..=90.0).contains(&p.lat);
    if !valid {
        return None;
    }
    let lat = p.lat + 0.0;
    let lon = if p.lon == -180.0 || lat.abs() == 90.0 {
        if lat.abs() == 90.0 {
            0.0
        } else {
            180.0
        }
    } else {
        p.lon + 0.0
    };
    Some((lon.to_bits(), lat.to_bits()))
}

/// The snap's position along its piece (clamped to the piece's length) and its leg, if they are
/// usable numbers.
fn checked(s: &Snap, len_m: f64) -> Option<(f64, f64)> {
    let usable = s.access_m >= 0.0 && s.access_m.is_finite() && s.along_m.is_finite();
    usable.then(|| (s.along_m.clamp(0.0, len_m), s.access_m))
}

/// One piece as residences on it see a category's distance field.
struct PieceSides {
    /// Distance from the nearest facility to the piece's first end, metres (infinite: none).
    first_m: f64,
    /// Same for the second end.
    second_m: f64,
    /// Piece length, metres.
    len_m: f64,
    /// The facilities those distances come from ([`NONE`]: none).
    first: u32,
    second: u32,
    /// Where this piece's facilities start in the sorted facility list ([`NONE`]: none).
    facilities: u32,
}

/// `(d1, f1)` comes before `(d2, f2)`: shorter, or as short with a lower facility index.
#[inline]
fn better(d1: f64, f1: u32, d2: f64, f2: u32) -> bool {
    d1 < d2 || (d1 == d2 && f1 < f2)
}

impl StreetNetwork {
    /// Build the network from street lines, each a sequence of positions (one GeoJSON
    /// LineString; split MultiLineStrings into their lines first).
    ///
    /// Lines with fewer than two valid positions contribute nothing. Never fails: invalid
    /// positions (not finite, out of WGS84 range) are skipped with the pieces touching them.
    pub fn from_lines(lines: &[Vec<LonLat>]) -> StreetNetwork {
        // 1. Merge identical coordinates: sort the vertex keys, one node per distinct key.
        let mut keys: Vec<(u64, u64, usize)> = Vec::new();
        let mut g = 0usize;
        for line in lines {
            for &p in line {
                if let Some((lon, lat)) = vertex_key(p) {
                    keys.push((lon, lat, g));
                }
                g += 1;
            }
        }
        let total_vertices = g;
        keys.par_sort_unstable();
        let mut vertex_node = vec![NONE; total_vertices];
        let mut node_lonlat: Vec<LonLat> = Vec::new();
        let mut previous: Option<(u64, u64)> = None;
        for &(lon, lat, g) in &keys {
            if previous != Some((lon, lat)) {
                node_lonlat.push(LonLat::unchecked(f64::from_bits(lon), f64::from_bits(lat)));
                previous = Some((lon, lat));
            }
            vertex_node[g] = (node_lonlat.len() - 1) as u32;
        }
        drop(keys);

        // 2. Pieces: consecutive vertices of each line, as ordered node pairs, deduplicated.
        let mut pairs: Vec<[u32; 2]> = Vec::with_capacity(total_vertices);
        let mut start = 0usize;
        for line in lines {
            let nodes = &vertex_node[start..start + line.len()];
            for w in nodes.windows(2) {
                let (u, v) = (w[0], w[1]);
                if u != NONE && v != NONE && u != v {
                    pairs.push([u.min(v), u.max(v)]);
                }
            }
            start += line.len();
        }
        drop(vertex_node);
        pairs.par_sort_unstable();
        pairs.dedup();

        // 3. Keep only nodes that end a piece (order preserved), and renumber.
        let mut renumber = vec![NONE; node_lonlat.len()];
        for &[u, v] in &pairs {
            renumber[u as usize] = 0;
            renumber[v as usize] = 0;
        }
        let mut kept_lonlat = Vec::new();
        for (old, slot) in renumber.iter_mut().enumerate() {
            if *slot == 0 {
                *slot = kept_lonlat.len() as u32;
                kept_lonlat.push(node_lonlat[old]);
            }
        }
        let node_lonlat = kept_lonlat;
        for pair in &mut pairs {
            *pair = [renumber[pair[0] as usize], renumber[pair[1] as usize]];
        }
        let piece_nodes = pairs;
        let node_ecef: Vec<Ecef> = node_lonlat.par_iter().map(|p| p.to_ecef()).collect();

        // 4. Piece lengths and the grid of pieces.
        let piece_len_m: Vec<f64> = piece_nodes
            .par_iter()
            .map(|&[u, v]| {
                let (a, b) = (u as usize, v as usize);
                let chord = chord2_m2(&node_ecef[a], &node_ecef[b]).sqrt();
                surface_distance_from_chord_m(chord, node_lonlat[a], node_lonlat[b])
            })
            .collect();
        let length_m = piece_len_m.iter().sum();
        let grid = PieceGrid::new(
            piece_nodes
                .iter()
                .map(|&[u, v]| [node_ecef[u as usize], node_ecef[v as usize]])
                .collect(),
        );

        // 5. CSR adjacency, both directions.
        let n = node_lonlat.len();
        let mut adj_start = vec![0u32; n + 1];
        for &[u, v] in &piece_nodes {
            adj_start[u as usize + 1] += 1;
            adj_start[v as usize + 1] += 1;
        }
        for i in 0..n {
            adj_start[i + 1] += adj_start[i];
        }
        let mut fill: Vec<u32> = adj_start[..n].to_vec();
        let mut adj_node = vec![0u32; 2 * piece_nodes.len()];
        let mut adj_len_m = vec![0f64; 2 * piece_nodes.len()];
        let mut adj_piece = vec![0u32; 2 * piece_nodes.len()];
        for (p, (&[u, v], &len)) in piece_nodes.iter().zip(&piece_len_m).enumerate() {
            for (from, to) in [(u, v), (v, u)] {
                let slot = &mut fill[from as usize];
                adj_node[*slot as usize] = to;
                adj_len_m[*slot as usize] = len;
                adj_piece[*slot as usize] = p as u32;
                *slot += 1;
            }
        }

        StreetNetwork {
            node_lonlat,
            piece_nodes,
            piece_len_m,
            adj_start,
            adj_node,
            adj_len_m,
            adj_piece,
            grid,
            length_m,
        }
    }

    /// Number of distinct street pieces (duplicates and zero-length pieces removed).
    pub fn pieces(&self) -> usize {
        self.piece_nodes.len()
    }

    /// Number of nodes (distinct vertex positions that end at least one piece).
    pub fn nodes(&self) -> usize {
        self.node_lonlat.len()
    }

    /// The nodes where other than two pieces meet (junctions and dead ends), in node order.
    pub fn junctions(&self) -> Vec<LonLat> {
        self.adj_start
            .windows(2)
            .zip(&self.node_lonlat)
            .filter(|(w, _)| w[1] - w[0] != 2)
            .map(|(_, &p)| p)
            .collect()
    }

    /// Total length of all pieces, metres.
    pub fn length_m(&self) -> f64 {
        self.length_m
    }

    /// The two ends of a piece, first end first (the one [`Snap::along_m`] counts from);
    /// `None` for an index out of range.
    pub fn piece_ends(&self, piece: u32) -> Option<[LonLat; 2]> {
        let &[u, v] = self.piece_nodes.get(piece as usize)?;
        Some([
            *self.node_lonlat.get(u as usize)?,
            *self.node_lonlat.get(v as usize)?,
        ])
    }

    /// Length of a piece, metres; `None` for an index out of range.
    pub fn piece_length_m(&self, piece: u32) -> Option<f64> {
        self.piece_len_m.get(piece as usize).copied()
    }

    /// Snap a point to the nearest piece, if one is within `max_snap_m` metres.
    ///
    /// `None` for an off-network point, a position that is not finite, or an empty network.
    ///
    /// # Units
    /// `max_snap_m` and the distances in the [`Snap`] are metres.
    pub fn snap(&self, p: LonLat, max_snap_m: f64) -> Option<Snap> {
        if !(p.lon.is_finite() && p.lat.is_finite() && max_snap_m >= 0.0) {
            return None;
        }
        let q = to_ecef(p.lon, p.lat);
        let hit = self.grid.nearest(&q, max_snap_m)?;
        let len = self.piece_len_m.get(hit.piece as usize)?;
        Some(Snap {
            piece: hit.piece,
            along_m: hit.t * len,
            access_m: hit.d2.sqrt(),
        })
    }

    /// [`snap`](Self::snap) for many points, in parallel; the result is in the order of `ps`.
    ///
    /// The points are queried in the order of the grid cells they fall in, so that consecutive
    /// queries find the same pieces in the processor's cache (about twice as fast as input
    /// order for scattered input); the answers do not depend on that order.
    pub fn snap_all(&self, ps: &[LonLat], max_snap_m: f64) -> Vec<Option<Snap>> {
        if u32::try_from(ps.len()).is_err() {
            return ps.par_iter().map(|&p| self.snap(p, max_snap_m)).collect();
        }
        let mut order: Vec<u64> = ps
            .par_iter()
            .enumerate()
            .map(|(i, p)| ((self.grid.cell_of(&p.to_ecef()) as u64) << 32) | i as u64)
            .collect();
        order.par_sort_unstable();
        let index = |key: u64| (key & 0xFFFF_FFFF) as usize;
        let snaps: Vec<Option<Snap>> = order
            .par_iter()
            .map(|&key| self.snap(ps[index(key)], max_snap_m))
            .collect();
        let mut out = vec![None; ps.len()];
        for (&key, snap) in order.iter().zip(snaps) {
            out[index(key)] = snap;
        }
        out
    }

    /// The nearest facility within `max_walk_m` metres of walking for every residence.
    ///
    /// `facilities` are the snaps of one category's facilities (an off-network facility is
    /// `None` and never used); the [`Reach::facility`] returned is an index into that slice.
    /// `demand` are the residences' snaps; the result has one entry per residence, `None` when
    /// the residence is off-network or no facility is within `max_walk_m` (inclusive).
    /// Among equally near facilities the lowest index wins. Snaps whose piece is not in this
    /// network are treated as off-network.
    ///
    /// # Units
    /// `max_walk_m` and [`Reach::distance_m`] are metres.
    pub fn nearest(
        &self,
        facilities: &[Option<Snap>],
        demand: &[Option<Snap>],
        max_walk_m: f64,
    ) -> Vec<Option<Reach>> {
        if max_walk_m.is_nan() || max_walk_m < 0.0 {
            return vec![None; demand.len()];
        }
        // Facilities by piece, for residences on the same piece, and the Dijkstra seeds.
        let mut on_piece = self.seeds(facilities);
        on_piece.sort_unstable_by_key(|&(piece, f, ..)| (piece, f));
        let (dist, from) = self.flood(&on_piece, max_walk_m);

        // What a residence needs, by piece, in one place (one cache line per residence).
        let mut sides: Vec<PieceSides> = self
            .piece_nodes
            .par_iter()
            .zip(&self.piece_len_m)
            .map(|(&[u, v], &len_m)| PieceSides {
                first_m: dist[u as usize],
                second_m: dist[v as usize],
                len_m,
                first: from[u as usize],
                second: from[v as usize],
                facilities: NONE,
            })
            .collect();
        for (k, &(piece, ..)) in on_piece.iter().enumerate().rev() {
            sides[piece as usize].facilities = k as u32;
        }
        drop((dist, from));

        demand
            .par_iter()
            .map(|snap| {
                let s = snap.as_ref()?;
                let side = sides.get(s.piece as usize)?;
                let (along_m, access_m) = checked(s, side.len_m)?;
                let mut best = (side.first_m + along_m, side.first);
                let other = side.second_m + (side.len_m - along_m);
                if better(other, side.second, best.0, best.1) {
                    best = (other, side.second);
                }
                if side.facilities != NONE {
                    for &(_, f, f_along, f_egress) in on_piece[side.facilities as usize..]
                        .iter()
                        .take_while(|&&(p, ..)| p == s.piece)
                    {
                        let d = f_egress + (along_m - f_along).abs();
                        if better(d, f, best.0, best.1) {
                            best = (d, f);
                        }
                    }
                }
                let total = best.0 + access_m;
                (best.1 != NONE && total <= max_walk_m).then_some(Reach {
                    distance_m: total as f32,
                    facility: best.1,
                })
            })
            .collect()
    }

    /// The usable facility snaps, as (piece, facility, along, egress), in facility order.
    fn seeds(&self, facilities: &[Option<Snap>]) -> Vec<Seed> {
        let mut seeds = Vec::new();
        for (f, snap) in facilities.iter().enumerate() {
            let (Some(s), Ok(f)) = (snap, u32::try_from(f)) else {
                continue;
            };
            if f == NONE {
                continue;
            }
            let Some(&len_m) = self.piece_len_m.get(s.piece as usize) else {
                continue;
            };
            if let Some((along_m, access_m)) = checked(s, len_m) {
                seeds.push((s.piece, f, along_m, access_m));
            }
        }
        seeds
    }

    /// Every (residence, facility) pair with a walk of at most `max_walk_m` metres
    /// (inclusive), with its length, by the same distance model as [`nearest`](Self::nearest):
    /// the least distance among a residence's pairs is its nearest facility's.
    ///
    /// One Dijkstra per facility, bounded by the walk, in parallel; each piece that a search
    /// reaches is read for the residences on it. Off-network facilities and residences (`None`)
    /// have no pairs; the table has one entry per element of `facilities`.
    ///
    /// # Units
    /// `max_walk_m` and the distances are metres.
    pub fn within(
        &self,
        facilities: &[Option<Snap>],
        demand: &[Option<Snap>],
        max_walk_m: f64,
    ) -> Pairs {
        self.within_on(facilities, &DemandByPiece::new(self, demand), max_walk_m)
    }

    pub(crate) fn within_on(
        &self,
        facilities: &[Option<Snap>],
        demand: &DemandByPiece,
        max_walk_m: f64,
    ) -> Pairs {
        if max_walk_m.is_nan() || max_walk_m < 0.0 {
            return Pairs::none(facilities.len());
        }
        let seeds = self.seeds(facilities);
        let mut lists: Vec<Vec<(u32, f64)>> = vec![Vec::new(); facilities.len()];
        let found: Vec<(u32, Vec<(u32, f64)>)> = seeds
            .par_iter()
            .map_init(
                || Scratch::new(self.nodes()),
                |scratch, seed| (seed.1, self.reach_of(seed, demand, max_walk_m, scratch)),
            )
            .collect();
        for (f, list) in found {
            lists[f as usize] = list;
        }
        Pairs::from_lists(lists)
    }

    /// Dijkstra from one facility's snap, bounded by `max_walk_m`: the distance of every node
    /// reached in `scratch.dist`, those nodes listed in `scratch.touched` (cleared first).
    fn search(
        &self,
        &(own_piece, _, f_along_m, egress_m): &Seed,
        max_walk_m: f64,
        scratch: &mut Scratch,
    ) {
        scratch.clear();
        let dist = &mut scratch.dist;
        let [u, v] = self.piece_nodes[own_piece as usize];
        let own_len_m = self.piece_len_m[own_piece as usize];
        let mut heap: BinaryHeap<Reverse<(u64, u32)>> = BinaryHeap::new();
        for (node, d) in [
            (u, egress_m + f_along_m),
            (v, egress_m + (own_len_m - f_along_m)),
        ] {
            let i = node as usize;
            if d <= max_walk_m && d < dist[i] {
                if dist[i].is_infinite() {
                    scratch.touched.push(node);
                }
                dist[i] = d;
                heap.push(Reverse((d.to_bits(), node)));
            }
        }
        while let Some(Reverse((bits, node))) = heap.pop() {
            let d = f64::from_bits(bits);
            let i = node as usize;
            if d != dist[i] {
                continue; // superseded
            }
            let (a, b) = (self.adj_start[i] as usize, self.adj_start[i + 1] as usize);
            for (&next, &len) in self.adj_node[a..b].iter().zip(&self.adj_len_m[a..b]) {
                let nd = d + len;
                let j = next as usize;
                if nd <= max_walk_m && nd < dist[j] {
                    if dist[j].is_infinite() {
                        scratch.touched.push(next);
                    }
                    dist[j] = nd;
                    heap.push(Reverse((nd.to_bits(), next)));
                }
            }
        }
    }

    /// Each piece a [`search`](Self::search) reached, once: the facility's own piece first
    /// (its residences may walk straight along it), then every other piece from its first end,
    /// or from its second when the first is unreached.
    fn for_each_reached_piece(
        &self,
        own_piece: u32,
        scratch: &Scratch,
        mut visit: impl FnMut(u32),
    ) {
        visit(own_piece);
        for &node in &scratch.touched {
            let i = node as usize;
            let (a, b) = (self.adj_start[i] as usize, self.adj_start[i + 1] as usize);
            for &piece in &self.adj_piece[a..b] {
                let [first, _] = self.piece_nodes[piece as usize];
                let from_first = first == node || scratch.dist[first as usize].is_infinite();
                if piece != own_piece && from_first {
                    visit(piece);
                }
            }
        }
    }

    /// The residences within `max_walk_m` of one facility, by a Dijkstra from its snap.
    fn reach_of(
        &self,
        seed: &Seed,
        demand: &DemandByPiece,
        max_walk_m: f64,
        scratch: &mut Scratch,
    ) -> Vec<(u32, f64)> {
        let &(own_piece, _, f_along_m, egress_m) = seed;
        self.search(seed, max_walk_m, scratch);
        let dist = &scratch.dist;
        let mut found = Vec::new();
        let read_piece = |piece: u32, found: &mut Vec<(u32, f64)>| {
            let [a, b] = self.piece_nodes[piece as usize];
            let (da, db) = (dist[a as usize], dist[b as usize]);
            let len_m = self.piece_len_m[piece as usize];
            for &(r, along_m, access_m) in demand.on(piece) {
                let along_m = along_m.clamp(0.0, len_m);
                let mut best = (da + along_m).min(db + (len_m - along_m));
                if piece == own_piece {
                    best = best.min(egress_m + (along_m - f_along_m).abs());
                }
                let total = best + access_m;
                if total <= max_walk_m {
                    found.push((r, total));
                }
            }
        };
        self.for_each_reached_piece(own_piece, scratch, |piece| read_piece(piece, &mut found));
        found
    }

    /// [`nearest`](Self::nearest) for several facility categories at once, in parallel: one
    /// result vector per category, in the order of `categories`.
    ///
    /// # Units
    /// `max_walk_m` and [`Reach::distance_m`] are metres.
    pub fn nearest_per_category(
        &self,
        categories: &[Vec<Option<Snap>>],
        demand: &[Option<Snap>],
        max_walk_m: f64,
    ) -> Vec<Vec<Option<Reach>>> {
        categories
            .par_iter()
            .map(|facilities| self.nearest(facilities, demand, max_walk_m))
            .collect()
    }

    /// Where the walk left after reaching a street point from `facilities` (walk minus egress
    /// minus street path, as [`nearest`](Self::nearest) measures it) is at least
    /// `min_left_m`: the street parts (piece, from, to: metres along the piece from its first
    /// end), and the facility snaps whose own left walk is below `min_left_m` but not negative
    /// (piece, along, left walk). Used to draw service areas (`crate::service_area`).
    pub(crate) fn street_reach(
        &self,
        facilities: &[Option<Snap>],
        max_walk_m: f64,
        min_left_m: f64,
    ) -> StreetReach {
        let seeds = self.seeds(facilities);
        let Some((mut reach, budget_m)) = Self::reach_start(&seeds, max_walk_m, min_left_m) else {
            return StreetReach::default();
        };
        if budget_m < 0.0 {
            return reach;
        }
        let (dist, _) = self.flood(&seeds, budget_m);
        let own = own_spans(&seeds, budget_m);
        reach.parts = (0..self.piece_nodes.len() as u32)
            .into_par_iter()
            .flat_map_iter(|piece| {
                let mut parts = Vec::new();
                self.piece_parts(piece, &dist, budget_m, &own, &mut parts);
                parts
            })
            .collect();
        reach
    }

    /// [`street_reach`](Self::street_reach) of each facility alone, in parallel: one search
    /// bounded by the walk per facility, reading only the pieces it reached, instead of a
    /// pass over the whole network each.
    pub(crate) fn street_reach_each(
        &self,
        facilities: &[Option<Snap>],
        max_walk_m: f64,
        min_left_m: f64,
    ) -> Vec<StreetReach> {
        facilities
            .par_iter()
            .map_init(
                || Scratch::new(self.nodes()),
                |scratch, snap| {
                    let seeds = self.seeds(std::slice::from_ref(snap));
                    let Some((mut reach, budget_m)) =
                        Self::reach_start(&seeds, max_walk_m, min_left_m)
                    else {
                        return StreetReach::default();
                    };
                    let Some(seed) = seeds.first().filter(|_| budget_m >= 0.0) else {
                        return reach;
                    };
                    self.search(seed, budget_m, scratch);
                    let own = own_spans(&seeds, budget_m);
                    self.for_each_reached_piece(seed.0, scratch, |piece| {
                        self.piece_parts(piece, &scratch.dist, budget_m, &own, &mut reach.parts)
                    });
                    reach
                },
            )
            .collect()
    }

    /// The start of a street reach: the snaps with less walk left than `min_left_m` (the ends),
    /// and the street budget (walk minus `min_left_m`); `None` for a walk that is not a
    /// distance.
    fn reach_start(seeds: &[Seed], max_walk_m: f64, min_left_m: f64) -> Option<(StreetReach, f64)> {
        if max_walk_m.is_nan() || min_left_m.is_nan() || max_walk_m < 0.0 || min_left_m < 0.0 {
            return None;
        }
        let budget_m = max_walk_m - min_left_m;
        let mut reach = StreetReach::default();
        for &(piece, _, along_m, egress_m) in seeds {
            if egress_m > budget_m && egress_m <= max_walk_m {
                reach.ends.push((piece, along_m, max_walk_m - egress_m));
            }
        }
        Some((reach, budget_m))
    }

    /// The parts of `piece` within `budget_m` (`dist`: the nodes' distances; `own`: the spans
    /// around facility snaps, sorted by piece), merged, appended to `parts`.
    fn piece_parts(
        &self,
        piece: u32,
        dist: &[f64],
        budget_m: f64,
        own: &[(u32, f64, f64)],
        parts: &mut Vec<(u32, f64, f64)>,
    ) {
        let [u, v] = self.piece_nodes[piece as usize];
        let len_m = self.piece_len_m[piece as usize];
        let mut spans: Vec<(f64, f64)> = Vec::new();
        let (du, dv) = (dist[u as usize], dist[v as usize]);
        if du <= budget_m {
            spans.push((0.0, (budget_m - du).min(len_m)));
        }
        if dv <= budget_m {
            spans.push(((len_m - (budget_m - dv)).max(0.0), len_m));
        }
        let first = own.partition_point(|o| o.0 < piece);
        for &(_, a, b) in own[first..].iter().take_while(|o| o.0 == piece) {
            spans.push((a.max(0.0), b.min(len_m)));
        }
        spans.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let start = parts.len();
        for (a, b) in spans {
            match parts[start..].last_mut() {
                Some(last) if a <= last.2 => last.2 = last.2.max(b),
                _ => parts.push((piece, a, b)),
            }
        }
    }

    /// The position of every node.
    pub(crate) fn node_positions(&self) -> &[LonLat] {
        &self.node_lonlat
    }

    /// The two end nodes of a piece, first end first; `None` out of range.
    pub(crate) fn piece_node_pair(&self, piece: u32) -> Option<[u32; 2]> {
        self.piece_nodes.get(piece as usize).copied()
    }

    /// Multi-source Dijkstra bounded by `max_walk_m`: for every node, the shortest distance to
    /// the nearest facility (ties: lowest index) and that facility, or infinity and [`NONE`].
    fn flood(&self, on_piece: &[Seed], max_walk_m: f64) -> (Vec<f64>, Vec<u32>) {
        let n = self.nodes();
        let mut dist = vec![f64::INFINITY; n];
        let mut from = vec![NONE; n];
        let mut heap: BinaryHeap<Reverse<(u64, u32, u32)>> = BinaryHeap::new();
        for &(piece, f, along_m, egress_m) in on_piece {
            let [u, v] = self.piece_nodes[piece as usize];
            let len = self.piece_len_m[piece as usize];
            for (node, d) in [(u, egress_m + along_m), (v, egress_m + (len - along_m))] {
                let i = node as usize;
                if d <= max_walk_m && better(d, f, dist[i], from[i]) {
                    dist[i] = d;
                    from[i] = f;
                    heap.push(Reverse((d.to_bits(), f, node)));
                }
            }
        }
        // Distances are non-negative, so their bit patterns sort like the numbers.
        while let Some(Reverse((bits, f, node))) = heap.pop() {
            let d = f64::from_bits(bits);
            let i = node as usize;
            if d != dist[i] || f != from[i] {
                continue; // superseded
            }
            let (a, b) = (self.adj_start[i] as usize, self.adj_start[i + 1] as usize);
            for (&next, &len) in self.adj_node[a..b].iter().zip(&self.adj_len_m[a..b]) {
                let nd = d + len;
                let j = next as usize;
                if nd <= max_walk_m && better(nd, f, dist[j], from[j]) {
                    dist[j] = nd;
                    from[j] = f;
                    heap.push(Reverse((nd.to_bits(), f, next)));
                }
            }
        }
        (dist, from)
    }
}

/// The part of each facility's own piece within `budget_m` around its snap (piece, from, to),
/// sorted by piece.
fn own_spans(seeds: &[Seed], budget_m: f64) -> Vec<(u32, f64, f64)> {
    let mut own: Vec<(u32, f64, f64)> = seeds
        .iter()
        .filter(|s| s.3 <= budget_m)
        .map(|&(piece, _, along_m, egress_m)| {
            let left = budget_m - egress_m;
            (piece, along_m - left, along_m + left)
        })
        .collect();
    own.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    own
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertex_keys_merge_the_same_place() {
        let k = |lon, lat| vertex_key(LonLat::unchecked(lon, lat));
        assert_eq!(k(0.0, 10.0), k(-0.0, 10.0));
        assert_eq!(k(180.0, 10.0), k(-180.0, 10.0));
        assert_eq!(k(12.0, 90.0), k(-77.0, 90.0));
        assert_ne!(k(12.0, 10.0), k(12.0, 10.000_000_1));
        assert_eq!(k(f64::NAN, 0.0), None);
        assert_eq!(k(0.0, 91.0), None);
    }

    /// Each facility's reach alone, by its own bounded search over the pieces it reached, is
    /// the whole-network pass of `street_reach` with that facility only.
    #[test]
    fn street_reach_each_matches_street_reach_of_each_facility() {
        use rand::RngExt as _;
        let mut rng = lifecircle_synth::rng(11);
        let at = |x: f64, y: f64| LonLat::unchecked(24.9 + x * 1.8e-5, 60.17 + y * 9e-6);
        let mut lines = Vec::new();
        for k in 0..12 {
            let c = k as f64 * 80.0;
            let mut jitter = || rng.random::<f64>() * 20.0;
            let row: Vec<LonLat> = (0..12).map(|m| at(m as f64 * 80.0, c + jitter())).collect();
            let col: Vec<LonLat> = (0..12).map(|m| at(c + jitter(), m as f64 * 80.0)).collect();
            lines.push(row);
            lines.push(col);
        }
        let net = StreetNetwork::from_lines(&lines);
        let places: Vec<LonLat> = (0..25)
            .map(|_| {
                at(
                    rng.random::<f64>() * 1000.0 - 50.0,
                    rng.random::<f64>() * 1000.0 - 50.0,
                )
            })
            .collect();
        let snaps = net.snap_all(&places, 120.0);
        assert!(snaps.iter().filter(|s| s.is_some()).count() > 15);
        let sorted = |mut r: StreetReach| {
            r.parts.sort_by(|a, b| a.partial_cmp(b).unwrap());
            r.ends.sort_by(|a, b| a.partial_cmp(b).unwrap());
            (r.parts, r.ends)
        };
        for (walk_m, min_left_m) in [(400.0, 120.0), (300.0, 0.0), (100.0, 90.0)] {
            let each = net.street_reach_each(&snaps, walk_m, min_left_m);
            assert_eq!(each.len(), snaps.len());
            let mut parts = 0;
            for (snap, got) in snaps.iter().zip(each) {
                let want = net.street_reach(std::slice::from_ref(snap), walk_m, min_left_m);
                parts += want.parts.len();
                assert_eq!(sorted(got), sorted(want), "{snap:?} walk {walk_m}");
            }
            assert!(parts > 0);
        }
    }

    #[test]
    fn better_breaks_ties_by_index() {
        assert!(better(1.0, 5, 2.0, 0));
        assert!(better(1.0, 1, 1.0, 2));
        assert!(!better(1.0, 2, 1.0, 2));
        assert!(better(1.0, 7, f64::INFINITY, NONE));
    }
}
