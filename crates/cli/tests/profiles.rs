//! Profiles: the built-ins, round trips, alias resolution, walking distances and every
//! rejection the loader promises, with the message checked.

use lifecircle::profile::{builtin_names, builtin_text, Profile, Walk, DEFAULT_PROFILE};
use lifecircle::Error;

use crate::support;

/// Parses `text` as a profile named `test.toml` and returns the error message.
fn rejection(text: &str) -> String {
    match Profile::from_toml_str(text, "test.toml") {
        Ok(p) => panic!("accepted: {p:?}"),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("test.toml: "), "no file name: {msg}");
            msg
        }
    }
}

fn assert_contains(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "{msg:?} lacks {p:?}");
    }
}

const TWO: &str = r#"
name = "two"

[[category]]
key = "a"
aliases = ["x"]
max_walk = "10min"

[[category]]
key = "meals"
max_walk = "500m"
"#;

#[test]
fn minimal_profile_and_defaults() {
    let p = Profile::from_toml_str(TWO, "two.toml").unwrap();
    assert_eq!(p.name, "two");
    assert_eq!(p.origin, "two.toml");
    assert_eq!(p.walk_speed_m_per_s, 1.0);
    assert_eq!(p.target_percent, 85.0);
    assert!(!p.include_other_categories);
    assert_eq!(p.other_max_walk_m(), None);
    let a = p.category("a").unwrap();
    // Names fall back to the key.
    assert_eq!((a.name_zh.as_str(), a.name_en.as_str()), ("a", "a"));
    assert_eq!(p.max_walk_m(a), 600.0); // 10 min * 60 s * 1.0 m/s
    assert_eq!(p.max_walk_m(p.category("meals").unwrap()), 500.0);
    assert_eq!(p.target_percent_for(a), 85.0);
}

#[test]
fn builtins_are_listed_and_parse() {
    assert_eq!(builtin_names(), ["six-functions", "gb50180"]);
    assert_eq!(builtin_names()[0], DEFAULT_PROFILE);
    for name in builtin_names() {
        let p = Profile::builtin(name).unwrap();
        assert_eq!(p.name, *name);
        assert_eq!(p.origin, format!("built-in profile '{name}'"));
        // `profiles show` prints the file verbatim, comments included.
        assert_eq!(Some(p.to_toml()), builtin_text(name));
        assert!(p.to_toml().starts_with("# lifecircle profile"));
        for c in &p.categories {
            let source = c.source.as_deref().unwrap_or("");
            assert!(
                source.starts_with("GB 50180-2018") || source.starts_with("project choice"),
                "{name}/{}: source {source:?}",
                c.key
            );
            assert!(!c.name_zh.is_empty() && c.name_zh != c.key, "{}", c.key);
            assert!(!c.name_en.is_empty() && c.name_en != c.key, "{}", c.key);
        }
    }
    let err = Profile::builtin("gb50137").unwrap_err().to_string();
    assert_contains(&err, &["'gb50137'", "six-functions, gb50180"]);
}

#[test]
fn six_functions_distances_by_hand() {
    let p = Profile::builtin("six-functions").unwrap();
    assert!(p.include_other_categories);
    assert_eq!(p.other_max_walk_m(), Some(900.0));
    // key, metres (15 min * 60 s at 1.0 m/s), group
    let expected = [
        ("elderly_care", 900.0, Some("elderly")),
        ("childcare", 900.0, Some("children")),
        ("medical", 900.0, None),
        ("meals", 900.0, Some("elderly")),
        ("culture_sports", 900.0, None),
        ("admin_services", 900.0, None),
    ];
    let keys: Vec<&str> = p.categories.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, expected.map(|e| e.0));
    for (key, metres, group) in expected {
        let c = p.category(key).unwrap();
        assert_eq!(p.max_walk_m(c), metres, "{key}");
        assert_eq!(c.max_walk, Walk::Minutes(15.0), "{key}");
        assert_eq!(c.group.as_deref(), group, "{key}");
        assert_eq!(p.target_percent_for(c), 85.0, "{key}");
    }
    // No category sets its own speed, so a caller's default (e.g. 1.2 m/s) applies to all.
    for c in &p.categories {
        assert_eq!(c.walk_speed_m_per_s, None, "{}", c.key);
        assert_eq!(c.max_walk_m(1.2), 1080.0, "{}", c.key); // 15 * 60 * 1.2
    }
}

