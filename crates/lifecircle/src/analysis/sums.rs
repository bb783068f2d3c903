//! Population sums per community and category, and for the city: in parallel over fixed chunks
//! of demand points, added up in chunk order so that totals do not depend on the thread count.

use rayon::prelude::*;

use super::assign::UNASSIGNED;
use super::{CategoryResult, CommunityResult};
use crate::par::Chunks;
use crate::{io::GroupCounts, model::Residence};

/// Fewest demand points summed per chunk by [`summarise`].
const SUMMARY_CHUNK: usize = 1 << 16;

/// What [`Sums::add`] reads besides the demand point.
struct SumContext<'a> {
    categories: &'a [CategoryResult],
    /// The column of each category's group among the counts read, if any.
    column: Vec<Option<usize>>,
    groups: &'a GroupCounts,
    /// Where each category's facilities start in [`Sums::catchment`], and (last) their total.
    catchment_start: Vec<usize>,
}

impl<'a> SumContext<'a> {
    fn new(categories: &'a [CategoryResult], groups: &'a GroupCounts) -> Self {
        let column = categories
            .iter()
            .map(|c| {
                let g = c.plan.group.as_ref()?;
                groups.names.iter().position(|n| n == g)
            })
            .collect();
        let mut catchment_start = Vec::with_capacity(categories.len() + 1);
        let mut at = 0;
        catchment_start.push(at);
        for c in categories {
            at += c.facilities.len();
            catchment_start.push(at);
        }
        SumContext {
            categories,
            column,
            groups,
            catchment_start,
        }
    }

    /// The range of category `j`'s facilities in [`Sums::catchment`].
    fn catchment_range(&self, j: usize) -> std::ops::Range<usize> {
        self.catchment_start[j]..self.catchment_start[j + 1]
    }
}

/// Population sums per community and category, and for the city.
///
/// The per-community sums are flat, one row of categories per community: the sum for
/// community `c` and category `j` is at `c * categories + j`.
struct Sums {
    /// Categories per row of the per-community sums.
    nc: usize,
    /// The people each category counts.
    counted: Vec<f64>,
    /// The people each category counts with a facility within the walk.
    covered: Vec<f64>,
    /// Everyone with a facility of the category within the walk.
    covered_all: Vec<f64>,
    population: Vec<f64>,
    gap_population: Vec<f64>,
    city_counted: Vec<f64>,
    city_covered: Vec<f64>,
    city_covered_all: Vec<f64>,
    defaulted: Vec<usize>,
    total: f64,
    /// Per category, per facility (see [`SumContext::catchment_range`]): the counted people
    /// within the walk it is nearest to.
    catchment: Vec<f64>,
}

impl Sums {
    fn new(n_communities: usize, with: &SumContext<'_>) -> Self {
        let nc = with.categories.len();
        Sums {
            nc,
            counted: vec![0.0; n_communities * nc],
            covered: vec![0.0; n_communities * nc],
            covered_all: vec![0.0; n_communities * nc],
            population: vec![0.0; n_communities],
            gap_population: vec![0.0; n_communities],
            city_counted: vec![0.0; nc],
            city_covered: vec![0.0; nc],
            city_covered_all: vec![0.0; nc],
            defaulted: vec![0; nc],
            total: 0.0,
            catchment: vec![0.0; with.catchment_start[nc]],
        }
    }

    /// Set every sum back to zero.
    fn clear(&mut self) {
        for v in [
            &mut self.counted,
            &mut self.covered,
            &mut self.covered_all,
            &mut self.population,
            &mut self.gap_population,
            &mut self.city_counted,
            &mut self.city_covered,
            &mut self.city_covered_all,
            &mut self.catchment,
        ] {
            v.fill(0.0);
        }
        self.defaulted.fill(0);
        self.total = 0.0;
    }

    /// Add demand point `k`, of community `community`.
    fn add(&mut self, k: usize, r: &Residence, community: u32, with: &SumContext<'_>) {
        let c = community as usize;
        let in_community = community != UNASSIGNED && c < self.population.len();
        self.total += r.population;
        if in_community {
            self.population[c] += r.population;
        }
        let row = if in_community { c * self.nc } else { 0 };
        let mut all = true;
        for (j, cat) in with.categories.iter().enumerate() {
            let group_count = with.column[j].and_then(|g| with.groups.get(k, g));
            let weight = match (&cat.plan.group, group_count) {
                (_, Some(count)) => count,
                (None, None) => r.population,
                (Some(_), None) => {
                    self.defaulted[j] += 1;
                    r.population
                }
            };
            let within = cat.within(k);
            all &= within;
            self.city_counted[j] += weight;
            if within {
                self.city_covered[j] += weight;
                self.city_covered_all[j] += r.population;
                if let Some(f) = cat.reach[k].facility() {
                    self.catchment[with.catchment_start[j] + f] += weight;
                }
            }
            if in_community {
                self.counted[row + j] += weight;
                if within {
                    self.covered[row + j] += weight;
                    self.covered_all[row + j] += r.population;
                }
            }
        }
        if in_community && !all {
            self.gap_population[c] += r.population;
        }
    }

