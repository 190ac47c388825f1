#!/usr/bin/env bash
# Bundle scale: istioctl bug-report trees of N proxies, cycling over two real Envoy 1.40 sidecar
# captures (the trace sidecar and the 1.40 capture with EDS), analysed with 2 jobs. Prints seconds,
# peak RSS and microseconds per proxy for each size: time per proxy stays flat when the analysis
# is linear in the fleet (a quadratic fleet check shows as time per proxy growing with N).
# Usage: bash benches/bundle_scale.sh [N...]   (default 500 2000 6000; builds the release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(500 2000 6000)
cargo build --release --locked --quiet
# Where cargo put it (CARGO_TARGET_DIR is honoured); a missing binary stops the run.
BIN="${CARGO_TARGET_DIR:-target}/release/envinspect"
[ -x "$BIN" ] || { echo "no release binary at $BIN" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
SRC=(fixtures/envoy-1.40-trace/sidecar.json fixtures/envoy-1.40/config_dump_include_eds.json)
printf '%8s %9s %8s %14s\n' proxies seconds "peak MB" "us per proxy"
for n in "${SIZES[@]}"; do
  rm -rf "$WORK/bug-report"
  for i in $(seq 1 "$n"); do
    d="$WORK/bug-report/proxies/ns$((i % 20))/pod-$i"
    mkdir -p "$d"
    ln "${SRC[$((i % 2))]}" "$d/config_dump?include_eds"  # a hard link: a regular file to read
  done
  t0=$EPOCHREALTIME
  rc=0
  /usr/bin/time -o "$WORK/kb" -f '%M' "$BIN" bundle "$WORK/bug-report" --jobs 2 --now 2026-12-01T00:00:00Z -o json >/dev/null 2>"$WORK/err" || rc=$?
  # Exit 1 is fleet findings; anything else means no figure to print.
  if [ "$rc" -gt 1 ]; then
    echo "failed (exit $rc): $(grep -v '^Command exited' "$WORK/err" | head -3)" >&2
    exit 1
  fi
  t1=$EPOCHREALTIME
  awk -v a="$t0" -v b="$t1" -v n="$n" -v kb="$(tail -1 "$WORK/kb")" \
    'BEGIN { s = b - a; printf "%8d %9.2f %8d %14.0f\n", n, s, kb / 1024, s / n * 1e6 }'
done
