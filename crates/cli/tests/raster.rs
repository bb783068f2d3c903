//! Population rasters (GeoTIFF) as residences and as `extract --population`: the fixtures were
//! made by GDAL from the Helsinki population grid (tests/fixtures/raster/make_rasters.sh), in
//! several sample types, compressions, strip and tile layouts and coordinate systems, and each
//! is listed cell by cell by `gdal2xyz` (and its centres converted to WGS84 by `gdaltransform`
//! for the projected ones). The residences read must be exactly GDAL's populated cells.

use std::{collections::BTreeMap, path::Path};

use crate::support::{data_arg, fails, features, fixture, ok, point_of, prop, read_json};

/// A fixture of tests/fixtures/raster as an argument.
fn raster(name: &str) -> String {
    fixture("raster")
        .join(name)
        .to_str()
        .expect("a UTF-8 path")
        .to_string()
}

/// The lines of a fixture, split at whitespace into numbers.
fn numbers(name: &str) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(raster(name)).unwrap();
    text.lines()
        .map(|l| {
            l.split_whitespace()
                .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: {l}")))
                .collect()
        })
        .collect()
}

/// The populated cells GDAL lists: id `r{row}c{col}` to (x, y, population), where row and
/// column follow from the line's place (gdal2xyz lists every cell, row by row from the top)
/// and x, y are the centre from `lonlat` (gdaltransform's output, line for line) when given.
fn gdal_cells(xyz: &str, lonlat: Option<&str>) -> BTreeMap<String, (f64, f64, f64)> {
    let cells = numbers(xyz);
    let first_y = cells[0][1];
    let width = cells.iter().take_while(|c| c[1] == first_y).count();
    let positions = lonlat.map(numbers);
    cells
        .iter()
        .enumerate()
        .filter(|(_, c)| c[2] > 0.0)
        .map(|(k, c)| {
            let (x, y) = match &positions {
                Some(p) => (p[k][0], p[k][1]),
                None => (c[0], c[1]),
            };
            (format!("r{}c{}", k / width, k % width), (x, y, c[2]))
        })
        .collect()
}

/// Analyse with the raster as residences (straight-line walks); the residences written, by id.
fn residences_of(dir: &Path, tif: &str) -> BTreeMap<String, (f64, f64, f64)> {
    let out = dir.join(tif);
    let (f, r) = (data_arg("facilities.geojson"), raster(tif));
    ok(
        dir,
        &[
            "analyze",
            "--quiet",
            "--facilities",
            &f,
            "--residences",
            &r,
            "--out",
            out.to_str().unwrap(),
        ],
    );
    features(&out.join("residences.geojson"))
        .iter()
        .map(|f| {
            let p = point_of(f);
            (
                prop(f, "id").as_str().unwrap().to_string(),
                (p.x(), p.y(), prop(f, "population").as_f64().unwrap()),
            )
        })
        .collect()
}

/// The two listings hold the same cells, at the same places (within `tolerance_deg`), with
/// the same populations.
fn assert_same_cells(
    what: &str,
    got: &BTreeMap<String, (f64, f64, f64)>,
    expected: &BTreeMap<String, (f64, f64, f64)>,
    tolerance_deg: f64,
) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "{what}: the cells read are not GDAL's populated cells"
    );
    for (id, (x, y, pop)) in expected {
        let (gx, gy, gpop) = got[id];
        assert!(
            (gx - x).abs() <= tolerance_deg && (gy - y).abs() <= tolerance_deg,
            "{what} {id}: at [{gx}, {gy}], GDAL [{x}, {y}]"
        );
        assert_eq!(gpop, *pop, "{what} {id}: population");
    }
}

#[test]
fn every_sample_type_compression_and_layout_gives_gdals_populated_cells() {
    let dir = tempfile::tempdir().unwrap();
    // Positions are written with 7 decimals: at most half a unit of the 7th decimal off.
    let rounding = 0.5e-7 + 1e-12;
    for name in [
        "pop-f32-deflate-tiled",
        "pop-u16-lzw-strips",
        "pop-i16-packbits",
        "pop-i32-none",
        "pop-u32-deflate",
        "pop-f64-lzw-point",
        "pop-u8-none",
    ] {
        let expected = gdal_cells(&format!("{name}.xyz"), None);
        let got = residences_of(dir.path(), &format!("{name}.tif"));
        assert_same_cells(name, &got, &expected, rounding);
        // The whole population is read: 71724 people in 92 cells (the Byte raster clips
        // every cell to 255).
        let total: f64 = got.values().map(|c| c.2).sum();
        let gdal_total: f64 = expected.values().map(|c| c.2).sum();
        assert_eq!(total, gdal_total, "{name}");
        assert_eq!(got.len(), 92, "{name}");
        if name != "pop-u8-none" {
            assert_eq!(total, 71724.0, "{name}");
        }
    }
}

