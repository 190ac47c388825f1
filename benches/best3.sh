# Sourced by the bench scripts (not run alone). best3 COMMAND...: the best wall seconds of three
# runs, printed; the peak RSS (KB) of the last run is left in $WORK/kb. Exit 1 (findings, failures
# explained) is what these inputs are expected to give; any other failure stops the script with
# the command's error, so a figure is never printed for a run that did not happen.
best3() {
  local best="" t0 t1 s rc
  for _ in 1 2 3; do
    t0=$EPOCHREALTIME
    rc=0
    /usr/bin/time -o "$WORK/kb" -f '%M' "$@" >/dev/null 2>"$WORK/err" || rc=$?
    if [ "$rc" -gt 1 ]; then
      echo "failed (exit $rc): $* -- $(grep -v '^Command exited' "$WORK/err" | head -3)" >&2
      exit 1
    fi
    t1=$EPOCHREALTIME
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    if [ -z "$best" ] || awk -v s="$s" -v b="$best" 'BEGIN { exit !(s < b) }'; then best=$s; fi
  done
  echo "$best"
}
