//! Which OpenStreetMap tags make a facility of which category, and which buildings hold homes.
//!
//! The rules are TOML ([`Mapping::from_file`]); the built-in default ([`Mapping::builtin`]) is
//! itself such a file, `src/osm/default_mapping.toml`, documented in `src/osm/MAPPING.md`.
//!
//! # Form
//! ```toml
//! include_default = true          # optional: apply the built-in rules first (default true)
//!
//! [[rule]]
//! category = "medical"
//! any = ["amenity=pharmacy", "healthcare=*"]   # at least one holds (empty/missing: holds)
//! all = []                                     # every one holds
//! none = ["healthcare=alternative"]            # none holds
//! unless = []                                  # see below
//!
//! [residences]                    # optional; each value replaces the default's
//! homes = ["building=apartments|house"]
//! maybe_homes = ["building=yes"]
//! not_homes = ["shop=*"]
//! residential_landuse = ["landuse=residential"]
//! default_levels = 4
//! floor_area_per_person_m2 = 35
//! ```
//!
//! # Conditions
//! | form | holds when |
//! |---|---|
//! | `key=*` | the element has the tag `key` |
//! | `key=v1\|v2` | the value, or one `;`-separated part of it, equals `v1` or `v2` |
//! | `key!=v1\|v2` | the tag is absent, or no part of its value equals `v1` or `v2` |
//! | `!key` | the tag is absent |
//! | `key~t1\|t2` | the value contains `t1` or `t2`, ignoring case |
//!
//! A rule with `unless = ["c1", ...]` is applied after all rules without `unless`, and only to
//! elements that those rules gave none of the listed categories (a fallback: "a school whose
//! level is unknown counts for both school circles").
//!
//! Unknown keys, a rule without conditions, an empty category or a malformed condition are
//! rejected with a message naming the file and the rule number (1-based, in file order).

use std::{collections::BTreeSet, path::Path};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The built-in mapping, as TOML.
pub const DEFAULT_MAPPING_TOML: &str = include_str!("default_mapping.toml");

/// The name the built-in mapping has in messages.
const DEFAULT_NAME: &str = "built-in mapping (src/osm/default_mapping.toml)";

/// One tag condition, e.g. `amenity=pharmacy|clinic`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    key: String,
    test: Test,
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Present,
    OneOf(Vec<String>),
    NoneOf(Vec<String>),
    Absent,
    /// Lower-cased needles.
    Contains(Vec<String>),
}

impl Condition {
    /// Parse one condition (`key=*`, `key=a|b`, `key!=a|b`, `!key`, `key~text|text`).
    ///
    /// # Errors
    /// A message saying what is malformed.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let bad = |why: &str| {
            format!(
                "condition \"{text}\" {why}; write key=value, key=v1|v2, key=*, key!=value, !key \
                 or key~text"
            )
        };
        if let Some(key) = t.strip_prefix('!') {
            let key = key.trim();
            if key.is_empty() || key.contains(['=', '~', '!']) {
                return Err(bad("is not a valid \"!key\""));
            }
            return Ok(Self {
                key: key.to_string(),
                test: Test::Absent,
            });
        }
        let (key, op, value) = match (t.find("!="), t.find('='), t.find('~')) {
            (Some(i), _, tilde) if tilde.is_none_or(|j| i < j) => (&t[..i], "!=", &t[i + 2..]),
            (_, Some(i), tilde) if tilde.is_none_or(|j| i < j) => (&t[..i], "=", &t[i + 1..]),
            (_, _, Some(i)) => (&t[..i], "~", &t[i + 1..]),
            _ => return Err(bad("has no '=', '!=' or '~'")),
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("has an empty key"));
        }
        let values: Vec<String> = value.split('|').map(|v| v.trim().to_string()).collect();
        if values.iter().any(String::is_empty) {
            return Err(bad("has an empty value"));
        }
        let test = match op {
            "=" if values.len() == 1 && values[0] == "*" => Test::Present,
            "=" => Test::OneOf(values),
            "!=" => Test::NoneOf(values),
            _ => Test::Contains(values.iter().map(|v| v.to_lowercase()).collect()),
        };
        Ok(Self {
            key: key.to_string(),
            test,
        })
    }

    /// The tag key the condition looks at.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether the condition holds for an element with these tags.
    pub fn holds(&self, tags: &[(&str, &str)]) -> bool {
        let value = tags.iter().find(|(k, _)| *k == self.key).map(|(_, v)| *v);
        let part_in =
            |v: &str, set: &[String]| v.split(';').any(|p| set.iter().any(|s| s == p.trim()));
        match (&self.test, value) {
            (Test::Present, v) => v.is_some(),
            (Test::Absent, v) => v.is_none(),
            (Test::OneOf(set), Some(v)) => part_in(v, set),
            (Test::NoneOf(set), Some(v)) => !part_in(v, set),
            (Test::NoneOf(_), None) => true,
            (Test::Contains(needles), Some(v)) => {
                let v = v.to_lowercase();
                needles.iter().any(|n| v.contains(n.as_str()))
            }
            (Test::OneOf(_) | Test::Contains(_), None) => false,
        }
    }

    /// True for conditions that, when they hold, show a tag (everything but `!=` and `!key`).
    fn is_positive(&self) -> bool {
        matches!(
            self.test,
            Test::Present | Test::OneOf(_) | Test::Contains(_)
        )
    }
}

