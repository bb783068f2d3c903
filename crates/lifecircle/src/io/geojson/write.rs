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
    path::{Path, PathBuf},
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
/// permissions). A one-file [`OutputSet`]: the directory is locked while it is written.
///
/// # Errors
/// [`Error::Write`] naming `path`: the directory is not writable, or `write` fails;
/// [`Error::OutputLocked`] while another run writes into the directory.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut set = OutputSet::begin(dir)?;
    set.write_path(path.to_path_buf(), write)?;
    set.commit()
}

/// The lock file an [`OutputSet`] holds in its directory while it writes: it names the owner's
/// process id and run id.
pub const LOCK_FILE: &str = ".lifecircle.lock";

/// The names of the files the last committed set wrote into its directory, one a line (see
/// [`OutputSet::replace_previous`]).
pub const MANIFEST_FILE: &str = ".lifecircle-files";
/// Temporary files are named `.lifecircle-XXXXXX.tmp`.
const TEMP_PREFIX: &str = ".lifecircle-";
const TEMP_SUFFIX: &str = ".tmp";

/// The files of one run, written as a set into one directory: each file goes to a temporary
/// name there, and only [`commit`](Self::commit) puts them all in place, so a run that fails
/// (or is killed) before then leaves the previous set as it was.
///
/// - **Run id.** Every set has a [`run_id`](Self::run_id), which the files carry (a
///   `lifecircle_run` member of each FeatureCollection, a column of `summary.csv`), so that a
///   tool can tell files of different runs apart.
/// - **Lock.** While it exists, the set holds [`LOCK_FILE`] in the directory (an advisory
///   `flock` on Linux, released by the system when the process dies; the file holds the
///   owner's process id for the message another run gives). A second run into the same
///   directory stops with [`Error::OutputLocked`] instead of interleaving its files.
/// - **Stale temporaries.** With the lock held, no other run is writing there, so temporaries
///   (`.lifecircle-*.tmp`) in the directory were left by a run that was killed: they are
///   removed ([`removed_stale`](Self::removed_stale) counts them).
/// - **Commit.** Every file is swapped in (on Linux, atomically exchanged with the previous
///   file of that name, which keeps it at the temporary name until the end); if one cannot be
///   put in place, the files already swapped are swapped back, so the previous set is
///   restored, and the error names the file. Between the first and the last swap, a kill -9
///   can still leave a mixed set, which the run ids show.
pub struct OutputSet {
    dir: PathBuf,
    run_id: String,
    removed_stale: usize,
    /// Temporary file and final path of every file written, in order.
    staged: Vec<(PathBuf, PathBuf)>,
    /// The directory did not exist before: a set dropped without a commit removes it again
    /// (when empty), so a failed run leaves no trace.
    created_dir: bool,
    committed: bool,
    lock: Option<DirLock>,
    /// With [`replace_previous`](Self::replace_previous): the run's inputs, never removed.
    replace_previous: Option<Vec<PathBuf>>,
}

impl OutputSet {
    /// Create `dir` if needed, lock it, and remove stale temporaries of earlier runs.
    ///
    /// # Errors
    /// [`Error::Write`] naming the directory or lock file when they cannot be created;
    /// [`Error::OutputLocked`] while another run holds the lock.
    pub fn begin(dir: &Path) -> Result<Self> {
        let created_dir = !dir.is_dir();
        prepare_dir(dir)?;
        let run_id = new_run_id();
        let lock = DirLock::take(dir, &run_id)?;
        let removed_stale = remove_stale_temporaries(dir);
        Ok(Self {
            dir: dir.to_path_buf(),
            run_id,
            removed_stale,
            staged: Vec::new(),
            created_dir,
            committed: false,
            lock: Some(lock),
            replace_previous: None,
        })
    }

    /// The run id the files of this set carry: the UTC time, the process id and a sequence
    /// number, e.g. `20261202T081530.123456Z-4242-0`.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// At [`commit`](Self::commit), remove the files the previous committed set in the
    /// directory wrote ([`MANIFEST_FILE`] lists them) that this set does not write, so that
    /// the directory holds one run's files (a `map.png` or `service_areas.geojson` of an
    /// earlier run with other options does not linger beside this run's files). Only files
    /// named in that list are removed, never one of `inputs` (by any path to it), and nothing
    /// when the set is not committed. The commit then writes the list of this set's files.
    /// Without this call the previous files stay and no list is written.
    pub fn replace_previous(&mut self, inputs: &[&Path]) {
        self.replace_previous = Some(inputs.iter().map(|p| p.to_path_buf()).collect());
    }

