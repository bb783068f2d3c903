//! Generate a seeded synthetic city as GeoJSON, for benchmarks.
//!
//! ```text
//! cargo run --release --example synth_city -- --residences 1000000 [--streets] [--seed 42] --out DIR
//! ```
//!
//! Writes residences.geojson, communities.geojson, facilities.geojson, the same facilities with a
//! capacity each (facilities-capacity.geojson), and streets.geojson with `--streets`, into DIR
//! and prints the counts, file sizes and times.

use std::{path::PathBuf, process::ExitCode, time::Instant};

use clap::Parser;
use lifecircle_synth::{self as synth, CitySpec};

/// Generate a seeded synthetic city (residences, communities, facilities, streets) as GeoJSON.
#[derive(Parser)]
#[command(name = "synth_city")]
struct Args {
    /// Number of residential buildings; the city's area, communities and facilities scale with it.
    #[arg(long)]
    residences: usize,
    /// Also generate a street grid (about 120,000 pieces per million residences).
    #[arg(long)]
    streets: bool,
    /// Random seed: the same seed gives the same city.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of communities (default: scaled with the city, 1,500 per million residences).
    #[arg(long)]
    communities: Option<usize>,
    /// Facilities per category (default: scaled with the city, 1,000 per million residences).
    #[arg(long)]
    facilities_per_category: Option<usize>,
    /// Output directory (created if missing).
    #[arg(long)]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut spec = CitySpec::for_residences(args.residences);
    spec.seed = args.seed;
    spec.streets = args.streets;
    if let Some(c) = args.communities {
        spec.communities = c;
    }
    if let Some(f) = args.facilities_per_category {
        spec.facilities_per_category = f;
    }
    let start = Instant::now();
    let city = match synth::generate(&spec) {
        Ok(city) => city,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let generated = start.elapsed();
    let start = Instant::now();
    if let Err(e) = synth::write_geojson(&city, &args.out) {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let written = start.elapsed();

    println!(
        "synthetic city, seed {}, {:.1} km x {:.1} km around [{}, {}]",
        spec.seed,
        spec.side_m / 1000.0,
        spec.side_m / 1000.0,
        spec.centre.lon(),
        spec.centre.lat()
    );
    let files = [
        (synth::RESIDENCES_FILE, city.residences.len()),
        (synth::COMMUNITIES_FILE, city.communities.len()),
        (synth::FACILITIES_FILE, city.facilities.len()),
        (synth::FACILITIES_CAPACITY_FILE, city.facilities.len()),
        (synth::STREETS_FILE, city.streets.len()),
    ];
    for (name, count) in files {
        if name == synth::STREETS_FILE && city.streets.is_empty() {
            continue;
        }
        let path = args.out.join(name);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!(
            "  {:<40} {:>10} features {:>10.1} MB",
            path.display(),
            count,
            size as f64 / 1e6
        );
    }
    let people: u64 = city.residences.iter().map(|r| u64::from(r.1)).sum();
    let housed: u64 = city.communities.iter().map(|c| c.population).sum();
    println!(
        "  population {people}, {:.2} % inside a community",
        if people > 0 {
            100.0 * housed as f64 / people as f64
        } else {
            0.0
        }
    );
    println!(
        "  generated in {:.2} s, written in {:.2} s",
        generated.as_secs_f64(),
        written.as_secs_f64()
    );
    ExitCode::SUCCESS
}
