#!/usr/bin/env bash
# Whole-command benchmark: `lifecircle analyze --planned` on the seeded 1M-residence synthetic
# city, wall time and peak memory, beside the run without planned facilities and beside the
# plain run on today's and the planned facilities as one file.
#
#   benches/planned.sh               straight line and along the streets
#   benches/planned.sh --no-network  straight line only
#
# Planned facilities: the elderly_care and childcare facilities of the city generated with the
# next seed (about 1,000 per category, ids prefixed `p-`): two of the six categories are measured
# again, the other four keep today's walks. Cities come from examples/synth_city.rs, cached in
# bench-out/ like benches/run.sh. Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail

die() {
    echo "benches/planned.sh: $*" >&2
    exit 1
}

network=1
build=1
seed=42
repeat=1
while [[ $# -gt 0 ]]; do
    case "$1" in
    --no-network) network=0 ;;
    --no-build) build=0 ;;
    --repeat) [[ $# -ge 2 ]] || die "--repeat needs a number"; repeat="$2"; shift ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
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
run_prefix=planned
run=0

synth_binaries "$build"
gen_hash="$(cat crates/synth/src/lib.rs crates/synth/examples/synth_city.rs | sha256sum | cut -c1-10)"

city() {
    local n="$1" s="$2"
    local dir="$out_root/city-$n-seed$s-$gen_hash"
    if [[ ! -f "$dir/.complete" || ! -f "$dir/streets.geojson" ]]; then
        rm -rf "$dir"
        echo "generating a city of $n residences in $dir..." >&2
        "$gen" --residences "$n" --seed "$s" --out "$dir" --streets >&2
        touch "$dir/.complete"
    fi
    echo "$dir"
}

c="$(city 1000000 "$seed")"
other="$(city 1000000 $((seed + 1)))"
# (not under a run folder name: the runs delete their folders' GeoJSON)
work="$out_root/inputs-planned"
mkdir -p "$work"
# The planned facilities: one feature per line, as the generator writes them.
{
    echo '{"type":"FeatureCollection","features":['
    grep -E '"category":"(elderly_care|childcare)"' "$other/facilities.geojson" |
        sed -e 's/"id":"/"id":"p-/' -e 's/"properties":{/"properties":{"status":"planned","year":2027,/' -e 's/},\?$/},/' |
        sed '$ s/},$/}/'
    echo ']}'
} >"$work/planned.geojson"
planned_n="$(grep -c '"status":"planned"' "$work/planned.geojson")"
# Today's and the planned facilities as one file.
{
    echo '{"type":"FeatureCollection","features":['
    grep '^{"type":"Feature"' "$c/facilities.geojson" | sed 's/},\?$/},/'
    grep '^{"type":"Feature"' "$work/planned.geojson" | sed 's/},\?$/},/' | sed '$ s/},$/}/'
    echo ']}'
} >"$work/merged.geojson"

rows=()
# bench CASE FACILITIES [analyze args...]
bench() {
    local case="$1" facilities="$2"
    shift 2
    timed_runs "$case" "$bin" analyze \
        --facilities "$facilities" \
        --residences "$c/residences.geojson" \
        --communities "$c/communities.geojson" \
        "$@" --service-areas none --out {out} --quiet
    local result="ok"
    [[ "$status" == 0 ]] || result="FAILED (see $log)"
    rows+=("$case|$best_wall|$best_mem|$result")
}

bench today "$c/facilities.geojson"
bench planned "$c/facilities.geojson" --planned "$work/planned.geojson"
bench merged "$work/merged.geojson"
if [[ "$network" == 1 ]]; then
    bench net-today "$c/facilities.geojson" --network "$c/streets.geojson"
    bench net-planned "$c/facilities.geojson" --planned "$work/planned.geojson" --network "$c/streets.geojson"
    bench net-merged "$work/merged.geojson" --network "$c/streets.geojson"
fi

echo
echo "lifecircle analyze --planned ($planned_n planned facilities, 2 of 6 categories), 1M residences, seed $seed, best of $repeat, $(nproc) cores, $bin"
printf '%-12s %8s %9s %s\n' case "wall s" "peak MB" result
for row in "${rows[@]}"; do
    IFS='|' read -r k w m r <<<"$row"
    printf '%-12s %8s %9s %s\n' "$k" "$w" "$m" "$r"
done
