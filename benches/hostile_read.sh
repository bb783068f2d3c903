#!/usr/bin/env bash
# Whole-command benchmark: reading hostile GeoJSON is linear in the file size, with bounded
# memory. `lifecircle analyze` reads a facilities file of each kind and size (beside one
# community point), and prints the reading stage's time and the peak memory after it (from
# `--verbose`), the throughput, and the whole command's wall time and peak memory (GNU time; for
# ordinary features that includes analysing and writing millions of facilities):
#
#   whitespace  two features with N MB of spaces between them inside `features`
#   string      two features, one with a string property of N MB
#   features    N MB of ordinary features, one per line (the reference)
#
# A single value over LIFECIRCLE_MAX_FEATURE_MB (256 MiB unless set) is refused once that much
# has been read: those rows print "refused" with the time and peak memory it took to refuse.
#
#   benches/hostile_read.sh                    200, 400 and 800 MB of each; 250, 500, 1000 MB of features
#   benches/hostile_read.sh --sizes 100,200    the hostile kinds at these sizes (MB)
#   benches/hostile_read.sh --feature-sizes 100
#
# Files are generated into bench-out/hostile/ (gitignored) and removed afterwards unless --keep.
# Needs GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail

usage() {
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
    echo "benches/hostile_read.sh: $*" >&2
    exit 1
}

cd "$(dirname "$0")/.."
# shellcheck source=benches/common.sh
source benches/common.sh

sizes="200,400,800"
feature_sizes="250,500,1000"
keep=0
build=1
bin="${LIFECIRCLE:-}"
while [[ $# -gt 0 ]]; do
    case "$1" in
    --sizes) [[ $# -ge 2 ]] || die "--sizes needs a list"; sizes="$2"; shift ;;
    --feature-sizes) [[ $# -ge 2 ]] || die "--feature-sizes needs a list"; feature_sizes="$2"; shift ;;
    --keep) keep=1 ;;
    --bin) [[ $# -ge 2 ]] || die "--bin needs a path"; bin="$2"; shift ;;
    --no-build) build=0 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
    shift
done
for s in ${sizes//,/ } ${feature_sizes//,/ }; do
    is_count "$s" || die "sizes are whole numbers of MB, got '$s'"
done
need_gnu_time
target="${CARGO_TARGET_DIR:-target}"
if [[ -z "$bin" ]]; then
    bin="$target/release/lifecircle"
    if [[ "$build" == 1 ]]; then
        cargo build --release --quiet -p lifecircle-cli
    fi
fi
[[ -x "$bin" ]] || die "no lifecircle binary at $bin (build it, or give --bin)"

out_root="bench-out/hostile"
run_prefix="run"
repeat=1
run=0
mkdir -p "$out_root"
rm -rf "${out_root:?}"/run-*

feature='{"type":"Feature","properties":{"id":"ID","category":"meals","name":"Canteen ID"},"geometry":{"type":"Point","coordinates":[24.9412345,60.1712345]}}'
communities="$out_root/communities.geojson"
printf '%s\n' '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"c"},"geometry":{"type":"Point","coordinates":[24.95,60.17]}}]}' >"$communities"

# N MB of one byte: spaces or the letter x.
bytes() { head -c "$(($1 << 20))" /dev/zero | tr '\0' "$2"; }

generate() {
    local kind="$1" mb="$2" file="$3"
    case "$kind" in
    whitespace)
        {
            printf '{"type":"FeatureCollection","features":[%s,' "${feature//ID/a}"
            bytes "$mb" ' '
            printf '%s]}\n' "${feature//ID/b}"
        } >"$file"
        ;;
    string)
        {
            printf '{"type":"FeatureCollection","features":[%s,' "${feature//ID/a}"
            printf '{"type":"Feature","properties":{"id":"b","category":"meals","note":"'
            bytes "$mb" 'x'
            printf '"},"geometry":{"type":"Point","coordinates":[24.95,60.17]}}]}\n'
        } >"$file"
        ;;
    features)
        python3 - "$mb" "$feature" >"$file" <<'PY'
import sys
limit, feature = int(sys.argv[1]) << 20, sys.argv[2]
out = sys.stdout
out.write('{"type":"FeatureCollection","features":[\n')
n = size = 0
while size < limit:
    lines = [feature.replace("ID", "f%d" % k) for k in range(n, n + 10000)]
    chunk = (",\n" if n else "") + ",\n".join(lines)
    out.write(chunk)
    size += len(chunk)
    n += 10000
out.write("\n]}\n")
PY
        ;;
    esac
}

printf '%-11s %8s %8s %9s %8s %8s %9s\n' kind "size MB" "read s" "peak MB" "MB/s" "wall s" "peak MB"
for kind in whitespace string features; do
    list="$sizes"
    [[ "$kind" == features ]] && list="$feature_sizes"
    for mb in ${list//,/ }; do
        file="$out_root/$kind-$mb.geojson"
        echo "generating $file..." >&2
        generate "$kind" "$mb" "$file"
        size_mb=$(awk -v b="$(stat -c %s "$file")" 'BEGIN { printf "%.0f", b / 1048576 }')
        timed_runs "$kind $mb MB" "$bin" analyze --quiet --verbose --facilities "$file" \
            --communities "$communities" --categories meals --out '{out}'
        if [[ "$kind" == string && "$mb" -gt "${LIFECIRCLE_MAX_FEATURE_MB:-256}" ]]; then
            # A feature over the limit on one value is refused as soon as that much is read.
            grep -q "is larger than" "$log" || { cat "$log" >&2; die "$kind $mb MB: not refused"; }
            printf '%-11s %8s %8s %9s %8s %8s %9s\n' "$kind" "$size_mb" refused - - \
                "$best_wall" "$best_mem"
            [[ "$keep" == 1 ]] || rm -f "$file"
            continue
        fi
        if [[ "$status" != 0 ]]; then
            cat "$log" >&2
            die "$kind $mb MB: lifecircle failed (status $status)"
        fi
        # "   1.234 s  reading facilities    peak    23 MB"
        read -r read_s read_mb < <(awk '/reading facilities/ { print $1, $(NF - 1) }' "$log")
        rate=$(awk -v s="$size_mb" -v w="$read_s" 'BEGIN { printf "%.0f", (w > 0 ? s / w : 0) }')
        printf '%-11s %8s %8s %9s %8s %8s %9s\n' "$kind" "$size_mb" "$read_s" "$read_mb" "$rate" \
            "$best_wall" "$best_mem"
        [[ "$keep" == 1 ]] || rm -f "$file"
    done
done