    /// How many stale temporaries of earlier runs [`begin`](Self::begin) removed.
    pub fn removed_stale(&self) -> usize {
        self.removed_stale
    }

    /// Write the file `name` of the directory to a temporary name: `write` fills it. It is put
    /// in place by [`commit`](Self::commit). Returns the final path.
    ///
    /// # Errors
    /// [`Error::Write`] naming the final path when the temporary file cannot be created or
    /// `write` fails.
    pub fn write(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
    ) -> Result<PathBuf> {
        let path = self.dir.join(name);
        self.write_path(path.clone(), write)?;
        Ok(path)
    }

    /// Write the file `name` of the directory through its path (for writers that need a file
    /// to open, such as SQLite): `write` gets the path of an empty temporary file to fill. It
    /// is put in place by [`commit`](Self::commit). Returns the final path.
    ///
    /// # Errors
    /// [`Error::Write`] naming the final path when the temporary file cannot be created, and
    /// what `write` returns.
    pub fn write_by_path(
        &mut self,
        name: &str,
        write: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<PathBuf> {
        let path = self.dir.join(name);
        let mut tmp_path = None;
        self.write_path(path.clone(), |_| Ok(()))
            .map(|()| tmp_path = self.staged.last().map(|(tmp, _)| tmp.clone()))?;
        if let Some(tmp) = tmp_path {
            // Errors name the output, not its temporary name.
            write(&tmp).map_err(|e| match e {
                Error::Write { path: p, source } if p == tmp => Error::Write {
                    path: path.clone(),
                    source,
                },
                other => other,
            })?;
        }
        Ok(path)
    }

    fn write_path(
        &mut self,
        path: PathBuf,
        write: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
    ) -> Result<()> {
        let err = |source| Error::Write {
            path: path.clone(),
            source,
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Outputs are ordinary files for GIS tools and colleagues, not the private 0600 of
            // temporary files. The mode is given to open(2), so the umask applies.
            builder.permissions(fs::Permissions::from_mode(0o666));
        }
        let tmp = builder.tempfile_in(&self.dir).map_err(err)?;
        let (file, tmp_path) = tmp.keep().map_err(|e| err(e.error))?;
        // From here on the set removes the temporary file unless it is committed.
        self.staged.push((tmp_path, path.clone()));
        let mut w = BufWriter::with_capacity(1 << 20, file);
        write(&mut w).map_err(err)?;
        w.into_inner().map_err(|e| err(e.into_error()))?;
        Ok(())
    }

    /// Put every file written in place, in the order written.
    ///
    /// # Errors
    /// [`Error::Write`] naming the file that could not be put in place; the files put in place
    /// before it are put back (see the [type docs](Self)).
    pub fn commit(mut self) -> Result<()> {
        self.committed = true;
        let staged = std::mem::take(&mut self.staged);
        let mut installed: Vec<Installed> = Vec::with_capacity(staged.len());
        for (tmp, path) in &staged {
            match install(tmp, path) {
                Ok(how) => installed.push(how),
                Err(source) => {
                    for ((tmp, path), how) in staged.iter().zip(&installed).rev() {
                        uninstall(tmp, path, *how);
                    }
                    for (tmp, _) in &staged {
                        let _ = fs::remove_file(tmp);
                    }
                    return Err(Error::Write {
                        path: path.clone(),
                        source,
                    });
                }
            }
        }
        // The temporary names of exchanged files now hold the previous files.
        for ((tmp, _), how) in staged.iter().zip(&installed) {
            if *how == Installed::Exchanged {
                let _ = fs::remove_file(tmp);
            }
        }
        let names: Vec<String> = staged
            .iter()
            .filter_map(|(_, path)| Some(path.file_name()?.to_str()?.to_owned()))
            .collect();
        if let Some(inputs) = &self.replace_previous {
            remove_previous(&self.dir, &names, inputs);
            // Best effort: without the list, the next run only leaves these files in place.
            let list = self.dir.join(MANIFEST_FILE);
            let tmp = self.dir.join(format!("{TEMP_PREFIX}files{TEMP_SUFFIX}"));
            let text: String = names.iter().map(|n| format!("{n}\n")).collect();
            if fs::write(&tmp, text).is_ok() && fs::rename(&tmp, &list).is_err() {
                let _ = fs::remove_file(&tmp);
            }
        }
        Ok(())
    }
}

impl Drop for OutputSet {
    /// A set dropped without [`commit`](OutputSet::commit) removes its temporaries.
    fn drop(&mut self) {
        for (tmp, _) in &self.staged {
            let _ = fs::remove_file(tmp);
        }
        drop(self.lock.take());
        if self.created_dir && !self.committed {
            let _ = fs::remove_dir(&self.dir);
        }
    }
}

/// How a file was put in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Installed {
    /// Exchanged with the previous file, which is now at the temporary name.
    Exchanged,
    /// Renamed; `replaced` when a previous file was there (and is gone).
    Renamed { replaced: bool },
}

