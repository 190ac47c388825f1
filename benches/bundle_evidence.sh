#!/usr/bin/env bash
# A bug-report at scale with its evidence (issue 37, item 5): N proxies, each with the Envoy 1.40
# explain capture's dump, an istio-proxy.log of LOG_MB megabytes (the capture's container log,
# then its Istio TEXT access-log lines, 99 successful lines for each failing one, cycling through
# its 19 failures) and its Prometheus stats. `bundle DIR -o json` with 2 jobs, best of three:
# seconds, MB read per second, milliseconds a proxy and peak RSS at each size, so that time per
# proxy (and per MB) staying flat shows time linear in the bundle's size, and the peak RSS stays
# under 200 MB. The files are hard links of one copy each (the bundle reads every one of them in
# full; the disk holds one).
# Usage: bash benches/bundle_evidence.sh [PROXIES] [LOG_MB]   (defaults 2000 and 5)
set -euo pipefail
cd "$(dirname "$0")/.."
PROXIES=${1:-2000}
LOG_MB=${2:-5}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cargo build --release --locked --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/envinspect"
[ -x "$BIN" ] || { echo "no release binary at $BIN" >&2; exit 1; }
F=fixtures/envoy-1.40-explain
NOW=(--now 2026-12-01T00:00:00Z)
# shellcheck source=benches/best3.sh
. benches/best3.sh

python3 - "$F" "$LOG_MB" "$WORK/src" <<'EOF'
import os, sys
F, mb, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
os.makedirs(out)
container = open(f"{F}/istio-proxy.log", "rb").read()
lines = open(f"{F}/text.log", encoding="utf-8").read().splitlines()
ok = [l for l in lines if '" 200 ' in l]
bad = [l for l in lines if l not in ok]
block = []
for i in range(len(bad)):
    block.extend(ok[i % len(ok)] for _ in range(99))
    block.append(bad[i])
chunk = ("\n".join(block) + "\n").encode()
with open(f"{out}/istio-proxy.log", "wb") as f:
    f.write(container)
    written = len(container)
    while written < mb * 1e6:
        f.write(chunk)
        written += len(chunk)
for name, src in [("config_dump", "config_dump.json"), ("prometheus", "prometheus.txt")]:
    open(f"{out}/{name}", "wb").write(open(f"{F}/{src}", "rb").read())
EOF
PER=$(( $(stat -c %s "$WORK/src/config_dump") + $(stat -c %s "$WORK/src/istio-proxy.log") + $(stat -c %s "$WORK/src/prometheus") ))
echo "bundle: each proxy a dump ($(( $(stat -c %s "$WORK/src/config_dump") / 1024 )) KB), an istio-proxy.log ($(( $(stat -c %s "$WORK/src/istio-proxy.log") / 1024 )) KB) and stats/prometheus ($(( $(stat -c %s "$WORK/src/prometheus") / 1024 )) KB); 2 jobs"
printf '%8s %9s %9s %8s %13s %8s\n' proxies "GB read" seconds "MB/s" "ms a proxy" "peak MB"
made=0
for n in 250 500 1000 "$PROXIES"; do
  # Grow the same tree: proxies made at a smaller size stay.
  for i in $(seq "$made" $((n - 1))); do
    d="$WORK/b/bug-report/proxies/ns$((i % 50))/pod-$i"
    mkdir -p "$d/stats"
    ln "$WORK/src/config_dump" "$d/config_dump?include_eds"
    ln "$WORK/src/istio-proxy.log" "$d/istio-proxy.log"
    ln "$WORK/src/prometheus" "$d/stats/prometheus"
  done
  made=$n
  T=$(best3 "$BIN" bundle "$WORK/b" --jobs 2 -o json "${NOW[@]}")
  KB=$(tail -1 "$WORK/kb")
  awk -v n="$n" -v t="$T" -v kb="$KB" -v per="$PER" 'BEGIN {
    printf "%8d %9.2f %9.2f %8.0f %13.2f %8d\n", n, n * per / 1e9, t, n * per / 1e6 / t, 1000 * t / n, kb / 1024 }'
  [ "$n" = "$PROXIES" ] && break
done
