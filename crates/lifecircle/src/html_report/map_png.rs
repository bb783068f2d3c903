//! The map as a picture for slides and documents (`map.png`, and `map-<category>.png` per
//! category): the report's map layers ([`super::map_layers`], so every layer of the page's
//! map is here too) placed in a standalone SVG with what the page draws around its map in
//! HTML (title, legend, scale bar, north arrow, attribution), rendered in Rust by
//! `resvg`/`tiny-skia` and written as an 8-bit RGB PNG of [`MAP_WIDTH_PX`] x
//! [`MAP_HEIGHT_PX`] pixels with a `pHYs` chunk of [`MAP_DPI`] dots per inch (6.67 x 5 inches,
//! 16.9 x 12.7 cm, at that resolution).
//!
//! Text is drawn with the system's fonts; a font that covers Chinese (`社区`) is looked for
//! and used for every label ([`MapFont`]). Without one, Chinese names do not render, and the
//! command says so.

use std::{
    fmt::Write as _,
    io,
    sync::{Arc, OnceLock},
};

use resvg::{tiny_skia, usvg};

use super::{
    category_colour, esc, label, map_layers, map_note, MapFrame, MapLayers, ReportContext, Shown,
    COVERED_COLOUR, COVER_LABELS, EMPTY_COLOUR, GAP_COLOURS, GAP_LABELS, LACKING_COLOUR,
    MAX_DEMAND_SHOWN,
};
use crate::analysis::Analysis;

/// Width of the PNG maps, pixels.
pub const MAP_WIDTH_PX: u32 = 2000;
/// Height of the PNG maps, pixels.
pub const MAP_HEIGHT_PX: u32 = 1500;
/// Resolution written in the PNG maps' `pHYs` chunk, dots per inch.
pub const MAP_DPI: u32 = 300;

/// The map area inside the picture: x, y, width, height in pixels.
pub(crate) const MAP_AREA: [f64; 4] = [40.0, 130.0, 1420.0, 1280.0];
/// The legend's column: x and width in pixels.
const LEGEND: [f64; 2] = [1500.0, 470.0];

/// Which PNG maps to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapPngs {
    /// `map.png`: the share of people lacking something.
    Gap,
    /// `map.png` and one `map-<category>.png` per category, coloured by its coverage.
    All,
}

impl MapPngs {
    /// The files to write, with what each shows: `map.png`, then (for [`MapPngs::All`])
    /// `map-<category>.png` (characters other than letters, digits, `-` and `_` replaced by
    /// `_`).
    pub fn files(self, a: &Analysis) -> Vec<(String, Shown)> {
        let mut files = vec![("map.png".to_string(), Shown::Gap)];
        if self == MapPngs::All {
            for (j, c) in a.categories.iter().enumerate() {
                let safe: String = c
                    .name
                    .chars()
                    .map(|ch| {
                        if ch.is_alphanumeric() || ch == '-' || ch == '_' {
                            ch
                        } else {
                            '_'
                        }
                    })
                    .collect();
                files.push((format!("map-{safe}.png"), Shown::Coverage(j)));
            }
        }
        files
    }

    /// With planned facilities, the same maps after them: `map-planned.png`, then (for
    /// [`MapPngs::All`]) `map-planned-<category>.png`; none without planned facilities.
    pub fn planned_files(self, a: &Analysis) -> Vec<(String, Shown)> {
        if a.scenario.is_none() {
            return Vec::new();
        }
        self.files(a)
            .into_iter()
            .map(|(file, shown)| (file.replacen("map", "map-planned", 1), shown))
            .collect()
    }
}

/// The fonts the maps are drawn with: the system's, loaded once per process.
#[derive(Debug, Clone)]
pub struct MapFont {
    fonts: Arc<usvg::fontdb::Database>,
    cjk: Option<String>,
}

