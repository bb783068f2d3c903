//! Reading a FlatGeobuf file (`.fgb`, version 3) with the `flatgeobuf` crate's FlatBuffers
//! schema: the header (columns, geometry type, coordinate system) and every feature are
//! verified by FlatBuffers before they are used; the spatial index is skipped, since every
//! feature is read, in file order.
//!
//! Property values and geometries are decoded here rather than by the crate's own readers,
//! which index the property bytes and coordinate arrays without bounds checks and so panic on a
//! corrupt file: every length and offset is checked, and a corrupt file stops the read with a
//! message naming the feature. A property absent from a feature is read as absent (FlatGeobuf
//! has no other null); a `Json` column is read as the JSON value it holds.

use std::{
    fs::File,
    io::{BufReader, Read},
};

use super::{push_integer, push_number, push_string, Block, RowBuf};

use flatgeobuf::{
    packed_r_tree::PackedRTree, size_prefixed_root_as_feature, size_prefixed_root_as_header,
    ColumnType, GeometryType,
};
use geo::{Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon};

use super::{InputFile, RawGeometry};
use crate::{
    error::{Error, Result},
    projection::Projection,
};

/// The first bytes of a FlatGeobuf file (`fgb`, the version, `fgb`, 0).
const MAGIC: [u8; 3] = *b"fgb";
/// The largest header read (as the reference implementation).
const MAX_HEADER: usize = 10 << 20;

/// A FlatGeobuf file, its header read; the features are read by [`FlatGeobuf::rows`].
pub(crate) struct FlatGeobuf {
    file: String,
    reader: BufReader<File>,
    /// Bytes left in the file after the position of `reader`.
    left: u64,
    /// Each column: name and type.
    columns: Vec<(String, ColumnType)>,
    geometry_type: GeometryType,
    /// The header's coordinate system, when it is not WGS84 longitude/latitude.
    pub projection: Option<Projection>,
}

fn corrupt(file: &str, reason: impl std::fmt::Display) -> Error {
    Error::File {
        file: file.to_string(),
        reason: format!("not a readable FlatGeobuf file: {reason}"),
    }
}

/// Read `buf.len()` bytes, or fail naming what was being read.
fn read_exact(
    reader: &mut impl Read,
    left: &mut u64,
    buf: &mut [u8],
    file: &str,
    what: &str,
) -> Result<()> {
    if (buf.len() as u64) > *left {
        return Err(corrupt(file, format!("the file ends inside {what}")));
    }
    reader.read_exact(buf).map_err(|e| Error::Read {
        file: file.to_string(),
        source: e,
    })?;
    *left -= buf.len() as u64;
    Ok(())
}

/// Open the FlatGeobuf file `input` names and read its header.
///
/// # Errors
/// The file cannot be read; it is not a FlatGeobuf file (wrong first bytes, a header that does
/// not verify); its coordinate system cannot be used.
pub(crate) fn open(input: &InputFile, file: &str) -> Result<FlatGeobuf> {
    let f = File::open(&input.path).map_err(|e| Error::Read {
        file: file.to_string(),
        source: e,
    })?;
    let mut left = f
        .metadata()
        .map_err(|e| Error::Read {
            file: file.to_string(),
            source: e,
        })?
        .len();
    let mut reader = BufReader::with_capacity(1 << 20, f);
    let mut magic = [0u8; 8];
    read_exact(&mut reader, &mut left, &mut magic, file, "its first bytes")?;
    if magic[0..3] != MAGIC || magic[4..7] != MAGIC || magic[3] > flatgeobuf::VERSION {
        return Err(corrupt(
            file,
            "it does not start with the FlatGeobuf signature (\"fgb\", version 3, \"fgb\")",
        ));
    }
    let mut size = [0u8; 4];
    read_exact(&mut reader, &mut left, &mut size, file, "the header size")?;
    let header_size = u32::from_le_bytes(size) as usize;
    if !(8..=MAX_HEADER).contains(&header_size) {
        return Err(corrupt(file, format!("a header of {header_size} bytes")));
    }
    let mut header_buf = vec![0u8; header_size + 4];
    header_buf[..4].copy_from_slice(&size);
    read_exact(
        &mut reader,
        &mut left,
        &mut header_buf[4..],
        file,
        "the header",
    )?;
    let header = size_prefixed_root_as_header(&header_buf)
        .map_err(|e| corrupt(file, format!("the header: {e}")))?;
    let columns = header
        .columns()
        .map(|cs| {
            cs.iter()
                .map(|c| (c.name().to_string(), c.type_()))
                .collect()
        })
        .unwrap_or_default();
    let projection = match header.crs() {
        None => None,
        Some(crs) => {
            let epsg = crs.org().is_none_or(|o| o.eq_ignore_ascii_case("epsg"));
            let code = crs.code();
            match (epsg, code, crs.wkt()) {
                // WGS84 and CGCS2000 (4490) are read as they are; code 0 without a WKT is an
                // unknown system, read as WGS84 as an undeclared one is.
                (true, 4326 | 4490, _) | (_, 0, None) => None,
                (_, _, wkt) => {
                    let p = if epsg && code > 0 {
                        Projection::epsg(code as u32).or_else(|e| match wkt {
                            Some(w) => Projection::from_wkt(w).map_err(|_| e),
                            None => Err(e),
                        })
                    } else {
                        Projection::from_wkt(wkt.unwrap_or_default())
                    };
                    Some(p.map_err(|e| Error::File {
                        file: file.to_string(),
                        reason: format!("the file's coordinate system {e}"),
                    })?)
                }
            }
        }
    };
    let geometry_type = header.geometry_type();
    let count = header.features_count();
    let node_size = header.index_node_size();
    if node_size == 1 {
        return Err(corrupt(file, "an index node size of 1"));
    }
    if node_size >= 2 && count > 0 {
        // Skip the spatial index.
        let index = usize::try_from(count)
            .ok()
            .filter(|&n| n <= 1 << 40)
            .map(|n| PackedRTree::index_size(n, node_size) as u64)
            .filter(|&size| size <= left)
            .ok_or_else(|| corrupt(file, format!("{count} features do not fit in the file")))?;
        let skip = i64::try_from(index)
            .map_err(|_| corrupt(file, format!("{count} features do not fit in the file")))?;
        reader.seek_relative(skip).map_err(|e| Error::Read {
            file: file.to_string(),
            source: e,
        })?;
        left -= index;
    }
    Ok(FlatGeobuf {
        file: file.to_string(),
        reader,
        left,
        columns,
        geometry_type,
        projection,
    })
}

