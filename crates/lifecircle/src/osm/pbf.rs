//! Reading .osm.pbf files in parallel, keeping only what lifecircle uses.
//!
//! # Passes
//! 1. Every block, in parallel: tagged nodes are judged at once (they carry their position);
//!    ways and relations that lifecircle keeps are stored with their node or member ids; the
//!    kinds of element in each block and its node-id range are noted.
//! 2. Only if kept relations need them: the blocks holding ways, for the relations' member ways.
//! 3. Only the blocks holding nodes whose id range meets the wanted ids: the positions of the
//!    nodes referenced by kept ways (a sorted id list, looked up by binary search).
//!
//! Memory therefore grows with the kept features, not with the file. Blocks are decoded in
//! parallel (rayon); results are sorted by id so output does not depend on thread timing.
//!
//! # Corrupt blocks
//! The decoder (`osmpbf`) panics on some corrupt data (e.g. a relation member of an unknown
//! type). Each block is decoded inside [`caught`], which catches the panic and turns it into an
//! error naming the file and the block. The library installs no panic hook (that is the
//! program's choice, not a library's), so the process's hook still reports the caught panic: a
//! program that wants a quiet stderr installs a hook of its own.

use std::{
    collections::HashMap,
    fs::File,
    io::{BufReader, Read, Seek},
    panic::{catch_unwind, AssertUnwindSafe},
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use osmpbf::{BlobDecode, BlobReader, BlobType, PrimitiveBlock, RelMemberType};
use rayon::prelude::*;

use crate::{
    analysis::Progress,
    error::{Error, Result},
    geodesy::LonLat,
};

use super::{
    mapping::{HomeClass, Mapping},
    walkable::is_walkable,
};

/// What a read should keep.
#[derive(Clone, Copy)]
pub(crate) struct Wants<'m> {
    /// Walkable ways.
    pub streets: bool,
    /// Facilities, residences, land use, boundaries and places, by this mapping.
    pub mapping: Option<&'m Mapping>,
}

/// Where a kept element's geometry comes from.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    /// A node's position.
    Point(LonLat),
    /// A way's node ids.
    Way(Vec<i64>),
    /// A multipolygon or boundary relation's member way ids (outer, inner or empty role).
    Relation(Vec<i64>),
}

/// A kept element: `n`, `w` or `r`, its id, its geometry source and what lifecircle took from
/// its tags.
#[derive(Debug, Clone)]
pub(crate) struct Item<T> {
    pub kind: char,
    pub id: i64,
    pub shape: Shape,
    pub data: T,
}

