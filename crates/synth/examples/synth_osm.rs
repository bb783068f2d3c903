//! Generate a seeded synthetic OpenStreetMap city as OPL text, for the `extract` benchmark.
//!
//! ```text
//! cargo run --release --example synth_osm -- [--blocks 300] [--seed 42] [--population GRID.geojson] \
//!     | osmium cat -F opl - -o city.osm.pbf
//! ```
//!
//! OPL (osmium's one-line-per-object text format) goes to stdout, or to `--out FILE`; `osmium cat`
//! (Debian package `osmium-tool`) turns it into .osm.pbf. Counts go to stderr. The same seed and
//! block count give the same file.
//!
//! # Layout
//! A square grid of `--blocks` x `--blocks` city blocks of 120 m around Helsinki's latitude.
//! Streets run along every grid line, one way per block side, with a node every 15 m; their
//! `highway` value depends on the line (motorway, primary with a foot-and-cycle path beside it,
//! secondary, tertiary, residential). Each block is:
//!
//! - **residential** (68 %): `landuse=residential` (a closed way, or in 10 % of blocks a
//!   multipolygon relation of two outer ways and an inner one), up to 16 buildings of 4-13 nodes:
//!   `building=yes` (a home because of the land use), apartments, houses, ..., garages, shops; a
//!   few kindergartens and nursing homes as building polygons, and a few apartment blocks with a
//!   courtyard as multipolygon relations;
//! - **commercial** (17 %): `building=yes|commercial|retail|office|...` outside residential land
//!   use, with restaurant, cafe, pharmacy, clinic, doctor, post office, shop, ... nodes;
//! - **park** (8 %): `leisure=park`, a footway and a path across, playground nodes and trees;
//! - **civic** (7 %): a school polygon (levels tagged in several ways, or only by name, or not at
//!   all), a library node, a community centre, a hospital or a townhall.
//!
//! Building vertices are jittered by up to 0.3 m, so some footprints with close vertices have
//! a small spike that crosses a neighbouring edge, as real data does.
//!
//! Districts of 15 x 15 blocks are `boundary=administrative` relations (`admin_level=10`, with
//! shared member ways along the grid lines), grouped into `admin_level=9` ones of 5 x 5 districts
//! and one `admin_level=8` city; each district has a `place=suburb` node at its centre.
//!
//! With `--population FILE`, a population grid of 500 m cells over the city is written as GeoJSON
//! polygons with a `population` property (10 % of cells empty).
//!
//! Nodes come first, then ways, then relations, each in increasing id order, as in a real
//! extract. Ways are staged in a temporary file while the nodes are written.

use std::{
    fs::File,
    io::{self, BufWriter, Read, Seek, Write},
    path::PathBuf,
    process::ExitCode,
    time::Instant,
};

use clap::Parser;
use lifecircle_synth::{rng_stream, unif, Rng};
use rand::RngExt;

/// Generate a seeded synthetic OpenStreetMap city as OPL text (for `osmium cat -F opl`).
#[derive(Parser)]
#[command(name = "synth_osm")]
struct Args {
    /// Blocks per side: the city has blocks^2 blocks of 120 m; a multiple of 75 keeps every
    /// admin level complete (300 gives a .osm.pbf of about 100 MB).
    #[arg(long, default_value_t = 300)]
    blocks: usize,
    /// Random seed: the same seed gives the same city.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Write the OPL here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write a population grid (GeoJSON, 500 m cells) here.
    #[arg(long, value_name = "GRID.geojson")]
    population: Option<PathBuf>,
}

/// Side of a block, street centre to street centre, metres.
const BLOCK_M: f64 = 120.0;
/// Street nodes between two intersections (one every 15 m).
const STREET_INNER: usize = 7;
/// Blocks per district side (`admin_level=10`).
const DISTRICT: usize = 15;
/// Districts per `admin_level=9` side.
const REGION: usize = 5;
/// Population grid cell side, metres.
const CELL_M: f64 = 500.0;
/// South-west corner of the city.
const ORIGIN: (f64, f64) = (24.60, 60.05);
const M_PER_DEG_LAT: f64 = 111_420.0;
const M_PER_DEG_LON: f64 = 55_660.0;

/// A tag list.
type Tags<'a> = [(&'a str, &'a str)];

fn pick<'a>(rng: &mut Rng, values: &[&'a str]) -> &'a str {
    values[rng.random_range(0..values.len())]
}

