#!/usr/bin/env python3
"""Validate OCSF JSON lines against a JSON Schema with Python's reference `jsonschema` package.

A second, independent validator next to the Rust test (crates/cli/tests/ocsf.rs). Used by .ci/run:

    python3 scripts/validate-ocsf.py crates/model/tests/schema/ocsf-1.3.0-detection_finding.json findings.jsonl

Prints `line: path: message` per error and exits 1 if there is any (or if the file has no findings).
"""
import json
import sys

from jsonschema import Draft202012Validator


def main() -> int:
    schema_path, findings_path = sys.argv[1], sys.argv[2]
    validator = Draft202012Validator(json.load(open(schema_path)))
    count, errors = 0, []
    with open(findings_path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            count += 1
            errors += [f"{n}: {e.json_path}: {e.message}" for e in validator.iter_errors(json.loads(line))]
    print(*errors, sep="\n")
    print(f"{count} findings checked, {len(errors)} schema errors")
    return 1 if errors or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
