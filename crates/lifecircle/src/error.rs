//! Errors that say where and why: the file, the feature index, the property, and the problem.

use std::{fmt, io, path::PathBuf};

/// Everything that can stop an analysis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file could not be opened or read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file, as the user named it.
        file: String,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The file is not valid JSON at the given place.
    #[error("{file}: malformed JSON at line {line}, column {column}: {reason}")]
    Json {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column (in bytes).
        column: usize,
        /// What the JSON parser expected.
        reason: String,
    },
    /// The file is valid JSON but not what lifecircle reads (not a FeatureCollection, no
    /// features, a non-WGS84 CRS, ...).
    #[error("{file}: {reason}")]
    File {
        /// The file.
        file: String,
        /// What is wrong and, where possible, how to fix it.
        reason: String,
    },
    /// One feature is unusable (and `--strict` is on, or the problem cannot be skipped).
    #[error(transparent)]
    Feature(#[from] FeatureError),
    /// An output could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// A setting is out of range or settings contradict each other.
    #[error("{0}")]
    Settings(String),
}

/// A problem with one feature of an input file.
///
/// `Display` gives `FILE: feature N (PROPERTY): PROBLEM`, e.g.
/// `residences.geojson: feature 17 (population): must not be negative, found -3`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureError {
    /// The file, as the user named it.
    pub file: String,
    /// 0-based index of the feature in the file's `features` array.
    pub index: usize,
    /// The property or member at fault: a property name, `geometry` or `id`.
    pub field: String,
    /// What is wrong, with the offending value where it helps.
    pub problem: String,
}

impl fmt::Display for FeatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: feature {} ({}): {}",
            self.file, self.index, self.field, self.problem
        )
    }
}

impl std::error::Error for FeatureError {}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
