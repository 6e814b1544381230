#!/usr/bin/env bash
# The demo: records a session, plays it back and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --example demo -- "${1:-}"