impl MapFont {
    /// The system's fonts (loaded on first use) and the first family, by name, that covers
    /// `社区` (Noto Sans CJK, WenQuanYi, Source Han, ...).
    pub fn system() -> &'static MapFont {
        static FONT: OnceLock<MapFont> = OnceLock::new();
        FONT.get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_system_fonts();
            let family = |f: &usvg::fontdb::FaceInfo| {
                f.families
                    .first()
                    .map(|(name, _)| name.clone())
                    .unwrap_or_default()
            };
            let mut faces: Vec<_> = db
                .faces()
                .filter(|f| !family(f).contains("Mono") && f.style == usvg::fontdb::Style::Normal)
                .map(|f| (family(f), f.id))
                .collect();
            faces.sort();
            let cjk = faces
                .iter()
                .find(|(_, id)| {
                    db.with_face_data(*id, |data, index| {
                        use skrifa::MetadataProvider as _;
                        skrifa::FontRef::from_index(data, index).is_ok_and(|f| {
                            let map = f.charmap();
                            map.map('社').is_some() && map.map('区').is_some()
                        })
                    })
                    .unwrap_or(false)
                })
                .map(|(name, _)| name.clone());
            // The generic family the labels fall back to: the CJK font, or a sans-serif one.
            let sans = cjk.clone().or_else(|| {
                faces
                    .iter()
                    .find(|(name, _)| name.contains("Sans"))
                    .or(faces.first())
                    .map(|(name, _)| name.clone())
            });
            if let Some(sans) = sans {
                db.set_sans_serif_family(sans);
            }
            MapFont {
                fonts: Arc::new(db),
                cjk,
            }
        })
    }

    /// The family that covers Chinese, when one is installed.
    pub fn cjk_family(&self) -> Option<&str> {
        self.cjk.as_deref()
    }
}

/// A rough width of `text` at `size` px: 1 em for CJK and other wide characters, 0.56 em
/// for the rest (for wrapping the legend).
fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| if c >= '\u{2e80}' { 1.0 } else { 0.56 })
        .sum::<f64>()
        * size
}