#[test]
fn gb50180_levels_by_hand() {
    let p = Profile::builtin("gb50180").unwrap();
    assert!(!p.include_other_categories);
    assert_eq!(p.levels.get("5min"), Some(&Walk::Metres(300.0)));
    assert_eq!(p.levels.get("10min"), Some(&Walk::Metres(500.0)));
    assert_eq!(p.levels.get("15min"), Some(&Walk::Metres(1000.0)));
    let expected = [
        ("childcare", "5min", 300.0),
        ("elderly_day_care", "5min", 300.0),
        ("health_station", "5min", 300.0),
        ("meals", "5min", 300.0),
        ("culture_station", "5min", 300.0),
        ("community_service_station", "5min", 300.0),
        ("primary_school", "10min", 500.0),
        ("market", "10min", 500.0),
        ("secondary_school", "15min", 1000.0),
        ("health_centre", "15min", 1000.0),
        ("nursing_home", "15min", 1000.0),
        ("culture_sports", "15min", 1000.0),
        ("admin_services", "15min", 1000.0),
    ];
    assert_eq!(p.categories.len(), expected.len());
    for (key, level, metres) in expected {
        let c = p.category(key).unwrap_or_else(|| panic!("{key} missing"));
        assert_eq!(c.level.as_deref(), Some(level), "{key}");
        assert_eq!(p.max_walk_m(c), metres, "{key}");
    }
    // Every facility category of the six-functions profile finds a home in gb50180.
    for key in support::SIX_FUNCTIONS {
        assert!(p.category_for(key).is_some(), "{key}");
    }
}

#[test]
fn alias_resolution() {
    let p = Profile::builtin("six-functions").unwrap();
    let key_of = |v: &str| p.category_for(v).map(|c| c.key.as_str());
    assert_eq!(key_of("养老"), Some("elderly_care"));
    assert_eq!(key_of(" Nursing_Home "), Some("elderly_care"));
    assert_eq!(key_of("ELDERLY_CARE"), Some("elderly_care")); // the key itself
    assert_eq!(key_of("幼儿园"), Some("childcare"));
    assert_eq!(key_of("社区食堂\t"), Some("meals"));
    assert_eq!(key_of("Library"), Some("culture_sports"));
    assert_eq!(key_of("社区服务中心"), Some("admin_services"));
    assert_eq!(key_of("养 老"), None); // inner spaces matter
    assert_eq!(key_of("pharmacy"), None);
    assert_eq!(key_of(""), None);

    // The sample data's category values: the six functions resolve to themselves, the others
    // (schools) to nothing, and are analysed as extra categories.
    let json = support::read_json(&support::data("facilities.geojson"));
    let features = json["features"].as_array().unwrap();
    assert!(!features.is_empty());
    let mut standard = 0;
    for f in features {
        let value = f["properties"]["category"].as_str().unwrap();
        let key = p.categories.iter().find(|c| c.key == value);
        assert_eq!(key_of(value), key.map(|c| c.key.as_str()), "{value}");
        standard += usize::from(key.is_some());
    }
    assert!(standard > features.len() / 2, "{standard}");
}

#[test]
fn canonical_toml_round_trips() {
    for name in builtin_names() {
        let p = Profile::builtin(name).unwrap();
        let text = p.to_canonical_toml().unwrap();
        let q = Profile::from_toml_str(&text, "canonical.toml")
            .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert_eq!(q.name, p.name);
        assert_eq!(q.description, p.description);
        assert_eq!(q.walk_speed_m_per_s, p.walk_speed_m_per_s);
        assert_eq!(q.target_percent, p.target_percent);
        assert_eq!(q.include_other_categories, p.include_other_categories);
        assert_eq!(q.max_walk, p.max_walk);
        assert_eq!(q.levels, p.levels);
        assert_eq!(q.categories, p.categories);
        for c in &p.categories {
            for a in &c.aliases {
                assert_eq!(q.category_for(a).map(|c| &c.key), Some(&c.key));
            }
        }
    }
}

#[test]
fn targets_groups_and_speeds_per_category() {
    let p = Profile::from_toml_str(
        r#"
name = "x"
walk_speed_m_per_s = 1.25
target_percent = 90.5
max_walk = "1.2 km"
include_other_categories = true

[[category]]
key = "slow"
name_zh = "慢"
max_walk = "12.5 min"
walk_speed_m_per_s = 0.8
target_percent = 100
group = " elderly "

[[category]]
key = "default"
name_en = "Default"
"#,
        "x.toml",
    )
    .unwrap();
    let slow = p.category("slow").unwrap();
    assert_eq!(p.max_walk_m(slow), 600.0); // 12.5 * 60 * 0.8
    assert_eq!(p.target_percent_for(slow), 100.0);
    assert_eq!(slow.group.as_deref(), Some("elderly"));
    assert_eq!((slow.name_zh.as_str(), slow.name_en.as_str()), ("慢", "慢"));
    let d = p.category("default").unwrap();
    assert_eq!(d.max_walk, Walk::Metres(1200.0));
    assert_eq!(p.max_walk_m(d), 1200.0);
    assert_eq!(p.target_percent_for(d), 90.5);
    assert_eq!(d.name_zh, "Default");
    assert_eq!(p.other_max_walk_m(), Some(1200.0));
}

