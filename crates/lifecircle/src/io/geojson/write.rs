//! Writing GeoJSON (RFC 7946): the one writer behind every file lifecircle writes (the
//! analysis outputs, `extract`'s files and the synthetic cities).
//!
//! - **Files** are written atomically ([`write_atomically`]): into a temporary file in the
//!   same directory, renamed into place when complete, so a failed run never leaves a
//!   half-written file. Every file gets ordinary permissions: read-write for everyone, less the
//!   process's umask (`0644` under the usual umask `022`), as a shell redirect would give.
//! - **Numbers** have one formatter ([`push_number`]): rounded half away from zero to a fixed
//!   number of decimals, written without an exponent, `null` when not finite.
//! - **Coordinates** are `[longitude, latitude]` in WGS84 with [`COORD_DECIMALS`] decimals
//!   (1e-7 degree is about 1 cm).
//! - **Rings** follow RFC 7946 §3.1.6: exterior rings counterclockwise, holes clockwise. A ring
//!   is counterclockwise when its signed (shoelace) area in longitude/latitude is positive; a
//!   ring the other way round is written in reverse, and a ring without area as it is. (The
//!   sign of the area is the net winding, so a ring with a small self-intersecting spike is
//!   judged by its bulk, where `geo`'s `Orient`, which looks at the turn at one vertex, can
//!   take it the wrong way round; see [`is_reversed`].)
//! - **Collections** are framed by [`FeatureCollection`]: one feature per line, formatted
//!   in parallel chunks when there are many ([`FeatureCollection::features_par`]) and always
//!   written in order.
//!
//! Features are formatted as bytes by the caller with the `push_*` functions, which append to a
//! `Vec<u8>` (writing to a `Vec` cannot fail).

use std::{
    fs,
    io::{self, BufWriter, Write},
    path::Path,
};

use geo::{Coord, Geometry, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;

use crate::{
    error::{Error, Result},
    geodesy::LonLat,
    model::Id,
    par::Chunks,
};

// ---------------------------------------------------------------------------------------------
// Files.

/// Write `path` atomically: `write` fills a temporary file in the same directory, which is
/// renamed to `path` only when everything succeeded (see the [module docs](self) for its
/// permissions).
///
/// # Errors
/// [`Error::Write`] naming `path`: the directory is not writable, or `write` fails.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> Result<()> {
    let err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".lifecircle-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Outputs are ordinary files for GIS tools and colleagues, not the private 0600 of
        // temporary files. The mode is given to open(2), so the umask applies.
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(dir).map_err(err)?;
    let mut w = BufWriter::with_capacity(1 << 20, tmp);
    write(&mut w).map_err(err)?;
    let tmp = w.into_inner().map_err(|e| err(e.into_error()))?;
    #[cfg(target_os = "linux")]
    if exchange(tmp.path(), path).is_ok() {
        // The temporary name now holds the previous file, which dropping `tmp` deletes.
        drop(tmp);
        return Ok(());
    }
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Swap two existing paths atomically (`renameat2` with `RENAME_EXCHANGE`).
///
/// Replacing a large file by `rename` makes ext4 start writing the new file out at once
/// (its `auto_da_alloc` safeguard), which costs longer than writing it took; an exchange
/// replaces the file just as atomically without that. Fails, and the caller falls back to
/// `rename`, when `to` does not exist yet or the file system cannot exchange.
#[cfg(target_os = "linux")]
fn exchange(from: &Path, to: &Path) -> io::Result<()> {
    use std::{ffi::CString, os::unix::ffi::OsStrExt};
    if !fs::symlink_metadata(to)?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Create an output directory if needed.
///
/// # Errors
/// [`Error::Write`]: it cannot be created, or exists and is not a directory.
pub fn prepare_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })
}

// ---------------------------------------------------------------------------------------------
// Numbers and strings.

/// Decimals written for coordinates (1e-7 degree is about 1 cm).
pub const COORD_DECIMALS: u32 = 7;