fn install(tmp: &Path, path: &Path) -> io::Result<Installed> {
    #[cfg(target_os = "linux")]
    if exchange(tmp, path).is_ok() {
        return Ok(Installed::Exchanged);
    }
    let replaced = fs::symlink_metadata(path).is_ok();
    fs::rename(tmp, path)?;
    Ok(Installed::Renamed { replaced })
}

/// Undo [`install`] as far as it can be undone: the previous file back in place, or no file
/// where there was none.
fn uninstall(tmp: &Path, path: &Path, how: Installed) {
    match how {
        #[cfg(target_os = "linux")]
        Installed::Exchanged => {
            let _ = exchange(tmp, path);
        }
        #[cfg(not(target_os = "linux"))]
        Installed::Exchanged => {}
        Installed::Renamed { replaced: false } => {
            let _ = fs::rename(path, tmp);
        }
        Installed::Renamed { replaced: true } => {}
    }
}

/// Remove the regular files of `dir` that the previous set listed in [`MANIFEST_FILE`] and
/// that are neither in `written` nor one of `inputs`; returns how many.
fn remove_previous(dir: &Path, written: &[String], inputs: &[PathBuf]) -> usize {
    let Ok(list) = fs::read_to_string(dir.join(MANIFEST_FILE)) else {
        return 0;
    };
    list.lines()
        .filter(|name| {
            // A plain file name of this directory, as a set writes them.
            !name.is_empty()
                && !name.starts_with('.')
                && !name.contains(['/', '\\'])
                && !written.iter().any(|w| w == name)
        })
        .map(|name| dir.join(name))
        .filter(|path| {
            fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
                && !crate::io::paths::is_any_of(path, inputs)
        })
        .filter(|path| fs::remove_file(path).is_ok())
        .count()
}

/// Remove the temporaries (`.lifecircle-*.tmp`, regular files) in `dir`; returns how many.
fn remove_stale_temporaries(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(TEMP_PREFIX)
                && name.ends_with(TEMP_SUFFIX)
                && e.file_type().is_ok_and(|t| t.is_file())
        })
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
}

/// A new run id: UTC time to the microsecond, process id, and a sequence number within the
/// process.
fn new_run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}.{:06}Z-{}-{}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        since.subsec_micros(),
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    )
}

/// The proleptic Gregorian date of a day number counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The lock on an output directory ([`LOCK_FILE`]), removed when dropped.
struct DirLock {
    path: PathBuf,
    _file: fs::File,
}

impl DirLock {
    fn take(dir: &Path, run_id: &str) -> Result<Self> {
        let path = dir.join(LOCK_FILE);
        let err = |source| Error::Write {
            path: path.clone(),
            source,
        };
        let Some(mut file) = Self::open_locked(&path).map_err(err)? else {
            // The owner's process id, as it wrote it (`pid N` on the first line).
            let owner = fs::read_to_string(&path).ok().and_then(|text| {
                let first = text.lines().next()?;
                first.strip_prefix("pid ")?.trim().parse().ok()
            });
            return Err(Error::OutputLocked {
                dir: dir.to_path_buf(),
                lock: path,
                owner,
            });
        };
        file.set_len(0).map_err(err)?;
        writeln!(file, "pid {}\nrun {run_id}", std::process::id()).map_err(err)?;
        Ok(Self { path, _file: file })
    }

