#!/usr/bin/env bash
# The demo: records a session, plays it back, queues messages and asks the
# auxiliary ACP session (a real agent built on the official ACP SDK) for titles.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/peers/setup.sh >/dev/null
export AGS_DEMO_AGENT="${AGS_DEMO_AGENT:-$PWD/tests/peers/.venv/bin/python $PWD/tests/peers/python/agent.py}"
cargo run --quiet --example demo -- "${1:-}"