/// The id of the `seq`-th node or way (from 1): increasing, with gaps of 1 to 7 like the ids
/// of a real extract (whose ids are a sample of the planet's), so that ids do not compress to
/// nothing.
fn spread(seq: i64) -> i64 {
    let mut z = (seq as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    seq * 4 + ((z ^ (z >> 31)) & 3) as i64
}

/// Writes OSM elements as OPL, counting them. Nodes go to `nodes` at once, ways to a temporary
/// file and relations to memory, so that each kind is in increasing id order.
struct Osm<W: Write> {
    nodes: W,
    ways: BufWriter<File>,
    relations: Vec<u8>,
    /// Sequence numbers of the next node and way (see [`spread`]) and the next relation id.
    next_node: i64,
    next_way: i64,
    next_relation: i64,
    meta: Rng,
    /// The current edit's changeset and timestamp, and how many more elements it has.
    edit: Vec<u8>,
    run_left: u32,
    line: Vec<u8>,
}

impl<W: Write> Osm<W> {
    fn new(nodes: W, seed: u64) -> io::Result<Self> {
        Ok(Self {
            nodes,
            ways: BufWriter::with_capacity(1 << 20, tempfile::tempfile()?),
            relations: Vec::new(),
            next_node: 1,
            next_way: 1,
            next_relation: 1,
            meta: rng_stream(seed, 99, 0),
            edit: Vec::new(),
            run_left: 0,
            line: Vec::with_capacity(1024),
        })
    }

    /// Version, changeset and timestamp, like a real extract without user names. Neighbouring
    /// elements come in runs from the same edit (changeset and timestamp), as mapped data does.
    fn start(&mut self, kind: char, id: i64) {
        let m = &mut self.meta;
        if self.run_left == 0 {
            self.run_left = m.random_range(1..40u32);
            let changeset = m.random_range(1_000_000..150_000_000u64);
            let (year, month, day) = (
                m.random_range(2008..2025u32),
                m.random_range(1..13u32),
                m.random_range(1..29u32),
            );
            let (h, min, s) = (
                m.random_range(0..24u32),
                m.random_range(0..60u32),
                m.random_range(0..60u32),
            );
            self.edit.clear();
            let _ = write!(
                self.edit,
                "c{changeset} t{year}-{month:02}-{day:02}T{h:02}:{min:02}:{s:02}Z"
            );
        }
        self.run_left -= 1;
        let version = 1 + (m.random::<f64>().powi(3) * 20.0) as u32;
        self.line.clear();
        let _ = write!(self.line, "{kind}{id} v{version} dV ");
        self.line.extend_from_slice(&self.edit);
    }

    fn tags(&mut self, tags: &Tags<'_>) {
        self.line.extend_from_slice(b" T");
        for (i, (k, v)) in tags.iter().enumerate() {
            if i > 0 {
                self.line.push(b',');
            }
            escape(&mut self.line, k);
            self.line.push(b'=');
            escape(&mut self.line, v);
        }
    }

    /// A node at local position `p` (metres from the south-west corner); its id.
    fn node(&mut self, p: (f64, f64), tags: &Tags<'_>) -> io::Result<i64> {
        let id = spread(self.next_node);
        self.next_node += 1;
        self.start('n', id);
        self.tags(tags);
        let lon = ((ORIGIN.0 + p.0 / M_PER_DEG_LON) * 1e7).round() as i64;
        let lat = ((ORIGIN.1 + p.1 / M_PER_DEG_LAT) * 1e7).round() as i64;
        self.line.extend_from_slice(b" x");
        fixed7(&mut self.line, lon);
        self.line.extend_from_slice(b" y");
        fixed7(&mut self.line, lat);
        self.line.push(b'\n');
        self.nodes.write_all(&self.line)?;
        Ok(id)
    }

    /// Nodes along `points`; their ids.
    fn nodes(&mut self, points: &[(f64, f64)]) -> io::Result<Vec<i64>> {
        points.iter().map(|&p| self.node(p, &[])).collect()
    }

    fn way(&mut self, tags: &Tags<'_>, refs: &[i64]) -> io::Result<i64> {
        let id = spread(self.next_way);
        self.next_way += 1;
        self.start('w', id);
        self.tags(tags);
        self.line.extend_from_slice(b" N");
        for (i, r) in refs.iter().enumerate() {
            if i > 0 {
                self.line.push(b',');
            }
            let _ = write!(self.line, "n{r}");
        }
        self.line.push(b'\n');
        self.ways.write_all(&self.line)?;
        Ok(id)
    }

    /// A closed way through new nodes at `ring` (not repeating the first point).
    fn ring_way(&mut self, tags: &Tags<'_>, ring: &[(f64, f64)]) -> io::Result<i64> {
        let mut refs = self.nodes(ring)?;
        refs.push(refs[0]);
        self.way(tags, &refs)
    }

    /// A relation with way members `(id, role)`.
    fn relation(&mut self, tags: &Tags<'_>, members: &[(i64, &str)]) -> i64 {
        let id = self.next_relation;
        self.next_relation += 1;
        self.start('r', id);
        self.tags(tags);
        self.line.extend_from_slice(b" M");
        for (i, (m, role)) in members.iter().enumerate() {
            if i > 0 {
                self.line.push(b',');
            }
            let _ = write!(self.line, "w{m}@");
            escape(&mut self.line, role);
        }
        self.line.push(b'\n');
        self.relations.extend_from_slice(&self.line);
        id
    }

    /// Append the ways and relations after the nodes.
    fn finish(mut self) -> io::Result<()> {
        let mut ways = self.ways.into_inner().map_err(|e| e.into_error())?;
        ways.rewind()?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = ways.read(&mut buf)?;
            if n == 0 {
                break;
            }
            self.nodes.write_all(&buf[..n])?;
        }
        self.nodes.write_all(&self.relations)?;
        self.nodes.flush()
    }
}

