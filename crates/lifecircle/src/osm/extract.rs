//! `lifecircle extract`: facilities, residences, streets and communities from an .osm.pbf file,
//! written as the GeoJSON files `analyze` reads.
//!
//! # Outputs (RFC 7946 FeatureCollections, coordinates rounded to 7 decimals)
//! | file | features | properties |
//! |---|---|---|
//! | `facilities.geojson` | points: nodes, and a representative point inside ways and multipolygons | `id` (`n123`/`w123`/`r123`), `name`, `name:zh` (when tagged), `category` (`;`-joined when several), the deciding OSM tags |
//! | `residences.geojson` | representative points of homes | `id`, `population`, `floor_area_m2`, `levels`, `population_estimated` (true without a grid) |
//! | `streets.geojson` | LineStrings of walkable ways ([`super::walkable`]) | `id` (way id, a number), `highway` |
//! | `communities.geojson` | admin boundaries at the finest complete `admin_level` (MultiPolygons), else `place=suburb/quarter/neighbourhood` nodes (Points) | `id`, `name`, `admin_level` or `place` |
//!
//! # Residents
//! Homes are chosen by the mapping's `[residences]` rules ([`super::mapping`]). Floor area is
//! the footprint's geodesic area (`geo::GeodesicArea`) times `building:levels`, or
//! `default_levels` (4) where that is missing or unreadable.
//!
//! With a population grid (polygons with a `population` property), each cell's people are shared
//! among the homes whose representative point lies in it (on its edge counts; with overlapping
//! cells, the first in the file wins), in proportion to floor area; populations are not rounded,
//! so every cell's total is kept. A cell with people but no home gives them to its `maybe_homes`
//! buildings (e.g. `building=yes` outside mapped residential land use); a cell with neither keeps
//! its people unplaced (counted in [`Inventory::unplaced_population`]). Homes outside every
//! cell, or in cells with nobody, are left out (counted).
//!
//! Without a grid, a home's population is its floor area divided by
//! `floor_area_per_person_m2` (35 m²), marked `population_estimated: true`.
//!
//! Polygon containment is tested in longitude/latitude, because RFC 7946 defines polygon edges
//! as straight lines in those coordinates; the R-tree there holds the polygons' bounding boxes.

use std::{
    fmt,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
};

use geo::{
    coordinate_position::CoordPos, orient::Direction, BoundingRect, Coord, CoordinatePosition,
    GeodesicArea, Geometry, InteriorPoint, LineString, MultiPolygon, Orient, Polygon,
};
use rayon::prelude::*;
use rstar::{primitives::GeomWithData, primitives::Rectangle, RTree};

use crate::{
    analysis::Progress,
    error::{Error, FeatureError, Result},
    geodesy::LonLat,
    io::geojson::{self as input, Source},
};

use super::{
    geometry::{assemble_rings, multipolygon_from_rings, MemberWay},
    mapping::{HomeClass, Mapping, ResidenceRules},
    pbf::{self, BuildingTags, Item, OsmData, Shape, Wants},
    walkable::{street_lines, StreetLine},
    SkipKind, Skipped,
};

/// A facility: a point with its categories.
#[derive(Debug, Clone, PartialEq)]
pub struct Facility {
    /// `n123`, `w123` or `r123`.
    pub id: String,
    /// Representative position (the node; a point inside an area; a point on a line).
    pub point: LonLat,
    /// `name` tag.
    pub name: Option<String>,
    /// `name:zh` tag.
    pub name_zh: Option<String>,
    /// Categories, in the mapping's order.
    pub categories: Vec<String>,
    /// The OSM tags that decided the categories, sorted by key.
    pub tags: Vec<(String, String)>,
}

/// A building that holds homes.
#[derive(Debug, Clone, PartialEq)]
pub struct Residence {
    /// `w123` or `r123`.
    pub id: String,
    /// A point inside the footprint.
    pub point: LonLat,
    /// Residents (a share of a grid cell, or floor area / floor area per person).
    pub population: f64,
    /// Footprint area times levels, square metres.
    pub floor_area_m2: f64,
    /// Storeys used (tagged, or the default).
    pub levels: f64,
    /// True when the population comes from floor area, not from a grid.
    pub population_estimated: bool,
}

/// The shape of a community.
#[derive(Debug, Clone, PartialEq)]
pub enum CommunityShape {
    /// An administrative boundary relation.
    Boundary {
        /// Its `admin_level`.
        admin_level: u8,
        /// Its area.
        area: MultiPolygon<f64>,
    },
    /// A `place=*` node.
    Place {
        /// The `place` value: `suburb`, `quarter` or `neighbourhood`.
        place: String,
        /// The node's position.
        point: LonLat,
    },
}

/// A community (neighbourhood) to report on.
#[derive(Debug, Clone, PartialEq)]
pub struct Community {
    /// `r123` (boundary) or `n123` (place node).
    pub id: String,
    /// `name` tag.
    pub name: Option<String>,
    /// Area or point.
    pub shape: CommunityShape,
}

