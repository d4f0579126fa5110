#!/usr/bin/env python3
"""Check a `credwarden simulate` output folder with standard tools, independently of credwarden.

    python3 scripts/check-sim-outputs.py SIM_DIR

- DuckDB's read_json reads every CloudTrail file (gzipped {"Records": [...]}) and the gateway JSON lines;
- Python's csv module reads the roster, credential reports, inventory, labels and networks;
- every label's listed event ids are found in the event files, and event counts match summary.json.
Exits 1 with a message on the first problem. Needs `pip install duckdb`.
"""
import csv
import glob
import gzip
import json
import os
import sys

import duckdb


def fail(msg):
    print(f"check-sim-outputs: {msg}")
    sys.exit(1)


def main():
    root = sys.argv[1]
    summary = json.load(open(os.path.join(root, "summary.json")))
    ct_glob = os.path.join(root, "cloudtrail/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz")
    con = duckdb.connect()
    n_ct = con.execute(
        f"select count(*) from (select unnest(Records) from read_json('{ct_glob}', format='auto', maximum_object_size=268435456))"
    ).fetchone()[0]
    if n_ct != summary["events"]["cloudtrail"]:
        fail(f"DuckDB read {n_ct} CloudTrail records, summary says {summary['events']['cloudtrail']}")
    gw_glob = os.path.join(root, "gateway/*.jsonl.gz")
    n_gw, kids = con.execute(f"select count(*), count(distinct token.kid) from read_json('{gw_glob}', format='newline_delimited')").fetchone()
    if n_gw != summary["events"]["gateway"] or kids < 1:
        fail(f"DuckDB read {n_gw} gateway lines, summary says {summary['events']['gateway']}")
    for f in ["hr/roster.csv", "iam/credential-report.csv", "inventory/secrets.csv", "labels.csv", "networks.csv"]:
        rows = list(csv.DictReader(open(os.path.join(root, f), newline="")))
        if not rows:
            fail(f"{f} has no rows")
    text = []
    for f in glob.glob(os.path.join(root, "**/*.gz"), recursive=True):
        text.append(gzip.open(f, "rt").read())
    text = "\n".join(text)
    for row in csv.DictReader(open(os.path.join(root, "labels.csv"), newline="")):
        ids = [i for i in row["event_ids"].split(";") if i and not i.startswith("shell:")]
        missing = [i for i in ids if i not in text]
        if missing:
            fail(f"scenario {row['scenario']}: event ids not in the logs: {missing[:3]}")
    print(f"ok: {n_ct} CloudTrail records and {n_gw} gateway lines read by DuckDB {duckdb.__version__}; labels consistent")


if __name__ == "__main__":
    main()
