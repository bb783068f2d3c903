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
//! cells, the first in the file wins), in proportion to floor area; populations are not rounded
//! (the files give them with 3 decimals), so every cell's total is kept. A cell with people but no home gives them to its `maybe_homes`
//! buildings (e.g. `building=yes` outside mapped residential land use); a cell with neither keeps
//! its people unplaced (counted in [`Inventory::unplaced_population`]). Homes outside every
//! cell, or in cells with nobody, are left out (counted).
//!
//! The grid may also be a population raster (a GeoTIFF such as WorldPop or GHS-POP, read by
//! [`crate::io::formats`]): a home belongs to the cell its point falls in, and the people of a
//! populated cell without any building that could take them become a residence of their own,
//! the cell (id `r{row}c{col}`, at its centre, `population_cell: true`), so the raster's whole
//! population is kept even where few buildings are mapped.
//!
//! Without a grid, a home's population is its floor area divided by
//! `floor_area_per_person_m2` (35 m²), marked `population_estimated: true`.
//!
//! # In memory
//! [`Extract`] holds the planning model ([`Facility`](crate::Facility), [`Residence`](crate::Residence), [`Community`](crate::Community)) with the OSM details beside it
//! ([`Extracted`]); [`Extract::model`] gives the facilities, residences and communities that
//! [`crate::analyze`] takes, equal to what [`crate::io`] reads from the written
//! files but for populations (exact in memory, 3 decimals in the files), so extract and
//! analysis can run without files.
//!
//! Polygon containment is tested in longitude/latitude, because RFC 7946 defines polygon edges
//! as straight lines in those coordinates; the R-tree there holds the polygons' bounding boxes.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use geo::{
    coordinate_position::CoordPos, BoundingRect, Coord, CoordinatePosition, GeodesicArea, Geometry,
    InteriorPoint, LineString, MapCoordsInPlace, MultiPolygon, Polygon,
};
use rayon::prelude::*;
use rstar::{primitives::GeomWithData, primitives::Rectangle, RTree};

use crate::{
    analysis::Progress,
    error::{Error, FeatureError, Result},
    geodesy::LonLat,
    io::geojson::{
        self as input,
        write::{
            self, push_feature, push_fixed, push_geometry, push_id, push_line_string, push_point,
            push_str, push_u64, FeatureCollection, OutputSet, Properties, COORDS, COORD_DECIMALS,
        },
        Source,
    },
    model::{self, Id},
};

use super::{
    geometry::{assemble_rings, multipolygon_from_rings, MemberWay},
    mapping::{HomeClass, Mapping, ResidenceRules},
    pbf::{self, BuildingTags, Item, OsmData, Shape, Wants},
    walkable::{street_lines, StreetLine},
    SkipKind, Skipped,
};

/// A value of the planning model ([`Facility`](crate::Facility), [`Residence`](crate::Residence), [`Community`](crate::Community)) as extracted, with what the OSM data says
/// beside it (written to the files, not analysed).
#[derive(Debug, Clone)]
pub struct Extracted<T, D> {
    /// The value `analyze` works on. Its positions and geometry are the files' (rounded to 7
    /// decimals, rings oriented as written), so analysing it in memory finds the nearest
    /// facilities and gaps that analysing the written files finds; its population is exact (the
    /// files round it to 3 decimals, so a covered population may differ by 0.0005 a residence). Its `index` is its
    /// place in its file.
    pub model: T,
    /// The OSM details written beside it.
    pub osm: D,
}

/// Of a facility: the OSM details written beside the model [`model::Facility`], whose id is
/// `n123`, `w123` or `r123`, whose point is the node, a point inside an area or a point on a
/// line, and whose categories follow the mapping's order.
#[derive(Debug, Clone, PartialEq)]
pub struct FacilityTags {
    /// `name:zh` tag.
    pub name_zh: Option<String>,
    /// The OSM tags that decided the categories, sorted by key.
    pub tags: Vec<(String, String)>,
}

/// Of a residence (a building, id `w123` or `r123`, at a point inside its footprint, with a
/// share of a grid cell's people or its floor area over the floor area per person).
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    /// Footprint area times levels, square metres.
    pub floor_area_m2: f64,
    /// Storeys used (tagged, or the default).
    pub levels: f64,
    /// True when the population comes from floor area, not from a grid.
    pub population_estimated: bool,
    /// True for a populated raster cell without a building that could take its people: the
    /// residence is the cell itself (id `r{row}c{col}`, at its centre, no floor area).
    pub cell: bool,
}

