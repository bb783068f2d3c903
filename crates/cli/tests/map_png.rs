//! The PNG maps (`--map-png`) and the siting report (`site --report`).
//!
//! The maps are decoded and checked for their documented size and resolution, and for
//! content: the legend's colours and the map's homes and communities drawn in their colours.
//! The siting report is opened in headless Chromium as the analysis report is (see
//! `report.rs`): its script must finish, its console stay silent (no error, no refused
//! request) and its map draw.

use std::{collections::HashSet, path::Path};

use geo::Point;
use serde_json::{json, Value};

use lifecircle::html_report::{
    MapFont, COVERED_COLOUR, EMPTY_COLOUR, GAP_COLOURS, LACKING_COLOUR, MAP_DPI, MAP_HEIGHT_PX,
    MAP_WIDTH_PX,
};

use crate::{
    report::{chromium, headless, rgb},
    support,
};

/// A decoded PNG: width, height, pixels per metre (from `pHYs`), RGB pixels.
struct Picture {
    width: u32,
    height: u32,
    per_metre: Option<(u32, u32)>,
    rgb: Vec<[u8; 3]>,
}

impl Picture {
    fn read(path: &Path) -> Picture {
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut reader = png::Decoder::new(std::io::BufReader::new(file))
            .read_info()
            .unwrap();
        let per_metre = reader.info().pixel_dims.map(|d| {
            assert_eq!(d.unit, png::Unit::Meter);
            (d.xppu, d.yppu)
        });
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let channels = info.color_type.samples();
        Picture {
            width: info.width,
            height: info.height,
            per_metre,
            rgb: buf.chunks(channels).map(|p| [p[0], p[1], p[2]]).collect(),
        }
    }

    /// Pixels of exactly `hex` with x in `xs`.
    fn count(&self, hex: &str, xs: std::ops::Range<u32>) -> usize {
        let colour = rgb(hex);
        self.rgb
            .iter()
            .enumerate()
            .filter(|(k, p)| xs.contains(&(*k as u32 % self.width)) && **p == colour)
            .count()
    }

    /// Insist on the documented size and resolution.
    #[track_caller]
    fn assert_documented_size(&self) {
        assert_eq!((self.width, self.height), (MAP_WIDTH_PX, MAP_HEIGHT_PX));
        assert_eq!((self.width, self.height), (2000, 1500));
        // 300 dpi is 11,811 pixels per metre.
        assert_eq!(MAP_DPI, 300);
        assert_eq!(self.per_metre, Some((11_811, 11_811)));
    }
}

/// The map's area (left of the legend) and the legend's column, in pixels from the left.
const MAP_XS: std::ops::Range<u32> = 40..1460;
const LEGEND_XS: std::ops::Range<u32> = 1490..2000;

