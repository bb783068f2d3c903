//! Turning GeoJSON features into facilities, residences and communities, with per-feature checks.

use rayon::prelude::*;

use geo::Geometry;

use crate::{
    error::{FeatureError, Result},
    geodesy::LonLat,
    io::geojson::{self as input, read_features, FeatureRef, RawJson, Source},
    model::{Community, Facility, Id, PlannedFacility, Residence},
};

/// The property names lifecircle reads (set on the command line with `--*-field`).
#[derive(Debug, Clone)]
pub struct Fields {
    /// Identifier property (default `id`); the feature `id` is used when absent.
    pub id: String,
    /// Facility category property (default `category`).
    pub category: String,
    /// Population property (default `population`).
    pub population: String,
    /// Residence-to-community property (default `community`).
    pub community: String,
    /// Name property (default `name`).
    pub name: String,
    /// Capacity property (default `capacity`).
    pub capacity: String,
    /// Further facility properties holding capacities (the `capacity_field`s of a profile's
    /// categories); read into [`Facility::capacity_in`].
    pub capacities: Vec<String>,
}

impl Default for Fields {
    fn default() -> Self {
        Self {
            id: "id".into(),
            category: "category".into(),
            population: "population".into(),
            community: "community".into(),
            name: "name".into(),
            capacity: "capacity".into(),
            capacities: Vec::new(),
        }
    }
}

/// What was read from one file.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The file, as named in messages.
    pub file: String,
    /// The usable features, in file order.
    pub items: Vec<T>,
    /// Features skipped, with the reason.
    pub rejected: Vec<FeatureError>,
    /// Features in the file.
    pub total: usize,
    /// Features whose population property was absent and counted as 1.
    pub population_defaulted: usize,
    /// Target-group counts, parallel to `items` (read by [`read_residences_with_groups`]; empty
    /// otherwise).
    pub groups: GroupCounts,
}

/// How many skipped features [`Loaded::require_usable`] quotes.
const REASONS_SHOWN: usize = 5;

impl<T> Loaded<T> {
    /// Insist on at least one usable feature.
    ///
    /// # Errors
    /// [`Error::NoneUsable`](crate::Error::NoneUsable) when the file has no feature or every
    /// one was skipped, quoting the first reasons, with `hint` (what to check) appended.
    pub fn require_usable(&self, what: &'static str, hint: Option<String>) -> Result<()> {
        if !self.items.is_empty() {
            return Ok(());
        }
        Err(crate::Error::NoneUsable {
            file: self.file.clone(),
            what,
            total: self.total,
            first: self.rejected.iter().take(REASONS_SHOWN).cloned().collect(),
            hint,
        })
    }
}

/// Counts of target groups (e.g. `elderly`, `children`) per residence, from the residence
/// properties a profile names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupCounts {
    /// The group property names, as asked.
    pub names: Vec<String>,
    /// Row-major: `counts[i * names.len() + g]` is residence `i`'s count of group `g`, NaN when
    /// the residence has no such property; empty when no residence has any of them.
    pub counts: Vec<f64>,
}

impl GroupCounts {
    /// Residence `i`'s count of group `g` (an index into `names`); `None` when absent.
    pub fn get(&self, i: usize, g: usize) -> Option<f64> {
        self.counts
            .get(i * self.names.len() + g)
            .copied()
            .filter(|v| !v.is_nan())
    }
}

/// Most target groups [`read_residences_with_groups`] reads at once.
pub const MAX_GROUPS: usize = 8;

pub(crate) fn id_of(f: &FeatureRef<'_>, prop: usize, field: &str) -> Result<Id, FeatureError> {
    let raw = f.property(prop).filter(|v| v.get() != "null");
    let (raw, field) = match (raw, f.feature_id()) {
        (Some(raw), _) => (raw, field),
        (None, Some(raw)) => (raw, "id"),
        (None, None) => return Ok(Id::Num(f.index() as i64)),
    };
    parse_id(raw).map_err(|p| f.error(field, p))
}