/// How many decimals a number is written with. More than 9 are written as 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decimals {
    /// At most this many, trailing zeros dropped: `24.94`, `60`.
    AtMost(u32),
    /// Exactly this many: `24.9400000`, `60.0000000`.
    Exactly(u32),
}

/// Coordinates as lifecircle writes them: at most [`COORD_DECIMALS`] decimals.
pub const COORDS: Decimals = Decimals::AtMost(COORD_DECIMALS);

/// Append `v` with at most `decimals` decimals (see [`push_number`]).
pub fn push_fixed(buf: &mut Vec<u8>, v: f64, decimals: u32) {
    push_number(buf, v, Decimals::AtMost(decimals));
}

/// Append `v` rounded half away from zero to the given decimals; `null` if not finite. A value
/// that rounds to zero is written without a sign.
pub fn push_number(buf: &mut Vec<u8>, v: f64, decimals: Decimals) {
    let (d, pad) = match decimals {
        Decimals::AtMost(d) => (d, false),
        Decimals::Exactly(d) => (d, true),
    };
    // A constant scale lets the compiler turn the divisions below into multiplications.
    match d {
        0 => push_scaled::<0>(buf, v, pad),
        1 => push_scaled::<1>(buf, v, pad),
        2 => push_scaled::<2>(buf, v, pad),
        3 => push_scaled::<3>(buf, v, pad),
        4 => push_scaled::<4>(buf, v, pad),
        5 => push_scaled::<5>(buf, v, pad),
        6 => push_scaled::<6>(buf, v, pad),
        7 => push_scaled::<7>(buf, v, pad),
        8 => push_scaled::<8>(buf, v, pad),
        _ => push_scaled::<9>(buf, v, pad),
    }
}

fn push_scaled<const D: u32>(buf: &mut Vec<u8>, v: f64, pad: bool) {
    let scale: u64 = const { 10u64.pow(D) };
    if !v.is_finite() {
        buf.extend_from_slice(b"null");
        return;
    }
    let x = v.abs() * scale as f64;
    if x >= 9.0e18 {
        // Beyond u64: fall back to the shortest round-trip representation.
        buf.extend_from_slice(format!("{v}").as_bytes());
        return;
    }
    // Round half away from zero without a libm call: below 2^53 the fraction `x - t` is exact,
    // and above it `x` is already a whole number.
    let t = x as u64;
    let n = if x - t as f64 >= 0.5 { t + 1 } else { t };
    if n != 0 && v < 0.0 {
        buf.push(b'-');
    }
    let mut itoa = itoa::Buffer::new();
    buf.extend_from_slice(itoa.format(n / scale).as_bytes());
    let mut frac = n % scale;
    let mut digits = D;
    if !pad {
        if frac == 0 {
            return;
        }
        while frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
    }
    if digits > 0 {
        buf.push(b'.');
        let s = itoa.format(frac);
        buf.extend(std::iter::repeat_n(b'0', digits as usize - s.len()));
        buf.extend_from_slice(s.as_bytes());
    }
}

/// Append a whole number.
pub fn push_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Append a JSON string.
pub fn push_str(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        // serde_json escapes exactly as JSON requires; writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *buf, s);
    }
}

/// Append an object key and its colon: `"name":`.
pub fn push_key(buf: &mut Vec<u8>, name: &str) {
    push_str(buf, name);
    buf.push(b':');
}

/// `v` rounded as [`push_fixed`] writes it with `decimals` decimals: the very value a reader
/// gets back from the file. (Rounding a value first does not change how it is written.)
pub fn rounded(v: f64, decimals: u32) -> f64 {
    let scale = 10f64.powi(decimals.min(9) as i32);
    (v * scale).round() / scale
}

/// Append an id: numbers as numbers, text as strings.
pub fn push_id(buf: &mut Vec<u8>, id: &Id) {
    match id {
        Id::Num(n) => buf.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Id::Text(s) => push_str(buf, s),
    }
}

