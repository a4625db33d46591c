#!/usr/bin/env bash
# C ABI checks, called from .ci/run: installs what a fresh Debian machine lacks, then
#  1. checks include/margin.h equals cbindgen's output and the version macros equal Cargo.toml;
#  2. builds examples/c (C99) and examples/cpp (C++17) with -Wall -Wextra -Wpedantic -Werror,
#     runs them under AddressSanitizer + UndefinedBehaviorSanitizer and compares their output
#     with margin-core bit for bit; runs the C misuse checks; runs both under valgrind
#     (zero errors, zero leaks); runs examples/c/statistical.c under the statistical presets
#     against the CLI's numbers — all as `cargo test -p margin-ffi`;
#  3. installs the library into a temporary prefix and links the C example with one
#     pkg-config line, shared and static;
#  4. prints the C-side benchmark (what-if p50/p99 on a 50-position account, batch accounts/s).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in gcc g++ valgrind pkg-config; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    echo "ffi: installing ${missing[*]}"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== ffi: header, C/C++ clients (ASan+UBSan, valgrind), misuse, ABI tests"
MARGIN_FFI_REQUIRE_VALGRIND=1 cargo test -p margin-ffi

echo "== ffi: install + pkg-config link (shared and static)"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
margin-ffi/install.sh "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
chain=data/deribit/deribit_options_snapshot_20260822T153351Z.csv
flags=(-std=c99 -O2 -Wall -Wextra -Wpedantic -Werror)
# shellcheck disable=SC2046
gcc "${flags[@]}" examples/c/pretrade.c -o "$prefix/pretrade_shared" $(pkg-config --cflags --libs margin)
# shellcheck disable=SC2046
gcc "${flags[@]}" examples/c/pretrade.c -o "$prefix/pretrade_static" $(pkg-config --cflags --libs margin-static)
LD_LIBRARY_PATH="$prefix/lib" "$prefix/pretrade_shared" "$chain" 5 >"$prefix/shared.out"
"$prefix/pretrade_static" "$chain" 5 >"$prefix/static.out"
cmp "$prefix/shared.out" "$prefix/static.out"
echo "shared and static builds agree"

echo "== ffi: C-side benchmark (release)"
"$prefix/pretrade_static" "$chain" --bench 0 | grep '^bench'
