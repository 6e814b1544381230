#!/usr/bin/env bash
# Runs every test of the project: Rust, C, C++ and Python.
# Needs only the Rust toolchain, gcc and CPython 3.11 with pip; installs the rest
# (PostgreSQL from Debian packages when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== ACP peer agents (official SDKs) for the auxiliary-session tests"
bash tests/peers/setup.sh
tests/peers/.venv/bin/python tests/peers/check_peers.py

echo "== Headless Chromium for the HTML export check"
bash scripts/install-browser.sh

netns=""
trap 'bash scripts/pg.sh stop; if [ -n "$netns" ]; then bash scripts/netns.sh down; fi' EXIT

echo "== Network namespaces for the hosts of tests/pg_hosts.rs (scripts/netns.sh), removed at exit"
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1 && netns_env=$(bash scripts/netns.sh up 8); then
    eval "$netns_env"
    netns=up
    # Made here, so the hosts fail (rather than run beside the test) without them.
    export AGS_REQUIRE_NETNS=1
else
    echo "no network namespaces here (they need root, iproute2 and ip netns add); the hosts run as plain processes"
fi

echo "== PostgreSQL test server (scripts/pg.sh), listening on the namespaces' bridge too, stopped at exit"
pg_env=$(bash scripts/pg.sh start)
eval "$pg_env"
# Tests of the PostgreSQL store fail (rather than skip) without the server.
export AGS_REQUIRE_PG=1

echo "== Rust tests"
# Tests that need the peers or the browser fail (rather than skip) without them.
export AGS_REQUIRE_PEERS=1 AGS_REQUIRE_BROWSER=1
cargo test

echo "== C and C++ tests (plain, ASan+UBSan, valgrind; header drift, exported symbols)"
bash scripts/test-c.sh

echo "== Python package (fresh venv, pip install ./python, pytest)"
bash scripts/test-python.sh
