#!/usr/bin/env bash
# Whole-command benchmark: `lifecircle site` on seeded synthetic cities, wall time and peak
# memory against the targets of the siting command.
#
#   benches/site.sh                 every case below
#   benches/site.sh --quick         the exact cases on the 100,000-residence city only
#   benches/site.sh --no-network    leave out the network cases
#   benches/site.sh --no-peer       leave out PySAL spopt side by side
#
# Cases (250 m candidate grid; existing facilities fixed):
#   exact-full   100k, admin_services at 1000 m, fewest sites for full coverage, --exact
#   exact-new10  100k, admin_services at 1000 m, best 10 sites, --exact
#   fast-one     1M, admin_services, fewest sites, --fast           (target 5 s, 1.5 GB)
#   fast-centre  1M, --centre (six categories), --fast              (target 20 s)
#   net-one      1M along the streets, admin_services, --fast       (target 10 s)
#   net-centre   1M along the streets, --centre, --fast             (target 40 s)
# The two exact cases together: target 2 s.
#
# Side by side with PySAL spopt 0.7 (LSCP and MCLP, existing facilities pre-located, CBC through
# pulp), when benches/site_peer_venv.sh can make its venv (else skipped with a line saying why):
#   peer-full    10k, admin_services at 500 m, fewest sites, --exact, on the grid candidates
#                that benches/site_peer.py writes (the same sites for both tools)
#   peer-new5    10k, the same, best 5 sites, --exact
# spopt builds a dense residence x site matrix: as shipped it had not finished building the
# 100k city's model after 10 minutes, so the side by side runs on 10,000 residences.
#
# Cities come from examples/synth_city.rs, cached in bench-out/ like benches/run.sh. Needs GNU
# time (/usr/bin/time, Debian package `time`).
set -euo pipefail

die() {
    echo "benches/site.sh: $*" >&2
    exit 1
}

quick=0
network=1
peer=1
build=1
seed=42
repeat=1
while [[ $# -gt 0 ]]; do
    case "$1" in
    --quick) quick=1 ;;
    --no-network) network=0 ;;
    --no-peer) peer=0 ;;
    --no-build) build=0 ;;
    --repeat) [[ $# -ge 2 ]] || die "--repeat needs a number"; repeat="$2"; shift ;;
    -h | --help) sed -n '2,32p' "$0"; exit 0 ;;
    *) die "unknown option: $1" ;;
    esac
    shift
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out_root="bench-out"
mkdir -p "$out_root"
# shellcheck source=benches/common.sh
source benches/common.sh
is_count "$repeat" || die "not a repeat count: '$repeat'"
need_gnu_time
run_prefix=site
run=0

synth_binaries "$build"
rows=()
# The candidates of the cases below (the side by side sets its own).
cands=(--candidates-from grid:250m)
# bench CASE DIR TARGET_S [site args...]
bench() {
    local case="$1" dir="$2" target_s="$3"
    shift 3
    timed_runs "$case" "$bin" site \
        --facilities "$dir/facilities.geojson" \
        --residences "$dir/residences.geojson" \
        --communities "$dir/communities.geojson" \
        "${cands[@]}" "$@" --out {out} --quiet
    local result="ok" sites="-" how="-"
    if [[ "$status" != 0 ]]; then
        result="FAILED (see $log)"
    else
        local summary="${log%/log.txt}/summary.json"
        sites="$(grep -m1 '"new_sites"' "$summary" | tr -dc '0-9')"
        how="$(grep -m1 '"method"' "$summary" | cut -d'"' -f4)"
        if grep -q '"proven_optimal": true' "$summary"; then how="$how, optimal"; fi
        if [[ "$target_s" != "-" ]] && awk -v a="$best_wall" -v b="$target_s" 'BEGIN { exit !(a > b) }'; then
            result="SLOW"
        fi
    fi
    rows+=("$case|$best_wall|$target_s|$best_mem|$sites|$how|$result")
    summary_json="${log%/log.txt}/summary.json"
}

