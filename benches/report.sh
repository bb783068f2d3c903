#!/usr/bin/env bash
# Whole-command benchmark of the pictures: `lifecircle analyze` on the seeded synthetic city of
# 1,000,000 residences, straight line, without and with --report and --map-png (wall time and
# peak memory), the size of report.html and map.png, and the time headless Chromium takes to
# open report.html, run its script and take a screenshot (browser start included), when
# Chromium is installed (skipped, and said so, when not).
#
#   benches/report.sh                       the 1,000,000-residence city
#   benches/report.sh --residences N        another size
#   benches/report.sh --repeat N            best of N runs per case (default 1)
#   benches/report.sh --no-build            use the binaries as built
#
# Targets: report.html under 20 MB, rendered by Chromium in under 3 s. The city comes from
# examples/synth_city.rs, cached in bench-out/ as by benches/run.sh. Needs GNU time
# (/usr/bin/time, Debian package `time`).
set -euo pipefail

die() {
    echo "benches/report.sh: $*" >&2
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
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
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
run_prefix=report
run=0

synth_binaries "$build"

dir="$(city "$n" 0)"
rows=()
# bench CASE [analyze args...]: sets out (the last run's output folder).
bench() {
    local case="$1"
    shift
    timed_runs "$case" "$bin" analyze \
        --facilities "$dir/facilities.geojson" \
        --residences "$dir/residences.geojson" \
        --communities "$dir/communities.geojson" \
        "$@" --out {out} --quiet
    out="${log%/log.txt}"
    [[ "$status" == 0 ]] || die "$case failed: see $log"
    rows+=("$case|$best_wall|$best_mem")
}

bench plain
bench report --report
report="$out/report.html"
bench map-png --map-png
map="$out/map.png"
bench both --report --map-png

mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.2f", b / 1e6 }'; }

browser=""
for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null && "$b" --version >/dev/null 2>&1; then
        browser="$b"
        break
    fi
done
render="skipped (no chromium: apt-get install chromium)"
if [[ -n "$browser" ]]; then
    best=""
    for ((i = 1; i <= repeat; i++)); do
        profile="$(mktemp -d)"
        shot="$out_root/report-shot.png"
        rm -f "$shot"
        "$timer" -f '%e' -o "$out_root/report-render.txt" "$browser" --headless --no-sandbox \
            --disable-gpu --no-first-run --disable-background-networking \
            --disable-component-update --disable-sync --user-data-dir="$profile" \
            --window-size=1400,1000 --screenshot="$shot" "file://$root/$report" \
            >/dev/null 2>&1 || die "chromium failed on $report"
        rm -rf "$profile"
        [[ -s "$shot" ]] || die "chromium wrote no screenshot"
        wall="$(tail -n 1 "$out_root/report-render.txt")"
        echo "chromium: $wall s" >&2
        if [[ -z "$best" ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best="$wall"
        fi
    done
    verdict="ok"
    if awk -v a="$best" 'BEGIN { exit !(a >= 3) }'; then verdict="SLOW"; fi
    render="$best s (target < 3 s, $verdict; screenshot $shot)"
fi
size="$(mb "$report")"
verdict="ok"
if awk -v a="$size" 'BEGIN { exit !(a >= 20) }'; then verdict="TOO LARGE"; fi

echo
echo "lifecircle analyze, $n residences (straight line), best of $repeat, $(nproc) cores, $bin"
printf '%-10s %8s %9s\n' case "wall s" "peak MB"
for row in "${rows[@]}"; do
    IFS='|' read -r c w m <<<"$row"
    printf '%-10s %8s %9s\n' "$c" "$w" "$m"
done
echo "report.html: $size MB (target < 20 MB, $verdict)"
echo "map.png: $(mb "$map") MB"
echo "Chromium open + script + screenshot: $render"
