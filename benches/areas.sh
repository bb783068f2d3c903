#!/usr/bin/env bash
# Whole-command benchmark of the service areas: `lifecircle analyze` on the seeded synthetic
# city of 1,000,000 residences (six categories), straight line and along its streets, each
# with `--service-areas none` and with `--service-areas dissolved`, and along the streets one
# area per facility (`--service-areas per-facility`) (wall time and peak memory).
#
#   benches/areas.sh                       the 1,000,000-residence city
#   benches/areas.sh --residences N        another size
#   benches/areas.sh --repeat N            best of N runs per case (default 1)
#   benches/areas.sh --no-build            use the binaries as built
#
# Target: the areas add at most 5 s to the run without them. The city comes from
# examples/synth_city.rs, cached in bench-out/ as by benches/run.sh. Needs GNU time
# (/usr/bin/time, Debian package `time`).
set -euo pipefail

die() {
    echo "benches/areas.sh: $*" >&2
    exit 1
}

n=1000000
seed=42
repeat=1
build=1
while [[ $# -gt 0 ]]; do
    case "$1" in
    --residences) [[ $# -ge 2 ]] || die "--residences needs a number"; n="$2"; shift ;;
    --repeat) [[ $# -ge 2 ]] || die "--repeat needs a number"; repeat="$2"; shift ;;
    --no-build) build=0 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
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
is_count "$n" || die "not a number of residences: '$n'"
is_count "$repeat" || die "not a repeat count: '$repeat'"
need_gnu_time
run_prefix=areas
run=0

synth_binaries "$build"

dir="$(city "$n" 1)"
rows=()
# bench CASE [analyze args...]
bench() {
    local case="$1"
    shift
    timed_runs "$case" "$bin" analyze \
        --facilities "$dir/facilities.geojson" \
        --residences "$dir/residences.geojson" \
        --communities "$dir/communities.geojson" \
        "$@" --out {out} --quiet
    [[ "$status" == 0 ]] || die "$case failed: see $log"
    rows+=("$case|$best_wall|$best_mem")
}

bench line-none --service-areas none
bench line-areas --service-areas dissolved
bench network-none --network "$dir/streets.geojson" --service-areas none
bench network-areas --network "$dir/streets.geojson" --service-areas dissolved
bench network-each --network "$dir/streets.geojson" --service-areas per-facility

echo
echo "lifecircle analyze, $n residences, six categories, best of $repeat, $(nproc) cores, $bin"
printf '%-14s %8s %9s\n' case "wall s" "peak MB"
for row in "${rows[@]}"; do
    IFS='|' read -r c w m <<<"$row"
    printf '%-14s %8s %9s\n' "$c" "$w" "$m"
done
wall() { for row in "${rows[@]}"; do IFS='|' read -r c w _ <<<"$row"; [[ "$c" == "$1" ]] && echo "$w"; done; }
for mode in line network; do
    extra="$(awk -v a="$(wall "$mode-areas")" -v b="$(wall "$mode-none")" 'BEGIN { printf "%.2f", a - b }')"
    verdict="ok"
    if awk -v e="$extra" 'BEGIN { exit !(e > 5) }'; then verdict="SLOW"; fi
    echo "$mode: service areas add $extra s (target at most 5 s, $verdict)"
done