impl<T> Item<T> {
    /// `n123`, `w123`, `r123`.
    pub(super) fn osm_id(&self) -> String {
        format!("{}{}", self.kind, self.id)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct FacilityTags {
    pub name: Option<String>,
    pub name_zh: Option<String>,
    pub categories: Vec<String>,
    /// The deciding tags, sorted by key.
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct BuildingTags {
    pub class: HomeClass,
    /// `building:levels` when it is a readable positive number.
    pub levels: Option<f64>,
}

#[derive(Debug, Clone)]
pub(crate) struct BoundaryTags {
    pub name: Option<String>,
    pub admin_level: u8,
}

#[derive(Debug, Clone)]
pub(crate) struct PlaceTags {
    pub name: Option<String>,
    pub place: String,
}

/// A walkable way as read: id, highway value, node ids.
#[derive(Debug, Clone)]
pub(crate) struct StreetWay {
    pub id: i64,
    pub highway: String,
    pub nodes: Vec<i64>,
}

/// Everything kept by pass 1.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub streets: Vec<StreetWay>,
    pub facilities: Vec<Item<FacilityTags>>,
    pub buildings: Vec<Item<BuildingTags>>,
    pub landuse: Vec<Item<()>>,
    pub boundaries: Vec<Item<BoundaryTags>>,
    pub places: Vec<Item<PlaceTags>>,
}

impl Found {
    fn append(&mut self, mut other: Found) {
        self.streets.append(&mut other.streets);
        self.facilities.append(&mut other.facilities);
        self.buildings.append(&mut other.buildings);
        self.landuse.append(&mut other.landuse);
        self.boundaries.append(&mut other.boundaries);
        self.places.append(&mut other.places);
    }

    fn sort(&mut self) {
        fn key<T>(i: &Item<T>) -> (u8, i64) {
            (
                match i.kind {
                    'n' => 0,
                    'w' => 1,
                    _ => 2,
                },
                i.id,
            )
        }
        self.streets.sort_by_key(|s| s.id);
        self.facilities.sort_by_key(key);
        self.buildings.sort_by_key(key);
        self.landuse.sort_by_key(key);
        self.boundaries.sort_by_key(key);
        self.places.sort_by_key(key);
    }

    fn relation_members(&self) -> Vec<i64> {
        fn members<T>(items: &[Item<T>], out: &mut Vec<i64>) {
            for i in items {
                if let Shape::Relation(m) = &i.shape {
                    out.extend_from_slice(m);
                }
            }
        }
        let mut out = Vec::new();
        members(&self.facilities, &mut out);
        members(&self.buildings, &mut out);
        members(&self.landuse, &mut out);
        members(&self.boundaries, &mut out);
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Positions of the nodes kept ways need.
#[derive(Debug, Default)]
pub(crate) struct NodeCoords {
    ids: Vec<i64>,
    /// `[lon, lat]`, NaN where the node is not in the file.
    coords: Vec<[f64; 2]>,
}

impl NodeCoords {
    /// The position of node `id`, if the file has it.
    pub(crate) fn get(&self, id: i64) -> Option<LonLat> {
        let i = self.ids.binary_search(&id).ok()?;
        let [lon, lat] = *self.coords.get(i)?;
        (!lon.is_nan()).then_some(LonLat { lon, lat })
    }
}

/// The result of reading a file.
#[derive(Debug, Default)]
pub(crate) struct OsmData {
    pub found: Found,
    /// Node ids of the member ways of kept relations (absent: way not in the file).
    pub member_ways: HashMap<i64, Vec<i64>>,
    pub coords: NodeCoords,
}

#[derive(Debug, Clone, Copy, Default)]
struct BlockInfo {
    nodes: bool,
    ways: bool,
    min_node: i64,
    max_node: i64,
}

/// Read `path`, keeping what `wants` asks for.
///
/// # Errors
/// The file cannot be opened, is not an OSM PBF file, is truncated or corrupt, or needs a PBF
/// feature lifecircle does not read (history files).
pub(crate) fn read(path: &Path, wants: Wants<'_>, progress: &dyn Progress) -> Result<OsmData> {
    progress.stage("reading .osm.pbf: tagged elements");
    let blocks = pass(path, true, &|_| true, &|block| first_pass(block, wants))?;
    // Indexed by block number (block 0 is the header, which has no info).
    let mut infos: Vec<Option<BlockInfo>> = Vec::new();
    let mut found = Found::default();
    for (i, (info, f)) in blocks {
        if infos.len() <= i {
            infos.resize(i + 1, None);
        }
        if let Some(slot) = infos.get_mut(i) {
            *slot = Some(info);
        }
        found.append(f);
    }
    found.sort();

    // Pass 2: member ways of kept relations.
    let wanted_ways = found.relation_members();
    let mut member_ways = HashMap::new();
    if !wanted_ways.is_empty() {
        progress.stage("reading .osm.pbf: relations' member ways");
        let parts = pass(
            path,
            false,
            &|i| infos.get(i).copied().flatten().is_none_or(|b| b.ways),
            &|block| {
                let mut out = Vec::new();
                for group in block.groups() {
                    for way in group.ways() {
                        if wanted_ways.binary_search(&way.id()).is_ok() {
                            out.push((way.id(), way.refs().collect::<Vec<i64>>()));
                        }
                    }
                }
                out
            },
        )?;
        member_ways = parts.into_iter().flat_map(|(_, v)| v).collect();
    }

    // Pass 3: node positions.
    progress.stage("reading .osm.pbf: node positions");
    let mut ids: Vec<i64> = Vec::new();
    for s in &found.streets {
        ids.extend_from_slice(&s.nodes);
    }
    fn way_nodes<T>(items: &[Item<T>], ids: &mut Vec<i64>) {
        for i in items {
            if let Shape::Way(n) = &i.shape {
                ids.extend_from_slice(n);
            }
        }
    }
    way_nodes(&found.facilities, &mut ids);
    way_nodes(&found.buildings, &mut ids);
    way_nodes(&found.landuse, &mut ids);
    for n in member_ways.values() {
        ids.extend_from_slice(n);
    }
    ids.sort_unstable();
    ids.dedup();
    let mut coords = vec![[f64::NAN; 2]; ids.len()];
    if !ids.is_empty() {
        let ids_ref = &ids;
        let meets = |b: &BlockInfo| {
            b.nodes && {
                let i = ids_ref.partition_point(|&x| x < b.min_node);
                ids_ref.get(i).is_some_and(|&x| x <= b.max_node)
            }
        };
        let parts = pass(
            path,
            false,
            &|i| infos.get(i).copied().flatten().is_none_or(|b| meets(&b)),
            &|block| {
                let mut out: Vec<(usize, [f64; 2])> = Vec::new();
                for group in block.groups() {
                    for n in group.dense_nodes() {
                        if let Ok(i) = ids_ref.binary_search(&n.id()) {
                            out.push((i, [n.lon(), n.lat()]));
                        }
                    }
                    for n in group.nodes() {
                        if let Ok(i) = ids_ref.binary_search(&n.id()) {
                            out.push((i, [n.lon(), n.lat()]));
                        }
                    }
                }
                out
            },
        )?;
        for (i, c) in parts.into_iter().flat_map(|(_, v)| v) {
            if let Some(slot) = coords.get_mut(i) {
                *slot = c;
            }
        }
    }
    Ok(OsmData {
        found,
        member_ways,
        coords: NodeCoords { ids, coords },
    })
}

fn tag<'a>(tags: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

const PLACES: [&str; 3] = ["suburb", "quarter", "neighbourhood"];

fn first_pass<'b>(block: &'b PrimitiveBlock, wants: Wants<'_>) -> (BlockInfo, Found) {
    let mut info = BlockInfo {
        min_node: i64::MAX,
        max_node: i64::MIN,
        ..BlockInfo::default()
    };
    let mut found = Found::default();
    let node = |id: i64, pos: LonLat, tags: &[(&str, &str)], found: &mut Found| {
        let Some(m) = wants.mapping else { return };
        if tags.is_empty() {
            return;
        }
        facility(m, 'n', id, Shape::Point(pos), tags, found);
        if let Some(place) = tag(tags, "place").filter(|p| PLACES.contains(p)) {
            found.places.push(Item {
                kind: 'n',
                id,
                shape: Shape::Point(pos),
                data: PlaceTags {
                    name: tag(tags, "name").map(str::to_string),
                    place: place.to_string(),
                },
            });
        }
    };
    let mut tags: Vec<(&'b str, &'b str)> = Vec::new();
    // Dense and plain nodes alike: the id range, and the tagged ones.
    let visit = |(id, lon, lat): (i64, f64, f64),
                 node_tags: &mut dyn ExactSizeIterator<Item = (&'b str, &'b str)>,
                 info: &mut BlockInfo,
                 tags: &mut Vec<(&'b str, &'b str)>,
                 found: &mut Found| {
        info.nodes = true;
        info.min_node = info.min_node.min(id);
        info.max_node = info.max_node.max(id);
        if node_tags.len() > 0 {
            tags.clear();
            tags.extend(node_tags);
            node(id, LonLat::unchecked(lon, lat), tags, found);
        }
    };
    for group in block.groups() {
        for n in group.dense_nodes() {
            let at = (n.id(), n.lon(), n.lat());
            visit(at, &mut n.tags(), &mut info, &mut tags, &mut found);
        }
        for n in group.nodes() {
            let at = (n.id(), n.lon(), n.lat());
            visit(at, &mut n.tags(), &mut info, &mut tags, &mut found);
        }
        for w in group.ways() {
            info.ways = true;
            if w.tags().len() == 0 {
                continue;
            }
            tags.clear();
            tags.extend(w.tags());
            if wants.streets && is_walkable(&tags) {
                found.streets.push(StreetWay {
                    id: w.id(),
                    highway: tag(&tags, "highway").unwrap_or_default().to_string(),
                    nodes: w.refs().collect(),
                });
            }
            if let Some(m) = wants.mapping {
                area_like(m, 'w', w.id(), &tags, &mut found, || {
                    Shape::Way(w.refs().collect())
                });
            }
        }
        for r in group.relations() {
            let Some(m) = wants.mapping else { continue };
            if r.tags().len() == 0 {
                continue;
            }
            tags.clear();
            tags.extend(r.tags());
            let kind = tag(&tags, "type");
            let members = || {
                Shape::Relation(
                    r.members()
                        .filter(|m| {
                            m.member_type == RelMemberType::Way
                                && matches!(m.role(), Ok("outer" | "inner" | ""))
                        })
                        .map(|m| m.member_id)
                        .collect(),
                )
            };
            if kind == Some("multipolygon") {
                area_like(m, 'r', r.id(), &tags, &mut found, members);
            }
            if matches!(kind, Some("boundary" | "multipolygon"))
                && tag(&tags, "boundary") == Some("administrative")
            {
                if let Some(level) = tag(&tags, "admin_level").and_then(|l| l.trim().parse().ok()) {
                    found.boundaries.push(Item {
                        kind: 'r',
                        id: r.id(),
                        shape: members(),
                        data: BoundaryTags {
                            name: tag(&tags, "name").map(str::to_string),
                            admin_level: level,
                        },
                    });
                }
            }
        }
    }
    (info, found)
}

fn facility(
    m: &Mapping,
    kind: char,
    id: i64,
    shape: Shape,
    tags: &[(&str, &str)],
    found: &mut Found,
) {
    let hit = m.classify(tags);
    if hit.categories.is_empty() {
        return;
    }
    let skip = ["id", "name", "name:zh", "category"];
    found.facilities.push(Item {
        kind,
        id,
        shape,
        data: FacilityTags {
            name: tag(tags, "name").map(str::to_string),
            name_zh: tag(tags, "name:zh").map(str::to_string),
            categories: hit.categories,
            tags: hit
                .keys
                .iter()
                .filter(|k| !skip.contains(&k.as_str()))
                .filter_map(|k| tag(tags, k).map(|v| (k.clone(), v.to_string())))
                .collect(),
        },
    });
}

/// Facilities, buildings and residential land use from a way or multipolygon relation.
fn area_like(
    m: &Mapping,
    kind: char,
    id: i64,
    tags: &[(&str, &str)],
    found: &mut Found,
    shape: impl Fn() -> Shape,
) {
    facility(m, kind, id, shape(), tags, found);
    if tag(tags, "building").is_some() {
        if let Some(class) = m.residences.class(tags) {
            found.buildings.push(Item {
                kind,
                id,
                shape: shape(),
                data: BuildingTags {
                    class,
                    levels: tag(tags, "building:levels").and_then(parse_levels),
                },
            });
        }
    }
    if m.residences.is_residential_landuse(tags) {
        found.landuse.push(Item {
            kind,
            id,
            shape: shape(),
            data: (),
        });
    }
}

/// `building:levels`: a positive number up to 300 (the first of a `;` list); else `None`.
pub(crate) fn parse_levels(v: &str) -> Option<f64> {
    let first = v.split(';').next()?.trim().replace(',', ".");
    let x: f64 = first.parse().ok()?;
    (x.is_finite() && x > 0.0 && x <= 300.0).then_some(x)
}

/// Run `f`, turning a panic inside it into `Err("the block is corrupt (decoder: ...)")` (see the
/// [module docs](self)).
fn caught<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    let result = catch_unwind(AssertUnwindSafe(f));
    result.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        match message {
            Some(m) => format!("the block is corrupt (decoder: {m})"),
            None => "the block is corrupt".into(),
        }
    })
}