// ---------------------------------------------------------------------------------------------
// Geometries.

/// Append a position `[longitude, latitude]`.
pub fn push_position(buf: &mut Vec<u8>, p: LonLat, decimals: Decimals) {
    buf.push(b'[');
    push_number(buf, p.lon, decimals);
    buf.push(b',');
    push_number(buf, p.lat, decimals);
    buf.push(b']');
}

fn lonlat(c: Coord<f64>) -> LonLat {
    LonLat::unchecked(c.x, c.y)
}

/// Append an array of positions.
fn push_positions(buf: &mut Vec<u8>, points: impl Iterator<Item = LonLat>, decimals: Decimals) {
    buf.push(b'[');
    for (i, p) in points.enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        push_position(buf, p, decimals);
    }
    buf.push(b']');
}

/// Twice the signed area of a ring in longitude/latitude (shoelace, relative to its first
/// vertex): positive when it winds counterclockwise, negative clockwise, zero without area.
fn signed_area2(ring: &LineString<f64>) -> f64 {
    let Some(&o) = ring.0.first() else {
        return 0.0;
    };
    ring.0
        .windows(2)
        .map(|w| (w[0].x - o.x) * (w[1].y - o.y) - (w[1].x - o.x) * (w[0].y - o.y))
        .sum()
}

/// Whether a ring winds against the RFC 7946 rule (exteriors counterclockwise, holes
/// clockwise) and is therefore written in reverse. A ring without area is written as it is.
pub fn is_reversed(ring: &LineString<f64>, exterior: bool) -> bool {
    let a = signed_area2(ring);
    if exterior {
        a < 0.0
    } else {
        a > 0.0
    }
}

/// Turn a polygon's rings the way they are written (see [`is_reversed`]), so that the polygon
/// in memory equals the one a reader gets back from the file.
pub fn orient(polygon: &mut Polygon<f64>) {
    if is_reversed(polygon.exterior(), true) {
        polygon.exterior_mut(|r| r.0.reverse());
    }
    polygon.interiors_mut(|holes| {
        for h in holes {
            if is_reversed(h, false) {
                h.0.reverse();
            }
        }
    });
}

fn push_ring(buf: &mut Vec<u8>, ring: &LineString<f64>, exterior: bool, decimals: Decimals) {
    let coords = ring.0.iter().map(|&c| lonlat(c));
    if is_reversed(ring, exterior) {
        push_positions(buf, coords.rev(), decimals);
    } else {
        push_positions(buf, coords, decimals);
    }
}

fn push_polygon_rings(buf: &mut Vec<u8>, p: &Polygon<f64>, decimals: Decimals) {
    buf.push(b'[');
    push_ring(buf, p.exterior(), true, decimals);
    for ring in p.interiors() {
        buf.push(b',');
        push_ring(buf, ring, false, decimals);
    }
    buf.push(b']');
}

