//! Which OpenStreetMap ways people can walk along: the street network of `extract` and of
//! `analyze --network`.
//!
//! # The rule
//! A way is walkable when its `highway` value is in the table and its condition holds, and none
//! of the general exclusions applies.
//!
//! | `highway` | kept when |
//! |---|---|
//! | `footway`, `path`, `pedestrian`, `steps`, `corridor`, `elevator`, `crossing`, `living_street`, `residential`, `service`, `track`, `unclassified`, `road`, `bridleway`, `trail` | always |
//! | `primary`, `primary_link`, `secondary`, `secondary_link`, `tertiary`, `tertiary_link` | always: city roads have pavements (tag `foot=no` or `foot=use_sidepath` where they do not) |
//! | `cycleway` | `foot=yes\|designated\|permissive` (shared foot and cycle paths) |
//! | `trunk`, `trunk_link` | `foot=yes\|designated\|permissive`, or `sidewalk=both\|left\|right\|yes` |
//! | `motorway`, `motorway_link` | `foot=yes\|designated\|permissive` |
//! | anything else (`platform`, `construction`, `proposed`, `bus_guideway`, `busway`, `raceway`, `escape`, ...) | never |
//!
//! General exclusions, whatever the `highway` value:
//! - `foot=no|private|use_sidepath` (`use_sidepath`: walk on the separately mapped pavement);
//! - `access=no|private`, unless `foot=yes|designated|permissive`;
//! - `area=yes` (pedestrian squares and other areas are outlines, not lines to walk along).
//!
//! # Why cycleways that allow walking are kept
//! `highway=cycleway` with `foot=designated` (or `yes`/`permissive`) is how OpenStreetMap maps a
//! shared or segregated foot and cycle path, the same thing as `highway=path` with
//! `foot=designated` and `bicycle=designated`: people may walk there, often by law. OSMnx's
//! "walk" network, and networks made with its rule, leave out every cycleway (see
//! gboeing/osmnx#398). On the Helsinki sample that rule turns a footway passage into an island
//! whose only link to the city is a segregated foot and cycle path, stranding a building with
//! 773 of the 7,801 residents. Cycleways without such a `foot` tag (or with `foot=no`, usually
//! beside a separately mapped pavement) are left out.
//!
//! # Ways cut by the extract's edge
//! A way whose nodes are partly missing from the file (it crosses the extract's boundary) keeps
//! its runs of two or more consecutive nodes that are present, each as its own [`StreetLine`]
//! (same `id`); a way with no such run is dropped. Both are counted in [`Skipped`].

use std::path::Path;

use crate::{error::Result, geodesy::LonLat};

use super::{
    pbf::{self, StreetWay, Wants},
    SkipKind, Skipped,
};

/// `highway` values kept unless a general exclusion applies.
pub const ALWAYS: [&str; 21] = [
    "footway",
    "path",
    "pedestrian",
    "steps",
    "corridor",
    "elevator",
    "crossing",
    "living_street",
    "residential",
    "service",
    "track",
    "unclassified",
    "road",
    "bridleway",
    "trail",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
];

const FOOT_ALLOWED: [&str; 3] = ["yes", "designated", "permissive"];

/// A walkable way, or the part of one that lies inside the extract.
#[derive(Debug, Clone, PartialEq)]
pub struct StreetLine {
    /// The OSM way id (several lines share it when the extract's edge cuts the way).
    pub id: i64,
    /// The way's `highway` value.
    pub highway: String,
    /// The positions along the way, at least two.
    pub coords: Vec<LonLat>,
}

impl StreetLine {
    /// Length along the line on the WGS84 ellipsoid.
    ///
    /// # Units
    /// Metres.
    pub fn length_m(&self) -> f64 {
        self.coords
            .windows(2)
            .map(|w| crate::geodesy::surface_distance_m(w[0], w[1]))
            .sum()
    }
}

fn tag<'a>(tags: &[(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// Whether a way with these tags is walkable, by the rule in the [module docs](self).
pub fn is_walkable(tags: &[(&str, &str)]) -> bool {
    let Some(highway) = tag(tags, "highway") else {
        return false;
    };
    let foot = tag(tags, "foot");
    let foot_allowed = foot.is_some_and(|f| FOOT_ALLOWED.contains(&f));
    if matches!(foot, Some("no" | "private" | "use_sidepath")) {
        return false;
    }
    if matches!(tag(tags, "access"), Some("no" | "private")) && !foot_allowed {
        return false;
    }
    if tag(tags, "area") == Some("yes") {
        return false;
    }
    match highway {
        h if ALWAYS.contains(&h) => true,
        "cycleway" | "motorway" | "motorway_link" => foot_allowed,
        "trunk" | "trunk_link" => {
            foot_allowed
                || matches!(
                    tag(tags, "sidewalk"),
                    Some("both" | "left" | "right" | "yes")
                )
        }
        _ => false,
    }
}

