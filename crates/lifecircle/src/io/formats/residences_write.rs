//! The residence table, 99 % of the rows of a large run, written straight from the analysis
//! values as a GeoPackage layer or a FlatGeobuf file, without formatting and parsing back the
//! GeoJSON (the smaller layers still take that route, [`ParsedLayer`](super::layer::ParsedLayer)).
//!
//! The rows come from [`ResidenceTable::visit`], the very column list the GeoJSON writer
//! writes, and hold the same values: each number is the one a reader parses back from the
//! GeoJSON text ([`written_value`]), the fields are typed from the values over every row as
//! the parsed-back layers are ([`FieldType::join`], [`FieldType::named`]), and a value of an
//! unusual kind for its field is stored as the GeoJSON text would be ([`FieldType::typed`]).
//! Rows are built in parallel chunks, a wave at a time ([`Chunks`]); SQLite inserts a wave
//! while the next is built.

use std::{borrow::Cow, io::Write, ops::Range};

use flatgeobuf::{
    packed_r_tree::{NodeItem, PackedRTree},
    Column, ColumnArgs, Crs as FgbCrsTable, CrsArgs, Feature, FeatureArgs, Geometry, GeometryArgs,
    GeometryType, Header, HeaderArgs,
};
use rayon::prelude::*;

use super::{
    fgb_write::column_type,
    gpkg_write::{sql_value, Srs},
    layer::{FieldType, Typed},
};
use crate::{
    geodesy::LonLat,
    io::{
        geojson::write::{written_value, Decimals},
        output::{push_cell, push_name_list, Cell, Field, ResidenceTable, Row},
    },
    model::Id,
    par::Chunks,
};

/// The first bytes of a FlatGeobuf file of version 3 (the crate's constant is private).
const MAGIC_BYTES: [u8; 8] = [b'f', b'g', b'b', 3, b'f', b'g', b'b', 0];

/// Rows per parallel chunk.
const CHUNK: usize = 4096;

/// The fields of the table with their types, as the parsed-back layer types them: the join of
/// every row's value types, and for a field null in every row the type its name gives. No
/// rows, no fields.
pub(crate) fn fields(table: &ResidenceTable<'_, '_>) -> Vec<(String, FieldType)> {
    if table.is_empty() {
        return Vec::new();
    }
    let mut names = NameRow(Vec::new());
    table.visit(0, &mut names);
    let chunks = Chunks::new(table.len(), 1 << 15);
    let types = (0..chunks.count())
        .into_par_iter()
        .map(|c| {
            let mut row = TypeRow {
                types: vec![FieldType::Unknown; names.0.len()],
                col: 0,
            };
            for k in chunks.range(c) {
                row.col = 0;
                table.visit(k, &mut row);
            }
            row.types
        })
        .reduce_with(|a, b| a.iter().zip(&b).map(|(x, y)| x.join(*y)).collect())
        .unwrap_or_default();
    names
        .0
        .into_iter()
        .zip(types)
        .map(|(name, t)| {
            let t = if t == FieldType::Unknown {
                FieldType::named(&name)
            } else {
                t
            };
            (name, t)
        })
        .collect()
}

/// The names of the fields of a row.
struct NameRow(Vec<String>);

impl Row for NameRow {
    fn point(&mut self, _: Option<LonLat>) {}
    fn cell(&mut self, field: &Field, _: Cell<'_>) {
        self.0.push(field.name.clone());
    }
    fn names(&mut self, field: &Field, _: &[Vec<u8>], _: impl Iterator<Item = usize>) {
        self.0.push(field.name.clone());
    }
}

/// The type of each field, joined over rows: what [`FieldType::of`] gives the text the
/// GeoJSON writer writes for each value.
struct TypeRow {
    types: Vec<FieldType>,
    col: usize,
}

impl TypeRow {
    fn join(&mut self, t: FieldType) {
        if let Some(slot) = self.types.get_mut(self.col) {
            *slot = slot.join(t);
        }
        self.col += 1;
    }
}

