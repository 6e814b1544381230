#!/usr/bin/env bash
# Installs the C library: builds bindings/c, then copies
#   PREFIX/lib/libagentsession.so.X.Y.Z (+ .so.X and .so links), libagentsession.a
#   PREFIX/include/agentsession.h, agentsession.hpp
#   PREFIX/lib/pkgconfig/agentsession.pc
# Usage: scripts/install-c.sh [--debug] PREFIX   (--debug: install the debug build)
set -euo pipefail

profile=release
if [ "${1:-}" = "--debug" ]; then
    profile=debug
    shift
fi
[ $# -eq 1 ] || { echo "usage: $0 [--debug] PREFIX" >&2; exit 2; }
prefix=$1
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "$profile" = release ]; then
    cargo build --quiet -p agentsession-capi --release
else
    cargo build --quiet -p agentsession-capi
fi
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
build="$target_dir/$profile"

header=include/agentsession.h
version_part() { sed -n "s/^#define AGS_VERSION_$1 \([0-9]*\)$/\1/p" "$header"; }
major=$(version_part MAJOR)
version="$major.$(version_part MINOR).$(version_part PATCH)"

mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
prefix=$(cd "$prefix" && pwd)
install -m 0755 "$build/libagentsession.so" "$prefix/lib/libagentsession.so.$version"
ln -sf "libagentsession.so.$version" "$prefix/lib/libagentsession.so.$major"
ln -sf "libagentsession.so.$major" "$prefix/lib/libagentsession.so"
install -m 0644 "$build/libagentsession.a" "$prefix/lib/libagentsession.a"
install -m 0644 include/agentsession.h include/agentsession.hpp "$prefix/include/"

# Libs.private: what the Rust standard library needs when linking the .a
# (`cargo rustc ... --print native-static-libs`).
cat > "$prefix/lib/pkgconfig/agentsession.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: agentsession
Description: Session layer of Agent Client Protocol clients (event log, locks, queue)
Version: $version
Libs: -L\${libdir} -lagentsession
Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
Cflags: -I\${includedir}
PC
echo "installed agentsession $version ($profile) into $prefix"