#[test]
fn unknown_keys_are_rejected_with_their_place() {
    let msg = rejection(
        "name = \"x\"\ncolour = \"red\"\n[[category]]\nkey = \"a\"\nmax_walk = \"5min\"\n",
    );
    assert_contains(&msg, &["line 2", "unknown field `colour`"]);

    let msg = rejection(&format!("{TWO}maxwalk = \"5min\"\n"));
    assert_contains(
        &msg,
        &["line 12", "category #2 'meals'", "unknown field `maxwalk`"],
    );

    let msg = rejection("name = \"x\"\n[levels]\n5min = 300\n");
    assert_contains(&msg, &["line 3", "invalid type"]);

    let msg = rejection("name = \"x\"\ntarget_percent = \"85%\"\n");
    assert_contains(&msg, &["line 2", "invalid type"]);

    let msg = rejection("name = \"x\"\n[[category]\n");
    assert_contains(&msg, &["line 2"]);
}

#[test]
fn bad_distances_are_rejected() {
    for (walk, want) in [
        ("fast", "\"fast\" is not a walking distance or time"),
        ("-5min", "positive"),
        ("0m", "positive"),
        ("15", "has no unit"),
    ] {
        let msg = rejection(&TWO.replace("\"500m\"", &format!("\"{walk}\"")));
        assert_contains(&msg, &["category #2 'meals'", "max_walk", want]);
    }
    let msg = rejection("name = \"x\"\nmax_walk = \"far\"\n[[category]]\nkey = \"a\"\n");
    assert_contains(&msg, &["test.toml: max_walk: \"far\""]);
    let msg = rejection(
        "name = \"x\"\n[levels]\nnear = \"0km\"\n[[category]]\nkey = \"a\"\nlevel = \"near\"\n",
    );
    assert_contains(&msg, &["levels.near", "positive"]);
}

#[test]
fn bad_targets_and_speeds_are_rejected() {
    let msg = rejection(&format!("target_percent = 120\n{TWO}"));
    assert_contains(&msg, &["target_percent", "between 0 and 100", "120"]);
    let msg = rejection(&TWO.replace(
        "max_walk = \"500m\"",
        "max_walk = \"500m\"\ntarget_percent = -1",
    ));
    assert_contains(&msg, &["category #2 'meals'", "target_percent", "-1"]);
    let msg = rejection(&TWO.replace(
        "max_walk = \"500m\"",
        "max_walk = \"500m\"\ntarget_percent = nan",
    ));
    assert_contains(&msg, &["category #2 'meals'", "target_percent", "NaN"]);
    let msg = rejection(&format!("walk_speed_m_per_s = 0\n{TWO}"));
    assert_contains(&msg, &["walk_speed_m_per_s", "positive", "found 0"]);
    let msg = rejection(&TWO.replace(
        "max_walk = \"10min\"",
        "max_walk = \"10min\"\nwalk_speed_m_per_s = -0.8",
    ));
    assert_contains(&msg, &["category #1 'a'", "walk_speed_m_per_s", "-0.8"]);
}

#[test]
fn alias_and_key_conflicts_are_rejected() {
    let msg = rejection(&TWO.replace("key = \"meals\"", "key = \"meals\"\naliases = [\" X \"]"));
    assert_contains(
        &msg,
        &[
            "category #2 'meals'",
            "alias 'X' is already claimed by category #1 'a'",
        ],
    );

    let msg = rejection(&TWO.replace("key = \"meals\"", "key = \"A\""));
    assert_contains(
        &msg,
        &[
            "category #2 'A'",
            "duplicate category key 'A'",
            "category #1",
        ],
    );

    let msg = rejection(&TWO.replace("key = \"meals\"", "key = \"x\""));
    assert_contains(&msg, &["key 'x' is already an alias of category #1 'a'"]);

    let msg = rejection(&TWO.replace("aliases = [\"x\"]", "aliases = [\"x\", \"  \"]"));
    assert_contains(&msg, &["category #1 'a'", "aliases must not be empty"]);
}