/// OPL escaping: anything but letters, digits and a few safe marks is `%hex%`.
fn escape(out: &mut Vec<u8>, s: &str) {
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | ';' | '-' | '/' | '*') {
            out.push(c as u8);
        } else {
            let _ = write!(out, "%{:x}%", c as u32);
        }
    }
}

/// Degrees times 10^7 as a decimal with 7 places.
fn fixed7(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    let a = v.unsigned_abs();
    let _ = write!(out, "{}.{:07}", a / 10_000_000, a % 10_000_000);
}

#[derive(Default)]
struct Counts {
    buildings: usize,
    facility_elements: usize,
    street_ways: usize,
    districts: usize,
}

/// The street grid: node ids and positions of intersections and street nodes are fixed by the
/// grid, so boundary ways can share them.
struct Grid {
    n: usize,
    seed: u64,
}

impl Grid {
    /// Intersections per side.
    fn side(&self) -> usize {
        self.n + 1
    }
    fn intersection_id(&self, i: usize, j: usize) -> i64 {
        spread(1 + (i * self.side() + j) as i64)
    }
    fn intersection_pos(&self, i: usize, j: usize) -> (f64, f64) {
        let mut rng = rng_stream(self.seed, 1, (i * self.side() + j) as u64);
        (
            i as f64 * BLOCK_M + unif(&mut rng, -3.0, 3.0),
            j as f64 * BLOCK_M + unif(&mut rng, -3.0, 3.0),
        )
    }
    /// Horizontal segments (i, j) -> (i + 1, j) first, then vertical (i, j) -> (i, j + 1).
    fn segment_index(&self, horizontal: bool, i: usize, j: usize) -> usize {
        if horizontal {
            i * self.side() + j
        } else {
            self.n * self.side() + i * self.n + j
        }
    }
    fn segment_count(&self) -> usize {
        2 * self.n * self.side()
    }
    fn inner_ids(&self, horizontal: bool, i: usize, j: usize) -> impl Iterator<Item = i64> {
        let base = 1
            + (self.side() * self.side()) as i64
            + (self.segment_index(horizontal, i, j) * STREET_INNER) as i64;
        (base..base + STREET_INNER as i64).map(spread)
    }
    /// The segment's ends.
    fn ends(&self, horizontal: bool, i: usize, j: usize) -> ((usize, usize), (usize, usize)) {
        if horizontal {
            ((i, j), (i + 1, j))
        } else {
            ((i, j), (i, j + 1))
        }
    }
    /// All node ids of a segment, ends included.
    fn segment_refs(&self, horizontal: bool, i: usize, j: usize) -> Vec<i64> {
        let (a, b) = self.ends(horizontal, i, j);
        let mut refs = vec![self.intersection_id(a.0, a.1)];
        refs.extend(self.inner_ids(horizontal, i, j));
        refs.push(self.intersection_id(b.0, b.1));
        refs
    }
    /// The node ids along grid line `line` from grid point `from` to `to` (`from < to`).
    fn line_refs(&self, horizontal: bool, line: usize, from: usize, to: usize) -> Vec<i64> {
        let mut refs = Vec::new();
        for k in from..to {
            let (i, j) = if horizontal { (k, line) } else { (line, k) };
            let seg = self.segment_refs(horizontal, i, j);
            let skip = usize::from(!refs.is_empty());
            refs.extend_from_slice(&seg[skip..]);
        }
        refs
    }
}

/// The `highway` value of grid line `k`.
fn line_highway(k: usize) -> &'static str {
    match k {
        _ if k % 100 == 50 => "motorway",
        _ if k.is_multiple_of(10) => "primary",
        _ if k.is_multiple_of(5) => "secondary",
        _ if k % 5 == 2 => "tertiary",
        _ => "residential",
    }
}

