# Shared by benches/run.sh and benches/extract.sh (sourced, not run): argument checks and the
# timed-run loop.
#
# The sourcing script sets: out_root (output folder), run_prefix (run folder names), repeat (runs
# per case) and run (runs so far, starting at 0); for `city`, gen (the synth_city example) and
# seed.

timer=/usr/bin/time

# True when $1 is a whole number above 0.
is_count() { [[ "$1" =~ ^[0-9]+$ ]] && [[ "$1" -gt 0 ]]; }

# Die unless GNU time is at $timer.
need_gnu_time() {
    if [[ ! -x "$timer" ]] || ! "$timer" -f '%e %M' -o /dev/null true 2>/dev/null; then
        die "GNU time is needed at $timer (Debian package 'time': apt-get install time)"
    fi
}

# timed_runs LABEL CMD...: run CMD $repeat times under GNU time, each with a fresh output folder
# $out_root/$run_prefix-N that replaces `{out}` in CMD's arguments, on a quiet disk. Sets
# best_wall (s) and best_mem (MB) of the fastest run, and status and log of the last one; stops
# at the first failure (whose time and memory it then sets).
timed_runs() {
    local label="$1"
    shift
    best_wall="" best_mem="" status=0 log=""
    local i out tfile wall mem a
    local args=()
    for ((i = 1; i <= repeat; i++)); do
        run=$((run + 1))
        out="$out_root/$run_prefix-$run"
        rm -rf "$out"
        mkdir -p "$out"
        # Every run starts from the same state: earlier runs' GeoJSON outputs (up to 4.5 GB
        # each) are deleted, so that they do not fill the page cache run after run (their logs
        # and times stay), and the disk is quiet: what remains is written back first.
        if [[ "$run" == 1 ]]; then
            rm -f "$out_root/$run_prefix"-*/*.geojson
        else
            rm -f "$out_root/$run_prefix-$((run - 1))"/*.geojson
        fi
        sync
        log="$out/log.txt"
        tfile="$out/time.txt"
        echo "run $run: $label ($i/$repeat)..." >&2
        args=()
        for a in "$@"; do args+=("${a//\{out\}/$out}"); done
        set +e
        "$timer" -f '%e %M' -o "$tfile" "${args[@]}" >"$log" 2>&1
        status=$?
        set -e
        # GNU time writes "Command exited with non-zero status" lines first on failure; the
        # measurement is the last line.
        read -r wall mem < <(tail -n 1 "$tfile")
        mem=$(awk -v k="$mem" 'BEGIN { printf "%.0f", k / 1024 }')
        if [[ "$status" != 0 ]]; then
            # A failed run still gives its time and memory (e.g. to refuse a hostile file).
            best_wall="$wall" best_mem="$mem"
            break
        fi
        echo "run $run: $wall s, $mem MB" >&2
        if [[ -z "$best_wall" ]] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
            best_wall="$wall"
            best_mem="$mem"
        fi
    done
}

# synth_binaries BUILD: with BUILD 1, build the release binaries and examples; then set gen
# (the synthetic-city generator) and bin (lifecircle, or $LIFECIRCLE), stopping with `die` (the
# calling script's) when either is missing.
synth_binaries() {
    local target_dir="${CARGO_TARGET_DIR:-target}"
    if [[ "$1" == 1 ]]; then
        echo "building release binaries and examples..." >&2
        cargo build --release --examples --bins >&2
    fi
    gen="$target_dir/release/examples/synth_city"
    bin="${LIFECIRCLE:-$target_dir/release/lifecircle}"
    [[ -x "$gen" ]] || die "$gen is missing: run 'cargo build --release --examples'"
    [[ -x "$bin" ]] || die "lifecircle binary not found: $bin"
}

# city N [STREETS] -> prints the directory of a seeded synthetic city of N residences (with its
# streets unless STREETS is 0), generating it with $gen if it is not cached in $out_root. The
# name holds a hash of the generator, so that a changed generator does not reuse stale cities.
city() {
    local n="$1" streets="${2:-1}"
    local gen_hash
    gen_hash="$(cat crates/synth/src/lib.rs crates/synth/examples/synth_city.rs | sha256sum | cut -c1-10)"
    local dir="$out_root/city-$n-seed$seed-$gen_hash"
    if [[ -f "$dir/.complete" && ("$streets" == 0 || -f "$dir/streets.geojson") ]]; then
        echo "$dir"
        return
    fi
    rm -rf "$dir"
    local flags=()
    # The residences do not depend on the street flag: always include streets at 1M and below.
    if [[ "$streets" == 1 || "$n" -le 1000000 ]]; then flags+=(--streets); fi
    echo "generating a city of $n residences in $dir..." >&2
    "$gen" --residences "$n" --seed "$seed" --out "$dir" "${flags[@]}" >&2
    touch "$dir/.complete"
    echo "$dir"
}