/// Everything extracted from one file.
#[derive(Debug, Clone)]
pub struct Extract {
    /// The .osm.pbf file read.
    pub source: PathBuf,
    /// Categories the mapping can give, in its order (for per-category counts).
    pub categories: Vec<String>,
    /// Facilities, sorted by element kind and id.
    pub facilities: Vec<Facility>,
    /// Homes with residents.
    pub residences: Vec<Residence>,
    /// Walkable lines.
    pub streets: Vec<StreetLine>,
    /// Communities.
    pub communities: Vec<Community>,
    /// Grid people that no building could take (cells without any home).
    pub unplaced_population: f64,
    /// Homes not given any resident (outside the grid, or in an empty cell).
    pub homes_without_people: usize,
    /// Grid cells whose people went to `maybe_homes` buildings for want of homes.
    pub fallback_cells: usize,
    /// Whether populations were estimated from floor area (no grid).
    pub population_estimated: bool,
    /// What was skipped, and why.
    pub skipped: Skipped,
}

/// Counts of what an extract holds and wrote. `Display` gives a short report.
#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    /// Facilities per category, in the mapping's order (a facility with two categories counts
    /// in both).
    pub facilities_by_category: Vec<(String, usize)>,
    /// Facilities (each once).
    pub facilities: usize,
    /// Residence buildings.
    pub residences: usize,
    /// Residents placed in them.
    pub population: f64,
    /// Whether populations were estimated from floor area.
    pub population_estimated: bool,
    /// Grid people left unplaced (their cells hold no building that could take them, e.g.
    /// cells outside the extract).
    pub unplaced_population: f64,
    /// Homes given no residents (outside the grid, or in cells with nobody).
    pub homes_without_people: usize,
    /// Grid cells whose people went to `maybe_homes` buildings for want of homes.
    pub fallback_cells: usize,
    /// Street lines.
    pub street_lines: usize,
    /// Their total length, metres.
    pub street_length_m: f64,
    /// Communities.
    pub communities: usize,
    /// `admin_level N boundaries` or `place points`.
    pub community_kind: String,
    /// Skipped elements by kind.
    pub skipped: Skipped,
    /// Files written.
    pub files: Vec<PathBuf>,
}

impl Extract {
    /// The counts, without writing anything.
    pub fn inventory(&self) -> Inventory {
        let facilities_by_category = self
            .categories
            .iter()
            .map(|c| {
                let n = self
                    .facilities
                    .iter()
                    .filter(|f| f.categories.contains(c))
                    .count();
                (c.clone(), n)
            })
            .collect();
        let community_kind = match self.communities.first().map(|c| &c.shape) {
            Some(CommunityShape::Boundary { admin_level, .. }) => {
                format!("admin_level {admin_level} boundaries")
            }
            Some(CommunityShape::Place { .. }) => "place points".into(),
            None => "none found".into(),
        };
        Inventory {
            facilities_by_category,
            facilities: self.facilities.len(),
            residences: self.residences.len(),
            population: self.residences.iter().map(|r| r.population).sum(),
            population_estimated: self.population_estimated,
            unplaced_population: self.unplaced_population,
            homes_without_people: self.homes_without_people,
            fallback_cells: self.fallback_cells,
            street_lines: self.streets.len(),
            street_length_m: self.streets.iter().map(StreetLine::length_m).sum(),
            communities: self.communities.len(),
            community_kind,
            skipped: self.skipped.clone(),
            files: Vec::new(),
        }
    }
}

impl fmt::Display for Inventory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "facilities: {}", self.facilities)?;
        let width = self
            .facilities_by_category
            .iter()
            .map(|(c, _)| c.len())
            .max()
            .unwrap_or(0);
        for (c, n) in &self.facilities_by_category {
            writeln!(f, "  {c:<width$}  {n}")?;
        }
        writeln!(
            f,
            "residences: {} buildings, {:.0} residents{}",
            self.residences,
            self.population,
            if self.population_estimated {
                " (estimated from floor area)"
            } else {
                ""
            }
        )?;
        if self.fallback_cells > 0 {
            writeln!(
                f,
                "  {} grid cells without a tagged home gave their residents to other buildings \
                 (building=yes outside residential land use)",
                self.fallback_cells
            )?;
        }
        if self.unplaced_population > 0.0 {
            writeln!(
                f,
                "  {:.0} grid residents unplaced: their cells hold no building that could take \
                 them (e.g. cells outside the extract)",
                self.unplaced_population
            )?;
        }
        if self.homes_without_people > 0 {
            writeln!(
                f,
                "  {} homes got no residents (outside the grid, or in cells with nobody)",
                self.homes_without_people
            )?;
        }
        writeln!(
            f,
            "streets: {} lines, {:.1} km",
            self.street_lines,
            self.street_length_m / 1000.0
        )?;
        writeln!(
            f,
            "communities: {} ({})",
            self.communities, self.community_kind
        )?;
        write!(f, "{}", self.skipped)?;
        for p in &self.files {
            writeln!(f, "wrote {}", p.display())?;
        }
        Ok(())
    }
}

