#!/usr/bin/env python3
"""Peer benchmark: PySAL `access` 2SFCA on a lifecircle city, for comparison with lifecircle.

    benches/peer_venv.sh        # makes target/peer-venv with the pinned packages (once)
    target/peer-venv/bin/python benches/access_peer.py \\
        --facilities F.geojson --residences R.geojson --category kindergarten \\
        --max-walk-m 1000 [--demand-field population] [--capacity-field capacity] \\
        [--capacity-default N] [--scores-out scores.csv]

Reads both GeoJSON FeatureCollections (one feature a line, as lifecircle-synth writes them, is
read line by line; any other layout is read with one json.load), keeps the facilities whose
`category` is --category, projects lon/lat to an azimuthal equidistant frame centred on the
residences' mean position (pyproj, WGS84), builds the sparse residence-facility cost table of
straight-line distances <= --max-walk-m with scipy's cKDTree.sparse_distance_matrix, and runs
`access.Access(...).two_stage_fca(max_cost=--max-walk-m)` (plain 2SFCA, normalize=False) with
supply = the facility's --capacity-field (or --capacity-default where it has none) and
demand = the residence's --demand-field.

Prints on stdout exactly one line:

    access_peer: seconds=<wall time of cost table + Access() + two_stage_fca> peak_rss_mb=<max RSS>

peak_rss_mb is getrusage(RUSAGE_SELF).ru_maxrss of the whole process (reading included).
Counts and a checksum go to stderr. Point geometries are used as they are; a Polygon or
MultiPolygon residence or facility stands at the mean of its first outer ring's vertices.
"""

import argparse
import json
import math
import resource
import sys
import time
from array import array

import numpy as np


def die(msg):
    print(f"access_peer: error: {msg}", file=sys.stderr)
    sys.exit(1)


def position(geom):
    if geom is None:
        return None
    t, c = geom.get("type"), geom.get("coordinates")
    if t == "Point":
        return c[0], c[1]
    if t == "Polygon":
        ring = c[0]
    elif t == "MultiPolygon":
        ring = c[0][0]
    else:
        return None
    pts = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


