#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) with a seed corpus made from the real
# fixtures, and prints executions and crashes per target. Needs the nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz`). Crashes land in fuzz/artifacts/<target>/. TARGETS="a b"
# runs only those.
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
seed dump_tree $(find "$F/envoy-1.40" "$F/istio" "$F/osm" "$F/envoyproxy-gateway" "$F/consul-k8s" -name '*.json' -size -300k | sort)
# The per-resource targets: every cluster, listener, route configuration, secret and endpoint
# assignment of every fixture dump, one file each (named by the hash of its text).
python3 - "$F" <<'PY'
import hashlib, json, os, pathlib, sys
fields = {"cluster": "cluster", "listener": "listener", "route": "route_config", "secret": "secret", "endpoints": "endpoint_config"}
def find(v, field, out):
    if isinstance(v, dict):
        for k, x in v.items():
            if k == field and isinstance(x, dict):
                out.append(x)
            else:
                find(x, field, out)
    elif isinstance(v, list):
        for x in v:
            find(x, field, out)
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.json")):
    if path.stat().st_size > 4 << 20:
        continue
    try:
        dump = json.loads(path.read_bytes())
    except ValueError:
        continue
    if not isinstance(dump, dict) or not isinstance(dump.get("configs"), list):
        continue
    for target, field in fields.items():
        found = []
        find(dump["configs"], field, found)
        # `views` takes resources of every kind (it guesses the kind from the `@type`).
        for into in (target, "views"):
            os.makedirs(f"corpus/{into}", exist_ok=True)
            for r in found:
                text = json.dumps(r, separators=(",", ":")).encode()
                open(f"corpus/{into}/{hashlib.sha1(text).hexdigest()[:16]}.json", "wb").write(text)
PY
# log_line: a format (named, or spelled out), then lines of it, from the explain capture (Envoy's
# default, Istio's TEXT and JSON formats), a few lines a seed.
python3 - "$F/envoy-1.40-explain" <<'PY'
import os, re, sys
d = sys.argv[1]
src = open("../src/model/evidence.rs", encoding="utf-8").read()
def const(name):
    body = re.search(r'pub const ' + name + r': &str = "(.*?)";\n', src, re.S).group(1)
    return body.replace('\\"', '"').replace("\\n", "")
os.makedirs("corpus/log_line", exist_ok=True)
for log, named, fmt in [("default.log", "default", const("ENVOY_DEFAULT")), ("text.log", "text", const("ISTIO_TEXT")), ("productpage-istio.log", "text", const("ISTIO_TEXT")), ("json.log", "json", None)]:
    lines = open(os.path.join(d, log), encoding="utf-8").read().splitlines()
    for i in range(0, len(lines), 4):
        body = "\n".join(lines[i:i + 4]) + "\n"
        open(f"corpus/log_line/{log}-{i}", "w", encoding="utf-8").write(named + "\n" + body)
        # The format spelled out too, for mutations of the format itself (every one compiled anew).
        if fmt and i == 0:
            open(f"corpus/log_line/{log}-{i}-spelled", "w", encoding="utf-8").write(fmt + "\n" + body)
PY
# stats: the explain capture's Prometheus and plain stats, cut into pieces of about 4 KB at
# metric boundaries (whole files of 74 and 235 KB make every execution slow).
# Whole-file seeds left in the corpus by an earlier version of this script go first: libFuzzer
# takes the largest input as its length limit, and one 235 KB input slowed every execution.
find corpus/stats -type f -size +32k -delete 2>/dev/null || true
python3 - "$F/envoy-1.40-explain" <<'PY'
import os, sys
d = sys.argv[1]
os.makedirs("corpus/stats", exist_ok=True)
for name in ["prometheus.txt", "stats.txt"]:
    lines = open(os.path.join(d, name), encoding="utf-8").read().splitlines(keepends=True)
    piece, n = [], 0
    for line in lines:
        if sum(map(len, piece)) > 4000 and (name == "stats.txt" or line.startswith("# TYPE")):
            open(f"corpus/stats/{name}-{n}", "w", encoding="utf-8").write("".join(piece))
            piece, n = [], n + 1
        piece.append(line)
    open(f"corpus/stats/{name}-{n}", "w", encoding="utf-8").write("".join(piece))
PY
mkdir -p /tmp/envinspect-fuzz-seed/bug-report/proxies/default/a
cp "$F/envoy-1.40/config_dump_include_eds.json" "/tmp/envinspect-fuzz-seed/bug-report/proxies/default/a/config_dump?include_eds"
mkdir -p corpus/bundle
tar -C /tmp/envinspect-fuzz-seed -czf corpus/bundle/seed.tar.gz bug-report
tar -C /tmp/envinspect-fuzz-seed -cf corpus/bundle/seed.tar bug-report
# The structure-aware targets are built without AddressSanitizer and without comparison tracing
# (in a target directory of their own, so that neither build undoes the other): envinspect has
# no unsafe code (`#![forbid(unsafe_code)]`), what they look for is a panic, and the two cost them
# 3x their executions (docs/robustness.md). The byte-level targets keep both.
FAST="dump_tree cluster listener route secret endpoints views"
printf '%-16s %12s %8s %8s\n' target executions "per s" crashes
total=0
sum=0
norun=0
for t in ${TARGETS:-dump dump_tree cluster listener route secret endpoints views log_line stats html pem certs_endpoint expectations bundle evidence syncz}; do
  log=$(mktemp)
  opts=()
  case " $FAST " in *" $t "*) opts=(-s none --no-trace-compares --target-dir target/fast) ;; esac
  cargo +nightly fuzz run "${opts[@]}" "$t" "corpus/$t" -- -max_total_time="$SECS" -rss_limit_mb=4096 >"$log" 2>&1 || true
  execs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || true)
  [ -z "$execs" ] && execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  crashes=$(find "artifacts/$t" -type f 2>/dev/null | wc -l)
  rate=$(grep -oE 'exec/s: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  printf '%-16s %12s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "$crashes"
  grep -E 'panicked|ERROR: libFuzzer' "$log" | head -3 || true
  rm -f "$log"
  total=$((total + crashes))
  [ -n "$execs" ] || norun=$((norun + 1))
  sum=$((sum + ${execs:-0}))
done
printf '%-16s %12s\n' "all" "$sum"
# FUZZ_STRICT=1 (CI): a crash (now, or left in artifacts/ by an earlier run) or a target that did
# not run at all (it did not build) fails the run.
if [ "${FUZZ_STRICT:-0}" = 1 ] && [ $((total + norun)) -gt 0 ]; then
  echo "fuzzing: $total crash(es) (see fuzz/artifacts/), $norun target(s) that did not run" >&2
  exit 1
fi
