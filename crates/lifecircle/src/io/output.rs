//! Writing the gap map (`communities.geojson`), the residence table (`residences.geojson`),
//! the facilities with their catchments (`facilities.geojson`) and the summary (`summary.json`,
//! `summary.csv`).
//!
//! The files are written as one set ([`OutputSet`]): all to temporary names first, then put in
//! place together, so a failed run leaves the previous set as it was; every file carries the
//! run id (`lifecircle_run`), and the directory is locked while it is written. GeoJSON is
//! RFC 7946 with 7-decimal coordinates and counterclockwise exteriors, from the shared writer
//! ([`crate::io::geojson::write`]); residences are formatted in parallel and written in input
//! order.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
};

use serde::Serialize;

pub(crate) use super::output_crs::OutputCrs;
use crate::{
    analysis::{Analysis, Scenario},
    coords::Crs,
    error::Result,
    geodesy::LonLat,
    html_report::{self, Pictures},
    io::formats::OutputFormat,
    io::geojson::write::{
        push_fixed_real, push_id, push_key, push_point, push_str, Decimals, FeatureCollection,
        OutputSet,
    },
    model::Id,
};

/// The GeoJSON FeatureCollection of an output in the plan's output system: with the legacy
/// `crs` member in a projected system ([`OutputCrs::geojson_urn`]).
pub(super) fn begin_collection<'w>(
    w: &'w mut (dyn Write + Send),
    run: &str,
    out: &OutputCrs<'_>,
) -> io::Result<FeatureCollection<'w>> {
    FeatureCollection::begin_with_crs(w, None, Some(run), out.geojson_urn().as_deref())
}

/// The coordinate system of GeoPackage layers and FlatGeobuf files of `a`'s outputs.
pub(crate) fn output_srs(a: &Analysis) -> super::output_crs::OwnedSrs {
    super::output_crs::output_srs(&a.plan)
}

/// The names of the coordinate columns of tables (`lon`, `lat`; `x_epsg4547`, `y_epsg4547`).
pub(crate) fn coordinate_names(a: &Analysis) -> [String; 2] {
    super::output_crs::coordinate_names(&a.plan)
}

/// Append an id, then `,"name":` and the name or null.
pub(super) fn push_id_and_name(buf: &mut Vec<u8>, id: &Id, name: Option<&str>) {
    push_id(buf, id);
    buf.extend_from_slice(br#","name":"#);
    match name {
        Some(n) => push_str(buf, n),
        None => buf.extend_from_slice(b"null"),
    }
}

/// Append a population or other amount of people or places: up to 3 decimals, always with a
/// decimal point (`120.0`), so that GIS tools type the field Real whatever the values.
pub(super) fn push_amount(buf: &mut Vec<u8>, v: f64) {
    push_fixed_real(buf, v, 3);
}

/// Append a real number at full precision (shortest round-trip form, always with a decimal
/// point so that GIS tools type it Real), or null when it is not finite.
fn push_real(buf: &mut Vec<u8>, v: f64) {
    use std::io::Write as _;
    if !v.is_finite() {
        buf.extend_from_slice(b"null");
        return;
    }
    let start = buf.len();
    let _ = write!(buf, "{v}");
    if !buf[start..].contains(&b'.') {
        buf.extend_from_slice(b".0");
    }
}

/// Append `,"<key>":` and a real number (null when `None` or not finite).
fn push_real_field(buf: &mut Vec<u8>, key: &[u8], v: Option<f64>) {
    buf.push(b',');
    buf.extend_from_slice(key);
    push_real(buf, v.unwrap_or(f64::NAN));
}

/// Per category with capacity results, its index and the keys `<category><suffix>`.
fn capacity_keys(a: &Analysis, suffixes: &[&str]) -> Vec<(usize, Vec<Vec<u8>>)> {
    let stems = field_stems(a);
    a.categories
        .iter()
        .enumerate()
        .filter(|(_, c)| c.capacity.is_some())
        .map(|(j, _)| {
            (
                j,
                suffixes
                    .iter()
                    .map(|s| key(&format!("{}{s}", stems[j])))
                    .collect(),
            )
        })
        .collect()
}

/// Per category, the stem of its field names (`<stem>_m`, `<stem>_coverage`): its name, or,
/// for a name that equals an earlier one but for case (`Bakery` after `bakery`), the name
/// with `_2`, `_3`, ... appended, so that no two fields differ only in case (GDAL and most
/// databases match field names without regard to case).
pub(super) fn field_stems(a: &Analysis) -> Vec<String> {
    let mut seen: Vec<String> = Vec::with_capacity(a.categories.len());
    let mut stems = Vec::with_capacity(a.categories.len());
    for c in &a.categories {
        let mut stem = c.name.clone();
        let mut n = 1;
        while seen.contains(&stem.to_lowercase()) {
            n += 1;
            stem = format!("{}_{n}", c.name);
        }
        seen.push(stem.to_lowercase());
        stems.push(stem);
    }
    stems
}

/// Per category, the keys `<category><first>` and `<category><second>`.
fn key_pairs(a: &Analysis, first: &str, second: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    field_stems(a)
        .iter()
        .map(|stem| {
            (
                key(&format!("{stem}{first}")),
                key(&format!("{stem}{second}")),
            )
        })
        .collect()
}

fn key(name: &str) -> Vec<u8> {
    let mut k = Vec::new();
    push_key(&mut k, name);
    k
}

// ---------------------------------------------------------------------------------------------

/// The file name of the map report in an output set.
pub const REPORT_FILE: &str = "report.html";

/// The files written by [`write_outputs`].
#[derive(Debug, Clone)]
pub struct Written {
    /// The gap map.
    pub communities: PathBuf,
    /// Every demand point with its distances.
    pub residences: PathBuf,
    /// The machine-readable summary.
    pub summary_json: PathBuf,
    /// One row per category.
    pub summary_csv: PathBuf,
    /// The column types of `summary.csv`, for GDAL (its `.csvt` sidecar).
    pub summary_csvt: PathBuf,
    /// Every facility of an analysed category with its catchment.
    pub facilities: PathBuf,
    /// The map report, when one was asked for.
    pub report: Option<PathBuf>,
    /// The PNG maps, when asked for (`map.png` first).
    pub maps: Vec<PathBuf>,
    /// The GeoPackage with every output as a layer (`lifecircle.gpkg`), when asked for.
    pub geopackage: Option<PathBuf>,
    /// The FlatGeobuf files of the gap map, residences and facilities (`communities.fgb`,
    /// `residences.fgb`, `facilities.fgb`), when asked for.
    pub flatgeobuf: Option<[PathBuf; 3]>,
    /// The Excel workbook with the summary and the tables as sheets (`lifecircle.xlsx`), when
    /// asked for.
    pub xlsx: Option<PathBuf>,
    /// Whether the GeoJSON outputs were written (`communities`, `residences`, `facilities`).
    pub geojson: bool,
    /// The service areas as GeoJSON ([`SERVICE_AREAS_FILE`]), when drawn and GeoJSON is
    /// written.
    pub service_areas: Option<PathBuf>,
    /// The service areas as FlatGeobuf (`service_areas.fgb`), when drawn and FlatGeobuf is
    /// written.
    pub service_areas_fgb: Option<PathBuf>,
    /// The run id every file carries (empty from [`in_dir`](Self::in_dir)).
    pub run_id: String,
    /// Temporaries of earlier, killed runs removed from the directory.
    pub removed_stale: usize,
}

impl Written {
    /// The files [`write_outputs`] writes into `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            communities: dir.join("communities.geojson"),
            residences: dir.join("residences.geojson"),
            summary_json: dir.join("summary.json"),
            summary_csv: dir.join("summary.csv"),
            summary_csvt: dir.join("summary.csvt"),
            facilities: dir.join("facilities.geojson"),
            report: None,
            maps: Vec::new(),
            geopackage: None,
            flatgeobuf: None,
            xlsx: None,
            geojson: true,
            service_areas: None,
            service_areas_fgb: None,
            run_id: String::new(),
            removed_stale: 0,
        }
    }

    /// Every path, in the order written.
    pub fn paths(&self) -> [&Path; 6] {
        [
            &self.communities,
            &self.residences,
            &self.summary_csv,
            &self.summary_csvt,
            &self.facilities,
            &self.summary_json,
        ]
    }
}

