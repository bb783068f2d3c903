//! The map report: one self-contained HTML page (`report.html`) that shows an analysis as a
//! planner presents it: a map of the communities coloured by the share of their people who
//! lack something (or by one category's coverage), the facilities, a legend, a scale bar and a
//! north arrow, with pan, zoom and a tooltip per community; the coverage table, a bar chart of
//! coverage by category, the communities with the largest gaps, and the inputs and settings.
//!
//! The page works offline: everything is inlined (the map is SVG written here, the style and
//! the script are the project's own, `report.css` and `report.js` beside this file), and a
//! Content-Security-Policy forbids every request, so a browser refuses (and reports) any
//! attempt to load something.
//!
//! # Units
//! The map is drawn in metres east and south of the centre of what it shows, an
//! equirectangular projection with the WGS84 radii of curvature at the centre's latitude (true
//! scale there; at 10 km from it the scale bar is off by well under 0.1 %). Geometries are
//! simplified for display (Douglas-Peucker, tolerance 1/5000 of the map's larger side, at
//! least 1 m) and coordinates rounded to 0.1 m.

use std::{fmt::Write as _, io};

use geo::{Coord, Geometry, LineString, MultiPolygon, Polygon, Simplify};
use serde_json::json;

use crate::{
    analysis::{Analysis, CommunityResult},
    geodesy::LonLat,
};

mod map_png;
mod site;

pub use map_png::{
    render_map_png, render_planned_map_png, MapFont, MapPngs, MAP_DPI, MAP_HEIGHT_PX, MAP_WIDTH_PX,
};
pub use site::{render_site_map_png, write_site_html};

/// What the report says about where its figures come from, beyond the analysis itself.
#[derive(Debug, Clone, Default)]
pub struct ReportContext {
    /// The run id shared by every file of the output set.
    pub run_id: String,
    /// When the analysis ran, as text (for example `2026-12-02 14:07 UTC`).
    pub created: String,
    /// The inputs: (what, file), e.g. `("facilities", "data/facilities.geojson")`.
    pub inputs: Vec<(String, String)>,
    /// Other settings worth stating: (name, value), e.g. `("snap", "300 m")`.
    pub settings: Vec<(String, String)>,
}

/// The pictures an output set holds beside its data: the map report and the PNG maps.
#[derive(Debug, Clone, Default)]
pub struct Pictures {
    /// What they state about the inputs and settings (the run id is set to the set's).
    pub context: ReportContext,
    /// Write `report.html`.
    pub report: bool,
    /// Write `map.png` (and, with [`MapPngs::All`], one map per category).
    pub maps: Option<MapPngs>,
}

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// Colours of the five classes of the "share lacking" map, none to all.
pub const GAP_COLOURS: [&str; 5] = ["#1a9850", "#a6d96a", "#fee08b", "#f46d43", "#a50026"];
/// Colour of a community that counts nobody.
pub const EMPTY_COLOUR: &str = "#d9d9d9";
/// Colour of a demand point that lacks the category shown (or any, on the gap map).
pub const LACKING_COLOUR: &str = "#d73027";
/// Colour of a demand point within reach.
pub const COVERED_COLOUR: &str = "#1a6faf";
/// Demand points are drawn when there are at most this many (a city of millions of homes
/// would make the page too large; its communities carry the picture).
pub const MAX_DEMAND_SHOWN: usize = 20_000;
/// Colours of the facility symbols, one per category in turn.
const CATEGORY_COLOURS: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
    "#2ca02c", "#d62728",
];

/// The class (0..5) of a share lacking 0..1: 0, up to 15 %, up to 30 %, up to 50 %, more.
fn gap_class(share: f64) -> usize {
    match share {
        s if s <= 0.0 => 0,
        s if s <= 0.15 => 1,
        s if s <= 0.30 => 2,
        s if s <= 0.50 => 3,
        _ => 4,
    }
}

/// Equirectangular projection about a centre, metres east and south (SVG's y runs down).
struct Frame {
    lon0: f64,
    lat0: f64,
    m_per_deg_lon: f64,
    m_per_deg_lat: f64,
}

