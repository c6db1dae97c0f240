#!/usr/bin/env bash
# Builds the release binary twice, each time from clean (the target directory removed), and
# fails unless the two are byte-identical. About 2 × 9 minutes on 2 cores. Both builds use one
# target directory path: build scripts (yara-x's, wasmtime's) write their OUT_DIR into code,
# where --remap-path-prefix does not reach.
#   usage: release/check-reproducible.sh [TARGET]
# Env: PTHSCAN_REPRO_KEEP=DIR keeps both binaries there when they differ, to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${1:-x86_64-unknown-linux-gnu}"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
for run in a b; do
  echo "== build $run (from clean)"
  PTHSCAN_RELEASE_TARGET_DIR="$WORK/target" PTHSCAN_DIST="$WORK/dist-$run" \
    release/build.sh "$TARGET" < /dev/null > "$WORK/build-$run.log" 2>&1 \
    || { cat "$WORK/build-$run.log" >&2; exit 1; }
  rm -rf "$WORK/target"
done
a="$(cd "$WORK/dist-a" && cat ./*.sha256)"
b="$(cd "$WORK/dist-b" && cat ./*.sha256)"
echo "a: $a"; echo "b: $b"
if [ "$a" != "$b" ]; then
  name="$(cd "$WORK/dist-a" && ls -- *.sha256 | sed 's/\.sha256$//')"
  # (cmp exits 1 when the files differ: not an error here, under pipefail)
  { cmp -l "$WORK/dist-a/$name" "$WORK/dist-b/$name" || true; } | wc -l | sed 's/$/ bytes differ/' >&2
  if [ -n "${PTHSCAN_REPRO_KEEP:-}" ]; then
    mkdir -p "$PTHSCAN_REPRO_KEEP"
    cp "$WORK/dist-a/$name" "$PTHSCAN_REPRO_KEEP/a-$name"
    cp "$WORK/dist-b/$name" "$PTHSCAN_REPRO_KEEP/b-$name"
    echo "both builds kept in $PTHSCAN_REPRO_KEEP" >&2
  fi
  echo "error: the two builds differ" >&2
  exit 1
fi
echo "reproducible: two clean builds are byte-identical"