fn streets<W: Write>(osm: &mut Osm<W>, grid: &Grid, counts: &mut Counts) -> io::Result<()> {
    let side = grid.side();
    for i in 0..side {
        for j in 0..side {
            let mut rng = rng_stream(grid.seed, 2, (i * side + j) as u64);
            let tags: &Tags<'_> = match rng.random_range(0..10) {
                0 => &[("highway", "traffic_signals")],
                1 | 2 => &[("highway", "crossing"), ("crossing", "marked")],
                _ => &[],
            };
            let id = osm.node(grid.intersection_pos(i, j), tags)?;
            debug_assert_eq!(id, grid.intersection_id(i, j));
        }
    }
    let mut segments = Vec::with_capacity(grid.segment_count());
    for i in 0..grid.n {
        for j in 0..side {
            segments.push((true, i, j));
        }
    }
    for i in 0..side {
        for j in 0..grid.n {
            segments.push((false, i, j));
        }
    }
    // Street nodes first (their ids are fixed by the grid), then the ways.
    for &(horizontal, i, j) in &segments {
        let (a, b) = grid.ends(horizontal, i, j);
        let (pa, pb) = (
            grid.intersection_pos(a.0, a.1),
            grid.intersection_pos(b.0, b.1),
        );
        let mut rng = rng_stream(grid.seed, 3, grid.segment_index(horizontal, i, j) as u64);
        let mut ids = grid.inner_ids(horizontal, i, j);
        for k in 1..=STREET_INNER {
            let t = k as f64 / (STREET_INNER + 1) as f64;
            let p = (
                pa.0 + t * (pb.0 - pa.0) + unif(&mut rng, -0.8, 0.8),
                pa.1 + t * (pb.1 - pa.1) + unif(&mut rng, -0.8, 0.8),
            );
            let id = osm.node(p, &[])?;
            debug_assert_eq!(Some(id), ids.next());
        }
    }
    for &(horizontal, i, j) in &segments {
        let line = if horizontal { j } else { i };
        let highway = line_highway(line);
        let name = format!("{} {line}", if horizontal { "Katu" } else { "Tie" });
        let mut rng = rng_stream(grid.seed, 4, grid.segment_index(horizontal, i, j) as u64);
        let mut tags: Vec<(&str, &str)> = vec![("highway", highway)];
        if highway != "motorway" {
            tags.push(("name", &name));
        }
        match highway {
            "motorway" => tags.extend([("maxspeed", "100"), ("lanes", "3"), ("oneway", "yes")]),
            "primary" => tags.extend([("maxspeed", "50"), ("lanes", "4"), ("sidewalk", "both")]),
            "secondary" | "tertiary" => tags.push(("maxspeed", "40")),
            _ => tags.push(("maxspeed", "30")),
        }
        tags.push((
            "surface",
            pick(&mut rng, &["asphalt", "asphalt", "paving_stones"]),
        ));
        if rng.random_range(0..50) == 0 {
            tags.push(("foot", "no"));
        }
        tags.sort_unstable();
        osm.way(&tags, &grid.segment_refs(horizontal, i, j))?;
        counts.street_ways += 1;
        if highway == "primary" {
            // A shared foot-and-cycle path beside the road, on nodes of its own.
            let (a, b) = grid.ends(horizontal, i, j);
            let (pa, pb) = (
                grid.intersection_pos(a.0, a.1),
                grid.intersection_pos(b.0, b.1),
            );
            let off = if horizontal { (0.0, 7.0) } else { (7.0, 0.0) };
            let points: Vec<(f64, f64)> = (0..=STREET_INNER + 1)
                .map(|k| {
                    let t = k as f64 / (STREET_INNER + 1) as f64;
                    (
                        pa.0 + t * (pb.0 - pa.0) + off.0,
                        pa.1 + t * (pb.1 - pa.1) + off.1,
                    )
                })
                .collect();
            let refs = osm.nodes(&points)?;
            osm.way(
                &[
                    ("foot", "designated"),
                    ("highway", "cycleway"),
                    ("segregated", "yes"),
                ],
                &refs,
            )?;
            counts.street_ways += 1;
        }
    }
    Ok(())
}

/// A building footprint of 4-13 nodes: a slightly rotated rectangle of half sides
/// `hw`, `hh` around `c`, with extra vertices along its sides.
fn footprint(rng: &mut Rng, c: (f64, f64), hw: f64, hh: f64) -> Vec<(f64, f64)> {
    let corners = rng.random_range(4..=13usize);
    let extra = corners - 4;
    let angle = unif(rng, -0.2, 0.2);
    let (s, co) = angle.sin_cos();
    let rect = [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)];
    let mut points = Vec::with_capacity(corners);
    for side in 0..4 {
        let (a, b) = (rect[side], rect[(side + 1) % 4]);
        points.push(a);
        let here = extra / 4 + usize::from(side < extra % 4);
        let mut ts: Vec<f64> = (0..here).map(|_| unif(rng, 0.1, 0.9)).collect();
        ts.sort_by(f64::total_cmp);
        for t in ts {
            points.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
        }
    }
    points
        .into_iter()
        .map(|(x, y)| {
            let (x, y) = (x + unif(rng, -0.3, 0.3), y + unif(rng, -0.3, 0.3));
            (c.0 + x * co - y * s, c.1 + x * s + y * co)
        })
        .collect()
}

