//! The coverage-gap analysis: who can reach each category of service within the walk, per
//! residence, per community and for the whole city.

use std::collections::{BTreeSet, HashMap};

use geo::{Geometry, Point};

use crate::{
    assign::{self, UNASSIGNED},
    error::{Error, FeatureError, Result},
    geodesy::LonLat,
    load::Loaded,
    model::{Community, Facility, Id, Residence, SIX_FUNCTIONS},
    reach::{Reach, WalkingDistance},
    straight_line::StraightLine,
};

/// Checked settings for one analysis.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The walking reach, metres.
    pub max_walk_m: f64,
    /// Share of a community's population that must be within reach (0..=1) for the community
    /// not to lack a category.
    pub target_share: f64,
    /// The categories to analyse; `None` for the six standard functions plus every category
    /// found among the facilities.
    pub categories: Option<Vec<String>>,
    /// Make any bad feature fatal instead of skipping it.
    pub strict: bool,
}

impl Settings {
    /// Settings with a check of every value.
    ///
    /// # Errors
    /// A non-positive or non-finite reach, a target outside 0..=100 %, or an empty category name.
    pub fn new(
        max_walk_m: f64,
        target_percent: f64,
        categories: Option<Vec<String>>,
        strict: bool,
    ) -> Result<Self> {
        if !(max_walk_m.is_finite() && max_walk_m > 0.0) {
            return Err(Error::Settings(format!(
                "the walking reach must be a positive distance, got {max_walk_m} m"
            )));
        }
        if !(0.0..=100.0).contains(&target_percent) {
            return Err(Error::Settings(format!(
                "--target must be a percentage from 0 to 100, got {target_percent}"
            )));
        }
        if let Some(cats) = &categories {
            if cats.is_empty() || cats.iter().any(|c| c.trim().is_empty()) {
                return Err(Error::Settings(
                    "--categories needs one or more non-empty names separated by commas".into(),
                ));
            }
        }
        Ok(Self {
            max_walk_m,
            target_share: target_percent / 100.0,
            categories,
            strict,
        })
    }
}

/// The loaded inputs of an analysis.
#[derive(Debug)]
pub struct Inputs {
    /// Service points.
    pub facilities: Loaded<Facility>,
    /// Demand points, if given.
    pub residences: Option<Loaded<Residence>>,
    /// Communities, if given.
    pub communities: Option<Loaded<Community>>,
}

/// Results for one category of service.
#[derive(Debug)]
pub struct CategoryResult {
    /// The category name as found in the data (`meals`, `elderly_care`, ...).
    pub name: String,
    /// Indices (into [`Analysis::facilities`]) of the facilities offering it.
    pub facilities: Vec<u32>,
    /// For every demand point, its nearest facility of this category; `Reach::facility`
    /// indexes [`CategoryResult::facilities`].
    pub reach: Vec<Reach>,
    /// Population with a facility within the walk.
    pub covered_population: f64,
    /// `covered_population` over the total population (0 when there is nobody).
    pub coverage: f64,
    /// Number of communities below target for this category.
    pub communities_lacking: usize,
}

impl CategoryResult {
    /// The facility a demand point reaches (its nearest), if any.
    pub fn facility_of(&self, demand: usize) -> Option<usize> {
        let r = self.reach.get(demand)?;
        r.facility()
            .and_then(|k| self.facilities.get(k))
            .map(|&i| i as usize)
    }
}

/// Results for one community.
#[derive(Debug)]
pub struct CommunityResult {
    /// Population of its demand points.
    pub population: f64,
    /// Per category (same order as [`Analysis::categories`]): share within reach, or `None`
    /// when the community has no population.
    pub coverage: Vec<Option<f64>>,
    /// Indices of categories below target.
    pub lacking: Vec<usize>,
    /// People lacking at least one category.
    pub gap_population: f64,
}

/// A finished analysis.
#[derive(Debug)]
pub struct Analysis {
    /// `"straight-line"` or `"network"`.
    pub mode: &'static str,
    /// The settings used.
    pub settings: Settings,
    /// All facilities read.
    pub facilities: Vec<Facility>,
    /// The demand points: residences, or community points when no residences were given.
    pub demand: Vec<Residence>,
    /// True when the demand points are the communities themselves.
    pub demand_is_communities: bool,
    /// For every demand point, its community index, or [`UNASSIGNED`].
    pub demand_community: Vec<u32>,
    /// Communities (from the file, or derived from residence `community` properties).
    pub communities: Vec<Community>,
    /// Per-community results, parallel to `communities`.
    pub community_results: Vec<CommunityResult>,
    /// Per-category results.
    pub categories: Vec<CategoryResult>,
    /// Demand points not placed on the walking model (off the street network).
    pub unplaced: Vec<bool>,
    /// Features skipped in any input file.
    pub skipped: Vec<FeatureError>,
    /// Residences whose `community` property named no known community.
    pub unknown_community_refs: Vec<(usize, Id)>,
    /// Residences whose population was absent and counted as 1.
    pub population_defaulted: usize,
    /// Total demand population.
    pub population: f64,
}