/// Read an .osm.pbf file and derive everything `analyze` needs.
///
/// # Errors
/// The PBF file is unreadable or corrupt; the population grid cannot be read (unusable grid
/// features are skipped and counted instead).
pub fn extract(pbf: &Path, population: Option<&Path>, mapping: &Mapping) -> Result<Extract> {
    extract_with_progress(pbf, population, mapping, &())
}

/// As [`extract()`], announcing each stage to `progress`.
///
/// # Errors
/// As [`extract()`].
pub fn extract_with_progress(
    pbf: &Path,
    population: Option<&Path>,
    mapping: &Mapping,
    progress: &dyn Progress,
) -> Result<Extract> {
    let data = pbf::read(
        pbf,
        Wants {
            streets: true,
            mapping: Some(mapping),
        },
        progress,
    )?;
    let mut skipped = Skipped::default();
    progress.stage("streets");
    let streets = street_lines(&data.found.streets, &data.coords, &mut skipped);
    progress.stage("facilities");
    let facilities = facilities(&data, &mut skipped);
    progress.stage("communities");
    let communities = communities(&data, &mut skipped);
    let grid = match population {
        Some(p) => {
            progress.stage("reading the population grid");
            Some(read_grid(p, &mut skipped)?)
        }
        None => None,
    };
    progress.stage("homes");
    let homes = homes(&data, mapping, &mut skipped);
    progress.stage("placing residents");
    let placed = place_people(homes, grid.as_ref(), mapping);
    Ok(Extract {
        source: pbf.to_path_buf(),
        categories: mapping.categories().iter().map(|c| c.to_string()).collect(),
        facilities,
        residences: placed.residences,
        streets,
        communities,
        unplaced_population: placed.unplaced,
        homes_without_people: placed.without_people,
        fallback_cells: placed.fallback_cells,
        population_estimated: grid.is_none(),
        skipped,
    })
}

// ---------------------------------------------------------------------------------------------
// Geometry of kept elements.

enum Resolved {
    Point(LonLat),
    Line(LineString<f64>),
    Area(MultiPolygon<f64>),
}

/// A member way: id, node ids, positions.
type ResolvedMember<'a> = (i64, &'a [i64], Vec<Coord<f64>>);

fn coord(p: LonLat) -> Coord<f64> {
    Coord { x: p.lon, y: p.lat }
}

/// The geometry of an element, or why it has none.
fn resolve<T>(item: &Item<T>, data: &OsmData) -> Result<Resolved, (SkipKind, String)> {
    match &item.shape {
        Shape::Point(p) => Ok(Resolved::Point(*p)),
        Shape::Way(nodes) => {
            let coords: Vec<Coord<f64>> = nodes
                .iter()
                .filter_map(|&n| data.coords.get(n).map(coord))
                .collect();
            if coords.len() < nodes.len() {
                return Err((
                    SkipKind::MissingNodes,
                    format!(
                        "{} of its {} nodes are missing from the file",
                        nodes.len() - coords.len(),
                        nodes.len()
                    ),
                ));
            }
            if nodes.len() >= 4 && nodes.first() == nodes.last() {
                let ring = LineString::new(coords);
                Ok(Resolved::Area(MultiPolygon::new(vec![Polygon::new(
                    ring,
                    vec![],
                )])))
            } else if coords.is_empty() {
                Err((SkipKind::MissingNodes, "the way has no nodes".into()))
            } else {
                Ok(Resolved::Line(LineString::new(coords)))
            }
        }
        Shape::Relation(members) => {
            if members.is_empty() {
                return Err((
                    SkipKind::MissingMembers,
                    "the relation has no outer or inner member ways".into(),
                ));
            }
            let absent = members
                .iter()
                .filter(|m| !data.member_ways.contains_key(m))
                .count();
            if absent > 0 {
                return Err((
                    SkipKind::MissingMembers,
                    format!(
                        "{absent} of its {} member ways are missing from the file",
                        members.len()
                    ),
                ));
            }
            let mut ways: Vec<ResolvedMember<'_>> = Vec::new();
            for m in members {
                let nodes = data.member_ways.get(m).map(Vec::as_slice).unwrap_or(&[]);
                let coords: Vec<Coord<f64>> = nodes
                    .iter()
                    .filter_map(|&n| data.coords.get(n).map(coord))
                    .collect();
                if coords.len() < nodes.len() {
                    return Err((
                        SkipKind::MissingNodes,
                        format!(
                            "member way w{m}: {} of its {} nodes are missing from the file",
                            nodes.len() - coords.len(),
                            nodes.len()
                        ),
                    ));
                }
                ways.push((*m, nodes, coords));
            }
            let members: Vec<MemberWay<'_>> = ways
                .iter()
                .map(|(id, nodes, coords)| MemberWay {
                    id: *id,
                    nodes,
                    coords,
                })
                .collect();
            let rings =
                assemble_rings(&members).map_err(|e| (SkipKind::OpenRing, e.to_string()))?;
            Ok(Resolved::Area(multipolygon_from_rings(rings)))
        }
    }
}

