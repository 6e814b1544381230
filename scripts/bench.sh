#!/usr/bin/env bash
# Every benchmark, each against a baseline measured in the same run:
#   bash scripts/bench.sh [--quick]
# Prints the tables and, after each part, one JSON object with its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${1:-}
out=build/bench
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; bash scripts/pg.sh stop' EXIT
echo "== PostgreSQL server for the PostgreSQL store (scripts/pg.sh), stopped at exit"
pg_env=$(bash scripts/pg.sh start)
eval "$pg_env"

echo "== core (Rust)"
cargo bench --quiet --bench store -- $quick | tee "$out/store.txt"

echo "== PostgreSQL store vs the same statements in a minimal loop"
cargo bench --quiet --bench pg -- $quick | tee "$out/pg.txt"

echo "== C and Python faces: append_event vs the core's append, same data, same mode"
cargo build --quiet --release -p agentsession-capi
gcc -O2 -Wall -Wextra -Werror -Iinclude benches/c_append.c -Ltarget/release -lagentsession -o "$out/c_append"
# The library's SONAME carries the major version.
mkdir -p "$out/lib" && ln -sf "$PWD/target/release/libagentsession.so" "$out/lib/libagentsession.so.0"
venv=build/venv-bench
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; "$venv/bin/python" -m pip install --quiet --upgrade pip; fi
"$venv/bin/python" -m pip install --quiet ./python
# orjson is the second baseline of the events benchmark; it is skipped if unavailable.
"$venv/bin/python" -m pip install --quiet orjson || echo "(orjson not installed: its row is left out)"
LD_LIBRARY_PATH="$PWD/$out/lib" cargo bench --quiet --bench faces -- \
    --c "$out/c_append" --python "$venv/bin/python" $quick | tee "$out/faces.txt"

echo "== heartbeat CPU of held locks vs the same system calls made from C"
gcc -O2 -Wall -Wextra -Werror benches/heartbeat_floor.c -o "$out/heartbeat_floor"
cargo bench --quiet --bench heartbeat -- --floor "$out/heartbeat_floor" $quick | tee "$out/heartbeat.txt"

echo "== Python: loading 100,000 events"
"$venv/bin/python" benches/python_events.py $([ "$quick" = "--quick" ] && echo 20000)
