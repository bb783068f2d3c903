"""PySAL spopt side by side with `lifecircle site` (benches/site.sh runs it): LSCP (the fewest
facilities covering everyone) and MCLP (the most population with p facilities) with the
existing facilities of one category pre-located, solved by CBC (bundled with pulp), on a
synthetic city from examples/synth_city.rs.

    python benches/site_peer.py CITY_DIR OUT_DIR [--category admin_services] [--walk-m 1000]
                                [--spacing-m 250] [--new 10]

It writes OUT_DIR/candidates.geojson (a square grid of --spacing-m over the residences' extent,
positions rounded to 7 decimals, as lifecircle writes them) for lifecircle to read with
--candidates, so both tools choose among the same sites, and prints one JSON object: the
objectives (new sites for LSCP; people covered, existing facilities included, for MCLP), the
seconds each step took, and how many residence-site pairs lie within 1 cm of the walk (where
two geodesic implementations could disagree about coverage).

spopt builds a dense residence x site cost matrix (distances by pyproj's geodesic, Karney's
algorithm on WGS84), so memory and time grow with residences x sites: run it on a city small
enough for that (10,000 residences gives about 170 sites).
"""

import argparse
import json
import math
import sys
import time

import numpy as np
import pulp
import spopt
from pyproj import Geod
from spopt.locate import LSCP, MCLP


def points(path, keep=lambda props: True):
    with open(path, encoding="utf-8") as f:
        fc = json.load(f)
    out = []
    for feat in fc["features"]:
        props = feat.get("properties") or {}
        geom = feat.get("geometry") or {}
        if geom.get("type") == "Point" and keep(props):
            lon, lat = geom["coordinates"][:2]
            out.append((float(lon), float(lat), props))
    return out


def grid(homes, spacing_m):
    """A square grid over the homes' extent, in a local equirectangular frame."""
    lons = np.array([h[0] for h in homes])
    lats = np.array([h[1] for h in homes])
    lat0 = float(lats.mean())
    m_per_deg = 6371008.8 * math.pi / 180.0
    dlat = spacing_m / m_per_deg
    dlon = spacing_m / (m_per_deg * math.cos(math.radians(lat0)))
    out = []
    lat = float(lats.min())
    while lat <= lats.max() + dlat / 2:
        lon = float(lons.min())
        while lon <= lons.max() + dlon / 2:
            out.append((round(lon, 7), round(lat, 7)))
            lon += dlon
        lat += dlat
    return out


def distances(homes, sites, geod):
    """Dense geodesic distances, metres: one row per home, one column per site."""
    hl = np.array([[h[0], h[1]] for h in homes])
    sl = np.array(sites)
    lon1 = np.repeat(hl[:, 0], len(sl))
    lat1 = np.repeat(hl[:, 1], len(sl))
    lon2 = np.tile(sl[:, 0], len(hl))
    lat2 = np.tile(sl[:, 1], len(hl))
    _, _, d = geod.inv(lon1, lat1, lon2, lat2)
    return np.asarray(d).reshape(len(hl), len(sl))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("city")
    ap.add_argument("out")
    ap.add_argument("--category", default="admin_services")
    ap.add_argument("--walk-m", type=float, default=1000.0)
    ap.add_argument("--spacing-m", type=float, default=250.0)
    ap.add_argument("--new", type=int, default=10)
    a = ap.parse_args()

    t0 = time.perf_counter()
    homes = points(f"{a.city}/residences.geojson")
    existing = points(f"{a.city}/facilities.geojson", lambda p: p.get("category") == a.category)
    candidates = grid(homes, a.spacing_m)
    with open(f"{a.out}/candidates.geojson", "w", encoding="utf-8") as f:
        json.dump({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"id": f"g{k}"},
             "geometry": {"type": "Point", "coordinates": [lon, lat]}}
            for k, (lon, lat) in enumerate(candidates)]}, f)
    t_read = time.perf_counter() - t0

    t0 = time.perf_counter()
    sites = [(e[0], e[1]) for e in existing] + candidates
    cost = distances(homes, sites, Geod(ellps="WGS84"))
    t_matrix = time.perf_counter() - t0
    weights = np.array([float(h[2].get("population", 1)) for h in homes])
    # Who counts: people (population above 0) within the walk of some site. LSCP must cover
    # them all; lifecircle's full coverage is everyone some candidate (or facility) reaches.
    within = cost <= a.walk_m
    keep = (weights > 0) & within.any(axis=1)
    cost, weights = cost[keep], weights[keep]
    near_limit = int((np.abs(cost - a.walk_m) < 0.01).sum())
    predefined = np.array([1] * len(existing) + [0] * len(candidates))
    solver = pulp.PULP_CBC_CMD(msg=False)

    t0 = time.perf_counter()
    lscp = LSCP.from_cost_matrix(cost, a.walk_m, predefined_facilities_arr=predefined)
    t_lscp_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    lscp = lscp.solve(solver)
    t_lscp_solve = time.perf_counter() - t0
    lscp_total = int(round(pulp.value(lscp.problem.objective)))

    t0 = time.perf_counter()
    mclp = MCLP.from_cost_matrix(cost, weights, a.walk_m, p_facilities=len(existing) + a.new,
                                 predefined_facilities_arr=predefined)
    t_mclp_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    mclp = mclp.solve(solver)
    t_mclp_solve = time.perf_counter() - t0
    covered = float(pulp.value(mclp.problem.objective))

    json.dump({
        "residences": len(homes),
        "counted_residences": int(keep.sum()),
        "existing": len(existing),
        "candidates": len(candidates),
        "pairs_within_1cm_of_walk": near_limit,
        "lscp_new_sites": lscp_total - len(existing),
        "mclp_new": a.new,
        "mclp_covered_population": covered,
        "seconds": {
            "read": round(t_read, 3),
            "cost_matrix": round(t_matrix, 3),
            "lscp_build": round(t_lscp_build, 3),
            "lscp_solve": round(t_lscp_solve, 3),
            "mclp_build": round(t_mclp_build, 3),
            "mclp_solve": round(t_mclp_solve, 3),
        },
        "versions": {"python": sys.version.split()[0], "spopt": spopt.__version__,
                     "pulp": pulp.__version__, "numpy": np.__version__},
    }, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