    /// Open and lock the lock file, `None` when another process holds it. On Linux an
    /// advisory `flock`, which the system releases when the process dies; a file another run
    /// removed after we opened it is opened again.
    #[cfg(target_os = "linux")]
    fn open_locked(path: &Path) -> io::Result<Option<fs::File>> {
        use std::os::{fd::AsRawFd, unix::fs::MetadataExt};
        loop {
            let file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            // SAFETY: a valid open file descriptor.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                    return Ok(None);
                }
                return Err(e);
            }
            let (ours, now) = (file.metadata()?, fs::metadata(path));
            if now.is_ok_and(|m| m.ino() == ours.ino() && m.dev() == ours.dev()) {
                return Ok(Some(file));
            }
        }
    }

    /// Elsewhere the lock is the file's existence (a killed run's lock file must be removed
    /// by hand; the message says so).
    #[cfg(not(target_os = "linux"))]
    fn open_locked(path: &Path) -> io::Result<Option<fs::File>> {
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Removed while still locked, so no other run can lock this file and lose it.
        let _ = fs::remove_file(&self.path);
    }
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
    // A file (or a path through one) where the directory should be: say so, rather than
    // "File exists" or "Not a directory".
    let mut blocked = Some(dir);
    while let Some(p) = blocked {
        if p.exists() && !p.is_dir() {
            return Err(Error::OutputNotDirectory {
                path: dir.to_path_buf(),
                file: p.to_path_buf(),
            });
        }
        blocked = p.parent();
    }
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

