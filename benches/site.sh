#!/usr/bin/env bash
# Whole-command benchmark: `lifecircle site` on seeded synthetic cities, wall time and peak
# memory against the targets of the siting command.
#
#   benches/site.sh                 every case below
#   benches/site.sh --quick         the exact cases on the 100,000-residence city only
#   benches/site.sh --no-network    leave out the network cases
#
# Cases (250 m candidate grid; existing facilities fixed):
#   exact-full   100k, admin_services at 1000 m, fewest sites for full coverage, --exact
#   exact-new10  100k, admin_services at 1000 m, best 10 sites, --exact
#   fast-one     1M, admin_services, fewest sites, --fast           (target 5 s, 1.5 GB)
#   fast-centre  1M, --centre (six categories), --fast              (target 20 s)
#   net-one      1M along the streets, admin_services, --fast       (target 10 s)
#   net-centre   1M along the streets, --centre, --fast             (target 40 s)
# The two exact cases together: target 2 s. (PySAL spopt is compared on objectives only, on the
# fixture crates/cli/tests/fixtures/site/; it has no side-by-side timing here.)
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
build=1
seed=42
repeat=1
while [[ $# -gt 0 ]]; do
    case "$1" in
    --quick) quick=1 ;;
    --no-network) network=0 ;;
    --no-build) build=0 ;;
    --repeat) [[ $# -ge 2 ]] || die "--repeat needs a number"; repeat="$2"; shift ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
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

target_dir="${CARGO_TARGET_DIR:-target}"
if [[ "$build" == 1 ]]; then
    echo "building release binaries and examples..." >&2
    cargo build --release --examples --bins >&2
fi
gen="$target_dir/release/examples/synth_city"
bin="${LIFECIRCLE:-$target_dir/release/lifecircle}"
[[ -x "$gen" ]] || die "$gen is missing: run 'cargo build --release --examples'"
[[ -x "$bin" ]] || die "lifecircle binary not found: $bin"
rows=()
# bench CASE DIR TARGET_S [site args...]
bench() {
    local case="$1" dir="$2" target_s="$3"
    shift 3
    timed_runs "$case" "$bin" site \
        --facilities "$dir/facilities.geojson" \
        --residences "$dir/residences.geojson" \
        --communities "$dir/communities.geojson" \
        --candidates-from grid:250m "$@" --out {out} --quiet
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

echo
echo "lifecircle site, seed $seed, best of $repeat, $(nproc) cores, $bin"
printf '%-12s %8s %8s %9s %6s  %-16s %s\n' case "wall s" target "peak MB" sites method result
for row in "${rows[@]}"; do
    IFS='|' read -r c w t m s h r <<<"$row"
    printf '%-12s %8s %8s %9s %6s  %-16s %s\n' "$c" "$w" "$t" "$m" "$s" "$h" "$r"
done