fn sample_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--facilities".into(),
        support::data_arg("facilities.geojson"),
    ];
    args.extend([
        "--residences".into(),
        support::data_arg("residences.geojson"),
        "--communities".into(),
        support::data_arg("communities.geojson"),
        "--network".into(),
        support::data_arg("streets.geojson"),
        "--out".into(),
        out.into(),
    ]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn the_sample_maps_have_the_documented_size_and_the_legends_colours() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["analyze".to_string()];
    args.extend(sample_args("out", &["--map-png", "all"]));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = support::run_in(dir.path(), &args);
    let (stdout, stderr) = support::text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stdout.contains("PNG maps: out/map.png and 8 per category (2000 x 1500 px, 300 dpi)"),
        "{stdout}"
    );
    // The note on a missing CJK font is printed exactly when none is installed.
    let note = "no CJK-capable font found; Chinese labels will not render";
    assert_eq!(
        stderr.contains(note),
        MapFont::system().cjk_family().is_none(),
        "{stderr}"
    );

    let map = Picture::read(&dir.path().join("out/map.png"));
    map.assert_documented_size();
    // Not blank: a map holds many colours (anti-aliased text and symbols).
    let distinct: HashSet<[u8; 3]> = map.rgb.iter().copied().collect();
    assert!(distinct.len() > 200, "{} colours", distinct.len());
    // The legend's swatches, one of each class (26 x 22 px) and the empty colour.
    for colour in GAP_COLOURS.iter().chain([&EMPTY_COLOUR]) {
        let n = map.count(colour, LEGEND_XS);
        assert!(
            (400..3000).contains(&n),
            "legend swatch {colour}: {n} pixels"
        );
    }
    // On the map: the map's background, homes lacking something (the sample lacks elderly
    // care everywhere, so no home is within reach of everything) and communities with over
    // half their people lacking (5 of the 6 community points).
    let background = map.count("#eef3f7", MAP_XS);
    assert!(background > 500_000, "background {background}");
    let lacking = map.count(LACKING_COLOUR, MAP_XS);
    assert!(lacking > 5_000, "homes lacking {lacking}");
    assert_eq!(map.count(COVERED_COLOUR, MAP_XS), 0);
    let worst = map.count(GAP_COLOURS[4], MAP_XS);
    assert!(worst > 400, "communities over half lacking: {worst} pixels");

    // One map per category, named after it, each coloured by its coverage.
    let summary = support::read_json(&dir.path().join("out/summary.json"));
    let categories = support::coverage_by_category(&summary);
    assert_eq!(categories.len(), 8);
    for (name, coverage) in &categories {
        let pic = Picture::read(&dir.path().join(format!("out/map-{name}.png")));
        pic.assert_documented_size();
        // The homes drawn in the colours of their reach to this category.
        let (lacking, covered) = (
            pic.count(LACKING_COLOUR, MAP_XS),
            pic.count(COVERED_COLOUR, MAP_XS),
        );
        if *coverage == 0.0 {
            assert_eq!(covered, 0, "{name}");
            assert!(lacking > 5_000, "{name}: {lacking}");
        } else if *coverage == 1.0 {
            assert_eq!(lacking, 0, "{name}");
        } else {
            assert!(covered > 0, "{name}: {coverage}");
        }
    }
}