impl Frame {
    fn around(points: impl Iterator<Item = (f64, f64)>) -> Option<Self> {
        let (mut w, mut s, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (x, y) in points {
            w = w.min(x);
            e = e.max(x);
            s = s.min(y);
            n = n.max(y);
        }
        if w > e {
            return None;
        }
        let lat0 = (s + n) / 2.0;
        let (a, e2) = (6_378_137.0_f64, 6.694_379_990_141_3e-3_f64);
        let sin = lat0.to_radians().sin();
        let w2 = 1.0 - e2 * sin * sin;
        let prime_vertical = a / w2.sqrt();
        let meridian = a * (1.0 - e2) / (w2 * w2.sqrt());
        Some(Self {
            lon0: (w + e) / 2.0,
            lat0,
            m_per_deg_lon: prime_vertical * lat0.to_radians().cos() * std::f64::consts::PI / 180.0,
            m_per_deg_lat: meridian * std::f64::consts::PI / 180.0,
        })
    }

    fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            (lon - self.lon0) * self.m_per_deg_lon,
            -(lat - self.lat0) * self.m_per_deg_lat,
        )
    }

    fn coord(&self, c: Coord<f64>) -> Coord<f64> {
        let (x, y) = self.xy(c.x, c.y);
        Coord { x, y }
    }
}

/// Append a number rounded to 0.1 (the map's coordinates, metres).
fn num(out: &mut String, v: f64) {
    let r = (v * 10.0).round() / 10.0;
    let _ = write!(out, "{}", if r == 0.0 { 0.0 } else { r });
}

/// SVG path data of a ring (closed with `Z`).
fn ring_path(out: &mut String, ring: &LineString<f64>) {
    for (k, c) in ring.0.iter().enumerate() {
        out.push(if k == 0 { 'M' } else { 'L' });
        num(out, c.x);
        out.push(' ');
        num(out, c.y);
    }
    out.push('Z');
}

fn polygon_path(out: &mut String, p: &Polygon<f64>) {
    ring_path(out, p.exterior());
    for hole in p.interiors() {
        ring_path(out, hole);
    }
}

/// Escape text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            c if c.is_control() => s.push(' '),
            c => s.push(c),
        }
    }
    s
}

/// JSON for a `<script type="application/json">` element: `<` escaped, so that no `</script>`
/// can end it early.
fn script_json(v: &serde_json::Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// What the map colours its communities and homes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// The share of the counted people who lack at least one category.
    Gap,
    /// The coverage of one category (its index in the analysis).
    Coverage(usize),
}

/// Labels of the five "share lacking" classes, in the order of [`GAP_COLOURS`].
pub const GAP_LABELS: [&str; 5] = ["none", "up to 15 %", "15-30 %", "30-50 %", "over 50 %"];
/// Labels of the five coverage classes, in the order of [`GAP_COLOURS`] (best first).
pub const COVER_LABELS: [&str; 5] = [
    "95 % and more",
    "85-95 %",
    "70-85 %",
    "50-70 %",
    "below 50 %",
];

/// The class (0 best .. 4 worst) of a coverage 0..1: 95 % and more, 85-95, 70-85, 50-70, less.
fn cover_class(v: f64) -> usize {
    match v {
        v if v < 0.5 => 4,
        v if v < 0.7 => 3,
        v if v < 0.85 => 2,
        v if v < 0.95 => 1,
        _ => 0,
    }
}

/// The fill of a community with figures `r` on the map showing `shown`.
fn community_fill(r: &CommunityResult, shown: Shown) -> &'static str {
    match shown {
        Shown::Gap if r.population > 0.0 => GAP_COLOURS[gap_class(r.gap_population / r.population)],
        Shown::Gap => EMPTY_COLOUR,
        Shown::Coverage(j) => match r.coverage.get(j).copied().flatten() {
            Some(v) => GAP_COLOURS[cover_class(v)],
            None => EMPTY_COLOUR,
        },
    }
}

/// The place of the map: its projection, the part shown (`view`: x, y, width, height in
/// metres) and the simplification tolerance.
pub(crate) struct MapFrame {
    frame: Frame,
    view: [f64; 4],
    tolerance_m: f64,
}

