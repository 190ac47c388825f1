"""The Python peer: a typed decode of an Envoy config dump with xds-protos and protobuf's
json_format (what Python tooling does). Prints the seconds it took.

Any whose type xds-protos does not know (Istio's own filters) is dropped first, since
json_format cannot parse it; envinspect keeps those as raw JSON instead, so the comparison is
in Python's favour. Usage: python_peer.py DUMP.json
"""
import importlib
import json
import pkgutil
import sys
import time

from google.protobuf import json_format, symbol_database

for root in ("envoy", "udpa", "xds", "validate"):
    try:
        pkg = importlib.import_module(root)
    except ImportError:
        continue
    for m in pkgutil.walk_packages(pkg.__path__, root + "."):
        if m.name.endswith("_pb2"):
            try:
                importlib.import_module(m.name)
            except Exception:
                pass

from envoy.admin.v3 import config_dump_pb2  # noqa: E402

db = symbol_database.Default()


def known(type_url):
    try:
        db.pool.FindMessageTypeByName(type_url.rsplit("/", 1)[-1])
        return True
    except KeyError:
        return False


def prune(v):
    if isinstance(v, dict):
        return {k: prune(x) for k, x in v.items() if not (isinstance(x, dict) and "@type" in x and not known(x["@type"]))}
    if isinstance(v, list):
        return [prune(x) for x in v if not (isinstance(x, dict) and "@type" in x and not known(x["@type"]))]
    return v


text = json.dumps(prune(json.load(open(sys.argv[1]))))
start = time.perf_counter()
msg = config_dump_pb2.ConfigDump()
json_format.Parse(text, msg, ignore_unknown_fields=True)
print(f"{time.perf_counter() - start:.3f}")
