#!/usr/bin/env bash
# The whole-host sweep (`pthscan` with no PATH: discovery, every hook, integrity against RECORD,
# persistence) against `find / -xdev -name '*.pth'` on the same machine, warm cache, best of
# RUNS. The issue's target: within 2x of the find.
#   usage: benches/compare-host.sh [RUNS]     (run as root to see every user's files)
# Needs: a release build (cargo build --release --locked), bc.
set -euo pipefail
RUNS="${1:-3}"
BIN="${PTHSCAN:-${CARGO_TARGET_DIR:-target}/release/pthscan}"
[ -x "$BIN" ] || { echo "no binary at $BIN: cargo build --release --locked" >&2; exit 2; }
. "$(dirname "$0")/timing.sh"
export RAYON_NUM_THREADS=2
find / -xdev -name '*.pth' >/dev/null 2>&1 || true   # warm the cache
tf=$(best find / -xdev -name '*.pth')
tp=$(best "$BIN" --format json)
echo "host sweep, 2 threads, best of $RUNS, warm cache"
echo "pthscan: ${tp}s   find / -xdev -name '*.pth': ${tf}s   ratio: $(echo "scale=2; $tp / $tf" | bc -l)x"
"$BIN" --format json | python3 -c 'import json,sys,collections; d=json.load(sys.stdin); s=d["summary"]; print("environments:", s["environments"], dict(collections.Counter(e["kind"] for e in d["environments"])), "distributions:", s["distributions"], "entries walked:", s["entries_walked"])' || true