impl MapFrame {
    /// The frame around everything an analysis draws.
    pub(crate) fn of(a: &Analysis) -> Self {
        let frame = Frame::around(extent_points(a).into_iter()).unwrap_or(Frame {
            lon0: 0.0,
            lat0: 0.0,
            m_per_deg_lon: 111_319.5,
            m_per_deg_lat: 110_574.3,
        });
        let (mut x0, mut y0, mut x1, mut y1) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for (x, y) in extent_points(a) {
            let (x, y) = frame.xy(x, y);
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        let side = (x1 - x0).max(y1 - y0).max(200.0);
        let pad = side * 0.04;
        let view = [
            (x0 - pad).floor(),
            (y0 - pad).floor(),
            (x1 - x0 + 2.0 * pad).ceil().max(200.0),
            (y1 - y0 + 2.0 * pad).ceil().max(200.0),
        ];
        Self {
            frame,
            view,
            tolerance_m: (side / 5000.0).max(1.0),
        }
    }

    /// The part of the map shown: x, y, width, height in metres.
    pub(crate) fn view(&self) -> [f64; 4] {
        self.view
    }

    /// A position in map units (metres east and south of the centre).
    pub(crate) fn xy(&self, at: LonLat) -> (f64, f64) {
        self.frame.xy(at.lon(), at.lat())
    }
}

/// What the map draws beyond the analysis itself.
#[derive(Clone)]
pub(crate) struct MapLayers<'m> {
    /// The community figures the colours come from (the analysis's own, or after a plan).
    pub results: &'m [CommunityResult],
    /// What the communities and homes are coloured by.
    pub shown: Shown,
    /// Draw the homes (each coloured by what the analysis found for it).
    pub demand: bool,
    /// The width of the communities' outlines, in map units.
    pub outline: f64,
    /// The radius of a facility's symbol, in map units.
    pub facility_radius: f64,
    /// Draw the planned facilities, when the analysis has them (the page shows them with
    /// the planned stage only).
    pub planned: bool,
    /// SVG drawn over everything else, in map units.
    pub overlay: String,
}

/// The map's layers, in metres: communities (coloured as `layers` says), homes, facilities
/// per category (only the one shown on a category's map), then the overlay.
pub(crate) fn map_layers(a: &Analysis, mf: &MapFrame, layers: &MapLayers<'_>) -> String {
    let (frame, tolerance_m, view) = (&mf.frame, mf.tolerance_m, mf.view);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<g id=\"communities\" stroke=\"#fff\" stroke-width=\"{:.2}\" stroke-linejoin=\"round\">",
        layers.outline
    );
    for (i, (c, r)) in a.communities.iter().zip(layers.results).enumerate() {
        let fill = community_fill(r, layers.shown);
        match c.geometry() {
            Geometry::Polygon(p) => community_path(
                &mut svg,
                i,
                fill,
                &MultiPolygon(vec![p.clone()]),
                frame,
                tolerance_m,
            ),
            Geometry::MultiPolygon(m) => community_path(&mut svg, i, fill, m, frame, tolerance_m),
            _ => {
                let (x, y) = frame.xy(c.at().lon(), c.at().lat());
                let _ = write!(
                    svg,
                    "<circle class=\"c pt\" data-i=\"{i}\" fill=\"{fill}\" cx=\""
                );
                num(&mut svg, x);
                svg.push_str("\" cy=\"");
                num(&mut svg, y);
                let _ = write!(svg, "\" r=\"{:.1}\"/>", view[2].max(view[3]) / 150.0);
            }
        }
    }
    svg.push_str("</g>");
    if let Some(sa) = &a.service_areas {
        service_area_layers(&mut svg, a, sa, mf, layers.shown);
    }
    if layers.demand && a.demand.len() <= MAX_DEMAND_SHOWN {
        // Demand points, each with one character per category: 1 where it lacks the category.
        let r = view[2].max(view[3]) / 260.0;
        let _ = write!(svg, "<g id=\"demand\" stroke=\"none\">");
        for (i, d) in a.demand.iter().enumerate() {
            let mut lacks = vec![b'0'; a.categories.len()];
            for j in a.missing(i) {
                lacks[j] = b'1';
            }
            let lacking = match layers.shown {
                Shown::Gap => lacks.contains(&b'1'),
                Shown::Coverage(j) => lacks.get(j) == Some(&b'1'),
            };
            let (x, y) = frame.xy(d.at().lon(), d.at().lat());
            let _ = write!(
                svg,
                "<circle class=\"d\" data-m=\"{}\" fill=\"{}\" ",
                String::from_utf8_lossy(&lacks),
                if lacking {
                    LACKING_COLOUR
                } else {
                    COVERED_COLOUR
                }
            );
            // With planned facilities, the same after them.
            if let Some(sc) = a.scenario.as_deref() {
                let mut after = vec![b'0'; a.categories.len()];
                for j in sc.after.missing(i) {
                    after[j] = b'1';
                }
                let _ = write!(svg, "data-p=\"{}\" ", String::from_utf8_lossy(&after));
            }
            svg.push_str("cx=\"");
            num(&mut svg, x);
            svg.push_str("\" cy=\"");
            num(&mut svg, y);
            let _ = write!(svg, "\" r=\"{r:.1}\"/>");
        }
        svg.push_str("</g>");
    }
    svg.push_str("<g id=\"facilities\">");
    let r = layers.facility_radius;
    for (j, cat) in a.categories.iter().enumerate() {
        if matches!(layers.shown, Shown::Coverage(k) if k != j) {
            continue;
        }
        let colour = category_colour(j);
        let _ = write!(
            svg,
            "<g class=\"fac\" data-j=\"{j}\" fill=\"{colour}\" stroke=\"#fff\" stroke-width=\"{:.1}\">",
            r / 3.0
        );
        for &f in &cat.facilities {
            let at: LonLat = a.facilities[f as usize].at();
            let (x, y) = frame.xy(at.lon(), at.lat());
            svg.push_str("<circle cx=\"");
            num(&mut svg, x);
            svg.push_str("\" cy=\"");
            num(&mut svg, y);
            let _ = write!(svg, "\" r=\"{r:.1}\"/>");
        }
        svg.push_str("</g>");
    }
    svg.push_str("</g>");
    if layers.planned {
        if let Some(sc) = a.scenario.as_deref() {
            planned_symbols(&mut svg, sc, frame, r * 3.0, layers.shown);
        }
    }
    svg.push_str(&layers.overlay);
    svg
}

