#!/usr/bin/env bash
# Single-dump performance in one run, on both dump shapes of benches/generate.rs (the generated
# Istio sidecar of N clusters, and the Envoy 1.40 capture replicated K times): envinspect against
# the serde_json floor, each section command against the same floor, peak RSS, the Python peer
# (xds-protos + json_format, installed into .venv-bench) and start-up. Then the bundle benchmark
# (benches/bundle.sh; SKIP_BUNDLE=1 to leave it out).
# Usage: bash benches/compare.sh [CLUSTERS] [COPIES]   (defaults 10000 and 4400; about 70 MB each)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
K=${2:-4400}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# In-process phases on both shapes (library calls, no process start or file read).
cargo bench --locked --bench decode 2>/dev/null
cargo build --release --locked --quiet
cargo bench --locked --bench decode -- --write "$WORK/generated.json" "$N" >/dev/null 2>&1
cargo bench --locked --bench decode -- --write-capture "$WORK/capture.json" "$K" >/dev/null 2>&1
[ -x .venv-bench/bin/python ] || { python3 -m venv .venv-bench && .venv-bench/bin/pip install -q xds-protos; }
# Where cargo put it (CARGO_TARGET_DIR is honoured); a missing binary stops the run.
BIN="${CARGO_TARGET_DIR:-target}/release/envinspect"
[ -x "$BIN" ] || { echo "no release binary at $BIN" >&2; exit 1; }
NOW=(--now 2024-11-01T00:00:00Z)
# shellcheck source=benches/best3.sh
. benches/best3.sh
PYVER=$(.venv-bench/bin/python -c 'import google.protobuf as p; print(p.__version__)')
for shape in generated capture; do
  F="$WORK/$shape.json"
  MB=$(awk -v b="$(stat -c %s "$F")" 'BEGIN { printf "%.1f", b / 1e6 }')
  [ "$shape" = generated ] && what="$N clusters" || what="1.40 capture x$K"
  FLOOR=$(cargo bench --locked --bench decode -- --floor "$F" 2>/dev/null | tail -1)
  OURS=$(best3 "$BIN" "$F" -o json "${NOW[@]}")
  KB=$(tail -1 "$WORK/kb")
  PY=$(.venv-bench/bin/python benches/python_peer.py "$F")
  PYPURE=$(PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python .venv-bench/bin/python benches/python_peer.py "$F")
  echo
  printf '%s dump: %s, %s MB\n' "$shape" "$what" "$MB"
  awk -v f="$FLOOR" -v o="$OURS" -v p="$PY" -v q="$PYPURE" -v v="$PYVER" -v kb="$KB" -v mb="$MB" 'BEGIN {
    printf "  serde_json::from_slice::<Value> (floor, 1 thread): %.3f s (%.0f MB/s)\n", f, mb/f
    printf "  envinspect FILE -o json, whole process:          %.3f s (%.0f MB/s) = %.2fx the floor (goal >= 1.0x)\n", o, mb/o, f/o
    printf "  peak RSS: %d MB = %.1fx the file (goal <= 3x)\n", kb/1024, kb/1024/mb
    printf "  Python peer, protobuf %s (upb, C):        %.2f s (%.0f MB/s): envinspect %.1fx faster (goal >= 15x)\n", v, p, mb/p, p/o
    printf "  Python peer, pure-Python protobuf backend: %.2f s (%.1f MB/s): envinspect %.1fx faster\n", q, mb/q, q/o
  }'
  for cmd in secrets certs clusters listeners routes endpoints authz; do
    T=$(best3 "$BIN" "$cmd" "$F" -o json "${NOW[@]}")
    KB=$(tail -1 "$WORK/kb")
    awk -v c="$cmd" -v f="$FLOOR" -v t="$T" -v kb="$KB" -v mb="$MB" \
      'BEGIN { printf "  %-10s -o json: %.3f s = %.2fx the floor (goal >= 2x), peak RSS %.1fx the file\n", c, t, f/t, kb/1024/mb }'
  done
done
START=$(best3 "$BIN" fixtures/envoy-1.40/config_dump.json --now 2026-12-01T00:00:00Z)
echo
awk -v s="$START" 'BEGIN { printf "start-up on a small dump (Envoy 1.40 capture, whole run): %.0f ms (goal <= 50 ms)\n", s*1000 }'
echo
# Bundles too, so that this one command gives every figure in docs/performance.md.
[ -n "${SKIP_BUNDLE:-}" ] || bash benches/bundle.sh
