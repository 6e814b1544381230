#!/usr/bin/env bash
# Prepares the ACP test peers: a Python venv with the official Python SDK and
# the official TypeScript SDK under ts/node_modules. Installs nothing globally.
# Safe to run again; it returns quickly when everything is already in place.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py_sdk="agent-client-protocol==0.12.1"
python="${PYTHON:-python3}"

# --- Python peer ---------------------------------------------------------------
if [[ ! -x "$venv/bin/python" ]]; then
  echo "setup: creating $venv" >&2
  "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("agent-client-protocol") != "0.12.1")' 2>/dev/null; then
  echo "setup: installing $py_sdk" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$py_sdk"
fi

# --- TypeScript peer -------------------------------------------------------------
ts="$here/ts"
stamp="$ts/node_modules/.package-lock.json"
if [[ ! -f "$ts/node_modules/@agentclientprotocol/sdk/package.json" || ! -f "$stamp" \
      || "$ts/package-lock.json" -nt "$stamp" ]]; then
  echo "setup: installing node modules in $ts" >&2
  if [[ -f "$ts/package-lock.json" ]]; then
    (cd "$ts" && npm ci --no-audit --no-fund --loglevel=error) >&2
  else
    (cd "$ts" && npm install --no-audit --no-fund --loglevel=error) >&2
  fi
fi

echo "setup: peers ready" >&2