/// The service areas, a translucent group per category in its colour (`g.sa`, `data-j`):
/// shown on a category's map, hidden on the gap map (the page's script shows the one of the
/// category chosen). Simplified for display like the communities (the file keeps the full
/// shapes).
fn service_area_layers(
    svg: &mut String,
    a: &Analysis,
    sa: &crate::service_area::ServiceAreas,
    mf: &MapFrame,
    shown: Shown,
) {
    svg.push_str("<g id=\"areas\">");
    for j in 0..a.categories.len() {
        let visible = matches!(shown, Shown::Coverage(k) if k == j);
        if matches!(shown, Shown::Coverage(k) if k != j) {
            continue;
        }
        let colour = category_colour(j);
        let _ = write!(
            svg,
            "<g class=\"sa\" data-j=\"{j}\" fill=\"{colour}\" fill-opacity=\"0.16\" \
             stroke=\"{colour}\" stroke-opacity=\"0.6\" stroke-width=\"{:.2}\"{}>",
            mf.view[2].max(mf.view[3]) / 1500.0,
            if visible { "" } else { " display=\"none\"" }
        );
        for area in sa.areas.iter().filter(|s| s.category == j) {
            svg.push_str("<path fill-rule=\"evenodd\" d=\"");
            for p in &area.shape.0 {
                polygon_path(svg, &displayed(p, &mf.frame, mf.tolerance_m));
            }
            svg.push_str("\"/>");
        }
        svg.push_str("</g>");
    }
    svg.push_str("</g>");
}

/// The colour of category `j`'s facility symbols.
pub(crate) fn category_colour(j: usize) -> &'static str {
    CATEGORY_COLOURS[j % CATEGORY_COLOURS.len()]
}

/// The map of the page: an `<svg id="map">` whose viewBox the script pans and zooms.
fn map_svg(a: &Analysis, mf: &MapFrame, layers: &MapLayers<'_>) -> String {
    let view = mf.view;
    format!(
        "<svg id=\"map\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"{} {} {} {}\" \
         preserveAspectRatio=\"xMidYMid meet\" role=\"img\" aria-label=\"Map of the communities\">{}</svg>",
        view[0],
        view[1],
        view[2],
        view[3],
        map_layers(a, mf, layers)
    )
}

/// The planned facilities: a diamond with a dark outline per facility and category it offers
/// (shown with the planned scenario); on a category's map, that category's only.
fn planned_symbols(
    svg: &mut String,
    sc: &crate::Scenario<'_>,
    frame: &Frame,
    r: f64,
    shown: Shown,
) {
    let a = &sc.after;
    svg.push_str("<g id=\"planned\">");
    for (j, cat) in a.categories.iter().enumerate() {
        if matches!(shown, Shown::Coverage(k) if k != j) {
            continue;
        }
        let colour = category_colour(j);
        let _ = write!(
            svg,
            "<g class=\"fac planned\" data-j=\"{j}\" fill=\"{colour}\" stroke=\"#222\" stroke-width=\"{:.1}\">",
            r / 4.0
        );
        for &f in cat
            .facilities
            .iter()
            .filter(|&&f| sc.is_planned(f as usize))
        {
            let at: LonLat = a.facilities[f as usize].at();
            let (x, y) = frame.xy(at.lon(), at.lat());
            svg.push_str("<path d=\"M");
            num(svg, x);
            svg.push(' ');
            num(svg, y - r);
            let _ = write!(svg, "l{r:.1} {r:.1}l-{r:.1} {r:.1}l-{r:.1} -{r:.1}z\"/>");
        }
        svg.push_str("</g>");
    }
    svg.push_str("</g>");
}

