//! Population rasters: single-band GeoTIFFs such as WorldPop or GHS-POP, read with the `tiff`
//! crate (strips or tiles; no compression, LZW, Deflate or PackBits; samples of 8, 16, 32 or
//! 64 bits, integer or floating point).
//!
//! The georeference comes from the GeoTIFF tags: the pixel scale and one tie point (or an
//! affine `ModelTransformation` without rotation or with it), the raster type (pixel is area,
//! the default, or pixel is point), and the coordinate system from the geo keys: a geographic
//! or projected EPSG code, or a user-defined system whose citation holds an ESRI WKT (as GDAL
//! writes for GHS-POP's World Mollweide, ESRI:54009). Cells equal to the `GDAL_NODATA` value,
//! not finite, or not above zero hold nobody and are passed over.
//!
//! Each populated cell is one feature: a point at the cell's centre, with the cell's value as
//! its population and `r{row}c{col}` (0-based, row 0 at the top) as its id.

use std::{fs::File, io::BufReader};

use tiff::{
    decoder::{ChunkType, Decoder, DecodingResult},
    tags::Tag,
    ColorType,
};

use super::{json_number, json_string, InputFile, RawGeometry, Row, CHUNK_ROWS};
use crate::{
    error::{Error, Result},
    projection::Projection,
};

/// The property name under which a raster gives each cell's id (`r{row}c{col}`).
pub(crate) const CELL_ID: &str = "\u{0}raster:id";
/// The property name under which a raster gives each cell's value (its population).
pub(crate) const CELL_VALUE: &str = "\u{0}raster:value";

/// The affine transform of a raster: the position of a pixel corner `(col, row)` is
/// `(x0 + col·a + row·b, y0 + col·d + row·e)` (GDAL's geotransform order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Transform {
    x0: f64,
    a: f64,
    b: f64,
    y0: f64,
    d: f64,
    e: f64,
}

impl Transform {
    /// The centre of the cell at `row`, `col`, in the raster's coordinate system.
    pub(crate) fn centre(&self, row: u32, col: u32) -> (f64, f64) {
        let (c, r) = (f64::from(col) + 0.5, f64::from(row) + 0.5);
        (
            self.x0 + c * self.a + r * self.b,
            self.y0 + c * self.d + r * self.e,
        )
    }

    /// The cell `(row, col)` holding the point `(x, y)` (a point on an edge goes to the cell
    /// right of or below it), or `None` outside the raster.
    pub(crate) fn cell_of(&self, x: f64, y: f64, width: u32, height: u32) -> Option<(u32, u32)> {
        let det = self.a * self.e - self.b * self.d;
        if det == 0.0 || !det.is_finite() {
            return None;
        }
        let (dx, dy) = (x - self.x0, y - self.y0);
        let col = (self.e * dx - self.b * dy) / det;
        let row = (self.a * dy - self.d * dx) / det;
        let inside = |v: f64, n: u32| v >= 0.0 && v < f64::from(n);
        (inside(col, width) && inside(row, height))
            .then(|| (row.floor() as u32, col.floor() as u32))
    }
}

/// An open population raster.
pub(crate) struct Raster {
    file: String,
    decoder: Decoder<BufReader<File>>,
    /// Columns and rows.
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) transform: Transform,
    nodata: Option<f64>,
    /// The raster's coordinate system; `None`: WGS84 (or CGCS2000) longitude/latitude.
    pub(crate) projection: Option<Projection>,
}

/// A populated cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cell {
    pub(crate) row: u32,
    pub(crate) col: u32,
    pub(crate) value: f64,
}

impl Cell {
    /// Its id, `r{row}c{col}`.
    pub(crate) fn id(&self) -> String {
        format!("r{}c{}", self.row, self.col)
    }
}

// GeoTIFF geo keys (GeoTIFF 1.1, section 7).
const GT_MODEL_TYPE: u16 = 1024;
const GT_RASTER_TYPE: u16 = 1025;
const GT_CITATION: u16 = 1026;
const GEOGRAPHIC_TYPE: u16 = 2048;
const GEOG_CITATION: u16 = 2049;
const PROJECTED_CS_TYPE: u16 = 3072;
const PCS_CITATION: u16 = 3073;
const USER_DEFINED: u16 = 32767;
const RASTER_PIXEL_IS_POINT: u16 = 2;
const MODEL_PROJECTED: u16 = 1;
const MODEL_GEOGRAPHIC: u16 = 2;

