//! `credwarden bench`: the end-to-end speed figure. Generates synthetic CloudTrail (see
//! `credwarden_sim::synthetic`) as one JSON-lines file and as gzipped `{"Records":[…]}` files of the
//! same records, runs every built-in detector over each through the real engine, and reports wall
//! time, CPU time, MB/s and events/s (per core: bytes over CPU seconds), peak memory; then feeds
//! distinct access keys to the detectors and reports the memory each tracked key costs.
//!
//! Linux only for CPU and memory figures (`/proc/self`); elsewhere they show as 0.

use crate::args::BenchArgs;
use credwarden_detect::{Engine, Options};
use credwarden_sim::synthetic::CloudTrailGen;
use credwarden_store::archive::{Archive, Spool};
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const START: i64 = 1_743_465_600; // 2025-04-01
const RECORDS_PER_FILE: usize = 5_000;

/// CPU seconds used by this process so far (user + system).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// `VmRSS` or `VmHWM` in bytes.
fn memory(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn generate(a: &BenchArgs, jsonl: &Path, records: &Path) -> Result<(u64, u64), String> {
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    std::fs::create_dir_all(records).map_err(|e| err(records, e))?;
    let target = a.size_mb * 1_000_000;
    let mut gen = CloudTrailGen::new(1, START, a.users, 20_000);
    let mut lines = BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(jsonl).map_err(|e| err(jsonl, e))?,
    );
    let (mut bytes, mut n) = (0u64, 0u64);
    let mut part = 0;
    while bytes < target {
        let name = records.join(format!(
            "123456789012_CloudTrail_ap-northeast-2_{part:06}.json.gz"
        ));
        let f = std::fs::File::create(&name).map_err(|e| err(&name, e))?;
        let mut gz = flate2::write::GzEncoder::new(BufWriter::new(f), flate2::Compression::new(6));
        gz.write_all(b"{\"Records\":[").map_err(|e| err(&name, e))?;
        for i in 0..RECORDS_PER_FILE {
            let r = gen.next_record();
            if i > 0 {
                gz.write_all(b",").map_err(|e| err(&name, e))?;
            }
            gz.write_all(r.as_bytes()).map_err(|e| err(&name, e))?;
            lines.write_all(r.as_bytes()).map_err(|e| err(jsonl, e))?;
            lines.write_all(b"\n").map_err(|e| err(jsonl, e))?;
            bytes += r.len() as u64 + 1;
            n += 1;
        }
        gz.write_all(b"]}").map_err(|e| err(&name, e))?;
        gz.finish()
            .and_then(|mut w| w.flush())
            .map_err(|e| err(&name, e))?;
        part += 1;
    }
    lines.flush().map_err(|e| err(jsonl, e))?;
    Ok((bytes, n))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Figure {
    input: String,
    bytes: u64,
    events: u64,
    wall: f64,
    cpu: f64,
    peak: u64,
    findings: usize,
}

/// Measure `path` in a fresh process (so one measurement's memory does not weigh on the next),
/// archiving its events into `archive` when given.
fn measure_apart(
    input: &str,
    path: &Path,
    bytes: u64,
    archive: Option<&Path>,
) -> Result<Figure, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("bench").arg("--measure").arg(path);
    if let Some(dir) = archive {
        let _ = std::fs::remove_dir_all(dir);
        cmd.arg("--measure-archive").arg(dir);
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let mut f: Figure = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    f.input = input.into();
    f.bytes = bytes;
    Ok(f)
}

fn measure(input: &str, path: &Path, bytes: u64, archive: Option<&Path>) -> Result<Figure, String> {
    let mut engine = Engine::new(credwarden_detect::all());
    let (c0, t0) = (cpu_seconds(), Instant::now());
    // As `detect --archive` does: events go to the archive's writer thread, sealed at the end.
    let spool = match archive {
        Some(dir) => {
            let ar = Archive::open(dir).map_err(|e| e.to_string())?;
            let (spool, tap) = credwarden_store::archive::spool::shared(ar);
            engine.set_tap(Some(Box::new(tap)));
            Some(spool)
        }
        None => None,
    };
    let (findings, stats) = engine
        .run(
            &[path.to_path_buf()],
            &Options::default(),
            &mut |_, _, _| {},
        )
        .map_err(|e| e.to_string())?;
    if let Some(spool) = spool {
        let mut spool = spool.lock().expect("not poisoned");
        let sealed = crate::detect_cmd::seal_archive_pass(&mut spool, &findings)?;
        spool.archive().commit(&sealed).map_err(|e| e.to_string())?;
    }
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    if !stats.rejects.is_empty() {
        return Err(format!("bench input has bad records: {}", stats.rejects[0]));
    }
    Ok(Figure {
        input: input.into(),
        bytes,
        events: stats.events.values().sum(),
        wall,
        cpu,
        peak: memory("VmHWM:"),
        findings: findings.len(),
    })
}

/// Bytes of resident memory per key the detectors track, measured by feeding `n` distinct keys.
fn memory_per_key(n: usize) -> (f64, usize) {
    let mut engine_detectors = credwarden_detect::all();
    let mut gen = CloudTrailGen::new(2, START, n, u64::MAX);
    let file: std::sync::Arc<str> = std::sync::Arc::from("bench");
    let before = memory("VmRSS:");
    let mut out = Vec::new();
    for i in 0..n {
        // One record per distinct key: an IAM user whose key id is derived from i.
        let mut text = gen.next_record();
        let key = credwarden_sim::synthetic::access_key(i);
        if let Some(at) = text.find("\"accessKeyId\":\"") {
            let s = at + 15;
            let e = s + text[s..].find('"').unwrap_or(0);
            text.replace_range(s..e, &key);
        }
        let text = text.replace("\"type\":\"AssumedRole\"", "\"type\":\"IAMUser\"");
        let v: serde_json::Value = serde_json::from_str(&text).expect("generated JSON");
        if let Ok(ev) = credwarden_ingest::cloudtrail::normalize(v, &file, i as u64) {
            for d in engine_detectors.iter_mut() {
                d.on_event(&ev, &mut out);
            }
        }
    }
    let after = memory("VmRSS:");
    let state: usize = engine_detectors
        .iter()
        .filter_map(|d| d.save())
        .map(|v| v.to_string().len())
        .sum();
    drop(engine_detectors);
    (
        after.saturating_sub(before) as f64 / n as f64,
        state / n.max(1),
    )
}

/// Bytes of the files under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// `--archive-events N`: write N synthetic CloudTrail events (parsed and normalized as `detect`
/// does) into an archive, then time `scope` for one credential over it.
fn archive_bench(a: &BenchArgs, n: u64) -> Result<u8, String> {
    let dir = a.dir.join("archive");
    let _ = std::fs::remove_dir_all(&dir);
    let per_second = (n / (a.archive_days.max(1) * 86_400)).max(1);
    let mut gen = CloudTrailGen::new(3, START, a.users, 20_000).per_second(per_second);
    let ar = Archive::open(&dir).map_err(|e| e.to_string())?;
    let mut spool = Spool::new(ar);
    // Synthetic events have no input file to copy: they are archived as read from standard input.
    let file: Arc<str> = Arc::from("-");
    eprintln!(
        "writing {n} events ({per_second}/s over about {} days, {} credentials) into {} …",
        a.archive_days,
        a.users * 2,
        dir.display()
    );
    let (c0, t0) = (cpu_seconds(), Instant::now());
    let mut json_bytes = 0u64;
    for i in 0..n {
        let text = gen.next_record();
        json_bytes += text.len() as u64 + 1;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let e =
            credwarden_ingest::cloudtrail::normalize(v, &file, i + 1).map_err(|e| e.to_string())?;
        spool.push(Box::new(e));
        if i > 0 && i % 10_000_000 == 0 {
            eprintln!("  {i} events, {:.0} s", t0.elapsed().as_secs_f64());
        }
    }
    spool.drain().map_err(|e| e.to_string())?;
    let sealed = spool.archive().seal().map_err(|e| e.to_string())?;
    drop(spool);
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
    let bytes = dir_bytes(&dir.join(credwarden_store::archive::EVENTS_DIR));
    println!("| archive | events | parts | JSON MB (as logs) | Parquet MB | MB per million events | write wall s | CPU s | events/s (wall) |");
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    println!(
        "| {} | {n} | {} | {:.0} | {:.0} | {:.1} | {wall:.1} | {cpu:.1} | {:.0} |",
        dir.display(),
        sealed.entries.len(),
        json_bytes as f64 / 1e6,
        bytes as f64 / 1e6,
        bytes as f64 / n.max(1) as f64,
        n as f64 / wall
    );
    // One IAM user's access key.
    let credential = credwarden_sim::synthetic::access_key(42 % a.users.max(1));
    let q = credwarden_scope::Query {
        subject: credwarden_scope::Subject::Credential(credential.clone()),
        from: None,
        to: None,
        findings: vec![],
    };
    println!("\n| scope --credential {credential} | run | wall s | events | bytes_out | parts | row groups read / all | rows read |");
    println!("|---|--:|--:|--:|--:|--:|--:|--:|");
    for run in 1..=3 {
        let t = Instant::now();
        let r = credwarden_scope::scope(&dir, &q).map_err(|e| e.to_string())?;
        println!(
            "| credwarden | {run} | {:.3} | {} | {} | {} | {} / {} | {} |",
            t.elapsed().as_secs_f64(),
            r.events,
            r.bytes_out,
            r.read.parts,
            r.read.row_groups_read,
            r.read.row_groups,
            r.read.rows_read
        );
    }
    println!(
        "\nDuckDB on the same files: python3 scripts/bench-scope.py {} {credential}",
        dir.display()
    );
    Ok(0)
}

/// Run.
pub fn run(a: &BenchArgs) -> Result<u8, String> {
    if let Some(n) = a.archive_events {
        return archive_bench(a, n);
    }
    if let Some(n) = a.token_checks {
        return crate::bench_ledger::run(a, n);
    }
    if let Some(p) = &a.measure {
        let f = measure("", p, 0, a.measure_archive.as_deref())?;
        println!("{}", serde_json::to_string(&f).map_err(|e| e.to_string())?);
        return Ok(0);
    }
    let jsonl = a.dir.join("cloudtrail.jsonl");
    let records = a.dir.join("records");
    let have = std::fs::metadata(&jsonl).map(|m| m.len()).unwrap_or(0);
    let (bytes, n) = if a.reuse && have >= a.size_mb * 1_000_000 {
        let n = std::io::BufRead::lines(std::io::BufReader::new(
            std::fs::File::open(&jsonl).map_err(|e| e.to_string())?,
        ))
        .count() as u64;
        (have, n)
    } else {
        let _ = std::fs::remove_dir_all(&records);
        eprintln!(
            "generating {} MB of CloudTrail in {} …",
            a.size_mb,
            a.dir.display()
        );
        generate(a, &jsonl, &records)?
    };
    let gz_bytes: u64 = std::fs::read_dir(&records)
        .map_err(|e| format!("{}: {e}", records.display()))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!("{n} records, {bytes} bytes as JSON lines, {gz_bytes} bytes gzipped; {cores} cores");
    let archive = a.dir.join("archive-of-detect");
    let figures = [
        measure_apart("CloudTrail JSON lines", &jsonl, bytes, None)?,
        measure_apart(
            "CloudTrail JSON lines, archived",
            &jsonl,
            bytes,
            Some(&archive),
        )?,
        measure_apart("CloudTrail gzipped Records files", &records, bytes, None)?,
    ];
    let (per_key, state_per_key) = memory_per_key(a.tracked_keys);
    println!("| input | MB (uncompressed) | events | wall s | CPU s | MB/s (wall) | MB/s per core | events/s per core | peak RSS MB | findings |");
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for f in &figures {
        let mb = f.bytes as f64 / 1e6;
        println!(
            "| {} | {:.0} | {} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
            f.input,
            mb,
            f.events,
            f.wall,
            f.cpu,
            mb / f.wall,
            mb / f.cpu.max(1e-9),
            f.events as f64 / f.cpu.max(1e-9),
            f.peak as f64 / 1e6,
            f.findings
        );
    }
    println!(
        "\nmemory per tracked key: {per_key:.0} bytes resident ({} keys through every detector); {state_per_key} bytes of saved state per key",
        a.tracked_keys
    );
    let b = dir_bytes(&archive.join(credwarden_store::archive::EVENTS_DIR));
    let cost = 1.0 - figures[0].wall / figures[1].wall;
    println!(
        "archive write cost: {:.0} % of detect's throughput (JSON lines: {:.2} s → {:.2} s wall); Parquet {:.1} MB, {:.1} MB per million events (raw copies beside it)",
        cost * 100.0,
        figures[0].wall,
        figures[1].wall,
        b as f64 / 1e6,
        b as f64 / figures[1].events.max(1) as f64
    );
    println!(
        "input kept in {} (JSON lines: {})",
        a.dir.display(),
        jsonl.display()
    );
    Ok(0)
}
