#!/usr/bin/env bash
# Make the Python venv for the siting peer benchmark (benches/site_peer.py, run by
# benches/site.sh) at target/site-peer-venv, with PySAL spopt and pulp (its bundled CBC) pinned,
# unless it is already there with these pins.
#
# Needs python3 >= 3.11 with venv and a reachable PyPI. When either is missing it prints a line
# starting with "site_peer_venv: skipped:" and exits 0 (the peer benchmark is optional); the
# venv is ready when target/site-peer-venv/.pins exists. SITE_PEER_VENV overrides the folder.
set -euo pipefail

cd "$(dirname "$0")/.."
venv="${SITE_PEER_VENV:-target/site-peer-venv}"

# The set the fixture crates/cli/tests/fixtures/site/ was made with, and its dependencies.
pins=(
    spopt==0.7.0
    pulp==3.3.2
    numpy==2.4.6
    pyproj==3.7.2
    scipy==1.17.1
    pandas==3.1.1
    geopandas==1.2.0
    shapely==2.2.0
    libpysal==4.14.1
    networkx==3.6.1
    scikit-learn==1.9.1
)
want="$(printf '%s\n' "${pins[@]}")"

skip() {
    echo "site_peer_venv: skipped: $*" >&2
    rm -rf "$venv"
    exit 0
}

if [[ -f "$venv/.pins" ]] && [[ "$(cat "$venv/.pins")" == "$want" ]] \
    && "$venv/bin/python" -c 'import spopt, pulp, pyproj' 2>/dev/null; then
    echo "site_peer_venv: ready: $venv/bin/python"
    exit 0
fi

py="$(command -v python3 || true)"
[[ -n "$py" ]] || skip "no python3"
"$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || skip "python3 is $("$py" -V 2>&1), the pins need 3.11 or newer"

rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$py" -m venv "$venv" 2>/dev/null || skip "python3 -m venv failed (Debian: apt-get install python3-venv)"
echo "site_peer_venv: installing ${pins[*]} into $venv ..." >&2
if ! "$venv/bin/pip" install --disable-pip-version-check --quiet --retries 1 --timeout 20 \
    "${pins[@]}" >&2; then
    skip "pip could not install the pinned packages (no network to PyPI?)"
fi
"$venv/bin/python" -c 'import spopt, pulp, pyproj' || skip "the installed packages do not import"
printf '%s\n' "${pins[@]}" >"$venv/.pins"
echo "site_peer_venv: ready: $venv/bin/python"