#[test]
fn the_siting_report_draws_offline_and_the_map_shows_the_gaps_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["site".to_string()];
    args.extend(sample_args(
        "out",
        &[
            "--category",
            "elderly_care",
            "--candidates-from",
            "grid:250m",
            "--new",
            "3",
            "--report",
            "--map-png",
        ],
    ));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stdout = support::ok(dir.path(), &args);
    assert!(stdout.contains("Map report: out/report.html"), "{stdout}");
    assert!(stdout.contains("PNG map: out/map.png"), "{stdout}");
    let page = dir.path().join("out/report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for banned in ["src=\"http", "href=\"http", "<link", "@import", "url(http"] {
        assert!(!html.contains(banned), "{banned} in report.html");
    }
    // Coverage before and after as summary.json states it, the sites in build order.
    let summary = support::read_json(&dir.path().join("out/summary.json"));
    let cat = &summary["problems"][0]["categories"][0];
    assert_eq!(cat["category"], "elderly_care");
    for key in ["coverage", "coverage_after"] {
        let shown = format!("{:.1} %", cat[key].as_f64().unwrap() * 100.0);
        assert!(
            html.contains(&format!("<td class=\"n\">{shown}</td>")),
            "{key} {shown}"
        );
    }
    let sites = support::features(&dir.path().join("out/sites.geojson"));
    assert_eq!(sites.len(), 3);
    for (k, f) in sites.iter().enumerate() {
        let id = support::prop(f, "id").as_str().unwrap();
        assert!(
            html.contains(&format!("<title>{id} (build {})</title>", k + 1)),
            "site {id} not marked"
        );
    }
    assert!(html.contains("after the new sites: share of people lacking something"));

    let map = Picture::read(&dir.path().join("out/map.png"));
    map.assert_documented_size();
    assert!(map.count("#eef3f7", MAP_XS) > 500_000);

    let Some(browser) = chromium() else { return };
    let (dom, log) = headless(browser, dir.path(), &page, &["--dump-dom"]);
    assert!(
        dom.contains("data-map=\"drawn 6\""),
        "the map script did not finish:\n{log}"
    );
    let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let shot = dir.path().join("shot.png");
    let (_, log) = headless(
        browser,
        dir.path(),
        &page,
        &[
            "--window-size=1280,900",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(!log.lines().any(|l| l.contains(":CONSOLE")), "{log}");
    let shot = Picture::read(&shot);
    assert_eq!((shot.width, shot.height), (1280, 900));
    let left = 0..shot.width * 3 / 5;
    assert!(shot.count("#eef3f7", left.clone()) > 100_000);
    assert!(shot.count(LACKING_COLOUR, left) > 1_000);
}

/// With `--planned`, `map-planned*.png` show the homes after the planned facilities: a planned
/// elderly-care home (the sample has none today) turns homes within its walk to the covered
/// colour, as many as on the map of a plain run with that facility among today's.
#[test]
fn the_planned_maps_show_the_homes_after_the_planned_facilities() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The planned facility sits at the home in the middle of the sample (by longitude).
    let mut homes: Vec<Point> = support::features(&support::data("residences.geojson"))
        .iter()
        .map(support::point_of)
        .collect();
    homes.sort_by(|a, b| a.x().total_cmp(&b.x()));
    let at = homes[homes.len() / 2];
    let planned = json!({"type": "Feature", "properties": {"id": "new-care", "name": "养老服务中心",
        "category": "elderly_care", "status": "planned", "year": 2027},
        "geometry": {"type": "Point", "coordinates": [at.x(), at.y()]}});
    let fc = |features: Vec<Value>| json!({"type": "FeatureCollection", "features": features});
    std::fs::write(
        d.join("planned.geojson"),
        fc(vec![planned.clone()]).to_string(),
    )
    .unwrap();
    let mut today: Value = serde_json::from_str(
        &std::fs::read_to_string(support::data("facilities.geojson")).unwrap(),
    )
    .unwrap();
    today["features"].as_array_mut().unwrap().push(planned);
    std::fs::write(d.join("merged.geojson"), today.to_string()).unwrap();

    let run = |facilities: &str, out: &str, extra: &[&str]| {
        let mut args = vec!["analyze".to_string()];
        args.extend(sample_args(out, &["--map-png", "all"]));
        args[2] = facilities.to_string();
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        support::ok(d, &args)
    };
    let stdout = run(
        &support::data_arg("facilities.geojson"),
        "out",
        &["--planned", "planned.geojson"],
    );
    assert!(
        stdout.contains(
            "PNG maps: out/map.png and 8 per category; with the planned facilities: \
             out/map-planned.png and 8 per category"
        ),
        "{stdout}"
    );
    run("merged.geojson", "plain", &[]);

    let today = Picture::read(&d.join("out/map-elderly_care.png"));
    assert_eq!(today.count(COVERED_COLOUR, MAP_XS), 0);
    let after = Picture::read(&d.join("out/map-planned-elderly_care.png"));
    after.assert_documented_size();
    let plain = Picture::read(&d.join("plain/map-elderly_care.png"));
    let (after_covered, plain_covered) = (
        after.count(COVERED_COLOUR, MAP_XS),
        plain.count(COVERED_COLOUR, MAP_XS),
    );
    assert!(plain_covered > 1_000, "{plain_covered}");
    // The same homes in the same frame; the planned map draws a diamond over the facility
    // (at most 22 x 22 px), which may hide a few homes.
    assert!(
        after_covered <= plain_covered && after_covered + 500 >= plain_covered,
        "covered homes: {after_covered} with --planned, {plain_covered} plainly"
    );
    // The gap map after the plan is drawn too, and differs from today's.
    let gap_today = Picture::read(&d.join("out/map.png"));
    let gap_after = Picture::read(&d.join("out/map-planned.png"));
    gap_after.assert_documented_size();
    assert_ne!(gap_today.rgb, gap_after.rgb);
}