/// `text` cut into lines at spaces to fit `width` px at `size` px.
fn wrap(text: &str, width: f64, size: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if text_width(&format!("{line} {word}"), size) <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The legend: headings and keys, down the legend's column.
struct Legend {
    svg: String,
    y: f64,
}

impl Legend {
    fn heading(&mut self, text: &str) {
        self.y += 18.0;
        for line in wrap(text, LEGEND[1], 24.0) {
            self.y += 30.0;
            let _ = write!(
                self.svg,
                "<text x=\"{}\" y=\"{}\" font-size=\"24\" font-weight=\"bold\">{}</text>",
                LEGEND[0],
                self.y,
                esc(&line)
            );
        }
        self.y += 8.0;
    }

    /// A key: `mark` (SVG drawn about (0, 0), about 28 px wide) and its text.
    fn key(&mut self, mark: &str, text: &str) {
        let lines = wrap(text, LEGEND[1] - 44.0, 22.0);
        let _ = write!(
            self.svg,
            "<g transform=\"translate({} {})\">{mark}</g>",
            LEGEND[0] + 14.0,
            self.y + 16.0
        );
        for (k, line) in lines.iter().enumerate() {
            let _ = write!(
                self.svg,
                "<text x=\"{}\" y=\"{}\" font-size=\"22\">{}</text>",
                LEGEND[0] + 44.0,
                self.y + 24.0 + 28.0 * k as f64,
                esc(line)
            );
        }
        self.y += 28.0 * lines.len() as f64 + 8.0;
    }

    fn swatch(&mut self, colour: &str, text: &str) {
        self.key(
            &format!(
                "<rect x=\"-13\" y=\"-11\" width=\"26\" height=\"22\" fill=\"{colour}\" stroke=\"#888\"/>"
            ),
            text,
        );
    }

    fn dot(&mut self, colour: &str, r: f64, text: &str) {
        self.key(
            &format!("<circle r=\"{r}\" fill=\"{colour}\" stroke=\"#fff\" stroke-width=\"2\"/>"),
            text,
        );
    }
}

/// A picture of the map: what it shows and the words around it.
pub(crate) struct Picture<'p> {
    pub title: String,
    pub subtitle: String,
    pub layers: MapLayers<'p>,
    /// Keys added to the legend after the facilities, under a heading: (mark SVG about
    /// (0, 0), text).
    pub keys: (&'static str, Vec<(String, String)>),
}

/// The legend of a map of `a` showing `shown`.
fn legend(a: &Analysis, p: &Picture<'_>) -> String {
    let mut l = Legend {
        svg: String::new(),
        y: MAP_AREA[1] - 48.0,
    };
    match p.layers.shown {
        Shown::Gap => {
            l.heading("Share of the people who lack at least one category");
            for (colour, text) in GAP_COLOURS.iter().zip(GAP_LABELS) {
                l.swatch(colour, text);
            }
        }
        Shown::Coverage(j) => {
            let c = &a.categories[j];
            l.heading(&format!(
                "Coverage of the people it counts ({}; target {} %)",
                c.plan.counts(),
                c.plan.target_percent
            ));
            for (colour, text) in GAP_COLOURS.iter().zip(COVER_LABELS) {
                l.swatch(colour, text);
            }
        }
    }
    l.swatch(EMPTY_COLOUR, "nobody counted");
    if p.layers.demand && !a.demand.is_empty() && a.demand.len() <= MAX_DEMAND_SHOWN {
        l.heading("Homes (demand points)");
        l.dot(COVERED_COLOUR, 7.0, "within reach");
        l.dot(
            LACKING_COLOUR,
            7.0,
            match p.layers.shown {
                Shown::Gap => "lacking at least one category",
                Shown::Coverage(_) => "lacking it",
            },
        );
    }
    l.heading("Facilities");
    for (j, c) in a.categories.iter().enumerate() {
        if matches!(p.layers.shown, Shown::Coverage(k) if k != j) {
            continue;
        }
        l.dot(category_colour(j), 9.0, &label(c));
    }
    let (heading, keys) = &p.keys;
    if !keys.is_empty() {
        l.heading(heading);
        for (mark, text) in keys {
            l.key(mark, text);
        }
    }
    l.svg
}

/// The scale bar and the north arrow over the map's lower left and upper right corners, for
/// `m_per_px` metres per pixel.
fn scale_and_north(m_per_px: f64) -> String {
    let [x, y, w, h] = MAP_AREA;
    // A round length near a fifth of the map's width, as on the page.
    let want = m_per_px * w / 5.0;
    let p = 10f64.powf(want.log10().floor());
    let len = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|k| k * p)
        .rfind(|&v| v <= want)
        .unwrap_or(p);
    let px = len / m_per_px;
    let label = if len >= 1000.0 {
        format!("{} km", len / 1000.0)
    } else {
        format!("{len} m")
    };
    let (bx, by) = (x + 20.0, y + h - 20.0);
    let mut s = format!(
        "<rect x=\"{}\" y=\"{}\" width=\"{:.1}\" height=\"58\" rx=\"6\" fill=\"#fff\" fill-opacity=\"0.85\"/>\
         <path d=\"M{} {}v14h{:.1}v-14\" fill=\"none\" stroke=\"#222\" stroke-width=\"4\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"22\">{}</text>",
        bx,
        by - 58.0,
        px + 28.0,
        bx + 14.0,
        by - 24.0,
        px,
        bx + 14.0,
        by - 32.0,
        esc(&label)
    );
    let (nx, ny) = (x + w - 50.0, y + 20.0);
    let _ = write!(
        s,
        "<rect x=\"{}\" y=\"{ny}\" width=\"60\" height=\"84\" rx=\"6\" fill=\"#fff\" fill-opacity=\"0.85\"/>\
         <path d=\"M{nx} {}l-16 34h32z\" fill=\"#222\"/>\
         <text x=\"{nx}\" y=\"{}\" font-size=\"26\" font-weight=\"bold\" text-anchor=\"middle\">N</text>",
        nx - 30.0,
        ny + 8.0,
        ny + 72.0,
    );
    s
}

