//! OpenStreetMap extraction: the Helsinki sample checked against independent counts (a plain
//! sequential osmpbf scan, and the externally produced data/*.geojson), and small hand-built
//! PBF files with known answers and known defects.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    path::{Path, PathBuf},
};

use lifecircle::{
    io::geojson::{read_features, Source},
    osm::{self, CommunityKind, Mapping, SkipKind},
};
use osmpbf::{Element, ElementReader};

use crate::support::{data, features, fixture, root, run_in, text};

fn helsinki() -> PathBuf {
    data("raw/helsinki-centre.osm.pbf")
}

fn prop_str(f: &geojson::Feature, k: &str) -> Option<String> {
    f.property(k).and_then(|v| v.as_str()).map(str::to_string)
}

/// Everything the plain sequential reader sees, for independent counts.
struct Plain {
    node_pos: HashMap<i64, (f64, f64)>,
    nodes: Vec<(i64, HashMap<String, String>)>,
    ways: Vec<(i64, Vec<i64>, HashMap<String, String>)>,
}

fn plain(path: &Path) -> Plain {
    let mut p = Plain {
        node_pos: HashMap::new(),
        nodes: Vec::new(),
        ways: Vec::new(),
    };
    let tags = |it: &mut dyn Iterator<Item = (&str, &str)>| -> HashMap<String, String> {
        it.map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    ElementReader::from_path(path)
        .unwrap()
        .for_each(|e| match e {
            Element::DenseNode(n) => {
                p.node_pos.insert(n.id(), (n.lon(), n.lat()));
                p.nodes.push((n.id(), tags(&mut n.tags())));
            }
            Element::Node(n) => {
                p.node_pos.insert(n.id(), (n.lon(), n.lat()));
                p.nodes.push((n.id(), tags(&mut n.tags())));
            }
            Element::Way(w) => p
                .ways
                .push((w.id(), w.refs().collect(), tags(&mut w.tags()))),
            Element::Relation(_) => {}
        })
        .unwrap();
    p
}

fn run_helsinki(out: &Path, grid: bool) -> (osm::Extract, osm::Inventory) {
    let grid_path = data("raw/helsinki-population-2020.geojson");
    let ex = osm::extract(
        &helsinki(),
        grid.then_some(grid_path.as_path()),
        &Mapping::builtin(),
    )
    .unwrap();
    let inv = osm::write_extract(&ex, out).unwrap();
    (ex, inv)
}

/// The ids a plain scan finds for a tag condition: nodes, and ways with a node in the file.
fn scanned(p: &Plain, condition: impl Fn(&HashMap<String, String>) -> bool) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = p
        .nodes
        .iter()
        .filter(|(_, t)| condition(t))
        .map(|(id, _)| format!("n{id}"))
        .collect();
    ids.extend(
        p.ways
            .iter()
            .filter(|(_, refs, t)| condition(t) && refs.iter().any(|r| p.node_pos.contains_key(r)))
            .map(|(id, _, _)| format!("w{id}")),
    );
    ids
}

/// `key` has one of `values` (a `;` list counts value by value).
fn tag_in(t: &HashMap<String, String>, key: &str, values: &[&str]) -> bool {
    t.get(key)
        .is_some_and(|v| v.split(';').any(|v| values.contains(&v.trim())))
}

#[test]
fn helsinki_facilities_and_places_match_a_plain_scan() {
    let dir = tempfile::tempdir().unwrap();
    let (ex, inv) = run_helsinki(dir.path(), false);
    println!("{inv}");
    let p = plain(&helsinki());
    let written = features(&dir.path().join("facilities.geojson"));
    let with_category = |category: &str| -> BTreeSet<String> {
        written
            .iter()
            .filter(|f| {
                prop_str(f, "category")
                    .unwrap()
                    .split(';')
                    .any(|c| c.trim() == category)
            })
            .map(|f| prop_str(f, "id").unwrap())
            .collect()
    };
    let with_amenity = |values: &[&str]| -> BTreeSet<String> {
        written
            .iter()
            .filter(|f| {
                prop_str(f, "amenity")
                    .is_some_and(|a| a.split(';').any(|a| values.contains(&a.trim())))
            })
            .map(|f| prop_str(f, "id").unwrap())
            .collect()
    };

    // Medical and meals by their `amenity` values (other tags add more of both).
    for (category, amenities, at_least) in [
        (
            "medical",
            &["pharmacy", "clinic", "doctors", "hospital"][..],
            10,
        ),
        (
            "meals",
            &["restaurant", "cafe", "fast_food", "food_court", "canteen"][..],
            300,
        ),
    ] {
        let expected = scanned(&p, |t| tag_in(t, "amenity", amenities));
        assert!(expected.len() >= at_least, "{category}: {expected:?}");
        let got = with_amenity(amenities);
        assert_eq!(got, expected, "{category}");
        assert!(got.is_subset(&with_category(category)), "{category}");
    }
    // Childcare and elderly care, every rule of the built-in mapping written out by hand.
    let childcare = scanned(&p, |t| {
        tag_in(t, "amenity", &["kindergarten", "childcare"])
            || (tag_in(t, "amenity", &["social_facility"])
                && tag_in(t, "social_facility:for", &["child", "children"]))
    });
    assert_eq!(with_category("childcare"), childcare);
    let elderly = scanned(&p, |t| {
        tag_in(t, "amenity", &["nursing_home"])
            || tag_in(t, "social_facility", &["nursing_home", "assisted_living"])
            || tag_in(t, "healthcare", &["nursing_home"])
            || (tag_in(t, "amenity", &["social_facility", "community_centre"])
                && tag_in(t, "social_facility:for", &["senior", "elderly"]))
            || (tag_in(t, "amenity", &["community_centre"])
                && tag_in(t, "community_centre:for", &["senior", "elderly"]))
    });
    assert_eq!(with_category("elderly_care"), elderly);
    println!("childcare {childcare:?}, elderly care {elderly:?}");

    // Communities: no complete admin boundary in this extract, so the place nodes.
    let places = scanned(&p, |t| {
        tag_in(t, "place", &["suburb", "quarter", "neighbourhood"])
    });
    assert!(places.iter().all(|id| id.starts_with('n')));
    let ours: BTreeSet<String> = ex
        .communities
        .iter()
        .map(|c| c.model.id().to_string())
        .collect();
    assert_eq!(ours, places);
    assert!(ex
        .communities
        .iter()
        .all(|c| matches!(c.osm, CommunityKind::Place { .. })));
    assert_eq!(inv.communities, places.len());
    assert!(inv.skipped.count(SkipKind::MissingMembers) > 0);
}