fn what<T>(item: &Item<T>, role: &str) -> String {
    format!("{role} {}", item.osm_id())
}

fn to_lonlat(p: geo::Point<f64>) -> LonLat {
    LonLat::unchecked(p.x(), p.y())
}

/// A representative point of a way cut by the extract's edge, from its nodes inside: inside the
/// polygon they outline (closed ways with 3 or more such nodes), else on the line they form.
fn clipped_way_point<T>(item: &Item<T>, data: &OsmData) -> Option<LonLat> {
    let Shape::Way(nodes) = &item.shape else {
        return None;
    };
    let coords: Vec<Coord<f64>> = nodes
        .iter()
        .filter_map(|&n| data.coords.get(n).map(coord))
        .collect();
    let closed = nodes.len() >= 4 && nodes.first() == nodes.last();
    let distinct = coords.len() - usize::from(closed && coords.first() == coords.last());
    if closed && distinct >= 3 {
        let polygon = Polygon::new(LineString::new(coords.clone()), vec![]);
        if let Some(p) = polygon.interior_point() {
            return Some(to_lonlat(p));
        }
    }
    LineString::new(coords).interior_point().map(to_lonlat)
}

fn facilities(data: &OsmData, skipped: &mut Skipped) -> Vec<Facility> {
    let mut out = Vec::new();
    for item in &data.found.facilities {
        let point = match resolve(item, data) {
            Ok(Resolved::Point(p)) => Some(p),
            Ok(Resolved::Line(l)) => l.interior_point().map(to_lonlat),
            Ok(Resolved::Area(a)) => a.interior_point().map(to_lonlat),
            Err((SkipKind::MissingNodes, why)) if matches!(item.shape, Shape::Way(_)) => {
                match clipped_way_point(item, data) {
                    Some(p) => {
                        skipped.add(
                            SkipKind::FacilityClipped,
                            format!(
                                "{}: {why}; placed by the nodes inside the extract",
                                what(item, "facility")
                            ),
                        );
                        Some(p)
                    }
                    None => {
                        skipped.add(
                            SkipKind::MissingNodes,
                            format!("{}: {why}; skipped", what(item, "facility")),
                        );
                        continue;
                    }
                }
            }
            Err((kind, why)) => {
                skipped.add(kind, format!("{}: {why}; skipped", what(item, "facility")));
                continue;
            }
        };
        let Some(point) = point else {
            skipped.add(
                SkipKind::Degenerate,
                format!(
                    "{}: its geometry has no inside point; skipped",
                    what(item, "facility")
                ),
            );
            continue;
        };
        let d = &item.data;
        out.push(Facility {
            id: item.osm_id(),
            point,
            name: d.name.clone(),
            name_zh: d.name_zh.clone(),
            categories: d.categories.clone(),
            tags: d.tags.clone(),
        });
    }
    out
}

