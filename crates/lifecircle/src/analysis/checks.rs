//! Plausibility checks after an analysis: inputs that are valid one by one but together are
//! probably a mistake, reported as [`Warning`]s (the analysis itself is unchanged).

use std::fmt;

use super::{assign::UNASSIGNED, Analysis};
use crate::{geodesy::LonLat, index::PointIndex, io::GroupCounts, model::Residence};

/// A median distance to the nearest facility beyond this is no walk: the inputs do not lie in
/// the same place.
pub const FAR_M: f64 = 20_000.0;

/// At most this many demand points, evenly spaced in input order, are measured for
/// [`Warning::FarFromFacilities`].
const SAMPLE: usize = 1001;

/// Something in the inputs that is probably a mistake.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Warning {
    /// Demand points that count more people in a target group than in all.
    GroupExceedsPopulation {
        /// The group property (`elderly`).
        group: String,
        /// How many demand points do.
        count: usize,
        /// The first one's feature index, its group count and its population.
        first: (usize, f64, f64),
    },
    /// The facilities are, at the median, farther than [`FAR_M`] from the demand points.
    FarFromFacilities {
        /// The median straight-line distance from a demand point to its nearest facility of
        /// any category, metres.
        median_m: f64,
        /// The likely cause.
        cause: FarCause,
    },
    /// More than half of the population lies in no community.
    MostlyUnassigned {
        /// The share of the population in no community, 0..1.
        share: f64,
        /// That population.
        population: f64,
    },
}

/// Why demand points and facilities lie far apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FarCause {
    /// The two come together when the coordinates of one of them are swapped; the communities
    /// (when given) do not tell which.
    Swapped,
    /// The demand points come close when their two coordinates are swapped, and they lie
    /// outside the communities too.
    DemandSwapped,
    /// The facilities come close when their two coordinates are swapped, and the demand
    /// points lie in the communities.
    FacilitiesSwapped,
    /// Neither: different places, or different coordinate systems.
    Unknown,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::GroupExceedsPopulation {
                group,
                count,
                first: (index, n, population),
            } => write!(
                f,
                "{count} demand point{} count more people in `{group}` than in their \
                 population (first: feature {index}, {group} {n} of population {population}); \
                 is `{group}` a share or another unit?",
                if *count == 1 { "" } else { "s" }
            ),
            Warning::FarFromFacilities { median_m, cause } => {
                write!(
                    f,
                    "the median straight-line distance from a demand point to its nearest \
                     facility is {:.0} km, far beyond any walk: ",
                    median_m / 1000.0
                )?;
                f.write_str(match cause {
                    FarCause::Swapped => {
                        "the facilities or the demand points look like [latitude, longitude]: \
                         with the two coordinates of one of them swapped they lie together. \
                         GeoJSON is [longitude, latitude] (RFC 7946); swap them in the file \
                         that has them the wrong way round"
                    }
                    FarCause::DemandSwapped => {
                        "the demand points look like [latitude, longitude]: with their two \
                         coordinates swapped they lie among the facilities. GeoJSON is \
                         [longitude, latitude] (RFC 7946); swap them in the residences or \
                         communities file"
                    }
                    FarCause::FacilitiesSwapped => {
                        "the facilities look like [latitude, longitude]: with their two \
                         coordinates swapped they lie among the demand points. GeoJSON is \
                         [longitude, latitude] (RFC 7946); swap them in the facilities file"
                    }
                    FarCause::Unknown => {
                        "are the files of the same city, and in the coordinate systems given \
                         (--coords)?"
                    }
                })
            }
            Warning::MostlyUnassigned { share, population } => write!(
                f,
                "{:.1} % of the population ({population:.0} people) lies in no community: \
                 their coverage counts in the city totals but in no community's. Do the \
                 communities cover the residences (same city, same coordinate system)?",
                share * 100.0
            ),
        }
    }
}

/// The warnings about an analysis's inputs.
pub(super) fn check(a: &Analysis<'_>, groups: &GroupCounts) -> Vec<Warning> {
    let mut out = Vec::new();
    group_exceeds_population(&a.demand, groups, &mut out);
    if let Some(w) = far_from_facilities(a) {
        out.push(w);
    }
    if a.communities_given && a.population > 0.0 {
        let unassigned: f64 = a
            .demand_community
            .iter()
            .zip(a.demand.iter())
            .filter(|(c, _)| **c == UNASSIGNED)
            .map(|(_, r)| r.population)
            .sum();
        let share = unassigned / a.population;
        if share > 0.5 {
            out.push(Warning::MostlyUnassigned {
                share,
                population: unassigned,
            });
        }
    }
    out
}

fn group_exceeds_population(demand: &[Residence], groups: &GroupCounts, out: &mut Vec<Warning>) {
    let n = groups.names.len();
    if n == 0 || groups.counts.len() != demand.len() * n {
        return;
    }
    for (g, group) in groups.names.iter().enumerate() {
        let mut count = 0;
        let mut first = None;
        for (i, r) in demand.iter().enumerate() {
            let c = groups.counts[i * n + g];
            // NaN (no count) compares false.
            if c > r.population {
                count += 1;
                first.get_or_insert((r.index_or(i), c, r.population));
            }
        }
        if let Some(first) = first {
            out.push(Warning::GroupExceedsPopulation {
                group: group.clone(),
                count,
                first,
            });
        }
    }
}

/// The median over a sample of demand points of the distance to the nearest point of `index`.
fn median_nearest_m(index: &PointIndex, points: impl Iterator<Item = LonLat>) -> Option<f64> {
    let mut d: Vec<f64> = points
        .filter_map(|p| index.nearest(p).map(|(_, m)| m))
        .collect();
    if d.is_empty() {
        return None;
    }
    let mid = d.len() / 2;
    let (_, m, _) = d.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

fn swapped(p: LonLat) -> Option<LonLat> {
    LonLat::new(p.lat(), p.lon()).ok()
}

fn far_from_facilities(a: &Analysis<'_>) -> Option<Warning> {
    if a.facilities.is_empty() || a.demand.is_empty() {
        return None;
    }
    let step = a.demand.len().div_ceil(SAMPLE).max(1);
    let sample: Vec<LonLat> = a.demand.iter().step_by(step).map(|r| r.at).collect();
    let at: Vec<LonLat> = a.facilities.iter().map(|f| f.at).collect();
    let index = PointIndex::new(&at);
    let median_m = median_nearest_m(&index, sample.iter().copied())?;
    if median_m <= FAR_M {
        return None;
    }
    let near = |m: Option<f64>| m.is_some_and(|m| m <= FAR_M);
    let cause = if near(median_nearest_m(
        &index,
        sample.iter().filter_map(|&p| swapped(p)),
    )) {
        // Swapping either set brings them together; the communities can tell which.
        let in_communities = a
            .demand_community
            .iter()
            .filter(|&&c| c != UNASSIGNED)
            .count();
        if !a.communities_given || a.demand_is_communities {
            FarCause::Swapped
        } else if in_communities * 2 > a.demand.len() {
            FarCause::FacilitiesSwapped
        } else {
            FarCause::DemandSwapped
        }
    } else {
        let swapped_at: Vec<LonLat> = at.iter().filter_map(|&p| swapped(p)).collect();
        if !swapped_at.is_empty()
            && near(median_nearest_m(
                &PointIndex::new(&swapped_at),
                sample.iter().copied(),
            ))
        {
            FarCause::FacilitiesSwapped
        } else {
            FarCause::Unknown
        }
    };
    Some(Warning::FarFromFacilities { median_m, cause })
}