type Segment = (i64, [i64; 2], [i64; 2]);

fn segments_of(fs: &[geojson::Feature]) -> HashSet<Segment> {
    let q = |x: f64| (x * 1e7).round() as i64;
    let mut out = HashSet::new();
    for f in fs {
        // Our files write way ids as `w123`; the ready-made reference file as numbers.
        let id = match f.property("id").unwrap() {
            serde_json::Value::String(s) => s.strip_prefix('w').unwrap().parse().unwrap(),
            v => v.as_i64().unwrap(),
        };
        let Some(geojson::GeometryValue::LineString { coordinates: cs }) =
            f.geometry.as_ref().map(|g| &g.value)
        else {
            panic!("not a LineString");
        };
        for w in cs.windows(2) {
            let (a, b) = (w[0].as_slice(), w[1].as_slice());
            out.insert((id, [q(a[0]), q(a[1])], [q(b[0]), q(b[1])]));
        }
    }
    out
}

#[test]
fn helsinki_streets_match_plain_scan_and_external_file() {
    let dir = tempfile::tempdir().unwrap();
    let (ex, inv) = run_helsinki(dir.path(), false);
    let p = plain(&helsinki());
    let written = features(&dir.path().join("streets.geojson"));
    let ours = segments_of(&written);

    // Independent: every pair of consecutive nodes, both in the file, of a walkable way.
    let q = |x: f64| (x * 1e7).round() as i64;
    let mut expected = HashSet::new();
    let mut highway_of = HashMap::new();
    for (id, refs, tags) in &p.ways {
        let t: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        if !osm::is_walkable(&t) {
            continue;
        }
        highway_of.insert(*id, tags.clone());
        for w in refs.windows(2) {
            if let (Some(a), Some(b)) = (p.node_pos.get(&w[0]), p.node_pos.get(&w[1])) {
                expected.insert((*id, [q(a.0), q(a.1)], [q(b.0), q(b.1)]));
            }
        }
    }
    assert_eq!(ours, expected);

    // The ready-made file (6,363 segments by another tool's rule) is contained in ours; every
    // extra segment is a cycleway that allows walking, which that rule left out.
    let external = segments_of(&features(&fixture("helsinki-streets-reference.geojson")));
    assert_eq!(external.len(), 6363);
    assert!(external.is_subset(&ours));
    for (id, _, _) in ours.difference(&external) {
        let t = &highway_of[id];
        assert_eq!(t["highway"], "cycleway", "w{id}");
        assert!(["yes", "designated", "permissive"].contains(&t["foot"].as_str()));
    }

    // walkable_lines gives the same lines as the extract.
    let lines = osm::walkable_lines(&helsinki()).unwrap();
    assert_eq!(lines, ex.streets);
    let length: f64 = lines.iter().map(|l| l.length_m()).sum();
    assert!((length - inv.street_length_m).abs() < 1e-6);
    assert!(inv.skipped.count(SkipKind::StreetClipped) > 0);
}

