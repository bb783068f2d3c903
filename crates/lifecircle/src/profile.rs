//! Planning standards as profiles: which facility categories to analyse, what each is called,
//! which facility `category` values count as it, how far people should have to walk to it and
//! what share of people should manage that.
//!
//! A profile is a TOML file. Two are built in ([`builtin_names`]): `six-functions` (the
//! default, [`DEFAULT_PROFILE`]) and `gb50180`; `lifecircle profiles show NAME` prints their
//! text, comments included, which is also the best documentation of the format.
//!
//! # Format
//! ```toml
//! name = "my-city"                    # required
//! description = "..."                 # optional
//! walk_speed_m_per_s = 1.0            # default walking speed (default 1.0)
//! target_percent = 85                 # default target share, percent (default 85)
//! include_other_categories = true     # also analyse facility categories not listed below
//! max_walk = "15min"                  # default max walk (needed by include_other_categories)
//!
//! [levels]                            # optional named walking levels
//! 5min = "300m"
//!
//! [[category]]
//! key = "elderly_care"                # required, unique; also accepted as a category value
//! name_zh = "养老服务"                 # display names (each falls back to the other, then key)
//! name_en = "Elderly care"
//! aliases = ["养老", "nursing_home"]  # facility category values that count as this category
//! max_walk = "15min"                  # or level = "5min"; else the top-level max_walk
//! target_percent = 85                 # optional override
//! group = "elderly"                   # optional: residence property counting the target group
//! walk_speed_m_per_s = 0.8            # optional override, used to turn minutes into metres
//! source = "project choice: ..."      # citation or reasoning
//! ```
//! Unknown keys are errors. Distances are written with a unit: `15min`, `12.5min`, `900m`,
//! `1.2km` (spaces allowed: `15 min`, `1.2 km`); see [`parse_walk`].
//!
//! # Target groups
//! `group` names a residence property holding the number of people the category serves (for
//! example `elderly` for residents aged 60 and over, `children`). Coverage for that category is
//! then counted over that group instead of the whole population. Residences without the
//! property fall back to their total population, so a profile with groups still works on data
//! that lacks them.
//!
//! # Alias matching
//! A facility's category value matches a profile category when, after trimming surrounding
//! whitespace, it equals the category's key or one of its aliases, ignoring ASCII case
//! (Chinese text must match exactly). An alias may belong to one category only.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{
    capacity::{Standard, Weighting},
    error::{Error, Result, Setting, SettingsError},
};

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "six-functions";
/// Walking speed used when a profile does not give one, metres per second.
pub const DEFAULT_WALK_SPEED_M_PER_S: f64 = 1.0;
/// Target share used when a profile does not give one, percent.
pub const DEFAULT_TARGET_PERCENT: f64 = 85.0;

const BUILTINS: [(&str, &str); 2] = [
    (
        "six-functions",
        include_str!("../../../profiles/six-functions.toml"),
    ),
    ("gb50180", include_str!("../../../profiles/gb50180.toml")),
];
const BUILTIN_NAMES: [&str; 2] = [BUILTINS[0].0, BUILTINS[1].0];

/// The names of the built-in profiles, the default first.
pub fn builtin_names() -> &'static [&'static str] {
    &BUILTIN_NAMES
}

/// The verbatim TOML text of a built-in profile, comments included.
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// A maximum walk: a time or a distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Walk {
    /// Minutes of walking; turned into metres with a walking speed.
    Minutes(f64),
    /// Metres.
    Metres(f64),
}

impl Walk {
    /// The walk in metres; minutes are converted at `speed_m_per_s`.
    ///
    /// # Units
    /// `speed_m_per_s` in metres per second; the result in metres.
    pub fn to_metres(self, speed_m_per_s: f64) -> f64 {
        match self {
            Walk::Minutes(min) => min * 60.0 * speed_m_per_s,
            Walk::Metres(m) => m,
        }
    }
}

impl fmt::Display for Walk {
    /// `15min` or `900m`, in a form [`parse_walk`] reads back exactly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Walk::Minutes(min) => write!(f, "{min}min"),
            Walk::Metres(m) => write!(f, "{m}m"),
        }
    }
}