def features(path):
    """Yield the features of a FeatureCollection, line by line when it has one a line."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    lines_ok = False
    for line in head.split(b"\n")[1:3]:
        s = line.strip().rstrip(b",")
        if s.startswith(b'{"type":"Feature"') or s.startswith(b'{"type": "Feature"'):
            try:
                json.loads(s)
                lines_ok = True
            except ValueError:
                pass
            break
    if lines_ok:
        with open(path, "rb") as fh:
            for line in fh:
                s = line.strip().rstrip(b",")
                if s.startswith(b'{"type":"Feature"') or s.startswith(b'{"type": "Feature"'):
                    yield json.loads(s)
        return
    with open(path, "rb") as fh:
        data = json.load(fh)
    if data.get("type") != "FeatureCollection":
        die(f"{path}: not a GeoJSON FeatureCollection")
    yield from data["features"]


def read_residences(path, demand_field):
    lon, lat, dem = array("d"), array("d"), array("d")
    skipped = 0
    for f in features(path):
        p = position(f.get("geometry"))
        v = (f.get("properties") or {}).get(demand_field)
        if p is None or not isinstance(v, (int, float)) or isinstance(v, bool):
            skipped += 1
            continue
        lon.append(p[0])
        lat.append(p[1])
        dem.append(float(v))
    return np.frombuffer(lon), np.frombuffer(lat), np.frombuffer(dem), skipped


def read_facilities(path, category, capacity_field, capacity_default):
    lon, lat, cap = array("d"), array("d"), array("d")
    missing = 0
    for f in features(path):
        props = f.get("properties") or {}
        if props.get("category") != category:
            continue
        p = position(f.get("geometry"))
        if p is None:
            continue
        v = props.get(capacity_field)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            if capacity_default is None:
                die(f"{path}: a '{category}' facility has no numeric '{capacity_field}' "
                    "(use --capacity-default N)")
            v = capacity_default
            missing += 1
        lon.append(p[0])
        lat.append(p[1])
        cap.append(float(v))
    return np.frombuffer(lon), np.frombuffer(lat), np.frombuffer(cap), missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--facilities", required=True)
    ap.add_argument("--residences", required=True)
    ap.add_argument("--category", required=True)
    ap.add_argument("--max-walk-m", type=float, default=1000.0)
    ap.add_argument("--demand-field", default="population")
    ap.add_argument("--capacity-field", default="capacity")
    ap.add_argument("--capacity-default", type=float, default=None,
                    help="capacity of a facility without a numeric capacity field")
    ap.add_argument("--scores-out", default=None,
                    help="also write residence index (0-based, file order),score CSV")
    args = ap.parse_args()
    if not (args.max_walk_m > 0):
        die("--max-walk-m must be above 0")

    import pandas as pd
    import pyproj
    from scipy.spatial import cKDTree

    import access

    rlon, rlat, dem, skipped = read_residences(args.residences, args.demand_field)
    flon, flat, cap, missing = read_facilities(
        args.facilities, args.category, args.capacity_field, args.capacity_default)
    if len(rlon) == 0:
        die(f"{args.residences}: no residence with a numeric '{args.demand_field}'")
    if len(flon) == 0:
        die(f"{args.facilities}: no facility of category '{args.category}'")

    lat0, lon0 = float(rlat.mean()), float(rlon.mean())
    tr = pyproj.Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m",
        always_xy=True)
    rx, ry = tr.transform(rlon, rlat)
    fx, fy = tr.transform(flon, flat)
    rxy = np.column_stack([rx, ry])
    fxy = np.column_stack([fx, fy])
    demand_df = pd.DataFrame({"id": np.arange(len(dem)), "demand": dem})
    supply_df = pd.DataFrame({"id": np.arange(len(cap)), "supply": cap})

    t0 = time.perf_counter()
    rtree, ftree = cKDTree(rxy), cKDTree(fxy)
    sdm = rtree.sparse_distance_matrix(ftree, args.max_walk_m, output_type="ndarray")
    cost_df = pd.DataFrame({"origin": sdm["i"], "dest": sdm["j"], "cost": sdm["v"]})
    t1 = time.perf_counter()
    a = access.Access(
        demand_df=demand_df, demand_index="id", demand_value="demand",
        supply_df=supply_df, supply_index="id", supply_value="supply",
        cost_df=cost_df, cost_origin="origin", cost_dest="dest", cost_name="cost")
    out = a.two_stage_fca(name="fca2", max_cost=args.max_walk_m, normalize=False)
    t2 = time.perf_counter()

    score = out["fca2_supply"].reindex(np.arange(len(dem)))
    s = score.to_numpy()
    finite = np.isfinite(s)
    check = float(np.sum(dem[finite & (dem > 0)] * s[finite & (dem > 0)]))
    print(f"access_peer: access {access.__version__}, {len(dem)} residences ({skipped} skipped), "
          f"{len(cap)} '{args.category}' facilities ({missing} given --capacity-default), "
          f"{len(cost_df)} pairs <= {args.max_walk_m:g} m; cost table {t1 - t0:.3f} s, "
          f"access {t2 - t1:.3f} s; residences with no facility in reach {int(np.isnan(s).sum())},"
          f" sum demand*score {check:.6g}", file=sys.stderr)
    if args.scores_out:
        with open(args.scores_out, "w") as fh:
            fh.write("residence,score\n")
            for i, v in enumerate(s):
                fh.write(f"{i},{'' if math.isnan(v) else repr(float(v))}\n")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"access_peer: seconds={t2 - t0:.3f} peak_rss_mb={rss_mb:.1f}")


if __name__ == "__main__":
    main()