#[test]
fn helsinki_population_and_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (ex, inv) = run_helsinki(dir.path(), true);
    println!("{inv}");
    // The grid total, read with another parser.
    let grid_total: f64 = features(&data("raw/helsinki-population-2020.geojson"))
        .iter()
        .map(|f| f.property("population").and_then(|v| v.as_f64()).unwrap())
        .sum();
    assert!((inv.population + inv.unplaced_population - grid_total).abs() < 1e-6);
    // The ready-made residences file that data/ shipped before (made by another tool from the
    // same grid cells) placed 7,801 people.
    assert!((inv.population - 7801.0).abs() < 0.5, "{}", inv.population);
    assert!(ex
        .residences
        .iter()
        .all(|r| r.model.population() > 0.0 && !r.osm.population_estimated));

    // The sharing, cell by cell, from the written files: each home's cell by a point-in-polygon
    // test of its own; a cell's people go to the homes in it (all of them, shared by floor
    // area); cells with people and no home keep them unplaced.
    let cells: Vec<(Vec<[f64; 2]>, f64)> = features(&data("raw/helsinki-population-2020.geojson"))
        .iter()
        .map(|f| {
            let Some(geojson::GeometryValue::Polygon { coordinates: rings }) =
                f.geometry.as_ref().map(|g| &g.value)
            else {
                panic!("the grid holds polygons")
            };
            let ring = rings[0].iter().map(|c| [c[0], c[1]]).collect();
            (
                ring,
                f.property("population").and_then(|v| v.as_f64()).unwrap(),
            )
        })
        .collect();
    let mut in_cell: Vec<Vec<(f64, f64)>> = vec![Vec::new(); cells.len()];
    for r in features(&dir.path().join("residences.geojson")) {
        let Some(geojson::GeometryValue::Point { coordinates: c }) =
            r.geometry.as_ref().map(|g| &g.value)
        else {
            panic!("residences are points")
        };
        let cell = cells
            .iter()
            .position(|(ring, _)| inside(ring, c[0], c[1]))
            .expect("every home lies in a cell");
        let number = |k: &str| r.property(k).and_then(|v| v.as_f64()).unwrap();
        in_cell[cell].push((number("population"), number("floor_area_m2")));
    }
    let (mut placed, mut unplaced) = (0.0, 0.0);
    for ((_, people), homes) in cells.iter().zip(&in_cell) {
        if homes.is_empty() {
            unplaced += people;
            continue;
        }
        placed += people;
        let floor: f64 = homes.iter().map(|h| h.1).sum();
        for (population, floor_area_m2) in homes {
            // Populations are written with 3 decimals, floor areas with 1.
            let share = people * floor_area_m2 / floor;
            assert!(
                (population - share).abs() < 2e-3 + share * 1e-3,
                "{population} {share}"
            );
        }
    }
    assert!((placed - inv.population).abs() < 0.5e-3 * inv.residences as f64);
    assert!((unplaced - inv.unplaced_population).abs() < 1e-6);

    // Every output parses as GeoJSON, has at most 7 decimals, and reads back through
    // lifecircle's own reader without a rejected feature.
    for (name, n) in [
        ("facilities", inv.facilities),
        ("residences", inv.residences),
        ("streets", inv.street_lines),
        ("communities", inv.communities),
    ] {
        let path = dir.path().join(format!("{name}.geojson"));
        assert_eq!(features(&path).len(), n, "{name}");
        let text = std::fs::read_to_string(&path).unwrap();
        let long_decimal = text
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter_map(|t| t.split_once('.'))
            .any(|(_, frac)| frac.len() > 7);
        assert!(!long_decimal, "{name}");
        let back = read_features(&Source::path(&path), &["id"], |f| {
            f.geometry()?;
            Ok(f.property(0).map(|r| r.get().to_string()))
        })
        .unwrap();
        assert_eq!(back.kept.len(), n, "{name}");
        assert!(back.rejected.is_empty(), "{name}: {:?}", back.rejected);
        assert!(back.kept.iter().all(Option::is_some));
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".geojson"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// `data/` holds exactly what the command in `data/README.md` writes: the embedded sample is the
/// tool's own output, so every check of `extract` above applies to it.
#[test]
fn shipped_sample_is_the_output_of_extract() {
    let root = root();
    let command = "cargo run --release -- extract data/raw/helsinki-centre.osm.pbf --out data \
                   --population data/raw/helsinki-population-2020.geojson";
    let command = command.split_whitespace().collect::<Vec<_>>().join(" ");
    let readme = std::fs::read_to_string(root.join("data/README.md")).unwrap();
    assert!(
        readme.contains(&command),
        "data/README.md must show: {command}"
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let (code, stderr) = lifecircle(
        root,
        &[
            "extract",
            "data/raw/helsinki-centre.osm.pbf",
            "--out",
            out.to_str().unwrap(),
            "--population",
            "data/raw/helsinki-population-2020.geojson",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    for name in ["facilities", "residences", "streets", "communities"] {
        let file = format!("{name}.geojson");
        // Every extract has its own run id (`lifecircle_run`); the rest is the same.
        let without_run = |p: &Path| {
            let text = std::fs::read_to_string(p).unwrap();
            let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
            let first = match (
                first.find(",\"lifecircle_run\":"),
                first.find(",\"features\""),
            ) {
                (Some(a), Some(b)) if a < b => format!("{}{}", &first[..a], &first[b..]),
                _ => first.to_string(),
            };
            format!("{first}\n{rest}")
        };
        let made = without_run(&out.join(&file));
        let shipped = without_run(&root.join("data").join(&file));
        assert!(
            made == shipped,
            "data/{file} is not what `lifecircle extract` writes: run the command in data/README.md"
        );
    }
}

#[test]
fn broken_pbf_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(helsinki()).unwrap();
    let m = Mapping::builtin();

    let cut = dir.path().join("cut.osm.pbf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = osm::extract(&cut, None, &m).unwrap_err().to_string();
    assert!(e.contains("cut.osm.pbf") && e.contains("block"), "{e}");
    let e = osm::walkable_lines(&cut).unwrap_err().to_string();
    assert!(e.contains("cut.osm.pbf"), "{e}");

    // A whole file plus two stray bytes: the blob reader alone would stop quietly.
    let tail = dir.path().join("tail.osm.pbf");
    let mut t = bytes.clone();
    t.extend_from_slice(&[0, 0]);
    std::fs::write(&tail, &t).unwrap();
    let e = osm::extract(&tail, None, &m).unwrap_err().to_string();
    assert!(e.contains("tail.osm.pbf") && e.contains("truncated"), "{e}");

    let text = dir.path().join("city.osm");
    std::fs::write(&text, "<?xml version='1.0'?><osm version='0.6'></osm>\n").unwrap();
    let e = osm::extract(&text, None, &m).unwrap_err().to_string();
    assert!(
        e.contains("city.osm") && e.contains("the file is XML") && e.contains("osmium"),
        "{e}"
    );

    let empty = dir.path().join("empty.osm.pbf");
    std::fs::write(&empty, b"").unwrap();
    let e = osm::extract(&empty, None, &m).unwrap_err().to_string();
    assert!(
        e.contains("empty.osm.pbf") && e.contains("the file is empty"),
        "{e}"
    );

    let e = osm::extract(&dir.path().join("missing.osm.pbf"), None, &m)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cannot read") && e.contains("missing.osm.pbf"),
        "{e}"
    );

    // A data block where a header block belongs.
    let mut w = pbf::Writer::default();
    w.node(1, 24.9, 60.1, &[]);
    let no_header = dir.path().join("noheader.osm.pbf");
    std::fs::write(&no_header, w.finish_without_header()).unwrap();
    let e = osm::extract(&no_header, None, &m).unwrap_err().to_string();
    assert!(e.contains("OSMHeader"), "{e}");

    // A history file.
    let mut w = pbf::Writer::default();
    w.required_feature("HistoricalInformation");
    w.node(1, 24.9, 60.1, &[]);
    let hist = dir.path().join("history.osh.pbf");
    std::fs::write(&hist, w.finish()).unwrap();
    let e = osm::extract(&hist, None, &m).unwrap_err().to_string();
    assert!(e.contains("HistoricalInformation"), "{e}");

    // A relation member of an unknown type (the decoder library panics on it; we must not).
    let bad = dir.path().join("badmember.osm.pbf");
    std::fs::write(&bad, bad_member_file()).unwrap();
    let e = osm::extract(&bad, None, &m).unwrap_err().to_string();
    assert!(
        e.contains("badmember.osm.pbf") && e.contains("corrupt"),
        "{e}"
    );
}

/// A file whose only relation has a member of type 9 (valid types are 0, 1 and 2).
fn bad_member_file() -> Vec<u8> {
    let mut w = pbf::Writer::default();
    w.node(1, 24.9, 60.1, &[]);
    w.relation_raw(
        5,
        &[("type", "multipolygon"), ("building", "yes")],
        &[(7, 9, "outer")],
    );
    w.finish()
}

/// Run `lifecircle ARGS` in `dir`: the exit status and stderr.
fn lifecircle(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = run_in(dir, args);
    (o.status.code(), text(&o).1)
}

/// Corrupt .osm.pbf input on the command line, to `extract` and to `analyze --network`: exit
/// status 1 and our message naming the file. (The decoder library panics on the unknown member
/// type; the panic is caught and becomes that message, and no other panic may happen. `analyze`
/// reads no relations, so it finds no street in that file instead.)
#[test]
fn corrupt_pbf_on_the_command_line_prints_only_our_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("badmember.osm.pbf"), bad_member_file()).unwrap();
    let bytes = std::fs::read(helsinki()).unwrap();
    std::fs::write(dir.path().join("cut.osm.pbf"), &bytes[..bytes.len() / 3]).unwrap();
    let facilities = data("facilities.geojson");
    let extract = |file| vec!["extract", file, "--out", "out"];
    let analyze = |file| {
        vec![
            "analyze",
            "--facilities",
            facilities.to_str().unwrap(),
            "--network",
            file,
            "--quiet",
        ]
    };
    for (args, file, what) in [
        (extract("badmember.osm.pbf"), "badmember.osm.pbf", "corrupt"),
        (
            analyze("badmember.osm.pbf"),
            "badmember.osm.pbf",
            "no usable street",
        ),
        (extract("cut.osm.pbf"), "cut.osm.pbf", "truncated"),
        (analyze("cut.osm.pbf"), "cut.osm.pbf", "truncated"),
    ] {
        let (code, stderr) = lifecircle(dir.path(), &args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        // The library catches decoder panics; the command keeps their messages off stderr.
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            stderr.contains(file) && stderr.contains(what),
            "{args:?}: {stderr}"
        );
    }
    assert!(!dir.path().join("out").exists());
}

/// Damaged copies of the small city (cut short, or a few bytes overwritten, at random places;
/// the seed is printed): every run either works or stops with exit status 1 and a message naming
/// the file. Never a panic.
#[test]
fn randomly_damaged_files_never_panic() {
    use rand::RngExt;
    let seed = 20_240_517;
    println!("seed {seed}");
    let mut rng = lifecircle_synth::rng(seed);
    let base = small_city();
    let dir = tempfile::tempdir().unwrap();
    let (mut failed, mut worked) = (0, 0);
    for k in 0..48 {
        let mut bytes = base.clone();
        if k % 4 == 0 {
            bytes.truncate(rng.random_range(1..base.len()));
        } else {
            for _ in 0..k % 4 {
                let at = rng.random_range(0..bytes.len());
                bytes[at] = rng.random();
            }
        }
        let name = format!("damaged-{k}.osm.pbf");
        std::fs::write(dir.path().join(&name), &bytes).unwrap();
        let (code, stderr) = lifecircle(dir.path(), &["extract", &name, "--out", "out"]);
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        match code {
            Some(0) => worked += 1,
            Some(1) => {
                assert!(stderr.contains(&name), "{name}: {stderr}");
                failed += 1;
            }
            other => panic!("{name}: exit {other:?}: {stderr}"),
        }
    }
    println!("{failed} damaged files refused, {worked} read");
    assert!(failed > 0);
}

/// Whether (x, y) lies inside the closed ring (even-odd ray casting, plane coordinates).
fn inside(ring: &[[f64; 2]], x: f64, y: f64) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let ([x0, y0], [x1, y1]) = (w[0], w[1]);
        if (y0 > y) != (y1 > y) && x < x0 + (y - y0) / (y1 - y0) * (x1 - x0) {
            inside = !inside;
        }
    }
    inside
}

