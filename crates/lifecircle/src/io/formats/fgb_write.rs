//! Writing an output as a FlatGeobuf file (`.fgb`, version 3) with the `flatgeobuf` crate: the
//! features the one GeoJSON writer formats, parsed back ([`ParsedLayer`]) (the residence table
//! is written straight from the analysis values by
//! [`write_fgb_residences`](super::residences_write::write_fgb_residences), with the same
//! columns and values), with typed columns
//! (`Bool`, `Long`, `Double`, `String`, and `Json` for lists such as `lacking`), the packed
//! Hilbert R-tree spatial index (so the features are stored in Hilbert order, as every
//! FlatGeobuf writer with an index does), and the coordinate system in the header.

use std::io::Write;

use flatgeobuf::{
    geozero::{ColumnValue, PropertyProcessor},
    ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType,
};

use super::{
    gpkg_write::Srs,
    layer::{FieldType, Kind, ParsedLayer, Typed},
};

/// Write the layer `name`, a GeoJSON FeatureCollection formatted by the one GeoJSON writer (one
/// feature a line), as a FlatGeobuf file to `out`, in the coordinate system `srs`.
///
/// # Errors
/// The GeoJSON cannot be parsed back, a geometry cannot be encoded, or `out` fails.
pub(crate) fn write_fgb(
    name: &str,
    geojson: &[u8],
    srs: &Srs<'_>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let bad = |reason: String| std::io::Error::other(format!("layer {name}: {reason}"));
    let layer = ParsedLayer::from_geojson(geojson).map_err(bad)?;
    let geometry_type = match layer.geometry_type {
        Kind::Point => GeometryType::Point,
        Kind::LineString => GeometryType::LineString,
        Kind::Polygon => GeometryType::Polygon,
        Kind::MultiPoint => GeometryType::MultiPoint,
        Kind::MultiLineString => GeometryType::MultiLineString,
        Kind::MultiPolygon => GeometryType::MultiPolygon,
        Kind::Mixed => GeometryType::Unknown,
    };
    let mut fgb = FgbWriter::create_with_options(
        name,
        geometry_type,
        FgbWriterOptions {
            write_index: true,
            detect_type: false,
            promote_to_multi: false,
            crs: FgbCrs {
                org: Some("EPSG"),
                code: srs.code,
                name: Some(srs.name),
                wkt: Some(srs.wkt),
                ..FgbCrs::default()
            },
            ..FgbWriterOptions::default()
        },
    )
    .map_err(|e| bad(e.to_string()))?;
    for (k, t) in &layer.fields {
        let column_type = column_type(*t);
        fgb.add_column(k, column_type, |_, column| column.nullable = true);
    }
    for f in &layer.features {
        let mut failed = None;
        fgb.add_feature_geom(f.geometry.clone(), |w| {
            for (j, (k, t)) in layer.fields.iter().enumerate() {
                let Some(v) = f.value(j, k) else { continue };
                let typed = match t.typed(v.get()) {
                    Ok(typed) => typed,
                    Err(e) => {
                        failed = Some(e);
                        continue;
                    }
                };
                let Some(value) = column_value(&typed) else {
                    continue;
                };
                if let Err(e) = w.property(j, k, &value) {
                    failed = Some(e.to_string());
                }
            }
        })
        .map_err(|e| bad(e.to_string()))?;
        if let Some(reason) = failed {
            return Err(bad(reason));
        }
    }
    fgb.write(out).map_err(|e| bad(e.to_string()))
}

/// A typed value as a FlatGeobuf property (`None` for null: the property is left out).
pub(crate) fn column_value<'t>(v: &'t Typed<'_>) -> Option<ColumnValue<'t>> {
    Some(match v {
        Typed::Null => return None,
        Typed::Bool(b) => ColumnValue::Bool(*b),
        Typed::Int(n) => ColumnValue::Long(*n),
        Typed::Real(x) => ColumnValue::Double(*x),
        Typed::Text(t) => ColumnValue::String(t),
        Typed::Json(t) => ColumnValue::Json(t),
    })
}

/// The FlatGeobuf column type of a field.
pub(crate) fn column_type(t: FieldType) -> ColumnType {
    match t {
        FieldType::Boolean => ColumnType::Bool,
        FieldType::Integer => ColumnType::Long,
        FieldType::Real => ColumnType::Double,
        FieldType::Json => ColumnType::Json,
        FieldType::Unknown | FieldType::Text => ColumnType::String,
    }
}