fn community_path(
    svg: &mut String,
    i: usize,
    fill: &str,
    m: &MultiPolygon<f64>,
    frame: &Frame,
    tolerance_m: f64,
) {
    let _ = write!(svg, "<path class=\"c\" data-i=\"{i}\" fill=\"{fill}\" d=\"");
    for p in &m.0 {
        polygon_path(svg, &displayed(p, frame, tolerance_m));
    }
    svg.push_str("\"/>");
}

/// A WGS84 polygon in map units, simplified for display with `tolerance_m` (a ring simplified
/// below a triangle keeps its original shape).
fn displayed(p: &Polygon<f64>, frame: &Frame, tolerance_m: f64) -> Polygon<f64> {
    let projected = Polygon::new(
        p.exterior().0.iter().map(|&c| frame.coord(c)).collect(),
        p.interiors()
            .iter()
            .map(|r| r.0.iter().map(|&c| frame.coord(c)).collect())
            .collect(),
    );
    let simple = projected.simplify(tolerance_m);
    if simple.exterior().0.len() >= 4 {
        simple
    } else {
        projected
    }
}

/// Everything the map is drawn around: communities, facilities and demand points.
fn extent_points(a: &Analysis) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for c in a.communities.iter() {
        pts.extend(geo::CoordsIter::coords_iter(c.geometry()).map(|c| (c.x, c.y)));
    }
    for j in &a.categories {
        for &f in &j.facilities {
            let at = a.facilities[f as usize].at();
            pts.push((at.lon(), at.lat()));
        }
    }
    if let Some(sc) = a.scenario.as_deref() {
        let planned = sc.after.facilities.iter().skip(sc.first_planned);
        pts.extend(planned.map(|f| (f.at().lon(), f.at().lat())));
    }
    if a.communities.is_empty() {
        pts.extend(a.demand.iter().map(|r| (r.at().lon(), r.at().lat())));
    }
    pts
}

/// The data the page's script reads: categories, colours and every community's figures.
fn page_data(a: &Analysis, metres_per_unit: f64) -> serde_json::Value {
    let categories: Vec<_> = a
        .categories
        .iter()
        .enumerate()
        .map(|(j, c)| {
            json!({
                "name": c.name,
                "label": label(c),
                "colour": category_colour(j),
                "target": c.plan.target_percent / 100.0,
                "counts": c.plan.counts(),
            })
        })
        .collect();
    let round = |v: Option<f64>| v.map(|v| (v * 10_000.0).round() / 10_000.0);
    let after = a.scenario.as_deref().map(|s| &s.after.community_results);
    let communities: Vec<_> = a
        .communities
        .iter()
        .zip(&a.community_results)
        .enumerate()
        .map(|(i, (c, r))| {
            let mut v = json!({
                "id": c.id().to_string(),
                "name": c.name(),
                "population": r.population.round(),
                "gap": r.gap_population.round(),
                "coverage": r.coverage.iter().map(|v| round(*v)).collect::<Vec<_>>(),
                "lacking": r.lacking,
            });
            // With planned facilities, the same figures after them.
            if let Some(p) = after.and_then(|x| x.get(i)) {
                v["planned"] = json!({
                    "gap": p.gap_population.round(),
                    "coverage": p.coverage.iter().map(|v| round(*v)).collect::<Vec<_>>(),
                    "lacking": p.lacking,
                });
            }
            v
        })
        .collect();
    json!({
        "categories": categories,
        "communities": communities,
        "gap_colours": GAP_COLOURS,
        "gap_labels": GAP_LABELS,
        "cover_labels": COVER_LABELS,
        "empty_colour": EMPTY_COLOUR,
        "lacking_colour": LACKING_COLOUR,
        "covered_colour": COVERED_COLOUR,
        "metres_per_unit": metres_per_unit,
    })
}