// ---------------------------------------------------------------------------------------------
// A small hand-built city.

/// Node positions: a 0.002° x 0.001° block at (24.95, 60.17), etc.
fn small_city() -> Vec<u8> {
    let mut w = pbf::Writer::default();
    let (x0, y0) = (24.95, 60.17);
    // Building square, nodes 1-4.
    w.node(1, x0, y0, &[]);
    w.node(2, x0 + 0.002, y0, &[]);
    w.node(3, x0 + 0.002, y0 + 0.001, &[]);
    w.node(4, x0, y0 + 0.001, &[]);
    // A second building, 5-8, 0.001° square, east of the first.
    w.new_block(); // later passes must pick the blocks holding the wanted nodes
    w.node(5, x0 + 0.003, y0, &[]);
    w.node(6, x0 + 0.004, y0, &[]);
    w.node(7, x0 + 0.004, y0 + 0.001, &[]);
    w.node(8, x0 + 0.003, y0 + 0.001, &[]);
    // Residential land use around both: 11-14.
    w.node(11, x0 - 0.001, y0 - 0.001, &[]);
    w.node(12, x0 + 0.005, y0 - 0.001, &[]);
    w.node(13, x0 + 0.005, y0 + 0.002, &[]);
    w.node(14, x0 - 0.001, y0 + 0.002, &[]);
    // Boundary squares: outer 21-24 (admin_level 9), inner halves 31-34 (admin_level 10).
    w.new_block();
    w.node(21, x0 - 0.01, y0 - 0.01, &[]);
    w.node(22, x0 + 0.01, y0 - 0.01, &[]);
    w.node(23, x0 + 0.01, y0 + 0.01, &[]);
    w.node(24, x0 - 0.01, y0 + 0.01, &[]);
    w.node(31, x0 - 0.005, y0 - 0.005, &[]);
    w.node(32, x0 + 0.005, y0 - 0.005, &[]);
    w.node(33, x0 + 0.005, y0 + 0.005, &[]);
    w.node(34, x0 - 0.005, y0 + 0.005, &[]);
    // Playground with a hole: outer 41-44 (0.002° square), hole 45-48 (the middle 0.0016°).
    let (px, py) = (x0 + 0.006, y0 + 0.003);
    w.node(41, px, py, &[]);
    w.node(42, px + 0.002, py, &[]);
    w.node(43, px + 0.002, py + 0.002, &[]);
    w.node(44, px, py + 0.002, &[]);
    w.node(45, px + 0.0002, py + 0.0002, &[]);
    w.node(46, px + 0.0018, py + 0.0002, &[]);
    w.node(47, px + 0.0018, py + 0.0018, &[]);
    w.node(48, px + 0.0002, py + 0.0018, &[]);
    // Open-ring pieces.
    w.node(51, x0 + 0.02, y0, &[]);
    w.node(52, x0 + 0.021, y0, &[]);
    w.node(53, x0 + 0.021, y0 + 0.001, &[]);
    // Tagged nodes.
    w.node(
        60,
        x0 + 0.0005,
        y0 + 0.0005,
        &[
            ("amenity", "pharmacy"),
            ("name", "Apteekki"),
            ("name:zh", "药店"),
        ],
    );
    w.node(
        61,
        x0,
        y0 + 0.003,
        &[("place", "suburb"), ("name", "Keskus")],
    );
    w.new_block();
    w.way(
        100,
        &[1, 2, 3, 4, 1],
        &[("building", "apartments"), ("building:levels", "3")],
    );
    w.way(101, &[5, 6, 7, 8, 5], &[("building", "yes")]);
    w.way(102, &[11, 12, 13, 14, 11], &[("landuse", "residential")]);
    w.way(103, &[1, 2, 999, 1], &[("building", "house")]); // node 999 is not in the file
    w.way(
        104,
        &[14, 4, 998, 3, 2],
        &[("highway", "residential"), ("name", "Katu")],
    );
    w.way(105, &[997, 996], &[("highway", "footway")]);
    w.way(106, &[1, 5], &[("highway", "cycleway")]); // not walkable: no foot tag
    w.way(
        107,
        &[5, 6, 7, 8, 5],
        &[("building", "yes"), ("shop", "bakery")],
    );
    w.way(110, &[21, 22, 23, 24, 21], &[]);
    w.way(111, &[31, 32, 33], &[]);
    w.way(112, &[33, 34, 31], &[]);
    w.way(120, &[41, 42, 43, 44, 41], &[]);
    w.way(121, &[45, 46, 47, 48, 45], &[]);
    w.way(130, &[51, 52], &[]);
    w.way(131, &[52, 53], &[]);
    w.new_block();
    w.relation(
        200,
        &[
            ("type", "boundary"),
            ("boundary", "administrative"),
            ("admin_level", "9"),
            ("name", "Piiri"),
        ],
        &[(110, "outer")],
    );
    w.relation(
        201,
        &[
            ("type", "boundary"),
            ("boundary", "administrative"),
            ("admin_level", "10"),
            ("name", "Kortteli"),
        ],
        &[(111, "outer"), (112, "outer")],
    );
    w.relation(
        202,
        &[
            ("type", "boundary"),
            ("boundary", "administrative"),
            ("admin_level", "10"),
            ("name", "Puuttuva"),
        ],
        &[(111, "outer"), (995, "outer")],
    );
    w.relation(
        203,
        &[("type", "multipolygon"), ("leisure", "playground")],
        &[(120, "outer"), (121, "inner")],
    );
    w.relation(
        204,
        &[("type", "multipolygon"), ("building", "residential")],
        &[(130, "outer"), (131, "outer")],
    );
    w.finish()
}