impl Row for TypeRow {
    fn point(&mut self, _: Option<LonLat>) {}
    fn cell(&mut self, _: &Field, cell: Cell<'_>) {
        self.join(match cell {
            Cell::Null => FieldType::Unknown,
            Cell::Id(Id::Num(_), _) => FieldType::Integer,
            Cell::Id(Id::Text(_), _) => FieldType::Text,
            Cell::Fixed(v, _) | Cell::Real(Some(v)) if v.is_finite() => FieldType::Real,
            Cell::Fixed(..) | Cell::Real(_) => FieldType::Unknown,
            Cell::Bool(_) => FieldType::Boolean,
        });
    }
    fn names(&mut self, _: &Field, _: &[Vec<u8>], _: impl Iterator<Item = usize>) {
        self.join(FieldType::Json);
    }
}

/// A stored value; text and JSON are ranges of the chunk's bytes.
#[derive(Clone, Copy)]
enum Stored {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(u32, u32),
    Json(u32, u32),
}

/// A chunk of typed rows: positions, values (a row after another, every field) and the bytes
/// of their text.
#[derive(Default)]
struct Rows {
    xy: Vec<[f64; 2]>,
    values: Vec<Stored>,
    bytes: Vec<u8>,
}

impl Rows {
    fn text(&self, s: u32, e: u32) -> &str {
        // Only whole strings are stored, so the range is on character boundaries.
        std::str::from_utf8(&self.bytes[s as usize..e as usize]).unwrap_or_default()
    }

    fn typed(&self, v: Stored) -> Typed<'_> {
        match v {
            Stored::Null => Typed::Null,
            Stored::Bool(b) => Typed::Bool(b),
            Stored::Int(n) => Typed::Int(n),
            Stored::Real(x) => Typed::Real(x),
            Stored::Text(s, e) => Typed::Text(Cow::Borrowed(self.text(s, e))),
            Stored::Json(s, e) => Typed::Json(self.text(s, e)),
        }
    }

    fn store(&mut self, s: &str) -> (u32, u32) {
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s.as_bytes());
        (start, self.bytes.len() as u32)
    }

    fn push_typed(&mut self, t: Typed<'_>) {
        let v = match t {
            Typed::Null => Stored::Null,
            Typed::Bool(b) => Stored::Bool(b),
            Typed::Int(n) => Stored::Int(n),
            Typed::Real(x) => Stored::Real(x),
            Typed::Text(s) => {
                let (s, e) = self.store(&s);
                Stored::Text(s, e)
            }
            Typed::Json(j) => {
                let (s, e) = self.store(j);
                Stored::Json(s, e)
            }
        };
        self.values.push(v);
    }
}

/// Builds typed rows into a chunk.
struct TypedRow<'r> {
    rows: &'r mut Rows,
    types: &'r [FieldType],
    col: usize,
    scratch: Vec<u8>,
    /// The decimals positions are written with in the output system.
    decimals: u32,
}

impl TypedRow<'_> {
    fn next_type(&mut self) -> FieldType {
        let t = self.types.get(self.col).copied().unwrap_or(FieldType::Text);
        self.col += 1;
        t
    }

    /// Store the value whose GeoJSON text is in `scratch` as the parsed-back layer would.
    fn store_scratch(&mut self, t: FieldType) {
        let text = String::from_utf8_lossy(&self.scratch).into_owned();
        let typed = t.typed(&text).unwrap_or(Typed::Null);
        self.rows.push_typed(typed);
    }
}