/// Of a community: what kind of OSM element it is. Its model geometry is the boundary's
/// MultiPolygon (rings oriented as written) or the place node's Point.
#[derive(Debug, Clone, PartialEq)]
pub enum CommunityKind {
    /// An administrative boundary relation (`r123`) of this `admin_level`.
    Boundary {
        /// Its `admin_level`.
        admin_level: u8,
    },
    /// A `place=*` node (`n123`).
    Place {
        /// The `place` value: `suburb`, `quarter` or `neighbourhood`.
        place: String,
    },
}

/// A facility as extracted.
pub type Facility = Extracted<model::Facility, FacilityTags>;
/// A residence as extracted.
pub type Residence = Extracted<model::Residence, Building>;
/// A community as extracted.
pub type Community = Extracted<model::Community, CommunityKind>;

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
    /// Residences: buildings, and raster cells standing in for their people.
    pub residences: usize,
    /// Of those, populated raster cells without a building that could take their people.
    pub cells: usize,
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
    /// The planning model of the extract, as [`crate::io`] would read it from the written
    /// files (but for the populations' last decimals: see [`Extracted::model`]): facilities, residences and communities, each in file order, ready for
    /// [`crate::analyze`] without writing anything. (The `streets` keep their exact
    /// OSM positions, as `analyze --network FILE.osm.pbf` uses them; `streets.geojson` rounds
    /// them to 7 decimals.)
    pub fn model(
        &self,
    ) -> (
        Vec<model::Facility>,
        Vec<model::Residence>,
        Vec<model::Community>,
    ) {
        fn models<T: Clone, D>(v: &[Extracted<T, D>]) -> Vec<T> {
            v.iter().map(|x| x.model.clone()).collect()
        }
        (
            models(&self.facilities),
            models(&self.residences),
            models(&self.communities),
        )
    }

    /// The counts, without writing anything.
    pub fn inventory(&self) -> Inventory {
        let facilities_by_category = self
            .categories
            .iter()
            .map(|c| {
                let n = self
                    .facilities
                    .iter()
                    .filter(|f| f.model.categories.iter().any(|x| **x == **c))
                    .count();
                (c.clone(), n)
            })
            .collect();
        let community_kind = match self.communities.first().map(|c| &c.osm) {
            Some(CommunityKind::Boundary { admin_level }) => {
                format!("admin_level {admin_level} boundaries")
            }
            Some(CommunityKind::Place { .. }) => "place points".into(),
            None => "none found".into(),
        };
        Inventory {
            facilities_by_category,
            facilities: self.facilities.len(),
            residences: self.residences.len(),
            cells: self.residences.iter().filter(|r| r.osm.cell).count(),
            // Folded from +0: an empty f64 sum is -0, printed "-0".
            population: self
                .residences
                .iter()
                .fold(0.0, |sum, r| sum + r.model.population),
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

/// Fewer homes than this per kilometre of walkable street means the buildings are mostly
/// unmapped (central Helsinki, a business district, has 0.66).
pub const MIN_HOMES_PER_STREET_KM: f64 = 0.25;

impl Inventory {
    /// True when the extract found no homes, or so few for its streets
    /// ([`MIN_HOMES_PER_STREET_KM`]) that its buildings are mostly unmapped and the residents
    /// must come from a population grid.
    pub fn too_few_homes(&self) -> bool {
        self.residences == 0
            || (self.residences as f64) < MIN_HOMES_PER_STREET_KM * self.street_length_m / 1000.0
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
        let cells = if self.cells > 0 {
            format!(
                " and {} population raster cells without one (each a residence at its centre)",
                self.cells
            )
        } else {
            String::new()
        };
        writeln!(
            f,
            "residences: {} buildings{cells}, {:.0} residents{}",
            self.residences - self.cells,
            self.population,
            if self.population_estimated {
                " (estimated from floor area)"
            } else {
                ""
            }
        )?;
        if self.population_estimated && self.too_few_homes() {
            writeln!(
                f,
                "warning: too few homes: the extract maps {} residential building{} for {:.0} km \
                 of streets, so most residents are missing and coverage would be measured for \
                 a few buildings only. OpenStreetMap maps few buildings in many cities (much of \
                 China among them): give a population grid with --population GRID.geojson \
                 (polygons with a `population` property, e.g. WorldPop or GHS-POP cells), or \
                 analyse residences of your own",
                self.residences,
                if self.residences == 1 { "" } else { "s" },
                self.street_length_m / 1000.0
            )?;
        }
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
    let mut facilities = facilities(&data, &mut skipped);
    progress.stage("communities");
    let mut communities = communities(&data, &mut skipped);
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
    let mut placed = place_people(homes, grid.as_ref(), mapping);
    number_in_file_order(&mut facilities, |f| &mut f.index);
    number_in_file_order(&mut placed.residences, |r| &mut r.index);
    number_in_file_order(&mut communities, |c| &mut c.index);
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

/// The positions of a way's nodes, or how many of them the file lacks (as a message).
fn way_coords(nodes: &[i64], data: &OsmData) -> Result<Vec<Coord<f64>>, String> {
    let coords: Vec<Coord<f64>> = nodes
        .iter()
        .filter_map(|&n| data.coords.get(n).map(coord))
        .collect();
    if coords.len() < nodes.len() {
        return Err(format!(
            "{} of its {} nodes are missing from the file",
            nodes.len() - coords.len(),
            nodes.len()
        ));
    }
    Ok(coords)
}

/// The geometry of an element, or why it has none.
fn resolve<T>(item: &Item<T>, data: &OsmData) -> Result<Resolved, (SkipKind, String)> {
    match &item.shape {
        Shape::Point(p) => Ok(Resolved::Point(*p)),
        Shape::Way(nodes) => {
            let coords =
                way_coords(nodes, data).map_err(|missing| (SkipKind::MissingNodes, missing))?;
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
                let coords = way_coords(nodes, data).map_err(|missing| {
                    (
                        SkipKind::MissingNodes,
                        format!("member way w{m}: {missing}"),
                    )
                })?;
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
            model: model::Facility {
                id: Id::Text(item.osm_id().into()),
                name: d.name.as_deref().map(Into::into),
                capacity: None,
                capacities: Vec::new(),
                at: as_written(point),
                categories: d.categories.iter().map(|c| c.as_str().into()).collect(),
                index: 0,
            },
            osm: FacilityTags {
                name_zh: d.name_zh.clone(),
                tags: d.tags.clone(),
            },
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
            Ok(Resolved::Area(area)) if !area.0.is_empty() => {
                let area = area_as_written(area);
                let kind = CommunityKind::Boundary {
                    admin_level: item.data.admin_level,
                };
                let name = item.data.name.as_deref();
                match community(item.osm_id(), name, Geometry::MultiPolygon(area), kind) {
                    Some(c) => areas.push(c),
                    None => skipped.add(
                        SkipKind::Degenerate,
                        format!("{label}: the area has no inside point; skipped"),
                    ),
                }
            }
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
        .filter_map(|c| match c.osm {
            CommunityKind::Boundary { admin_level } => Some(admin_level),
            CommunityKind::Place { .. } => None,
        })
        .max();
    if let Some(level) = finest {
        areas.retain(
            |c| matches!(c.osm, CommunityKind::Boundary { admin_level } if admin_level == level),
        );
        return areas;
    }
    data.found
        .places
        .iter()
        .filter_map(|item| match item.shape {
            Shape::Point(point) => {
                let p = as_written(point);
                let kind = CommunityKind::Place {
                    place: item.data.place.clone(),
                };
                let point = Geometry::Point(geo::Point::new(p.lon, p.lat));
                community(item.osm_id(), item.data.name.as_deref(), point, kind)
            }
            _ => None,
        })
        .collect()
}

/// A community of `geometry` (as written), at its inside point as [`crate::io`] finds
/// it; `None` when it has none.
fn community(
    id: String,
    name: Option<&str>,
    geometry: Geometry<f64>,
    kind: CommunityKind,
) -> Option<Community> {
    let at = match &geometry {
        Geometry::Point(p) => *p,
        g => g.interior_point()?,
    };
    Some(Community {
        model: model::Community {
            id: Id::Text(id.into()),
            name: name.map(Into::into),
            population: None,
            geometry,
            at: to_lonlat(at),
            index: 0,
        },
        osm: kind,
    })
}

/// An area as the files hold it: 7 decimals, exteriors counterclockwise and holes clockwise.
fn area_as_written(mut area: MultiPolygon<f64>) -> MultiPolygon<f64> {
    area.map_coords_in_place(|c| coord(as_written(LonLat::unchecked(c.x, c.y))));
    area.0.iter_mut().for_each(write::orient);
    area
}

/// A position as the files hold it (7 decimals): what a reader of the file gets back.
fn as_written(p: LonLat) -> LonLat {
    LonLat::unchecked(
        write::rounded(p.lon, COORD_DECIMALS),
        write::rounded(p.lat, COORD_DECIMALS),
    )
}

/// Set each value's `index` to its place in its file.
fn number_in_file_order<T, D>(values: &mut [Extracted<T, D>], index: impl Fn(&mut T) -> &mut u32) {
    for (i, v) in values.iter_mut().enumerate() {
        *index(&mut v.model) = i as u32;
    }
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
    cells: GridCells,
    population: Vec<f64>,
}

/// Where the cells of a population grid are.
enum GridCells {
    /// Polygons (a GeoJSON grid).
    Areas(AreaIndex),
    /// The populated cells of a raster.
    Raster(Box<RasterCells>),
}

/// The populated cells of a population raster, found from a point by the raster's transform.
struct RasterCells {
    transform: crate::io::formats::raster::Transform,
    width: u32,
    height: u32,
    /// The raster's coordinate system (`None`: WGS84 longitude/latitude).
    projection: Option<crate::projection::Projection>,
    /// The populated cell at `(row, col)`.
    index: foldhash::HashMap<(u32, u32), usize>,
    /// Each populated cell's id (`r{row}c{col}`) and centre (as written).
    centres: Vec<(String, LonLat)>,
}

impl Grid {
    /// The cell holding `p`.
    fn find(&self, p: LonLat) -> Option<usize> {
        match &self.cells {
            GridCells::Areas(index) => index.find(p),
            GridCells::Raster(r) => {
                let (x, y) = match &r.projection {
                    Some(proj) => proj.from_wgs84(p.lon, p.lat).ok()?,
                    None => (p.lon, p.lat),
                };
                let cell = r.transform.cell_of(x, y, r.width, r.height)?;
                r.index.get(&cell).copied()
            }
        }
    }

    /// The id and centre of cell `c`, when the cell itself can be a residence (a raster's).
    fn cell_residence(&self, c: usize) -> Option<&(String, LonLat)> {
        match &self.cells {
            GridCells::Areas(_) => None,
            GridCells::Raster(r) => r.centres.get(c),
        }
    }
}

/// Read a population grid: a raster (GeoTIFF), or polygons with a `population` property.
fn read_grid(path: &Path, skipped: &mut Skipped) -> Result<Grid> {
    let input = crate::io::InputFile::new(path);
    if input.format() == crate::io::Format::GeoTiff {
        return read_raster_grid(&input, skipped);
    }
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
        cells: GridCells::Areas(AreaIndex::new(areas)),
        population,
    })
}

/// Read the populated cells of a population raster.
fn read_raster_grid(input: &crate::io::InputFile, skipped: &mut Skipped) -> Result<Grid> {
    use crate::io::formats::raster::Raster;
    let file = input.name();
    let mut raster = Raster::open(input, &file)?;
    let mut cells = Vec::new();
    raster.cells(1 << 16, &mut |chunk| {
        cells.extend(chunk);
        true
    })?;
    let projection = raster.projection.clone();
    let mut index = foldhash::HashMap::default();
    let mut centres = Vec::with_capacity(cells.len());
    let mut population = Vec::with_capacity(cells.len());
    for (k, cell) in cells.iter().enumerate() {
        let (x, y) = raster.transform.centre(cell.row, cell.col);
        let at = match &projection {
            Some(p) => p.to_wgs84(x, y).map_err(|e| e.to_string()),
            None => Ok((x, y)),
        }
        .and_then(|(lon, lat)| LonLat::new(lon, lat).map_err(|e| e.to_string()));
        match at {
            Ok(at) => {
                index.insert((cell.row, cell.col), centres.len());
                centres.push((cell.id(), as_written(at)));
                population.push(cell.value);
            }
            Err(e) => skipped.add(
                SkipKind::GridFeature,
                format!("{file}: cell {} (feature {k}): {e}; skipped", cell.id()),
            ),
        }
    }
    if population.is_empty() {
        return Err(Error::File {
            file,
            reason: "the population raster has no populated cell (every cell is nodata, zero \
                     or negative)"
                .into(),
        });
    }
    Ok(Grid {
        cells: GridCells::Raster(Box::new(RasterCells {
            transform: raster.transform,
            width: raster.width,
            height: raster.height,
            projection,
            index,
            centres,
        })),
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

impl Home {
    /// The home as a residence of `population` (its position rounded as written).
    fn residence(self, population: f64, population_estimated: bool) -> Residence {
        Residence {
            model: model::Residence {
                id: Id::Text(self.id.into()),
                at: as_written(self.point),
                population,
                community: None,
                index: 0,
            },
            osm: Building {
                floor_area_m2: self.floor_area_m2,
                levels: self.levels,
                population_estimated,
                cell: false,
            },
        }
    }
}

/// Decimals written for populations.
const POPULATION_DECIMALS: u32 = 3;

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
            .map(|h| {
                let population = h.floor_area_m2 / per_person;
                h.residence(population, true)
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
    let cell_of: Vec<Option<usize>> = homes.par_iter().map(|h| grid.find(h.point)).collect();
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
    // Raster cells without a building that could take their people stand in for them.
    let mut cell_residences = Vec::new();
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
        } else if let Some((id, at)) = grid.cell_residence(c) {
            cell_residences.push(Residence {
                model: model::Residence {
                    id: Id::Text(id.as_str().into()),
                    at: *at,
                    population: pop,
                    community: None,
                    index: 0,
                },
                osm: Building {
                    floor_area_m2: 0.0,
                    levels: 0.0,
                    population_estimated: false,
                    cell: true,
                },
            });
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
            Some(population) => residences.push(h.residence(population, false)),
            None if h.sure => without_people += 1,
            None => {}
        }
    }
    residences.extend(cell_residences);
    Placed {
        residences,
        unplaced,
        without_people,
        fallback_cells,
    }
}

// ---------------------------------------------------------------------------------------------
// Writing.

/// Write the four GeoJSON files into `out_dir` (created if missing) as one
/// [`OutputSet`]: all or none of them replace the files of an earlier extract, and each
/// carries the run id (`lifecircle_run`). Returns the counts.
///
/// # Errors
/// The directory or a file cannot be created or written (the message names it);
/// [`Error::OutputLocked`] while another run writes there.
pub fn write_extract(extract: &Extract, out_dir: &Path) -> Result<Inventory> {
    write_extract_set(extract, OutputSet::begin(out_dir)?)
}

/// [`write_extract`] into a set begun earlier (the command locks the directory before it
/// reads anything).
///
/// # Errors
/// A file cannot be written (the message names it).
pub fn write_extract_set(extract: &Extract, mut set: OutputSet) -> Result<Inventory> {
    let mut inventory = extract.inventory();
    let files = &mut inventory.files;
    let dir = &mut set;
    files.push(write_file(
        dir,
        "facilities.geojson",
        &extract.facilities,
        |Extracted { model: f, osm }, p| {
            push_id(p.key("id"), &f.id);
            if let Some(n) = &f.name {
                push_str(p.key("name"), n);
            }
            if let Some(n) = &osm.name_zh {
                push_str(p.key("name:zh"), n);
            }
            push_str(p.key("category"), &f.categories.join(";"));
            for (k, v) in &osm.tags {
                push_str(p.key(k), v);
            }
        },
        |f, g| push_point(g, f.model.at, COORDS),
    )?);
    files.push(write_file(
        dir,
        "residences.geojson",
        &extract.residences,
        |Extracted { model: r, osm }, p| {
            push_id(p.key("id"), &r.id);
            push_fixed(p.key("population"), r.population, POPULATION_DECIMALS);
            if osm.cell {
                p.key("population_cell").extend_from_slice(b"true");
            } else {
                push_fixed(p.key("floor_area_m2"), osm.floor_area_m2, 1);
                push_fixed(p.key("levels"), osm.levels, 2);
            }
            if osm.population_estimated {
                p.key("population_estimated").extend_from_slice(b"true");
            }
        },
        |r, g| push_point(g, r.model.at, COORDS),
    )?);
    files.push(write_file(
        dir,
        "streets.geojson",
        &extract.streets,
        |l, p| {
            push_str(p.key("id"), &format!("w{}", l.id));
            push_str(p.key("highway"), &l.highway);
        },
        |l, g| push_line_string(g, l.coords.iter().copied(), COORDS),
    )?);
    files.push(write_file(
        dir,
        "communities.geojson",
        &extract.communities,
        |Extracted { model: c, osm }, p| {
            push_id(p.key("id"), &c.id);
            if let Some(n) = &c.name {
                push_str(p.key("name"), n);
            }
            match osm {
                CommunityKind::Boundary { admin_level } => {
                    push_u64(p.key("admin_level"), u64::from(*admin_level));
                }
                CommunityKind::Place { place } => push_str(p.key("place"), place),
            }
        },
        |c, g| push_geometry(g, &c.model.geometry, COORDS),
    )?);
    set.commit()?;
    Ok(inventory)
}

/// Write `name` into the set: a FeatureCollection of `items` with the set's run id, each with
/// the properties `properties` appends, then the geometry `geometry` appends. Returns the path.
fn write_file<T: Sync>(
    set: &mut OutputSet,
    name: &str,
    items: &[T],
    properties: impl Fn(&T, &mut Properties<'_>) + Sync,
    geometry: impl Fn(&T, &mut Vec<u8>) + Sync,
) -> Result<PathBuf> {
    let run = set.run_id().to_string();
    set.write(name, |w| {
        let mut fc = FeatureCollection::begin(w, None, Some(&run))?;
        fc.features_par(items.len(), |buf, i| {
            let item = &items[i];
            push_feature(buf, |p| properties(item, p), |g| geometry(item, g));
        })?;
        fc.end()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Helsinki sample's extract (as `data/README.md` makes it), analysed in memory and
    /// through its written files: the model values are the values read back (populations to the
    /// 3 decimals written), and the analysis finds the same nearest facilities and gaps, and the
    /// same coverage but for those decimals.
    #[test]
    fn analysing_the_extract_in_memory_equals_analysing_its_files() {
        use crate::{
            analysis::{self, Inputs, Plan},
            io::{self as load, Fields},
            profile::{Profile, Walk},
            StraightLine,
        };
        let raw = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/raw");
        let ex = extract(
            &raw.join("helsinki-centre.osm.pbf"),
            Some(&raw.join("helsinki-population-2020.geojson")),
            &Mapping::builtin(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        write_extract(&ex, dir.path()).unwrap();

        let (facilities, residences, communities) = ex.model();
        let (fields, file) = (Fields::default(), |name: &str| {
            Source::path(dir.path().join(format!("{name}.geojson")))
        });
        let read_facilities = load::read_facilities(&file("facilities"), &fields).unwrap();
        let read_residences = load::read_residences(&file("residences"), &fields).unwrap();
        let read_communities = load::read_communities(&file("communities"), &fields).unwrap();

        // The values themselves.
        let facility = |f: &model::Facility| {
            let (id, name, at) = (f.id.clone(), f.name.clone(), f.at);
            (id, name, f.capacity, at, f.categories.clone(), f.index)
        };
        let residence = |r: &model::Residence| {
            let population = write::rounded(r.population, POPULATION_DECIMALS);
            (r.id.clone(), r.at, population, r.community.clone(), r.index)
        };
        let community = |c: &model::Community| {
            let (id, name, geometry) = (c.id.clone(), c.name.clone(), c.geometry.clone());
            (id, name, c.population, geometry, c.at, c.index)
        };
        fn all<T, K>(items: &[T], f: impl Fn(&T) -> K) -> Vec<K> {
            items.iter().map(f).collect()
        }
        assert!(read_facilities.rejected.is_empty());
        assert_eq!(
            all(&facilities, facility),
            all(&read_facilities.items, facility)
        );
        assert_eq!(
            all(&residences, residence),
            all(&read_residences.items, residence)
        );
        assert_eq!(
            all(&communities, community),
            all(&read_communities.items, community)
        );

        let memory = Inputs::new(&facilities)
            .residences(&residences)
            .communities(&communities);
        let files: Inputs<'_> = Inputs::from_loaded(
            &read_facilities,
            Some(&read_residences),
            Some(&read_communities),
        );

        // The analyses.
        let run = |inputs| {
            let plan = Plan::builder(Profile::default())
                .max_walk(Walk::Metres(900.0))
                .target_percent(85.0)
                .build()
                .unwrap();
            analysis::analyze(inputs, plan, &StraightLine::default(), &()).unwrap()
        };
        let homes = ex.residences.len() as f64;
        let (m, f) = (run(memory), run(files));
        assert_eq!(m.categories.len(), f.categories.len());
        for (a, b) in m.categories.iter().zip(&f.categories) {
            assert_eq!(a.name, b.name);
            // Each residence's population differs by at most half a thousandth.
            let (ca, cb) = (a.covered_population, b.covered_population);
            assert!((ca - cb).abs() <= 0.5e-3 * homes, "{}: {ca} {cb}", a.name);
            let (pa, pb) = (a.counted_population, b.counted_population);
            assert!((pa - pb).abs() <= 0.5e-3 * homes, "{}: {pa} {pb}", a.name);
            assert!((a.coverage - b.coverage).abs() < 1e-5, "{}", a.name);
            assert_eq!(a.reach, b.reach, "{}", a.name);
        }
        let lacking = |a: &analysis::Analysis| {
            let r = a.community_results.iter();
            r.map(|r| r.lacking.clone()).collect::<Vec<_>>()
        };
        assert_eq!(lacking(&m), lacking(&f));
        assert!(m
            .categories
            .iter()
            .any(|c| c.coverage > 0.0 && c.coverage < 1.0));
    }

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
        // Written, it keeps its counterclockwise order: the signed area judges it by its bulk.
        assert!(
            geo::Winding::is_cw(&ring),
            "geo's Orient judges it right now"
        );
        assert!(!write::is_reversed(&ring, true) && write::is_reversed(&ring, false));
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

    /// A boundary given clockwise with a counterclockwise hole and unrounded corners: the
    /// community in memory is the one read back from the written file.
    #[test]
    fn a_boundary_in_memory_is_the_boundary_read_back() {
        let ring = |x0: f64, d: f64, ccw: bool| {
            let mut r = LineString::from(vec![
                (x0, 60.0),
                (x0 + d, 60.0),
                (x0 + d, 60.0 + d),
                (x0, 60.0 + d),
                (x0, 60.0),
            ]);
            if !ccw {
                r.0.reverse();
            }
            r
        };
        let area = MultiPolygon::new(vec![Polygon::new(
            ring(24.000_000_012_3, 0.010_000_06, false),
            vec![ring(24.004_000_04, 0.001, true)],
        )]);
        let kind = CommunityKind::Boundary { admin_level: 9 };
        let geometry = Geometry::MultiPolygon(area_as_written(area));
        let c = community("r7".into(), Some("Kallio"), geometry, kind).unwrap();
        let ex = Extract {
            source: PathBuf::from("x.osm.pbf"),
            categories: Vec::new(),
            facilities: Vec::new(),
            residences: Vec::new(),
            streets: Vec::new(),
            communities: vec![c.clone()],
            unplaced_population: 0.0,
            homes_without_people: 0,
            fallback_cells: 0,
            population_estimated: true,
            skipped: Skipped::default(),
        };
        let dir = tempfile::tempdir().unwrap();
        write_extract(&ex, dir.path()).unwrap();
        let path = dir.path().join("communities.geojson");
        let fields = crate::io::Fields::default();
        let read = crate::io::read_communities(&Source::path(&path), &fields).unwrap();
        let back = &read.items[0];
        assert_eq!(back.geometry, c.model.geometry);
        assert_eq!(
            (back.at, &back.id, &back.name),
            (c.model.at, &c.model.id, &c.model.name)
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[[[24,60],[24.0100001,60],"), "{text}");
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
            cells: GridCells::Areas(AreaIndex::new(vec![
                square(0.),
                square(1.),
                square(2.),
                square(3.),
            ])),
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
        let got: Vec<(String, f64)> = p
            .residences
            .iter()
            .map(|r| (r.model.id.to_string(), r.model.population))
            .collect();
        // By hand: 100 * 300/400, 100 * 100/400, 60 * 200/800, 60 * 600/800.
        let want = [("w1", 75.0), ("w2", 25.0), ("w4", 15.0), ("w5", 45.0)];
        assert_eq!(got, want.map(|(id, p)| (id.to_string(), p)));
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
        assert_eq!(p.residences[0].model.population, 10.0);
        assert!(p.residences[0].osm.population_estimated);
    }
}
