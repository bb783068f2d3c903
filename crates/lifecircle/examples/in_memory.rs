//! Analyse a neighbourhood built in code, without any file: facilities, homes and two
//! communities, a small street grid, and the six-functions profile at a 10-minute walk.
//!
//! ```text
//! cargo run --release -p lifecircle --example in_memory
//! ```

use geo::polygon;
use lifecircle::{
    analyze, Community, Facility, Inputs, LonLat, NetworkWalk, Plan, Profile, Residence,
    StraightLine, StreetNetwork, Walk,
};

/// A point `east_m` and `north_m` metres from a corner in central Shanghai.
fn at(east_m: f64, north_m: f64) -> Result<LonLat, lifecircle::InvalidValue> {
    let (lon0, lat0): (f64, f64) = (121.4700, 31.2300);
    let m_per_deg_lat = 110_900.0;
    let m_per_deg_lon = 111_320.0 * lat0.to_radians().cos();
    LonLat::new(
        lon0 + east_m / m_per_deg_lon,
        lat0 + north_m / m_per_deg_lat,
    )
}

fn main() -> lifecircle::Result<()> {
    let facilities = [
        Facility::new(
            "centre",
            at(150.0, 150.0)?,
            ["meals", "elderly_care", "medical"],
        )?
        .with_name("Neighbourhood centre")
        .with_capacity(60.0)?,
        Facility::new("kindergarten", at(900.0, 300.0)?, ["childcare"])?,
    ];
    let residences: Vec<Residence> = (0..10)
        .flat_map(|i| (0..4).map(move |j| (i, j)))
        .map(|(i, j)| {
            Residence::new(
                format!("home-{i}-{j}"),
                at(i as f64 * 100.0, j as f64 * 100.0)?,
                25.0,
            )
        })
        .collect::<Result<_, _>>()?;
    let west = polygon![
        (x: 121.4699, y: 31.2299), (x: 121.4747, y: 31.2299),
        (x: 121.4747, y: 31.2340), (x: 121.4699, y: 31.2340)
    ];
    let east = polygon![
        (x: 121.4747, y: 31.2299), (x: 121.4800, y: 31.2299),
        (x: 121.4800, y: 31.2340), (x: 121.4747, y: 31.2340)
    ];
    let communities = [
        Community::new("west", west.into())?.with_name("West"),
        Community::new("east", east.into())?.with_name("East"),
    ];
    // A street grid with junctions every 100 m (streets meet where they share a vertex).
    let mut streets = Vec::new();
    for i in 0..=10 {
        for j in 0..=3 {
            let (x, y) = (i as f64 * 100.0, j as f64 * 100.0);
            if i < 10 {
                streets.push(vec![at(x, y)?, at(x + 100.0, y)?]);
            }
            if j < 3 {
                streets.push(vec![at(x, y)?, at(x, y + 100.0)?]);
            }
        }
    }

    let plan = Plan::builder(Profile::builtin("six-functions")?)
        .max_walk(Walk::Minutes(10.0))
        .categories(["meals", "elderly_care", "medical", "childcare"])
        .build()?;
    let straight = StraightLine::default();
    let along_streets = NetworkWalk::new(StreetNetwork::from_lines(&streets), 100.0)?;
    for (label, model) in [
        (
            "straight line",
            &straight as &dyn lifecircle::WalkingDistance,
        ),
        ("along the streets", &along_streets),
    ] {
        let inputs = Inputs::new(&facilities)
            .residences(&residences)
            .communities(&communities);
        let a = analyze(inputs, plan.clone(), model, &())?;
        println!("{label}, within {:.0} m:", a.categories[0].plan.max_walk_m);
        for c in &a.categories {
            println!(
                "  {:<14} {:>5.1} % of {:>4.0} people",
                c.name,
                100.0 * c.coverage,
                c.counted_population
            );
        }
        for (community, result) in a.communities.iter().zip(&a.community_results) {
            let lacking: Vec<&str> = result
                .lacking
                .iter()
                .map(|&j| a.categories[j].name.as_str())
                .collect();
            println!(
                "  {} ({} people) lacks: {}",
                community.name().unwrap_or("?"),
                result.population,
                if lacking.is_empty() {
                    "nothing".to_string()
                } else {
                    lacking.join(", ")
                }
            );
        }
    }
    Ok(())
}
