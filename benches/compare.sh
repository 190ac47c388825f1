#!/usr/bin/env bash
# Single-dump performance in one run: envinspect against the serde_json floor and against the
# Python peer (xds-protos + json_format, installed into .venv-bench), with peak RSS and start-up.
# Then the bundle benchmark (benches/bundle.sh; SKIP_BUNDLE=1 to leave it out).
# Usage: bash benches/compare.sh [CLUSTERS]   (default 10000; about 72 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# In-process phases at 1k and 10k clusters (library calls, no process start or file read).
cargo bench --locked --bench decode 2>/dev/null
cargo build --release --locked --quiet
cargo bench --locked --bench decode -- --write "$WORK/big.json" "$N" >/dev/null 2>&1
[ -x .venv-bench/bin/python ] || { python3 -m venv .venv-bench && .venv-bench/bin/pip install -q xds-protos; }
BIN=target/release/envinspect
MB=$(awk -v b="$(stat -c %s "$WORK/big.json")" 'BEGIN { printf "%.1f", b / 1e6 }')
best3() { # command... -> best wall seconds of 3 (peak RSS of the last run in $WORK/kb)
  local best="" t0 t1 s
  for _ in 1 2 3; do
    t0=$EPOCHREALTIME
    /usr/bin/time -o "$WORK/kb" -f '%M' "$@" >/dev/null 2>&1 || true
    t1=$EPOCHREALTIME
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
    if [ -z "$best" ] || awk -v s="$s" -v b="$best" 'BEGIN { exit !(s < b) }'; then best=$s; fi
  done
  echo "$best"
}
FLOOR=$(cargo bench --locked --bench decode -- --floor "$WORK/big.json" 2>/dev/null | tail -1)
OURS=$(best3 "$BIN" "$WORK/big.json" -o json --now 2024-11-01T00:00:00Z)
KB=$(tail -1 "$WORK/kb")
PY=$(.venv-bench/bin/python benches/python_peer.py "$WORK/big.json")
PYPURE=$(PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python .venv-bench/bin/python benches/python_peer.py "$WORK/big.json")
PYVER=$(.venv-bench/bin/python -c 'import google.protobuf as p; print(p.__version__)')
START=$(best3 "$BIN" fixtures/envoy-1.40/config_dump.json --now 2026-12-01T00:00:00Z)
echo
printf 'dump: %d clusters, %s MB\n' "$N" "$MB"
awk -v f="$FLOOR" -v o="$OURS" -v p="$PY" -v q="$PYPURE" -v v="$PYVER" -v kb="$KB" -v mb="$MB" -v s="$START" 'BEGIN {
  printf "serde_json::from_slice::<Value> (floor, 1 thread): %.3f s (%.0f MB/s)\n", f, mb/f
  printf "envinspect big.json -o json, whole process:       %.3f s (%.0f MB/s) = %.2fx the floor (goal >= 0.5x, aim 1.0x)\n", o, mb/o, f/o
  printf "peak RSS: %d MB = %.1fx the file (goal <= 4x)\n", kb/1024, kb/1024/mb
  printf "Python peer, protobuf %s (upb, C):        %.2f s (%.0f MB/s): envinspect %.1fx faster (goal >= 15x)\n", v, p, mb/p, p/o
  printf "Python peer, pure-Python protobuf backend: %.2f s (%.1f MB/s): envinspect %.1fx faster\n", q, mb/q, q/o
  printf "start-up on a small dump (Envoy 1.40 capture, whole run): %.0f ms (goal <= 50 ms)\n", s*1000
}'
echo
# Bundles too, so that this one command gives every figure in docs/performance.md.
[ -n "${SKIP_BUNDLE:-}" ] || bash benches/bundle.sh