fn square(c: (f64, f64), half: f64) -> Vec<(f64, f64)> {
    vec![
        (c.0 - half, c.1 - half),
        (c.0 + half, c.1 - half),
        (c.0 + half, c.1 + half),
        (c.0 - half, c.1 + half),
    ]
}

#[derive(Clone, Copy, PartialEq)]
enum BlockKind {
    Residential,
    Commercial,
    Park,
    Civic,
}

const NAMES: [&str; 12] = [
    "Aalto", "Koivu", "Mänty", "Kallio", "Ranta", "Puisto", "Linna", "Lehto", "Niemi", "Mäki",
    "Harju", "Salo",
];

fn block<W: Write>(
    osm: &mut Osm<W>,
    grid: &Grid,
    bi: usize,
    bj: usize,
    counts: &mut Counts,
) -> io::Result<()> {
    let mut rng = rng_stream(grid.seed, 5, (bi * grid.n + bj) as u64);
    let x0 = bi as f64 * BLOCK_M;
    let y0 = bj as f64 * BLOCK_M;
    let centre = (x0 + BLOCK_M / 2.0, y0 + BLOCK_M / 2.0);
    let r: f64 = rng.random();
    let kind = if r < 0.68 {
        BlockKind::Residential
    } else if r < 0.85 {
        BlockKind::Commercial
    } else if r < 0.93 {
        BlockKind::Park
    } else {
        BlockKind::Civic
    };
    let name = format!(
        "{} {}",
        NAMES[(bi * 7 + bj) % NAMES.len()],
        bi * grid.n + bj
    );
    let street = format!("Katu {bj}");
    // The lots: a 4 x 4 grid of 24 m lots inside the block's 96 m interior.
    let lot = |k: usize| {
        (
            x0 + 12.0 + 24.0 * (k % 4) as f64 + 12.0,
            y0 + 12.0 + 24.0 * (k / 4) as f64 + 12.0,
        )
    };
    match kind {
        BlockKind::Residential => {
            let outline = square(centre, 50.0);
            if rng.random_range(0..10) == 0 {
                let ids = osm.nodes(&outline)?;
                let a = osm.way(&[], &[ids[0], ids[1], ids[2]])?;
                let b = osm.way(&[], &[ids[2], ids[3], ids[0]])?;
                let inner = osm.ring_way(&[], &square(centre, 4.0))?;
                osm.relation(
                    &[
                        ("landuse", "residential"),
                        ("name", &name),
                        ("type", "multipolygon"),
                    ],
                    &[(a, "outer"), (b, "outer"), (inner, "inner")],
                );
            } else {
                osm.ring_way(&[("landuse", "residential"), ("name", &name)], &outline)?;
            }
            for k in 0..16 {
                if rng.random_range(0..14) == 0 {
                    continue;
                }
                let c = lot(k);
                let number = (k + 1).to_string();
                let levels = rng.random_range(1..13u32).to_string();
                let r: f64 = rng.random();
                let mut tags: Vec<(&str, &str)> = Vec::new();
                if r < 0.01 {
                    tags.extend([
                        ("amenity", "kindergarten"),
                        ("building", "kindergarten"),
                        ("name", "Päiväkoti"),
                    ]);
                    counts.facility_elements += 1;
                } else if r < 0.015 {
                    tags.extend([
                        ("amenity", "nursing_home"),
                        ("building", "yes"),
                        ("social_facility:for", "senior"),
                    ]);
                    counts.facility_elements += 1;
                } else if r < 0.02 {
                    // An apartment block around a courtyard: a multipolygon relation.
                    let outer = osm.ring_way(&[], &footprint(&mut rng, c, 10.0, 10.0))?;
                    let inner = osm.ring_way(&[], &square(c, 3.0))?;
                    osm.relation(
                        &[
                            ("building", "apartments"),
                            ("building:levels", &levels),
                            ("type", "multipolygon"),
                        ],
                        &[(outer, "outer"), (inner, "inner")],
                    );
                    counts.buildings += 1;
                    continue;
                } else {
                    let building = pick(
                        &mut rng,
                        &[
                            "yes",
                            "yes",
                            "yes",
                            "apartments",
                            "apartments",
                            "residential",
                            "house",
                            "house",
                            "detached",
                            "terrace",
                            "semidetached_house",
                            "garage",
                            "shed",
                        ],
                    );
                    tags.push(("building", building));
                    if building == "yes" && rng.random_range(0..25) == 0 {
                        tags.push(("shop", "convenience"));
                    }
                }
                match rng.random_range(0..20) {
                    0..=9 => tags.push(("building:levels", &levels)),
                    10 => tags.push(("building:levels", "2;3")),
                    11 => tags.push(("building:levels", "many")),
                    _ => {}
                }
                if rng.random_range(0..5) < 3 {
                    tags.extend([
                        ("addr:housenumber", number.as_str()),
                        ("addr:street", street.as_str()),
                    ]);
                }
                tags.sort_unstable();
                let hw = unif(&mut rng, 4.0, 10.0);
                let hh = unif(&mut rng, 4.0, 10.0);
                osm.ring_way(&tags, &footprint(&mut rng, c, hw, hh))?;
                counts.buildings += 1;
            }
            if rng.random_range(0..3) == 0 {
                let path = osm.nodes(&[(x0 + 24.0, y0 + 12.0), (x0 + 24.0, y0 + 108.0)])?;
                osm.way(&[("highway", pick(&mut rng, &["footway", "path"]))], &path)?;
            }
        }
        BlockKind::Commercial => {
            osm.ring_way(&[("landuse", "commercial")], &square(centre, 50.0))?;
            for k in 0..16 {
                if rng.random_range(0..8) == 0 {
                    continue;
                }
                let c = lot(k);
                let building = pick(
                    &mut rng,
                    &[
                        "yes",
                        "yes",
                        "commercial",
                        "retail",
                        "office",
                        "industrial",
                        "warehouse",
                    ],
                );
                let levels = rng.random_range(1..9u32).to_string();
                let mut tags = vec![("building", building), ("building:levels", &levels)];
                if rng.random_range(0..30) == 0 {
                    tags.extend([("amenity", "clinic"), ("healthcare", "clinic")]);
                    counts.facility_elements += 1;
                }
                tags.sort_unstable();
                let hw = unif(&mut rng, 6.0, 11.0);
                let hh = unif(&mut rng, 6.0, 11.0);
                osm.ring_way(&tags, &footprint(&mut rng, c, hw, hh))?;
                counts.buildings += 1;
                // Points of interest in front of the building.
                for _ in 0..rng.random_range(0..3) {
                    let p = (c.0 + unif(&mut rng, -8.0, 8.0), c.1 - 11.5);
                    let shop = pick(&mut rng, &["supermarket", "clothes", "bakery", "kiosk"]);
                    let tags: &Tags<'_> = match rng.random_range(0..14) {
                        0..=2 => &[("amenity", "restaurant"), ("cuisine", "pizza")],
                        3 | 4 => &[("amenity", "cafe")],
                        5 => &[("amenity", "fast_food")],
                        6 => &[("amenity", "pharmacy"), ("healthcare", "pharmacy")],
                        7 => &[("amenity", "doctors"), ("healthcare", "doctor")],
                        8 => &[("amenity", "dentist")],
                        9 => &[("amenity", "post_office")],
                        10 => &[("amenity", "bank")],
                        _ => &[("shop", shop)],
                    };
                    let mut tags = tags.to_vec();
                    tags.extend([
                        ("name", name.as_str()),
                        ("opening_hours", "Mo-Fr 08:00-20:00"),
                    ]);
                    tags.sort_unstable();
                    if !tags.iter().any(|(k, v)| *k == "shop" || *v == "bank") {
                        counts.facility_elements += 1;
                    }
                    osm.node(p, &tags)?;
                }
            }
            if rng.random_range(0..4) == 0 {
                let path = osm.nodes(&[(x0 + 12.0, y0 + 60.0), (x0 + 108.0, y0 + 60.0)])?;
                osm.way(&[("access", "private"), ("highway", "service")], &path)?;
            }
        }
        BlockKind::Park => {
            osm.ring_way(
                &[("leisure", "park"), ("name", &name)],
                &footprint(&mut rng, centre, 48.0, 48.0),
            )?;
            let diagonal: Vec<(f64, f64)> = (0..=8)
                .map(|k| {
                    let t = k as f64 / 8.0;
                    (x0 + 12.0 + 96.0 * t, y0 + 12.0 + 96.0 * t)
                })
                .collect();
            let ids = osm.nodes(&diagonal)?;
            osm.way(&[("highway", "footway"), ("surface", "gravel")], &ids)?;
            let ids = osm.nodes(&[(x0 + 12.0, y0 + 100.0), (x0 + 108.0, y0 + 20.0)])?;
            osm.way(&[("highway", "path")], &ids)?;
            for _ in 0..rng.random_range(0..3) {
                let p = (
                    x0 + unif(&mut rng, 15.0, 105.0),
                    y0 + unif(&mut rng, 15.0, 105.0),
                );
                osm.node(p, &[("leisure", "playground")])?;
                counts.facility_elements += 1;
            }
            if rng.random_range(0..4) == 0 {
                osm.ring_way(
                    &[("leisure", "pitch"), ("sport", "soccer")],
                    &square((x0 + 80.0, y0 + 40.0), 12.0),
                )?;
                counts.facility_elements += 1;
            }
            for _ in 0..rng.random_range(10..40) {
                let p = (
                    x0 + unif(&mut rng, 15.0, 105.0),
                    y0 + unif(&mut rng, 15.0, 105.0),
                );
                osm.node(p, &[("natural", "tree")])?;
            }
        }
        BlockKind::Civic => {
            let school_name = match rng.random_range(0..4) {
                0 => format!("{name} Primary School"),
                1 => format!("{name} High School"),
                2 => format!("{name} peruskoulu"),
                _ => format!("{name} koulu"),
            };
            let level: &Tags<'_> = match rng.random_range(0..6) {
                0 => &[("isced:level", "1")],
                1 => &[("isced:level", "2-3")],
                2 => &[("school", "primary")],
                3 => &[("grades", "1-9")],
                _ => &[],
            };
            let mut tags = vec![
                ("amenity", "school"),
                ("building", "school"),
                ("name", school_name.as_str()),
            ];
            tags.extend_from_slice(level);
            tags.sort_unstable();
            osm.ring_way(
                &tags,
                &footprint(&mut rng, (x0 + 40.0, y0 + 60.0), 25.0, 40.0),
            )?;
            counts.buildings += 1;
            counts.facility_elements += 1;
            let other: &Tags<'_> = match rng.random_range(0..4) {
                0 => &[("amenity", "hospital"), ("building", "hospital")],
                1 => &[("amenity", "townhall"), ("building", "civic")],
                2 => &[("amenity", "community_centre"), ("building", "yes")],
                _ => &[("building", "church"), ("amenity", "place_of_worship")],
            };
            let mut tags = other.to_vec();
            tags.push(("name", &name));
            tags.sort_unstable();
            osm.ring_way(
                &tags,
                &footprint(&mut rng, (x0 + 90.0, y0 + 60.0), 15.0, 30.0),
            )?;
            counts.buildings += 1;
            counts.facility_elements += 1;
            osm.node(
                (x0 + 90.0, y0 + 20.0),
                &[("amenity", "library"), ("name", &name)],
            )?;
            counts.facility_elements += 1;
        }
    }
    Ok(())
}