/// Append `v` with at most `decimals` decimals and always a decimal point (`1.0`, `0.38`), so
/// that GIS tools type the field Real even where every value is whole; `null` if not finite.
pub fn push_fixed_real(buf: &mut Vec<u8>, v: f64, decimals: u32) {
    let start = buf.len();
    push_number(buf, v, Decimals::AtMost(decimals));
    let written = &buf[start..];
    if written != b"null" && !written.iter().any(|&b| matches!(b, b'.' | b'e' | b'E')) {
        buf.extend_from_slice(b".0");
    }
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

/// The value a reader gets back from `v` written by [`push_number`] with at most `decimals`
/// decimals (`None` for the `null` written when it is not finite), computed without formatting:
/// the same rounding, then the nearest `f64` to the decimal written (the division of two exact
/// numbers is correctly rounded, as parsing is).
pub fn written_value(v: f64, decimals: u32) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    let scale = 10u64.pow(decimals.min(9));
    let x = v.abs() * scale as f64;
    if x >= 9.0e18 {
        // Written in the shortest round-trip form: read back exactly.
        return Some(v);
    }
    let t = x as u64;
    let n = if x - t as f64 >= 0.5 { t + 1 } else { t };
    if n >= 1 << 53 {
        // Not exact as an f64: parse what is written.
        let mut buf = Vec::new();
        push_number(&mut buf, v, Decimals::AtMost(decimals));
        return std::str::from_utf8(&buf).ok()?.parse().ok();
    }
    let r = n as f64 / scale as f64;
    Some(if n != 0 && v < 0.0 { -r } else { r })
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

/// The top-level member of every FeatureCollection of an [`OutputSet`] that holds its run id.
pub const RUN_MEMBER: &str = "lifecircle_run";

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
    /// Start a collection, with a top-level `name` member when given (as GDAL writes one),
    /// and a `lifecircle_run` member with the run id of the [`OutputSet`] it belongs to (a
    /// foreign member, which RFC 7946 §6.1 allows).
    ///
    /// # Errors
    /// The writer fails.
    pub fn begin(
        out: &'w mut (dyn Write + Send),
        name: Option<&str>,
        run: Option<&str>,
    ) -> io::Result<Self> {
        Self::begin_with_crs(out, name, run, None)
    }

    /// [`begin`](Self::begin), with the legacy `crs` member naming a coordinate system other
    /// than WGS84 when `crs` is given (`urn:ogc:def:crs:EPSG::4547`), as GDAL writes it for
    /// such a GeoJSON file. RFC 7946 removed that member and allows only WGS84: a file with
    /// it departs from the RFC, as GDAL's own output in such a system does.
    ///
    /// # Errors
    /// The writer fails.
    pub fn begin_with_crs(
        out: &'w mut (dyn Write + Send),
        name: Option<&str>,
        run: Option<&str>,
        crs: Option<&str>,
    ) -> io::Result<Self> {
        let mut buf = Vec::with_capacity(1 << 12);
        buf.extend_from_slice(br#"{"type":"FeatureCollection","#);
        if let Some(name) = name {
            push_key(&mut buf, "name");
            push_str(&mut buf, name);
            buf.push(b',');
        }
        if let Some(crs) = crs {
            buf.extend_from_slice(br#""crs":{"type":"name","properties":{"name":"#);
            push_str(&mut buf, crs);
            buf.extend_from_slice(b"}},");
        }
        if let Some(run) = run {
            push_key(&mut buf, RUN_MEMBER);
            push_str(&mut buf, run);
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

    #[test]
    fn written_values_are_what_a_reader_parses_back() {
        // A seeded linear congruential generator (the seed is printed by the assertion).
        let seed = 20_261_206u64;
        let mut state = seed;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state >> 11
        };
        let mut values: Vec<f64> = vec![
            0.0, -0.0, 0.5, -0.5, 0.05, 1e-8, -1e-8, 123.45, 9.5e18, 1e300,
        ];
        for _ in 0..200_000 {
            let unit = next() as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            let scale = 10f64.powi((next() % 25) as i32 - 9);
            values.push(unit * scale);
        }
        for v in values {
            for d in 0..=9 {
                let mut b = Vec::new();
                push_number(&mut b, v, Decimals::AtMost(d));
                let text = std::str::from_utf8(&b).unwrap();
                let parsed: f64 = text.parse().unwrap();
                let got = written_value(v, d).unwrap();
                assert_eq!(
                    got.to_bits(),
                    parsed.to_bits(),
                    "seed {seed}: {v:e} with {d} decimals is written {text}"
                );
            }
        }
        assert_eq!(written_value(f64::NAN, 3), None);
    }

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
            let mut fc = FeatureCollection::begin(&mut out, name, None).unwrap();
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
        FeatureCollection::begin(&mut out, None, Some("r1"))
            .unwrap()
            .end()
            .unwrap();
        assert_eq!(
            out,
            b"{\"type\":\"FeatureCollection\",\"lifecircle_run\":\"r1\",\"features\":[\n]}\n"
        );
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

    #[test]
    fn run_ids_carry_the_utc_date_and_are_distinct() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_788), (2026, 12, 1));
        let (a, b) = (new_run_id(), new_run_id());
        assert_ne!(a, b);
        assert_eq!(&a[8..9], "T", "{a}");
        assert!(a.contains(&format!("Z-{}-", std::process::id())), "{a}");
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_set_is_put_in_place_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut set = OutputSet::begin(d).unwrap();
        assert!(d.join(LOCK_FILE).exists());
        set.write("a", |w| w.write_all(b"a1")).unwrap();
        set.write("b", |w| w.write_all(b"b1")).unwrap();
        // Nothing is in place before the commit.
        assert!(!d.join("a").exists());
        set.commit().unwrap();
        assert_eq!(names(d), ["a", "b"]);

        // A write that fails: nothing changes, no temporary is left.
        let mut set = OutputSet::begin(d).unwrap();
        set.write("a", |w| w.write_all(b"a2")).unwrap();
        assert!(set
            .write("b", |_| Err(io::Error::other("disk full")))
            .is_err());
        drop(set);
        assert_eq!(names(d), ["a", "b"]);
        assert_eq!(fs::read_to_string(d.join("a")).unwrap(), "a1");

        // A file that cannot be put in place (a directory holds its name): the files already
        // swapped in are swapped back, and the error names the file.
        fs::create_dir(d.join("c")).unwrap();
        fs::write(d.join("c").join("keep"), "x").unwrap();
        let mut set = OutputSet::begin(d).unwrap();
        set.write("a", |w| w.write_all(b"a3")).unwrap();
        set.write("new", |w| w.write_all(b"n3")).unwrap();
        set.write("c", |w| w.write_all(b"c3")).unwrap();
        let e = set.commit().unwrap_err();
        assert!(
            e.to_string().contains(&d.join("c").display().to_string()),
            "{e}"
        );
        assert_eq!(names(d), ["a", "b", "c"]);
        assert_eq!(fs::read_to_string(d.join("a")).unwrap(), "a1");
    }

    #[test]
    fn a_locked_directory_is_refused_and_stale_temporaries_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let set = OutputSet::begin(d).unwrap();
        let Err(e) = OutputSet::begin(d) else {
            panic!("a second set in a locked directory");
        };
        assert!(
            matches!(&e, Error::OutputLocked { owner: Some(p), .. } if *p == std::process::id()),
            "{e}"
        );
        assert!(e.to_string().contains("another lifecircle run"), "{e}");
        drop(set);
        assert_eq!(names(d), Vec::<String>::new(), "the lock file is removed");

        // Temporaries of a killed run, and a lock file it left, are cleared by the next set.
        fs::write(d.join(".lifecircle-AbC123.tmp"), "half").unwrap();
        fs::write(d.join(".lifecircle-other.tmp.keep"), "not ours").unwrap();
        fs::write(d.join(LOCK_FILE), "pid 999999999\n").unwrap();
        let set = OutputSet::begin(d).unwrap();
        assert_eq!(set.removed_stale(), 1);
        drop(set);
        assert_eq!(names(d), [".lifecircle-other.tmp.keep"]);
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