impl Written {
    /// The files [`write_output_set_as`] writes into `dir` in these formats.
    pub fn in_dir_as(dir: &Path, formats: &[OutputFormat]) -> Self {
        let mut w = Self::in_dir(dir);
        w.geojson = formats.contains(&OutputFormat::GeoJson);
        if formats.contains(&OutputFormat::GeoPackage) {
            w.geopackage = Some(dir.join(GEOPACKAGE_FILE));
        }
        if formats.contains(&OutputFormat::FlatGeobuf) {
            w.flatgeobuf = Some(feature_layers().map(|(name, _)| dir.join(format!("{name}.fgb"))));
        }
        if formats.contains(&OutputFormat::Xlsx) {
            w.xlsx = Some(dir.join(crate::io::formats::XLSX_FILE));
        }
        w
    }

    /// The same, with the service-area files when `drawn` (in the formats asked for).
    pub fn with_service_areas(mut self, drawn: bool) -> Self {
        let dir = self
            .communities
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        self.service_areas = (drawn && self.geojson).then(|| dir.join(SERVICE_AREAS_FILE));
        self.service_areas_fgb =
            (drawn && self.flatgeobuf.is_some()).then(|| dir.join("service_areas.fgb"));
        self
    }

    /// Every path written, in the order written.
    pub fn written_paths(&self) -> Vec<&Path> {
        let mut paths: Vec<&Path> = Vec::new();
        if self.geojson {
            paths.extend([&*self.communities, &*self.residences]);
        }
        paths.extend([&*self.summary_csv, &*self.summary_csvt]);
        if self.geojson {
            paths.push(&self.facilities);
        }
        paths.extend(self.service_areas.as_deref());
        paths.extend(self.flatgeobuf.iter().flatten().map(|p| &**p));
        paths.extend(self.service_areas_fgb.as_deref());
        paths.extend(self.geopackage.as_deref());
        paths.extend(self.xlsx.as_deref());
        paths.push(&self.summary_json);
        paths
    }
}

/// The name of the GeoPackage output.
pub const GEOPACKAGE_FILE: &str = "lifecircle.gpkg";

/// A writer of one feature output as GeoJSON.
pub(crate) type LayerWriter = fn(&Analysis, &str, &mut (dyn Write + Send)) -> std::io::Result<()>;

