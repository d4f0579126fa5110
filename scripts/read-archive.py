#!/usr/bin/env python3
"""Read a credwarden evidence archive with the engines users run on months of logs, and print what
they count as JSON: every event, and the events of one credential.

    python3 scripts/read-archive.py ARCHIVE CREDENTIAL [duckdb] [spark]

The Parquet parts are read as they are (Hive partitions source=…/eventDay=…); nothing is converted.
"""
import json
import sys
import time


def duckdb_counts(archive, credential):
    import duckdb

    glob = f"{archive}/events/*/*/*.parquet"
    con = duckdb.connect()
    t = time.perf_counter()
    total = con.execute(
        f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true)"
    ).fetchone()[0]
    t_total = time.perf_counter() - t
    t = time.perf_counter()
    cred, bytes_out, objects = con.execute(
        f"SELECT count(*), coalesce(sum(bytes_out), 0), count(DISTINCT resource_uid) "
        f"FROM read_parquet('{glob}', hive_partitioning = true) WHERE actor_credential_uid = ?",
        [credential],
    ).fetchone()
    t_cred = time.perf_counter() - t
    sources = dict(
        con.execute(
            f"SELECT source, count(*) FROM read_parquet('{glob}', hive_partitioning = true) GROUP BY 1"
        ).fetchall()
    )
    return {
        "total": total,
        "credential": cred,
        "bytes_out": int(bytes_out),
        "objects": objects,
        "sources": sources,
        "seconds_total": t_total,
        "seconds_credential": t_cred,
    }


def spark_counts(archive, credential):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("credwarden-archive")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    df = spark.read.parquet(f"{archive}/events")
    total = df.count()
    cred = df.filter(df.actor_credential_uid == credential).count()
    sources = {r["source"]: r["count"] for r in df.groupBy("source").count().collect()}
    spark.stop()
    return {"total": total, "credential": cred, "sources": sources}


def main():
    archive, credential = sys.argv[1], sys.argv[2]
    engines = sys.argv[3:] or ["duckdb", "spark"]
    out = {}
    if "duckdb" in engines:
        out["duckdb"] = duckdb_counts(archive, credential)
    if "spark" in engines:
        out["spark"] = spark_counts(archive, credential)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