impl Analysis {
    /// Categories a demand point lacks (no facility within the walk), as indices.
    pub fn missing(&self, demand: usize) -> impl Iterator<Item = usize> + '_ {
        let max = self.settings.max_walk_m;
        self.categories
            .iter()
            .enumerate()
            .filter(move |(_, c)| !c.reach[demand].within(max))
            .map(|(i, _)| i)
    }

    /// Number of demand points that belong to no community, and their population.
    pub fn unassigned(&self) -> (usize, f64) {
        self.demand_community
            .iter()
            .zip(&self.demand)
            .filter(|(c, _)| **c == UNASSIGNED)
            .fold((0, 0.0), |(n, p), (_, r)| (n + 1, p + r.population))
    }

    /// Number of demand points off the walking model, and their population.
    pub fn off_network(&self) -> (usize, f64) {
        self.unplaced
            .iter()
            .zip(&self.demand)
            .filter(|(u, _)| **u)
            .fold((0, 0.0), |(n, p), (_, r)| (n + 1, p + r.population))
    }
}

/// Stages reported while an analysis runs (for progress display).
pub trait Progress: Sync {
    /// A new stage begins.
    fn stage(&self, what: &str);
}

impl Progress for () {
    fn stage(&self, _what: &str) {}
}

/// Run the analysis.
///
/// # Errors
/// With `strict`, the first skipped feature; without residences and communities, or with no
/// demand point left, a settings error.
pub fn analyze(
    inputs: Inputs,
    settings: Settings,
    walking: &dyn WalkingDistance,
    progress: &dyn Progress,
) -> Result<Analysis> {
    let Inputs {
        facilities,
        residences,
        communities,
    } = inputs;
    let mut skipped = facilities.rejected;
    let mut population_defaulted = 0;
    let residences = residences.map(|r| {
        skipped.extend(r.rejected);
        population_defaulted = r.population_defaulted;
        r.items
    });
    let communities = communities.map(|c| {
        skipped.extend(c.rejected);
        c.items
    });
    if settings.strict {
        if let Some(first) = skipped.into_iter().next() {
            return Err(Error::Feature(first));
        }
        skipped = Vec::new();
    }
    let facilities = facilities.items;

    progress.stage("assigning residences to communities");
    let (demand, demand_is_communities, communities, demand_community, unknown_community_refs) =
        match (residences, communities) {
            (Some(res), Some(com)) => {
                let a = assign::assign(&res, &com);
                (res, false, com, a.community, a.unknown_refs)
            }
            (Some(res), None) => {
                let (com, of) = communities_from_properties(&res);
                (res, false, com, of, Vec::new())
            }
            (None, Some(com)) => {
                let demand: Vec<Residence> = com
                    .iter()
                    .map(|c| Residence {
                        id: c.id.clone(),
                        at: c.at,
                        population: c.population.unwrap_or(1.0),
                        community: Some(c.id.clone()),
                        index: c.index,
                    })
                    .collect();
                let of = (0..com.len() as u32).collect();
                (demand, true, com, of, Vec::new())
            }
            (None, None) => {
                return Err(Error::Settings(
                    "nothing to measure from: give --residences, --communities, or both".into(),
                ))
            }
        };
    if settings.strict {
        if let Some((i, id)) = unknown_community_refs.first() {
            return Err(Error::Settings(format!(
                "residence {} names community \"{id}\", which is not among the communities",
                demand[*i].index
            )));
        }
    }
    if demand.is_empty() {
        return Err(Error::Settings(
            "no usable demand point (residence or community) is left after skipping bad features"
                .into(),
        ));
    }

    let names = category_names(&facilities, settings.categories.as_deref());
    progress.stage("indexing demand points");
    let points: Vec<LonLat> = demand.iter().map(|r| r.at).collect();
    let prepared = walking.prepare(&points);
    drop(points);
    let unplaced = prepared.unplaced();

    let mut categories = Vec::with_capacity(names.len());
    for name in names {
        progress.stage(&format!("measuring walks to {name}"));
        let idx: Vec<u32> = facilities
            .iter()
            .enumerate()
            .filter(|(_, f)| f.categories.iter().any(|c| c.as_ref() == name))
            .map(|(i, _)| i as u32)
            .collect();
        let at: Vec<LonLat> = idx.iter().map(|&i| facilities[i as usize].at).collect();
        let reach = prepared.nearest(&at, settings.max_walk_m);
        categories.push(CategoryResult {
            name,
            facilities: idx,
            reach,
            covered_population: 0.0,
            coverage: 0.0,
            communities_lacking: 0,
        });
    }
    drop(prepared);

    progress.stage("summarising coverage");
    let community_results = summarise(
        &demand,
        &demand_community,
        &communities,
        &mut categories,
        &settings,
    );
    let population = demand.iter().map(|r| r.population).sum();
    Ok(Analysis {
        mode: walking.mode(),
        settings,
        facilities,
        demand,
        demand_is_communities,
        demand_community,
        communities,
        community_results,
        categories,
        unplaced,
        skipped,
        unknown_community_refs,
        population_defaulted,
        population,
    })
}