impl FromStr for Walk {
    type Err = ParseWalkError;

    /// See [`parse_walk`].
    fn from_str(s: &str) -> std::result::Result<Self, ParseWalkError> {
        parse_walk(s)
    }
}

/// A text that is not a walk ([`parse_walk`]): the text and why.
///
/// `Display` quotes the text and says what was expected, e.g. `"fast" is not a walking
/// distance or time: expected a number and a unit, e.g. 15min, 12.5min, 1000m, 1.2km`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWalkError {
    /// The text as given.
    pub text: String,
    /// The whole message, quoting the text.
    message: String,
}

impl ParseWalkError {
    fn new(text: &str, message: String) -> Self {
        Self {
            text: text.to_string(),
            message,
        }
    }
}

impl fmt::Display for ParseWalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseWalkError {}

const WALK_EXAMPLES: &str = "e.g. 15min, 12.5min, 1000m, 1.2km";

/// The longest walk [`parse_walk`] accepts in metres (100 km): anything longer is a mistake
/// (a wrong unit or exponent), not a walk.
pub const MAX_WALK_M: f64 = 100_000.0;
/// The longest walk [`parse_walk`] accepts in minutes (a day).
pub const MAX_WALK_MIN: f64 = 1440.0;

/// Parses a maximum walk: a positive decimal number and a unit, with or without a space.
///
/// Units (ASCII case ignored): `min`, `mins`, `minute`, `minutes`, `分钟`; `m`, `metre(s)`,
/// `meter(s)`, `米`; `km`, `kilometre(s)`, `kilometer(s)`, `公里`, `千米`.
/// Examples: `15min`, `15 min`, `12.5min`, `1000m`, `900 m`, `1.2km`, `1.2 km`, `1e3m`.
///
/// # Errors
/// A message quoting the input when it is empty, has no number, no unit (a bare `1000` is
/// ambiguous) or an unknown unit, or when the value is not a positive finite number or is
/// longer than [`MAX_WALK_M`] / [`MAX_WALK_MIN`].
pub fn parse_walk(s: &str) -> std::result::Result<Walk, ParseWalkError> {
    let fail = |message: String| ParseWalkError::new(s, message);
    let t = s.trim();
    if t.is_empty() {
        return Err(fail(format!(
            "empty walking distance or time: expected a number and a unit, {WALK_EXAMPLES}"
        )));
    }
    // A number, with an exponent when one follows (`1e3m`, `1.5E+2min`).
    let number_end = |from: usize| {
        t[from..]
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+')))
            .map_or(t.len(), |k| from + k)
    };
    let mut num_end = number_end(0);
    if let Some(rest) = t[num_end..].strip_prefix(['e', 'E']) {
        let digits = rest.trim_start_matches(['+', '-']);
        if digits.starts_with(|c: char| c.is_ascii_digit()) {
            num_end = number_end(num_end + 1);
        }
    }
    let (num, unit) = t.split_at(num_end);
    let not_a_walk = || {
        fail(format!(
            "\"{s}\" is not a walking distance or time: expected a number and a unit, \
             {WALK_EXAMPLES}"
        ))
    };
    if num.is_empty() {
        return Err(not_a_walk());
    }
    let value: f64 = num.parse().map_err(|_| not_a_walk())?;
    let unit = unit.trim().to_ascii_lowercase();
    let walk = match unit.as_str() {
        "min" | "mins" | "minute" | "minutes" | "分钟" => Walk::Minutes(value),
        "m" | "metre" | "metres" | "meter" | "meters" | "米" => Walk::Metres(value),
        "km" | "kilometre" | "kilometres" | "kilometer" | "kilometers" | "公里" | "千米" => {
            Walk::Metres(value * 1000.0)
        }
        "" => {
            return Err(fail(format!(
                "\"{s}\" has no unit: write {num}m for metres or {num}min for minutes"
            )))
        }
        _ => {
            return Err(fail(format!(
                "\"{s}\": unknown unit \"{}\"; use min, m or km ({WALK_EXAMPLES})",
                unit
            )))
        }
    };
    let (Walk::Minutes(v) | Walk::Metres(v)) = walk;
    if !(v.is_finite() && v > 0.0) {
        return Err(fail(format!("\"{s}\": the walk must be a positive number")));
    }
    let too_long = match walk {
        Walk::Minutes(min) => (min > MAX_WALK_MIN).then(|| format!("{MAX_WALK_MIN} min")),
        Walk::Metres(m) => (m > MAX_WALK_M).then(|| format!("{} km", MAX_WALK_M / 1000.0)),
    };
    if let Some(limit) = too_long {
        return Err(fail(format!(
            "\"{s}\" is not a walk: a walking reach is at most {limit} (life circles are \
             walks of 5 to 15 minutes, 300 m to 1 km)"
        )));
    }
    Ok(walk)
}