impl Row for TypedRow<'_> {
    fn point(&mut self, at: Option<LonLat>) {
        // A position that cannot be converted is NaN here; the writers fail the set then
        // (`OutputCrs::check`).
        let at = at.unwrap_or(LonLat::unchecked(f64::NAN, f64::NAN));
        let x = written_value(at.lon, self.decimals).unwrap_or(at.lon);
        let y = written_value(at.lat, self.decimals).unwrap_or(at.lat);
        self.rows.xy.push([x, y]);
        self.col = 0;
    }

    fn cell(&mut self, _: &Field, cell: Cell<'_>) {
        let t = self.next_type();
        let stored = match (t, cell) {
            (_, Cell::Null) => Some(Stored::Null),
            (FieldType::Integer, Cell::Id(Id::Num(n), _)) => Some(Stored::Int(*n)),
            (FieldType::Text, Cell::Id(Id::Text(s), _)) => {
                let (s, e) = self.rows.store(s);
                Some(Stored::Text(s, e))
            }
            (FieldType::Real, Cell::Fixed(v, d)) => {
                Some(written_value(v, d).map_or(Stored::Null, Stored::Real))
            }
            (FieldType::Real, Cell::Real(v)) => Some(match v {
                Some(v) if v.is_finite() => Stored::Real(v),
                _ => Stored::Null,
            }),
            (FieldType::Boolean, Cell::Bool(b)) => Some(Stored::Bool(b)),
            _ => None,
        };
        match stored {
            Some(v) => self.rows.values.push(v),
            None => {
                // Any other kind of value for its field: as the GeoJSON text is stored.
                self.scratch.clear();
                push_cell(&mut self.scratch, cell);
                self.store_scratch(t);
            }
        }
    }

    fn names(&mut self, _: &Field, names: &[Vec<u8>], which: impl Iterator<Item = usize>) {
        let t = self.next_type();
        self.scratch.clear();
        push_name_list(&mut self.scratch, names, which);
        if t == FieldType::Json {
            let start = self.rows.bytes.len() as u32;
            self.rows.bytes.extend_from_slice(&self.scratch);
            let end = self.rows.bytes.len() as u32;
            self.rows.values.push(Stored::Json(start, end));
        } else {
            self.store_scratch(t);
        }
    }
}

/// Build the typed rows of `range`.
fn build_rows(table: &ResidenceTable<'_, '_>, types: &[FieldType], range: Range<usize>) -> Rows {
    let mut rows = Rows {
        xy: Vec::with_capacity(range.len()),
        values: Vec::with_capacity(range.len() * types.len()),
        bytes: Vec::new(),
    };
    let decimals = match table.out.decimals() {
        Decimals::AtMost(n) | Decimals::Exactly(n) => n,
    };
    let mut row = TypedRow {
        rows: &mut rows,
        types,
        col: 0,
        scratch: Vec::new(),
        decimals,
    };
    for k in range {
        table.visit(k, &mut row);
    }
    rows
}

/// Build the typed rows in parallel chunks, a wave at a time, and hand each chunk, in order,
/// to `sink` (on this thread) while the next wave is built.
fn rows_in_waves<E>(
    table: &ResidenceTable<'_, '_>,
    types: &[FieldType],
    mut sink: impl FnMut(Rows) -> Result<(), E>,
) -> Result<(), E> {
    let chunks = Chunks::new(table.len(), CHUNK);
    let per_wave = rayon::current_num_threads().max(1) * 4;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Rows>>(1);
        scope.spawn(move || {
            for wave in chunks.waves(per_wave) {
                let built: Vec<Rows> = wave
                    .into_par_iter()
                    .map(|c| build_rows(table, types, chunks.range(c)))
                    .collect();
                if tx.send(built).is_err() {
                    break; // the sink failed
                }
            }
        });
        for wave in rx {
            for rows in wave {
                sink(rows)?;
            }
        }
        Ok(())
    })
}

/// The GeoPackage geometry of a point: the binary header (version 0, little-endian, no
/// envelope, since a point is its own envelope) and the WKB point.
pub(crate) fn gpkg_point(x: f64, y: f64, srs: i32) -> [u8; 29] {
    let mut b = [0u8; 29];
    b[0..2].copy_from_slice(b"GP");
    b[3] = 0b0000_0001;
    b[4..8].copy_from_slice(&srs.to_le_bytes());
    b[8] = 1;
    b[9..13].copy_from_slice(&1u32.to_le_bytes());
    b[13..21].copy_from_slice(&x.to_le_bytes());
    b[21..29].copy_from_slice(&y.to_le_bytes());
    b
}

