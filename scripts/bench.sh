#!/usr/bin/env bash
# Every benchmark, each against a baseline measured in the same run:
#   bash scripts/bench.sh [--quick]
# Prints the tables and, last, one JSON object with every figure.
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

echo "== C and Python faces: append_event vs the core's append, same sizes and mode"
n=2000; [ "$quick" = "--quick" ] && n=300
cargo build --quiet --release -p agentsession-capi
gcc -O2 -Wall -Wextra -Werror -Iinclude benches/c_append.c -Ltarget/release -lagentsession -o "$out/c_append"
# The library's SONAME carries the major version.
mkdir -p "$out/lib" && ln -sf "$PWD/target/release/libagentsession.so" "$out/lib/libagentsession.so.0"
c_us=$(LD_LIBRARY_PATH="$out/lib" "$out/c_append" "$tmp/c" "$n")
venv=build/venv-bench
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; "$venv/bin/python" -m pip install --quiet --upgrade pip; fi
"$venv/bin/python" -m pip install --quiet ./python
py_us=$("$venv/bin/python" benches/python_append.py "$tmp/py" "$n")
rust_us=$(grep -o '"figure":"append default, 200 B event","ours_us":[0-9.e+-]*' "$out/store.txt" | sed 's/.*"ours_us"://')
python3 - "$rust_us" "$c_us" "$py_us" <<'PY'
import json, sys
rust, c, py = map(float, sys.argv[1:])
print(f"{'C ags_store_append_event':<44} {c:>10.2f} {rust:>10.2f} {c / rust:>7.2f}x  <= 1.1x (core Rust append)")
print(f"{'Python Store.append_event':<44} {py:>10.2f} {rust:>10.2f} {py / rust:>7.2f}x  <= 1.5x (core Rust append)")
print(json.dumps({"bench": "faces", "rust_append_us": rust, "c_append_us": c, "python_append_us": py,
                  "c_ratio": c / rust, "python_ratio": py / rust}))
PY

echo "== Python: loading 100,000 events"
"$venv/bin/python" benches/python_events.py $([ "$quick" = "--quick" ] && echo 20000)
