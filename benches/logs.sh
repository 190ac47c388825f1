#!/usr/bin/env bash
# Access logs and stats, in one run (issue 32's goals), all as ratios against baselines measured
# in the same run on the same files:
#   1. `explain` of a 1 GB log in Istio's TEXT format with 1% failing lines, against `wc -l`
#      (goal: >= 0.1x its throughput);
#   2. `explain -o json` of the same log in Istio's JSON format, against `jq` selecting the failing
#      lines (goal: >= 3x faster);
#   3. peak RSS of `explain` on a 100 MB and a 1 GB log (goal: the same);
#   4. `bundle` of 250 … 2000 proxies, each with a dump, an istio-proxy.log and stats/prometheus
#      (goal: time linear in size).
# Lines come from the real Envoy 1.40 capture in fixtures/envoy-1.40-explain (99 successful lines
# for each failing one, cycling through its 19 failures).
# Usage: bash benches/logs.sh [GB] [PROXIES]   (defaults 1 and 2000). Needs jq (apt-get install jq).
set -euo pipefail
cd "$(dirname "$0")/.."
GB=${1:-1}
PROXIES=${2:-2000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
command -v jq >/dev/null || { echo "benches/logs.sh needs jq" >&2; exit 1; }
cargo build --release --locked --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/envinspect"
[ -x "$BIN" ] || { echo "no release binary at $BIN" >&2; exit 1; }
F=fixtures/envoy-1.40-explain
DUMP=$F/config_dump.json
NOW=(--now 2026-12-01T00:00:00Z)

# A log of about SIZE bytes: 99 successful lines per failing one.
make_log() { # source-log size-bytes out
  python3 - "$1" "$2" "$3" <<'EOF'
import sys
src, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lines = open(src, encoding="utf-8").read().splitlines()
ok = [l for l in lines if '" 200 ' in l or '"response_code":200' in l]
bad = [l for l in lines if l not in ok]
block = []
for i in range(len(bad)):
    block.extend(ok[i % len(ok)] for _ in range(99))
    block.append(bad[i])
chunk = ("\n".join(block) + "\n").encode()
with open(out, "wb") as f:
    written = 0
    while written < size:
        f.write(chunk)
        written += len(chunk)
EOF
}

# shellcheck source=benches/best3.sh
. benches/best3.sh

SIZE=$(awk -v g="$GB" 'BEGIN { printf "%d", g * 1e9 }')
make_log $F/text.log "$SIZE" "$WORK/text.log"
make_log $F/json.log "$SIZE" "$WORK/json.log"
make_log $F/text.log 100000000 "$WORK/small.log"
MB=$(awk -v b="$(stat -c %s "$WORK/text.log")" 'BEGIN { printf "%.0f", b / 1e6 }')
JMB=$(awk -v b="$(stat -c %s "$WORK/json.log")" 'BEGIN { printf "%.0f", b / 1e6 }')
LINES=$(wc -l < "$WORK/text.log")

WC=$(best3 wc -l "$WORK/text.log")
TEXT=$(best3 "$BIN" explain "$DUMP" "$WORK/text.log" -o json "${NOW[@]}")
BIG_KB=$(tail -1 "$WORK/kb")
TABLE=$(best3 "$BIN" explain "$DUMP" "$WORK/text.log" "${NOW[@]}")
SMALL=$(best3 "$BIN" explain "$DUMP" "$WORK/small.log" -o json "${NOW[@]}")
SMALL_KB=$(tail -1 "$WORK/kb")
JQ=$(best3 jq -c 'select(.response_code >= 400 or .response_code == 0 or .response_flags != "-")' "$WORK/json.log")
JSON=$(best3 "$BIN" explain "$DUMP" "$WORK/json.log" -o json "${NOW[@]}")

echo "access log: $MB MB, $LINES lines, 1% failing (Istio TEXT); the same events as Istio JSON: $JMB MB"
awk -v wc="$WC" -v t="$TEXT" -v tb="$TABLE" -v mb="$MB" -v jq="$JQ" -v j="$JSON" -v jmb="$JMB" \
    -v big="$BIG_KB" -v small="$SMALL_KB" -v s="$SMALL" 'BEGIN {
  printf "  wc -l:                                 %.2f s (%.0f MB/s)\n", wc, mb / wc
  printf "  explain -o json (failing lines):       %.2f s (%.0f MB/s) = %.2fx wc -l (goal >= 0.1x)\n", t, mb / t, wc / t
  printf "  explain (table by cause):              %.2f s (%.0f MB/s) = %.2fx wc -l\n", tb, mb / tb, wc / tb
  printf "  jq selecting the failing JSON lines:   %.2f s (%.0f MB/s)\n", jq, jmb / jq
  printf "  explain -o json of the JSON log:       %.2f s (%.0f MB/s) = %.1fx faster than jq (goal >= 3x)\n", j, jmb / j, jq / j
  printf "  peak RSS: 100 MB log %d MB (%.2f s), %d MB log %d MB (goal: the same)\n", small / 1024, s, mb, big / 1024
}'

# Bundles of N proxies, each: the capture's dump, its container log and its stats.
bundle_of() { # n dir
  python3 - "$1" "$2" <<'EOF'
import os, sys
n, root = int(sys.argv[1]), sys.argv[2]
F = "fixtures/envoy-1.40-explain"
dump = open(f"{F}/config_dump.json", "rb").read()
log = open(f"{F}/istio-proxy.log", "rb").read()
stats = open(f"{F}/prometheus.txt", "rb").read()
for i in range(n):
    d = os.path.join(root, "bug-report", "proxies", f"ns{i % 50}", f"pod-{i}")
    os.makedirs(os.path.join(d, "stats"))
    open(os.path.join(d, "config_dump?include_eds"), "wb").write(dump)
    open(os.path.join(d, "istio-proxy.log"), "wb").write(log)
    open(os.path.join(d, "stats", "prometheus"), "wb").write(stats)
EOF
}
echo "bundle: proxies with a dump ($(( $(stat -c %s $DUMP) / 1024 )) KB), an istio-proxy.log and stats/prometheus each"
PREV=""
for n in 250 500 1000 "$PROXIES"; do
  rm -rf "$WORK/b"; mkdir -p "$WORK/b"
  bundle_of "$n" "$WORK/b"
  T=$(best3 "$BIN" bundle "$WORK/b" -o json "${NOW[@]}")
  KB=$(tail -1 "$WORK/kb")
  awk -v n="$n" -v t="$T" -v kb="$KB" 'BEGIN { printf "  %5d proxies: %.2f s, %.2f ms a proxy, peak RSS %d MB\n", n, t, 1000 * t / n, kb / 1024 }'
  [ "$n" = "$PROXIES" ] && break
done
