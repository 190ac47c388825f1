#!/usr/bin/env bash
# Bundle benchmark: a synthetic 200-proxy istioctl bug-report built from the real fixtures, analysed
# with 1 job and with 2, in the same run. Prints wall time (best of 3), peak RSS and the speed-up ratio.
# Usage: bash benches/bundle.sh [PROXIES]   (default 200; builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
cargo build --release --locked --quiet
# Where cargo put it (CARGO_TARGET_DIR is honoured); a missing binary stops the run.
BIN="${CARGO_TARGET_DIR:-target}/release/envinspect"
[ -x "$BIN" ] || { echo "no release binary at $BIN" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Real dumps of several shapes, cycled over the proxies (pod names differ, content repeats).
SRC=(
  fixtures/envoy-1.40/config_dump_include_eds.json
  fixtures/istio/istioctl/cmd/testdata/describe/productpage-v1-c7765c886-v99jb.json
  fixtures/istio/istioctl/cmd/testdata/describe/ratings-v1-f745cf57b-vfwcv.json
  fixtures/istio/istioctl/pkg/proxyconfig/testdata/config_dump.json
  fixtures/istio/istioctl/pkg/writer/envoy/configdump/testdata/secret/istio/config_dump.json
)
for i in $(seq 1 "$N"); do
  d="$WORK/bug-report/proxies/ns$((i % 10))/pod-$i"
  mkdir -p "$d"
  cp "${SRC[$((i % ${#SRC[@]}))]}" "$d/config_dump?include_eds"
done
tar -C "$WORK" -czf "$WORK/bug-report.tar.gz" bug-report
BYTES=$(du -sb "$WORK/bug-report" | cut -f1)
run() { # jobs input -> "best-of-3 seconds  peak_kb" (wall clock to the microsecond; RSS from time -v)
  local best="" kb=0 t0 t1 s
  for _ in 1 2 3; do
    t0=$EPOCHREALTIME
    local rc=0
    /usr/bin/time -o "$WORK/time" -f '%M' "$BIN" bundle "$2" --jobs "$1" --now 2024-11-01T00:00:00Z -o json >/dev/null 2>"$WORK/err" || rc=$?
    # Exit 1 is fleet findings; anything else means no figure to print.
    if [ "$rc" -gt 1 ]; then
      echo "failed (exit $rc): bundle $2 --jobs $1 -- $(grep -v '^Command exited' "$WORK/err" | head -3)" >&2
      exit 1
    fi
    t1=$EPOCHREALTIME
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    if [ -z "$best" ] || awk -v s="$s" -v b="$best" 'BEGIN { exit !(s < b) }'; then best=$s; fi
    kb=$(( $(tail -1 "$WORK/time") > kb ? $(tail -1 "$WORK/time") : kb ))
  done
  echo "$best $kb"
}
printf '%d proxies, %d MB of dumps\n' "$N" $((BYTES / 1000000))
printf '%-28s %8s %10s\n' "case" "seconds" "peak MB"
declare -A T
for input in dir tgz; do
  path="$WORK/bug-report"; [ "$input" = tgz ] && path="$WORK/bug-report.tar.gz"
  for jobs in 1 2; do
    # Through a variable, so that a failed run stops the script (`set -e`).
    result=$(run "$jobs" "$path")
    read -r s kb <<<"$result"
    T[$input$jobs]=$s
    printf '%-28s %8s %10d\n' "$input, --jobs $jobs" "$s" $((kb / 1024))
  done
done
awk -v a="${T[dir1]}" -v b="${T[dir2]}" -v c="${T[tgz1]}" -v d="${T[tgz2]}" \
  'BEGIN { printf "speed-up with 2 jobs: directory %.2fx, tar.gz %.2fx (goal >= 1.7x)\n", a/b, c/d }'