/// Districts (`admin_level=10`), regions (9) and the city (8), with shared member ways along the
/// grid lines, and a `place=suburb` node in each district.
fn boundaries<W: Write>(osm: &mut Osm<W>, grid: &Grid, counts: &mut Counts) -> io::Result<()> {
    let d = grid.n / DISTRICT;
    // Boundary way ids: horizontal line k (0..=d) piece a (0..d), then vertical likewise.
    let mut horizontal = vec![vec![0i64; d]; d + 1];
    let mut vertical = vec![vec![0i64; d]; d + 1];
    let tags: &Tags<'_> = &[("boundary", "administrative")];
    for (k, row) in horizontal.iter_mut().enumerate() {
        for (a, id) in row.iter_mut().enumerate() {
            let refs = grid.line_refs(true, k * DISTRICT, a * DISTRICT, (a + 1) * DISTRICT);
            *id = osm.way(tags, &refs)?;
        }
    }
    for (k, row) in vertical.iter_mut().enumerate() {
        for (a, id) in row.iter_mut().enumerate() {
            let refs = grid.line_refs(false, k * DISTRICT, a * DISTRICT, (a + 1) * DISTRICT);
            *id = osm.way(tags, &refs)?;
        }
    }
    // The member ways around the district square [i0, i1) x [j0, j1) (in districts).
    let ring = |i0: usize, i1: usize, j0: usize, j1: usize| -> Vec<(i64, &'static str)> {
        let sides = [
            &horizontal[j0][i0..i1],
            &horizontal[j1][i0..i1],
            &vertical[i0][j0..j1],
            &vertical[i1][j0..j1],
        ];
        sides
            .iter()
            .flat_map(|ways| ways.iter().map(|&w| (w, "outer")))
            .collect()
    };
    for i in 0..d {
        for j in 0..d {
            let name = format!("{} {}", NAMES[(i * 5 + j) % NAMES.len()], i * d + j);
            osm.relation(
                &[
                    ("admin_level", "10"),
                    ("boundary", "administrative"),
                    ("name", &name),
                    ("type", "boundary"),
                ],
                &ring(i, i + 1, j, j + 1),
            );
            counts.districts += 1;
        }
    }
    let r = d / REGION;
    for i in 0..r {
        for j in 0..r {
            let name = format!("Region {}", i * r + j);
            osm.relation(
                &[
                    ("admin_level", "9"),
                    ("boundary", "administrative"),
                    ("name", &name),
                    ("type", "boundary"),
                ],
                &ring(i * REGION, (i + 1) * REGION, j * REGION, (j + 1) * REGION),
            );
        }
    }
    osm.relation(
        &[
            ("admin_level", "8"),
            ("boundary", "administrative"),
            ("name", "Synthetic City"),
            ("type", "boundary"),
        ],
        &ring(0, d, 0, d),
    );
    Ok(())
}