/// What turns a feature's bytes into a [`Row`] (in parallel, on rayon's threads).
pub(crate) struct Decoder {
    /// Each column: name and type.
    columns: Vec<(String, ColumnType)>,
    /// Each column's place among the wanted properties.
    slot_of: Vec<Option<usize>>,
    geometry_type: GeometryType,
}

impl FlatGeobuf {
    /// The decoder of this file's features into rows with the properties `wanted`.
    pub(crate) fn decoder(&self, wanted: &[&str]) -> Decoder {
        let slot_of = self
            .columns
            .iter()
            .map(|(name, _)| {
                wanted.iter().position(|w| w == name).or_else(|| {
                    // A column matched by case only when no column has the exact name.
                    wanted
                        .iter()
                        .position(|w| w.eq_ignore_ascii_case(name))
                        .filter(|&i| !self.columns.iter().any(|(n, _)| n == wanted[i]))
                })
            })
            .collect();
        Decoder {
            columns: self.columns.clone(),
            slot_of,
            geometry_type: self.geometry_type,
        }
    }

    /// Read every feature's bytes (with its size prefix), in file order, in large blocks cut
    /// at feature boundaries, handing them to `emit` as [`Block`]s of whole features.
    ///
    /// # Errors
    /// The file cannot be read, or ends inside a feature.
    pub(crate) fn features(mut self, emit: &mut dyn FnMut(Block) -> bool) -> Result<()> {
        /// The bytes read at once (a block holds more when one feature is larger).
        const BLOCK_BYTES: usize = 4 << 20;
        let file = self.file.clone();
        let read_error = |e| Error::Read {
            file: file.clone(),
            source: e,
        };
        // Feature `k` starts the bytes read but not yet handed over (`carry`).
        let mut k = 0usize;
        let mut carry: Vec<u8> = Vec::new();
        let mut need = BLOCK_BYTES;
        loop {
            let mut block = Block::with_capacity(need);
            block.bytes.extend_from_slice(&carry);
            let want = (need.saturating_sub(carry.len()) as u64).min(self.left);
            let got = (&mut self.reader)
                .take(want)
                .read_to_end(&mut block.bytes)
                .map_err(read_error)?;
            if (got as u64) < want {
                return Err(corrupt(&file, format!("the file ends inside feature {k}")));
            }
            self.left -= want;
            let bytes = &block.bytes;
            let mut at = 0;
            need = BLOCK_BYTES;
            while let Some(size) = bytes.get(at..at + 4) {
                let len = u32::from_le_bytes(size.try_into().unwrap_or_default()) as usize;
                let end = at + 4 + len;
                if end > bytes.len() {
                    // Not all read yet: is it in the file?
                    if (end - bytes.len()) as u64 > self.left {
                        return Err(corrupt(
                            &file,
                            format!("feature {k} is {len} bytes long, more than the file holds"),
                        ));
                    }
                    need = need.max(4 + len);
                    break;
                }
                block.ends.push(end);
                at = end;
                k += 1;
            }
            carry = block.bytes[at..].to_vec();
            block.bytes.truncate(at);
            if self.left == 0 && !carry.is_empty() {
                return Err(corrupt(&file, format!("the file ends inside feature {k}")));
            }
            if block.len() > 0 && !emit(block) {
                return Ok(());
            }
            if self.left == 0 {
                return Ok(());
            }
        }
    }
}

