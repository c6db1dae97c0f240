#!/usr/bin/env bash
# Times a pthscan hook scan of a directory against `find DIR -type f` walking the same tree
# (warm cache, best of N runs each), and prints the ratio. The issue's target: at most 1.5x.
#   usage: benches/compare-find.sh DIR [RUNS]
# Build first: cargo build --release --locked
set -euo pipefail
DIR="${1:?usage: compare-find.sh DIR [RUNS]}"; RUNS="${2:-5}"
BIN="${PTHSCAN:-${CARGO_TARGET_DIR:-target}/release/pthscan}"
[ -x "$BIN" ] || { echo "no binary at $BIN: cargo build --release --locked" >&2; exit 2; }
. "$(dirname "$0")/timing.sh"
find "$DIR" -type f >/dev/null 2>&1; "$BIN" "$DIR" >/dev/null 2>&1 || true   # warm the cache
files=$(find "$DIR" -type f | wc -l); size=$(du -sh "$DIR" | cut -f1)
tf=$(best find "$DIR" -type f)
tp=$(best "$BIN" "$DIR" --format json)
echo "tree: $DIR ($files files, $size)"
echo "find -type f: ${tf}s   pthscan: ${tp}s   ratio: $(echo "scale=2; $tp / $tf" | bc -l)x (best of $RUNS, warm cache)"