/// An id from a raw JSON value: a string, or a number (integers kept as numbers).
pub(super) fn parse_id(raw: RawJson<'_>) -> Result<Id, String> {
    let text = raw.get();
    if let Some(plain) = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|t| !t.contains('\\'))
    {
        // No escapes: the text between the quotes is the id.
        if plain.trim().is_empty() {
            return Err("the id is an empty string".into());
        }
        return Ok(Id::Text(plain.into()));
    }
    if text.starts_with('"') {
        let s: String = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if s.trim().is_empty() {
            return Err("the id is an empty string".into());
        }
        return Ok(Id::Text(s.into()));
    }
    if let Ok(n) = text.parse::<i64>() {
        return Ok(Id::Num(n));
    }
    if text.parse::<f64>().is_ok() {
        return Ok(Id::Text(text.into()));
    }
    Err(format!(
        "an id must be a string or a number, found {}",
        input::shorten(text)
    ))
}

pub(crate) fn name_of(
    f: &FeatureRef<'_>,
    prop: usize,
    field: &str,
) -> Result<Option<Box<str>>, FeatureError> {
    match f.property(prop) {
        None => Ok(None),
        Some(raw) if raw.get().starts_with('"') || raw.get() == "null" => input::string(raw)
            .map(|s| s.map(String::into_boxed_str))
            .map_err(|p| f.error(field, p)),
        // Names that are numbers are kept as their text.
        Some(raw) => Ok(Some(raw.get().into())),
    }
}

/// A population value: absent gives `Ok(None)`; null, non-numeric and negative are errors.
fn population_of(
    f: &FeatureRef<'_>,
    prop: usize,
    field: &str,
) -> Result<Option<f64>, FeatureError> {
    count_of(f, prop, field, "population", "count 1")
}

/// A count of people (`what`): absent gives `Ok(None)`; null, non-numeric and negative are
/// errors; `if_absent` says what leaving it out means.
fn count_of(
    f: &FeatureRef<'_>,
    prop: usize,
    field: &str,
    what: &str,
    if_absent: &str,
) -> Result<Option<f64>, FeatureError> {
    let Some(raw) = f.property(prop) else {
        return Ok(None);
    };
    match input::number(raw).map_err(|p| f.error(field, p))? {
        None => Err(f.error(
            field,
            format!("the {what} is null (give a number, or leave the property out to {if_absent})"),
        )),
        Some(v) if v < 0.0 => Err(f.error(
            field,
            format!("the {what} must not be negative, found {}", raw.get()),
        )),
        Some(v) if v > crate::model::MAX_COUNT => Err(f.error(
            field,
            format!(
                "the {what} {} is implausible for one place (more than 100,000,000 people)",
                input::shorten(raw.get())
            ),
        )),
        Some(v) => Ok(Some(v)),
    }
}

/// A representative point: the point itself, or a point inside an area / on a line.
pub(super) fn representative_point(
    f: &FeatureRef<'_>,
    geometry: &Geometry<f64>,
) -> Result<LonLat, FeatureError> {
    crate::model::representative_point(geometry)
        .ok_or_else(|| f.error("geometry", "no representative point can be found for it"))
}

/// Facility categories: a string, an array of strings, or a string of several separated by
/// `;` or `,`.
pub(super) fn parse_categories(raw: RawJson<'_>) -> Result<Vec<Box<str>>, String> {
    let text = raw.get();
    let values: Vec<String> = if text.starts_with('[') {
        serde_json::from_str(text).map_err(|_| {
            format!(
                "expected a string or an array of strings, found {}",
                input::shorten(text)
            )
        })?
    } else if text.starts_with('"') {
        vec![serde_json::from_str(text).map_err(|e| e.to_string())?]
    } else {
        return Err(format!(
            "expected a string or an array of strings, found {}",
            input::shorten(text)
        ));
    };
    let mut out: Vec<Box<str>> = Vec::new();
    for v in &values {
        for part in v.split([';', ',']) {
            let part = part.trim();
            if !part.is_empty() && !out.iter().any(|c| c.as_ref() == part) {
                out.push(part.into());
            }
        }
    }
    if out.is_empty() {
        return Err(format!("the category is empty ({})", input::shorten(text)));
    }
    Ok(out)
}

