#!/usr/bin/env python3
"""Generate the OCSF Detection Finding (class_uid 2004) JSON Schema used by credwarden's tests.

Uses the offline OCSF schema exports shipped in the PyPI package `ocsf-json-schema`
(no network access at run time) and writes a standalone JSON Schema (draft 2020-12,
every object inlined under `$defs`, all `$ref`s local) to
crates/model/tests/schema/ocsf-<version>-detection_finding.json, pretty-printed with
sorted keys so regeneration gives stable diffs.

Run from anywhere:
    pip install 'ocsf-json-schema==1.2.0' 'jsonschema>=4.18'
    python3 scripts/gen-ocsf-schema.py [--version 1.3.0] [--profiles p1,p2]
"""
import argparse
import json
from pathlib import Path

from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema, get_packaged_versions

CLASS = "detection_finding"
OUT_DIR = Path(__file__).resolve().parent.parent / "crates/model/tests/schema"


def local_refs(node):
    """Yield every $ref value in the schema tree."""
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for v in node.values():
            yield from local_refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from local_refs(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", default="1.3.0")
    ap.add_argument("--profiles", default="", help="comma-separated OCSF profiles (default: none)")
    args = ap.parse_args()
    if args.version not in get_packaged_versions():
        raise SystemExit(f"OCSF {args.version} not shipped; have {sorted(get_packaged_versions())}")

    profiles = [p for p in args.profiles.split(",") if p]
    schema = OcsfJsonSchemaEmbedded(get_ocsf_schema(args.version)).get_class_schema(CLASS, profiles)

    # Standalone check: the package inlines objects under $defs; fail loudly if that ever changes.
    defs = schema.get("$defs", {})
    bad = {r for r in local_refs(schema) if not (r.startswith("#/$defs/") and r[8:] in defs)}
    if bad:
        raise SystemExit(f"non-local or dangling $refs: {sorted(bad)}")
    Draft202012Validator.check_schema(schema)

    suffix = f"+{'+'.join(sorted(profiles))}" if profiles else ""
    out = OUT_DIR / f"ocsf-{args.version}-{CLASS}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB, {len(defs)} $defs)")


if __name__ == "__main__":
    main()
