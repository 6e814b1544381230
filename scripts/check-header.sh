#!/usr/bin/env bash
# Checks that include/agentsession.h is what the pinned cbindgen generates
# from bindings/c; with --update, regenerates it instead.
# cbindgen is installed into .tools/ when missing (or of another version).
set -euo pipefail

CBINDGEN_VERSION=0.29.4
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

cbindgen=.tools/bin/cbindgen
if ! "$cbindgen" --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
    echo "installing cbindgen $CBINDGEN_VERSION into .tools/" >&2
    cargo install --quiet cbindgen --version "$CBINDGEN_VERSION" --locked --root .tools
fi

generate() {
    "$cbindgen" --quiet --config bindings/c/cbindgen.toml --crate agentsession-capi --output "$1" bindings/c
}

if [ "${1:-}" = "--update" ]; then
    generate include/agentsession.h
    echo "include/agentsession.h regenerated"
    exit 0
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
generate "$tmp"
if ! diff -u include/agentsession.h "$tmp"; then
    echo "include/agentsession.h is out of date: run scripts/check-header.sh --update and commit it" >&2
    exit 1
fi
echo "include/agentsession.h is up to date (cbindgen $CBINDGEN_VERSION)"