#[test]
fn projected_rasters_are_converted_as_proj_converts_them() {
    let dir = tempfile::tempdir().unwrap();
    // gdaltransform (PROJ) against proj4rs, then rounding to 7 decimals: 1e-7 degrees is
    // about 1 cm here.
    for (name, lonlat) in [
        ("pop-etrs-tm35", "etrs-tm35-lonlat.txt"),
        ("pop-mollweide", "mollweide-lonlat.txt"),
    ] {
        let expected = gdal_cells(&format!("{name}.xyz"), Some(lonlat));
        let got = residences_of(dir.path(), &format!("{name}.tif"));
        assert_same_cells(name, &got, &expected, 1e-7);
        assert!(got.len() > 80, "{name}: {}", got.len());
    }
}

#[test]
fn a_nodata_value_that_is_also_a_population_marks_nodata_cells() {
    let dir = tempfile::tempdir().unwrap();
    let got = residences_of(dir.path(), "pop-u16-nodata358.tif");
    // GDAL's own listing without its nodata cells: the same places and values.
    let mut expected: Vec<(i64, i64, f64)> = numbers("pop-u16-nodata358.skipnodata.xyz")
        .iter()
        .filter(|c| c[2] > 0.0)
        .map(|c| {
            (
                (c[0] * 1e7).round() as i64,
                (c[1] * 1e7).round() as i64,
                c[2],
            )
        })
        .collect();
    let mut read: Vec<(i64, i64, f64)> = got
        .values()
        .map(|(x, y, p)| ((x * 1e7).round() as i64, (y * 1e7).round() as i64, *p))
        .collect();
    expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
    read.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(read, expected);
    assert!(read.iter().all(|c| c.2 != 358.0));
    assert!(read.len() < 92);
}

#[test]
fn extract_shares_raster_cells_among_homes_and_keeps_every_person() {
    let dir = tempfile::tempdir().unwrap();
    let pbf = data_arg("raw/helsinki-centre.osm.pbf");
    for name in ["pop-f32-deflate-tiled", "pop-etrs-tm35"] {
        let out = dir.path().join(name);
        let tif = raster(&format!("{name}.tif"));
        let stdout = ok(
            dir.path(),
            &[
                "extract",
                &pbf,
                "--population",
                &tif,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        let cells = gdal_cells(&format!("{name}.xyz"), None);
        let raster_total: f64 = cells.values().map(|c| c.2).sum();
        let residences = features(&out.join("residences.geojson"));
        let total: f64 = residences
            .iter()
            .map(|f| prop(f, "population").as_f64().unwrap())
            .sum();
        // Populations are written with 3 decimals.
        assert!(
            (total - raster_total).abs() <= 0.5e-3 * residences.len() as f64,
            "{name}: {total} read, {raster_total} in the raster"
        );
        // A cell without homes is a residence of its own, with the cell's whole population.
        let own: Vec<_> = residences
            .iter()
            .filter(|f| prop(f, "population_cell") == &serde_json::Value::Bool(true))
            .collect();
        assert!(!own.is_empty() && own.len() < residences.len(), "{name}");
        for f in &own {
            let id = prop(f, "id").as_str().unwrap();
            let (_, _, pop) = cells[id];
            assert_eq!(prop(f, "population").as_f64().unwrap(), pop, "{name} {id}");
            assert!(prop(f, "floor_area_m2").is_null());
        }
        assert!(
            stdout.contains(&format!("and {} population raster cells", own.len())),
            "{stdout}"
        );
        assert!(!stdout.contains("unplaced"), "{stdout}");
    }
}

#[test]
fn bad_rasters_stop_with_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let f = data_arg("facilities.geojson");
    for (name, needles) in [
        ("bad-not-tiff.tif", &["not a readable GeoTIFF"][..]),
        ("bad-no-georef.tif", &["has no georeference", "-a_ullr"][..]),
        ("bad-complex.tif", &["complex numbers"][..]),
        ("bad-rgb.tif", &["has 3 bands"][..]),
        ("bad-truncated.tif", &["cannot be read"][..]),
    ] {
        let r = raster(name);
        let mut all = vec![name];
        all.extend_from_slice(needles);
        fails(
            dir.path(),
            &[
                "analyze",
                "--facilities",
                &f,
                "--residences",
                &r,
                "--out",
                "o",
            ],
            &all,
        );
        assert!(!dir.path().join("o/residences.geojson").exists());
    }
    // A raster is demand, not facilities.
    let r = raster("pop-i32-none.tif");
    fails(
        dir.path(),
        &["analyze", "--facilities", &r, "--out", "o"],
        &["pop-i32-none.tif", "read as residences"],
    );
    // A raster whose coordinate system is not known can be named.
    let out = dir.path().join("named");
    let tif = raster("pop-i32-none.tif");
    ok(
        dir.path(),
        &[
            "analyze",
            "--quiet",
            "--facilities",
            &f,
            "--residences",
            &tif,
            "--residences-coords",
            "EPSG:4326",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let summary = read_json(&out.join("summary.json"));
    assert!(summary.is_object());
}