/// The profile file as written (see the [module documentation](self) for the format).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    walk_speed_m_per_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_percent: Option<f64>,
    #[serde(default)]
    include_other_categories: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_walk: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    levels: BTreeMap<String, String>,
    #[serde(default, rename = "category")]
    categories: Vec<CategoryFile>,
}

/// One `[[category]]` entry as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryFile {
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name_zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name_en: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_walk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    walk_speed_m_per_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    capacity_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_bands: Option<Vec<[f64; 2]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_gaussian_sigma_m: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    standard: Option<StandardFile>,
}

/// A category's `standard = { places = 30, per = 1000, source = "..." }` as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StandardFile {
    places: f64,
    per: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

/// One facility category of a profile, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct CategorySpec {
    /// Identifier used in outputs; also matched as a facility category value.
    pub key: String,
    /// Chinese display name (falls back to the English name, then the key).
    pub name_zh: String,
    /// English display name (falls back to the Chinese name, then the key).
    pub name_en: String,
    /// Facility category values that count as this category, as written (trimmed).
    pub aliases: Vec<String>,
    /// The maximum walk: the category's `max_walk`, else its level's, else the profile's.
    pub max_walk: Walk,
    /// The walking level the category belongs to, if it names one.
    pub level: Option<String>,
    /// The category's own target share, percent, if it sets one.
    pub target_percent: Option<f64>,
    /// Residence property counting the people this category serves; `None` = everyone.
    pub group: Option<String>,
    /// The category's own walking speed, m/s, if it sets one.
    pub walk_speed_m_per_s: Option<f64>,
    /// Citation or reasoning for the numbers.
    pub source: Option<String>,
    /// Facility property holding this category's capacity; `None`: the analysis's capacity
    /// field (`capacity` unless changed).
    pub capacity_field: Option<String>,
    /// Distance weights of the floating catchment (2SFCA when uniform).
    pub weighting: Weighting,
    /// Provision standard: places per counted people, if the profile gives one.
    pub standard: Option<Standard>,
}

impl CategorySpec {
    /// The walking speed for this category: its own, else `default_speed_m_per_s`.
    ///
    /// # Units
    /// Metres per second.
    pub fn walk_speed_or(&self, default_speed_m_per_s: f64) -> f64 {
        self.walk_speed_m_per_s.unwrap_or(default_speed_m_per_s)
    }

    /// The maximum walk in metres; minutes are converted with this category's walking speed,
    /// or `default_speed_m_per_s` when it has none (15 min at 0.8 m/s = 720 m).
    ///
    /// # Units
    /// `default_speed_m_per_s` in metres per second; the result in metres.
    pub fn max_walk_m(&self, default_speed_m_per_s: f64) -> f64 {
        self.max_walk
            .to_metres(self.walk_speed_or(default_speed_m_per_s))
    }

    /// The target share for this category: its own, else `default_percent`.
    pub fn target_percent_or(&self, default_percent: f64) -> f64 {
        self.target_percent.unwrap_or(default_percent)
    }
}

