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
    /// The output directory is, or lies under, a file that is not a directory.
    #[error(
        "cannot write into {}: {} is a file, not a directory; the output is a directory of \
         files (created if missing): give a directory's path",
        path.display(),
        if file == path { "it".to_string() } else { file.display().to_string() }
    )]
    OutputNotDirectory {
        /// The output directory asked for.
        path: PathBuf,
        /// The file in the way (the path itself, or one of its parents).
        file: PathBuf,
    },
    /// An output would replace an input (the same file, by any path or link): nothing was
    /// written.
    #[error(
        "refusing to write {}: it is the input {}; choose another output directory",
        output.display(),
        input.display()
    )]
    OutputIsInput {
        /// The output path.
        output: PathBuf,
        /// The input it would replace, as named.
        input: PathBuf,
    },
    /// Another run is writing into the output directory (it holds the directory's lock
    /// file): nothing was written.
    #[error(
        "cannot write into {}: another lifecircle run{} is writing there (lock file {}); wait \
         for it to finish or choose another output directory",
        dir.display(),
        owner.map(|p| format!(" (process {p})")).unwrap_or_default(),
        lock.display()
    )]
    OutputLocked {
        /// The output directory.
        dir: PathBuf,
        /// Its lock file.
        lock: PathBuf,
        /// The process id the lock file names, when it can be read.
        owner: Option<u32>,
    },
    /// An input has no usable feature: it is empty, or every feature was skipped.
    #[error("{file}: {}{}", none_usable_text(*total, what, first), hint.as_deref().map(|h| format!("\n{h}")).unwrap_or_default())]
    NoneUsable {
        /// The file.
        file: String,
        /// What each feature should be (`facility`, `residence`, `community`).
        what: &'static str,
        /// Features in the file.
        total: usize,
        /// The first features skipped, with their reasons.
        first: Vec<FeatureError>,
        /// What to check or do, when the caller can say.
        hint: Option<String>,
    },
    /// A value given in code is out of range ([`LonLat::new`](crate::LonLat::new),
    /// [`Residence::new`](crate::Residence::new), ...).
    #[error(transparent)]
    InvalidValue(#[from] InvalidValue),
    /// A setting is out of range, or settings contradict each other or the inputs.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A siting cannot be done as asked ([`site`](crate::site::site)).
    #[error(transparent)]
    Site(#[from] crate::site::SiteError),
    /// A coordinate reference system that cannot be used (an unknown EPSG code, an unreadable
    /// `.prj`).
    #[error(transparent)]
    Crs(#[from] crate::projection::CrsError),
}

fn none_usable_text(total: usize, what: &str, first: &[FeatureError]) -> String {
    if total == 0 {
        return format!("the FeatureCollection has no features: there is no {what} to analyse");
    }
    let mut text = if total == 1 {
        format!("its one feature is not a usable {what}")
    } else {
        format!("none of its {total} features is a usable {what}")
    };
    if !first.is_empty() {
        text.push_str(if first.len() == 1 {
            "; the reason:"
        } else {
            "; the first reasons:"
        });
        for e in first {
            text.push_str(&format!(
                "\n  feature {} ({}): {}",
                e.index, e.field, e.problem
            ));
        }
    }
    text
}

/// A setting of an analysis: a [`PlanBuilder`](crate::PlanBuilder) value, a walking-model
/// parameter, or what the inputs must provide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// The planning profile.
    Profile,
    /// The maximum walk of every category ([`PlanBuilder::max_walk`](crate::PlanBuilder::max_walk)).
    MaxWalk,
    /// The walking speed of every category, m/s.
    WalkSpeed,
    /// The target share of every category, percent.
    TargetPercent,
    /// The categories to analyse.
    Categories,
    /// The target groups (residence properties) the profile's categories count.
    TargetGroups,
    /// The straight-line model's detour factor.
    Detour,
    /// The street model's longest straight walk to a street, metres.
    MaxSnap,
    /// The street network.
    StreetNetwork,
    /// The demand: residences, communities, or both.
    Demand,
    /// A residence's community reference.
    CommunityRef,
    /// The distance weights of a category's floating catchment (bands, or a Gaussian sigma).
    Weighting,
    /// A category's provision standard (places per people).
    Standard,
    /// The facility property holding a category's capacity.
    CapacityField,
    /// The width cap of network service areas, metres.
    AreaBuffer,
}

impl Setting {
    /// The setting's name in the library (`max_walk`, `walk_speed_m_per_s`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Profile => "profile",
            Self::MaxWalk => "max_walk",
            Self::WalkSpeed => "walk_speed_m_per_s",
            Self::TargetPercent => "target_percent",
            Self::Categories => "categories",
            Self::TargetGroups => "target_groups",
            Self::Detour => "detour",
            Self::MaxSnap => "max_snap_m",
            Self::StreetNetwork => "street_network",
            Self::Demand => "demand",
            Self::CommunityRef => "community",
            Self::Weighting => "access_weights",
            Self::Standard => "standard",
            Self::CapacityField => "capacity_field",
            Self::AreaBuffer => "area_buffer_m",
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A setting that is out of range or contradicts another setting or the inputs: which setting,
/// the value at fault, and why.
///
/// `Display` gives `SETTING REASON, got VALUE` (`max_walk must be a positive time or distance,
/// got -5min`), or `SETTING: REASON` when no single value is at fault. A program with its own
/// names for the settings (a command line's flags) words it with [`SettingsError::message`].
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsError {
    /// The setting at fault.
    pub setting: Setting,
    /// The offending value as given, when one value is at fault.
    pub value: Option<String>,
    /// What is wrong and, where possible, how to fix it.
    pub reason: String,
}

impl SettingsError {
    /// An error of `setting`, with the value at fault.
    pub fn new(setting: Setting, value: impl fmt::Display, reason: impl Into<String>) -> Self {
        Self {
            setting,
            value: Some(value.to_string()),
            reason: reason.into(),
        }
    }

    /// An error of `setting` that no single value causes.
    pub fn without_value(setting: Setting, reason: impl Into<String>) -> Self {
        Self {
            setting,
            value: None,
            reason: reason.into(),
        }
    }

    /// The message with the setting called `name` (e.g. a command-line flag).
    pub fn message(&self, name: &str) -> String {
        match &self.value {
            Some(v) => format!("{name} {}, got {v}", self.reason),
            None => format!("{name}: {}", self.reason),
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message(self.setting.name()))
    }
}

impl std::error::Error for SettingsError {}

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

/// A value given to a checked constructor that is out of range: which value, as given, and why.
///
/// `Display` gives `invalid WHAT VALUE: REASON`, e.g. `invalid population -3: must be a finite
/// number of 0 or more`.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidValue {
    /// What the value is (`position`, `population`, `capacity`, ...).
    pub what: &'static str,
    /// The value as given.
    pub value: String,
    /// Why it is refused.
    pub reason: String,
}

impl InvalidValue {
    pub(crate) fn new(
        what: &'static str,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            what,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {}: {}", self.what, self.value, self.reason)
    }
}

impl std::error::Error for InvalidValue {}
