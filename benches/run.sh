#!/usr/bin/env bash
# Whole-command benchmark: `lifecircle analyze` on seeded synthetic cities, wall time and peak
# memory against the project's targets.
#
#   benches/run.sh                 1M and 10M residences
#   benches/run.sh --quick         1M only
#   benches/run.sh --network       also the 1M case with --network streets.geojson
#   benches/run.sh --sizes 100000,1000000
#   benches/run.sh --quick --access [--network] [--peer]
#                                  capacity within reach (2SFCA, E2SFCA) at 1M, beside the same
#                                  run without capacities; --peer adds PySAL access
#
# The runs skip service areas (`--service-areas none`): benches/areas.sh measures them.
# Cities are generated once by `examples/synth_city.rs` and cached in bench-out/ (gitignored),
# keyed by size, seed and a hash of the generator source. Needs GNU time (/usr/bin/time, Debian
# package `time`: apt-get install time).
set -euo pipefail

usage() {
    cat <<'EOF'
usage: benches/run.sh [options]

  --quick              1,000,000 residences only
  --sizes LIST         comma-separated residence counts (default 1000000,10000000)
  --network            also run with --network streets.geojson (at 1,000,000 residences)
  --network-sizes LIST residence counts for the network case (implies --network)
  --access             capacity within reach at 1,000,000 residences: six categories with
                       capacities, 1000 m walk, 2SFCA and E2SFCA, each beside the same run
                       without capacities (straight line; along the streets with --network)
  --peer               with --access: also PySAL access 2SFCA for one category (childcare) on
                       the same city (benches/peer_venv.sh makes its venv; skipped without one)
  --seed N             generator seed (default 42)
  --repeat N           run each case N times, report the fastest (default 1)
  --check              exit with status 2 when a case misses its time or memory target
  --bin PATH           the lifecircle binary (default target/release/lifecircle, or $LIFECIRCLE)
  --no-build           do not run cargo build first
  -h, --help           this text

Targets: 1M 1.5 s / 300 MB; 10M 15 s / 2500 MB; network 1M 2.5 s / 500 MB; capacity within
reach 1M at most 2 s (straight line) or 3 s (network) more than without it, and 500 MB.
Needs GNU time at /usr/bin/time (Debian package `time`).
EOF
}

die() {
    echo "benches/run.sh: $*" >&2
    exit 1
}

sizes="1000000,10000000"
network=0
access=0
peer=0
network_sizes="1000000"
seed=42
repeat=1
check=0
build=1
bin="${LIFECIRCLE:-}"

while [[ $# -gt 0 ]]; do
    case "$1" in
    --quick) sizes="1000000" ;;
    --sizes) [[ $# -ge 2 ]] || die "--sizes needs a list"; sizes="$2"; shift ;;
    --network) network=1 ;;
    --access) access=1 ;;
    --peer) peer=1 ;;
    --network-sizes) [[ $# -ge 2 ]] || die "--network-sizes needs a list"; network=1; network_sizes="$2"; shift ;;
    --seed) [[ $# -ge 2 ]] || die "--seed needs a number"; seed="$2"; shift ;;
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

IFS=, read -r -a size_list <<<"$sizes"
IFS=, read -r -a network_list <<<"$network_sizes"
for n in "${size_list[@]}" "${network_list[@]}"; do
    is_count "$n" || die "not a residence count: '$n'"
done
is_count "$seed" || [[ "$seed" == 0 ]] || die "not a seed: '$seed'"
is_count "$repeat" || die "not a repeat count: '$repeat'"

need_gnu_time
run_prefix=run

if [[ "$build" == 1 ]]; then
    echo "building release binaries and examples..." >&2
    cargo build --release --examples --bins >&2
fi
gen="target/release/examples/synth_city"
[[ -x "$gen" ]] || die "$gen is missing: run 'cargo build --release --examples' (or drop --no-build)"
bin="${bin:-target/release/lifecircle}"
[[ -x "$bin" ]] || command -v "$bin" >/dev/null || die "lifecircle binary not found: $bin"

# Targets: "seconds megabytes" for a case, or "- -".
target() {
    case "$1:$2" in
    plain:1000000) echo "1.5 300" ;;
    line-2sfca:1000000 | line-e2sfca:1000000 | net-2sfca:1000000 | net-e2sfca:1000000) echo "- 500" ;;
    plain:10000000) echo "15 2500" ;;
    network:1000000) echo "2.5 500" ;;
    *) echo "- -" ;;
    esac
}

rows=()
failed=0
missed=0
run=0

