#!/usr/bin/env bash
# Times `pthscan --deep` over a tree against `yara -r` with comparable rules (every string of
# our rules, condition `any of them`; see comparable-yara.py) and `rg -uuu` reading the same
# bytes, two threads each, warm cache, best of N runs. The issue's targets: --deep faster than
# yara -r, and at most 2x rg -uuu.
#   usage: benches/compare-deep.sh DIR [RUNS]
# Needs: a release build (cargo build --release --locked), yara and ripgrep
# (apt-get install yara ripgrep), bc, python3.
set -euo pipefail
DIR="${1:?usage: compare-deep.sh DIR [RUNS]}"; RUNS="${2:-3}"
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="${PTHSCAN:-${CARGO_TARGET_DIR:-target}/release/pthscan}"
[ -x "$BIN" ] || { echo "no binary at $BIN: cargo build --release --locked" >&2; exit 2; }
RULES="$(mktemp --suffix=.yar)"; trap 'rm -f "$RULES"' EXIT
python3 "$HERE/comparable-yara.py" "$RULES" >/dev/null
. "$(dirname "$0")/timing.sh"
# the same literal anchors rg has to look for: a fair "read and search every byte" baseline
PATTERN='exec\(|b64decode|subprocess|urlopen|requests\.post|\.ssh/|169\.254\.169\.254|crontab|systemctl|hostPID|B64_SCRIPT'
export RAYON_NUM_THREADS=2
rg -uuu -c -j2 --no-messages -e "$PATTERN" "$DIR" >/dev/null 2>&1 || true   # warm the cache
files=$(find "$DIR" -type f | wc -l); size=$(du -sh "$DIR" | cut -f1)
# read every byte, as yara and rg do (the default cap judges only the head of files over 64 MiB)
tp=$(best "$BIN" "$DIR" --deep --max-file-size 4294967296 --format json)
ty=$(best yara -r -w -p 2 "$RULES" "$DIR")
tr=$(best rg -uuu -c -j2 --no-messages -e "$PATTERN" "$DIR")
echo "tree: $DIR ($files files, $size), 2 threads, best of $RUNS, warm cache"
echo "pthscan --deep: ${tp}s   yara -r: ${ty}s   rg -uuu: ${tr}s"
echo "pthscan/yara: $(echo "scale=2; $tp / $ty" | bc -l)x   pthscan/rg: $(echo "scale=2; $tp / $tr" | bc -l)x"
"$BIN" "$DIR" --deep --format json | python3 -c 'import json,sys; s=json.load(sys.stdin)["summary"]; print("pthscan --deep findings:", s["findings"])'