/// Insert the rows of the table into the GeoPackage table `table` (quoted), whose columns are
/// `geom` then `fields`; returns each row's position (the envelope of its point).
pub(crate) fn insert_gpkg_rows(
    tx: &rusqlite::Transaction<'_>,
    table: &ResidenceTable<'_, '_>,
    quoted_table: &str,
    fields: &[(String, FieldType)],
    quoted_names: &[String],
    srs: i32,
) -> rusqlite::Result<Vec<[f64; 2]>> {
    let placeholders: Vec<String> = (0..fields.len() + 1)
        .map(|i| format!("?{}", i + 1))
        .collect();
    let mut insert = tx.prepare(&format!(
        "INSERT INTO {quoted_table} (geom, {}) VALUES ({})",
        quoted_names.join(", "),
        placeholders.join(", ")
    ))?;
    let types: Vec<FieldType> = fields.iter().map(|(_, t)| *t).collect();
    let mut positions = Vec::with_capacity(table.len());
    rows_in_waves(table, &types, |rows: Rows| -> rusqlite::Result<()> {
        let width = types.len();
        for (r, &[x, y]) in rows.xy.iter().enumerate() {
            insert.raw_bind_parameter(1, &gpkg_point(x, y, srs)[..])?;
            for (j, v) in rows.values[r * width..(r + 1) * width].iter().enumerate() {
                insert.raw_bind_parameter(j + 2, sql_value(rows.typed(*v)))?;
            }
            insert.raw_execute()?;
        }
        positions.extend_from_slice(&rows.xy);
        Ok(())
    })?;
    Ok(positions)
}

/// A feature's FlatGeobuf bytes and position.
struct FgbFeatures {
    bytes: Vec<u8>,
    /// Per feature: its end in `bytes`, and its position.
    ends: Vec<(usize, [f64; 2])>,
}

/// Encode the properties of typed rows and build each feature (size-prefixed, as FlatGeobuf
/// stores them).
fn fgb_features(rows: &Rows, width: usize) -> FgbFeatures {
    let mut fbb = flatbuffers::FlatBufferBuilder::with_capacity(1024);
    let mut props: Vec<u8> = Vec::with_capacity(512);
    let mut out = FgbFeatures {
        bytes: Vec::with_capacity(rows.xy.len() * 256),
        ends: Vec::with_capacity(rows.xy.len()),
    };
    for (r, &[x, y]) in rows.xy.iter().enumerate() {
        props.clear();
        for (j, v) in rows.values[r * width..(r + 1) * width].iter().enumerate() {
            let typed = rows.typed(*v);
            if typed == Typed::Null {
                continue;
            }
            props.extend_from_slice(&(j as u16).to_le_bytes());
            match typed {
                Typed::Null => {}
                Typed::Bool(b) => props.push(u8::from(b)),
                Typed::Int(n) => props.extend_from_slice(&n.to_le_bytes()),
                Typed::Real(v) => props.extend_from_slice(&v.to_le_bytes()),
                Typed::Text(t) => {
                    props.extend_from_slice(&(t.len() as u32).to_le_bytes());
                    props.extend_from_slice(t.as_bytes());
                }
                Typed::Json(t) => {
                    props.extend_from_slice(&(t.len() as u32).to_le_bytes());
                    props.extend_from_slice(t.as_bytes());
                }
            }
        }
        let xy = fbb.create_vector(&[x, y]);
        let geometry = Geometry::create(
            &mut fbb,
            &GeometryArgs {
                xy: Some(xy),
                ..Default::default()
            },
        );
        let properties = fbb.create_vector(&props);
        let feature = Feature::create(
            &mut fbb,
            &FeatureArgs {
                geometry: Some(geometry),
                properties: Some(properties),
                ..Default::default()
            },
        );
        fbb.finish_size_prefixed(feature, None);
        out.bytes.extend_from_slice(fbb.finished_data());
        out.ends.push((out.bytes.len(), [x, y]));
        fbb.reset();
    }
    out
}

