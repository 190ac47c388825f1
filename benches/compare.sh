#!/usr/bin/env bash
# Single-dump performance in one run: envinspect against the serde_json floor (cargo bench) and
# against the Python peer (xds-protos + json_format, installed into .venv-bench), with peak RSS
# and start-up. Usage: bash benches/compare.sh [CLUSTERS]   (default 10000; about 72 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cargo bench --locked --bench decode 2>/dev/null | tail -n +1
cargo build --release --locked --quiet
cargo bench --locked --bench decode -- --write "$WORK/big.json" "$N" >/dev/null 2>&1
[ -x .venv-bench/bin/python ] || { python3 -m venv .venv-bench && .venv-bench/bin/pip install -q xds-protos; }
MB=$(( $(stat -c %s "$WORK/big.json") / 1000000 ))
/usr/bin/time -o "$WORK/t" -f '%e %M' target/release/envinspect "$WORK/big.json" -o json --now 2024-11-01T00:00:00Z >/dev/null || true
read -r OURS KB < <(tail -1 "$WORK/t")
PY=$(.venv-bench/bin/python benches/python_peer.py "$WORK/big.json")
/usr/bin/time -o "$WORK/s" -f '%e' target/release/envinspect fixtures/envoy-1.40/config_dump.json --now 2026-12-01T00:00:00Z >/dev/null || true
START=$(tail -1 "$WORK/s")
echo
printf 'dump: %d clusters, %d MB\n' "$N" "$MB"
awk -v o="$OURS" -v p="$PY" -v kb="$KB" -v mb="$MB" -v s="$START" 'BEGIN {
  printf "envinspect -o json end to end: %.2f s (%.0f MB/s), peak RSS %d MB (%.1fx the file)\n", o, mb/o, kb/1024, kb/1024/mb
  printf "Python peer (xds-protos typed decode only): %.2f s (%.0f MB/s): envinspect is %.1fx faster (goal >= 15x)\n", p, mb/p, p/o
  printf "start-up on a small dump (Envoy 1.40 capture, whole run): %.0f ms (goal <= 50 ms)\n", s*1000
}'