fn places<W: Write>(osm: &mut Osm<W>, grid: &Grid) -> io::Result<()> {
    let d = grid.n / DISTRICT;
    let half = DISTRICT as f64 * BLOCK_M / 2.0;
    for i in 0..d {
        for j in 0..d {
            let name = format!("{} {}", NAMES[(i * 5 + j) % NAMES.len()], i * d + j);
            let p = (
                i as f64 * 2.0 * half + half + 5.0,
                j as f64 * 2.0 * half + half + 5.0,
            );
            osm.node(p, &[("name", &name), ("place", "suburb")])?;
        }
    }
    Ok(())
}

fn write_population(path: &PathBuf, grid: &Grid) -> io::Result<usize> {
    let side_m = grid.n as f64 * BLOCK_M;
    let cells = (side_m / CELL_M).ceil() as usize;
    let mut rng = rng_stream(grid.seed, 6, 0);
    let mut w = BufWriter::new(File::create(path)?);
    w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")?;
    let deg = |x: f64, y: f64| (ORIGIN.0 + x / M_PER_DEG_LON, ORIGIN.1 + y / M_PER_DEG_LAT);
    for i in 0..cells {
        for j in 0..cells {
            let population = if rng.random_range(0..10) == 0 {
                0
            } else {
                rng.random_range(500..8000u32)
            };
            let (x0, y0) = (i as f64 * CELL_M, j as f64 * CELL_M);
            let corners = [
                deg(x0, y0),
                deg(x0 + CELL_M, y0),
                deg(x0 + CELL_M, y0 + CELL_M),
                deg(x0, y0 + CELL_M),
                deg(x0, y0),
            ];
            let ring: Vec<String> = corners
                .iter()
                .map(|(lon, lat)| format!("[{lon:.7},{lat:.7}]"))
                .collect();
            write!(
                w,
                "{}\n{{\"type\":\"Feature\",\"properties\":{{\"population\":{population}}},\
                 \"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}}}}",
                if i == 0 && j == 0 { "" } else { "," },
                ring.join(",")
            )?;
        }
    }
    w.write_all(b"\n]}\n")?;
    w.flush()?;
    Ok(cells * cells)
}