/// The category list: as asked, or the six standard functions plus every other category found.
fn category_names(facilities: &[Facility], asked: Option<&[String]>) -> Vec<String> {
    if let Some(asked) = asked {
        let mut seen = BTreeSet::new();
        return asked
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| seen.insert(c.clone()))
            .collect();
    }
    let mut names: Vec<String> = SIX_FUNCTIONS.iter().map(|s| s.to_string()).collect();
    let extras: BTreeSet<&str> = facilities
        .iter()
        .flat_map(|f| f.categories.iter().map(|c| c.as_ref()))
        .filter(|c| !SIX_FUNCTIONS.contains(c))
        .collect();
    names.extend(extras.into_iter().map(String::from));
    names
}

/// Communities named only by residence `community` properties: one per distinct id, placed at
/// the mean position of its residences.
fn communities_from_properties(residences: &[Residence]) -> (Vec<Community>, Vec<u32>) {
    let mut index: HashMap<&Id, u32> = HashMap::new();
    let mut sums: Vec<(f64, f64, f64, u32)> = Vec::new();
    let mut ids: Vec<&Id> = Vec::new();
    let of = residences
        .iter()
        .map(|r| match &r.community {
            None => UNASSIGNED,
            Some(id) => {
                let k = *index.entry(id).or_insert_with(|| {
                    ids.push(id);
                    sums.push((0.0, 0.0, 0.0, r.index));
                    (ids.len() - 1) as u32
                });
                let s = &mut sums[k as usize];
                s.0 += r.at.lon;
                s.1 += r.at.lat;
                s.2 += 1.0;
                k
            }
        })
        .collect();
    let communities = ids
        .into_iter()
        .zip(sums)
        .map(|(id, (lon, lat, n, index))| {
            let at = LonLat::new(lon / n, lat / n);
            Community {
                id: id.clone(),
                name: None,
                population: None,
                geometry: Geometry::Point(Point::new(at.lon, at.lat)),
                at,
                index,
            }
        })
        .collect();
    (communities, of)
}

fn summarise(
    demand: &[Residence],
    demand_community: &[u32],
    communities: &[Community],
    categories: &mut [CategoryResult],
    settings: &Settings,
) -> Vec<CommunityResult> {
    let max = settings.max_walk_m;
    let nc = categories.len();
    let mut population = vec![0.0; communities.len()];
    let mut covered = vec![vec![0.0; nc]; communities.len()];
    let mut city_covered = vec![0.0; nc];
    let mut total = 0.0;
    let mut within = vec![false; nc];
    let mut gap_population = vec![0.0; communities.len()];
    for (k, r) in demand.iter().enumerate() {
        let c = demand_community[k];
        total += r.population;
        let mut all = true;
        for (j, cat) in categories.iter().enumerate() {
            within[j] = cat.reach[k].within(max);
            all &= within[j];
            if within[j] {
                city_covered[j] += r.population;
            }
        }
        if c != UNASSIGNED {
            let c = c as usize;
            population[c] += r.population;
            for (j, w) in within.iter().enumerate() {
                if *w {
                    covered[c][j] += r.population;
                }
            }
            if !all {
                gap_population[c] += r.population;
            }
        }
    }
    let results: Vec<CommunityResult> = (0..communities.len())
        .map(|c| {
            let pop = population[c];
            let coverage: Vec<Option<f64>> = covered[c]
                .iter()
                .map(|&x| (pop > 0.0).then(|| x / pop))
                .collect();
            let lacking = coverage
                .iter()
                .enumerate()
                .filter(|(_, cov)| cov.is_some_and(|v| v < settings.target_share))
                .map(|(j, _)| j)
                .collect();
            CommunityResult {
                population: pop,
                coverage,
                lacking,
                gap_population: gap_population[c],
            }
        })
        .collect();
    for (j, cat) in categories.iter_mut().enumerate() {
        cat.covered_population = city_covered[j];
        cat.coverage = if total > 0.0 {
            city_covered[j] / total
        } else {
            0.0
        };
        cat.communities_lacking = results.iter().filter(|r| r.lacking.contains(&j)).count();
    }
    results
}

/// Straight-line walking with the given detour factor, checked.
///
/// # Errors
/// A detour below 1 or not finite.
pub fn straight_line(detour: f64) -> Result<StraightLine> {
    if !(detour.is_finite() && detour >= 1.0) {
        return Err(Error::Settings(format!(
            "--detour must be a number of at least 1.0 (1.2-1.4 approximates street circuity), got {detour}"
        )));
    }
    Ok(StraightLine { detour })
}
