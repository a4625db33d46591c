#!/usr/bin/env bash
# Builds the C library (release) and installs it under PREFIX:
#   PREFIX/include/margin.h
#   PREFIX/lib/libmargin_ffi.a, libmargin_ffi.so.MAJOR (+ libmargin_ffi.so link)
#   PREFIX/lib/pkgconfig/margin.pc (shared), margin-static.pc (static)
# usage: margin-ffi/install.sh PREFIX
set -euo pipefail
prefix=${1:?usage: install.sh PREFIX}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -p margin-ffi
version=$(cargo pkgid -p margin-ffi | sed 's/.*[#@]//')
major=${version%%.*}
target=${CARGO_TARGET_DIR:-$root/target}/release
mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
install -m 644 include/margin.h "$prefix/include/"
install -m 644 "$target/libmargin_ffi.a" "$prefix/lib/"
install -m 755 "$target/libmargin_ffi.so" "$prefix/lib/libmargin_ffi.so.$major"
ln -sf "libmargin_ffi.so.$major" "$prefix/lib/libmargin_ffi.so"
for pc in margin margin-static; do
    sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" "margin-ffi/$pc.pc.in" \
        >"$prefix/lib/pkgconfig/$pc.pc"
done
echo "installed margin $version under $prefix"
