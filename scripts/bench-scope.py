#!/usr/bin/env python3
"""Time DuckDB answering `credwarden scope --credential` over the same Parquet files, side by side
with credwarden, in one run (run both cold in turn, three times each):

    python3 scripts/bench-scope.py ARCHIVE CREDENTIAL [--credwarden PATH] [--threads N]

Both answer: events, bytes out, distinct objects, first and last event of the credential. DuckDB
reads the Hive partitions as they are (read_parquet with hive_partitioning), credwarden through
`scope --format json`. The counts must agree; the script exits 1 when they do not.
"""
import argparse
import json
import subprocess
import sys
import time


def duckdb_scope(archive, credential, threads):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    glob = f"{archive}/events/*/*/*.parquet"
    t = time.perf_counter()
    events, bytes_out, objects, first, last = con.execute(
        "SELECT count(*), coalesce(sum(bytes_out), 0), count(DISTINCT resource_uid), "
        "min(time), max(time) "
        f"FROM read_parquet('{glob}', hive_partitioning = true) WHERE actor_credential_uid = ?",
        [credential],
    ).fetchone()
    return time.perf_counter() - t, {"events": events, "bytes_out": int(bytes_out), "objects": objects}


def credwarden_scope(exe, archive, credential):
    t = time.perf_counter()
    out = subprocess.run(
        [exe, "scope", "--archive", archive, "--credential", credential, "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    r = json.loads(out)
    return time.perf_counter() - t, {k: r[k] for k in ("events", "bytes_out", "objects")}, r.get("read", {})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("archive")
    p.add_argument("credential")
    p.add_argument("--credwarden", default="credwarden")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    print(f"| engine | run | wall s | events | bytes_out | objects |")
    print("|---|--:|--:|--:|--:|--:|")
    answers = set()
    for run in (1, 2, 3):
        s, c, read = credwarden_scope(a.credwarden, a.archive, a.credential)
        answers.add(tuple(sorted(c.items())))
        print(f"| credwarden scope | {run} | {s:.3f} | {c['events']} | {c['bytes_out']} | {c['objects']} |")
        s, c = duckdb_scope(a.archive, a.credential, a.threads)
        answers.add(tuple(sorted(c.items())))
        print(f"| DuckDB ({a.threads} threads) | {run} | {s:.3f} | {c['events']} | {c['bytes_out']} | {c['objects']} |")
    print(f"\ncredwarden read {read.get('row_groups_read')} of {read.get('row_groups')} row groups, "
          f"{read.get('rows_read')} rows, in {read.get('parts')} parts")
    if len(answers) != 1:
        print(f"the engines disagree: {answers}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
