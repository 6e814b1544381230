#!/usr/bin/env bash
# The C face's test run: builds and installs libagentsession (debug) into a
# temporary prefix, checks the header is what cbindgen generates, that the
# shared library exports only ags_* symbols, has a SONAME and does not link
# libpython; compiles every tests/c/*.c, tests/cpp/*.cpp and examples/*/
# program with -Wall -Wextra -Wpedantic -Werror against the installed
# library (found through pkg-config) and runs each three times: plainly,
# under AddressSanitizer + UndefinedBehaviorSanitizer, and under valgrind.
# Prints "N passed, M failed" last and exits non-zero on any failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/ags-c-tests.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/step.log

# step NAME COMMAND...: runs a check, counting it and showing its output on failure.
step() {
    local name=$1
    shift
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "ok    $name"
    else
        failed=$((failed + 1))
        echo "FAIL  $name"
        tail -n 60 "$log" | sed 's/^/      /'
        return 1
    fi
}

if ! command -v valgrind >/dev/null; then
    echo "installing valgrind"
    { apt-get update -qq && apt-get install -y -qq valgrind; } >/dev/null || {
        echo "valgrind is missing and could not be installed" >&2
        exit 1
    }
fi

prefix=$work/prefix
scripts/install-c.sh --debug "$prefix" || { echo "0 passed, 1 failed"; exit 1; }
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
so=$prefix/lib/libagentsession.so

exports_only_ags() {
    local symbols others
    symbols=$(nm -D --defined-only "$so" | awk '{print $3}')
    others=$(grep -v '^ags_' <<<"$symbols")
    echo "$(wc -l <<<"$symbols") exported symbols"
    [ -z "$others" ] || { echo "not ags_*: $others"; return 1; }
}
no_libpython() {
    ldd "$so"
    ! ldd "$so" | grep -qi python
}
soname_has_major() {
    readelf -d "$so" | grep -q 'SONAME.*\[libagentsession\.so\.[0-9]*\]'
}
step "header matches cbindgen" scripts/check-header.sh
step "exports only ags_* symbols" exports_only_ags
step "does not link libpython" no_libpython
step "SONAME carries the major version" soname_has_major
nm -D --defined-only "$so" | grep -c ' T ags_' | sed 's/^/exported ags_* functions: /'

# Both headers compile alone and when included twice, in C and C++.
cflags=$(pkg-config --cflags agentsession)
warn=(-Wall -Wextra -Wpedantic -Werror)
printf '#include <agentsession.h>\n#include <agentsession.h>\nint main(void) { return ags_version() == 0; }\n' >"$work/h.c"
printf '#include <agentsession.h>\n#include <agentsession.h>\nint main() { return ags_version() == nullptr; }\n' >"$work/h.cpp"
printf '#include <agentsession.hpp>\n#include <agentsession.hpp>\nint main() { return agentsession::version().empty(); }\n' >"$work/hpp.cpp"
step "agentsession.h alone and twice (C11)" gcc -std=c11 "${warn[@]}" $cflags -fsyntax-only "$work/h.c"
step "agentsession.h alone and twice (C++17)" g++ -std=c++17 "${warn[@]}" $cflags -fsyntax-only "$work/h.cpp"
step "agentsession.hpp alone and twice (C++17)" g++ -std=c++17 "${warn[@]}" $cflags -fsyntax-only "$work/hpp.cpp"

# Builds every program twice: plain (also run under valgrind) and sanitized.
libs="$(pkg-config --libs agentsession) -Wl,-rpath,$prefix/lib -pthread"
sanitize=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
mkdir -p "$work/bin"
programs=()
for src in tests/c/*.c examples/c/*.c tests/cpp/*.cpp examples/cpp/*.cpp; do
    [ -e "$src" ] || continue
    name=$(tr / _ <<<"${src%.*}") # examples/c/hello.c -> examples_c_hello
    case $src in
        *.c) compiler=(gcc -std=c11) ;;
        *) compiler=(g++ -std=c++17) ;;
    esac
    inc=(-I"$(dirname "$src")")
    step "build $src" "${compiler[@]}" "${warn[@]}" -g $cflags "${inc[@]}" "$src" -o "$work/bin/$name" $libs &&
        step "build $src (asan+ubsan)" "${compiler[@]}" "${warn[@]}" -g "${sanitize[@]}" $cflags "${inc[@]}" \
            "$src" -o "$work/bin/$name.san" $libs &&
        programs+=("$name")
done
# The C example once more against the static library.
static_libs=$(pkg-config --static --libs agentsession | sed 's/-lagentsession/-l:libagentsession.a/')
step "build examples/c/hello.c (static)" gcc -std=c11 "${warn[@]}" $cflags examples/c/hello.c \
    -o "$work/bin/hello.static" $static_libs -pthread

# run NAME COMMAND...: runs a program with a fresh scratch directory as its argument.
run() {
    local name=$1
    shift
    local scratch
    scratch=$(mktemp -d "$work/scratch.XXXXXX")
    step "$name" timeout 300 "$@" "$scratch"
    rm -rf "$scratch"
}

# The auxiliary-session test talks to the Python ACP test peer when it is set
# up (bash tests/peers/setup.sh); under the project's test command
# (AGS_REQUIRE_PEERS=1) a missing peer is a failure.
if [ -x tests/peers/.venv/bin/python ]; then
    export AGS_TEST_PEER="$root/tests/peers/.venv/bin/python $root/tests/peers/python/agent.py"
elif [ -n "${AGS_REQUIRE_PEERS:-}" ]; then
    echo "ACP test peers not installed: run bash tests/peers/setup.sh" >&2
    failed=$((failed + 1))
else
    echo "note: ACP test peers not installed; the auxiliary test runs without an agent"
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
valgrind=(env AGS_TEST_UNDER_VALGRIND=1 valgrind -q --leak-check=full --errors-for-leak-kinds=definite,possible --error-exitcode=1
    --suppressions=tests/c/valgrind.supp)
[ -x "$work/bin/hello.static" ] && run "run hello (static)" "$work/bin/hello.static"
for name in "${programs[@]}"; do
    run "run $name" "$work/bin/$name"
    run "run $name (asan+ubsan)" "$work/bin/$name.san"
    run "run $name (valgrind)" "${valgrind[@]}" "$work/bin/$name"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
