#!/usr/bin/env bash
# Make the Python venv for the peer benchmark (benches/access_peer.py) at target/peer-venv, with
# PySAL `access` and its dependencies pinned, unless it is already there with these pins.
#
#   benches/peer_venv.sh          then: target/peer-venv/bin/python benches/access_peer.py ...
#
# Needs python3 >= 3.11 with venv and a reachable PyPI. When either is missing it prints a line
# starting with "peer_venv: skipped:" and exits 0 (the peer benchmark is optional); the venv is
# ready when target/peer-venv/.pins exists. PEER_VENV overrides the folder.
set -euo pipefail

cd "$(dirname "$0")/.."
venv="${PEER_VENV:-target/peer-venv}"

# The set the fixture crates/cli/tests/fixtures/access/ was made with.
pins=(
    access==1.1.10.post3
    pandas==3.1.1
    numpy==2.4.6
    scipy==1.17.1
    pyproj==3.7.2
    geopandas==1.2.0
    shapely==2.2.0
    pyogrio==0.13.0
    packaging==26.4
    python-dateutil==4.0.0
    tzdata==2026.6
    certifi==2026.10.19.post1
)
want="$(printf '%s\n' "${pins[@]}")"

skip() {
    echo "peer_venv: skipped: $*" >&2
    rm -rf "$venv"
    exit 0
}

if [[ -f "$venv/.pins" ]] && [[ "$(cat "$venv/.pins")" == "$want" ]] \
    && "$venv/bin/python" -c 'import access, scipy, pyproj' 2>/dev/null; then
    echo "peer_venv: ready: $venv/bin/python"
    exit 0
fi

py="$(command -v python3 || true)"
[[ -n "$py" ]] || skip "no python3"
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || skip "python3 is $("$py" -V 2>&1), the pins need 3.11 or newer"

rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$py" -m venv "$venv" 2>/dev/null || skip "python3 -m venv failed (Debian: apt-get install python3-venv)"
echo "peer_venv: installing ${pins[*]} into $venv ..." >&2
if ! "$venv/bin/pip" install --disable-pip-version-check --quiet --retries 1 --timeout 20 \
    "${pins[@]}" >&2; then
    skip "pip could not install the pinned packages (no network to PyPI?)"
fi
"$venv/bin/python" -c 'import access, scipy, pyproj' || skip "the installed packages do not import"
printf '%s\n' "${pins[@]}" >"$venv/.pins"
echo "peer_venv: ready: $venv/bin/python"