# bench CASE N DIR [extra analyze args...]; FACILITIES (default facilities.geojson) names the
# facilities file in DIR.
bench() {
    local case="$1" n="$2" dir="$3"
    shift 3
    timed_runs "$case, $n residences" "$bin" analyze \
        --facilities "$dir/${FACILITIES:-facilities.geojson}" \
        --residences "$dir/residences.geojson" \
        --communities "$dir/communities.geojson" \
        "$@" --service-areas none --out {out} --quiet
    local t_wall t_mem verdict
    read -r t_wall t_mem < <(target "$case" "$n")
    if [[ "$status" != 0 ]]; then
        verdict="FAILED (exit $status, see $log)"
        best_wall="-"
        best_mem="-"
        failed=1
    else
        verdict="ok"
        local slow=0 big=0
        [[ "$t_wall" != "-" ]] && awk -v a="$best_wall" -v b="$t_wall" 'BEGIN { exit !(a > b) }' && slow=1
        [[ "$t_mem" != "-" ]] && awk -v a="$best_mem" -v b="$t_mem" 'BEGIN { exit !(a > b) }' && big=1
        if [[ "$slow" == 1 && "$big" == 1 ]]; then verdict="SLOW, BIG"
        elif [[ "$slow" == 1 ]]; then verdict="SLOW"
        elif [[ "$big" == 1 ]]; then verdict="BIG"
        elif [[ "$t_wall" == "-" && "$t_mem" == "-" ]]; then verdict="(no target)"
        elif [[ "$t_wall" == "-" ]]; then verdict="ok (memory; time: see below)"
        fi
        [[ "$slow" == 1 || "$big" == 1 ]] && missed=1
    fi
    rows+=("$case|$n|$best_wall|$t_wall|$best_mem|$t_mem|$verdict")
}

# With --access, only the capacity cases run.
[[ "$access" == 1 ]] && size_list=()
for n in "${size_list[@]}"; do
    dir="$(city "$n" 0)"
    bench plain "$n" "$dir"
done
if [[ "$network" == 1 && "$access" == 0 ]]; then
    for n in "${network_list[@]}"; do
        dir="$(city "$n" 1)"
        bench network "$n" "$dir" --network "$dir/streets.geojson"
    done
fi

# Capacity within reach: a profile of the six categories at 1000 m, plain (2SFCA) or with
# distance bands (E2SFCA), run on the facilities with and without capacities.
extra=()
if [[ "$access" == 1 ]]; then
    n=1000000
    dir="$(city "$n" "$network")"
    for method in 2sfca e2sfca; do
        {
            echo "name = \"bench-$method\""
            echo "max_walk = \"1000m\""
            for key in elderly_care childcare medical meals culture_sports admin_services; do
                echo "[[category]]"
                echo "key = \"$key\""
                if [[ "$method" == e2sfca ]]; then
                    echo "access_bands = [[300, 1.0], [600, 0.68], [1000, 0.22]]"
                fi
            done
        } >"$out_root/access-$method.toml"
    done
    modes=(line)
    [[ "$network" == 1 ]] && modes+=(net)
    for mode in "${modes[@]}"; do
        walk=()
        [[ "$mode" == net ]] && walk=(--network "$dir/streets.geojson")
        bench "$mode-base" "$n" "$dir" --profile "$out_root/access-2sfca.toml" "${walk[@]}"
        base="$best_wall"
        for method in 2sfca e2sfca; do
            FACILITIES=facilities-capacity.geojson bench "$mode-$method" "$n" "$dir" \
                --profile "$out_root/access-$method.toml" "${walk[@]}"
            if [[ "$base" != "-" && "$best_wall" != "-" ]]; then
                limit=2
                [[ "$mode" == net ]] && limit=3
                more=$(awk -v a="$best_wall" -v b="$base" 'BEGIN { printf "%.2f", a - b }')
                verdict=ok
                if awk -v m="$more" -v l="$limit" 'BEGIN { exit !(m > l) }'; then
                    verdict=SLOW
                    missed=1
                fi
                extra+=("$mode-$method: $more s more than $mode-base (target at most $limit s): $verdict")
            fi
        done
    done
    if [[ "$peer" == 1 ]]; then
        if benches/peer_venv.sh >&2 && [[ -f target/peer-venv/.pins ]]; then
            echo "running PySAL access 2SFCA (childcare, 1000 m) on the same city..." >&2
            if line=$(target/peer-venv/bin/python benches/access_peer.py \
                --facilities "$dir/facilities-capacity.geojson" \
                --residences "$dir/residences.geojson" \
                --category childcare --max-walk-m 1000); then
                extra+=("PySAL access, one category (childcare), cost table + 2SFCA: $line")
            else
                extra+=("PySAL access: failed")
            fi
        else
            extra+=("PySAL access: skipped (no venv; see benches/peer_venv.sh)")
        fi
    fi
fi

echo
echo "lifecircle analyze, seed $seed, best of $repeat, $(nproc) cores, $bin"
printf '%-8s %11s %8s %8s %9s %9s  %s\n' case residences "wall s" target "peak MB" target result
for row in "${rows[@]}"; do
    IFS='|' read -r c n w tw m tm v <<<"$row"
    printf '%-8s %11s %8s %8s %9s %9s  %s\n' "$c" "$n" "$w" "$tw" "$m" "$tm" "$v"
done

for line in "${extra[@]}"; do echo "$line"; done

if [[ "$failed" == 1 ]]; then exit 1; fi
if [[ "$check" == 1 && "$missed" == 1 ]]; then exit 2; fi
exit 0
