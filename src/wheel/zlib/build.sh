#!/usr/bin/env bash
# Rebuilds deflate.wasm: zlib 1.2.13's deflate (the zlib CPython links on the project's
# machines, so hatchling's wheels are compressed by the same code) compiled to WebAssembly.
# Needs clang and lld with the wasm32 target (Debian: apt-get install clang lld) and cargo,
# which fetches the zlib 1.2.13 sources bundled in the libz-sys 1.1.9 crate from crates.io.
# With Debian 12's clang 14.0.6 the output is byte-identical to the committed file.
# zlib is (C) 1995-2022 Jean-loup Gailly and Mark Adler, under the zlib license.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/fetch/src"
cat > "$work/fetch/Cargo.toml" <<'TOML'
[package]
name = "zlib-source"
version = "0.0.0"
edition = "2021"
[dependencies]
libz-sys = { version = "=1.1.9", default-features = false, features = ["static"] }
TOML
echo 'fn main() {}' > "$work/fetch/src/main.rs"
(cd "$work/fetch" && cargo fetch --quiet)
zlib="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/libz-sys-1.1.9/src/zlib | head -n1)"
grep -q '#define ZLIB_VERSION "1.2.13"' "$zlib/zlib.h"

clang --target=wasm32 -O3 -nostdlib -mbulk-memory -DZ_SOLO -DHAVE_MEMCPY \
  -include "$here/libc-shim.h" -I"$zlib" \
  -Wl,--no-entry -Wl,--export=init -Wl,--export=scratch -Wl,--export=deflate_raw \
  -o "$work/deflate.wasm" \
  "$here/deflate-shim.c" "$zlib/deflate.c" "$zlib/trees.c" "$zlib/zutil.c" "$zlib/adler32.c" "$zlib/crc32.c"
cp "$work/deflate.wasm" "$here/deflate.wasm"
sha256sum "$here/deflate.wasm"