/// One `[[rule]]`.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The category given, e.g. `medical`.
    pub category: String,
    any: Vec<Condition>,
    all: Vec<Condition>,
    none: Vec<Condition>,
    unless: Vec<String>,
}

impl Rule {
    /// If the rule holds for these tags: the keys of the tags that decided it.
    fn decide(&self, tags: &[(&str, &str)]) -> Option<Vec<String>> {
        if !self.all.iter().all(|c| c.holds(tags)) || self.none.iter().any(|c| c.holds(tags)) {
            return None;
        }
        let any: Vec<&Condition> = self.any.iter().filter(|c| c.holds(tags)).collect();
        if !self.any.is_empty() && any.is_empty() {
            return None;
        }
        Some(
            self.all
                .iter()
                .chain(any)
                .filter(|c| c.is_positive())
                .map(|c| c.key.clone())
                .collect(),
        )
    }
}

/// What the rules say about one element.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Match {
    /// The categories, each once, in the order the mapping first names them.
    pub categories: Vec<String>,
    /// Keys of the tags that decided them, sorted, each once.
    pub keys: Vec<String>,
}

/// Which buildings hold homes, and how many people live in them.
#[derive(Debug, Clone)]
pub struct ResidenceRules {
    /// Buildings that are homes wherever they are.
    pub homes: Vec<Condition>,
    /// Buildings that are homes inside residential land use (and that a populated grid cell
    /// without any other home falls back to).
    pub maybe_homes: Vec<Condition>,
    /// Tags that disqualify a `maybe_homes` building (shops, offices, churches...).
    pub not_homes: Vec<Condition>,
    /// Areas whose `maybe_homes` buildings are homes.
    pub residential_landuse: Vec<Condition>,
    /// Storeys assumed where `building:levels` is missing or unreadable.
    pub default_levels: f64,
    /// Without a population grid: floor area per resident, square metres.
    pub floor_area_per_person_m2: f64,
}

/// How a building is classed by [`ResidenceRules`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeClass {
    /// Matches `homes`.
    Home,
    /// Matches `maybe_homes` and none of `not_homes`.
    MaybeHome,
}

impl ResidenceRules {
    /// Class a building by its tags (`None`: not a home, whatever its place).
    pub fn class(&self, tags: &[(&str, &str)]) -> Option<HomeClass> {
        if self.homes.iter().any(|c| c.holds(tags)) {
            Some(HomeClass::Home)
        } else if self.maybe_homes.iter().any(|c| c.holds(tags))
            && !self.not_homes.iter().any(|c| c.holds(tags))
        {
            Some(HomeClass::MaybeHome)
        } else {
            None
        }
    }

    /// Whether an area with these tags is residential land use.
    pub fn is_residential_landuse(&self, tags: &[(&str, &str)]) -> bool {
        self.residential_landuse.iter().any(|c| c.holds(tags))
    }
}

/// A complete mapping: facility rules and residence rules.
#[derive(Debug, Clone)]
pub struct Mapping {
    name: String,
    rules: Vec<Rule>,
    /// Residence rules.
    pub residences: ResidenceRules,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    category: String,
    #[serde(default)]
    any: Vec<String>,
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    none: Vec<String>,
    #[serde(default)]
    unless: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawResidences {
    homes: Option<Vec<String>>,
    maybe_homes: Option<Vec<String>>,
    not_homes: Option<Vec<String>>,
    residential_landuse: Option<Vec<String>>,
    default_levels: Option<f64>,
    floor_area_per_person_m2: Option<f64>,
}

impl Mapping {
    /// The built-in mapping (`src/osm/default_mapping.toml`, documented in `src/osm/MAPPING.md`).
    pub fn builtin() -> Self {
        // The built-in text is part of the program, not user input; a unit test parses it.
        match Self::parse(DEFAULT_MAPPING_TOML, DEFAULT_NAME, None) {
            Ok(m) => m,
            Err(e) => unreachable!("the built-in mapping is invalid: {e}"),
        }
    }