    fn merge(&mut self, other: &Sums) {
        fn add_all(to: &mut [f64], from: &[f64]) {
            to.iter_mut().zip(from).for_each(|(a, b)| *a += b);
        }
        add_all(&mut self.counted, &other.counted);
        add_all(&mut self.covered, &other.covered);
        add_all(&mut self.covered_all, &other.covered_all);
        add_all(&mut self.catchment, &other.catchment);
        add_all(&mut self.population, &other.population);
        add_all(&mut self.gap_population, &other.gap_population);
        add_all(&mut self.city_counted, &other.city_counted);
        add_all(&mut self.city_covered, &other.city_covered);
        add_all(&mut self.city_covered_all, &other.city_covered_all);
        self.defaulted
            .iter_mut()
            .zip(&other.defaulted)
            .for_each(|(a, b)| *a += b);
        self.total += other.total;
    }
}

/// Coverage per community and for the city. A category with a target group weighs each demand
/// point by its group count (its whole population when it has none); `lacking` compares that
/// coverage with the category's target.
pub(super) fn summarise(
    demand: &[Residence],
    demand_community: &[u32],
    n_communities: usize,
    categories: &mut [CategoryResult],
    groups: &GroupCounts,
) -> Vec<CommunityResult> {
    let nc = categories.len();
    let with = SumContext::new(categories, groups);
    // Sums over fixed chunks of demand points, added up in chunk order, so that the totals do
    // not depend on the number of threads. A chunk holds at least 8 demand points per
    // community, so that the partial sums never take more memory than the demand points
    // themselves. The chunks are summed in parallel a wave at a time, one per thread, into
    // partial sums that are reused from wave to wave.
    let chunks = Chunks::new(
        demand.len(),
        SUMMARY_CHUNK.max(n_communities.saturating_mul(8)),
    );
    let per_wave = rayon::current_num_threads().clamp(1, chunks.count().max(1));
    let mut sums = Sums::new(n_communities, &with);
    let mut partials: Vec<Sums> = (0..per_wave)
        .map(|_| Sums::new(n_communities, &with))
        .collect();
    for wave in chunks.waves(per_wave) {
        let count = wave.len();
        partials[..count]
            .par_iter_mut()
            .zip(wave)
            .for_each(|(part, chunk)| {
                part.clear();
                for k in chunks.range(chunk) {
                    part.add(k, &demand[k], demand_community[k], &with);
                }
            });
        for part in &partials[..count] {
            sums.merge(part);
        }
    }
    drop(partials);
    let share = |x: f64, of: f64| (of > 0.0).then(|| x / of);
    let results: Vec<CommunityResult> = (0..n_communities)
        .map(|c| {
            let pop = sums.population[c];
            let row = c * nc..(c + 1) * nc;
            let counted = &sums.counted[row.clone()];
            let coverage: Vec<Option<f64>> = sums.covered[row.clone()]
                .iter()
                .zip(counted)
                .map(|(&covered, &counted)| share(covered, counted))
                .collect();
            let lacking = coverage
                .iter()
                .zip(with.categories.iter())
                .enumerate()
                .filter(|(_, (cov, cat))| cov.is_some_and(|v| v < cat.plan.target_percent / 100.0))
                .map(|(j, _)| j)
                .collect();
            CommunityResult {
                population: pop,
                coverage,
                coverage_everyone: sums.covered_all[row]
                    .iter()
                    .map(|&x| share(x, pop))
                    .collect(),
                counted: counted.to_vec(),
                lacking,
                lacking_capacity: Vec::new(),
                gap_population: sums.gap_population[c],
            }
        })
        .collect();
    let catchments: Vec<Vec<f64>> = (0..nc)
        .map(|j| sums.catchment[with.catchment_range(j)].to_vec())
        .collect();
    drop(with);
    for ((j, cat), catchment) in categories.iter_mut().enumerate().zip(catchments) {
        cat.counted_population = sums.city_counted[j];
        cat.covered_population = sums.city_covered[j];
        cat.coverage = share(sums.city_covered[j], sums.city_counted[j]).unwrap_or(0.0);
        cat.covered_everyone = sums.city_covered_all[j];
        cat.coverage_everyone = share(sums.city_covered_all[j], sums.total).unwrap_or(0.0);
        cat.group_defaulted = sums.defaulted[j];
        cat.catchment = catchment;
        cat.communities_lacking = results.iter().filter(|r| r.lacking.contains(&j)).count();
    }
    results
}
