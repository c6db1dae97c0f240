# Shared by the comparison scripts: `best CMD...` prints the best wall time in seconds of $RUNS
# runs of CMD (output discarded, failures ignored). Needs bc.
best() {
  local b=999999 s e t
  for _ in $(seq "$RUNS"); do
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l); b=$(echo "if ($t < $b) $t else $b" | bc -l)
  done
  printf '%.3f' "$b"
}
