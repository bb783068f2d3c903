//! Feature identifiers.

use std::fmt;

/// A feature identifier as found in the input: a number or a string.
///
/// Taken from the property named by the id field (default `id`), else the GeoJSON feature
/// `id`, else the feature's index in its file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Id {
    /// A numeric id (written back as a JSON number).
    Num(i64),
    /// A text id (held inline, without a heap allocation, up to 24 bytes).
    Text(compact_str::CompactString),
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Num(n) => write!(f, "{n}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

impl From<i64> for Id {
    fn from(n: i64) -> Self {
        Self::Num(n)
    }
}

impl From<&str> for Id {
    fn from(s: &str) -> Self {
        Self::Text(s.into())
    }
}

impl From<String> for Id {
    fn from(s: String) -> Self {
        Self::Text(s.into())
    }
}
