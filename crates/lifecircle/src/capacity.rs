//! Capacity within reach: the two-step floating catchment area (2SFCA, Luo & Wang 2003) and
//! its distance-weighted form (E2SFCA, Luo & Qi 2009), defined as PySAL `access` 1.1 defines
//! them, and the shortfall against a provision standard.
//!
//! For a category with facilities `j` of capacity `S_j`, demand points `i` counting `P_i`
//! people, and every pair within the walk at distance `d_ij` (inclusive: `d_ij <= max_walk`),
//! with a weight `w(d)`:
//!
//! 1. each facility's ratio `R_j = S_j / sum_i P_i w(d_ij)`, for facilities with demand in
//!    reach (a positive denominator); the others have no ratio;
//! 2. each demand point's access `A_i = sum_j R_j w(d_ij)` over the facilities with a ratio
//!    within its walk; a demand point with no facility within its walk has no score (NaN).
//!
//! The weight is 1 (2SFCA), a step function of distance bands (the weight of the first band
//! whose limit is at least `d`, 0 beyond the last), or a Gaussian `exp(-d^2 / (2 sigma^2))`;
//! the same weight is used in both steps. It follows that the people times their access add
//! up to the capacity of the facilities with demand in reach:
//! `sum_i P_i A_i = sum_j S_j` over those facilities ([`Catchments::check_sum`]).
//!
//! # Units
//! Distances in metres; capacity in places (beds, seats...); access in places per person.

use rayon::prelude::*;

use crate::{
    error::{Setting, SettingsError},
    walk::Pairs,
};

/// How a pair's distance weighs in both steps of the floating catchment.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Weighting {
    /// Every pair within the walk weighs 1 (plain 2SFCA).
    #[default]
    Uniform,
    /// Distance bands `(limit_m, weight)`, limits increasing: a pair weighs the weight of the
    /// first band whose limit is at least its distance, and 0 beyond the last limit.
    Steps(Vec<(f64, f64)>),
    /// `exp(-d^2 / (2 sigma^2))`, `sigma_m` in metres.
    Gaussian {
        /// The standard deviation of the decay, metres.
        sigma_m: f64,
    },
}

impl Weighting {
    /// Distance bands, checked: limits positive, finite and increasing, weights in 0..=1.
    ///
    /// # Errors
    /// A [`SettingsError`] naming the first band that breaks a rule.
    pub fn steps(bands: Vec<(f64, f64)>) -> Result<Self, SettingsError> {
        if bands.is_empty() {
            return Err(SettingsError::without_value(
                Setting::Weighting,
                "needs at least one distance band [limit_m, weight]",
            ));
        }
        let mut previous = 0.0;
        for (k, &(limit_m, weight)) in bands.iter().enumerate() {
            if !(limit_m.is_finite() && limit_m > previous) {
                return Err(SettingsError::new(
                    Setting::Weighting,
                    format!("[{limit_m}, {weight}]"),
                    format!(
                        "band {}: limits must be positive distances in metres, each larger \
                         than the one before",
                        k + 1
                    ),
                ));
            }
            if !(0.0..=1.0).contains(&weight) {
                return Err(SettingsError::new(
                    Setting::Weighting,
                    format!("[{limit_m}, {weight}]"),
                    format!("band {}: the weight must be from 0 to 1", k + 1),
                ));
            }
            previous = limit_m;
        }
        Ok(Self::Steps(bands))
    }

    /// A Gaussian decay, checked: `sigma_m` positive and finite.
    ///
    /// # Errors
    /// A [`SettingsError`] for any other sigma.
    pub fn gaussian(sigma_m: f64) -> Result<Self, SettingsError> {
        if !(sigma_m.is_finite() && sigma_m > 0.0) {
            return Err(SettingsError::new(
                Setting::Weighting,
                sigma_m,
                "the Gaussian sigma must be a positive distance in metres",
            ));
        }
        Ok(Self::Gaussian { sigma_m })
    }

    /// The weight of a pair `distance_m` apart.
    pub fn weight(&self, distance_m: f64) -> f64 {
        match self {
            Self::Uniform => 1.0,
            Self::Steps(bands) => bands
                .iter()
                .find(|&&(limit_m, _)| distance_m <= limit_m)
                .map_or(0.0, |&(_, w)| w),
            Self::Gaussian { sigma_m } => {
                (-(distance_m * distance_m) / (2.0 * sigma_m * sigma_m)).exp()
            }
        }
    }