/// Append a Point geometry object.
pub fn push_point(buf: &mut Vec<u8>, p: LonLat, decimals: Decimals) {
    buf.extend_from_slice(br#"{"type":"Point","coordinates":"#);
    push_position(buf, p, decimals);
    buf.push(b'}');
}

/// Append a LineString geometry object.
pub fn push_line_string(
    buf: &mut Vec<u8>,
    points: impl IntoIterator<Item = LonLat>,
    decimals: Decimals,
) {
    buf.extend_from_slice(br#"{"type":"LineString","coordinates":"#);
    push_positions(buf, points.into_iter(), decimals);
    buf.push(b'}');
}

/// Append a Polygon geometry object, its rings oriented by the RFC 7946 rule.
pub fn push_polygon(buf: &mut Vec<u8>, p: &Polygon<f64>, decimals: Decimals) {
    buf.extend_from_slice(br#"{"type":"Polygon","coordinates":"#);
    push_polygon_rings(buf, p, decimals);
    buf.push(b'}');
}

/// Append a MultiPolygon geometry object, its rings oriented by the RFC 7946 rule.
pub fn push_multi_polygon(buf: &mut Vec<u8>, m: &MultiPolygon<f64>, decimals: Decimals) {
    buf.extend_from_slice(br#"{"type":"MultiPolygon","coordinates":["#);
    for (i, p) in m.0.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        push_polygon_rings(buf, p, decimals);
    }
    buf.extend_from_slice(b"]}");
}

/// Append a geometry object: Point, LineString, Polygon or MultiPolygon; others as `null`.
pub fn push_geometry(buf: &mut Vec<u8>, g: &Geometry<f64>, decimals: Decimals) {
    match g {
        Geometry::Point(p) => push_point(buf, lonlat(p.0), decimals),
        Geometry::LineString(l) => push_line_string(buf, l.0.iter().map(|&c| lonlat(c)), decimals),
        Geometry::Polygon(p) => push_polygon(buf, p, decimals),
        Geometry::MultiPolygon(m) => push_multi_polygon(buf, m, decimals),
        _ => buf.extend_from_slice(b"null"),
    }
}

/// The members of a feature's `properties` object as they are appended (see [`push_feature`]).
pub struct Properties<'b> {
    buf: &'b mut Vec<u8>,
    members: usize,
}

impl Properties<'_> {
    /// Start member `name` (after a comma unless it is the first) and return the buffer to
    /// append its value to.
    pub fn key(&mut self, name: &str) -> &mut Vec<u8> {
        if self.members > 0 {
            self.buf.push(b',');
        }
        self.members += 1;
        push_key(self.buf, name);
        self.buf
    }
}

/// Append a feature with its properties first: `{"type":"Feature","properties":{...},
/// "geometry":...}`, the members appended by `properties`, the geometry object by `geometry`.
pub fn push_feature(
    buf: &mut Vec<u8>,
    properties: impl FnOnce(&mut Properties<'_>),
    geometry: impl FnOnce(&mut Vec<u8>),
) {
    buf.extend_from_slice(br#"{"type":"Feature","properties":{"#);
    properties(&mut Properties {
        buf: &mut *buf,
        members: 0,
    });
    buf.extend_from_slice(br#"},"geometry":"#);
    geometry(buf);
    buf.push(b'}');
}

// ---------------------------------------------------------------------------------------------
// Collections.

/// Features formatted per parallel task by [`FeatureCollection::features_par`].
const CHUNK: usize = 4096;

/// A FeatureCollection being written: `{"type":"FeatureCollection","features":[`, one feature
/// per line, `]}`. Each feature is formatted by a closure that appends its JSON object to a
/// buffer.
pub struct FeatureCollection<'w> {
    out: &'w mut (dyn Write + Send),
    /// Features written so far.
    count: usize,
    buf: Vec<u8>,
}

impl<'w> FeatureCollection<'w> {
    /// Start a collection, with a top-level `name` member when given (as GDAL writes one).
    ///
    /// # Errors
    /// The writer fails.
    pub fn begin(out: &'w mut (dyn Write + Send), name: Option<&str>) -> io::Result<Self> {
        let mut buf = Vec::with_capacity(1 << 12);
        buf.extend_from_slice(br#"{"type":"FeatureCollection","#);
        if let Some(name) = name {
            push_key(&mut buf, "name");
            push_str(&mut buf, name);
            buf.push(b',');
        }
        buf.extend_from_slice(br#""features":["#);
        out.write_all(&buf)?;
        Ok(Self { out, count: 0, buf })
    }

    /// The separator before feature number `k`.
    fn separator(k: usize) -> &'static [u8] {
        if k == 0 {
            b"\n"
        } else {
            b",\n"
        }
    }

    /// Write one feature.
    ///
    /// # Errors
    /// The writer fails.
    pub fn feature(&mut self, format: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        self.buf.clear();
        self.buf.extend_from_slice(Self::separator(self.count));
        format(&mut self.buf);
        self.count += 1;
        self.out.write_all(&self.buf)
    }

    /// Write `n` features, `format(buf, k)` appending feature `k`: formatted in parallel, a few
    /// thousand per task, while a writer thread writes the previous wave; written in order.
    ///
    /// # Errors
    /// The writer fails.
    pub fn features_par(
        &mut self,
        n: usize,
        format: impl Fn(&mut Vec<u8>, usize) + Sync,
    ) -> io::Result<()> {
        let before = self.count;
        let chunks = Chunks::new(n, CHUNK);
        let format_wave = |wave: std::ops::Range<usize>| -> Vec<Vec<u8>> {
            wave.into_par_iter()
                .map(|chunk| {
                    let mut buf = Vec::with_capacity(CHUNK * 480);
                    for k in chunks.range(chunk) {
                        buf.extend_from_slice(Self::separator(before + k));
                        format(&mut buf, k);
                    }
                    buf
                })
                .collect()
        };
        let sink = &mut *self.out;
        std::thread::scope(|scope| -> io::Result<()> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(1);
            let writer = scope.spawn(move || -> io::Result<()> {
                for chunks in rx {
                    for c in chunks {
                        sink.write_all(&c)?;
                    }
                }
                Ok(())
            });
            for wave in chunks.waves(rayon::current_num_threads().max(1) * 4) {
                if tx.send(format_wave(wave)).is_err() {
                    break; // the writer failed; its error is returned below
                }
            }
            drop(tx);
            writer
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the output writer thread panicked")))
        })?;
        self.count += n;
        Ok(())
    }

    /// Close the collection.
    ///
    /// # Errors
    /// The writer fails.
    pub fn end(self) -> io::Result<()> {
        self.out.write_all(b"\n]}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(v: f64, d: u32) -> String {
        let mut b = Vec::new();
        push_fixed(&mut b, v, d);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn fixed_point_formatting() {
        assert_eq!(fixed(24.9528524, 7), "24.9528524");
        assert_eq!(fixed(-0.00000004, 7), "0");
        assert_eq!(fixed(-0.00000006, 7), "-0.0000001");
        assert_eq!(fixed(60.5, 7), "60.5");
        assert_eq!(fixed(-179.99999999, 7), "-180");
        assert_eq!(fixed(123.45, 1), "123.5");
        assert_eq!(fixed(7.0, 3), "7");
        assert_eq!(fixed(f64::NAN, 3), "null");
        assert_eq!(fixed(0.5, 0), "1");
        assert_eq!(fixed(-2.5, 0), "-3");
        assert_eq!(fixed(0.49999999999999994, 0), "0");
    }

    #[test]
    fn exact_decimals_keep_their_zeros() {
        let cases = [
            (0.0, "0.0000000"),
            (-0.00000004, "0.0000000"),
            (-0.0000001, "-0.0000001"),
            (121.47, "121.4700000"),
            (-12.3456789, "-12.3456789"),
            (180.0, "180.0000000"),
            (-90.0, "-90.0000000"),
            (31.00000005, "31.0000001"),
        ];
        for (v, want) in cases {
            let mut b = Vec::new();
            push_number(&mut b, v, Decimals::Exactly(7));
            assert_eq!(String::from_utf8(b).unwrap(), want);
        }
        let mut b = Vec::new();
        push_number(&mut b, 2.5, Decimals::Exactly(0));
        assert_eq!(b, b"3");
    }

    /// The same rounding by string operations on `f64::round`, for comparison.
    fn fixed_by_strings(v: f64, d: u32) -> String {
        let n = (v * 10f64.powi(d as i32)).round();
        if n == 0.0 {
            return "0".into();
        }
        let digits = format!("{:0>width$}", n.abs() as u64, width = d as usize + 1);
        let (int, frac) = digits.split_at(digits.len() - d as usize);
        let frac = frac.trim_end_matches('0');
        let sign = if n < 0.0 { "-" } else { "" };
        if frac.is_empty() {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        }
    }

    #[test]
    fn fixed_point_agrees_with_string_rounding() {
        use rand::RngExt;
        let mut rng = lifecircle_synth::rng(7);
        for _ in 0..200_000 {
            let magnitude = 10f64.powi(rng.random_range(-8..9));
            let v = rng.random_range(-1.0..1.0) * magnitude;
            let d = rng.random_range(0..10);
            assert_eq!(fixed(v, d), fixed_by_strings(v, d), "{v:e} to {d} decimals");
        }
        // Ties: values that are exactly half a unit of the last decimal.
        for k in 0..1000 {
            let v = f64::from(k) + 0.5;
            assert_eq!(fixed(v, 0), fixed_by_strings(v, 0));
            assert_eq!(fixed(-v / 4.0, 2), fixed_by_strings(-v / 4.0, 2));
        }
    }

    #[test]
    fn strings_are_escaped() {
        let mut b = Vec::new();
        push_str(&mut b, "Kallio \"A\"\n");
        assert_eq!(String::from_utf8(b).unwrap(), r#""Kallio \"A\"\n""#);
        let mut b = Vec::new();
        push_str(&mut b, "邻里中心");
        assert_eq!(String::from_utf8(b).unwrap(), "\"邻里中心\"");
    }

    fn square(x0: f64, y0: f64, d: f64, ccw: bool) -> LineString<f64> {
        let mut r = LineString::from(vec![
            (x0, y0),
            (x0 + d, y0),
            (x0 + d, y0 + d),
            (x0, y0 + d),
            (x0, y0),
        ]);
        if !ccw {
            r.0.reverse();
        }
        r
    }

    fn geometry_text(g: &Geometry<f64>) -> String {
        let mut b = Vec::new();
        push_geometry(&mut b, g, COORDS);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn rings_are_written_exterior_counterclockwise_holes_clockwise() {
        let want = r#"{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[1,2],[2,2],[2,1],[1,1]]]}"#;
        for (outer_ccw, hole_ccw) in [(true, false), (false, false), (true, true), (false, true)] {
            let mut p = Polygon::new(
                square(0.0, 0.0, 4.0, outer_ccw),
                vec![square(1.0, 1.0, 1.0, hole_ccw)],
            );
            assert_eq!(geometry_text(&Geometry::Polygon(p.clone())), want);
            // `orient` turns the polygon in memory the same way.
            orient(&mut p);
            assert_eq!(p.exterior(), &square(0.0, 0.0, 4.0, true));
            assert_eq!(p.interiors(), [square(1.0, 1.0, 1.0, false)]);
        }
        // A ring without area is written as given.
        let flat = LineString::from(vec![(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (0.0, 0.0)]);
        assert!(!is_reversed(&flat, true) && !is_reversed(&flat, false));
    }

    #[test]
    fn every_geometry_kind() {
        let p = LonLat::unchecked(24.94, 60.17);
        assert_eq!(
            geometry_text(&Geometry::Point(geo::Point::new(p.lon, p.lat))),
            r#"{"type":"Point","coordinates":[24.94,60.17]}"#
        );
        let line = LineString::from(vec![(1.0, 2.0), (3.000_000_04, -4.5)]);
        assert_eq!(
            geometry_text(&Geometry::LineString(line)),
            r#"{"type":"LineString","coordinates":[[1,2],[3,-4.5]]}"#
        );
        let m = MultiPolygon::new(vec![
            Polygon::new(square(0.0, 0.0, 1.0, false), vec![]),
            Polygon::new(square(5.0, 0.0, 1.0, true), vec![]),
        ]);
        assert_eq!(
            geometry_text(&Geometry::MultiPolygon(m)),
            r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[5,0],[6,0],[6,1],[5,1],[5,0]]]]}"#
        );
        assert_eq!(
            geometry_text(&Geometry::MultiPoint(vec![(1.0, 2.0)].into())),
            "null"
        );
    }

    #[test]
    fn features_with_properties_first() {
        let mut b = Vec::new();
        push_feature(
            &mut b,
            |p| {
                push_str(p.key("id"), "a");
                push_fixed(p.key("name:zh"), 1.25, 1);
            },
            |g| push_point(g, LonLat::unchecked(1.0, 2.0), COORDS),
        );
        assert_eq!(
            String::from_utf8(b).unwrap(),
            r#"{"type":"Feature","properties":{"id":"a","name:zh":1.3},"geometry":{"type":"Point","coordinates":[1,2]}}"#
        );
        let mut b = Vec::new();
        push_feature(&mut b, |_| {}, |g| g.extend_from_slice(b"null"));
        assert_eq!(b, br#"{"type":"Feature","properties":{},"geometry":null}"#);
        for v in [24.936_579_649_9, -0.000_000_04, 1e-9, 123.456_75] {
            let (mut direct, mut first) = (Vec::new(), Vec::new());
            push_fixed(&mut direct, v, 7);
            push_fixed(&mut first, rounded(v, 7), 7);
            assert_eq!(direct, first);
            let text = String::from_utf8(direct).unwrap();
            assert_eq!(text.parse::<f64>().unwrap(), rounded(v, 7) + 0.0, "{v}");
        }
    }

    #[test]
    fn collections_frame_their_features_in_order() {
        let collect = |name: Option<&str>, n: usize, par: bool| {
            let mut out: Vec<u8> = Vec::new();
            let mut fc = FeatureCollection::begin(&mut out, name).unwrap();
            fc.feature(|b| b.extend_from_slice(b"{}")).unwrap();
            let format = |b: &mut Vec<u8>, k: usize| push_u64(b, k as u64);
            if par {
                fc.features_par(n, format).unwrap();
            } else {
                for k in 0..n {
                    fc.feature(|b| format(b, k)).unwrap();
                }
            }
            fc.end().unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            collect(None, 2, true),
            "{\"type\":\"FeatureCollection\",\"features\":[\n{},\n0,\n1\n]}\n"
        );
        assert_eq!(
            collect(Some("a \"b\""), 0, false),
            "{\"type\":\"FeatureCollection\",\"name\":\"a \\\"b\\\"\",\"features\":[\n{}\n]}\n"
        );
        // Many waves of chunks: the same text as one by one.
        let n = 3 * CHUNK * rayon::current_num_threads() * 4 + 17;
        assert_eq!(collect(None, n, true), collect(None, n, false));
        let mut out: Vec<u8> = Vec::new();
        FeatureCollection::begin(&mut out, None)
            .unwrap()
            .end()
            .unwrap();
        assert_eq!(out, b"{\"type\":\"FeatureCollection\",\"features\":[\n]}\n");
    }

    #[test]
    fn atomic_write_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        let r = write_atomically(&path, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert!(!path.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        write_atomically(&path, |w| w.write_all(b"{}")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "{}");
        // Replacing: a failed write keeps the old file; a good one leaves only the new one.
        let r = write_atomically(&path, |_| Err(io::Error::other("disk full")));
        assert!(r.is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "{}");
        write_atomically(&path, |w| w.write_all(b"[1]")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[1]");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["x.json"]);
    }

    /// Written files get the permissions of a file the program creates plainly (0666 less the
    /// umask), not the private 0600 of temporary files: new, and replacing an old file.
    #[cfg(unix)]
    #[test]
    fn written_files_have_ordinary_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let plain = dir.path().join("plain");
        fs::File::create(&plain).unwrap();
        let path = dir.path().join("x.json");
        write_atomically(&path, |w| w.write_all(b"{}")).unwrap();
        assert_eq!(mode(&path), mode(&plain));
        write_atomically(&path, |w| w.write_all(b"[]")).unwrap();
        assert_eq!(mode(&path), mode(&plain));
    }
}