/// The walkable ways of an .osm.pbf file (rule: [module docs](self)), sorted by way id.
///
/// # Errors
/// The file cannot be read, or is not a valid OSM PBF file.
pub fn walkable_lines(path: &Path) -> Result<Vec<StreetLine>> {
    walkable_lines_counted(path).map(|(lines, _)| lines)
}

/// As [`walkable_lines`], also returning the ways cut or dropped because nodes are missing.
///
/// # Errors
/// As [`walkable_lines`].
pub fn walkable_lines_counted(path: &Path) -> Result<(Vec<StreetLine>, Skipped)> {
    let data = pbf::read(
        path,
        Wants {
            streets: true,
            mapping: None,
        },
        &(),
    )?;
    let mut skipped = Skipped::default();
    let lines = street_lines(&data.found.streets, &data.coords, &mut skipped);
    Ok((lines, skipped))
}

pub(crate) fn street_lines(
    ways: &[StreetWay],
    coords: &pbf::NodeCoords,
    skipped: &mut Skipped,
) -> Vec<StreetLine> {
    let mut out = Vec::new();
    for w in ways {
        let mut runs: Vec<Vec<LonLat>> = vec![Vec::new()];
        let mut missing = 0;
        for &n in &w.nodes {
            match coords.get(n) {
                Some(p) => {
                    if let Some(run) = runs.last_mut() {
                        run.push(p);
                    }
                }
                None => {
                    missing += 1;
                    runs.push(Vec::new());
                }
            }
        }
        let kept: Vec<Vec<LonLat>> = runs.into_iter().filter(|r| r.len() >= 2).collect();
        if missing > 0 || kept.is_empty() {
            let (kind, what) = if kept.is_empty() {
                (
                    SkipKind::StreetDropped,
                    "dropped: no two consecutive nodes present",
                )
            } else {
                (SkipKind::StreetClipped, "kept the parts inside the extract")
            };
            skipped.add(
                kind,
                format!(
                    "street w{} ({}): {missing} of {} nodes are missing from the file; {what}",
                    w.id,
                    w.highway,
                    w.nodes.len()
                ),
            );
        }
        for coords in kept {
            out.push(StreetLine {
                id: w.id,
                highway: w.highway.clone(),
                coords,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_table() {
        let w = |t: &[(&str, &str)]| is_walkable(t);
        assert!(w(&[("highway", "footway")]));
        assert!(w(&[("highway", "primary")]));
        assert!(w(&[("highway", "service"), ("access", "destination")]));
        assert!(!w(&[("highway", "primary"), ("foot", "no")]));
        assert!(!w(&[("highway", "primary"), ("foot", "use_sidepath")]));
        assert!(!w(&[("highway", "service"), ("access", "private")]));
        assert!(w(&[
            ("highway", "service"),
            ("access", "private"),
            ("foot", "yes")
        ]));
        assert!(!w(&[("highway", "pedestrian"), ("area", "yes")]));
        assert!(!w(&[("highway", "cycleway")]));
        assert!(w(&[("highway", "cycleway"), ("foot", "designated")]));
        assert!(w(&[
            ("highway", "cycleway"),
            ("foot", "designated"),
            ("segregated", "yes")
        ]));
        assert!(w(&[("highway", "cycleway"), ("foot", "yes")]));
        assert!(!w(&[("highway", "cycleway"), ("foot", "no")]));
        assert!(!w(&[("highway", "motorway")]));
        assert!(w(&[("highway", "motorway_link"), ("foot", "permissive")]));
        assert!(!w(&[("highway", "trunk")]));
        assert!(w(&[("highway", "trunk"), ("sidewalk", "both")]));
        assert!(!w(&[("highway", "trunk"), ("sidewalk", "no")]));
        assert!(!w(&[("highway", "platform")]));
        assert!(!w(&[("highway", "construction")]));
        assert!(!w(&[("building", "yes")]));
    }
}
