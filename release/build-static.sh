#!/usr/bin/env bash
# Builds the static x86_64-unknown-linux-musl binary and checks it: statically linked, and it
# finds a planted hook the way the glibc build does.
#   usage: release/build-static.sh        (installs musl-tools and the Rust target when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v musl-gcc >/dev/null || { apt-get update -qq && apt-get install -y -qq musl-tools; }
rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
  || rustup target add x86_64-unknown-linux-musl
export CC_x86_64_unknown_linux_musl=musl-gcc
cargo build --release --locked --target x86_64-unknown-linux-musl
BIN="${CARGO_TARGET_DIR:-target}/x86_64-unknown-linux-musl/release/pthscan"
file "$BIN" | grep -q 'static' || { echo "not a static binary: $(file "$BIN")" >&2; exit 1; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
mkdir -p "$T/venv/lib/python3.12/site-packages"
echo 'version = 3.12.4' > "$T/venv/pyvenv.cfg"
echo "import os; os.system('id')" > "$T/venv/lib/python3.12/site-packages/planted.pth"
set +e; "$BIN" --quiet --format json "$T" > "$T/out.json"; code=$?; set -e
[ "$code" = 1 ] || { echo "expected exit 1 on a planted hook, got $code" >&2; exit 1; }
grep -q '"rule": "PTH001"' "$T/out.json" || { echo "PTH001 not reported" >&2; exit 1; }
echo "static binary ok: $BIN ($(du -h "$BIN" | cut -f1))"