/// Write the residence table as a FlatGeobuf file (layer `name`) to `out`: the header with the
/// typed columns and the coordinate system `srs`, the packed Hilbert R-tree, and the features
/// in Hilbert order, as the `flatgeobuf` crate's writer lays them out (its writer sorts with a
/// Hilbert value computed twice per comparison and copies each feature back from a temporary
/// file with a seek, which at a million features takes seconds: here the values are computed
/// once, in parallel, and the features stay in memory).
///
/// # Errors
/// `out` fails, or the index cannot be built.
pub(crate) fn write_fgb_residences(
    table: &ResidenceTable<'_, '_>,
    name: &str,
    srs: &Srs<'_>,
    mut out: &mut dyn Write,
) -> std::io::Result<()> {
    let bad = |reason: String| std::io::Error::other(format!("layer {name}: {reason}"));
    let fields = fields(table);
    let types: Vec<FieldType> = fields.iter().map(|(_, t)| *t).collect();
    let chunks = Chunks::new(table.len(), CHUNK);
    let built: Vec<FgbFeatures> = (0..chunks.count())
        .into_par_iter()
        .map(|c| fgb_features(&build_rows(table, &types, chunks.range(c)), types.len()))
        .collect();
    // Every feature: (chunk, start, end, x, y).
    let mut features: Vec<(u32, usize, usize, [f64; 2])> = Vec::with_capacity(table.len());
    for (c, f) in built.iter().enumerate() {
        let mut start = 0;
        for &(end, xy) in &f.ends {
            features.push((c as u32, start, end, xy));
            start = end;
        }
    }
    let mut extent = NodeItem::create(0);
    for (_, _, _, [x, y]) in &features {
        extent.expand_xy(*x, *y);
    }
    // Hilbert order, descending, ties in input order (the crate sorts stably).
    let mut order: Vec<(u32, u32)> = features
        .par_iter()
        .enumerate()
        .map(|(i, (_, _, _, [x, y]))| (hilbert_of(*x, *y, &extent), i as u32))
        .collect();
    order.par_sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));

    let mut fbb = flatbuffers::FlatBufferBuilder::new();
    let columns: Vec<_> = fields
        .iter()
        .map(|(k, t)| {
            let args = ColumnArgs {
                name: Some(fbb.create_string(k)),
                type_: column_type(*t),
                nullable: true,
                ..Default::default()
            };
            Column::create(&mut fbb, &args)
        })
        .collect();
    let crs_args = CrsArgs {
        org: Some(fbb.create_string("EPSG")),
        code: srs.code,
        name: Some(fbb.create_string(srs.name)),
        wkt: Some(fbb.create_string(srs.wkt)),
        ..Default::default()
    };
    let header_args = HeaderArgs {
        name: Some(fbb.create_string(name)),
        geometry_type: GeometryType::Point,
        index_node_size: PackedRTree::DEFAULT_NODE_SIZE,
        crs: Some(FgbCrsTable::create(&mut fbb, &crs_args)),
        columns: Some(fbb.create_vector(&columns)),
        envelope: Some(fbb.create_vector(&[
            extent.min_x,
            extent.min_y,
            extent.max_x,
            extent.max_y,
        ])),
        features_count: features.len() as u64,
        ..Default::default()
    };
    let header = Header::create(&mut fbb, &header_args);
    fbb.finish_size_prefixed(header, None);
    out.write_all(&MAGIC_BYTES)?;
    out.write_all(fbb.finished_data())?;

    let mut offset = 0u64;
    let nodes: Vec<NodeItem> = order
        .iter()
        .map(|&(_, i)| {
            let (_, start, end, [x, y]) = features[i as usize];
            let mut node = NodeItem::bounds(x, y, x, y);
            node.offset = offset;
            offset += (end - start) as u64;
            node
        })
        .collect();
    let tree = PackedRTree::build(&nodes, &extent, PackedRTree::DEFAULT_NODE_SIZE)
        .map_err(|e| bad(e.to_string()))?;
    tree.stream_write(&mut out)?;
    let mut buf = Vec::with_capacity(1 << 20);
    for &(_, i) in &order {
        let (c, start, end, _) = features[i as usize];
        buf.extend_from_slice(&built[c as usize].bytes[start..end]);
        if buf.len() >= 1 << 20 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)
}

/// The Hilbert value of a point in `extent`, as the `flatgeobuf` crate computes it for a
/// feature's bounding box (its function is private).
pub(crate) fn hilbert_of(x: f64, y: f64, extent: &NodeItem) -> u32 {
    const HILBERT_MAX: u32 = (1 << 16) - 1;
    let hx =
        (f64::from(HILBERT_MAX) * ((x + x) / 2.0 - extent.min_x) / extent.width()).floor() as u32;
    let hy =
        (f64::from(HILBERT_MAX) * ((y + y) / 2.0 - extent.min_y) / extent.height()).floor() as u32;
    hilbert(hx, hy)
}

