#!/usr/bin/env bash
# Tests the Python package as a user gets it: a fresh venv, a real
# `pip install ./python` (release build of the extension), then pytest with
# warnings as errors and a per-test timeout. The suite includes the stub
# check (mypy.stubtest) and the headless run of examples/explore_sessions.ipynb.
# Exits non-zero on any failure; extra arguments go to pytest.
#
# PYTHON picks the interpreter (default python3, >= 3.9); the venv is
# build/venv-test, made anew on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=${PYTHON:-python3}
venv=$root/build/venv-test

echo "== Python: fresh venv in $venv"
rm -rf "$venv"
"$python" -m venv "$venv"
export PATH="$venv/bin:$PATH"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -r tests/python/requirements.txt

echo "== Python: pip install ./python"
python -m pip install --quiet --no-build-isolation "./python[pandas]"

echo "== Python: ACP test peer for the auxiliary-session tests"
bash tests/peers/setup.sh
# A missing peer fails the auxiliary tests instead of skipping them.
export AGS_REQUIRE_PEERS=1

echo "== Python: pytest (tests/python, against the installed package)"
# tests/python/pytest.ini: importlib mode, so the source tree's python/
# package can never shadow the installed one.
cd "$root/tests/python"
python -m pytest -W error --timeout=60 -q "$@"