/// A category's name as a planner reads it: `elderly_care (养老服务, Elderly care)`.
fn label(c: &crate::CategoryResult) -> String {
    let names: Vec<&str> = [c.plan.name_zh.as_str(), c.plan.name_en.as_str()]
        .into_iter()
        .filter(|n| !n.is_empty() && *n != c.name)
        .collect();
    if names.is_empty() {
        c.name.clone()
    } else {
        format!("{} ({})", c.name, names.join(", "))
    }
}

/// A horizontal bar chart of coverage by category, with each target marked.
fn bar_chart(a: &Analysis) -> String {
    let (row, left, width) = (26.0, 150.0, 420.0);
    let height = row * a.categories.len() as f64 + 30.0;
    let mut s = format!(
        "<svg class=\"bars\" viewBox=\"0 0 {} {height}\" role=\"img\" aria-label=\"Coverage by category\">",
        left + width + 60.0
    );
    for (j, c) in a.categories.iter().enumerate() {
        let y = j as f64 * row + 4.0;
        let w = (c.coverage.clamp(0.0, 1.0) * width).max(0.5);
        let met = c.coverage * 100.0 >= c.plan.target_percent;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{left}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"/>\
             <line x1=\"{tx:.1}\" x2=\"{tx:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#222\" stroke-dasharray=\"3 2\"/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            left - 6.0,
            y + row * 0.6,
            esc(&c.name),
            row - 8.0,
            if met { GAP_COLOURS[0] } else { GAP_COLOURS[3] },
            y - 2.0,
            y + row - 6.0,
            left + width + 6.0,
            y + row * 0.6,
            percent(c.coverage),
            tx = left + c.plan.target_percent / 100.0 * width,
        );
    }
    let y = a.categories.len() as f64 * row + 20.0;
    let _ = write!(
        s,
        "<text x=\"{left}\" y=\"{y}\" class=\"note\">bar: coverage of the people each category \
         counts; dashed line: the target</text></svg>"
    );
    s
}

fn coverage_table(a: &Analysis) -> String {
    if let Some(sc) = a.scenario.as_deref() {
        return coverage_change_table(a, sc);
    }
    let mut s = String::from(
        "<table><thead><tr><th>category</th><th>counts</th><th>walk</th><th>facilities</th>\
         <th>covered population</th><th>coverage</th><th>target</th>\
         <th>communities lacking (of those with residents)</th></tr></thead><tbody>",
    );
    for c in &a.categories {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{:.0} m</td><td class=\"n\">{}</td>\
             <td class=\"n\">{:.0}</td><td class=\"n\">{}</td><td class=\"n\">{} %</td>\
             <td class=\"n\">{} of {}</td></tr>",
            esc(&label(c)),
            esc(c.plan.counts()),
            c.plan.max_walk_m,
            c.facilities.len(),
            c.covered_population,
            percent(c.coverage),
            c.plan.target_percent,
            c.communities_lacking,
            a.populated_communities()
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// The coverage table before and after the planned facilities.
fn coverage_change_table(a: &Analysis, sc: &crate::Scenario<'_>) -> String {
    let mut s = String::from(
        "<table><thead><tr><th>category</th><th>counts</th><th>walk</th>\
         <th>facilities (+ planned)</th><th>coverage today</th><th>with planned</th>\
         <th>change</th><th>target</th><th>communities lacking today</th>\
         <th>with planned</th></tr></thead><tbody>",
    );
    for (c, x) in sc.changes(a).iter().zip(&a.categories) {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{:.0} m</td><td class=\"n\">{} + {}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:+.1} pt</td>\
             <td class=\"n\">{} %</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&label(x)),
            esc(x.plan.counts()),
            x.plan.max_walk_m,
            x.facilities.len(),
            c.planned,
            percent(c.coverage_before),
            percent(c.coverage_after),
            (c.coverage_after - c.coverage_before) * 100.0,
            x.plan.target_percent,
            c.communities_lacking_before,
            c.communities_lacking_after,
        );
    }
    let _ = write!(
        s,
        "</tbody></table><p>Planned: {} facilities from {}. Communities lacking at least one \
         category: {} today, {} with the planned facilities; {} change what they lack.</p>",
        sc.planned.len(),
        esc(&sc.file),
        a.communities_lacking(),
        sc.after.communities_lacking(),
        sc.changed_communities.len()
    );
    s
}

fn worst_table(a: &Analysis) -> String {
    let worst = a.communities_by_gap();
    let populated = a.populated_communities();
    if populated == 0 {
        return "<p>No community has residents, so no community's coverage is measured.</p>".into();
    }
    if worst.is_empty() {
        return "<p>Every community with residents reaches every category at target.</p>".into();
    }
    let mut s = format!(
        "<p>{} of {populated} communities with residents lack at least one category; the largest gaps:</p>\
         <table><thead><tr><th>community</th><th>name</th><th>population</th>\
         <th>gap population</th><th>lacking</th></tr></thead><tbody>",
        worst.len(),
    );
    for &i in worst.iter().take(15) {
        let (c, r) = (&a.communities[i], &a.community_results[i]);
        let lacking: Vec<&str> = r
            .lacking
            .iter()
            .map(|&j| a.categories[j].name.as_str())
            .collect();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{:.0}</td><td class=\"n\">{:.0}</td><td>{}</td></tr>",
            esc(&c.id().to_string()),
            esc(c.name().unwrap_or("")),
            r.population,
            r.gap_population,
            esc(&lacking.join(", "))
        );
    }
    s.push_str("</tbody></table>");
    s
}