/// The geo keys of a GeoTIFF: numeric values and ASCII values.
#[derive(Default)]
struct GeoKeys {
    shorts: Vec<(u16, u16)>,
    ascii: Vec<(u16, String)>,
}

impl GeoKeys {
    fn short(&self, key: u16) -> Option<u16> {
        self.shorts.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn ascii(&self, key: u16) -> Option<&str> {
        self.ascii
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl Raster {
    /// Open a raster and read its georeference.
    ///
    /// # Errors
    /// The file cannot be read, is not a TIFF, has more than one band or an unsupported sample
    /// type, lacks a georeference, or names a coordinate system lifecircle cannot convert.
    pub(crate) fn open(input: &InputFile, file: &str) -> Result<Self> {
        let bad = |reason: String| Error::File {
            file: file.to_string(),
            reason,
        };
        let f = File::open(&input.path).map_err(|e| Error::Read {
            file: file.to_string(),
            source: e,
        })?;
        let mut decoder = Decoder::new(BufReader::new(f)).map_err(|e| {
            bad(format!(
                "not a readable GeoTIFF population raster ({e}); lifecircle reads single-band \
                 GeoTIFFs such as WorldPop or GHS-POP"
            ))
        })?;
        let tiff_error = |e: tiff::TiffError| bad(format!("a damaged or unsupported TIFF: {e}"));
        let (width, height) = decoder.dimensions().map_err(tiff_error)?;
        match decoder.colortype().map_err(tiff_error)? {
            ColorType::Gray(_) => {}
            ColorType::Multiband { num_samples: 1, .. } => {}
            other => {
                return Err(bad(format!(
                    "has {} bands ({other:?}); a population raster has one band of counts",
                    other.num_samples()
                )))
            }
        }
        // SampleFormat: 1 unsigned, 2 signed, 3 floating point (the default 1).
        let formats: Vec<u16> = decoder
            .find_tag_unsigned_vec(Tag::SampleFormat)
            .map_err(tiff_error)?
            .unwrap_or_default();
        if let Some(f) = formats.iter().find(|f| !matches!(f, 1..=3)) {
            return Err(bad(format!(
                "its samples are {} (TIFF SampleFormat {f}); a population raster holds integer \
                 or floating-point counts",
                match f {
                    5 | 6 => "complex numbers",
                    _ => "of an undefined kind",
                }
            )));
        }
        let transform = read_transform(&mut decoder).map_err(&bad)?;
        let keys = read_geo_keys(&mut decoder).map_err(&bad)?;
        let transform = match keys.short(GT_RASTER_TYPE) {
            // The tie point is a pixel's centre: its corner lies half a pixel up and left.
            Some(RASTER_PIXEL_IS_POINT) => Transform {
                x0: transform.x0 - 0.5 * (transform.a + transform.b),
                y0: transform.y0 - 0.5 * (transform.d + transform.e),
                ..transform
            },
            _ => transform,
        };
        let projection = match &input.projection {
            Some(p) => Some(p.clone()),
            None => coordinate_system(&keys).map_err(&bad)?,
        }
        .filter(|p| !p.is_wgs84());
        let nodata =
            match decoder.find_tag(Tag::GdalNodata) {
                Ok(Some(v)) => {
                    let text = v.into_string().map_err(tiff_error)?;
                    let text = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
                    Some(text.parse::<f64>().map_err(|_| {
                        bad(format!("its GDAL_NODATA value {text:?} is not a number"))
                    })?)
                }
                Ok(None) => None,
                Err(e) => return Err(tiff_error(e)),
            };
        Ok(Self {
            file: file.to_string(),
            decoder,
            width,
            height,
            transform,
            nodata,
            projection,
        })
    }

    /// Read every populated cell, row by row from the top, handing them over in chunks of at
    /// most `chunk` cells. `emit` returns false to stop.
    ///
    /// # Errors
    /// A strip or tile that cannot be decoded (damaged, or of an unsupported compression or
    /// sample type).
    pub(crate) fn cells(
        &mut self,
        chunk: usize,
        emit: &mut dyn FnMut(Vec<Cell>) -> bool,
    ) -> Result<()> {
        let file = self.file.clone();
        let bad = |e: tiff::TiffError| Error::File {
            file: file.clone(),
            reason: format!("a strip or tile cannot be read: {e}"),
        };
        let (cw, ch) = self.decoder.chunk_dimensions();
        let (cw, ch) = (cw.max(1), ch.max(1));
        // Strips span the width; tiles are laid out across and then down.
        let across = match self.decoder.get_chunk_type() {
            ChunkType::Strip => 1,
            ChunkType::Tile => self.width.div_ceil(cw),
        };
        let bands = self.height.div_ceil(ch);
        let nodata = self.nodata;
        let mut out = Vec::with_capacity(chunk.min(CHUNK_ROWS));
        for band in 0..bands {
            let mut tiles = Vec::with_capacity(across as usize);
            for t in 0..across {
                let index = band * across + t;
                let data = self.decoder.read_chunk(index).map_err(bad)?;
                let (w, _) = self.decoder.chunk_data_dimensions(index);
                check_sample_type(&data).map_err(|reason| Error::File {
                    file: file.clone(),
                    reason,
                })?;
                tiles.push((t * cw, w as usize, data));
            }
            let top = band * ch;
            for row in top..(top + ch).min(self.height) {
                let r = (row - top) as usize;
                for (left, w, data) in &tiles {
                    for k in 0..*w {
                        let Some(value) = sample(data, r * w + k) else {
                            continue;
                        };
                        if !(value.is_finite() && value > 0.0) || is_nodata(value, nodata, data) {
                            continue;
                        }
                        out.push(Cell {
                            row,
                            col: left + k as u32,
                            value,
                        });
                        if out.len() == chunk
                            && !emit(std::mem::replace(&mut out, Vec::with_capacity(chunk)))
                        {
                            return Ok(());
                        }
                    }
                }
            }
        }
        if !out.is_empty() {
            emit(out);
        }
        Ok(())
    }

    /// Emit the populated cells as rows: for each name of `wanted`, [`CELL_ID`] gets the cell's
    /// id and [`CELL_VALUE`] its value; the geometry is the cell's centre.
    pub(crate) fn rows(
        mut self,
        wanted: &[&str],
        emit: &mut dyn FnMut(Vec<Row>) -> bool,
    ) -> Result<()> {
        let transform = self.transform;
        self.cells(CHUNK_ROWS, &mut |cells| {
            let rows = cells
                .into_iter()
                .map(|cell| {
                    let props = wanted
                        .iter()
                        .map(|w| match *w {
                            CELL_ID => Some(json_string(&cell.id())),
                            CELL_VALUE => Some(json_number(cell.value)),
                            _ => None,
                        })
                        .collect();
                    let (x, y) = transform.centre(cell.row, cell.col);
                    Row {
                        props,
                        geometry: RawGeometry::Point(x, y),
                    }
                })
                .collect();
            emit(rows)
        })
    }
}

/// Whether `value` is the nodata value (compared in the sample's own precision, as GDAL does:
/// a float32 raster's nodata is written with more digits than a float32 holds).
fn is_nodata(value: f64, nodata: Option<f64>, data: &DecodingResult) -> bool {
    match nodata {
        None => false,
        Some(n) if n.is_nan() => value.is_nan(),
        Some(n) => {
            value == n || (matches!(data, DecodingResult::F32(_)) && value as f32 == n as f32)
        }
    }
}

/// Refuse the sample types a population cannot be read from.
fn check_sample_type(data: &DecodingResult) -> std::result::Result<(), String> {
    match data {
        DecodingResult::F16(_) => Err(
            "its samples are 16-bit floating point, which lifecircle does not read; convert \
             the raster, e.g. `gdal_translate -ot Float32 in.tif out.tif`"
                .into(),
        ),
        _ => Ok(()),
    }
}

/// The sample at `i` as a number.
fn sample(data: &DecodingResult, i: usize) -> Option<f64> {
    Some(match data {
        DecodingResult::U8(v) => f64::from(*v.get(i)?),
        DecodingResult::U16(v) => f64::from(*v.get(i)?),
        DecodingResult::U32(v) => f64::from(*v.get(i)?),
        DecodingResult::U64(v) => *v.get(i)? as f64,
        DecodingResult::I8(v) => f64::from(*v.get(i)?),
        DecodingResult::I16(v) => f64::from(*v.get(i)?),
        DecodingResult::I32(v) => f64::from(*v.get(i)?),
        DecodingResult::I64(v) => *v.get(i)? as f64,
        DecodingResult::F32(v) => f64::from(*v.get(i)?),
        DecodingResult::F64(v) => *v.get(i)?,
        DecodingResult::F16(_) => return None,
    })
}

/// The raster's affine transform from `ModelPixelScale` and one `ModelTiepoint`, or from
/// `ModelTransformation`.
fn read_transform(
    decoder: &mut Decoder<BufReader<File>>,
) -> std::result::Result<Transform, String> {
    let doubles = |decoder: &mut Decoder<BufReader<File>>,
                   tag: Tag|
     -> std::result::Result<Option<Vec<f64>>, String> {
        match decoder.find_tag(tag) {
            Ok(Some(v)) => v
                .into_f64_vec()
                .map(Some)
                .map_err(|e| format!("its {tag:?} cannot be read: {e}")),
            Ok(None) => Ok(None),
            Err(e) => Err(format!("its {tag:?} cannot be read: {e}")),
        }
    };
    let no_georeference = "has no georeference (no GeoTIFF ModelPixelScale and ModelTiepoint \
         tags, nor ModelTransformation): give a GeoTIFF, e.g. `gdal_translate -a_srs EPSG:4326 \
         -a_ullr ULX ULY LRX LRY in.tif out.tif`";
    let transform = if let Some(m) = doubles(decoder, Tag::ModelTransformationTag)? {
        match m.as_slice() {
            [a, b, _, x0, d, e, _, y0, ..] if m.len() >= 16 => Transform {
                x0: *x0,
                a: *a,
                b: *b,
                y0: *y0,
                d: *d,
                e: *e,
            },
            _ => return Err("its ModelTransformation tag does not hold 16 numbers".into()),
        }
    } else {
        let scale = doubles(decoder, Tag::ModelPixelScaleTag)?;
        let tie = doubles(decoder, Tag::ModelTiepointTag)?;
        match (scale.as_deref(), tie.as_deref()) {
            (Some([sx, sy, ..]), Some(t)) if t.len() == 6 => {
                let [i, j, _, x, y, _] = [t[0], t[1], t[2], t[3], t[4], t[5]];
                Transform {
                    x0: x - i * sx,
                    a: *sx,
                    b: 0.0,
                    y0: y + j * sy,
                    d: 0.0,
                    e: -sy,
                }
            }
            (Some(_), Some(t)) if t.len() > 6 => {
                return Err(format!(
                    "is georeferenced by {} ground control points, not a grid; warp it first, \
                     e.g. `gdalwarp -t_srs EPSG:4326 in.tif out.tif`",
                    t.len() / 6
                ))
            }
            _ => return Err(no_georeference.into()),
        }
    };
    let t = transform;
    let det = t.a * t.e - t.b * t.d;
    if ![t.x0, t.a, t.b, t.y0, t.d, t.e]
        .iter()
        .all(|v| v.is_finite())
        || det == 0.0
    {
        return Err(format!(
            "its georeference is degenerate (origin [{}, {}], pixel size [{}, {}])",
            t.x0, t.y0, t.a, t.e
        ));
    }
    Ok(transform)
}

/// The geo keys of the GeoTIFF (none when it has no `GeoKeyDirectory`).
fn read_geo_keys(decoder: &mut Decoder<BufReader<File>>) -> std::result::Result<GeoKeys, String> {
    let dir = match decoder.find_tag(Tag::GeoKeyDirectoryTag) {
        Ok(Some(v)) => v
            .into_u16_vec()
            .map_err(|e| format!("its GeoKeyDirectory cannot be read: {e}"))?,
        Ok(None) => return Ok(GeoKeys::default()),
        Err(e) => return Err(format!("its GeoKeyDirectory cannot be read: {e}")),
    };
    let ascii = match decoder.find_tag(Tag::GeoAsciiParamsTag) {
        Ok(Some(v)) => v.into_string().unwrap_or_default(),
        _ => String::new(),
    };
    let mut keys = GeoKeys::default();
    let n = usize::from(dir.get(3).copied().unwrap_or(0));
    for k in 0..n {
        let Some(entry) = dir.get(4 + 4 * k..8 + 4 * k) else {
            return Err("its GeoKeyDirectory is cut short".into());
        };
        let (key, location, count, value) = (entry[0], entry[1], entry[2], entry[3]);
        match location {
            0 => keys.shorts.push((key, value)),
            l if l == Tag::GeoAsciiParamsTag.to_u16() => {
                let start = usize::from(value);
                let text = ascii
                    .get(start..start + usize::from(count))
                    .unwrap_or_default()
                    .trim_end_matches(['|', '\0'])
                    .to_string();
                keys.ascii.push((key, text));
            }
            _ => {}
        }
    }
    Ok(keys)
}

/// The coordinate system the geo keys name: `None` for WGS84 longitude/latitude.
fn coordinate_system(keys: &GeoKeys) -> std::result::Result<Option<Projection>, String> {
    let fix = "name it with --coords EPSG:n (or --residences-coords), or warp the raster: \
               `gdalwarp -t_srs EPSG:4326 in.tif out.tif`";
    let epsg = |code: u16| {
        Projection::epsg(u32::from(code))
            .map(Some)
            .map_err(|e| format!("{e}; {fix}"))
    };
    match keys.short(GT_MODEL_TYPE) {
        Some(MODEL_GEOGRAPHIC) => match keys.short(GEOGRAPHIC_TYPE) {
            Some(4326 | 4490) => Ok(None),
            Some(code) if code != USER_DEFINED => epsg(code),
            _ => Err(format!(
                "a user-defined geographic coordinate system ({}); {fix}",
                keys.ascii(GEOG_CITATION).unwrap_or("no citation")
            )),
        },
        Some(MODEL_PROJECTED)
            if keys
                .short(PROJECTED_CS_TYPE)
                .is_some_and(|code| code != USER_DEFINED) =>
        {
            epsg(keys.short(PROJECTED_CS_TYPE).unwrap_or(USER_DEFINED))
        }
        // A user-defined system (GDAL writes World Mollweide so): its ESRI WKT, if cited.
        Some(_) => {
            let citation = keys
                .ascii(GT_CITATION)
                .or(keys.ascii(PCS_CITATION))
                .unwrap_or("");
            let esri = keys
                .ascii
                .iter()
                .find_map(|(_, text)| text.split_once("ESRI PE String = "));
            match esri {
                Some((_, wkt)) => Projection::from_wkt(wkt.trim_end_matches('|'))
                    .map(Some)
                    .map_err(|e| format!("{e}; {fix}")),
                None => Err(format!(
                    "a user-defined coordinate system without an EPSG code or ESRI WKT ({}); \
                     {fix}",
                    if citation.is_empty() {
                        "no citation"
                    } else {
                        citation
                    }
                )),
            }
        }
        None => Err(format!("no coordinate system (no GeoTIFF geo keys); {fix}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_centres_round_trip() {
        let t = Transform {
            x0: 100.0,
            a: 10.0,
            b: 0.0,
            y0: 500.0,
            d: 0.0,
            e: -5.0,
        };
        assert_eq!(t.centre(0, 0), (105.0, 497.5));
        assert_eq!(t.centre(2, 3), (135.0, 487.5));
        assert_eq!(t.cell_of(135.0, 487.5, 4, 3), Some((2, 3)));
        // On the top-left corner: the first cell; beyond the last column: outside.
        assert_eq!(t.cell_of(100.0, 500.0, 4, 3), Some((0, 0)));
        assert_eq!(t.cell_of(140.0, 487.5, 4, 3), None);
        assert_eq!(t.cell_of(99.9, 490.0, 4, 3), None);
        assert_eq!(
            Cell {
                row: 2,
                col: 3,
                value: 1.0
            }
            .id(),
            "r2c3"
        );
    }

    #[test]
    fn coordinate_systems_from_geo_keys() {
        let keys = |shorts: &[(u16, u16)], ascii: &[(u16, &str)]| GeoKeys {
            shorts: shorts.to_vec(),
            ascii: ascii.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        };
        let wgs84 = keys(&[(GT_MODEL_TYPE, 2), (GEOGRAPHIC_TYPE, 4326)], &[]);
        assert_eq!(coordinate_system(&wgs84), Ok(None));
        let utm = keys(&[(GT_MODEL_TYPE, 1), (PROJECTED_CS_TYPE, 32650)], &[]);
        assert_eq!(
            coordinate_system(&utm).unwrap().unwrap().epsg_code(),
            Some(32650)
        );
        let e = coordinate_system(&keys(&[], &[])).unwrap_err();
        assert!(
            e.contains("no coordinate system") && e.contains("--coords"),
            "{e}"
        );
        let e = coordinate_system(&keys(
            &[(GT_MODEL_TYPE, 1), (PROJECTED_CS_TYPE, USER_DEFINED)],
            &[(GT_CITATION, "my grid")],
        ))
        .unwrap_err();
        assert!(e.contains("user-defined") && e.contains("my grid"), "{e}");
    }
}
