//! The map report (`report.html`) opens in a real browser: headless Chromium loads the page
//! the sample run writes, runs its script and takes a screenshot. The map must have drawn (the
//! script marks the page, and the screenshot holds the map's colours), the browser's console
//! must stay silent (no script error; the page's Content-Security-Policy forbids every request,
//! so any request the page tried would be refused and reported there), and the page must name
//! no outside address.
//!
//! Needs Chromium (Debian package `chromium`). Without it the browser checks say so and pass,
//! unless `LIFECIRCLE_REQUIRE_CHROMIUM` is set, as CI (`.ci/run`) does.

use std::{path::Path, process::Command};

use crate::support;

/// The browser, when one can be run; panics when none can but one is required.
pub(crate) fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("LIFECIRCLE_REQUIRE_CHROMIUM").is_none(),
            "chromium is required (LIFECIRCLE_REQUIRE_CHROMIUM is set): apt-get install chromium"
        );
        eprintln!("chromium not found: report browser checks skipped (apt-get install chromium)");
    }
    found
}

/// Run headless Chromium on `page` with `args` (a fresh profile, no background traffic);
/// returns stdout and stderr.
pub(crate) fn headless(browser: &str, dir: &Path, page: &Path, args: &[&str]) -> (String, String) {
    let profile = dir.join(format!("profile-{}", args.len()));
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    support::text(&o)
}

/// RGB of `#rrggbb`.
fn rgb(hex: &str) -> [u8; 3] {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

#[test]
fn the_sample_report_draws_offline_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = support::ok(dir.path(), &[]);
    let page = dir.path().join("lifecircle-out/report.html");
    assert!(
        stdout.contains("Map report: lifecircle-out/report.html"),
        "{stdout}"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: no outside address to load, no external script or style.
    for banned in [
        "src=\"http",
        "href=\"http",
        "<link",
        "@import",
        "url(http",
        "src=\"//",
    ] {
        assert!(!html.contains(banned), "{banned} in report.html");
    }
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("default-src 'none'"));
    // What a planner reads: both names of a category, the coverage table, the settings.
    for want in [
        "养老服务",
        "Elderly care",
        "Keskusta",
        "Inputs and settings",
        "network",
    ] {
        assert!(html.contains(want), "{want} missing from report.html");
    }
    assert!(html.len() < 2_000_000, "{} bytes", html.len());

    let Some(browser) = chromium() else { return };
    // The script ran to its end and marked the page with the communities it drew.
    let (dom, log) = headless(browser, dir.path(), &page, &["--dump-dom"]);
    assert!(
        dom.contains("data-map=\"drawn 6\""),
        "the map script did not finish:\n{log}"
    );
    // The console stays silent: no script error, no refused request.
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
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1280, 900));
    let channels = info.color_type.samples();
    let count = |colour: [u8; 3], x_max: u32| {
        buf.chunks(channels)
            .enumerate()
            .filter(|(k, p)| (*k as u32 % info.width) < x_max && p[..3] == colour)
            .count()
    };
    // In the left part of the page, where the map is: the map's background, homes lacking
    // something (the sample lacks elderly care everywhere) and communities with over half
    // their people lacking; the legend's own swatches are far smaller than these counts.
    let left = info.width * 3 / 5;
    let background = count(rgb("#eef3f7"), left);
    assert!(background > 100_000, "map background: {background} pixels");
    let homes = count(rgb(lifecircle::html_report::LACKING_COLOUR), left);
    assert!(homes > 1_000, "homes lacking: {homes} pixels");
    let worst = count(rgb(lifecircle::html_report::GAP_COLOURS[4]), left);
    assert!(worst > 200, "communities over half lacking: {worst} pixels");
}