fn settings_list(a: &Analysis, ctx: &ReportContext) -> String {
    let mut rows: Vec<(String, String)> = vec![
        ("run".into(), ctx.run_id.clone()),
        ("computed".into(), ctx.created.clone()),
        ("walk measured".into(), a.mode.to_string()),
        (
            "profile".into(),
            format!("{} ({})", a.plan.profile().name, a.plan.profile().origin),
        ),
    ];
    rows.extend(ctx.inputs.iter().cloned());
    rows.extend(ctx.settings.iter().cloned());
    let walks: Vec<String> = a
        .categories
        .iter()
        .map(|c| format!("{} {:.0} m", c.name, c.plan.max_walk_m))
        .collect();
    rows.push(("walk per category".into(), walks.join(", ")));
    rows.push((
        "demand".into(),
        format!(
            "{} {}, population {:.0}; {} facilities; {} communities",
            a.demand.len(),
            if a.demand_is_communities {
                "community points"
            } else {
                "residences"
            },
            a.population,
            a.facilities.len(),
            a.communities.len()
        ),
    ));
    if !a.skipped.is_empty() {
        rows.push(("skipped features".into(), a.skipped.len().to_string()));
    }
    let mut s = String::from("<dl>");
    for (k, v) in rows {
        let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", esc(&k), esc(&v));
    }
    s.push_str("</dl>");
    s
}

/// Write `report.html` for an analysis.
///
/// # Errors
/// The writer fails.
pub fn write_html(a: &Analysis, ctx: &ReportContext, w: &mut dyn io::Write) -> io::Result<()> {
    let mf = MapFrame::of(a);
    let title = format!(
        "Life-circle gaps: {} communities, {} categories",
        a.communities.len(),
        a.categories.len()
    );
    let layers = MapLayers {
        results: &a.community_results,
        shown: Shown::Gap,
        demand: true,
        outline: 1.0,
        facility_radius: mf.view[2].max(mf.view[3]) / 600.0,
        planned: true,
        overlay: String::new(),
    };
    let page = Page {
        title: &title,
        summary: &format!(
            "{} walk; {} of {} communities with residents lack at least one category; \
             population {:.0}.",
            a.mode,
            a.communities_lacking(),
            a.populated_communities(),
            a.population
        ),
        options: &if a.scenario.is_some() {
            mode_options(a, "", "") + &mode_options(a, "p", "with planned: ")
        } else {
            mode_options(a, "", "")
        },
        map: &map_svg(a, &mf, &layers),
        sections: &[
            (
                "Coverage by category",
                format!(
                    "{}<div class=\"wide\">{}</div>",
                    bar_chart(a),
                    coverage_table(a)
                ),
            ),
            (
                "Communities with the largest gaps",
                format!("<div class=\"wide\">{}</div>", worst_table(a)),
            ),
            ("Inputs and settings", settings_list(a, ctx)),
        ],
        tolerance_m: mf.tolerance_m,
        data: &page_data(a, 1.0),
    };
    w.write_all(page.html().as_bytes())
}

/// The selector's options: the share lacking, then each category's coverage; for a second
/// stage (the planned facilities, or the new sites) `prefix` is `p` (the script reads the
/// figures of `planned`) and `words` says which, before each label.
fn mode_options(a: &Analysis, prefix: &str, words: &str) -> String {
    let mut options = format!(
        "<option value=\"{prefix}gap\">{}share of people lacking something</option>",
        esc(words)
    );
    for (j, c) in a.categories.iter().enumerate() {
        let _ = write!(
            options,
            "<option value=\"{prefix}{j}\">{}coverage: {}</option>",
            esc(words),
            esc(&label(c))
        );
    }
    options
}

