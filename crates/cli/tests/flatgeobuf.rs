//! FlatGeobuf in and out: the sample as `.fgb` files made by `ogr2ogr` (with and without their
//! spatial index, and projected) gives the GeoJSON sample's outputs; every `.fgb` written opens
//! in GDAL with its feature count, field types and coordinate system, and converts back to the
//! GeoJSON output's values; a corrupt file stops with a message, never a panic.

use std::{collections::HashMap, fs, path::Path, process::Command};

use crate::{
    formats::{analyze, assert_same_outputs, formats},
    gdal::gdal_available,
    support::{data_arg, fails, features, ok, prop},
};

#[test]
fn flatgeobuf_inputs_give_the_geojson_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (f, r, c) = (
        data_arg("facilities.geojson"),
        data_arg("residences.geojson"),
        data_arg("communities.geojson"),
    );
    let geojson = analyze(
        dir.path(),
        "geojson",
        &["--facilities", &f, "--residences", &r, "--communities", &c],
    );
    let (ff, fr, fc) = (
        formats("facilities.fgb"),
        formats("residences.fgb"),
        formats("communities.fgb"),
    );
    let out = analyze(
        dir.path(),
        "fgb",
        &[
            "--facilities",
            &ff,
            "--residences",
            &fr,
            "--communities",
            &fc,
        ],
    );
    assert_same_outputs(&geojson, &out);
    // Projected (UTM 35N, declared in the header) and in the Hilbert order of its spatial
    // index: the same communities, each with the same line in the gap map.
    let utm = formats("communities-utm35.fgb");
    let out = analyze(
        dir.path(),
        "utm",
        &[
            "--facilities",
            &ff,
            "--residences",
            &fr,
            "--communities",
            &utm,
        ],
    );
    let lines = |p: &Path| {
        let mut l: Vec<String> = fs::read_to_string(p)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with(r#"{"type":"Feature""#))
            .map(|l| l.trim_end_matches(',').to_string())
            .collect();
        l.sort();
        l
    };
    let (expected, got) = (
        lines(&geojson.join("communities.geojson")),
        lines(&out.join("communities.geojson")),
    );
    assert_eq!(expected.len(), 6);
    assert_eq!(expected, got);
}

#[test]
fn flatgeobuf_outputs_open_in_gdal_with_counts_field_types_and_crs() {
    if !gdal_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (f, r, c) = (
        data_arg("facilities.geojson"),
        data_arg("residences.geojson"),
        data_arg("communities.geojson"),
    );
    let stdout = ok(
        dir.path(),
        &[
            "analyze",
            "--facilities",
            &f,
            "--residences",
            &r,
            "--communities",
            &c,
            "--format",
            "geojson,fgb",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(stdout.contains("facilities.fgb (FlatGeobuf)"), "{stdout}");
    for (layer, geometry, fields) in [
        (
            "communities",
            "Point",
            &[
                ("population", "Real"),
                ("lacking", "String"),
                ("served_all", "Integer(Boolean)"),
                ("gap_population", "Real"),
                ("medical_coverage", "Real"),
            ][..],
        ),
        (
            "residences",
            "Point",
            &[
                ("population", "Real"),
                ("medical_m", "Real"),
                ("medical_id", "String"),
            ][..],
        ),
        (
            "facilities",
            "Point",
            &[("categories", "String"), ("medical_catchment", "Real")][..],
        ),
    ] {
        let fgb = out.join(format!("{layer}.fgb"));
        let o = Command::new("ogrinfo")
            .args(["-ro", "-so"])
            .arg(&fgb)
            .arg(layer)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.trim().is_empty(), "{layer}: GDAL says {stderr}");
        let text = String::from_utf8(o.stdout).unwrap();
        let ours = features(&out.join(format!("{layer}.geojson")));
        assert!(
            text.contains(&format!("Feature Count: {}\n", ours.len())),
            "{text}"
        );
        assert!(text.contains(&format!("Geometry: {geometry}\n")), "{text}");
        assert!(text.contains("ID[\"EPSG\",4326]"), "{layer}: not WGS84");
        let types: HashMap<&str, &str> = text
            .lines()
            .skip_while(|l| !l.starts_with("Data axis to CRS axis mapping"))
            .skip(1)
            .filter_map(|l| {
                let (name, ty) = l.split_once(": ")?;
                Some((name, ty.split(' ').next()?))
            })
            .collect();
        for (field, ty) in fields {
            assert_eq!(types.get(field), Some(ty), "{layer}.{field}: {types:?}");
        }
        // ogr2ogr converts it back: every feature, each (matched by id, since the file is in
        // the Hilbert order of its index) with the GeoJSON output's values and position.
        let back = dir.path().join(format!("{layer}-back.geojson"));
        let o = Command::new("ogr2ogr")
            .args(["-f", "GeoJSON"])
            .arg(&back)
            .arg(&fgb)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let back = features(&back);
        assert_eq!(back.len(), ours.len());
        let by_id: HashMap<String, &geojson::Feature> = back
            .iter()
            .map(|f| (prop(f, "id").to_string(), f))
            .collect();
        assert_eq!(by_id.len(), ours.len(), "{layer}: ids are not unique");
        for b in &ours {
            let a = by_id[&prop(b, "id").to_string()];
            for (k, v) in b.properties.as_ref().unwrap() {
                let got = a
                    .properties
                    .as_ref()
                    .unwrap()
                    .get(k)
                    .unwrap_or(&serde_json::Value::Null);
                match (v, got) {
                    (serde_json::Value::Number(x), serde_json::Value::Number(y)) => {
                        assert_eq!(x.as_f64(), y.as_f64(), "{layer}.{k}")
                    }
                    // A list is JSON text.
                    (serde_json::Value::Array(_), serde_json::Value::String(s)) => assert_eq!(
                        &serde_json::from_str::<serde_json::Value>(s).unwrap(),
                        v,
                        "{layer}.{k}"
                    ),
                    _ => assert_eq!(got, v, "{layer}.{k}"),
                }
            }
            assert_eq!(a.geometry, b.geometry, "{layer}");
        }
    }
}

#[test]
fn corrupt_flatgeobuf_files_stop_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let c = data_arg("communities.geojson");
    let bytes = fs::read(formats("facilities.fgb")).unwrap();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "text.fgb",
            b"this is not FlatGeobuf".to_vec(),
            "text.fgb: not a readable FlatGeobuf file: it does not start with the FlatGeobuf signature",
        ),
        (
            "header.fgb",
            [&bytes[..8], &[0xff, 0xff, 0xff, 0x7f][..], &bytes[12..]].concat(),
            "header.fgb: not a readable FlatGeobuf file: a header of 2147483647 bytes",
        ),
        (
            "cut.fgb",
            bytes[..bytes.len() / 2].to_vec(),
            "cut.fgb: not a readable FlatGeobuf file: feature",
        ),
        (
            "garbled.fgb",
            [&bytes[..12], &vec![0xAB; 64][..], &bytes[76..]].concat(),
            "garbled.fgb: not a readable FlatGeobuf file: the header",
        ),
    ];
    for (name, content, message) in cases {
        fs::write(dir.path().join(name), content).unwrap();
        fails(
            dir.path(),
            &["analyze", "--facilities", name, "--communities", &c],
            &[message],
        );
    }
}