/// A validated profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The profile's name.
    pub name: String,
    /// What the profile is for.
    pub description: String,
    /// Where it came from: `built-in profile 'NAME'` or the file as the user named it.
    pub origin: String,
    /// Default walking speed, m/s.
    pub walk_speed_m_per_s: f64,
    /// Default target share, percent.
    pub target_percent: f64,
    /// Whether facility categories not named by the profile are analysed too (the "X").
    pub include_other_categories: bool,
    /// Default maximum walk (for other categories and categories without their own).
    pub max_walk: Option<Walk>,
    /// Named walking levels.
    pub levels: BTreeMap<String, Walk>,
    /// The categories, in file order.
    pub categories: Vec<CategorySpec>,
    text: String,
    index: HashMap<String, usize>,
}

/// Normal form for matching category values: trimmed, ASCII lower case.
fn normalise(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Which `[[category]]` (0-based) a byte offset falls in, and that category's key if the text
/// is syntactically valid TOML.
fn category_at(text: &str, offset: usize) -> Option<(usize, Option<String>)> {
    let mut pos = 0;
    let mut count = 0usize;
    for line in text.split_inclusive('\n') {
        if pos > offset {
            break;
        }
        if line.trim_start().starts_with("[[category]]") {
            count += 1;
        } else if line.trim_start().starts_with('[') && !line.trim_start().starts_with("[[") {
            // A plain table header after the categories ends the last one.
            if count > 0 {
                return None;
            }
        }
        pos += line.len();
    }
    let index = count.checked_sub(1)?;
    let key = toml::from_str::<toml::Table>(text).ok().and_then(|t| {
        t.get("category")?
            .as_array()?
            .get(index)?
            .get("key")?
            .as_str()
            .map(str::to_string)
    });
    Some((index, key))
}

fn describe_category(index: usize, key: Option<&str>) -> String {
    match key {
        Some(k) if !k.trim().is_empty() => format!("category #{} '{}'", index + 1, k),
        _ => format!("category #{}", index + 1),
    }
}

impl Default for Profile {
    /// The default built-in profile, [`DEFAULT_PROFILE`] (`six-functions`).
    fn default() -> Self {
        // The built-in profiles are compiled in and parsed by the tests: this cannot fail.
        Profile::builtin(DEFAULT_PROFILE).expect("the built-in default profile parses")
    }
}

impl Profile {
    /// Parses and validates a profile.
    ///
    /// `origin_name` names the source in error messages (a file path, or `built-in profile
    /// 'NAME'`).
    ///
    /// # Errors
    /// [`Error::File`] naming `origin_name`, and where it applies the line and column or the
    /// category, for: TOML syntax errors, unknown keys, values of the wrong type, malformed or
    /// non-positive distances, targets outside 0..=100, speeds that are not positive, unknown
    /// levels, duplicate category keys, an alias claimed by two categories, and a category (or
    /// `include_other_categories`) left without a maximum walk.
    pub fn from_toml_str(text: &str, origin_name: &str) -> Result<Profile> {
        let file_err = |reason: String| Error::File {
            file: origin_name.to_string(),
            reason,
        };
        let raw: ProfileFile = toml::from_str(text).map_err(|e| {
            let mut reason = String::new();
            if let Some(span) = e.span() {
                let (line, col) = line_col(text, span.start);
                reason.push_str(&format!("line {line}, column {col}"));
                if let Some((i, key)) = category_at(text, span.start) {
                    reason.push_str(&format!(" ({})", describe_category(i, key.as_deref())));
                }
                reason.push_str(": ");
            }
            reason.push_str(e.message().trim_end());
            file_err(reason)
        })?;
        Self::validate(raw, text, origin_name).map_err(file_err)
    }

    fn validate(
        raw: ProfileFile,
        text: &str,
        origin: &str,
    ) -> std::result::Result<Profile, String> {
        let name = raw.name.trim().to_string();
        if name.is_empty() {
            return Err("name must not be empty".into());
        }
        let speed = raw.walk_speed_m_per_s.unwrap_or(DEFAULT_WALK_SPEED_M_PER_S);
        check_speed(speed).map_err(|p| format!("walk_speed_m_per_s: {p}"))?;
        let target = raw.target_percent.unwrap_or(DEFAULT_TARGET_PERCENT);
        check_target(target).map_err(|p| format!("target_percent: {p}"))?;
        let max_walk = raw
            .max_walk
            .as_deref()
            .map(parse_walk)
            .transpose()
            .map_err(|p| format!("max_walk: {p}"))?;
        if raw.include_other_categories && max_walk.is_none() {
            return Err(
                "include_other_categories = true needs a top-level max_walk \
                 (for example max_walk = \"15min\") for the categories the profile does not list"
                    .into(),
            );
        }
        let mut levels = BTreeMap::new();
        for (level, value) in &raw.levels {
            if level.trim().is_empty() {
                return Err("levels: a level name must not be empty".into());
            }
            let walk = parse_walk(value).map_err(|p| format!("levels.{level}: {p}"))?;
            levels.insert(level.clone(), walk);
        }
        if raw.categories.is_empty() {
            return Err("the profile has no [[category]] entries".into());
        }

        let mut categories = Vec::with_capacity(raw.categories.len());
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, c) in raw.categories.into_iter().enumerate() {
            let at = describe_category(i, Some(&c.key));
            let key = c.key.trim().to_string();
            if key.is_empty() {
                return Err(format!("{at}: key must not be empty"));
            }
            if key.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
                return Err(format!(
                    "{at}: key must not contain spaces or control characters"
                ));
            }
            let nkey = normalise(&key);
            if let Some(&other) = index.get(&nkey) {
                let other_key = categories
                    .get(other)
                    .map_or("", |o: &CategorySpec| o.key.as_str());
                return Err(if normalise(other_key) == nkey {
                    format!(
                        "{at}: duplicate category key '{key}' (also category #{})",
                        other + 1
                    )
                } else {
                    format!(
                        "{at}: key '{key}' is already an alias of category #{} '{other_key}'",
                        other + 1
                    )
                });
            }
            let speed_c = c.walk_speed_m_per_s;
            if let Some(s) = speed_c {
                check_speed(s).map_err(|p| format!("{at}: walk_speed_m_per_s: {p}"))?;
            }
            if let Some(t) = c.target_percent {
                check_target(t).map_err(|p| format!("{at}: target_percent: {p}"))?;
            }
            let own_walk = c
                .max_walk
                .as_deref()
                .map(parse_walk)
                .transpose()
                .map_err(|p| format!("{at}: max_walk: {p}"))?;
            let level_walk = match &c.level {
                None => None,
                Some(l) => Some(*levels.get(l).ok_or_else(|| {
                    let known: Vec<&str> = levels.keys().map(String::as_str).collect();
                    if known.is_empty() {
                        format!(
                            "{at}: level '{l}' is not defined: the profile has no [levels] table"
                        )
                    } else {
                        format!(
                            "{at}: level '{l}' is not defined in [levels] (defined: {})",
                            known.join(", ")
                        )
                    }
                })?),
            };
            let walk = own_walk.or(level_walk).or(max_walk).ok_or_else(|| {
                format!(
                    "{at}: no maximum walk: give max_walk (e.g. \"15min\" or \"900m\"), a level, \
                     or a top-level max_walk"
                )
            })?;
            let group = match c.group {
                Some(g) if g.trim().is_empty() => {
                    return Err(format!(
                        "{at}: group must not be empty (omit it for everyone)"
                    ))
                }
                g => g.map(|g| g.trim().to_string()),
            };
            let mut aliases: Vec<String> = Vec::with_capacity(c.aliases.len());
            let mut seen = vec![nkey.clone()];
            for a in &c.aliases {
                let na = normalise(a);
                if na.is_empty() {
                    return Err(format!("{at}: aliases must not be empty strings"));
                }
                if let Some(&other) = index.get(&na) {
                    return Err(format!(
                        "{at}: alias '{}' is already claimed by category #{} '{}'",
                        a.trim(),
                        other + 1,
                        categories
                            .get(other)
                            .map_or("", |o: &CategorySpec| o.key.as_str())
                    ));
                }
                if !seen.contains(&na) {
                    seen.push(na);
                    aliases.push(a.trim().to_string());
                }
            }
            for n in seen {
                index.insert(n, i);
            }
            let name_zh = c
                .name_zh
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            let name_en = c
                .name_en
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            let weighting = match (c.access_bands, c.access_gaussian_sigma_m) {
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "{at}: give access_bands or access_gaussian_sigma_m, not both"
                    ))
                }
                (Some(bands), None) => {
                    Weighting::steps(bands.into_iter().map(|[l, w]| (l, w)).collect())
                        .map_err(|e| format!("{at}: access_bands {}", e.reason))?
                }
                (None, Some(sigma)) => Weighting::gaussian(sigma)
                    .map_err(|e| format!("{at}: access_gaussian_sigma_m: {}", e.reason))?,
                (None, None) => Weighting::Uniform,
            };
            let standard = c
                .standard
                .map(|st| Standard::new(st.places, st.per, st.source))
                .transpose()
                .map_err(|e| {
                    format!(
                        "{at}: standard ({}): {}",
                        e.value.as_deref().unwrap_or_default(),
                        e.reason
                    )
                })?;
            let capacity_field = match c.capacity_field {
                Some(f) if f.trim().is_empty() => {
                    return Err(format!("{at}: capacity_field must not be empty"))
                }
                f => f.map(|f| f.trim().to_string()),
            };
            categories.push(CategorySpec {
                capacity_field,
                weighting,
                standard,
                name_zh: name_zh
                    .clone()
                    .or_else(|| name_en.clone())
                    .unwrap_or_else(|| key.clone()),
                name_en: name_en.or(name_zh).unwrap_or_else(|| key.clone()),
                key,
                aliases,
                max_walk: walk,
                level: c.level,
                target_percent: c.target_percent,
                group,
                walk_speed_m_per_s: speed_c,
                source: c.source,
            });
        }
        Ok(Profile {
            name,
            description: raw.description.unwrap_or_default(),
            origin: origin.to_string(),
            walk_speed_m_per_s: speed,
            target_percent: target,
            include_other_categories: raw.include_other_categories,
            max_walk,
            levels,
            categories,
            text: text.to_string(),
            index,
        })
    }

    /// A built-in profile by name (see [`builtin_names`]).
    ///
    /// # Errors
    /// [`Error::Settings`] for an unknown name, listing the built-ins.
    pub fn builtin(name: &str) -> Result<Profile> {
        let text = builtin_text(name).ok_or_else(|| {
            Error::Settings(SettingsError::new(
                Setting::Profile,
                format!("'{name}'"),
                format!(
                    "must name a built-in profile: the built-ins are {}",
                    builtin_names().join(", ")
                ),
            ))
        })?;
        Profile::from_toml_str(text, &format!("built-in profile '{name}'"))
    }

    /// A built-in profile if `name_or_path` names one, else the TOML file at that path.
    ///
    /// # Errors
    /// [`Error::Read`] if the file cannot be read, the errors of
    /// [`Profile::from_toml_str`], and [`Error::Settings`] when the argument is neither a
    /// built-in name nor an existing file (or a `.toml` path).
    pub fn load(name_or_path: &str) -> Result<Profile> {
        if builtin_text(name_or_path).is_some() {
            return Profile::builtin(name_or_path);
        }
        let path = Path::new(name_or_path);
        let looks_like_file = path.exists()
            || path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if !looks_like_file {
            return Err(Error::Settings(SettingsError::without_value(
                Setting::Profile,
                format!(
                    "no built-in profile or file named '{name_or_path}': the built-ins are {}; \
                     a profile file is a path ending in .toml",
                    builtin_names().join(", ")
                ),
            )));
        }
        let bytes = std::fs::read(path).map_err(|source| Error::Read {
            file: name_or_path.to_string(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let b = e.as_bytes();
            let utf16 = b.starts_with(b"\xFF\xFE")
                || b.starts_with(b"\xFE\xFF")
                || b.get(1) == Some(&0)
                || b.first() == Some(&0);
            Error::File {
                file: name_or_path.to_string(),
                reason: if utf16 {
                    "the file is UTF-16 text; a profile is UTF-8 TOML: convert it first, e.g. \
                     `iconv -f UTF-16 -t UTF-8 in.toml > out.toml`"
                        .to_string()
                } else {
                    format!(
                        "not UTF-8 text (a profile is UTF-8 TOML): invalid byte at offset {}",
                        e.utf8_error().valid_up_to()
                    )
                },
            }
        })?;
        Profile::from_toml_str(&text, name_or_path)
    }

    /// The profile's TOML text exactly as it was read, comments included (what
    /// `lifecircle profiles show NAME` prints).
    pub fn to_toml(&self) -> &str {
        &self.text
    }

    /// The profile as canonical TOML without comments: every category with its resolved
    /// `max_walk`. Reading it back gives an equal profile.
    ///
    /// # Errors
    /// [`Error::Settings`] if serialisation fails (not expected for a validated profile).
    pub fn to_canonical_toml(&self) -> Result<String> {
        let raw = ProfileFile {
            name: self.name.clone(),
            description: (!self.description.is_empty()).then(|| self.description.clone()),
            walk_speed_m_per_s: Some(self.walk_speed_m_per_s),
            target_percent: Some(self.target_percent),
            include_other_categories: self.include_other_categories,
            max_walk: self.max_walk.map(|w| w.to_string()),
            levels: self
                .levels
                .iter()
                .map(|(k, w)| (k.clone(), w.to_string()))
                .collect(),
            categories: self
                .categories
                .iter()
                .map(|c| CategoryFile {
                    key: c.key.clone(),
                    name_zh: Some(c.name_zh.clone()),
                    name_en: Some(c.name_en.clone()),
                    aliases: c.aliases.clone(),
                    max_walk: Some(c.max_walk.to_string()),
                    level: c.level.clone(),
                    target_percent: c.target_percent,
                    group: c.group.clone(),
                    walk_speed_m_per_s: c.walk_speed_m_per_s,
                    source: c.source.clone(),
                    capacity_field: c.capacity_field.clone(),
                    access_bands: match &c.weighting {
                        Weighting::Steps(bands) => {
                            Some(bands.iter().map(|&(l, w)| [l, w]).collect())
                        }
                        _ => None,
                    },
                    access_gaussian_sigma_m: match c.weighting {
                        Weighting::Gaussian { sigma_m } => Some(sigma_m),
                        _ => None,
                    },
                    standard: c.standard.as_ref().map(|st| StandardFile {
                        places: st.places,
                        per: st.per,
                        source: st.source.clone(),
                    }),
                })
                .collect(),
        };
        toml::to_string(&raw).map_err(|e| {
            Error::Settings(SettingsError::without_value(
                Setting::Profile,
                format!("cannot write profile '{}': {e}", self.name),
            ))
        })
    }

    /// The category a facility's category value belongs to: the value, trimmed, equals a
    /// category's key or one of its aliases, ignoring ASCII case.
    pub fn category_for(&self, facility_category: &str) -> Option<&CategorySpec> {
        self.index
            .get(&normalise(facility_category))
            .and_then(|&i| self.categories.get(i))
    }

    /// The category with this exact key.
    pub fn category(&self, key: &str) -> Option<&CategorySpec> {
        self.categories.iter().find(|c| c.key == key)
    }

    /// A category's maximum walk in metres at the profile's default walking speed (or the
    /// category's own).
    ///
    /// # Units
    /// Metres.
    pub fn max_walk_m(&self, category: &CategorySpec) -> f64 {
        category.max_walk_m(self.walk_speed_m_per_s)
    }

    /// A category's target share, percent (its own or the profile default).
    pub fn target_percent_for(&self, category: &CategorySpec) -> f64 {
        category.target_percent_or(self.target_percent)
    }

    /// The maximum walk for facility categories the profile does not list, metres, at the
    /// default walking speed; `None` unless `include_other_categories` is on.
    ///
    /// # Units
    /// Metres.
    pub fn other_max_walk_m(&self) -> Option<f64> {
        if self.include_other_categories {
            self.max_walk.map(|w| w.to_metres(self.walk_speed_m_per_s))
        } else {
            None
        }
    }
}