fn communities(data: &OsmData, skipped: &mut Skipped) -> Vec<Community> {
    let mut areas: Vec<Community> = Vec::new();
    for item in &data.found.boundaries {
        let label = format!(
            "boundary {} ({}, admin_level {})",
            item.osm_id(),
            item.data.name.as_deref().unwrap_or("unnamed"),
            item.data.admin_level
        );
        match resolve(item, data) {
            Ok(Resolved::Area(area)) if !area.0.is_empty() => areas.push(Community {
                id: item.osm_id(),
                name: item.data.name.clone(),
                shape: CommunityShape::Boundary {
                    admin_level: item.data.admin_level,
                    // RFC 7946: exterior rings counter-clockwise, holes clockwise.
                    area: area.orient(Direction::Default),
                },
            }),
            Ok(_) => skipped.add(
                SkipKind::Degenerate,
                format!("{label}: no area could be formed; skipped"),
            ),
            Err((kind, why)) => {
                skipped.add(kind, format!("{label}: {why}; skipped"));
            }
        }
    }
    let finest = areas
        .iter()
        .filter_map(|c| match c.shape {
            CommunityShape::Boundary { admin_level, .. } => Some(admin_level),
            CommunityShape::Place { .. } => None,
        })
        .max();
    if let Some(level) = finest {
        areas.retain(|c| {
            matches!(c.shape, CommunityShape::Boundary { admin_level, .. } if admin_level == level)
        });
        return areas;
    }
    data.found
        .places
        .iter()
        .filter_map(|item| match item.shape {
            Shape::Point(point) => Some(Community {
                id: item.osm_id(),
                name: item.data.name.clone(),
                shape: CommunityShape::Place {
                    place: item.data.place.clone(),
                    point,
                },
            }),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Residences.

/// A polygon index in longitude/latitude (see the module docs for why).
struct AreaIndex {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    areas: Vec<MultiPolygon<f64>>,
}

impl AreaIndex {
    fn new(areas: Vec<MultiPolygon<f64>>) -> Self {
        let boxes = areas
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let r = a.bounding_rect()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect();
        Self {
            tree: RTree::bulk_load(boxes),
            areas,
        }
    }

    /// The first area (by index) containing `p`, its edge included.
    fn find(&self, p: LonLat) -> Option<usize> {
        let c = coord(p);
        self.tree
            .locate_all_at_point([p.lon, p.lat])
            .map(|g| g.data)
            .filter(|&i| {
                self.areas
                    .get(i)
                    .is_some_and(|a| a.coordinate_position(&c) != CoordPos::Outside)
            })
            .min()
    }
}

struct Home {
    id: String,
    point: LonLat,
    floor_area_m2: f64,
    levels: f64,
    /// A `homes` building, or a `maybe_homes` one in residential land use.
    sure: bool,
}

fn homes(data: &OsmData, mapping: &Mapping, skipped: &mut Skipped) -> Vec<Home> {
    let mut landuse = Vec::new();
    for item in &data.found.landuse {
        match resolve(item, data) {
            Ok(Resolved::Area(a)) => landuse.push(a),
            Ok(_) => skipped.add(
                SkipKind::NotClosed,
                format!(
                    "{}: the way is not closed; skipped",
                    what(item, "residential land use")
                ),
            ),
            Err((kind, why)) => skipped.add(
                kind,
                format!("{}: {why}; skipped", what(item, "residential land use")),
            ),
        }
    }
    let landuse = AreaIndex::new(landuse);
    // Footprint areas (geodesic) and inside points are most of the work: in parallel, in order.
    let judged: Vec<Result<Home, (SkipKind, String)>> = data
        .found
        .buildings
        .par_iter()
        .map(|item| home(item, data, &landuse, &mapping.residences))
        .collect();
    let mut out = Vec::with_capacity(judged.len());
    for j in judged {
        match j {
            Ok(h) => out.push(h),
            Err((kind, why)) => skipped.add(kind, why),
        }
    }
    out
}

/// A building as a home, or why it is skipped (the message names it).
fn home(
    item: &Item<BuildingTags>,
    data: &OsmData,
    landuse: &AreaIndex,
    rules: &ResidenceRules,
) -> Result<Home, (SkipKind, String)> {
    let skip = |kind, why: &str| (kind, format!("{}: {why}; skipped", what(item, "building")));
    let area = match resolve(item, data) {
        Ok(Resolved::Area(a)) => a,
        Ok(_) => return Err(skip(SkipKind::NotClosed, "the way is not closed")),
        Err((kind, why)) => return Err(skip(kind, &why)),
    };
    let point = area
        .interior_point()
        .map(to_lonlat)
        .ok_or_else(|| skip(SkipKind::Degenerate, "the footprint has no inside point"))?;
    let levels = item.data.levels.unwrap_or(rules.default_levels);
    let footprint_m2 = footprint_m2(&area);
    if !footprint_m2.is_finite() || footprint_m2 <= 0.0 {
        return Err(skip(SkipKind::Degenerate, "the footprint has no area"));
    }
    let sure = match item.data.class {
        HomeClass::Home => true,
        HomeClass::MaybeHome => landuse.find(point).is_some(),
    };
    Ok(Home {
        id: item.osm_id(),
        point,
        floor_area_m2: footprint_m2 * levels,
        levels,
        sure,
    })
}

/// The geodesic area of a footprint in square metres: each polygon's exterior less its holes,
/// whichever way its rings wind.
///
/// The signed geodesic area of a ring is negative when it winds clockwise, so its absolute
/// value is the area whatever the winding. (Orienting the rings first with `geo`'s `Orient`
/// goes wrong on a self-intersecting ring, which real data has: `Orient` judges the winding by
/// the turn at the ring's lowest-leftmost vertex, so a small spike there reverses a
/// counter-clockwise ring, and the unsigned area of a clockwise ring is the rest of the Earth.)
fn footprint_m2(area: &MultiPolygon<f64>) -> f64 {
    // For one polygon `geodesic_area_signed` is ±(exterior - holes), the sign the exterior's.
    area.0.iter().map(|p| p.geodesic_area_signed().abs()).sum()
}

/// A population grid: cells and their residents.
struct Grid {
    index: AreaIndex,
    population: Vec<f64>,
}

fn read_grid(path: &Path, skipped: &mut Skipped) -> Result<Grid> {
    let cells = input::read_features(&Source::path(path), &["population"], |f| {
        let area = match f.geometry()? {
            Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
            Geometry::MultiPolygon(m) => m,
            other => {
                return Err(f.error(
                    "geometry",
                    format!(
                        "a population grid cell must be a Polygon or MultiPolygon, found a {}",
                        geometry_name(&other)
                    ),
                ))
            }
        };
        let raw = f
            .property(0)
            .ok_or_else(|| f.error("population", "missing: every grid cell needs a population"))?;
        let pop = input::number(raw)
            .map_err(|p| f.error("population", p))?
            .ok_or_else(|| f.error("population", "is null"))?;
        if pop < 0.0 {
            return Err(f.error("population", format!("must not be negative, found {pop}")));
        }
        Ok((area, pop))
    })?;
    for e in &cells.rejected {
        skipped.add(SkipKind::GridFeature, format!("{}; skipped", grid_error(e)));
    }
    if cells.kept.is_empty() {
        return Err(Error::File {
            file: path.display().to_string(),
            reason: format!(
                "no usable population grid cell among {} features (see the first problem: {})",
                cells.total,
                cells
                    .rejected
                    .first()
                    .map(grid_error)
                    .unwrap_or_else(|| "the file has no features".into())
            ),
        });
    }
    let (areas, population) = cells.kept.into_iter().unzip();
    Ok(Grid {
        index: AreaIndex::new(areas),
        population,
    })
}

fn grid_error(e: &FeatureError) -> String {
    e.to_string()
}

fn geometry_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::LineString(_) | Geometry::Line(_) => "LineString",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        _ => "non-polygon geometry",
    }
}

struct Placed {
    residences: Vec<Residence>,
    unplaced: f64,
    without_people: usize,
    fallback_cells: usize,
}

fn place_people(homes: Vec<Home>, grid: Option<&Grid>, mapping: &Mapping) -> Placed {
    let Some(grid) = grid else {
        let per_person = mapping.residences.floor_area_per_person_m2;
        let residences = homes
            .into_iter()
            .filter(|h| h.sure)
            .map(|h| Residence {
                population: h.floor_area_m2 / per_person,
                id: h.id,
                point: h.point,
                floor_area_m2: h.floor_area_m2,
                levels: h.levels,
                population_estimated: true,
            })
            .collect();
        return Placed {
            residences,
            unplaced: 0.0,
            without_people: 0,
            fallback_cells: 0,
        };
    };
    let n = grid.population.len();
    let cell_of: Vec<Option<usize>> = homes.iter().map(|h| grid.index.find(h.point)).collect();
    let (mut sure_floor, mut maybe_floor) = (vec![0.0; n], vec![0.0; n]);
    for (h, c) in homes.iter().zip(&cell_of) {
        if let Some(c) = *c {
            let slot = if h.sure {
                &mut sure_floor
            } else {
                &mut maybe_floor
            };
            if let Some(s) = slot.get_mut(c) {
                *s += h.floor_area_m2;
            }
        }
    }
    let mut unplaced = 0.0;
    let mut fallback_cells = 0;
    // Per cell: Some(true) homes take the people, Some(false) maybe-homes do, None nobody.
    let mut takers: Vec<Option<bool>> = vec![None; n];
    for (c, taker) in takers.iter_mut().enumerate() {
        let pop = grid.population.get(c).copied().unwrap_or(0.0);
        if pop <= 0.0 {
            continue;
        }
        if sure_floor.get(c).is_some_and(|&f| f > 0.0) {
            *taker = Some(true);
        } else if maybe_floor.get(c).is_some_and(|&f| f > 0.0) {
            *taker = Some(false);
            fallback_cells += 1;
        } else {
            unplaced += pop;
        }
    }
    let mut residences = Vec::new();
    let mut without_people = 0;
    for (h, c) in homes.into_iter().zip(cell_of) {
        let share = c.and_then(|c| {
            let takes = takers.get(c).copied().flatten()?;
            if takes != h.sure {
                return None;
            }
            let total = if takes {
                sure_floor.get(c)
            } else {
                maybe_floor.get(c)
            }
            .copied()?;
            Some(grid.population.get(c).copied()? * h.floor_area_m2 / total)
        });
        match share {
            Some(population) => residences.push(Residence {
                id: h.id,
                point: h.point,
                population,
                floor_area_m2: h.floor_area_m2,
                levels: h.levels,
                population_estimated: false,
            }),
            None if h.sure => without_people += 1,
            None => {}
        }
    }
    Placed {
        residences,
        unplaced,
        without_people,
        fallback_cells,
    }
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// Coordinates rounded to 7 decimals (about 1 cm).
fn num7(x: f64) -> String {
    num(x, 1e7)
}

fn num(x: f64, scale: f64) -> String {
    let r = (x * scale).round() / scale;
    // Avoid "-0".
    let r = if r == 0.0 { 0.0 } else { r };
    format!("{r}")
}

fn pos(p: LonLat) -> String {
    format!("[{},{}]", num7(p.lon), num7(p.lat))
}

fn ring_json(r: &LineString<f64>) -> String {
    let parts: Vec<String> =
        r.0.iter()
            .map(|c| pos(LonLat::unchecked(c.x, c.y)))
            .collect();
    format!("[{}]", parts.join(","))
}

fn multipolygon_json(m: &MultiPolygon<f64>) -> String {
    let polys: Vec<String> =
        m.0.iter()
            .map(|p| {
                let rings: Vec<String> = std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(ring_json)
                    .collect();
                format!("[{}]", rings.join(","))
            })
            .collect();
    format!(
        "{{\"type\":\"MultiPolygon\",\"coordinates\":[{}]}}",
        polys.join(",")
    )
}

fn json_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// Write a FeatureCollection: each feature's properties (`"key":value` pairs already encoded)
/// and geometry JSON. Written to a temporary file in the same directory, then renamed.
fn write_collection(
    path: &Path,
    features: impl Iterator<Item = (Vec<(String, String)>, String)>,
) -> Result<()> {
    let werr = |e: std::io::Error| Error::Write {
        path: path.to_path_buf(),
        source: e,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".lifecircle-").suffix(".tmp");
    // Ordinary file permissions (the user's umask applies), not the private 0600 of temp files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(dir).map_err(werr)?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")
            .map_err(werr)?;
        for (i, (props, geometry)) in features.enumerate() {
            let props: Vec<String> = props
                .iter()
                .map(|(k, v)| format!("{}:{v}", json_str(k)))
                .collect();
            write!(
                w,
                "{}\n{{\"type\":\"Feature\",\"properties\":{{{}}},\"geometry\":{}}}",
                if i == 0 { "" } else { "," },
                props.join(","),
                geometry
            )
            .map_err(werr)?;
        }
        w.write_all(b"\n]}\n").map_err(werr)?;
        w.flush().map_err(werr)?;
    }
    tmp.as_file().sync_all().map_err(werr)?;
    tmp.persist(path).map_err(|e| werr(e.error))?;
    Ok(())
}

fn point_json(p: LonLat) -> String {
    format!("{{\"type\":\"Point\",\"coordinates\":{}}}", pos(p))
}

/// Write the four GeoJSON files into `out_dir` (created if missing) and return the counts.
///
/// # Errors
/// The directory or a file cannot be created or written (the message names it).
pub fn write_extract(extract: &Extract, out_dir: &Path) -> Result<Inventory> {
    std::fs::create_dir_all(out_dir).map_err(|e| Error::Write {
        path: out_dir.to_path_buf(),
        source: e,
    })?;
    let mut inventory = extract.inventory();
    let s = |v: &str| json_str(v);

    let path = out_dir.join("facilities.geojson");
    write_collection(
        &path,
        extract.facilities.iter().map(|f| {
            let mut p = vec![("id".to_string(), s(&f.id))];
            if let Some(n) = &f.name {
                p.push(("name".into(), s(n)));
            }
            if let Some(n) = &f.name_zh {
                p.push(("name:zh".into(), s(n)));
            }
            p.push(("category".into(), s(&f.categories.join(";"))));
            for (k, v) in &f.tags {
                p.push((k.clone(), s(v)));
            }
            (p, point_json(f.point))
        }),
    )?;
    inventory.files.push(path);

    let path = out_dir.join("residences.geojson");
    write_collection(
        &path,
        extract.residences.iter().map(|r| {
            let mut p = vec![
                ("id".to_string(), s(&r.id)),
                ("population".into(), num(r.population, 1e3)),
                ("floor_area_m2".into(), num(r.floor_area_m2, 10.0)),
                ("levels".into(), num(r.levels, 100.0)),
            ];
            if r.population_estimated {
                p.push(("population_estimated".into(), "true".into()));
            }
            (p, point_json(r.point))
        }),
    )?;
    inventory.files.push(path);

    let path = out_dir.join("streets.geojson");
    write_collection(
        &path,
        extract.streets.iter().map(|l| {
            let coords: Vec<String> = l.coords.iter().map(|&c| pos(c)).collect();
            (
                vec![
                    ("id".to_string(), s(&format!("w{}", l.id))),
                    ("highway".into(), s(&l.highway)),
                ],
                format!(
                    "{{\"type\":\"LineString\",\"coordinates\":[{}]}}",
                    coords.join(",")
                ),
            )
        }),
    )?;
    inventory.files.push(path);

    let path = out_dir.join("communities.geojson");
    write_collection(
        &path,
        extract.communities.iter().map(|c| {
            let mut p = vec![("id".to_string(), s(&c.id))];
            if let Some(n) = &c.name {
                p.push(("name".into(), s(n)));
            }
            let geometry = match &c.shape {
                CommunityShape::Boundary { admin_level, area } => {
                    p.push(("admin_level".into(), admin_level.to_string()));
                    multipolygon_json(area)
                }
                CommunityShape::Place { place, point } => {
                    p.push(("place".into(), s(place)));
                    point_json(*point)
                }
            };
            (p, geometry)
        }),
    )?;
    inventory.files.push(path);
    Ok(inventory)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A building footprint from a synthetic city whose last vertex before closing juts below
    /// its lowest-leftmost one: `Orient` took the counter-clockwise ring for clockwise, and the
    /// floor area came out as the Earth's surface (5.1e14 m²) times the levels.
    #[test]
    fn footprint_with_a_spike_has_its_own_area() {
        let ring = LineString::from(vec![
            (24.668_467_1, 60.139_788_8),
            (24.668_551_2, 60.139_788_0),
            (24.668_554_2, 60.139_785_0),
            (24.668_600_2, 60.139_784_5),
            (24.668_649_9, 60.139_783_6),
            (24.668_655_2, 60.139_826_0),
            (24.668_659_1, 60.139_834_3),
            (24.668_656_5, 60.139_860_2),
            (24.668_569_9, 60.139_860_5),
            (24.668_556_8, 60.139_860_8),
            (24.668_463_4, 60.139_860_3),
            (24.668_459_6, 60.139_824_8),
            (24.668_459_8, 60.139_828_1),
            (24.668_467_1, 60.139_788_8),
        ]);
        let ccw = MultiPolygon::new(vec![Polygon::new(ring.clone(), vec![])]);
        // About 10.9 m x 8.0 m.
        let a = footprint_m2(&ccw);
        assert!((80.0..95.0).contains(&a), "{a}");
        let mut reversed = ring.clone();
        reversed.0.reverse();
        let cw = MultiPolygon::new(vec![Polygon::new(reversed, vec![])]);
        assert!((footprint_m2(&cw) - a).abs() < 1e-6);
    }

    #[test]
    fn footprint_holes_subtract_whatever_the_winding() {
        let ring = |x0: f64, y0: f64, d: f64| {
            LineString::from(vec![
                (x0, y0),
                (x0 + d, y0),
                (x0 + d, y0 + d),
                (x0, y0 + d),
                (x0, y0),
            ])
        };
        let outer = ring(24.0, 60.0, 0.001);
        let hole = ring(24.0004, 60.0004, 0.0002);
        let whole = footprint_m2(&MultiPolygon::new(vec![Polygon::new(
            outer.clone(),
            vec![],
        )]));
        let small = footprint_m2(&MultiPolygon::new(vec![Polygon::new(hole.clone(), vec![])]));
        for (o, h) in [(false, false), (true, false), (false, true), (true, true)] {
            let (mut outer, mut hole) = (outer.clone(), hole.clone());
            if o {
                outer.0.reverse();
            }
            if h {
                hole.0.reverse();
            }
            let a = footprint_m2(&MultiPolygon::new(vec![Polygon::new(outer, vec![hole])]));
            assert!((a - (whole - small)).abs() < 1e-6, "{o} {h}: {a}");
        }
    }

    #[test]
    fn numbers_are_rounded() {
        assert_eq!(num7(24.936_579_649_9), "24.9365796");
        assert_eq!(num7(-0.000_000_01), "0");
        assert_eq!(num7(60.0), "60");
        assert_eq!(num(12.345_6, 1e3), "12.346");
    }

    fn home(id: &str, lon: f64, floor: f64, sure: bool) -> Home {
        Home {
            id: id.into(),
            point: LonLat::unchecked(lon, 0.5),
            floor_area_m2: floor,
            levels: 4.0,
            sure,
        }
    }

    fn square(x0: f64) -> MultiPolygon<f64> {
        let r = LineString::from(vec![
            (x0, 0.),
            (x0 + 1., 0.),
            (x0 + 1., 1.),
            (x0, 1.),
            (x0, 0.),
        ]);
        MultiPolygon::new(vec![Polygon::new(r, vec![])])
    }

    #[test]
    fn grid_people_follow_floor_area() {
        // Cells [0,1], [1,2], [2,3], [3,4] (x) with 100, 60, 30, 0 people.
        let grid = Grid {
            index: AreaIndex::new(vec![square(0.), square(1.), square(2.), square(3.)]),
            population: vec![100.0, 60.0, 30.0, 0.0],
        };
        let homes = vec![
            home("w1", 0.5, 300.0, true),
            home("w2", 0.6, 100.0, true),
            home("w3", 0.7, 500.0, false), // a maybe-home beside sure homes: no one
            home("w4", 1.5, 200.0, false), // cell 2 has only maybe-homes: they take its people
            home("w5", 1.6, 600.0, false),
            home("w6", 3.5, 100.0, true), // an empty cell
            home("w7", 9.0, 100.0, true), // outside the grid
        ];
        let m = Mapping::builtin();
        let p = place_people(homes, Some(&grid), &m);
        let got: Vec<(&str, f64)> = p
            .residences
            .iter()
            .map(|r| (r.id.as_str(), r.population))
            .collect();
        // By hand: 100 * 300/400, 100 * 100/400, 60 * 200/800, 60 * 600/800.
        assert_eq!(
            got,
            [("w1", 75.0), ("w2", 25.0), ("w4", 15.0), ("w5", 45.0)]
        );
        assert_eq!(p.unplaced, 30.0);
        assert_eq!(p.fallback_cells, 1);
        assert_eq!(p.without_people, 2);
    }

    #[test]
    fn without_grid_population_is_estimated() {
        let m = Mapping::builtin();
        let p = place_people(
            vec![home("w1", 0.5, 350.0, true), home("w2", 0.5, 350.0, false)],
            None,
            &m,
        );
        assert_eq!(p.residences.len(), 1);
        assert_eq!(p.residences[0].population, 10.0);
        assert!(p.residences[0].population_estimated);
    }
}