# Side by side with spopt (see the top).
peer_lines=()
peer_bench() {
    local ready python c10k pdir
    ready="$(bash benches/site_peer_venv.sh | tail -n 1)" || true
    if [[ "$ready" != "site_peer_venv: ready: "* ]]; then
        peer_lines+=("spopt side by side skipped (see the site_peer_venv line above)")
        return
    fi
    python="${ready#site_peer_venv: ready: }"
    c10k="$(city 10000)"
    pdir="$out_root/site-peer"
    rm -rf "$pdir"
    mkdir -p "$pdir"
    echo "spopt: LSCP and MCLP on $c10k ..." >&2
    if ! "$timer" -f '%e %M' -o "$pdir/time.txt" "$python" benches/site_peer.py "$c10k" "$pdir" \
        --category admin_services --walk-m 500 --new 5 >"$pdir/peer.json" 2>"$pdir/log.txt"; then
        peer_lines+=("spopt side by side FAILED (see $pdir/log.txt)")
        return
    fi
    local saved=("${cands[@]}")
    cands=(--candidates "$pdir/candidates.geojson")
    bench peer-full "$c10k" - --category admin_services --max-walk 500m --exact
    local full_json="$summary_json"
    bench peer-new5 "$c10k" - --category admin_services --max-walk 500m --new 5 --exact
    local new_json="$summary_json"
    cands=("${saved[@]}")
    local wall mem
    read -r wall mem < <(tail -n 1 "$pdir/time.txt")
    mapfile -t peer_lines < <("$python" - "$pdir/peer.json" "$full_json" "$new_json" "$wall" \
        "$((mem / 1024))" <<'PY'
import json, sys
peer = json.load(open(sys.argv[1]))
full = json.load(open(sys.argv[2]))["problems"][0]
new = json.load(open(sys.argv[3]))["problems"][0]
s = peer["seconds"]
after = new["categories"][0]["covered_population_after"]
def same(a, b):
    return "same" if abs(a - b) <= 1e-6 * max(1.0, abs(b)) else "DIFFERENT"
print(f"spopt {peer['versions']['spopt']} + CBC (pulp {peer['versions']['pulp']}) side by side: "
      f"{peer['residences']} residences, {peer['candidates']} candidates, {peer['existing']} "
      f"existing admin_services pre-located, 500 m; spopt whole script {sys.argv[4]} s, "
      f"peak {sys.argv[5]} MB")
print(f"  fewest sites: lifecircle {int(full['objective'])}, spopt LSCP "
      f"{peer['lscp_new_sites']} ({same(full['objective'], peer['lscp_new_sites'])}); spopt "
      f"build {s['lscp_build']} s + solve {s['lscp_solve']} s")
print(f"  best {peer['mclp_new']}: lifecircle covers {after:.0f}, spopt MCLP "
      f"{peer['mclp_covered_population']:.0f} ({same(after, peer['mclp_covered_population'])}); "
      f"spopt build {s['mclp_build']} s + solve {s['mclp_solve']} s")
print(f"  spopt's cost matrix: {s['cost_matrix']} s; pairs within 1 cm of the walk: "
      f"{peer['pairs_within_1cm_of_walk']}")
PY
    )
}

c100k="$(city 100000)"
bench exact-full "$c100k" - --category admin_services --max-walk 1000m --exact
bench exact-new10 "$c100k" - --category admin_services --max-walk 1000m --new 10 --exact
if [[ "$quick" == 0 ]]; then
    c1m="$(city 1000000)"
    bench fast-one "$c1m" 5 --category admin_services --fast
    bench fast-centre "$c1m" 20 --centre --fast
    if [[ "$network" == 1 ]]; then
        bench net-one "$c1m" 10 --category admin_services --fast --network "$c1m/streets.geojson"
        bench net-centre "$c1m" 40 --centre --fast --network "$c1m/streets.geojson"
    fi
fi

if [[ "$peer" == 1 ]]; then
    peer_bench
fi

echo
echo "lifecircle site, seed $seed, best of $repeat, $(nproc) cores, $bin"
printf '%-12s %8s %8s %9s %6s  %-16s %s\n' case "wall s" target "peak MB" sites method result
for row in "${rows[@]}"; do
    IFS='|' read -r c w t m s h r <<<"$row"
    printf '%-12s %8s %8s %9s %6s  %-16s %s\n' "$c" "$w" "$t" "$m" "$s" "$h" "$r"
done
for line in "${peer_lines[@]}"; do
    echo "$line"
done