impl Decoder {
    /// Decode a feature's bytes (with its size prefix) into `row` (emptied for the wanted
    /// properties): its wanted properties and its geometry; a feature that does not verify, or
    /// whose properties cannot be read, has a bad geometry with the reason.
    pub(crate) fn row(&self, buf: &[u8], row: &mut RowBuf) {
        row.geometry = match self.decode(buf, row) {
            Ok(g) => g,
            Err(reason) => RawGeometry::Bad(format!("not a readable FlatGeobuf feature: {reason}")),
        };
    }

    fn decode(&self, buf: &[u8], row: &mut RowBuf) -> std::result::Result<RawGeometry, String> {
        let feature = size_prefixed_root_as_feature(buf).map_err(|e| e.to_string())?;
        if let Some(p) = feature.properties() {
            self.properties(p.bytes(), row)
                .map_err(|e| format!("its properties: {e}"))?;
        }
        Ok(match feature.geometry() {
            None => RawGeometry::Bad("the feature has no geometry".into()),
            Some(g) => match geometry(&g, self.geometry_type) {
                Ok(g) => RawGeometry::Geo(g),
                Err(reason) => RawGeometry::Bad(reason),
            },
        })
    }

    /// Decode a feature's property bytes (a column index, then its value, for each property
    /// present) into the JSON text of the wanted ones.
    fn properties(&self, bytes: &[u8], row: &mut RowBuf) -> std::result::Result<(), String> {
        let mut cur = Cursor(bytes);
        // The reference writer may leave one trailing byte.
        while cur.0.len() > 1 {
            let column = u16::from_le_bytes(cur.array()?) as usize;
            let Some((name, ty)) = self.columns.get(column) else {
                return Err(format!(
                    "column {column} of {} in the header",
                    self.columns.len()
                ));
            };
            let slot = self.slot_of.get(column).copied().flatten();
            // The value is read (and checked) whether wanted or not.
            macro_rules! integer {
                ($t:ty) => {{
                    let n = <$t>::from_le_bytes(cur.array()?);
                    if let Some(slot) = slot {
                        row.set(slot, |out| push_integer(out, n));
                    }
                }};
            }
            match *ty {
                ColumnType::Bool => {
                    let b = cur.array::<1>()?[0] != 0;
                    if let Some(slot) = slot {
                        row.set(slot, |out| {
                            out.extend_from_slice(if b { b"true" } else { b"false" })
                        });
                    }
                }
                ColumnType::Byte => integer!(i8),
                ColumnType::UByte => integer!(u8),
                ColumnType::Short => integer!(i16),
                ColumnType::UShort => integer!(u16),
                ColumnType::Int => integer!(i32),
                ColumnType::UInt => integer!(u32),
                ColumnType::Long => integer!(i64),
                ColumnType::ULong => integer!(u64),
                ColumnType::Float | ColumnType::Double => {
                    let x = if *ty == ColumnType::Float {
                        f64::from(f32::from_le_bytes(cur.array()?))
                    } else {
                        f64::from_le_bytes(cur.array()?)
                    };
                    if let Some(slot) = slot {
                        row.set(slot, |out| push_number(out, x));
                    }
                }
                ColumnType::String
                | ColumnType::Json
                | ColumnType::DateTime
                | ColumnType::Binary => {
                    let len = u32::from_le_bytes(cur.array()?) as usize;
                    let value = cur.take(len)?;
                    if *ty == ColumnType::Binary {
                        if let Some(slot) = slot {
                            row.unset(slot);
                        }
                    } else {
                        let text = std::str::from_utf8(value)
                            .map_err(|_| format!("field {name:?} is not valid UTF-8 text"))?;
                        if let Some(slot) = slot {
                            row.set(slot, |out| {
                                if *ty == ColumnType::Json
                                    && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
                                {
                                    out.extend_from_slice(text.as_bytes());
                                } else {
                                    push_string(out, text);
                                }
                            });
                        }
                    }
                }
                other => return Err(format!("field {name:?} has an unknown type {}", other.0)),
            }
        }
        Ok(())
    }
}

/// The property bytes not yet read.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("they end inside a value".into());
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> std::result::Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
}

