#!/usr/bin/env bash
# Whole-command benchmark: `lifecircle extract` on a seeded synthetic OpenStreetMap city, wall
# time and peak memory against the project's target (a 100 MB .osm.pbf in at most 1.5 GB).
#
#   benches/extract.sh                  300 x 300 blocks (about 96 MB, 12M nodes, 1.5M ways),
#                                       without and with --population
#   benches/extract.sh --blocks 75      a small city (about 6 MB), for a quick check
#
# The city is generated once by `examples/synth_osm.rs` as OPL, converted to .osm.pbf by
# `osmium cat` (Debian package `osmium-tool`), and cached in bench-out/ (gitignored), keyed by
# block count, seed, and a hash of the generator source and the osmium version. Without osmium
# and without a cached city the benchmark is skipped (exit status 0). Needs GNU time
# (/usr/bin/time, Debian package `time`). $OSMIUM names another osmium binary.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: benches/extract.sh [options]

  --blocks N           city blocks per side, a multiple of 75 (default 300: about 96 MB)
  --seed N             generator seed (default 42)
  --no-population      only the run without --population
  --repeat N           run each case N times, report the fastest (default 1)
  --check              exit with status 2 when a case misses its memory target
  --bin PATH           the lifecircle binary (default target/release/lifecircle, or $LIFECIRCLE)
  --no-build           do not run cargo build first
  -h, --help           this text

Target: peak memory at most 1.5 GB per 100 MB of .osm.pbf (scaled with the file's size);
no time target. Needs osmium (apt-get install osmium-tool) to generate the city, and GNU time
at /usr/bin/time (apt-get install time).
EOF
}

die() {
    echo "benches/extract.sh: $*" >&2
    exit 1
}

blocks=300
seed=42
population=1
repeat=1
check=0
build=1
bin="${LIFECIRCLE:-}"

while [[ $# -gt 0 ]]; do
    case "$1" in
    --blocks) [[ $# -ge 2 ]] || die "--blocks needs a number"; blocks="$2"; shift ;;
    --seed) [[ $# -ge 2 ]] || die "--seed needs a number"; seed="$2"; shift ;;
    --no-population) population=0 ;;
    --repeat) [[ $# -ge 2 ]] || die "--repeat needs a number"; repeat="$2"; shift ;;
    --check) check=1 ;;
    --bin) [[ $# -ge 2 ]] || die "--bin needs a path"; bin="$2"; shift ;;
    --no-build) build=0 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
    esac
    shift
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out_root="bench-out"
mkdir -p "$out_root"

# shellcheck source=benches/common.sh
source benches/common.sh

is_count "$blocks" && [[ $((blocks % 75)) == 0 ]] || die "not a multiple of 75: '$blocks'"
is_count "$seed" || [[ "$seed" == 0 ]] || die "not a seed: '$seed'"
is_count "$repeat" || die "not a repeat count: '$repeat'"

need_gnu_time
run_prefix=extract-run

osmium="${OSMIUM:-osmium}"
osmium_version="$("$osmium" --version 2>/dev/null | head -n 1 || true)"
# A hash of the generator and the converter, so that a changed one does not reuse a stale city.
gen_hash="$( (cat crates/synth/examples/synth_osm.rs; echo "$osmium_version") | sha256sum | cut -c1-10)"
dir="$out_root/osm-$blocks-seed$seed-$gen_hash"
pbf="$dir/city.osm.pbf"
grid="$dir/population.geojson"

if [[ ! -f "$dir/.complete" && -z "$osmium_version" ]]; then
    echo "benches/extract.sh: skipped: osmium is not installed, and it is needed to make the" \
        ".osm.pbf (Debian package 'osmium-tool': apt-get install osmium-tool)" >&2
    exit 0
fi

if [[ "$build" == 1 ]]; then
    echo "building the release binary and examples..." >&2
    cargo build --release --examples --bins >&2
fi
gen="target/release/examples/synth_osm"
bin="${bin:-target/release/lifecircle}"
[[ -x "$bin" ]] || command -v "$bin" >/dev/null || die "lifecircle binary not found: $bin"

if [[ ! -f "$dir/.complete" ]]; then
    [[ -x "$gen" ]] || die "$gen is missing: run 'cargo build --release --examples' (or drop --no-build)"
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "generating a city of $blocks x $blocks blocks in $dir..." >&2
    start=$(date +%s)
    "$gen" --blocks "$blocks" --seed "$seed" --population "$grid" 2>"$dir/generator.txt" |
        "$osmium" cat --input-format opl - --output "$pbf" --overwrite
    echo "  $(head -n 1 "$dir/generator.txt")" >&2
    echo "  generated and converted in $(($(date +%s) - start)) s" >&2
    touch "$dir/.complete"
fi
pbf_mb=$(awk -v b="$(stat -c %s "$pbf")" 'BEGIN { printf "%.1f", b / 1e6 }')
# 1.5 GB per 100 MB of file.
target_mb=$(awk -v m="$pbf_mb" 'BEGIN { printf "%.0f", m * 15 }')

rows=()
failed=0
missed=0
run=0

# bench CASE [extra extract args...]
bench() {
    local case="$1"
    shift
    timed_runs "$case" "$bin" extract "$pbf" --out {out} "$@" -v
    local verdict
    if [[ "$status" != 0 ]]; then
        verdict="FAILED (exit $status, see $log)"
        best_wall="-"
        best_mem="-"
        failed=1
    elif awk -v a="$best_mem" -v b="$target_mb" 'BEGIN { exit !(a > b) }'; then
        verdict="BIG"
        missed=1
    else
        verdict="ok"
    fi
    rows+=("$case|$best_wall|$best_mem|$target_mb|$verdict|$log")
}

bench plain
if [[ "$population" == 1 ]]; then
    bench population --population "$grid"
fi

echo
echo "lifecircle extract, synthetic city $blocks x $blocks blocks, seed $seed, best of $repeat," \
    "$(nproc) cores, $bin"
echo "$pbf: $pbf_mb MB; $(head -n 1 "$dir/generator.txt" | sed 's/.*: //')"
printf '%-11s %8s %9s %9s  %-7s %s\n' case "wall s" "peak MB" target result "log (last run, with -v stages)"
for row in "${rows[@]}"; do
    IFS='|' read -r c w m tm v l <<<"$row"
    printf '%-11s %8s %9s %9s  %-7s %s\n' "$c" "$w" "$m" "$tm" "$v" "$l"
done

if [[ "$failed" == 1 ]]; then exit 1; fi
if [[ "$check" == 1 && "$missed" == 1 ]]; then exit 2; fi
exit 0