    /// `"2SFCA"` or `"E2SFCA"`, as written to the summary.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Uniform => "2SFCA",
            _ => "E2SFCA",
        }
    }
}

/// The result of the floating catchment for one category.
#[derive(Debug, Clone, PartialEq)]
pub struct Catchments {
    /// Per facility: its ratio `R_j` (places per weighted person in reach); NaN for a facility
    /// without capacity or without demand in reach.
    pub ratio: Vec<f64>,
    /// Per facility: the weighted demand within its walk (step 1's denominator), people.
    pub demand_in_reach: Vec<f64>,
    /// Per demand point: its access `A_i`, places per person; NaN when no facility is within
    /// its walk.
    pub access: Vec<f64>,
}

impl Catchments {
    /// Run both steps over `pairs`, with `capacity` per facility (`None`: the facility takes no
    /// part) and `population` per demand point (the people the category counts).
    ///
    /// # Panics
    /// Never for consistent inputs; `capacity` must have one entry per facility of `pairs` and
    /// `population` one per demand point (extra pairs beyond them are ignored).
    pub fn compute(
        pairs: &Pairs,
        capacity: &[Option<f64>],
        population: &[f64],
        weighting: &Weighting,
    ) -> Self {
        let facilities = pairs.facilities();
        let pop = |i: u32| population.get(i as usize).copied().unwrap_or(0.0);
        let (ratio, demand_in_reach): (Vec<f64>, Vec<f64>) = (0..facilities)
            .into_par_iter()
            .map(|j| {
                let (ids, dists) = pairs.of_facility(j);
                let demand: f64 = ids
                    .iter()
                    .zip(dists)
                    .map(|(&i, &d)| pop(i) * weighting.weight(d))
                    .sum();
                let ratio = match capacity.get(j).copied().flatten() {
                    Some(s) if demand > 0.0 => s / demand,
                    _ => f64::NAN,
                };
                (ratio, demand)
            })
            .unzip();
        // Step 2, in facility order (a fixed order of additions, whatever the thread count).
        let mut access = vec![f64::NAN; population.len()];
        for (j, i, d) in pairs.iter() {
            let Some(a) = access.get_mut(i) else { continue };
            let term = if ratio[j].is_nan() {
                0.0
            } else {
                ratio[j] * weighting.weight(d)
            };
            *a = if a.is_nan() { term } else { *a + term };
        }
        Self {
            ratio,
            demand_in_reach,
            access,
        }
    }

    /// The two sides of the check that must hold: the people times their access, and the
    /// capacity of the facilities with demand in reach (equal up to rounding).
    pub fn check_sum(&self, capacity: &[Option<f64>], population: &[f64]) -> (f64, f64) {
        let placed: f64 = self
            .access
            .iter()
            .zip(population)
            .filter(|(a, _)| !a.is_nan())
            .map(|(a, p)| a * p)
            .sum();
        let offered: f64 = self
            .ratio
            .iter()
            .zip(capacity)
            .filter(|(r, _)| !r.is_nan())
            .filter_map(|(_, c)| *c)
            .sum();
        (placed, offered)
    }
}

/// A provision standard: `places` per `per` counted people (e.g. 30 kindergarten places per
/// 1,000 residents, or 4 care beds per 100 elderly).
#[derive(Debug, Clone, PartialEq)]
pub struct Standard {
    /// Places asked for per `per` people.
    pub places: f64,
    /// The number of people `places` are for.
    pub per: f64,
    /// Where the numbers come from: a citation, or "project choice: ...".
    pub source: Option<String>,
}

impl Standard {
    /// A checked standard: both numbers positive and finite.
    ///
    /// # Errors
    /// A [`SettingsError`] otherwise.
    pub fn new(places: f64, per: f64, source: Option<String>) -> Result<Self, SettingsError> {
        if !(places.is_finite() && places > 0.0 && per.is_finite() && per > 0.0) {
            return Err(SettingsError::new(
                Setting::Standard,
                format!("{places} places per {per}"),
                "places and per must both be positive numbers",
            ));
        }
        Ok(Self {
            places,
            per,
            source,
        })
    }