fn generate(args: &Args) -> io::Result<()> {
    let start = Instant::now();
    let grid = Grid {
        n: args.blocks,
        seed: args.seed,
    };
    let out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(File::create(p)?),
        None => Box::new(io::stdout().lock()),
    };
    let mut osm = Osm::new(BufWriter::with_capacity(1 << 20, out), args.seed)?;
    let mut counts = Counts::default();
    streets(&mut osm, &grid, &mut counts)?;
    for bi in 0..grid.n {
        for bj in 0..grid.n {
            block(&mut osm, &grid, bi, bj, &mut counts)?;
        }
    }
    boundaries(&mut osm, &grid, &mut counts)?;
    places(&mut osm, &grid)?;
    let (nodes, ways, relations) = (osm.next_node - 1, osm.next_way - 1, osm.next_relation - 1);
    osm.finish()?;
    eprintln!(
        "synthetic OSM city, seed {}, {} x {} blocks ({:.1} km square): {nodes} nodes, {ways} \
         ways, {relations} relations",
        args.seed,
        grid.n,
        grid.n,
        grid.n as f64 * BLOCK_M / 1000.0
    );
    eprintln!(
        "  {} buildings, {} street ways, about {} facility elements, {} districts; {:.1} s",
        counts.buildings,
        counts.street_ways,
        counts.facility_elements,
        counts.districts,
        start.elapsed().as_secs_f64()
    );
    if let Some(p) = &args.population {
        let cells = write_population(p, &grid)?;
        eprintln!(
            "  population grid: {cells} cells of {CELL_M} m in {}",
            p.display()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.blocks == 0 || !args.blocks.is_multiple_of(DISTRICT * REGION) {
        eprintln!(
            "error: --blocks must be a positive multiple of {}",
            DISTRICT * REGION
        );
        return ExitCode::FAILURE;
    }
    match generate(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
