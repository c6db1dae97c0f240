#!/usr/bin/env bash
# Side by side on one tree, in one run: pthscan (default and --deep) against find -type f (the
# walk limit; with -printf %s, a walk that stats every file), rg -uuu (the read limit), yara -r
# with comparable rules, autorun-audit and GuardDog, at one and two threads, on the tree and on
# copies of it 4× and 16× the files (hard links: no extra disk, the same page cache). Prints a
# Markdown table (benches/write-tables.py): time (best of RUNS, warm cache), files/s, MB/s,
# peak RSS, the ratio to the limit each mode is held to, and the targets judged from them.
# N threads also means N CPUs (taskset): pthscan compiles its rules on a thread of its own, so
# RAYON_NUM_THREADS=1 alone would still let it use a second core.
#   usage: benches/compare.sh TREE [RUNS]
# With WRITE=1 the results also replace the marked tables of benches/README.md (the whole
# table) and README.md (the summary), by benches/write-tables.py.
# Env: SCALES="1 4 16", DEEP_SCALES (rg and --deep; default SCALES), YARA_SCALES (default
#      "1": yara is the slowest), PTHSCAN (default target/release/pthscan), AUTORUN (autorun-audit
#      executable), GUARDDOG (guarddog executable), SLOW_TIMEOUT (seconds, default 900) for the
#      two Python tools, which run at 1× only.
# Needs: apt-get install ripgrep yara time bc python3; a release build; the Python tools in venvs:
#   python3 -m venv ~/aa && ~/aa/bin/pip install autorun-audit==0.4.0   (AUTORUN=~/aa/bin/autorun-audit)
#   python3 -m venv ~/gd && ~/gd/bin/pip install guarddog==3.2.0        (GUARDDOG=~/gd/bin/guarddog)
set -euo pipefail
TREE="$(cd "$1" && pwd)"; RUNS="${2:-3}"
HERE="$(cd "$(dirname "$0")" && pwd)"
PTHSCAN="${PTHSCAN:-${CARGO_TARGET_DIR:-$HERE/../target}/release/pthscan}"
[ -x "$PTHSCAN" ] || { echo "no pthscan at $PTHSCAN: cargo build --release --locked, or set PTHSCAN" >&2; exit 2; }
SCALES="${SCALES:-1 4 16}"
DEEP_SCALES="${DEEP_SCALES:-$SCALES}"
YARA_SCALES="${YARA_SCALES:-1}"
at() { case " $2 " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
SLOW_TIMEOUT="${SLOW_TIMEOUT:-900}"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
python3 "$HERE/comparable-yara.py" "$WORK/comparable.yar" > /dev/null

# the CPU list for N threads: CPUs 0..N-1
cpus() { echo "0-$(( $1 - 1 ))"; }

# best wall time and its peak RSS over RUNS runs: "seconds kilobytes"
measure() {
  local best="" rss=""
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %M' -o "$WORK/t" "$@" > /dev/null 2>&1 || true
    read -r t m < <(tail -1 "$WORK/t")
    if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best="$t"; rss="$m"; fi
  done
  echo "$best $rss"
}

# records one measurement for benches/write-tables.py, which renders the table at the end
row() { # label threads scale files bytes seconds rss_kb reference_seconds
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$WORK/rows.tsv"
  echo "$1, $2 thread(s), ${3}×: $6 s, $(( $7 / 1024 )) MB" >&2
}

for scale in $SCALES; do
  target="$WORK/x$scale"
  mkdir -p "$target"
  for i in $(seq "$scale"); do cp -al "$TREE" "$target/copy$i"; done
  files="$(find "$target" -type f | wc -l)"
  bytes="$(find "$target" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s}')"
  # read the tree once so every tool starts from a warm cache
  cat "$target"/copy1 >/dev/null 2>&1 || true; rg -uuu -c zzzz_never "$target" > /dev/null 2>&1 || true
  read -r find_t find_m < <(measure find "$target" -type f)
  row "find -type f" 1 "$scale" "$files" "$bytes" "$find_t" "$find_m" ""
  # the walk that also knows every file's size (a stat per file, relative to its directory):
  # the least the default scan's RECORD size check can cost
  read -r t m < <(measure find "$target" -type f -printf '%s\n')
  row "find -type f -printf %s" 1 "$scale" "$files" "$bytes" "$t" "$m" "$find_t"
  for threads in 1 2; do
    read -r t m < <(measure taskset -c "$(cpus "$threads")" env RAYON_NUM_THREADS="$threads" "$PTHSCAN" "$target" --format json -q -o /dev/null)
    row "pthscan" "$threads" "$scale" "$files" "$bytes" "$t" "$m" "$find_t"
  done
  for threads in 1 2; do
    at "$scale" "$DEEP_SCALES" || break
    read -r rg_t rg_m < <(measure taskset -c "$(cpus "$threads")" rg -uuu -j "$threads" -c -F -e 'import ' -e 'exec(' -e 'b64decode' "$target")
    row "rg -uuu" "$threads" "$scale" "$files" "$bytes" "$rg_t" "$rg_m" ""
    read -r t m < <(measure taskset -c "$(cpus "$threads")" env RAYON_NUM_THREADS="$threads" "$PTHSCAN" "$target" --deep --max-file-size 4294967296 --format json -q -o /dev/null)
    row "pthscan --deep" "$threads" "$scale" "$files" "$bytes" "$t" "$m" "$rg_t"
    if at "$scale" "$YARA_SCALES"; then
      read -r t m < <(measure taskset -c "$(cpus "$threads")" yara -r -p "$threads" "$WORK/comparable.yar" "$target")
      row "yara -r" "$threads" "$scale" "$files" "$bytes" "$t" "$m" "$rg_t"
    fi
  done
  if [ "$scale" = 1 ]; then
    sites="$(find "$target" -type d -name site-packages | head -1)"
    if [ -n "${AUTORUN:-}" ] && [ -n "$sites" ]; then
      read -r t m < <(RUNS=1 measure timeout "$SLOW_TIMEOUT" "$AUTORUN" env --site-dir "$sites" --format json)
      row "autorun-audit env --site-dir" 1 "$scale" "$files" "$bytes" "$t" "$m" "$find_t"
    fi
    if [ -n "${GUARDDOG:-}" ]; then
      read -r t m < <(RUNS=1 measure timeout "$SLOW_TIMEOUT" "$GUARDDOG" pypi scan "$target")
      row "guarddog pypi scan (timeout ${SLOW_TIMEOUT}s)" 1 "$scale" "$files" "$bytes" "$t" "$m" "$find_t"
    fi
  fi
  rm -rf "$target"
done
# start-up: an empty folder
mkdir -p "$WORK/empty"
read -r t m < <(measure "$PTHSCAN" "$WORK/empty" --format json -q -o /dev/null)
row "empty folder" 1 0 0 0 "$t" "$m" ""
command="SCALES=\"$SCALES\" DEEP_SCALES=\"$DEEP_SCALES\" RUNS=$RUNS benches/compare.sh $(basename "$TREE")"
if [ "${WRITE:-}" = 1 ]; then
  python3 "$HERE/write-tables.py" "$WORK/rows.tsv" "$command" "$HERE/README.md" "$HERE/../README.md"
else
  python3 "$HERE/write-tables.py" "$WORK/rows.tsv" "$command"
fi