fn finish<T>(source: &Source, read: input::Features<T>, population_defaulted: usize) -> Loaded<T> {
    Loaded {
        file: source.name(),
        items: read.kept,
        rejected: read.rejected,
        total: read.total,
        population_defaulted,
        groups: GroupCounts::default(),
    }
}

/// Reject second and later uses of one id (the first keeps it).
///
/// Ten million ids do not fit a cache-friendly hash map, so the check sorts instead: every id's
/// hash with its position, sorted in parallel; only ids whose hashes collide are compared.
fn reject_duplicate_ids<T: Sync>(
    loaded: &mut Loaded<T>,
    id: impl Fn(&T) -> &Id + Sync,
    index: impl Fn(&T) -> u32,
) {
    use std::hash::BuildHasher;
    let items = &loaded.items;
    let id = &id;
    let hasher = foldhash::fast::FixedState::default();
    let mut keys: Vec<(u64, u32)> = items
        .par_iter()
        .enumerate()
        .map(|(k, x)| (hasher.hash_one(id(x)), k as u32))
        .collect();
    keys.par_sort_unstable();
    // Within a run of equal hashes (positions ascending), each id's first position keeps it.
    let repeats: Vec<(usize, usize)> = keys
        .par_chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
        .flat_map_iter(|run| {
            run.iter().enumerate().filter_map(move |(j, &(_, later))| {
                let later = later as usize;
                run[..j]
                    .iter()
                    .map(|&(_, first)| first as usize)
                    .find(|&first| id(&items[first]) == id(&items[later]))
                    .map(|first| (later, first))
            })
        })
        .collect();
    let mut duplicate = vec![false; items.len()];
    for &(later, first) in &repeats {
        duplicate[later] = true;
        loaded.rejected.push(FeatureError {
            file: loaded.file.clone(),
            index: index(&items[later]) as usize,
            field: "id".into(),
            problem: format!(
                "duplicate id \"{}\" (feature {} has it already)",
                id(&items[later]),
                index(&items[first])
            ),
        });
    }
    if duplicate.iter().any(|d| *d) {
        let mut k = 0;
        loaded.items.retain(|_| {
            k += 1;
            !duplicate[k - 1]
        });
        loaded.rejected.sort_by_key(|e| e.index);
    }
}

/// Read facilities: Point (or areas and lines, by a representative point) with a category.
///
/// # Errors
/// The file cannot be read or is not a GeoJSON FeatureCollection. Bad features are returned in
/// [`Loaded::rejected`].
pub fn read_facilities(source: &Source, fields: &Fields) -> Result<Loaded<Facility>> {
    read_facilities_with(source, fields, &[], |f, _, _| Ok(f), |f| f)
}

/// The property holding a planned facility's status.
pub const STATUS_FIELD: &str = "status";
/// The property holding the year a planned facility opens.
pub const YEAR_FIELD: &str = "year";

/// Read planned facilities: facilities as [`read_facilities`] reads them, with an optional
/// `status` (text, e.g. `under construction`) and `year` (a whole number, or a string holding
/// one, e.g. `2025`). A `sites.geojson` written by `lifecircle site` reads as planned facilities.
///
/// # Errors
/// As [`read_facilities`]; a feature whose year is not a whole number is skipped with its
/// reason.
pub fn read_planned(source: &Source, fields: &Fields) -> Result<Loaded<PlannedFacility>> {
    read_facilities_with(
        source,
        fields,
        &[STATUS_FIELD, YEAR_FIELD],
        |facility, f, first| {
            let status = name_of(f, first, STATUS_FIELD)?;
            let year = match f.property(first + 1) {
                None => None,
                Some(raw) => year_of(raw).map_err(|p| f.error(YEAR_FIELD, p))?,
            };
            Ok(PlannedFacility {
                facility,
                status,
                year,
            })
        },
        |p| &p.facility,
    )
}