/// The coordinates of `xy[from..to]` (in coordinate pairs).
fn coords(
    xy: &flatbuffers::Vector<'_, f64>,
    from: usize,
    to: usize,
) -> std::result::Result<Vec<Coord<f64>>, String> {
    if from > to || to.checked_mul(2).is_none_or(|n| n > xy.len()) {
        return Err(format!(
            "coordinates {from}..{to} of a geometry with {} numbers",
            xy.len()
        ));
    }
    Ok((from..to)
        .map(|i| Coord {
            x: xy.get(2 * i),
            y: xy.get(2 * i + 1),
        })
        .collect())
}

/// The parts of a geometry cut at its `ends` (coordinate-pair counts), or one part.
fn parts(g: &flatgeobuf::Geometry<'_>) -> std::result::Result<Vec<LineString<f64>>, String> {
    let xy = g.xy().ok_or("a geometry without coordinates")?;
    if xy.len() % 2 != 0 {
        return Err("an odd number of coordinates".into());
    }
    let n = xy.len() / 2;
    let ends: Vec<usize> = match g.ends() {
        Some(e) if !e.is_empty() => e.iter().map(|e| e as usize).collect(),
        _ => vec![n],
    };
    let mut from = 0;
    let mut out = Vec::with_capacity(ends.len());
    for end in ends {
        out.push(LineString(coords(&xy, from, end)?));
        from = end;
    }
    Ok(out)
}

fn polygon(g: &flatgeobuf::Geometry<'_>) -> std::result::Result<Polygon<f64>, String> {
    let mut rings = parts(g)?.into_iter();
    let exterior = rings.next().ok_or("a polygon without rings")?;
    Ok(Polygon::new(exterior, rings.collect()))
}

/// A FlatGeobuf geometry of the type `ty` (the header's, or the feature's own when the
/// header's is Unknown) as a `geo` geometry.
fn geometry(
    g: &flatgeobuf::Geometry<'_>,
    ty: GeometryType,
) -> std::result::Result<Geometry<f64>, String> {
    let ty = if ty == GeometryType::Unknown {
        g.type_()
    } else {
        ty
    };
    let nested = |g: &flatgeobuf::Geometry<'_>, ty| -> std::result::Result<Vec<_>, String> {
        g.parts()
            .ok_or_else(|| "a collection without parts".to_string())?
            .iter()
            .map(|p| geometry(&p, ty))
            .collect()
    };
    Ok(match ty {
        GeometryType::Point => {
            let xy = g.xy().ok_or("a point without coordinates")?;
            if xy.len() == 2 {
                return Ok(Geometry::Point(Point::new(xy.get(0), xy.get(1))));
            }
            match coords(&xy, 0, 1)?.first() {
                Some(c) if xy.len() == 2 => Geometry::Point(Point(*c)),
                _ => return Err("a point with other than two coordinates".into()),
            }
        }
        GeometryType::MultiPoint => {
            let xy = g.xy().ok_or("a multipoint without coordinates")?;
            Geometry::MultiPoint(MultiPoint(
                coords(&xy, 0, xy.len() / 2)?
                    .into_iter()
                    .map(Point)
                    .collect(),
            ))
        }
        GeometryType::LineString => Geometry::LineString(LineString(
            parts(g)?.into_iter().flat_map(|l| l.0).collect(),
        )),
        GeometryType::MultiLineString => Geometry::MultiLineString(MultiLineString(parts(g)?)),
        GeometryType::Polygon => Geometry::Polygon(polygon(g)?),
        GeometryType::MultiPolygon => Geometry::MultiPolygon(MultiPolygon(
            g.parts()
                .ok_or("a multipolygon without parts")?
                .iter()
                .map(|p| polygon(&p))
                .collect::<std::result::Result<_, _>>()?,
        )),
        GeometryType::GeometryCollection => {
            Geometry::GeometryCollection(geo::GeometryCollection(nested(g, GeometryType::Unknown)?))
        }
        other => {
            return Err(format!(
                "the geometry type {} is not supported",
                other.variant_name().unwrap_or("unknown")
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::io::{read_communities, Fields, Source};

    /// Every prefix of a FlatGeobuf file, and the file with each byte replaced by 0x00 and 0xFF
    /// in turn, is read or refused with an error, never a panic.
    #[test]
    fn cut_and_mutated_files_never_panic() {
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../cli/tests/fixtures/formats/communities.fgb"
        );
        let bytes = std::fs::read(fixture).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.fgb");
        let fields = Fields::default();
        let read = |content: &[u8]| {
            std::fs::write(&path, content).unwrap();
            let source = Source::path(&path);
            let _ = read_communities(&source, &fields);
        };
        let whole = read_communities(&Source::path(fixture), &fields).unwrap();
        assert_eq!(whole.items.len(), 6);
        for n in 0..bytes.len() {
            read(&bytes[..n]);
        }
        let mut m = bytes.clone();
        for i in 0..bytes.len() {
            for v in [0x00, 0xFF] {
                m[i] = v;
                read(&m);
            }
            m[i] = bytes[i];
        }
    }
}