/// Meridional and prime-vertical radii of curvature of WGS84 at `lat`, metres.
fn radii(lat: f64) -> (f64, f64) {
    let a = 6_378_137.0;
    let f = 1.0 / 298.257_223_563;
    let e2 = f * (2.0 - f);
    let s = lat.to_radians().sin();
    let w = (1.0 - e2 * s * s).sqrt();
    (a * (1.0 - e2) / (w * w * w), a / w)
}

/// Area of a small lon/lat rectangle, square metres (local radii; exact to ~1e-6 at this size).
fn rect_area_m2(lat_mid: f64, dlon: f64, dlat: f64) -> f64 {
    let (m, n) = radii(lat_mid);
    m * dlat.to_radians() * n * lat_mid.to_radians().cos() * dlon.to_radians()
}

#[test]
fn small_city_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let pbf = dir.path().join("small.osm.pbf");
    std::fs::write(&pbf, small_city()).unwrap();
    let m = Mapping::builtin();
    let ex = osm::extract(&pbf, None, &m).unwrap();
    let inv = osm::write_extract(&ex, &dir.path().join("out")).unwrap();
    println!("{inv}");

    // Streets: w104 is cut at the missing node 998 into [14, 4] and [3, 2]; w105 has no node;
    // the cycleway without a foot tag is not walkable.
    let lines: Vec<(i64, usize)> = ex.streets.iter().map(|l| (l.id, l.coords.len())).collect();
    assert_eq!(lines, [(104, 2), (104, 2)]);
    assert_eq!(inv.skipped.count(SkipKind::StreetClipped), 1);
    assert_eq!(inv.skipped.count(SkipKind::StreetDropped), 1);
    assert!(inv.skipped.examples(SkipKind::StreetDropped)[0].contains("w105"));

    // Residences, without a grid: w100 (apartments, 3 levels) and w101 (building=yes inside
    // residential land use, default 4 levels); not w107 (a shop), not w103 (node missing),
    // not r204 (open ring).
    let ids: Vec<String> = ex
        .residences
        .iter()
        .map(|r| r.model.id().to_string())
        .collect();
    assert_eq!(ids, ["w100", "w101"]);
    let a100 = rect_area_m2(60.1705, 0.002, 0.001) * 3.0;
    let a101 = rect_area_m2(60.1705, 0.001, 0.001) * 4.0;
    let (r0, r1) = (&ex.residences[0].osm, &ex.residences[1].osm);
    assert!(
        (r0.floor_area_m2 / a100 - 1.0).abs() < 1e-4,
        "{} {a100}",
        r0.floor_area_m2
    );
    assert!(
        (r1.floor_area_m2 / a101 - 1.0).abs() < 1e-4,
        "{} {a101}",
        r1.floor_area_m2
    );
    let population = ex.residences[0].model.population();
    assert!((population - r0.floor_area_m2 / 35.0).abs() < 1e-9);
    assert!(r0.population_estimated);
    assert_eq!((r0.levels, r1.levels), (3.0, 4.0));
    assert!(inv
        .skipped
        .examples(SkipKind::MissingNodes)
        .iter()
        .any(|e| e.contains("w103")));
    assert_eq!(inv.skipped.count(SkipKind::OpenRing), 1);
    let open = &inv.skipped.examples(SkipKind::OpenRing)[0];
    assert!(
        open.contains("r204") && open.contains("not closed"),
        "{open}"
    );

    // Facilities: the pharmacy node, and the playground with a hole placed outside the hole.
    let f: Vec<(String, &str)> = ex
        .facilities
        .iter()
        .map(|f| (f.model.id().to_string(), &*f.model.categories()[0]))
        .collect();
    assert_eq!(
        f,
        [("n60".into(), "medical"), ("r203".into(), "culture_sports")]
    );
    assert_eq!(ex.facilities[0].osm.name_zh.as_deref(), Some("药店"));
    assert_eq!(
        ex.facilities[0].osm.tags,
        [("amenity".to_string(), "pharmacy".to_string())]
    );
    let p = ex.facilities[1].model.at();
    let (u, v) = ((p.lon() - 24.956) / 0.002, (p.lat() - 60.173) / 0.002);
    let in_outer = (0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v);
    let in_hole = (0.1..=0.9).contains(&u) && (0.1..=0.9).contains(&v);
    assert!(in_outer && !in_hole, "{p:?}");

    // Communities: the finest complete level (10): r201 assembled from two halves; r202 has
    // a member missing.
    assert_eq!(ex.communities.len(), 1);
    let c = &ex.communities[0];
    assert_eq!(
        (c.model.id().to_string(), c.model.name()),
        ("r201".into(), Some("Kortteli"))
    );
    assert_eq!(c.osm, CommunityKind::Boundary { admin_level: 10 });
    match &c.model.geometry() {
        geo::Geometry::MultiPolygon(area) => {
            use geo::Area;
            assert!((area.unsigned_area() - 0.0001).abs() < 1e-12);
        }
        other => panic!("{other:?}"),
    }
    assert!(inv
        .skipped
        .examples(SkipKind::MissingMembers)
        .iter()
        .any(|e| e.contains("r202")));

    // The written files parse.
    for name in ["facilities", "residences", "streets", "communities"] {
        features(&dir.path().join("out").join(format!("{name}.geojson")));
    }
    let com = features(&dir.path().join("out/communities.geojson"));
    assert_eq!(
        com[0].property("admin_level").and_then(|v| v.as_u64()),
        Some(10)
    );
}

