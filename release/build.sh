#!/usr/bin/env bash
# Builds pthscan the way it is published, into dist/:
#   dist/pthscan-VERSION-TARGET          the binary
#   dist/pthscan-VERSION-TARGET.sha256   its SHA-256, in `sha256sum -c` form
#   dist/pthscan-VERSION.cdx.json        CycloneDX 1.5 SBOM: every crate compiled in, with its
#                                        version, licence, crates.io source and checksum
#                                        (pthscan-VERSION-TARGET.cdx.json for another target)
# TARGET: x86_64-unknown-linux-gnu (default) or -musl; x86_64-pc-windows-gnu (Debian's MinGW);
# aarch64-unknown-linux-musl, x86_64-apple-darwin, aarch64-apple-darwin (Zig, via
# cargo-zigbuild). Windows binaries end in .exe.
# Paths of the build machine (the clone, ~/.cargo, the target directory) are remapped, so two
# builds of one commit are byte-identical wherever they run (release/check-reproducible.sh).
#   usage: release/build.sh [TARGET]   (default x86_64-unknown-linux-gnu; needs cargo-cyclonedx:
#                                       cargo install --locked cargo-cyclonedx@0.5.9)
# Env: PTHSCAN_RELEASE_TARGET_DIR (default $CARGO_TARGET_DIR/release-build, or target/…),
#      PTHSCAN_DIST (default dist).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="$PWD"
TARGET="${1:-x86_64-unknown-linux-gnu}"
BUILD_DIR="${PTHSCAN_RELEASE_TARGET_DIR:-${CARGO_TARGET_DIR:-$SRC/target}/release-build}"
DIST="${PTHSCAN_DIST:-$SRC/dist}"
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
mkdir -p "$BUILD_DIR" "$DIST"
BUILD_DIR="$(cd "$BUILD_DIR" && pwd)"
[ "$TARGET" = x86_64-unknown-linux-gnu ] || rustup target list --installed | grep -qx "$TARGET" \
  || rustup target add "$TARGET"
EXE=
BUILD=(cargo build)
case "$TARGET" in
  x86_64-unknown-linux-gnu) ;;
  x86_64-unknown-linux-musl)
    command -v musl-gcc >/dev/null || { apt-get update -qq && apt-get install -y -qq musl-tools; }
    export CC_x86_64_unknown_linux_musl=musl-gcc ;;
  x86_64-pc-windows-gnu)
    # Debian's MinGW-w64 cross toolchain links it and builds the C of psm (stacker)
    command -v x86_64-w64-mingw32-gcc >/dev/null \
      || { apt-get update -qq && apt-get install -y -qq gcc-mingw-w64-x86-64; }
    export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
    export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
    EXE=.exe ;;
  aarch64-unknown-linux-musl|x86_64-apple-darwin|aarch64-apple-darwin)
    # cross-linked by Zig (`ziglang` from PyPI) through cargo-zigbuild: no other cross
    # toolchain for these targets comes from this machine's registries
    command -v cargo-zigbuild >/dev/null || cargo install --locked --quiet cargo-zigbuild@0.24.1
    python3 -m ziglang version >/dev/null 2>&1 || python3 -m pip install -q ziglang==0.14.1
    BUILD=(cargo zigbuild) ;;
  *) echo "release/build.sh: no recipe for $TARGET" >&2; exit 2 ;;
esac
export CARGO_TARGET_DIR="$BUILD_DIR"
export RUSTFLAGS="--remap-path-prefix=$SRC=/pthscan --remap-path-prefix=$CARGO_HOME=/cargo --remap-path-prefix=$BUILD_DIR=/target"
if [ "$TARGET" = x86_64-pc-windows-gnu ]; then
  # MinGW's ld stamps the link time into the PE header, and the DWARF and COFF symbol table it
  # keeps name the objects rustc links from a fresh temporary directory: without both, two
  # builds of one commit differ (no Windows tool reads MinGW's DWARF; a panic's backtrace
  # shows addresses only)
  RUSTFLAGS="$RUSTFLAGS -C strip=symbols -C link-arg=-Wl,--no-insert-timestamp"
fi
"${BUILD[@]}" --release --locked --target "$TARGET" --bin pthscan
NAME="pthscan-$VERSION-$TARGET$EXE"
cp "$BUILD_DIR/$TARGET/release/pthscan$EXE" "$DIST/$NAME"
case "$TARGET" in
  # Zig's linker leaves 16 bytes of the UUID to chance: made a hash of the contents
  *-apple-darwin) python3 release/macho-uuid.py "$DIST/$NAME" >/dev/null ;;
esac
(cd "$DIST" && sha256sum "$NAME" > "$NAME.sha256")

# cargo-cyclonedx writes NAME.cdx.json beside each workspace member's Cargo.toml: keep the
# root package's (the binary's, listing every crate it links), remove the libraries' own
# (the default target's is pthscan-VERSION.cdx.json; another target's crates differ — winapi,
# mach — and its SBOM is pthscan-VERSION-TARGET.cdx.json)
SBOM="pthscan-$VERSION"
[ "$TARGET" = x86_64-unknown-linux-gnu ] || SBOM="$SBOM-$TARGET"
cargo cyclonedx --format json --spec-version 1.5 --target "$TARGET" \
  --override-filename "$SBOM.cdx" -q
mv "$SBOM.cdx.json" "$DIST/$SBOM.cdx.json"
rm -f crates/*/"$SBOM.cdx.json"
echo "built $DIST/$NAME"
cat "$DIST/$NAME.sha256"
