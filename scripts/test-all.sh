#!/usr/bin/env bash
# Runs every test of the project: Rust, C, C++ and Python.
# Needs only the Rust toolchain, gcc and CPython 3.11 with pip; installs the rest.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust tests"

cargo test