/// A report page: header, the map with its tools, legend, scale bar and north arrow, then
/// sections beside it; the style, the data and the script inlined.
struct Page<'p> {
    title: &'p str,
    summary: &'p str,
    /// `<option>`s of the map's selector.
    options: &'p str,
    /// The map's `<svg id="map">`.
    map: &'p str,
    /// (heading, HTML) of each section beside the map.
    sections: &'p [(&'p str, String)],
    tolerance_m: f64,
    data: &'p serde_json::Value,
}

impl Page<'_> {
    fn html(&self) -> String {
        let mut sections = String::new();
        let last = self.sections.len().saturating_sub(1);
        for (k, (heading, body)) in self.sections.iter().enumerate() {
            let _ = write!(sections, "<section><h2>{}</h2>{body}", esc(heading));
            if k == last {
                let _ = write!(
                    sections,
                    "<p class=\"note\">{}</p>",
                    esc(&map_note(self.tolerance_m))
                );
            }
            sections.push_str("</section>");
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
<title>{title}</title><style>{STYLE}</style></head><body>\
<header><h1>{title}</h1><p>{summary}</p></header>\
<main><section class=\"mapbox\"><div class=\"tools\"><label>Colour by <select id=\"mode\">{options}</select></label>\
<span class=\"zoom\"><button id=\"zin\" title=\"zoom in\">+</button><button id=\"zout\" title=\"zoom out\">&minus;</button><button id=\"zreset\" title=\"whole map\">&#8634;</button></span></div>\
<div class=\"frame\">{map}<div id=\"north\" aria-label=\"north\">&#9650;<br>N</div><div id=\"scale\"><div id=\"scalebar\"></div><span id=\"scalelabel\"></span></div><div id=\"tip\" hidden></div></div>\
<div id=\"legend\"></div></section>{sections}</main>\
<script type=\"application/json\" id=\"data\">{data}</script><script>{SCRIPT}</script></body></html>\n",
            title = esc(self.title),
            summary = esc(self.summary),
            options = self.options,
            map = self.map,
            data = script_json(self.data),
        )
    }
}

/// The note under the settings (and on the PNG map): projection, simplification, data.
fn map_note(tolerance_m: f64) -> String {
    format!(
        "Map: equirectangular about the centre, true scale there; geometries simplified for \
         display with a tolerance of {tolerance_m:.0} m. {ATTRIBUTION}"
    )
}

/// Where the map's data comes from.
const ATTRIBUTION: &str =
    "Map data as given in the inputs (for the sample: \u{a9} OpenStreetMap contributors, ODbL).";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_escaping() {
        assert_eq!(gap_class(0.0), 0);
        assert_eq!(gap_class(0.1), 1);
        assert_eq!(gap_class(0.3), 2);
        assert_eq!(gap_class(0.5), 3);
        assert_eq!(gap_class(0.9), 4);
        // The script's classes: below 50 %, 50-70, 70-85, 85-95, 95 % and more.
        assert_eq!(cover_class(0.49), 4);
        assert_eq!(cover_class(0.5), 3);
        assert_eq!(cover_class(0.7), 2);
        assert_eq!(cover_class(0.9), 1);
        assert_eq!(cover_class(0.95), 0);
        assert_eq!(cover_class(1.0), 0);
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            script_json(&json!({"name": "</script><b>"})),
            "{\"name\":\"\\u003c/script>\\u003cb>\"}"
        );
    }

    #[test]
    fn the_frame_is_true_to_scale_at_its_centre() {
        // 0.01 degree of latitude at 60 N is 1,116.9 m on the ellipsoid; of longitude 558.0 m.
        let f = Frame::around([(24.9, 59.9), (25.1, 60.1)].into_iter()).unwrap();
        let (x, y) = f.xy(25.01, 60.01);
        let north = crate::geodesy::surface_distance_m(
            LonLat::new(25.0, 60.0).unwrap(),
            LonLat::new(25.0, 60.01).unwrap(),
        );
        let east = crate::geodesy::surface_distance_m(
            LonLat::new(25.0, 60.0).unwrap(),
            LonLat::new(25.01, 60.0).unwrap(),
        );
        assert!((-y - north).abs() < 0.01, "{y} vs {north}");
        assert!((x - east).abs() < 0.01, "{x} vs {east}");
    }
}