#[test]
fn small_city_with_grid() {
    let dir = tempfile::tempdir().unwrap();
    let pbf = dir.path().join("small.osm.pbf");
    std::fs::write(&pbf, small_city()).unwrap();
    // One cell around both buildings with 120 people, then a Point and a LineString, which are
    // skipped, then a cell with people and no building.
    let grid = dir.path().join("grid.geojson");
    std::fs::write(
        &grid,
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"population":120},"geometry":{"type":"Polygon","coordinates":[[[24.949,60.169],[24.9545,60.169],[24.9545,60.172],[24.949,60.172],[24.949,60.169]]]}},
{"type":"Feature","properties":{"population":5},"geometry":{"type":"Point","coordinates":[24.95,60.17]}},
{"type":"Feature","properties":{"population":5},"geometry":{"type":"LineString","coordinates":[[24.95,60.17],[24.96,60.17]]}},
{"type":"Feature","properties":{"population":40},"geometry":{"type":"Polygon","coordinates":[[[24.98,60.18],[24.99,60.18],[24.99,60.19],[24.98,60.19],[24.98,60.18]]]}}
]}"#,
    )
    .unwrap();
    let ex = osm::extract(&pbf, Some(&grid), &Mapping::builtin()).unwrap();
    // Shares by floor area, by hand: 2x0.001 deg x 3 levels against 1x0.001 deg x 4 levels,
    // i.e. 6 : 4 of 120 people.
    let pops: Vec<(String, f64)> = ex
        .residences
        .iter()
        .map(|r| (r.model.id().to_string(), r.model.population()))
        .collect();
    assert_eq!(pops.len(), 2);
    assert_eq!(pops[0].0, "w100");
    assert!((pops[0].1 - 72.0).abs() < 0.01, "{pops:?}");
    assert!((pops[1].1 - 48.0).abs() < 0.01, "{pops:?}");
    assert_eq!(ex.unplaced_population, 40.0);
    let inv = ex.inventory();
    assert_eq!(inv.skipped.count(SkipKind::GridFeature), 2);
    let msg = &inv.skipped.examples(SkipKind::GridFeature)[0];
    assert!(
        msg.contains("grid.geojson") && msg.contains("feature 1") && msg.contains("Point"),
        "{msg}"
    );

    // A grid with no polygon at all is an error naming the file.
    let bad = dir.path().join("points.geojson");
    std::fs::write(
        &bad,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"population":1},"geometry":{"type":"Point","coordinates":[24.95,60.17]}}]}"#,
    )
    .unwrap();
    let e = osm::extract(&pbf, Some(&bad), &Mapping::builtin())
        .unwrap_err()
        .to_string();
    assert!(e.contains("points.geojson") && e.contains("Polygon"), "{e}");
}