#[test]
fn incomplete_profiles_are_rejected() {
    let msg = rejection("name = \"x\"\n[[category]]\nkey = \"a\"\n");
    assert_contains(&msg, &["category #1 'a'", "no maximum walk"]);

    let msg = rejection(
        "name = \"x\"\n[levels]\n5min = \"300m\"\n[[category]]\nkey = \"a\"\nlevel = \"10min\"\n",
    );
    assert_contains(
        &msg,
        &[
            "category #1 'a'",
            "level '10min' is not defined",
            "defined: 5min",
        ],
    );

    let msg = rejection(&format!("include_other_categories = true\n{TWO}"));
    assert_contains(
        &msg,
        &["include_other_categories = true needs a top-level max_walk"],
    );

    let msg = rejection("name = \"  \"\n[[category]]\nkey = \"a\"\nmax_walk = \"1km\"\n");
    assert_contains(&msg, &["name must not be empty"]);

    let msg = rejection("name = \"x\"\n");
    assert_contains(&msg, &["no [[category]] entries"]);

    let msg = rejection("name = \"x\"\n[[category]]\nkey = \"a b\"\nmax_walk = \"1km\"\n");
    assert_contains(&msg, &["category #1 'a b'", "must not contain spaces"]);

    let msg =
        rejection("name = \"x\"\n[[category]]\nkey = \"a\"\nmax_walk = \"1km\"\ngroup = \"\"\n");
    assert_contains(&msg, &["category #1 'a'", "group must not be empty"]);

    let msg = rejection("[[category]]\nkey = \"a\"\nmax_walk = \"1km\"\n");
    assert_contains(&msg, &["missing field `name`"]);
}

#[test]
fn load_by_name_or_path() {
    assert_eq!(Profile::load("gb50180").unwrap().name, "gb50180");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    std::fs::write(&path, TWO).unwrap();
    let p = Profile::load(path.to_str().unwrap()).unwrap();
    assert_eq!(p.name, "two");
    assert_eq!(p.origin, path.to_str().unwrap());
    assert_eq!(p.to_toml(), TWO);

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, TWO.replace("\"500m\"", "\"fast\"")).unwrap();
    let msg = Profile::load(bad.to_str().unwrap())
        .unwrap_err()
        .to_string();
    assert_contains(
        &msg,
        &[bad.to_str().unwrap(), "category #2 'meals'", "\"fast\""],
    );

    let missing = dir.path().join("missing.toml");
    let err = Profile::load(missing.to_str().unwrap()).unwrap_err();
    assert!(matches!(err, Error::Read { .. }), "{err:?}");

    let msg = Profile::load("six_functions").unwrap_err().to_string();
    assert_contains(
        &msg,
        &["'six_functions'", "six-functions, gb50180", ".toml"],
    );
}

/// The custom profile shown in the README parses, with the walks its comments state.
#[test]
fn readme_custom_profile_example() {
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    let from = readme
        .find("**A custom profile.**")
        .expect("README section");
    let rest = &readme[from..];
    let start = rest.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + rest[start..].find("```").unwrap();
    let p = Profile::from_toml_str(&rest[start..end], "README.md").unwrap();
    assert_eq!(p.name, "my-city");
    let m = |key: &str| p.max_walk_m(p.category(key).unwrap());
    assert_eq!(m("elderly_care"), 720.0); // 15 min * 60 s * 0.8 m/s
    assert_eq!(m("meals"), 480.0); // 10 min * 60 s * 0.8 m/s
    assert_eq!(m("medical"), 1000.0);
    assert_eq!(m("primary_school"), 600.0); // 10 min at the default 1.0 m/s
    assert_eq!(
        p.category_for("school_primary").map(|c| c.key.as_str()),
        Some("primary_school")
    );
    assert_eq!(p.target_percent_for(p.category("meals").unwrap()), 90.0);
    assert_eq!(p.other_max_walk_m(), Some(900.0));
    assert_eq!(
        p.category_for("养老").map(|c| c.key.as_str()),
        Some("elderly_care")
    );
}

/// Every category value that `extract` writes (its built-in mapping) is measured by every
/// built-in profile: as one of the profile's categories, or as a local extra where the profile
/// analyses other categories.
#[test]
fn every_builtin_profile_accepts_every_extract_category() {
    let mapping = lifecircle::osm::mapping::Mapping::builtin();
    for name in lifecircle::profile::builtin_names() {
        let p = Profile::builtin(name).unwrap();
        for category in mapping.categories() {
            assert!(
                p.category_for(category).is_some() || p.include_other_categories,
                "profile {name} does not measure the extract category {category}"
            );
        }
    }
}