/// The position of (x, y) along the Hilbert curve: the public-domain code at
/// <https://github.com/rawrunprotected/hilbert_curves> that the `flatgeobuf` crate uses.
fn hilbert(x: u32, y: u32) -> u32 {
    let mut a = x ^ y;
    let mut b = 0xFFFF ^ a;
    let mut c = 0xFFFF ^ (x | y);
    let mut d = x & (y ^ 0xFFFF);

    let mut aa = a | (b >> 1);
    let mut bb = (a >> 1) ^ a;
    let mut cc = ((c >> 1) ^ (b & (d >> 1))) ^ c;
    let mut dd = ((a & (c >> 1)) ^ (d >> 1)) ^ d;

    a = aa;
    b = bb;
    c = cc;
    d = dd;
    aa = (a & (a >> 2)) ^ (b & (b >> 2));
    bb = (a & (b >> 2)) ^ (b & ((a ^ b) >> 2));
    cc ^= (a & (c >> 2)) ^ (b & (d >> 2));
    dd ^= (b & (c >> 2)) ^ ((a ^ b) & (d >> 2));

    a = aa;
    b = bb;
    c = cc;
    d = dd;
    aa = (a & (a >> 4)) ^ (b & (b >> 4));
    bb = (a & (b >> 4)) ^ (b & ((a ^ b) >> 4));
    cc ^= (a & (c >> 4)) ^ (b & (d >> 4));
    dd ^= (b & (c >> 4)) ^ ((a ^ b) & (d >> 4));

    a = aa;
    b = bb;
    c = cc;
    d = dd;
    cc ^= (a & (c >> 8)) ^ (b & (d >> 8));
    dd ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8));

    a = cc ^ (cc >> 1);
    b = dd ^ (dd >> 1);

    let mut i0 = x ^ y;
    let mut i1 = b | (0xFFFF ^ (i0 | a));

    i0 = (i0 | (i0 << 8)) & 0x00FF_00FF;
    i0 = (i0 | (i0 << 4)) & 0x0F0F_0F0F;
    i0 = (i0 | (i0 << 2)) & 0x3333_3333;
    i0 = (i0 | (i0 << 1)) & 0x5555_5555;

    i1 = (i1 | (i1 << 8)) & 0x00FF_00FF;
    i1 = (i1 | (i1 << 4)) & 0x0F0F_0F0F;
    i1 = (i1 | (i1 << 2)) & 0x3333_3333;
    i1 = (i1 | (i1 << 1)) & 0x5555_5555;

    (i1 << 1) | i0
}

#[cfg(test)]
mod tests {
    use super::*;
    use geozero::{CoordDimensions, ToWkb};

    #[test]
    fn point_blobs_are_what_geozero_writes() {
        for (x, y, srs) in [(24.94, 60.17, 4326), (-0.0, -90.0, 4547), (180.0, 1e-7, 0)] {
            let want = geo::Geometry::Point(geo::Point::new(x, y))
                .to_gpkg_wkb(CoordDimensions::xy(), Some(srs), Vec::new())
                .unwrap();
            assert_eq!(gpkg_point(x, y, srs).to_vec(), want, "({x}, {y}) in {srs}");
        }
    }

    #[test]
    fn hilbert_order_is_the_crates() {
        // The crate's sort of the same nodes (stable, descending) against ours.
        let mut rng = lcg(7);
        let points: Vec<[f64; 2]> = (0..5000)
            .map(|_| [rng() * 10.0 + 20.0, rng() * 5.0 + 55.0])
            .collect();
        let mut extent = NodeItem::create(0);
        for [x, y] in &points {
            extent.expand_xy(*x, *y);
        }
        let mut nodes: Vec<NodeItem> = points
            .iter()
            .enumerate()
            .map(|(i, [x, y])| {
                let mut n = NodeItem::bounds(*x, *y, *x, *y);
                n.offset = i as u64;
                n
            })
            .collect();
        flatgeobuf::packed_r_tree::hilbert_sort(&mut nodes, &extent);
        let mut order: Vec<(u32, u32)> = points
            .iter()
            .enumerate()
            .map(|(i, [x, y])| (hilbert_of(*x, *y, &extent), i as u32))
            .collect();
        order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let ours: Vec<u64> = order.iter().map(|&(_, i)| u64::from(i)).collect();
        let crates: Vec<u64> = nodes.iter().map(|n| n.offset).collect();
        assert_eq!(ours, crates);
    }

    /// A small seeded generator of values in 0..1.
    pub(super) fn lcg(seed: u64) -> impl FnMut() -> f64 {
        let mut s = seed;
        move || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        }
    }
}