/// A year: a whole number (or a string holding one) from 1 to 9999, or null.
fn year_of(raw: RawJson<'_>) -> Result<Option<i32>, String> {
    let invalid = || {
        format!(
            "the year must be a whole number such as 2025, found {}",
            input::shorten(raw.get())
        )
    };
    let Some(v) = input::number(raw).map_err(|_| invalid())? else {
        return Ok(None);
    };
    if v.fract() != 0.0 || !(1.0..=9999.0).contains(&v) {
        return Err(invalid());
    }
    Ok(Some(v as i32))
}

/// Read facilities, and with each the properties `more` (from property index `first`, the
/// third argument of `make`) into a `T`.
fn read_facilities_with<T: Send + Sync>(
    source: &Source,
    fields: &Fields,
    more: &[&str],
    make: impl Fn(Facility, &FeatureRef<'_>, usize) -> Result<T, FeatureError> + Sync,
    facility: impl Fn(&T) -> &Facility + Sync,
) -> Result<Loaded<T>> {
    let extra: Vec<&str> = fields
        .capacities
        .iter()
        .map(String::as_str)
        .filter(|&c| c != fields.capacity)
        .collect();
    let mut wanted = vec![
        fields.id.as_str(),
        &fields.category,
        &fields.name,
        &fields.capacity,
    ];
    wanted.extend(&extra);
    let first_more = wanted.len();
    wanted.extend(more);
    let capacity_of =
        |f: &FeatureRef, i: usize, field: &str| -> std::result::Result<Option<f64>, FeatureError> {
            let capacity = match f.property(i) {
                None => None,
                Some(raw) => input::number(raw).map_err(|p| f.error(field, p))?,
            };
            if let Some(c) = capacity.filter(|&c| c < 0.0) {
                return Err(f.error(
                    field,
                    format!("the capacity must not be negative, found {c}"),
                ));
            }
            if capacity.is_some_and(|c| c > crate::model::MAX_COUNT) {
                return Err(f.error(
                    field,
                    "the capacity is implausible for one place (more than 100,000,000)",
                ));
            }
            Ok(capacity)
        };
    let read = read_features(source, &wanted, |f| {
        let geometry = f.geometry()?;
        let at = representative_point(f, &geometry)?;
        let categories = match f.property(1) {
            None => return Err(f.error(&fields.category, "the facility has no category")),
            Some(raw) => parse_categories(raw).map_err(|p| f.error(&fields.category, p))?,
        };
        let capacity = capacity_of(f, 3, &fields.capacity)?;
        let mut capacities = Vec::new();
        for (k, field) in extra.iter().enumerate() {
            if let Some(c) = capacity_of(f, 4 + k, field)? {
                capacities.push((Box::from(*field), c));
            }
        }
        let built = Facility {
            id: id_of(f, 0, &fields.id)?,
            name: name_of(f, 2, &fields.name)?,
            capacity,
            capacities,
            at,
            categories,
            index: f.index() as u32,
        };
        make(built, f, first_more)
    })?;
    let mut loaded = finish(source, read, 0);
    reject_duplicate_ids(&mut loaded, |x| &facility(x).id, |x| facility(x).index);
    Ok(loaded)
}

/// Read residences: points (or a representative point) with a population.
///
/// # Errors
/// As [`read_facilities`].
pub fn read_residences(source: &Source, fields: &Fields) -> Result<Loaded<Residence>> {
    read_residences_n::<0>(source, fields, &[])
}

/// Read residences and, for each, the counts of the target groups named by `groups` (residence
/// properties such as `elderly`), into [`Loaded::groups`]. A residence without a group's
/// property has no count for it (NaN); a null, non-numeric or negative count makes the feature
/// unusable, as for the population.
///
/// # Errors
/// As [`read_facilities`], and [`Error::Settings`](crate::Error::Settings) for more than
/// [`MAX_GROUPS`] groups.
pub fn read_residences_with_groups(
    source: &Source,
    fields: &Fields,
    groups: &[String],
) -> Result<Loaded<Residence>> {
    // Rows are fixed-size arrays, so reading allocates nothing per feature.
    match groups.len() {
        0 => read_residences_n::<0>(source, fields, groups),
        1 => read_residences_n::<1>(source, fields, groups),
        2 => read_residences_n::<2>(source, fields, groups),
        3 | 4 => read_residences_n::<4>(source, fields, groups),
        5..=MAX_GROUPS => read_residences_n::<MAX_GROUPS>(source, fields, groups),
        n => Err(crate::SettingsError::new(
            crate::Setting::TargetGroups,
            format!("{n} ({})", groups.join(", ")),
            format!("must be at most {MAX_GROUPS}"),
        )
        .into()),
    }
}

/// A count of people in a target group: absent gives NaN; otherwise as a population.
fn group_count(f: &FeatureRef<'_>, prop: usize, field: &str) -> Result<f64, FeatureError> {
    let count = count_of(f, prop, field, "group count", "count the whole population")?;
    Ok(count.unwrap_or(f64::NAN))
}

/// Residences with up to `N` group counts (`groups.len() <= N`).
fn read_residences_n<const N: usize>(
    source: &Source,
    fields: &Fields,
    groups: &[String],
) -> Result<Loaded<Residence>> {
    let mut wanted = vec![fields.id.as_str(), &fields.population, &fields.community];
    if crate::io::formats::is_raster(source) {
        // A population raster gives each cell's id and value under names of its own.
        use crate::io::formats::raster::{CELL_ID, CELL_VALUE};
        wanted = vec![CELL_ID, CELL_VALUE, &fields.community];
    }
    // A group may share its name with another field: read it from that field's slot.
    let slots: Vec<usize> = groups
        .iter()
        .map(|g| {
            wanted
                .iter()
                .position(|w| *w == g.as_str())
                .unwrap_or_else(|| {
                    wanted.push(g);
                    wanted.len() - 1
                })
        })
        .collect();
    let explicit_ids = std::sync::atomic::AtomicBool::new(false);
    let read = read_features(source, &wanted, |f| {
        let geometry = f.geometry()?;
        let at = representative_point(f, &geometry)?;
        let population = population_of(f, 1, &fields.population)?;
        let community = match f.property(2).filter(|v| v.get() != "null") {
            None => None,
            Some(raw) => Some(parse_id(raw).map_err(|p| f.error(&fields.community, p))?),
        };
        if !explicit_ids.load(std::sync::atomic::Ordering::Relaxed)
            && (f.property(0).is_some() || f.feature_id().is_some())
        {
            explicit_ids.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let mut row = [f64::NAN; N];
        for ((v, &slot), name) in row.iter_mut().zip(&slots).zip(groups) {
            *v = group_count(f, slot, name)?;
        }
        let residence = Residence {
            id: id_of(f, 0, &fields.id)?,
            at,
            // NaN marks "absent" until counted below.
            population: population.unwrap_or(f64::NAN),
            community,
            index: f.index() as u32,
        };
        Ok((residence, row))
    })?;
    let mut defaulted = 0;
    let mut read = read;
    for (r, _) in &mut read.kept {
        if r.population.is_nan() {
            r.population = 1.0;
            defaulted += 1;
        }
    }
    let mut loaded = finish(source, read, defaulted);
    if explicit_ids.into_inner() {
        reject_duplicate_ids(&mut loaded, |x| &x.0.id, |x| x.0.index);
    }
    let g = groups.len();
    let n = loaded.items.len();
    // Counts are kept only when some residence has one: they are gathered from the first
    // residence that has one, after as many rows of NaN as residences before it.
    let mut counts: Vec<f64> = Vec::new();
    // Collected in place (the allocation is reused); with N = 0 this is a plain move.
    let mut items: Vec<Residence> = std::mem::take(&mut loaded.items)
        .into_iter()
        .enumerate()
        .map(|(i, (r, row))| {
            let row = row.get(..g).unwrap_or(&row);
            if !counts.is_empty() {
                counts.extend_from_slice(row);
            } else if row.iter().any(|c| !c.is_nan()) {
                counts.reserve_exact(n * g);
                counts.resize(i * g, f64::NAN);
                counts.extend_from_slice(row);
            }
            r
        })
        .collect();
    if N > 0 {
        items.shrink_to_fit();
    }
    Ok(Loaded {
        file: loaded.file,
        items,
        rejected: loaded.rejected,
        total: loaded.total,
        population_defaulted: loaded.population_defaulted,
        groups: GroupCounts {
            names: groups.to_vec(),
            counts,
        },
    })
}

/// Read communities: Polygon/MultiPolygon areas or Points, with `id`, `name`, `population`.
///
/// # Errors
/// As [`read_facilities`].
pub fn read_communities(source: &Source, fields: &Fields) -> Result<Loaded<Community>> {
    let wanted = [fields.id.as_str(), &fields.name, &fields.population];
    let read = read_features(source, &wanted, |f| {
        let geometry = f.geometry()?;
        if !matches!(
            geometry,
            Geometry::Point(_) | Geometry::Polygon(_) | Geometry::MultiPolygon(_)
        ) {
            return Err(f.error(
                "geometry",
                "a community must be a Polygon, MultiPolygon or Point",
            ));
        }
        let at = representative_point(f, &geometry)?;
        Ok(Community {
            id: id_of(f, 0, &fields.id)?,
            name: name_of(f, 1, &fields.name)?,
            population: population_of(f, 2, &fields.population)?,
            geometry,
            at,
            index: f.index() as u32,
        })
    })?;
    let mut loaded = finish(source, read, 0);
    reject_duplicate_ids(&mut loaded, |x| &x.id, |x| x.index);
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> RawJson<'_> {
        RawJson::new(text)
    }

    #[test]
    fn categories_in_every_form() {
        let cats = |t: &str| parse_categories(raw(t));
        assert_eq!(cats(r#""meals""#).unwrap(), vec!["meals".into()]);
        assert_eq!(
            cats(r#""meals; medical,childcare""#).unwrap(),
            vec!["meals".into(), "medical".into(), "childcare".into()]
        );
        assert_eq!(
            cats(r#"["meals","medical;meals"]"#).unwrap(),
            vec!["meals".into(), "medical".into()]
        );
        assert!(cats(r#""""#).unwrap_err().contains("empty"));
        assert!(cats(r#"[]"#).unwrap_err().contains("empty"));
        assert!(cats(r#"" ; ""#).unwrap_err().contains("empty"));
        assert!(cats("12").is_err());
    }

    #[test]
    fn ids() {
        assert_eq!(parse_id(raw("12")).unwrap(), Id::Num(12));
        assert_eq!(parse_id(raw(r#""n12""#)).unwrap(), Id::Text("n12".into()));
        assert_eq!(parse_id(raw("1.5")).unwrap(), Id::Text("1.5".into()));
        assert!(parse_id(raw("true")).is_err());
        assert!(parse_id(raw(r#""  ""#)).is_err());
    }

    fn embedded(text: &'static str) -> Source {
        Source::from_static("r.geojson", text.as_bytes())
    }

    #[test]
    fn duplicate_ids_match_a_first_come_reference() {
        // 3,000 features drawing ids from 700 values, text and numbers mixed ("5" is not 5).
        let mut state = 12345u64;
        let mut ids = Vec::new();
        let mut text = String::from(r#"{"type":"FeatureCollection","features":["#);
        for i in 0..3000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = (state >> 33) % 700;
            let id = if v.is_multiple_of(2) {
                format!("\"{v}\"")
            } else {
                v.to_string()
            };
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!(
                r#"{{"type":"Feature","properties":{{"id":{id}}},"geometry":{{"type":"Point","coordinates":[1,2]}}}}"#
            ));
            ids.push(id);
        }
        text.push_str("]}");
        let r = read_residences(
            &embedded(Box::leak(text.into_boxed_str())),
            &Fields::default(),
        )
        .unwrap();
        let mut first_seen = std::collections::HashMap::new();
        let mut expected = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            match first_seen.get(id) {
                Some(&first) => expected.push((i, format!("feature {first} has it already"))),
                None => {
                    first_seen.insert(id.clone(), i);
                }
            }
        }
        let got: Vec<(usize, String)> = r
            .rejected
            .iter()
            .map(|e| {
                (
                    e.index,
                    e.problem
                        .split(" (")
                        .nth(1)
                        .unwrap_or("")
                        .trim_end_matches(')')
                        .to_string(),
                )
            })
            .collect();
        assert_eq!(got, expected);
        assert_eq!(r.items.len(), first_seen.len());
    }

    #[test]
    fn group_counts_start_with_the_first_residence_that_has_one() {
        let feature = |props: &str| {
            format!(
                r#"{{"type":"Feature","properties":{{{props}}},"geometry":{{"type":"Point","coordinates":[1,2]}}}}"#
            )
        };
        let read = |features: &[String]| {
            let text = format!(
                r#"{{"type":"FeatureCollection","features":[{}]}}"#,
                features.join(",")
            );
            let groups = ["elderly", "children"].map(String::from);
            read_residences_with_groups(
                &embedded(Box::leak(text.into_boxed_str())),
                &Fields::default(),
                &groups,
            )
            .unwrap()
        };
        let r = read(&[
            feature(r#""population":3"#),
            feature(r#""population":4"#),
            feature(r#""population":5,"children":2"#),
            feature(r#""population":6,"elderly":1"#),
        ]);
        let rows: Vec<[Option<f64>; 2]> =
            (0..4).map(|i| [0, 1].map(|g| r.groups.get(i, g))).collect();
        assert_eq!(
            rows,
            [
                [None, None],
                [None, None],
                [None, Some(2.0)],
                [Some(1.0), None]
            ]
        );
        assert_eq!(r.groups.counts.len(), 8);
        // No residence with a count: no counts at all.
        let r = read(&[feature(r#""population":3"#), feature(r#""population":4"#)]);
        assert!(r.groups.counts.is_empty());
        assert_eq!(r.groups.names.len(), 2);
    }

    #[test]
    fn residences_population_rules_and_duplicates() {
        let src = embedded(
            r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"id":"a","population":10},"geometry":{"type":"Point","coordinates":[1,2]}},
            {"type":"Feature","properties":{"id":"b"},"geometry":{"type":"Point","coordinates":[1,2]}},
            {"type":"Feature","properties":{"id":"c","population":-3},"geometry":{"type":"Point","coordinates":[1,2]}},
            {"type":"Feature","properties":{"id":"d","population":null},"geometry":{"type":"Point","coordinates":[1,2]}},
            {"type":"Feature","properties":{"id":"a","population":1},"geometry":{"type":"Point","coordinates":[1,2]}},
            {"type":"Feature","properties":{"population":1},"id":7,"geometry":{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,2],[0,0]]]}}
            ]}"#,
        );
        let r = read_residences(&src, &Fields::default()).unwrap();
        let ids: Vec<String> = r.items.iter().map(|x| x.id.to_string()).collect();
        assert_eq!(ids, ["a", "b", "7"]);
        assert_eq!(r.items[1].population, 1.0);
        assert_eq!(r.population_defaulted, 1);
        let rejected: Vec<(usize, &str)> = r
            .rejected
            .iter()
            .map(|e| (e.index, e.field.as_str()))
            .collect();
        assert_eq!(rejected, [(2, "population"), (3, "population"), (4, "id")]);
        // A polygon residence becomes a point inside it.
        let p = r.items[2].at;
        assert!(p.lon > 0.0 && p.lon < 2.0 && p.lat > 0.0 && p.lat < 2.0);
    }
}