/// Counts the bytes the blob reader consumes, to tell where each block starts and ends.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What a file that is not an `.osm.pbf` looks like, from its first bytes, and what to do;
/// `None` when it may be one.
fn not_pbf(head: &[u8]) -> Option<String> {
    const EXPECTED: &str = "lifecircle extract reads an OpenStreetMap .osm.pbf (binary)";
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    let convert = "convert it with `osmium cat FILE -o city.osm.pbf`";
    Some(if head.is_empty() {
        format!("the file is empty; {EXPECTED}")
    } else if head.starts_with(b"\x1F\x8B") {
        format!(
            "the file is gzip-compressed (an .osm.gz, or a compressed GeoJSON?); {EXPECTED}: \
             {convert}"
        )
    } else if head.starts_with(b"BZh") {
        format!("the file is bzip2-compressed (an .osm.bz2?); {EXPECTED}: {convert}")
    } else if matches!(first, Some(b'{' | b'[')) {
        format!(
            "the file is JSON text (GeoJSON?); {EXPECTED}. Give GeoJSON facilities, residences \
             and communities to `lifecircle analyze`"
        )
    } else if first == Some(&b'<') {
        format!("the file is XML (an .osm file?); {EXPECTED}: {convert}")
    } else if head.len() >= 15 && &head[4..15] != b"\x0A\x09OSMHeader" {
        format!("the file does not start with an OSMHeader block; {EXPECTED}")
    } else {
        return None;
    })
}