    /// Read a mapping file. Its rules follow the built-in ones unless it says
    /// `include_default = false`; its `[residences]` values replace the built-in ones.
    ///
    /// # Errors
    /// The file cannot be read, is not TOML, has unknown keys, or a rule or condition is
    /// malformed; the message names the file and the rule number.
    pub fn from_file(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read {
            file: name.clone(),
            source: e,
        })?;
        Self::from_toml_str(&text, &name)
    }

    /// Parse mapping text; `name` is used in messages. See [`Mapping::from_file`].
    ///
    /// # Errors
    /// As [`Mapping::from_file`].
    pub fn from_toml_str(text: &str, name: &str) -> Result<Self> {
        Self::parse(text, name, Some(Self::builtin()))
    }

    fn parse(text: &str, name: &str, base: Option<Mapping>) -> Result<Self> {
        let fail = |reason: String| Error::File {
            file: name.to_string(),
            reason,
        };
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| fail(format!("not valid TOML: {}", e.message())))?;
        let mut include_default = true;
        let mut raw_rules = Vec::new();
        let mut raw_res = RawResidences::default();
        for (key, value) in table {
            match key.as_str() {
                "include_default" => {
                    include_default = value
                        .as_bool()
                        .ok_or_else(|| fail("include_default must be true or false".to_string()))?;
                }
                "rule" => {
                    let toml::Value::Array(items) = value else {
                        return Err(fail(
                            "`rule` must be written as [[rule]] tables".to_string(),
                        ));
                    };
                    for (i, item) in items.into_iter().enumerate() {
                        let r: RawRule = item.try_into().map_err(|e: toml::de::Error| {
                            fail(format!("rule {}: {}", i + 1, e.message().trim()))
                        })?;
                        raw_rules.push((i + 1, r));
                    }
                }
                "residences" => {
                    raw_res = value.try_into().map_err(|e: toml::de::Error| {
                        fail(format!("[residences]: {}", e.message().trim()))
                    })?;
                }
                other => {
                    return Err(fail(format!(
                        "unknown key `{other}`; expected [[rule]], [residences] or include_default"
                    )))
                }
            }
        }
        let (mut rules, residences) = match base {
            Some(b) if include_default => (b.rules, b.residences),
            Some(b) => (Vec::new(), b.residences),
            None => (
                Vec::new(),
                ResidenceRules {
                    homes: Vec::new(),
                    maybe_homes: Vec::new(),
                    not_homes: Vec::new(),
                    residential_landuse: Vec::new(),
                    default_levels: 4.0,
                    floor_area_per_person_m2: 35.0,
                },
            ),
        };
        for (n, r) in raw_rules {
            let in_rule = |reason: String| {
                fail(format!(
                    "rule {n} (category \"{}\"): {reason}",
                    r.category.trim()
                ))
            };
            let category = r.category.trim().to_string();
            if category.is_empty() || category.contains(';') {
                return Err(fail(format!(
                    "rule {n}: category must be a non-empty name without ';', found \"{}\"",
                    r.category
                )));
            }
            if r.any.is_empty() && r.all.is_empty() {
                return Err(in_rule(
                    "has no conditions; give `any` or `all` (a rule matching everything is \
                     almost certainly a mistake)"
                        .into(),
                ));
            }
            let conds = |list: &[String]| -> Result<Vec<Condition>> {
                list.iter()
                    .map(|c| Condition::parse(c).map_err(&in_rule))
                    .collect()
            };
            rules.push(Rule {
                any: conds(&r.any)?,
                all: conds(&r.all)?,
                none: conds(&r.none)?,
                unless: r.unless.iter().map(|u| u.trim().to_string()).collect(),
                category,
            });
        }
        let conds = |list: Option<Vec<String>>, what: &str, old: Vec<Condition>| match list {
            None => Ok(old),
            Some(list) => list
                .iter()
                .map(|c| Condition::parse(c).map_err(|e| fail(format!("[residences] {what}: {e}"))))
                .collect(),
        };
        let positive = |v: Option<f64>, what: &str, old: f64| match v {
            None => Ok(old),
            Some(x) if x.is_finite() && x > 0.0 => Ok(x),
            Some(x) => Err(fail(format!(
                "[residences] {what} must be a positive number, found {x}"
            ))),
        };
        let residences = ResidenceRules {
            homes: conds(raw_res.homes, "homes", residences.homes)?,
            maybe_homes: conds(raw_res.maybe_homes, "maybe_homes", residences.maybe_homes)?,
            not_homes: conds(raw_res.not_homes, "not_homes", residences.not_homes)?,
            residential_landuse: conds(
                raw_res.residential_landuse,
                "residential_landuse",
                residences.residential_landuse,
            )?,
            default_levels: positive(
                raw_res.default_levels,
                "default_levels",
                residences.default_levels,
            )?,
            floor_area_per_person_m2: positive(
                raw_res.floor_area_per_person_m2,
                "floor_area_per_person_m2",
                residences.floor_area_per_person_m2,
            )?,
        };
        Ok(Self {
            name: name.to_string(),
            rules,
            residences,
        })
    }

    /// The name of the mapping in messages (a file name, or the built-in's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every category the rules can give, in the order they are first named.
    pub fn categories(&self) -> Vec<&str> {
        let mut seen = BTreeSet::new();
        self.rules
            .iter()
            .map(|r| r.category.as_str())
            .filter(|c| seen.insert(*c))
            .collect()
    }

    /// The categories these tags map to (empty when none).
    pub fn classify(&self, tags: &[(&str, &str)]) -> Match {
        let mut hits: Vec<(&str, Vec<String>)> = Vec::new();
        for rule in self.rules.iter().filter(|r| r.unless.is_empty()) {
            if let Some(keys) = rule.decide(tags) {
                hits.push((&rule.category, keys));
            }
        }
        let first: Vec<&str> = hits.iter().map(|(c, _)| *c).collect();
        for rule in self.rules.iter().filter(|r| !r.unless.is_empty()) {
            if rule.unless.iter().any(|u| first.contains(&u.as_str())) {
                continue;
            }
            if let Some(keys) = rule.decide(tags) {
                hits.push((&rule.category, keys));
            }
        }
        if hits.is_empty() {
            return Match::default();
        }
        let order = self.categories();
        let mut categories: Vec<String> = Vec::new();
        for c in order {
            if hits.iter().any(|(h, _)| *h == c) {
                categories.push(c.to_string());
            }
        }
        let keys: BTreeSet<String> = hits.into_iter().flat_map(|(_, k)| k).collect();
        Match {
            categories,
            keys: keys.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(text: &str) -> Condition {
        Condition::parse(text).unwrap()
    }

    #[test]
    fn conditions() {
        let tags = [
            ("amenity", "social_facility"),
            ("social_facility:for", "senior; disabled"),
            ("name", "Sunny Home"),
        ];
        assert!(c("amenity=*").holds(&tags));
        assert!(!c("shop=*").holds(&tags));
        assert!(c("social_facility:for=senior").holds(&tags));
        assert!(c("social_facility:for=child|disabled").holds(&tags));
        assert!(!c("social_facility:for=child").holds(&tags));
        assert!(c("social_facility:for!=child").holds(&tags));
        assert!(!c("social_facility:for!=senior").holds(&tags));
        assert!(c("shop!=bakery").holds(&tags));
        assert!(c("!shop").holds(&tags));
        assert!(!c("!amenity").holds(&tags));
        assert!(c("name~sunny").holds(&tags));
        assert!(c("name~xx|HOME").holds(&tags));
        assert!(!c("name~house").holds(&tags));
        assert!(
            !c("amenity=social").holds(&tags),
            "equality is exact, not a prefix"
        );
        for bad in ["amenity", "=x", "amenity=", "a=b|", "!", "!a=b", " ~x"] {
            assert!(Condition::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn builtin_parses_and_classifies() {
        let m = Mapping::builtin();
        assert_eq!(
            m.categories(),
            [
                "elderly_care",
                "childcare",
                "medical",
                "meals",
                "culture_sports",
                "admin_services",
                "school_primary",
                "school_secondary"
            ]
        );
        let r = m.classify(&[("amenity", "pharmacy"), ("name", "X")]);
        assert_eq!(r.categories, ["medical"]);
        assert_eq!(r.keys, ["amenity"]);
        let r = m.classify(&[
            ("amenity", "social_facility"),
            ("social_facility", "day_care"),
            ("social_facility:for", "child"),
        ]);
        assert_eq!(r.categories, ["childcare"]);
        assert_eq!(r.keys, ["amenity", "social_facility:for"]);
        let r = m.classify(&[
            ("amenity", "community_centre"),
            ("community_centre:for", "senior"),
        ]);
        assert_eq!(r.categories, ["elderly_care", "culture_sports"]);
        assert!(m.classify(&[("amenity", "bench")]).categories.is_empty());
        assert!(m.classify(&[]).categories.is_empty());
    }

    #[test]
    fn school_levels() {
        let m = Mapping::builtin();
        let cats = |t: &[(&str, &str)]| m.classify(t).categories;
        let school = ("amenity", "school");
        assert_eq!(cats(&[school, ("isced:level", "1")]), ["school_primary"]);
        assert_eq!(
            cats(&[school, ("isced:level", "2;3")]),
            ["school_secondary"]
        );
        assert_eq!(
            cats(&[school, ("isced:level", "1;2")]),
            ["school_primary", "school_secondary"]
        );
        assert_eq!(
            cats(&[school, ("name", "Kaisaniemen ala-aste")]),
            ["school_primary"]
        );
        assert_eq!(
            cats(&[school, ("name", "Ressun lukio")]),
            ["school_secondary"]
        );
        assert_eq!(
            cats(&[school, ("name", "北京市第一中学")]),
            ["school_secondary"]
        );
        assert_eq!(cats(&[school, ("name", "实验小学")]), ["school_primary"]);
        // The level tag wins over the name.
        assert_eq!(
            cats(&[school, ("isced:level", "3"), ("name", "X ala-aste")]),
            ["school_secondary"]
        );
        // Unknown level: both circles.
        assert_eq!(
            cats(&[school, ("name", "Koulu")]),
            ["school_primary", "school_secondary"]
        );
        assert_eq!(cats(&[school]), ["school_primary", "school_secondary"]);
        // A level that is neither: no school category.
        assert!(cats(&[school, ("isced:level", "4")]).is_empty());
    }

    #[test]
    fn user_file_extends_and_replaces() {
        let m = Mapping::from_toml_str(
            "[[rule]]\ncategory = \"market\"\nany = [\"amenity=marketplace\", \"shop=greengrocer\"]\n\
             [residences]\ndefault_levels = 6\n",
            "local.toml",
        )
        .unwrap();
        assert_eq!(
            m.classify(&[("shop", "greengrocer")]).categories,
            ["market"]
        );
        assert_eq!(m.classify(&[("amenity", "cafe")]).categories, ["meals"]);
        assert_eq!(m.residences.default_levels, 6.0);
        assert_eq!(m.residences.floor_area_per_person_m2, 35.0);
        let m = Mapping::from_toml_str(
            "include_default = false\n[[rule]]\ncategory = \"market\"\nall = [\"amenity=marketplace\"]\n",
            "local.toml",
        )
        .unwrap();
        assert_eq!(m.categories(), ["market"]);
        assert!(m.classify(&[("amenity", "cafe")]).categories.is_empty());
    }

    #[test]
    fn bad_files_name_file_and_rule() {
        let err = |text: &str| {
            Mapping::from_toml_str(text, "local.toml")
                .unwrap_err()
                .to_string()
        };
        let e = err(
            "[[rule]]\ncategory=\"a\"\nany=[\"x=1\"]\n[[rule]]\ncategory=\"b\"\nanyy=[\"x=1\"]\n",
        );
        assert!(e.starts_with("local.toml: rule 2"), "{e}");
        assert!(e.contains("anyy"), "{e}");
        let e = err("[[rule]]\ncategory=\"a\"\nany=[\"amenity\"]\n");
        assert!(
            e.contains("rule 1 (category \"a\")") && e.contains("\"amenity\""),
            "{e}"
        );
        let e = err("[[rule]]\ncategory=\"a\"\n");
        assert!(e.contains("rule 1") && e.contains("no conditions"), "{e}");
        let e = err("[[rule]]\ncategory=\"\"\nany=[\"a=b\"]\n");
        assert!(e.contains("rule 1") && e.contains("category"), "{e}");
        let e = err("[[rules]]\ncategory=\"a\"\n");
        assert!(e.contains("unknown key `rules`"), "{e}");
        let e = err("[residences]\ndefault_levels = -1\n");
        assert!(e.contains("default_levels"), "{e}");
        let e = err("[residences]\nhomes = [\"building\"]\n");
        assert!(e.contains("[residences] homes"), "{e}");
        let e = err("[[rule]\n");
        assert!(e.starts_with("local.toml: not valid TOML"), "{e}");
        let e = Mapping::from_file(Path::new("/nonexistent/m.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/m.toml"), "{e}");
    }
}
