//! OpenStreetMap input: walkable streets, facilities, residences and communities from .osm.pbf.
//!
//! - [`walkable_lines`]: the walkable ways (shared with `analyze --network`); rule in
//!   [`walkable`].
//! - [`extract()`] / [`write_extract`] (or [`run_extract`] for both): the four GeoJSON files
//!   `analyze` reads; see [`extract`](mod@extract) for the output schema and how residents are
//!   placed.
//! - [`Mapping`]: tag rules for facility categories and homes, as TOML; the built-in one is
//!   documented in `src/osm/MAPPING.md`.
//!
//! Files are read in parallel passes that keep only what is used (`src/osm/pbf.rs`), so memory
//! grows with the kept features, not with the file.
//!
//! # Broken input
//! A file that is not PBF, is truncated inside a block or has a corrupt block is an error naming
//! the file, the block and its byte offset. (A file cut exactly between two blocks cannot be told
//! from a complete one: the format has no end marker.) Elements that cannot be used are skipped
//! and counted in [`Skipped`]: ways with nodes missing from the file, relations with member ways
//! missing or rings that do not close, population grid cells that are not polygons. Each skip
//! message names the OSM element (`w123`) or grid feature.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

pub mod extract;
mod geometry;
pub mod mapping;
mod pbf;
pub mod walkable;

pub use extract::{
    extract, extract_with_progress, write_extract, write_extract_set, Building, Community,
    CommunityKind, Extract, Extracted, Facility, FacilityTags, Inventory, Residence,
    MIN_HOMES_PER_STREET_KM,
};
pub use mapping::Mapping;
pub use walkable::{is_walkable, walkable_lines, walkable_lines_counted, StreetLine};

use crate::{analysis::Progress, error::Result};

/// Why an element was skipped or cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipKind {
    /// A walkable way partly outside the extract: its inside parts were kept.
    StreetClipped,
    /// A walkable way with no two consecutive nodes in the file: dropped.
    StreetDropped,
    /// A facility way partly outside the extract: placed by its nodes inside.
    FacilityClipped,
    /// An area or facility way (or a relation's member way) with nodes missing from the file.
    MissingNodes,
    /// A relation with member ways missing from the file, or with none.
    MissingMembers,
    /// A relation whose member ways do not join into closed rings.
    OpenRing,
    /// A building or land-use way that is not closed.
    NotClosed,
    /// A geometry without area or inside point.
    Degenerate,
    /// A population grid feature that is not a polygon or has no usable population.
    GridFeature,
}

impl SkipKind {
    fn describe(self) -> &'static str {
        match self {
            Self::StreetClipped => "walkable ways cut at the extract's edge (inside parts kept)",
            Self::StreetDropped => "walkable ways with no two consecutive nodes in the file",
            Self::FacilityClipped => {
                "facility ways cut at the extract's edge (placed by their nodes inside)"
            }
            Self::MissingNodes => "areas with nodes missing from the file",
            Self::MissingMembers => "relations with member ways missing from the file",
            Self::OpenRing => "relations whose rings do not close",
            Self::NotClosed => "building or land-use ways that are not closed",
            Self::Degenerate => "shapes without area or inside point",
            Self::GridFeature => "population grid features that are not usable polygons",
        }
    }
}

/// How many examples of each kind [`Skipped`] keeps.
pub const SKIP_EXAMPLES: usize = 5;

/// Elements skipped or cut, counted by kind, with the first few messages of each kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Skipped {
    /// Count and first [`SKIP_EXAMPLES`] messages per kind.
    pub by_kind: BTreeMap<SkipKind, (usize, Vec<String>)>,
}

impl Skipped {
    /// Record one skip.
    pub fn add(&mut self, kind: SkipKind, message: String) {
        let (n, examples) = self.by_kind.entry(kind).or_default();
        *n += 1;
        if examples.len() < SKIP_EXAMPLES {
            examples.push(message);
        }
    }

    /// How many of this kind.
    pub fn count(&self, kind: SkipKind) -> usize {
        self.by_kind.get(&kind).map_or(0, |(n, _)| *n)
    }

    /// The kept messages of this kind.
    pub fn examples(&self, kind: SkipKind) -> &[String] {
        self.by_kind.get(&kind).map_or(&[], |(_, e)| e.as_slice())
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (kind, (n, examples)) in &self.by_kind {
            writeln!(f, "skipped: {n} {}", kind.describe())?;
            for e in examples {
                writeln!(f, "  e.g. {e}")?;
            }
        }
        Ok(())
    }
}

/// The files `extract` writes into its output directory.
pub const EXTRACT_FILES: [&str; 4] = [
    "facilities.geojson",
    "residences.geojson",
    "streets.geojson",
    "communities.geojson",
];

/// `lifecircle extract`: read `pbf` (with an optional population grid and mapping file), write
/// the four GeoJSON files into `out_dir`, and return what was written. Each stage is announced to
/// `progress` (`&()` for none).
///
/// # Errors
/// [`Error::OutputIsInput`](crate::Error::OutputIsInput) when an output would replace an input;
/// [`Error::OutputLocked`](crate::Error::OutputLocked) while another run writes into `out_dir`;
/// any error of [`Mapping::from_file`], [`extract()`] or [`write_extract`].
pub fn run_extract(
    pbf: &Path,
    out_dir: &Path,
    population: Option<&Path>,
    mapping: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Inventory> {
    let outputs: Vec<PathBuf> = EXTRACT_FILES.iter().map(|f| out_dir.join(f)).collect();
    let inputs: Vec<&Path> = [Some(pbf), population, mapping]
        .into_iter()
        .flatten()
        .collect();
    crate::io::refuse_inputs_as_outputs(
        &outputs.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
        &inputs,
    )?;
    // Locked before anything is read, so that a second run into the directory stops at once.
    let set = crate::io::geojson::write::OutputSet::begin(out_dir)?;
    let mapping = match mapping {
        Some(p) => Mapping::from_file(p)?,
        None => Mapping::builtin(),
    };
    let extract = extract_with_progress(pbf, population, &mapping, progress)?;
    progress.stage("writing outputs");
    write_extract_set(&extract, set)
}
