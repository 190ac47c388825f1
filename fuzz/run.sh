#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) with a seed corpus made from the real
# fixtures, and prints executions and crashes per target. Needs the nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz`). Crashes land in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-60}
seed() { # target files...
  local t=$1; shift
  mkdir -p "corpus/$t"
  for f in "$@"; do cp "$f" "corpus/$t/$(basename "$f" | tr '?' '_')"; done
}
F=../fixtures
seed dump $(find "$F/envoy-1.40" "$F/istio" "$F/osm" "$F/envoyproxy-gateway" "$F/ztunnel" -name '*.json' -size -2M | sort) $F/errors/*
seed html $(find "$F/envoy-1.40" "$F/istio" "$F/envoyproxy-gateway" -name '*.json' -size -2M | sort)
seed pem $F/pem/* $F/envoy-1.40/certs/*.pem
seed certs_endpoint $F/envoy-1.40/certs.json
seed expectations $F/expect/*.yaml
seed evidence $F/envoy-1.40-explain/*.log $F/envoy-1.40-explain/*.txt
seed syncz $F/envoy-1.40-sync/syncz.json $(find "$F/istioctl-proxy-status" -name syncz -o -name '*.json' | sort)
mkdir -p /tmp/envinspect-fuzz-seed/bug-report/proxies/default/a
cp "$F/envoy-1.40/config_dump_include_eds.json" "/tmp/envinspect-fuzz-seed/bug-report/proxies/default/a/config_dump?include_eds"
mkdir -p corpus/bundle
tar -C /tmp/envinspect-fuzz-seed -czf corpus/bundle/seed.tar.gz bug-report
tar -C /tmp/envinspect-fuzz-seed -cf corpus/bundle/seed.tar bug-report
printf '%-16s %12s %8s\n' target executions crashes
total=0
norun=0
for t in dump html pem certs_endpoint expectations bundle evidence syncz; do
  log=$(mktemp)
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$SECS" -rss_limit_mb=4096 >"$log" 2>&1 || true
  execs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || true)
  [ -z "$execs" ] && execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  crashes=$(find "artifacts/$t" -type f 2>/dev/null | wc -l)
  printf '%-16s %12s %8s\n' "$t" "${execs:-?}" "$crashes"
  grep -E 'panicked|ERROR: libFuzzer' "$log" | head -3 || true
  rm -f "$log"
  total=$((total + crashes))
  [ -n "$execs" ] || norun=$((norun + 1))
done
# FUZZ_STRICT=1 (CI): a crash (now, or left in artifacts/ by an earlier run) or a target that did
# not run at all (it did not build) fails the run.
if [ "${FUZZ_STRICT:-0}" = 1 ] && [ $((total + norun)) -gt 0 ]; then
  echo "fuzzing: $total crash(es) (see fuzz/artifacts/), $norun target(s) that did not run" >&2
  exit 1
fi