#[test]
fn mapping_file_adds_categories() {
    let dir = tempfile::tempdir().unwrap();
    let pbf = dir.path().join("small.osm.pbf");
    std::fs::write(&pbf, small_city()).unwrap();
    let mapping = dir.path().join("local.toml");
    std::fs::write(
        &mapping,
        "[[rule]]\ncategory = \"bakery\"\nall = [\"shop=bakery\"]\n[residences]\nfloor_area_per_person_m2 = 50\n",
    )
    .unwrap();
    let inv = osm::run_extract(&pbf, &dir.path().join("out"), None, Some(&mapping), &()).unwrap();
    assert!(inv
        .facilities_by_category
        .contains(&("bakery".to_string(), 1)));
    assert!(inv
        .facilities_by_category
        .contains(&("medical".to_string(), 1)));
    let res = features(&dir.path().join("out/residences.geojson"));
    for f in &res {
        let floor = f
            .property("floor_area_m2")
            .and_then(|v| v.as_f64())
            .unwrap();
        let pop = f.property("population").and_then(|v| v.as_f64()).unwrap();
        assert!((pop - floor / 50.0).abs() < 0.01, "{pop} {floor}");
        assert_eq!(
            f.property("population_estimated").and_then(|v| v.as_bool()),
            Some(true)
        );
    }
    std::fs::write(&mapping, "[[rule]]\ncategory = \"x\"\nany = [\"shop\"]\n").unwrap();
    let e = osm::run_extract(&pbf, &dir.path().join("out2"), None, Some(&mapping), &())
        .unwrap_err()
        .to_string();
    assert!(e.contains("local.toml") && e.contains("rule 1"), "{e}");
}

