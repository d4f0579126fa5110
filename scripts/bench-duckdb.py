#!/usr/bin/env python3
"""DuckDB over the same bytes `credwarden bench` reads, for the side-by-side speed figure.

Usage: python3 scripts/bench-duckdb.py [BENCH_DIR] [THREADS]
       (BENCH_DIR defaults to ./credwarden-bench, made by `credwarden bench`; THREADS to 2)

One equivalent filter: the single-event rules' selection (log tampering, persistence, snapshot
sharing, refused calls) over the JSON-lines file and over the gzipped {"Records":[...]} files, with
the columns declared (DuckDB's fastest JSON path). Prints wall and CPU seconds and MB/s, like the
credwarden table. Needs `pip install duckdb`.
"""
import os
import resource
import sys
import time

import duckdb

bench = sys.argv[1] if len(sys.argv) > 1 else "credwarden-bench"
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
jsonl = os.path.join(bench, "cloudtrail.jsonl")
records = os.path.join(bench, "records", "*.json.gz")
size = os.path.getsize(jsonl)

NAMES = ("StopLogging", "DeleteTrail", "PutEventSelectors", "UpdateTrail", "DeleteFlowLogs",
         "CreateAccessKey", "CreateUser", "CreateLoginProfile", "UpdateLoginProfile",
         "AttachUserPolicy", "AttachRolePolicy", "PutUserPolicy", "ModifySnapshotAttribute",
         "ModifyDBSnapshotAttribute", "ModifyImageAttribute", "ConsoleLogin")
COLUMNS = ("{eventTime: 'VARCHAR', eventName: 'VARCHAR', eventSource: 'VARCHAR', "
           "errorCode: 'VARCHAR', sourceIPAddress: 'VARCHAR', userAgent: 'VARCHAR', "
           "userIdentity: 'STRUCT(type VARCHAR, arn VARCHAR, accessKeyId VARCHAR)', "
           "requestParameters: 'JSON'}")
RECORD = ("STRUCT(eventTime VARCHAR, eventName VARCHAR, eventSource VARCHAR, errorCode VARCHAR, "
          "sourceIPAddress VARCHAR, userAgent VARCHAR, "
          "userIdentity STRUCT(type VARCHAR, arn VARCHAR, accessKeyId VARCHAR), requestParameters JSON)")
WHERE = f"eventName IN {NAMES} OR errorCode LIKE '%AccessDenied%' OR userIdentity.type = 'Root'"

QUERIES = {
    "CloudTrail JSON lines": (
        f"SELECT count(*) FROM read_json('{jsonl}', format='newline_delimited', "
        f"columns={COLUMNS}, maximum_object_size=1048576) WHERE {WHERE}"),
    "CloudTrail gzipped Records files": (
        f"SELECT count(*) FROM (SELECT unnest(Records, recursive := false) AS r FROM read_json("
        f"'{records}', format='unstructured', columns={{Records: '{RECORD}[]'}}, "
        f"maximum_object_size=268435456)) t, LATERAL (SELECT r.*) WHERE {WHERE}"),
}


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


con = duckdb.connect()
con.execute(f"SET threads={threads}")
print(f"DuckDB {duckdb.__version__}, {threads} threads, {size / 1e6:.0f} MB of JSON lines")
print("| input | wall s | CPU s | MB/s (wall) | MB/s per core | matching events |")
print("|---|--:|--:|--:|--:|--:|")
for name, q in QUERIES.items():
    c0, t0 = cpu(), time.perf_counter()
    n = con.execute(q).fetchone()[0]
    wall, c = time.perf_counter() - t0, cpu() - c0
    print(f"| {name} | {wall:.2f} | {c:.2f} | {size / 1e6 / wall:.0f} | {size / 1e6 / max(c, 1e-9):.0f} | {n} |")