    /// The places `people` need under this standard.
    pub fn places_for(&self, people: f64) -> f64 {
        people * self.places / self.per
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights() {
        let steps = Weighting::steps(vec![(300.0, 1.0), (600.0, 0.68), (900.0, 0.22)]).unwrap();
        assert_eq!(steps.weight(0.0), 1.0);
        assert_eq!(steps.weight(300.0), 1.0);
        assert_eq!(steps.weight(300.1), 0.68);
        assert_eq!(steps.weight(900.0), 0.22);
        assert_eq!(steps.weight(900.1), 0.0);
        let g = Weighting::gaussian(400.0).unwrap();
        assert!((g.weight(400.0) - (-0.5f64).exp()).abs() < 1e-15);
        assert_eq!(Weighting::Uniform.weight(1e9), 1.0);
        assert!(Weighting::steps(vec![(300.0, 1.0), (200.0, 0.5)]).is_err());
        assert!(Weighting::steps(vec![(300.0, 1.5)]).is_err());
        assert!(Weighting::steps(vec![]).is_err());
        assert!(Weighting::gaussian(0.0).is_err());
        assert!(Standard::new(0.0, 1000.0, None).is_err());
        assert!(Standard::new(30.0, -1.0, None).is_err());
    }

    #[test]
    fn two_facilities_by_hand() {
        // Facility 0 (60 places) reaches demand 0 (100 people, 200 m) and 1 (50 people, 500 m);
        // facility 1 (30 places) reaches demand 1 (400 m); facility 2 (10 places) reaches
        // nobody; facility 3 has no capacity; demand 2 (20 people) reaches nothing.
        let pairs = Pairs::from_lists(vec![
            vec![(1, 500.0), (0, 200.0)],
            vec![(1, 400.0)],
            vec![],
            vec![(0, 100.0)],
        ]);
        let capacity = [Some(60.0), Some(30.0), Some(10.0), None];
        let population = [100.0, 50.0, 20.0];
        let c = Catchments::compute(&pairs, &capacity, &population, &Weighting::Uniform);
        // R0 = 60 / 150 = 0.4, R1 = 30 / 50 = 0.6.
        assert_eq!(c.demand_in_reach, vec![150.0, 50.0, 0.0, 100.0]);
        assert!((c.ratio[0] - 0.4).abs() < 1e-15 && (c.ratio[1] - 0.6).abs() < 1e-15);
        assert!(c.ratio[2].is_nan() && c.ratio[3].is_nan());
        // A0 = 0.4 (+ 0 for the facility without capacity), A1 = 0.4 + 0.6, A2 none.
        assert!((c.access[0] - 0.4).abs() < 1e-15);
        assert!((c.access[1] - 1.0).abs() < 1e-15);
        assert!(c.access[2].is_nan());
        let (placed, offered) = c.check_sum(&capacity, &population);
        assert!((placed - 90.0).abs() < 1e-12 && offered == 90.0);

        // Bands: demand 0 weighs 1, demand 1 weighs 0.5 (to f0) and 0.5 (to f1).
        let w = Weighting::steps(vec![(300.0, 1.0), (600.0, 0.5)]).unwrap();
        let c = Catchments::compute(&pairs, &capacity, &population, &w);
        // R0 = 60 / (100 + 25) = 0.48; R1 = 30 / 25 = 1.2; A1 = 0.5 * 0.48 + 0.5 * 1.2 = 0.84.
        assert!((c.ratio[0] - 0.48).abs() < 1e-15 && (c.ratio[1] - 1.2).abs() < 1e-15);
        assert!((c.access[0] - 0.48).abs() < 1e-15 && (c.access[1] - 0.84).abs() < 1e-15);
        let (placed, offered) = c.check_sum(&capacity, &population);
        assert!((placed - offered).abs() < 1e-12);
    }

    #[test]
    fn zero_capacity_and_zero_demand() {
        let pairs = Pairs::from_lists(vec![vec![(0, 10.0)], vec![(1, 10.0)]]);
        let c = Catchments::compute(
            &pairs,
            &[Some(0.0), Some(5.0)],
            &[10.0, 0.0],
            &Weighting::Uniform,
        );
        // Zero capacity: a ratio of 0, so an access of 0 (not missing). Zero demand in reach:
        // no ratio, and the point in reach scores 0.
        assert_eq!(c.ratio[0], 0.0);
        assert!(c.ratio[1].is_nan());
        assert_eq!(c.access, vec![0.0, 0.0]);
    }
}