/// A minimal .osm.pbf writer (uncompressed blocks, plain nodes), enough to build test files.
pub(crate) mod pbf {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn zigzag(v: i64) -> u64 {
        ((v << 1) ^ (v >> 63)) as u64
    }
    fn key(out: &mut Vec<u8>, field: u32, wire: u8) {
        varint(out, (u64::from(field) << 3) | u64::from(wire));
    }
    fn bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
        key(out, field, 2);
        varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }
    fn uint(out: &mut Vec<u8>, field: u32, v: u64) {
        key(out, field, 0);
        varint(out, v);
    }
    fn packed(out: &mut Vec<u8>, field: u32, vals: impl IntoIterator<Item = u64>) {
        let mut b = Vec::new();
        for v in vals {
            varint(&mut b, v);
        }
        bytes(out, field, &b);
    }

    #[derive(Default)]
    pub struct Writer {
        strings: Vec<String>,
        /// Encoded PrimitiveGroups.
        groups: Vec<Vec<u8>>,
        current: Vec<u8>,
        features: Vec<String>,
        /// Finished data blocks.
        blocks: Vec<Vec<u8>>,
    }

    impl Writer {
        fn s(&mut self, text: &str) -> u64 {
            if self.strings.is_empty() {
                self.strings.push(String::new());
            }
            match self.strings.iter().position(|s| s == text) {
                Some(i) => i as u64,
                None => {
                    self.strings.push(text.to_string());
                    (self.strings.len() - 1) as u64
                }
            }
        }
        fn tags(&mut self, msg: &mut Vec<u8>, tags: &[(&str, &str)]) {
            if tags.is_empty() {
                return;
            }
            let k: Vec<u64> = tags.iter().map(|(k, _)| self.s(k)).collect();
            let v: Vec<u64> = tags.iter().map(|(_, v)| self.s(v)).collect();
            packed(msg, 2, k);
            packed(msg, 3, v);
        }
        pub fn required_feature(&mut self, f: &str) {
            self.features.push(f.to_string());
        }
        pub fn node(&mut self, id: i64, lon: f64, lat: f64, tags: &[(&str, &str)]) {
            let mut m = Vec::new();
            uint(&mut m, 1, zigzag(id));
            self.tags(&mut m, tags);
            uint(&mut m, 8, zigzag((lat * 1e7).round() as i64));
            uint(&mut m, 9, zigzag((lon * 1e7).round() as i64));
            bytes(&mut self.current, 1, &m);
        }
        fn next_group(&mut self) {
            if !self.current.is_empty() {
                self.groups.push(std::mem::take(&mut self.current));
            }
        }
        pub fn way(&mut self, id: i64, refs: &[i64], tags: &[(&str, &str)]) {
            let mut m = Vec::new();
            uint(&mut m, 1, id as u64);
            self.tags(&mut m, tags);
            let mut prev = 0;
            let deltas: Vec<u64> = refs
                .iter()
                .map(|&r| {
                    let d = r - prev;
                    prev = r;
                    zigzag(d)
                })
                .collect();
            packed(&mut m, 8, deltas);
            bytes(&mut self.current, 3, &m);
        }
        /// Members: (way id, role).
        pub fn relation(&mut self, id: i64, tags: &[(&str, &str)], members: &[(i64, &str)]) {
            let m: Vec<(i64, u64, &str)> = members.iter().map(|&(w, r)| (w, 1, r)).collect();
            self.relation_raw(id, tags, &m);
        }
        /// Members: (id, member type as encoded: 0 node, 1 way, 2 relation, others invalid, role).
        pub fn relation_raw(
            &mut self,
            id: i64,
            tags: &[(&str, &str)],
            members: &[(i64, u64, &str)],
        ) {
            let mut m = Vec::new();
            uint(&mut m, 1, id as u64);
            self.tags(&mut m, tags);
            let roles: Vec<u64> = members.iter().map(|(_, _, r)| self.s(r)).collect();
            packed(&mut m, 8, roles);
            let mut prev = 0;
            let ids: Vec<u64> = members
                .iter()
                .map(|(i, _, _)| {
                    let d = i - prev;
                    prev = *i;
                    zigzag(d)
                })
                .collect();
            packed(&mut m, 9, ids);
            packed(&mut m, 10, members.iter().map(|(_, t, _)| *t));
            bytes(&mut self.current, 4, &m);
        }
        fn blob(out: &mut Vec<u8>, kind: &str, payload: &[u8]) {
            let mut blob = Vec::new();
            bytes(&mut blob, 1, payload);
            uint(&mut blob, 2, payload.len() as u64);
            let mut header = Vec::new();
            bytes(&mut header, 1, kind.as_bytes());
            uint(&mut header, 3, blob.len() as u64);
            out.extend_from_slice(&(header.len() as u32).to_be_bytes());
            out.extend_from_slice(&header);
            out.extend_from_slice(&blob);
        }
        /// End the current data block; what follows goes into a new one.
        pub fn new_block(&mut self) {
            let block = self.data_block();
            self.blocks.push(block);
        }
        fn data_block(&mut self) -> Vec<u8> {
            self.next_group();
            let mut table = Vec::new();
            for s in &self.strings {
                bytes(&mut table, 1, s.as_bytes());
            }
            let mut block = Vec::new();
            bytes(&mut block, 1, &table);
            for g in std::mem::take(&mut self.groups) {
                bytes(&mut block, 2, &g);
            }
            self.strings.clear();
            block
        }
        pub fn finish(mut self) -> Vec<u8> {
            let mut header = Vec::new();
            for f in ["OsmSchema-V0.6".to_string()].iter().chain(&self.features) {
                bytes(&mut header, 4, f.as_bytes());
            }
            let mut out = Vec::new();
            Self::blob(&mut out, "OSMHeader", &header);
            let last = self.data_block();
            for block in self.blocks.iter().chain([&last]) {
                Self::blob(&mut out, "OSMData", block);
            }
            out
        }
        pub fn finish_without_header(mut self) -> Vec<u8> {
            let mut out = Vec::new();
            let block = self.data_block();
            Self::blob(&mut out, "OSMData", &block);
            out
        }
    }
}