/// The feature outputs, by the name of their layer (and file), each with its GeoJSON writer,
/// which the writers of the other formats parse back.
pub(crate) fn feature_layers() -> [(&'static str, LayerWriter); 3] {
    [
        ("communities", write_communities),
        ("residences", write_residences),
        ("facilities", write_facilities),
    ]
}

/// [`feature_layers`], and the service areas when `a` has them.
pub(crate) fn feature_layers_of(a: &Analysis) -> Vec<(&'static str, LayerWriter)> {
    let mut layers = feature_layers().to_vec();
    if a.service_areas.is_some() {
        layers.push((SERVICE_AREAS_LAYER, write_service_areas));
    }
    layers
}

/// The layer (and file stem) of the service areas.
pub const SERVICE_AREAS_LAYER: &str = "service_areas";

/// The file name of the service areas as GeoJSON.
pub const SERVICE_AREAS_FILE: &str = "service_areas.geojson";

/// Write the service areas of `a` (nothing but an empty collection when it has none): one
/// MultiPolygon feature per area, with its category (`category`, `walk_m`), the model
/// (`mode`), how many facilities it was drawn from (`facilities`; per facility also
/// `facility_id` and `facility_name`), `area_km2`, whether it contains every covered demand
/// point (`contains_covered`), and how it was drawn (`circle_vertices`, `margin_m`,
/// `width_cap_m`).
///
/// # Errors
/// The writer fails.
pub fn write_service_areas(a: &Analysis, run: &str, w: &mut (dyn Write + Send)) -> io::Result<()> {
    let out = OutputCrs::of(&a.plan);
    let mut fc = begin_collection(w, run, &out)?;
    if let Some(sa) = &a.service_areas {
        for area in &sa.areas {
            let Some(c) = a.categories.get(area.category) else {
                continue;
            };
            let geometry = geo::Geometry::MultiPolygon(area.shape.clone());
            fc.feature(|buf| {
                buf.extend_from_slice(br#"{"type":"Feature","geometry":"#);
                out.push_geometry(buf, &geometry);
                buf.extend_from_slice(br#","properties":{"#);
                if let Some(f) = area.facility.and_then(|f| a.facilities.get(f)) {
                    buf.extend_from_slice(br#""facility_id":"#);
                    push_id(buf, &f.id);
                    buf.extend_from_slice(br#","facility_name":"#);
                    match f.name.as_deref() {
                        Some(n) => push_str(buf, n),
                        None => buf.extend_from_slice(b"null"),
                    }
                    buf.push(b',');
                }
                buf.extend_from_slice(br#""category":"#);
                push_str(buf, &c.name);
                buf.extend_from_slice(br#","walk_m":"#);
                push_fixed_real(buf, c.plan.max_walk_m, 1);
                buf.extend_from_slice(br#","mode":"#);
                push_str(buf, sa.mode);
                buf.extend_from_slice(br#","facilities":"#);
                buf.extend_from_slice(area.facilities.to_string().as_bytes());
                buf.extend_from_slice(br#","area_km2":"#);
                push_fixed_real(buf, area.area_km2, 6);
                buf.extend_from_slice(br#","contains_covered":"#);
                buf.extend_from_slice(if sa.contains_covered {
                    b"true"
                } else {
                    b"false"
                });
                buf.extend_from_slice(br#","circle_vertices":"#);
                buf.extend_from_slice(sa.circle_vertices.to_string().as_bytes());
                push_real_field(buf, br#""margin_m":"#, Some(sa.margin_m));
                push_real_field(buf, br#""width_cap_m":"#, sa.width_cap_m);
                buf.extend_from_slice(b"}}");
            })?;
        }
    }
    fc.end()?;
    out.check()
}

/// Write every output into `dir` (created if missing) as one [`OutputSet`]: the previous
/// set stays in place until every file has been written, and `summary.json` is put in place
/// last. Check first with [`refuse_inputs_as_outputs`](crate::io::refuse_inputs_as_outputs)
/// that no output ([`Written::in_dir`]) is an input.
///
/// # Errors
/// The directory or a file cannot be written; [`Error::OutputLocked`](crate::Error::OutputLocked)
/// while another run writes into `dir`.
pub fn write_outputs(a: &Analysis, dir: &Path) -> Result<Written> {
    write_output_set(a, OutputSet::begin(dir)?)
}

/// [`write_outputs`] into a set begun earlier (a command locks its output directory before it
/// reads the inputs, so that a second run stops at once).
///
/// # Errors
/// A file cannot be written.
pub fn write_output_set(a: &Analysis, set: OutputSet) -> Result<Written> {
    write_output_set_as(a, set, &[OutputFormat::GeoJson])
}

/// [`write_output_set`] in the formats asked for: the GeoJSON outputs, and a GeoPackage with
/// each of them as a layer ([`GEOPACKAGE_FILE`]); the summaries are always written. All of
/// them are put in place together.
///
/// # Errors
/// A file cannot be written.
pub fn write_output_set_as(
    a: &Analysis,
    set: OutputSet,
    formats: &[OutputFormat],
) -> Result<Written> {
    write_output_set_with(a, set, formats, None)
}

/// [`write_output_set_as`], and the pictures asked for in the same set: the map report
/// `report.html` and the PNG maps ([`crate::html_report`]; the context's run id is set to the
/// set's).
///
/// # Errors
/// A file cannot be written.
pub fn write_output_set_with(
    a: &Analysis,
    mut set: OutputSet,
    formats: &[OutputFormat],
    pictures: Option<Pictures>,
) -> Result<Written> {
    let run = set.run_id().to_string();
    let mut written =
        Written::in_dir_as(set.dir(), formats).with_service_areas(a.service_areas.is_some());
    let name = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    // In the order of `Written::paths`, which is the order they are put in place.
    if written.geojson {
        set.write(&name(&written.communities), |w| {
            write_communities(a, &run, w)
        })?;
        set.write(&name(&written.residences), |w| write_residences(a, &run, w))?;
    }
    set.write(&name(&written.summary_csv), |w| {
        write_summary_csv(a, &run, w)
    })?;
    set.write(&name(&written.summary_csvt), |w| {
        write_summary_csvt_of(a, w)
    })?;
    if written.geojson {
        set.write(&name(&written.facilities), |w| write_facilities(a, &run, w))?;
    }
    if let Some(path) = &written.service_areas {
        set.write(&name(path), |w| write_service_areas(a, &run, w))?;
    }
    if let Some(paths) = &written.flatgeobuf {
        let srs = output_srs(a);
        let service_areas = written
            .service_areas_fgb
            .iter()
            .map(|p| (p, (SERVICE_AREAS_LAYER, write_service_areas as LayerWriter)));
        for (path, (layer, write)) in paths.iter().zip(feature_layers()).chain(service_areas) {
            set.write(&name(path), |w| {
                let table = ResidenceTable::new(a);
                if layer == crate::io::formats::RESIDENCES && !table.is_empty() {
                    crate::io::formats::write_fgb_residences(&table, layer, &srs.as_srs(), w)?;
                    return table.out.check();
                }
                let mut geojson = Vec::new();
                write(a, &run, &mut geojson)?;
                crate::io::formats::write_fgb(layer, &geojson, &srs.as_srs(), w)
            })?;
        }
    }
    if written.geopackage.is_some() {
        set.write_by_path(GEOPACKAGE_FILE, |p| {
            crate::io::formats::write_gpkg(a, &run, p)
        })?;
    }
    if written.xlsx.is_some() {
        set.write_by_path(crate::io::formats::XLSX_FILE, |p| {
            crate::io::formats::write_xlsx(a, &run, p, crate::io::formats::EXCEL_MAX_ROWS)
        })?;
    }
    if let Some(mut pictures) = pictures {
        pictures.context.run_id = run.clone();
        let ctx = &pictures.context;
        if pictures.report {
            set.write(REPORT_FILE, |w| html_report::write_html(a, ctx, w))?;
            written.report = Some(set.dir().join(REPORT_FILE));
        }
        for (file, shown) in pictures.maps.map(|m| m.files(a)).unwrap_or_default() {
            set.write(&file, |w| html_report::render_map_png(a, shown, ctx, w))?;
            written.maps.push(set.dir().join(file));
        }
        let planned = pictures.maps.map(|m| m.planned_files(a));
        for (file, shown) in planned.unwrap_or_default() {
            set.write(&file, |w| {
                html_report::render_planned_map_png(a, shown, ctx, w)
            })?;
            written.maps.push(set.dir().join(file));
        }
    }
    set.write(&name(&written.summary_json), |w| {
        serde_json::to_writer_pretty(&mut *w, &summary(a, &run))?;
        w.write_all(b"\n")
    })?;
    written.removed_stale = set.removed_stale();
    set.commit()?;
    written.run_id = run;
    Ok(written)
}

/// The distinct target groups of the categories, in order, each with the first category that
/// counts it.
fn groups_of<'a>(a: &'a Analysis) -> Vec<(&'a str, usize)> {
    let mut out: Vec<(&str, usize)> = Vec::new();
    for (j, c) in a.categories.iter().enumerate() {
        if let Some(g) = c.plan.group.as_deref() {
            if !out.iter().any(|(x, _)| *x == g) {
                out.push((g, j));
            }
        }
    }
    out
}

/// The keys of a community's results in one stage (`suffix` `""` today, `_planned` after
/// the planned facilities).
struct CommunityKeys {
    coverage: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    levels: Vec<(Vec<u8>, Vec<usize>)>,
    capacity: Vec<(usize, Vec<Vec<u8>>)>,
    lacking: Vec<u8>,
    lacking_capacity: Vec<u8>,
    gap_population: Vec<u8>,
    served_all: Vec<u8>,
}

impl CommunityKeys {
    fn new(a: &Analysis, suffix: &str) -> Self {
        let coverage = a
            .categories
            .iter()
            .zip(field_stems(a))
            .map(|(c, stem)| {
                let group_key = c
                    .plan
                    .group
                    .as_ref()
                    .map(|g| key(&format!("{stem}_coverage_{g}{suffix}")));
                (key(&format!("{stem}_coverage{suffix}")), group_key)
            })
            .collect();
        let levels = a
            .levels
            .iter()
            .map(|(l, _)| {
                (
                    key(&format!("lacking_{l}{suffix}")),
                    a.level_categories(l).collect(),
                )
            })
            .collect();
        let capacity = capacity_keys(
            a,
            &[
                &format!("_access{suffix}"),
                &format!("_places_in_reach{suffix}"),
                &format!("_places_needed{suffix}"),
                &format!("_shortfall{suffix}"),
            ],
        );
        let field = |name: &str| {
            let mut k = vec![b','];
            push_key(&mut k, &format!("{name}{suffix}"));
            k
        };
        Self {
            coverage,
            levels,
            capacity,
            lacking: field("lacking"),
            lacking_capacity: field("lacking_capacity"),
            gap_population: field("gap_population"),
            served_all: field("served_all"),
        }
    }

    /// Append community `n`'s results in `a`.
    fn push(&self, buf: &mut Vec<u8>, a: &Analysis, n: usize) {
        let Some(r) = a.community_results.get(n) else {
            return;
        };
        let share = |buf: &mut Vec<u8>, v: Option<f64>| match v {
            Some(v) => push_fixed_real(buf, v, 4),
            None => buf.extend_from_slice(b"null"),
        };
        for (j, (k, group_key)) in self.coverage.iter().enumerate() {
            buf.push(b',');
            buf.extend_from_slice(k);
            share(buf, r.coverage_everyone.get(j).copied().flatten());
            if let Some(gk) = group_key {
                buf.push(b',');
                buf.extend_from_slice(gk);
                share(buf, r.coverage.get(j).copied().flatten());
            }
        }
        buf.extend_from_slice(&self.lacking);
        push_names(buf, a, r.lacking.iter().copied());
        for (k, members) in &self.levels {
            buf.push(b',');
            buf.extend_from_slice(k);
            push_names(
                buf,
                a,
                r.lacking.iter().copied().filter(|j| members.contains(j)),
            );
        }
        for (j, keys) in &self.capacity {
            let Some(cap) = &a.categories[*j].capacity else {
                continue;
            };
            let counted = r.counted.get(*j).copied().unwrap_or(0.0);
            push_real_field(buf, &keys[0], cap.access_of(n, counted));
            push_real_field(buf, &keys[1], cap.places_in_reach.get(n).copied());
            let standard = !cap.places_needed.is_empty();
            push_real_field(buf, &keys[2], cap.places_needed.get(n).copied());
            push_real_field(buf, &keys[3], standard.then(|| cap.shortfall(n)));
        }
        if !self.capacity.is_empty() {
            buf.extend_from_slice(&self.lacking_capacity);
            push_names(buf, a, r.lacking_capacity.iter().copied());
        }
        buf.extend_from_slice(&self.gap_population);
        push_amount(buf, r.gap_population);
        buf.extend_from_slice(&self.served_all);
        let served_all = r.lacking.is_empty() && r.population > 0.0;
        buf.extend_from_slice(if served_all { b"true" } else { b"false" });
    }
}

/// Write the gap map: every community with its coverage per category.
///
/// Properties: `id`, `name`, `population`, `population_input` (when given), `population_<group>`
/// per target group, `<category>_coverage` (share of everyone) and, for a category with a target
/// group, `<category>_coverage_<group>` (share of the group, which `lacking` is judged on),
/// `lacking`, `lacking_<level>` per profile level, `gap_population`, `served_all`. With planned
/// facilities ([`Analysis::scenario`]), every figure of the results again with `_planned`
/// appended, measured with today's and the planned facilities. Geometries are written in
/// `a.plan.coords().output`.
///
/// # Errors
/// The writer fails.
pub fn write_communities(a: &Analysis, run: &str, w: &mut (dyn Write + Send)) -> io::Result<()> {
    let groups: Vec<(Vec<u8>, usize)> = groups_of(a)
        .into_iter()
        .map(|(g, j)| (key(&format!("population_{g}")), j))
        .collect();
    let today = CommunityKeys::new(a, "");
    let planned = a
        .scenario
        .as_deref()
        .map(|s| (&s.after, CommunityKeys::new(&s.after, PLANNED)));
    let out = OutputCrs::of(&a.plan);
    let mut fc = begin_collection(w, run, &out)?;
    for (n, (c, r)) in a.communities.iter().zip(&a.community_results).enumerate() {
        fc.feature(|buf| {
            buf.extend_from_slice(br#"{"type":"Feature","geometry":"#);
            out.push_geometry(buf, &c.geometry);
            buf.extend_from_slice(br#","properties":{"id":"#);
            push_id_and_name(buf, &c.id, c.name.as_deref());
            buf.extend_from_slice(br#","population":"#);
            push_amount(buf, r.population);
            if let Some(p) = c.population {
                buf.extend_from_slice(br#","population_input":"#);
                push_amount(buf, p);
            }
            for (k, j) in &groups {
                buf.push(b',');
                buf.extend_from_slice(k);
                push_amount(buf, r.counted.get(*j).copied().unwrap_or(0.0));
            }
            today.push(buf, a, n);
            if let Some((after, keys)) = &planned {
                keys.push(buf, after, n);
            }
            buf.extend_from_slice(b"}}");
        })?;
    }
    fc.end()?;
    out.check()
}

/// The suffix of every figure measured with the planned facilities.
pub const PLANNED: &str = "_planned";

/// The keys of a facility's results in one stage.
struct FacilityKeys {
    catchment: Vec<(Vec<u8>, Vec<u8>)>,
    capacity: Vec<(usize, Vec<Vec<u8>>)>,
}

impl FacilityKeys {
    fn new(a: &Analysis, suffix: &str) -> Self {
        Self {
            catchment: key_pairs(a, &format!("_catchment{suffix}"), &format!("_load{suffix}")),
            capacity: capacity_keys(
                a,
                &[
                    &format!("_ratio{suffix}"),
                    &format!("_demand_in_reach{suffix}"),
                ],
            ),
        }
    }

    /// Append the results in `a` of a facility with capacity `capacity` at positions `at` in
    /// the categories' facility lists (`None` where it does not offer the category, or is not
    /// one of `a`'s facilities).
    fn push(&self, buf: &mut Vec<u8>, a: &Analysis, capacity: Option<f64>, at: &[Option<usize>]) {
        for (j, (catchment_key, load_key)) in self.catchment.iter().enumerate() {
            let catchment = at[j].map(|k| a.categories[j].catchment.get(k).copied().unwrap_or(0.0));
            buf.push(b',');
            buf.extend_from_slice(catchment_key);
            match catchment {
                Some(v) => push_amount(buf, v),
                None => buf.extend_from_slice(b"null"),
            }
            buf.push(b',');
            buf.extend_from_slice(load_key);
            match (catchment, capacity) {
                (Some(v), Some(cap)) if cap > 0.0 => push_fixed_real(buf, v / cap, 4),
                _ => buf.extend_from_slice(b"null"),
            }
        }
        for (j, keys) in &self.capacity {
            let cap = a.categories[*j].capacity.as_ref();
            let catchments = cap.map(|c| &c.catchments);
            let k = at[*j];
            let ratio = k.and_then(|k| catchments?.ratio.get(k).copied());
            let demand = k.and_then(|k| catchments?.demand_in_reach.get(k).copied());
            push_real_field(buf, &keys[0], ratio);
            push_real_field(buf, &keys[1], demand);
        }
    }
}

/// Per facility of `a` (the first `n`), per category: the position in the category's
/// facility list.
fn positions(a: &Analysis, n: usize) -> Vec<Vec<Option<usize>>> {
    let mut position: Vec<Vec<Option<usize>>> = vec![vec![None; a.categories.len()]; n];
    for (j, c) in a.categories.iter().enumerate() {
        for (k, &i) in c.facilities.iter().enumerate() {
            if let Some(p) = position.get_mut(i as usize) {
                p[j] = Some(k);
            }
        }
    }
    position
}

/// Write every facility of an analysed category, at its location (in
/// `a.plan.coords().output`), with its catchment per category.
///
/// Properties: `id`, `name`, `capacity` (null when not given), `categories` (the analysed
/// categories it offers), and per analysed category `<category>_catchment` (the people the
/// category counts who have this facility as their nearest within the walk; null when it does
/// not offer the category) and `<category>_load` (catchment over capacity; null without a
/// capacity above 0). With planned facilities ([`Analysis::scenario`]) the planned ones are
/// written too, after today's, every facility has `planned` (true for a planned one),
/// `status` and `year` (null for today's), and the figures again with `_planned` appended,
/// measured with today's and the planned facilities (today's figures are null for a planned
/// facility).
///
/// # Errors
/// The writer fails.
pub fn write_facilities(a: &Analysis, run: &str, w: &mut (dyn Write + Send)) -> io::Result<()> {
    let scenario = a.scenario.as_deref();
    let all = scenario.map_or(&a.facilities, |s| &s.after.facilities);
    let today = FacilityKeys::new(a, "");
    let before_at = positions(a, all.len());
    let planned = scenario.map(|s| {
        (
            s,
            FacilityKeys::new(&s.after, PLANNED),
            positions(&s.after, all.len()),
        )
    });
    let out = OutputCrs::of(&a.plan);
    let mut fc = begin_collection(w, run, &out)?;
    for (i, f) in all.iter().enumerate() {
        let at = planned.as_ref().map_or(&before_at[i], |(_, _, p)| &p[i]);
        if at.iter().all(Option::is_none) {
            continue;
        }
        fc.feature(|buf| {
            buf.extend_from_slice(br#"{"type":"Feature","geometry":"#);
            out.push_point(buf, f.at);
            buf.extend_from_slice(br#","properties":{"id":"#);
            push_id_and_name(buf, &f.id, f.name.as_deref());
            buf.extend_from_slice(br#","capacity":"#);
            match f.capacity {
                Some(c) => push_amount(buf, c),
                None => buf.extend_from_slice(b"null"),
            }
            buf.extend_from_slice(br#","categories":"#);
            push_names(buf, a, (0..a.categories.len()).filter(|&j| at[j].is_some()));
            if let Some((s, _, _)) = &planned {
                let (status, year) = s.planned_of(i).unwrap_or((None, None));
                buf.extend_from_slice(br#","planned":"#);
                buf.extend_from_slice(if s.is_planned(i) { b"true" } else { b"false" });
                buf.extend_from_slice(br#","status":"#);
                match status {
                    Some(t) => push_str(buf, t),
                    None => buf.extend_from_slice(b"null"),
                }
                buf.extend_from_slice(br#","year":"#);
                match year {
                    Some(y) => buf.extend_from_slice(y.to_string().as_bytes()),
                    None => buf.extend_from_slice(b"null"),
                }
            }
            today.push(buf, a, f.capacity, &before_at[i]);
            if let Some((s, keys, after_at)) = &planned {
                keys.push(buf, &s.after, f.capacity, &after_at[i]);
            }
            buf.extend_from_slice(b"}}");
        })?;
    }
    fc.end()?;
    out.check()
}

/// Append a JSON array of category names.
fn push_names(buf: &mut Vec<u8>, a: &Analysis, categories: impl Iterator<Item = usize>) {
    buf.push(b'[');
    for (k, j) in categories.enumerate() {
        if k > 0 {
            buf.push(b',');
        }
        push_str(buf, &a.categories[j].name);
    }
    buf.push(b']');
}

/// A field of the residence table: its name and its JSON key (`"name":`).
pub(crate) struct Field {
    /// The name.
    pub name: String,
    json: Vec<u8>,
}

impl Field {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            json: key(name),
        }
    }
}

/// One value of the residence table, as the GeoJSON writer writes it.
#[derive(Clone, Copy)]
pub(crate) enum Cell<'v> {
    /// `null`.
    Null,
    /// An id, with its JSON encoding when encoded ahead (numbers as numbers, text as strings).
    Id(&'v Id, Option<&'v [u8]>),
    /// A number written with at most the given decimals and always a decimal point
    /// ([`push_fixed_real`]); null when not finite.
    Fixed(f64, u32),
    /// A number at full precision (shortest round-trip form with a decimal point); null when
    /// `None` or not finite.
    Real(Option<f64>),
    /// `true` or `false`.
    Bool(bool),
}

/// A receiver of the residence table, one row at a time: the GeoJSON writer, and the typed
/// rows of the GeoPackage and FlatGeobuf writers. Every row has the same fields in the same
/// order (null where there is no value), which is what makes [`ResidenceTable::visit`] the one
/// column list of every format.
pub(crate) trait Row {
    /// The row's position (in the output coordinate system; `None` when it cannot be
    /// converted, which [`OutputCrs::check`] then reports); called first.
    fn point(&mut self, at: Option<LonLat>);
    /// The next field's value.
    fn cell(&mut self, field: &Field, cell: Cell<'_>);
    /// The next field's value: a JSON list of the strings `names[j]` (each encoded) for `j`
    /// in `which`.
    fn names(&mut self, field: &Field, names: &[Vec<u8>], which: impl Iterator<Item = usize>);
}

/// The fields of a demand point's results in one stage.
struct ResidenceKeys {
    distance_id: Vec<(Field, Field)>,
    capacity: Vec<(usize, Field)>,
    missing: Field,
}

impl ResidenceKeys {
    fn new(a: &Analysis, suffix: &str) -> Self {
        let stems = field_stems(a);
        Self {
            distance_id: stems
                .iter()
                .map(|stem| {
                    (
                        Field::new(&format!("{stem}_m{suffix}")),
                        Field::new(&format!("{stem}_id{suffix}")),
                    )
                })
                .collect(),
            capacity: a
                .categories
                .iter()
                .enumerate()
                .filter(|(_, c)| c.capacity.is_some())
                .map(|(j, _)| (j, Field::new(&format!("{}_access{suffix}", stems[j]))))
                .collect(),
            missing: Field::new(&format!("missing{suffix}")),
        }
    }

    /// Visit demand point `k`'s distances, nearest facilities and access in `a`.
    fn distances(&self, row: &mut impl Row, a: &Analysis, ids: &Ids<'_>, k: usize) {
        for (cat, (km, kid)) in a.categories.iter().zip(&self.distance_id) {
            match cat.facility_of(k) {
                Some(f) => {
                    row.cell(km, Cell::Fixed(f64::from(cat.reach[k].distance_m), 1));
                    row.cell(kid, ids.facility(f));
                }
                None => {
                    row.cell(km, Cell::Null);
                    row.cell(kid, Cell::Null);
                }
            }
        }
        for (j, field) in &self.capacity {
            let access = a.categories[*j]
                .capacity
                .as_ref()
                .and_then(|c| c.catchments.access.get(k).copied());
            row.cell(field, Cell::Real(access));
        }
    }
}

/// The ids of the facilities and communities, encoded once (they are written millions of
/// times).
struct Ids<'a> {
    facilities: &'a [crate::model::Facility],
    facility_json: Vec<Vec<u8>>,
    communities: &'a [crate::model::Community],
    community_json: Vec<Vec<u8>>,
}

impl Ids<'_> {
    fn facility(&self, f: usize) -> Cell<'_> {
        match (self.facilities.get(f), self.facility_json.get(f)) {
            (Some(x), Some(json)) => Cell::Id(&x.id, Some(json)),
            _ => Cell::Null,
        }
    }

    fn community(&self, c: usize) -> Cell<'_> {
        match (self.communities.get(c), self.community_json.get(c)) {
            (Some(x), Some(json)) => Cell::Id(&x.id, Some(json)),
            _ => Cell::Null,
        }
    }
}

/// The residence table of an analysis: every demand point with, per category, the distance to
/// and id of its nearest facility, and the categories it lacks; the one list of its fields
/// for every output format.
pub(crate) struct ResidenceTable<'a, 'd> {
    a: &'a Analysis<'d>,
    names: Vec<Vec<u8>>,
    ids: Ids<'a>,
    network: bool,
    id: Field,
    community: Field,
    population: Field,
    off_network: Field,
    today: ResidenceKeys,
    planned: Option<(&'a Analysis<'d>, ResidenceKeys)>,
    /// The output coordinate system the positions are converted to.
    pub(crate) out: OutputCrs<'a>,
}

impl<'a, 'd> ResidenceTable<'a, 'd> {
    pub(crate) fn new(a: &'a Analysis<'d>) -> Self {
        let names = a
            .categories
            .iter()
            .map(|c| {
                let mut b = Vec::new();
                push_str(&mut b, &c.name);
                b
            })
            .collect();
        let encode = |id: &Id| {
            let mut b = Vec::new();
            push_id(&mut b, id);
            b
        };
        let scenario = a.scenario.as_deref();
        let all = scenario.map_or(&a.facilities, |s| &s.after.facilities);
        Self {
            a,
            names,
            ids: Ids {
                facilities: all,
                facility_json: all.iter().map(|f| encode(&f.id)).collect(),
                communities: &a.communities,
                community_json: a.communities.iter().map(|c| encode(&c.id)).collect(),
            },
            network: !a.unplaced.is_empty(),
            id: Field::new("id"),
            community: Field::new("community"),
            population: Field::new("population"),
            off_network: Field::new("off_network"),
            today: ResidenceKeys::new(a, ""),
            planned: scenario.map(|s| (&s.after, ResidenceKeys::new(&s.after, PLANNED))),
            out: OutputCrs::of(&a.plan),
        }
    }

    /// The number of rows (demand points).
    pub(crate) fn len(&self) -> usize {
        self.a.demand.len()
    }

    /// Whether there are no rows.
    pub(crate) fn is_empty(&self) -> bool {
        self.a.demand.is_empty()
    }

    /// Visit row `k`: its position, then every field in order.
    pub(crate) fn visit(&self, k: usize, row: &mut impl Row) {
        let a = self.a;
        let r = &a.demand[k];
        row.point(self.out.position(r.at));
        row.cell(&self.id, Cell::Id(&r.id, None));
        row.cell(
            &self.community,
            self.ids.community(a.demand_community[k] as usize),
        );
        row.cell(&self.population, Cell::Fixed(r.population, 3));
        self.today.distances(row, a, &self.ids, k);
        if let Some((after, keys)) = &self.planned {
            keys.distances(row, after, &self.ids, k);
        }
        if self.network {
            row.cell(&self.off_network, Cell::Bool(a.unplaced[k]));
        }
        row.names(&self.today.missing, &self.names, a.missing(k));
        if let Some((after, keys)) = &self.planned {
            row.names(&keys.missing, &self.names, after.missing(k));
        }
    }
}

/// A residence row formatted as a GeoJSON feature.
struct JsonRow<'b> {
    buf: &'b mut Vec<u8>,
    first: bool,
    decimals: Decimals,
}

impl JsonRow<'_> {
    fn key(&mut self, field: &Field) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        self.buf.extend_from_slice(&field.json);
    }
}

impl Row for JsonRow<'_> {
    fn point(&mut self, at: Option<LonLat>) {
        self.buf
            .extend_from_slice(br#"{"type":"Feature","geometry":"#);
        match at {
            Some(at) => push_point(self.buf, at, self.decimals),
            None => self.buf.extend_from_slice(b"null"),
        }
        self.buf.extend_from_slice(br#","properties":{"#);
        self.first = true;
    }

    fn cell(&mut self, field: &Field, cell: Cell<'_>) {
        self.key(field);
        push_cell(self.buf, cell);
    }

    fn names(&mut self, field: &Field, names: &[Vec<u8>], which: impl Iterator<Item = usize>) {
        self.key(field);
        push_name_list(self.buf, names, which);
    }
}

/// Append a value as the GeoJSON writer writes it.
pub(crate) fn push_cell(buf: &mut Vec<u8>, cell: Cell<'_>) {
    match cell {
        Cell::Null => buf.extend_from_slice(b"null"),
        Cell::Id(_, Some(json)) => buf.extend_from_slice(json),
        Cell::Id(id, None) => push_id(buf, id),
        Cell::Fixed(v, decimals) => push_fixed_real(buf, v, decimals),
        Cell::Real(v) => push_real(buf, v.unwrap_or(f64::NAN)),
        Cell::Bool(b) => buf.extend_from_slice(if b { b"true" } else { b"false" }),
    }
}

/// Append a JSON list of the encoded strings `names[j]` for `j` in `which`.
pub(crate) fn push_name_list(
    buf: &mut Vec<u8>,
    names: &[Vec<u8>],
    which: impl Iterator<Item = usize>,
) {
    buf.push(b'[');
    for (n, j) in which.enumerate() {
        if n > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(&names[j]);
    }
    buf.push(b']');
}

/// Write every demand point with, per category, the distance to and id of its nearest facility
/// (positions in `a.plan.coords().output`), and the categories it lacks (`missing`). With
/// planned facilities ([`Analysis::scenario`]), the same again with `_planned` appended,
/// measured with today's and the planned facilities.
///
/// # Errors
/// The writer fails.
pub fn write_residences(a: &Analysis, run: &str, w: &mut (dyn Write + Send)) -> io::Result<()> {
    let table = ResidenceTable::new(a);
    let decimals = table.out.decimals();
    let format_one = |buf: &mut Vec<u8>, k: usize| {
        let mut row = JsonRow {
            buf: &mut *buf,
            first: true,
            decimals,
        };
        table.visit(k, &mut row);
        buf.extend_from_slice(b"}}");
    };
    let mut fc = begin_collection(w, run, &table.out)?;
    fc.features_par(table.len(), format_one)?;
    fc.end()?;
    table.out.check()
}

// ---------------------------------------------------------------------------------------------
// The summary.

/// One category in `summary.json`.
#[derive(Debug, Serialize)]
pub struct CategorySummary {
    /// Chinese display name.
    pub name_zh: String,
    /// English display name.
    pub name_en: String,
    /// The profile level the category belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// True for a category found in the data but not listed by the profile (the "X").
    pub extra: bool,
    /// Which people the figures count: a target group's property name, or `population`.
    pub counts: String,
    /// The people counted (the group's total; see `group_defaulted`).
    pub counted_population: f64,
    /// Demand points without a count for the group, counted with their whole population
    /// (categories with a group only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_defaulted: Option<usize>,
    /// Maximum walk, metres.
    pub max_walk_m: f64,
    /// Walking speed that turned minutes into metres, m/s.
    pub walk_speed_m_per_s: f64,
    /// Target share, percent.
    pub target_percent: f64,
    /// Facilities offering the category.
    pub facilities: usize,
    /// Counted people with one within the walk.
    pub covered_population: f64,
    /// Share of the counted people covered, 0..1.
    pub coverage: f64,
    /// Share of everyone covered, 0..1 (categories with a group only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage_everyone: Option<f64>,
    /// Communities below target.
    pub communities_lacking: usize,
    /// Sum of the `capacity` of its facilities that have one; null when none has.
    pub capacity: Option<f64>,
    /// Facilities with a capacity whose catchment (see `facilities.geojson`) exceeds it.
    pub facilities_over_capacity: usize,
    /// Capacity within reach (2SFCA / E2SFCA), for a category whose facilities give a capacity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessSummary>,
}

/// A category's capacity within reach, in `summary.json`.
#[derive(Debug, Serialize)]
pub struct AccessSummary {
    /// `2SFCA` or `E2SFCA`.
    pub method: &'static str,
    /// The facility property read for the capacity (`capacity` unless the profile names one).
    pub capacity_field: Option<String>,
    /// Total capacity of the category's facilities that give one.
    pub capacity: f64,
    /// Facilities of the category without a capacity (they take no part).
    pub facilities_without_capacity: usize,
    /// Weighted counted people within the walk of the facilities (step 1, summed).
    pub demand_in_reach: f64,
    /// (Demand point, facility) pairs within the walk.
    pub pairs: usize,
    /// Places within reach of the counted people, city-wide.
    pub places_in_reach: f64,
    /// Places per counted person, city-wide (null when nobody is counted).
    pub access: Option<f64>,
    /// The standard: places per `per` people, if the profile gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard: Option<StandardSummary>,
}

/// A provision standard, in `summary.json`.
#[derive(Debug, Serialize)]
pub struct StandardSummary {
    /// Places asked for per `per` people.
    pub places: f64,
    /// People the places are for.
    pub per: f64,
    /// Where the numbers come from.
    pub source: Option<String>,
    /// Places the standard asks for, summed over the communities.
    pub places_needed: f64,
    /// Places short, summed over the communities short of places.
    pub shortfall: f64,
    /// Communities short of places.
    pub communities_short: usize,
}

/// One walking level in `summary.json`.
#[derive(Debug, Serialize)]
pub struct LevelSummary {
    /// The level's walk as the profile gives it (`300m`, `15min`).
    pub walk: String,
    /// The analysed categories at this level.
    pub categories: Vec<String>,
}

/// The profile used, in `summary.json`.
#[derive(Debug, Serialize)]
pub struct ProfileSummary {
    /// The profile's name.
    pub name: String,
    /// Where it came from (`built-in profile 'NAME'` or the file).
    pub origin: String,
}

/// The coordinate systems used, in `summary.json`: each input's as read (`wgs84`, `gcj02`,
/// `bd09`, or `EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E)` for a file in a projected
/// system, converted to WGS84 when read) and the outputs'.
#[derive(Debug, Serialize)]
pub struct CoordsSummary {
    /// The facilities file.
    pub facilities: String,
    /// The residences file (when given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residences: Option<String>,
    /// The communities file (when given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communities: Option<String>,
    /// The street network (network mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// The geometries written (and the coordinate columns of `lifecircle.xlsx`).
    pub output: String,
    /// The system every distance was measured in.
    pub measured_in: &'static str,
}

/// The coordinate systems of `a`'s inputs as read and of its outputs.
pub(crate) fn coords_summary(a: &Analysis) -> CoordsSummary {
    let c = a.plan.coords();
    let named = a.plan.input_systems();
    let name =
        |given: &Option<String>, crs: Crs| given.clone().unwrap_or_else(|| crs.name().to_string());
    CoordsSummary {
        facilities: name(&named.facilities, c.facilities),
        residences: (!a.demand_is_communities).then(|| name(&named.residences, c.residences)),
        communities: a
            .communities_given
            .then(|| name(&named.communities, c.communities)),
        network: (!a.unplaced.is_empty()).then(|| name(&named.network, c.network)),
        output: super::output_crs::describe_output(&a.plan),
        measured_in: Crs::Wgs84.name(),
    }
}

/// A map that keeps its order when serialized.
#[derive(Debug)]
pub struct Ordered<T>(pub Vec<(String, T)>);

impl<T: Serialize> Serialize for Ordered<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// The content of `summary.json`.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The run id, which every file of the run carries (the `lifecircle_run` member of each
    /// GeoJSON file, the `run` column of `summary.csv`).
    pub run: String,
    /// `straight-line` or `network`.
    pub mode: &'static str,
    /// The planning profile.
    pub profile: ProfileSummary,
    /// Coordinate systems of the inputs and outputs.
    pub coords: CoordsSummary,
    /// The walking reach, metres, when every category has the same (else null: see each
    /// category's `max_walk_m`).
    pub max_walk_m: Option<f64>,
    /// Target share of a community's population, percent, when every category has the same.
    pub target_percent: Option<f64>,
    /// What the demand points are: `residences` or `communities`.
    pub demand: &'static str,
    /// Demand points.
    pub demand_points: usize,
    /// Total population of the demand points.
    pub population: f64,
    /// Features skipped as unusable, in all inputs.
    pub skipped_features: usize,
    /// Residences with no population property, counted as 1 person each.
    pub population_defaulted: usize,
    /// Demand points in no community.
    pub unassigned_residences: usize,
    /// Their population.
    pub unassigned_population: f64,
    /// Demand points off the walking network (network mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub off_network_residences: Option<usize>,
    /// Their population (network mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub off_network_population: Option<f64>,
    /// Communities analysed.
    pub communities: usize,
    /// Communities with people in them; only these are judged (`communities_lacking`).
    pub communities_with_population: usize,
    /// Communities without people: not judged.
    pub communities_without_population: usize,
    /// The profile's walking levels, nearest first, with their categories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels: Option<Ordered<LevelSummary>>,
    /// Per category.
    pub categories: Ordered<CategorySummary>,
    /// Ids of the communities lacking at least one category.
    pub communities_lacking: Vec<serde_json::Value>,
    /// Inputs that are probably a mistake (implausible counts, coordinates far from the
    /// facilities, most people in no community), as sentences.
    pub warnings: Vec<String>,
    /// With planned facilities: before, after and the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned: Option<PlannedSummary>,
    /// The service areas, when drawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_areas: Option<ServiceAreasSummary>,
}

/// The service areas in `summary.json`.
#[derive(Debug, Serialize)]
pub struct ServiceAreasSummary {
    /// `straight_line` or `network`.
    pub method: &'static str,
    /// `dissolved` or `per_facility`.
    pub areas: &'static str,
    /// Whether every covered demand point lies in its category's area.
    pub contains_covered: bool,
    /// The margin added to every radius, metres.
    pub margin_m: f64,
    /// Vertices to a full circle.
    pub circle_vertices: usize,
    /// The width cap of street buffers, metres (network only).
    pub width_cap_m: Option<f64>,
    /// Per category.
    pub categories: Ordered<CategoryAreaSummary>,
}

/// One category's dissolved service area in `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryAreaSummary {
    /// The area, km².
    pub area_km2: f64,
    /// The facilities it was drawn from.
    pub facilities: usize,
    /// Demand points that are not covered but lie in the area.
    pub uncovered_inside: usize,
    /// Their population (everyone).
    pub uncovered_inside_population: f64,
    /// The people among them the category counts (its target group, as for coverage).
    pub uncovered_inside_counted: f64,
}

/// The service-area block of `summary.json`.
fn service_areas_summary(a: &Analysis) -> Option<ServiceAreasSummary> {
    let sa = a.service_areas.as_ref()?;
    Some(ServiceAreasSummary {
        method: sa.mode,
        areas: match sa.kind {
            crate::service_area::AreaKind::Dissolved => "dissolved",
            crate::service_area::AreaKind::PerFacility => "per_facility",
        },
        contains_covered: sa.contains_covered,
        margin_m: sa.margin_m,
        circle_vertices: sa.circle_vertices,
        width_cap_m: sa.width_cap_m,
        categories: Ordered(
            sa.categories
                .iter()
                .filter_map(|c| {
                    Some((
                        a.categories.get(c.category)?.name.clone(),
                        CategoryAreaSummary {
                            area_km2: round(c.area_km2, 4),
                            facilities: c.facilities,
                            uncovered_inside: c.uncovered_inside,
                            uncovered_inside_population: round(c.uncovered_inside_population, 3),
                            uncovered_inside_counted: round(c.uncovered_inside_counted, 3),
                        },
                    ))
                })
                .collect(),
        ),
    })
}

fn id_value(id: &Id) -> serde_json::Value {
    match id {
        Id::Num(n) => (*n).into(),
        Id::Text(s) => s.as_str().into(),
    }
}

/// Round to `decimals` for the summary (full precision adds nothing for a planner).
fn round(v: f64, decimals: i32) -> f64 {
    let s = 10f64.powi(decimals);
    (v * s).round() / s
}

/// The summary of an analysis, for the run `run`.
pub fn summary(a: &Analysis, run: &str) -> Summary {
    let (unassigned_residences, unassigned_population) = a.unassigned();
    let network = !a.unplaced.is_empty();
    let (off_n, off_p) = a.off_network();
    Summary {
        run: run.to_string(),
        mode: a.mode,
        profile: ProfileSummary {
            name: a.plan.profile().name.clone(),
            origin: a.plan.profile().origin.clone(),
        },
        coords: coords_summary(a),
        max_walk_m: a.shared_max_walk_m().map(|m| round(m, 3)),
        target_percent: a.shared_target_percent().map(|t| round(t, 6)),
        demand: if a.demand_is_communities {
            "communities"
        } else {
            "residences"
        },
        demand_points: a.demand.len(),
        population: round(a.population, 3),
        skipped_features: a.skipped.len(),
        population_defaulted: a.population_defaulted,
        unassigned_residences,
        unassigned_population: round(unassigned_population, 3),
        off_network_residences: network.then_some(off_n),
        off_network_population: network.then_some(round(off_p, 3)),
        communities: a.communities.len(),
        communities_with_population: a.populated_communities(),
        communities_without_population: a.communities.len() - a.populated_communities(),
        levels: (!a.levels.is_empty()).then(|| {
            Ordered(
                a.levels
                    .iter()
                    .map(|(l, walk)| {
                        let categories = a
                            .level_categories(l)
                            .map(|j| a.categories[j].name.clone())
                            .collect();
                        let walk = walk.to_string();
                        (l.clone(), LevelSummary { walk, categories })
                    })
                    .collect(),
            )
        }),
        categories: Ordered(
            a.categories
                .iter()
                .map(|c| {
                    let grouped = c.plan.group.is_some();
                    let capacity = c.capacity(&a.facilities);
                    (
                        c.name.clone(),
                        CategorySummary {
                            name_zh: c.plan.name_zh.clone(),
                            name_en: c.plan.name_en.clone(),
                            level: c.plan.level.clone(),
                            extra: c.plan.extra,
                            counts: c.plan.counts().to_string(),
                            counted_population: round(c.counted_population, 3),
                            group_defaulted: grouped.then_some(c.group_defaulted),
                            max_walk_m: round(c.plan.max_walk_m, 3),
                            walk_speed_m_per_s: round(c.plan.walk_speed_m_per_s, 6),
                            target_percent: round(c.plan.target_percent, 6),
                            facilities: c.facilities.len(),
                            covered_population: round(c.covered_population, 3),
                            coverage: round(c.coverage, 6),
                            coverage_everyone: grouped.then(|| round(c.coverage_everyone, 6)),
                            communities_lacking: c.communities_lacking,
                            capacity: capacity.map(|(total, _)| round(total, 3)),
                            facilities_over_capacity: capacity.map_or(0, |(_, over)| over),
                            access: access_summary(a, c),
                        },
                    )
                })
                .collect(),
        ),
        communities_lacking: a
            .communities
            .iter()
            .zip(&a.community_results)
            .filter(|(_, r)| !r.lacking.is_empty())
            .map(|(c, _)| id_value(&c.id))
            .collect(),
        warnings: a.warnings.iter().map(|w| w.to_string()).collect(),
        planned: a.scenario.as_deref().map(|s| planned_summary(a, s)),
        service_areas: service_areas_summary(a),
    }
}

/// The planned facilities' part of `summary.json`.
fn planned_summary(a: &Analysis, s: &Scenario) -> PlannedSummary {
    let names =
        |r: &[usize]| -> Vec<String> { r.iter().map(|&j| a.categories[j].name.clone()).collect() };
    PlannedSummary {
        file: s.file.clone(),
        facilities: s.planned.len(),
        categories: Ordered(
            s.changes(a)
                .into_iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        CategoryChangeSummary {
                            planned_facilities: c.planned,
                            covered_population_before: round(c.covered_before, 3),
                            covered_population_after: round(c.covered_after, 3),
                            covered_population_change: round(c.covered_after - c.covered_before, 3),
                            coverage_before: round(c.coverage_before, 6),
                            coverage_after: round(c.coverage_after, 6),
                            coverage_change: round(c.coverage_after - c.coverage_before, 6),
                            communities_lacking_before: c.communities_lacking_before,
                            communities_lacking_after: c.communities_lacking_after,
                        },
                    )
                })
                .collect(),
        ),
        communities_lacking_before: a.communities_lacking(),
        communities_lacking_after: s.after.communities_lacking(),
        communities_changed: s.changed_communities.len(),
        changed: s
            .changed_communities
            .iter()
            .map(|&n| CommunityChangeSummary {
                id: id_value(&a.communities[n].id),
                name: a.communities[n].name.as_deref().map(str::to_string),
                lacking_before: names(&a.community_results[n].lacking),
                lacking_after: names(&s.after.community_results[n].lacking),
                gap_population_before: round(a.community_results[n].gap_population, 3),
                gap_population_after: round(s.after.community_results[n].gap_population, 3),
            })
            .collect(),
        communities_lacking_after_ids: s
            .after
            .communities
            .iter()
            .zip(&s.after.community_results)
            .filter(|(_, r)| !r.lacking.is_empty())
            .map(|(c, _)| id_value(&c.id))
            .collect(),
    }
}

/// The planned facilities in `summary.json`: before (today's facilities), after (with the
/// planned ones) and the change, per category and for the communities.
#[derive(Debug, Serialize)]
pub struct PlannedSummary {
    /// The planned facilities' file.
    pub file: String,
    /// Planned facilities analysed.
    pub facilities: usize,
    /// Per category, before and after.
    pub categories: Ordered<CategoryChangeSummary>,
    /// Communities lacking at least one category, today.
    pub communities_lacking_before: usize,
    /// The same with the planned facilities.
    pub communities_lacking_after: usize,
    /// Communities whose lacking categories change.
    pub communities_changed: usize,
    /// Those communities, in input order.
    pub changed: Vec<CommunityChangeSummary>,
    /// Ids of the communities lacking at least one category with the planned facilities.
    pub communities_lacking_after_ids: Vec<serde_json::Value>,
}

/// One category in [`PlannedSummary`].
#[derive(Debug, Serialize)]
pub struct CategoryChangeSummary {
    /// Planned facilities that offer it (0: its figures do not change).
    pub planned_facilities: usize,
    /// The people it counts within reach, today.
    pub covered_population_before: f64,
    /// The same with the planned facilities.
    pub covered_population_after: f64,
    /// After minus before.
    pub covered_population_change: f64,
    /// Share of the people it counts within reach (0 to 1), today.
    pub coverage_before: f64,
    /// The same with the planned facilities.
    pub coverage_after: f64,
    /// After minus before.
    pub coverage_change: f64,
    /// Communities below target, today.
    pub communities_lacking_before: usize,
    /// The same with the planned facilities.
    pub communities_lacking_after: usize,
}

/// One community whose lacking categories change, in [`PlannedSummary`].
#[derive(Debug, Serialize)]
pub struct CommunityChangeSummary {
    /// Its id.
    pub id: serde_json::Value,
    /// Its name.
    pub name: Option<String>,
    /// The categories it lacks today.
    pub lacking_before: Vec<String>,
    /// The categories it lacks with the planned facilities.
    pub lacking_after: Vec<String>,
    /// People lacking at least one category, today.
    pub gap_population_before: f64,
    /// The same with the planned facilities.
    pub gap_population_after: f64,
}

fn access_summary(a: &Analysis, c: &crate::CategoryResult) -> Option<AccessSummary> {
    let cap = c.capacity.as_ref()?;
    let communities = a.community_results.len();
    Some(AccessSummary {
        method: c.plan.weighting.method(),
        capacity_field: c.plan.capacity_field.clone(),
        capacity: round(cap.total_capacity, 3),
        facilities_without_capacity: cap.without_capacity,
        demand_in_reach: round(cap.demand_in_reach, 3),
        pairs: cap.pairs,
        places_in_reach: round(cap.city_places_in_reach, 3),
        access: cap.city_access(c.counted_population).map(|v| round(v, 9)),
        standard: c.plan.standard.as_ref().map(|st| StandardSummary {
            places: st.places,
            per: st.per,
            source: st.source.clone(),
            places_needed: round(cap.places_needed.iter().sum(), 3),
            shortfall: round((0..communities).map(|n| cap.shortfall(n)).sum(), 3),
            communities_short: (0..communities).filter(|&n| cap.lacks(n)).count(),
        }),
    })
}

/// A CSV field, quoted when it needs to be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The columns of `summary.csv` and their GDAL types (`summary.csvt`), in order.
const SUMMARY_COLUMNS: [(&str, &str); 21] = [
    ("category", "String"),
    ("facilities", "Integer"),
    ("population", "Real"),
    ("covered_population", "Real"),
    ("coverage", "Real"),
    ("communities_lacking", "Integer"),
    ("communities", "Integer"),
    ("max_walk_m", "Real"),
    ("mode", "String"),
    ("counts", "String"),
    ("target_percent", "Real"),
    ("walk_speed_m_per_s", "Real"),
    ("level", "String"),
    ("access_method", "String"),
    ("capacity", "Real"),
    ("demand_in_reach", "Real"),
    ("access", "Real"),
    ("places_needed", "Real"),
    ("shortfall", "Real"),
    ("communities_short", "Integer"),
    ("run", "String"),
];

/// A number for a CSV cell, empty when absent.
fn csv_number(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// Write `summary.csvt`, the column types of `summary.csv` as GDAL's CSV driver reads them
/// (one line, `"String","Integer",...`).
///
/// # Errors
/// The writer fails.
pub fn write_summary_csvt(w: &mut dyn Write) -> io::Result<()> {
    write_csvt(&SUMMARY_COLUMNS, w)
}

/// [`write_summary_csvt`] for the `summary.csv` of `a`: with planned facilities
/// ([`Analysis::scenario`]), the types of the columns they add too.
///
/// # Errors
/// The writer fails.
pub fn write_summary_csvt_of(a: &Analysis, w: &mut dyn Write) -> io::Result<()> {
    write_csvt(&summary_columns(a), w)
}

/// The columns of `a`'s `summary.csv`, in order, with their GDAL types.
pub(crate) fn summary_columns(a: &Analysis) -> Vec<(&'static str, &'static str)> {
    let mut columns = SUMMARY_COLUMNS.to_vec();
    if a.scenario.is_some() {
        columns.extend(PLANNED_COLUMNS);
    }
    columns
}

fn write_csvt(columns: &[(&str, &str)], w: &mut dyn Write) -> io::Result<()> {
    let types: Vec<String> = columns.iter().map(|(_, t)| format!("\"{t}\"")).collect();
    writeln!(w, "{}", types.join(","))
}

/// Write `summary.csv`: one row per category, each with the run id `run`. `population` is the
/// people the category counts (see `counts`). The capacity columns (`access_method` to
/// `communities_short`) are empty for a category whose facilities give no capacity, and the
/// standard's (`places_needed`, `shortfall`, `communities_short`) without a standard. The column types are in `summary.csvt`
/// ([`write_summary_csvt`]).
///
/// # Errors
/// The writer fails.
pub fn write_summary_csv(a: &Analysis, run: &str, w: &mut dyn Write) -> io::Result<()> {
    let scenario = a.scenario.as_deref();
    let header: Vec<&str> = summary_columns(a).iter().map(|(name, _)| *name).collect();
    writeln!(w, "{}", header.join(","))?;
    for (j, c) in a.categories.iter().enumerate() {
        let access = access_summary(a, c);
        let access = access.as_ref();
        let standard = access.and_then(|s| s.standard.as_ref());
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}{}",
            csv_field(&c.name),
            c.facilities.len(),
            round(c.counted_population, 3),
            round(c.covered_population, 3),
            round(c.coverage, 6),
            c.communities_lacking,
            a.communities.len(),
            round(c.plan.max_walk_m, 3),
            a.mode,
            csv_field(c.plan.counts()),
            round(c.plan.target_percent, 6),
            round(c.plan.walk_speed_m_per_s, 6),
            csv_field(c.plan.level.as_deref().unwrap_or("")),
            access.map_or("", |s| s.method),
            csv_number(access.map(|s| s.capacity)),
            csv_number(access.map(|s| s.demand_in_reach)),
            csv_number(access.and_then(|s| s.access)),
            csv_number(standard.map(|s| s.places_needed)),
            csv_number(standard.map(|s| s.shortfall)),
            standard.map_or_else(String::new, |s| s.communities_short.to_string()),
            csv_field(run),
            scenario.map_or_else(String::new, |s| {
                let after = &s.after.categories[j];
                format!(
                    ",{},{},{},{},{},{},{}",
                    s.planned_per_category[j],
                    after.facilities.len(),
                    round(after.covered_population, 3),
                    round(after.coverage, 6),
                    round(after.coverage - c.coverage, 6),
                    after.communities_lacking,
                    after.communities_lacking as i64 - c.communities_lacking as i64,
                )
            }),
        )?;
    }
    Ok(())
}

/// The columns `summary.csv` gains with planned facilities, and their GDAL types.
const PLANNED_COLUMNS: [(&str, &str); 7] = [
    ("planned_facilities", "Integer"),
    ("facilities_planned", "Integer"),
    ("covered_population_planned", "Real"),
    ("coverage_planned", "Real"),
    ("coverage_change", "Real"),
    ("communities_lacking_planned", "Integer"),
    ("communities_lacking_change", "Integer"),
];