/// Run `f` on every data block `select` admits, in parallel; results sorted by block index.
fn pass<T: Send>(
    path: &Path,
    check_header: bool,
    select: &(dyn Fn(usize) -> bool + Sync),
    f: &(dyn Fn(&PrimitiveBlock) -> T + Sync),
) -> Result<Vec<(usize, T)>> {
    let name = path.display().to_string();
    let mut file = File::open(path).map_err(|e| Error::Read {
        file: name.clone(),
        source: e,
    })?;
    if check_header {
        let mut head = Vec::with_capacity(64);
        (&mut file)
            .take(64)
            .read_to_end(&mut head)
            .map_err(|e| Error::Read {
                file: name.clone(),
                source: e,
            })?;
        if let Some(reason) = not_pbf(&head) {
            return Err(Error::File { file: name, reason });
        }
        file.rewind().map_err(|e| Error::Read {
            file: name.clone(),
            source: e,
        })?;
    }
    let len = file
        .metadata()
        .map_err(|e| Error::Read {
            file: name.clone(),
            source: e,
        })?
        .len();
    let consumed = Arc::new(AtomicU64::new(0));
    let last_end = Arc::new(AtomicU64::new(0));
    let mut reader = BlobReader::new(Counting {
        inner: BufReader::with_capacity(1 << 20, file),
        read: Arc::clone(&consumed),
    });
    let (c, e) = (Arc::clone(&consumed), Arc::clone(&last_end));
    let blobs = std::iter::from_fn(move || {
        let start = c.load(Ordering::Relaxed);
        let blob = reader.next()?;
        if blob.is_ok() {
            e.store(c.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        Some((start, blob))
    })
    .enumerate();
    let bad = |i: usize, start: u64, what: String| Error::File {
        file: name.clone(),
        reason: format!(
            "not a readable OSM PBF file: block {i} (at byte {start}): {what}; is the file \
             truncated, or not a .osm.pbf?"
        ),
    };
    let mut out: Vec<(usize, T)> = blobs
        .par_bridge()
        .map(|(i, (start, blob))| -> Result<Option<(usize, T)>> {
            let blob = blob.map_err(|e| bad(i, start, e.to_string()))?;
            if i == 0 && blob.get_type() != BlobType::OsmHeader {
                return Err(bad(
                    i,
                    start,
                    format!(
                        "the first block must be an OSMHeader, found {:?}",
                        blob.get_type()
                    ),
                ));
            }
            let wanted = match blob.get_type() {
                BlobType::OsmHeader => check_header,
                BlobType::OsmData => select(i),
                BlobType::Unknown(_) => false,
            };
            if !wanted {
                return Ok(None);
            }
            let decoded = caught(|| -> Result<Option<T>, String> {
                match blob.decode().map_err(|e| e.to_string())? {
                    BlobDecode::OsmHeader(h) => {
                        for feature in h.required_features() {
                            if !matches!(feature.as_str(), "OsmSchema-V0.6" | "DenseNodes") {
                                return Err(format!(
                                    "the file needs the PBF feature \"{feature}\", which \
                                     lifecircle does not read (history files and change files \
                                     are not supported; use a plain extract)"
                                ));
                            }
                        }
                        Ok(None)
                    }
                    BlobDecode::OsmData(block) => Ok(Some(f(&block))),
                    BlobDecode::Unknown(_) => Ok(None),
                }
            });
            match decoded {
                Ok(Ok(v)) => Ok(v.map(|v| (i, v))),
                Ok(Err(what)) | Err(what) => Err(bad(i, start, what)),
            }
        })
        .filter_map(Result::transpose)
        .collect::<Result<Vec<_>>>()?;
    let end = last_end.load(Ordering::Relaxed);
    if end == 0 {
        return Err(Error::File {
            file: name,
            reason: "not an OSM PBF file: it holds no complete block".into(),
        });
    }
    if end != len {
        return Err(Error::File {
            file: name,
            reason: format!(
                "the file is truncated or has trailing garbage: its last complete block ends at \
                 byte {end} of {len}"
            ),
        });
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_errors() {
        let e = caught(|| -> u8 { panic!("unknown member type") }).unwrap_err();
        assert_eq!(e, "the block is corrupt (decoder: unknown member type)");
        let e = caught(|| -> u8 { panic!("member {}", 9) }).unwrap_err();
        assert_eq!(e, "the block is corrupt (decoder: member 9)");
        assert_eq!(caught(|| 7), Ok(7));
    }

    #[test]
    fn levels() {
        assert_eq!(parse_levels("4"), Some(4.0));
        assert_eq!(parse_levels(" 2,5 "), Some(2.5));
        assert_eq!(parse_levels("3;5"), Some(3.0));
        assert_eq!(parse_levels("0"), None);
        assert_eq!(parse_levels("many"), None);
        assert_eq!(parse_levels("NaN"), None);
        assert_eq!(parse_levels("1e9"), None);
    }
}
