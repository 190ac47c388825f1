#!/usr/bin/env bash
# Regenerates proto/envoy-types.desc.bin: the FileDescriptorSet that the envoy-types crate was
# generated from (its src/generated/types.bin), with source info stripped (3.4 MB -> ~0.6 MB).
# Vendoring the crate's own set keeps the JSON descriptors and the Rust structs from drifting:
# rerun this whenever the envoy-types version in Cargo.toml changes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
version=$(cargo metadata --format-version 1 --locked | python3 -c 'import json,sys; print([p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="envoy-types"][0])')
src=$(cargo metadata --format-version 1 --locked | python3 -c 'import json,sys; print([p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="envoy-types"][0])')
src="$(dirname "$src")/src/generated/types.bin"
venv=$(mktemp -d)
python3 -m venv "$venv" && "$venv/bin/pip" install -q 'protobuf>=4,<7'
"$venv/bin/python" - "$src" "$here/envoy-types.desc.bin" <<'PY'
import sys
from google.protobuf import descriptor_pb2
fds = descriptor_pb2.FileDescriptorSet()
fds.ParseFromString(open(sys.argv[1], "rb").read())
for f in fds.file:
    f.ClearField("source_code_info")
open(sys.argv[2], "wb").write(fds.SerializeToString(deterministic=True))
print(f"{len(fds.file)} files, {sum(len(f.message_type) for f in fds.file)} top-level messages")
PY
rm -rf "$venv"
echo "envoy-types $version -> proto/envoy-types.desc.bin ($(wc -c < "$here/envoy-types.desc.bin") bytes)"