/// The picture as SVG, `font` the family of its text.
pub(crate) fn picture_svg(
    a: &Analysis,
    mf: &MapFrame,
    p: &Picture<'_>,
    ctx: &ReportContext,
    font: &str,
) -> String {
    let [x, y, w, h] = MAP_AREA;
    let view = mf.view();
    let m_per_px = (view[2] / w).max(view[3] / h);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{MAP_WIDTH_PX}\" height=\"{MAP_HEIGHT_PX}\" \
         viewBox=\"0 0 {MAP_WIDTH_PX} {MAP_HEIGHT_PX}\" font-family=\"{}\" fill=\"#222\">\
         <rect width=\"{MAP_WIDTH_PX}\" height=\"{MAP_HEIGHT_PX}\" fill=\"#fff\"/>\
         <text x=\"{x}\" y=\"64\" font-size=\"40\" font-weight=\"bold\">{}</text>\
         <text x=\"{x}\" y=\"108\" font-size=\"24\" fill=\"#555\">{}</text>\
         <rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"#eef3f7\"/>\
         <svg x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" viewBox=\"{} {} {} {}\" \
         preserveAspectRatio=\"xMidYMid meet\">",
        esc(font),
        esc(&p.title),
        esc(&p.subtitle),
        view[0],
        view[1],
        view[2],
        view[3],
    );
    // Outlines of 1.5 px whatever the map's scale; facilities of 7 px, smaller where there
    // are many (2.5 px for a few thousand), so that they do not hide the communities.
    let shown = a
        .categories
        .iter()
        .enumerate()
        .filter(|(j, _)| !matches!(p.layers.shown, Shown::Coverage(k) if k != *j))
        .map(|(_, c)| c.facilities.len())
        .sum::<usize>()
        .max(1);
    let layers = MapLayers {
        outline: 1.5 * m_per_px,
        facility_radius: (7.0 * (300.0 / shown as f64).sqrt()).clamp(2.5, 7.0) * m_per_px,
        ..p.layers.clone()
    };
    svg.push_str(&map_layers(a, mf, &layers));
    let _ = write!(
        svg,
        "</svg><rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"none\" stroke=\"#bbb\" stroke-width=\"2\"/>"
    );
    svg.push_str(&scale_and_north(m_per_px));
    svg.push_str(&legend(a, p));
    let mut line = MAP_AREA[1] + MAP_AREA[3] + 36.0;
    let stamp = format!("Run {}, computed {}.", ctx.run_id, ctx.created);
    for text in [map_note(mf.tolerance_m), stamp] {
        for part in wrap(&text, MAP_WIDTH_PX as f64 - 2.0 * x, 18.0) {
            let _ = write!(
                svg,
                "<text x=\"{x}\" y=\"{line}\" font-size=\"18\" fill=\"#555\">{}</text>",
                esc(&part)
            );
            line += 24.0;
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Render `svg` and write it as PNG (RGB, with the `pHYs` of [`MAP_DPI`]).
fn write_png(svg: &str, font: &MapFont, w: &mut dyn io::Write) -> io::Result<()> {
    let options = usvg::Options {
        fontdb: font.fonts.clone(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(io::Error::other)?;
    let mut pixmap = tiny_skia::Pixmap::new(MAP_WIDTH_PX, MAP_HEIGHT_PX)
        .ok_or_else(|| io::Error::other("the map's size is not a valid picture size"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    let rgb: Vec<u8> = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue()]
        })
        .collect();
    let mut encoder = png::Encoder::new(w, MAP_WIDTH_PX, MAP_HEIGHT_PX);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Dots per inch in pixels per metre, as PNG states it.
    let per_m = (f64::from(MAP_DPI) / 0.0254).round() as u32;
    encoder.set_pixel_dims(Some(png::PixelDimensions {
        xppu: per_m,
        yppu: per_m,
        unit: png::Unit::Meter,
    }));
    let mut writer = encoder.write_header().map_err(io::Error::other)?;
    writer.write_image_data(&rgb).map_err(io::Error::other)?;
    writer.finish().map_err(io::Error::other)
}

/// Render a picture of `a`'s map as PNG into `w`.
pub(crate) fn render_picture(
    a: &Analysis,
    mf: &MapFrame,
    p: &Picture<'_>,
    ctx: &ReportContext,
    w: &mut dyn io::Write,
) -> io::Result<()> {
    let font = MapFont::system();
    let family = match font.cjk_family() {
        Some(f) => format!("'{f}', sans-serif"),
        None => "sans-serif".to_string(),
    };
    write_png(&picture_svg(a, mf, p, ctx, &family), font, w)
}

/// Write the map of an analysis as PNG: communities coloured as `shown` says, homes (when
/// there are at most [`MAX_DEMAND_SHOWN`]), facilities, legend, scale bar, north arrow and
/// attribution; [`MAP_WIDTH_PX`] x [`MAP_HEIGHT_PX`] pixels at [`MAP_DPI`] dpi.
///
/// # Errors
/// The writer fails.
pub fn render_map_png(
    a: &Analysis,
    shown: Shown,
    ctx: &ReportContext,
    w: &mut dyn io::Write,
) -> io::Result<()> {
    let mf = MapFrame::of(a);
    let title = match shown {
        Shown::Gap => "Life-circle gaps: share of the people lacking something".to_string(),
        Shown::Coverage(j) => format!("Coverage: {}", label(&a.categories[j])),
    };
    let p = Picture {
        title,
        subtitle: format!(
            "{} walk; {} of {} communities with residents lack at least one category; population {:.0}",
            a.mode,
            a.communities_lacking(),
            a.populated_communities(),
            a.population
        ),
        layers: MapLayers {
            results: &a.community_results,
            shown,
            demand: true,
            outline: 1.0,
            facility_radius: 1.0,
            planned: false,
            overlay: String::new(),
        },
        keys: ("", Vec::new()),
    };
    render_picture(a, &mf, &p, ctx, w)
}

/// Write the map after the planned facilities as PNG: the communities and homes coloured by
/// what they reach once the planned facilities are open, today's facilities, and the planned
/// ones as diamonds (see [`render_map_png`] for the picture). Without planned facilities, the
/// map of today.
///
/// # Errors
/// The writer fails.
pub fn render_planned_map_png(
    a: &Analysis,
    shown: Shown,
    ctx: &ReportContext,
    w: &mut dyn io::Write,
) -> io::Result<()> {
    let Some(sc) = a.scenario.as_deref() else {
        return render_map_png(a, shown, ctx, w);
    };
    // The frame of today's analysis, which already takes in the planned facilities.
    let mf = MapFrame::of(a);
    let view = mf.view();
    let m_per_px = (view[2] / MAP_AREA[2]).max(view[3] / MAP_AREA[3]);
    let after = &sc.after;
    let title = match shown {
        Shown::Gap => {
            "With the planned facilities: share of the people lacking something".to_string()
        }
        Shown::Coverage(j) => format!(
            "With the planned facilities: coverage of {}",
            label(&a.categories[j])
        ),
    };
    let mut overlay = String::new();
    super::planned_symbols(&mut overlay, sc, &mf.frame, 9.0 * m_per_px, shown);
    let p = Picture {
        title,
        subtitle: format!(
            "{} walk; communities with residents lacking at least one category: {} today, {} with the planned (of {})",
            a.mode,
            a.communities_lacking(),
            after.communities_lacking(),
            a.populated_communities()
        ),
        layers: MapLayers {
            results: &after.community_results,
            shown,
            demand: true,
            outline: 1.0,
            facility_radius: 1.0,
            // Drawn by the overlay: the analysis after has no scenario of its own.
            planned: false,
            overlay,
        },
        keys: (
            "Planned",
            vec![(
                "<path d=\"M0 -11L11 0L0 11L-11 0Z\" fill=\"#fff\" stroke=\"#222\" stroke-width=\"2.5\"/>"
                    .to_string(),
                format!("{} (filled in its category's colour)", plural(sc.planned.len(), "planned facility", "planned facilities")),
            )],
        ),
    };
    render_picture(after, &mf, &p, ctx, w)
}

/// `n` and the noun for it: `1 planned facility`, `3 planned facilities`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_and_fits() {
        let lines = wrap(
            "Share of the people who lack at least one category",
            300.0,
            24.0,
        );
        assert_eq!(
            lines.join(" "),
            "Share of the people who lack at least one category"
        );
        assert!(lines.len() >= 2);
        for l in &lines {
            assert!(text_width(l, 24.0) <= 300.0, "{l}");
        }
        assert_eq!(text_width("社区", 10.0), 20.0);
    }
}