fn check_speed(speed: f64) -> std::result::Result<(), String> {
    if speed.is_finite() && speed > 0.0 {
        Ok(())
    } else {
        Err(format!("must be a positive speed in m/s, found {speed}"))
    }
}

fn check_target(percent: f64) -> std::result::Result<(), String> {
    if (0.0..=100.0).contains(&percent) {
        Ok(())
    } else {
        Err(format!(
            "must be between 0 and 100 (percent), found {percent}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_walk_accepts_the_documented_forms() {
        let cases = [
            ("15min", Walk::Minutes(15.0)),
            ("15 min", Walk::Minutes(15.0)),
            (" 12.5min ", Walk::Minutes(12.5)),
            ("15 MIN", Walk::Minutes(15.0)),
            ("10 minutes", Walk::Minutes(10.0)),
            ("15分钟", Walk::Minutes(15.0)),
            ("1000m", Walk::Metres(1000.0)),
            ("900 m", Walk::Metres(900.0)),
            ("300米", Walk::Metres(300.0)),
            ("250 metres", Walk::Metres(250.0)),
            ("2km", Walk::Metres(2000.0)),
            ("0.5 KM", Walk::Metres(500.0)),
            ("1e3m", Walk::Metres(1000.0)),
            ("1.5E+1min", Walk::Minutes(15.0)),
            ("100km", Walk::Metres(100_000.0)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_walk(text), Ok(want), "{text}");
        }
        for text in ["1.2km", "1.2 km", "1.2公里"] {
            match parse_walk(text) {
                Ok(Walk::Metres(m)) => assert!((m - 1200.0).abs() < 1e-9, "{text}: {m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn parse_walk_rejects_with_a_reason() {
        let cases = [
            ("fast", "\"fast\" is not a walking distance or time"),
            ("", "empty walking distance"),
            ("   ", "empty walking distance"),
            ("1000", "has no unit: write 1000m for metres or 1000min"),
            ("15 furlongs", "unknown unit \"furlongs\""),
            ("1e9km", "is not a walk: a walking reach is at most 100 km"),
            ("100001m", "at most 100 km"),
            ("2000min", "at most 1440 min"),
            ("5em", "unknown unit \"em\""),
            ("-5min", "must be a positive number"),
            ("0m", "must be a positive number"),
            ("0 min", "must be a positive number"),
            ("1.2.3km", "is not a walking distance or time"),
            ("min", "is not a walking distance or time"),
            ("NaN m", "is not a walking distance or time"),
            ("15 min walk", "unknown unit"),
        ];
        for (text, want) in cases {
            match parse_walk(text) {
                Err(e) => assert!(e.to_string().contains(want), "{text:?}: {e}"),
                Ok(w) => panic!("{text:?} parsed as {w:?}"),
            }
        }
    }

    #[test]
    fn walk_to_metres_and_display_round_trip() {
        // 15 min * 60 s/min * 0.8 m/s = 720 m; 12.5 min at 1.0 m/s = 750 m.
        assert_eq!(Walk::Minutes(15.0).to_metres(0.8), 720.0);
        assert_eq!(Walk::Minutes(12.5).to_metres(1.0), 750.0);
        assert_eq!(Walk::Metres(900.0).to_metres(0.1), 900.0);
        for w in [
            Walk::Minutes(12.5),
            Walk::Metres(1200.0),
            Walk::Minutes(0.1),
        ] {
            assert_eq!(parse_walk(&w.to_string()), Ok(w));
            assert_eq!(w.to_string().parse::<Walk>(), Ok(w));
        }
    }

    #[test]
    fn line_col_counts_characters() {
        let text = "a = 1\n名字 = \"x\"\n";
        let offset = text.find('=').unwrap();
        assert_eq!(line_col(text, offset), (1, 3));
        let offset = text.rfind('=').unwrap();
        assert_eq!(line_col(text, offset), (2, 4));
    }
}
