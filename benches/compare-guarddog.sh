#!/usr/bin/env bash
# pthscan against GuardDog on a folder of archives (wheels, sdists): wall time for the whole
# folder, and what each flags. GuardDog is run the way its docs show, one archive per call
# (`guarddog pypi scan FILE`); pthscan gets the folder. A GuardDog "flag" is a risk label other
# than no_risks_detected/low; pthscan's is a finding at high or above.
#   usage: benches/compare-guarddog.sh DIR [GUARDDOG]
# Needs: a release build, GuardDog in a venv of its own (python3 -m venv gd &&
# gd/bin/pip install guarddog), python3. GuardDog tries to refresh its caches over the network
# and carries on when it cannot.
set -euo pipefail
DIR="${1:?usage: compare-guarddog.sh DIR [GUARDDOG]}"; GD="${2:-guarddog}"
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="${PTHSCAN:-${CARGO_TARGET_DIR:-target}/release/pthscan}"
[ -x "$BIN" ] || { echo "no binary at $BIN: cargo build --release --locked" >&2; exit 2; }
OUT="$(mktemp -d)"; trap 'rm -rf "$OUT"' EXIT
export RAYON_NUM_THREADS=2
n=$(find "$DIR" -maxdepth 1 -type f | wc -l)
start=$(date +%s.%N)
"$BIN" "$DIR" --deep --format json > "$OUT/pthscan.json" || true
tp=$(echo "$(date +%s.%N) - $start" | bc -l)
start=$(date +%s.%N)
for f in "$DIR"/*; do
  [ -f "$f" ] && "$GD" pypi scan "$f" --output-format json > "$OUT/gd-$(basename "$f").json" 2>/dev/null || true
done
tg=$(echo "$(date +%s.%N) - $start" | bc -l)
echo "folder: $DIR ($n archives), 2 threads for pthscan, GuardDog one archive at a time"
printf 'pthscan: %.2fs   guarddog: %.2fs   speed-up: %.0fx\n' "$tp" "$tg" "$(echo "$tg / $tp" | bc -l)"
python3 "$HERE/flagged.py" "$DIR" "$OUT"
