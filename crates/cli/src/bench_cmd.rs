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
use std::io::{BufWriter, Write};
use std::path::Path;
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

/// Measure `path` in a fresh process (so one measurement's memory does not weigh on the next).
fn measure_apart(input: &str, path: &Path, bytes: u64) -> Result<Figure, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe)
        .arg("bench")
        .arg("--measure")
        .arg(path)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let mut f: Figure = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    f.input = input.into();
    f.bytes = bytes;
    Ok(f)
}

fn measure(input: &str, path: &Path, bytes: u64) -> Result<Figure, String> {
    let mut engine = Engine::new(credwarden_detect::all());
    let (c0, t0) = (cpu_seconds(), Instant::now());
    let (findings, stats) = engine
        .run(
            &[path.to_path_buf()],
            &Options::default(),
            &mut |_, _, _| {},
        )
        .map_err(|e| e.to_string())?;
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
        let key = format!("AKIA{i:016X}");
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

/// Run.
pub fn run(a: &BenchArgs) -> Result<u8, String> {
    if let Some(p) = &a.measure {
        let f = measure("", p, 0)?;
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
    let figures = [
        measure_apart("CloudTrail JSON lines", &jsonl, bytes)?,
        measure_apart("CloudTrail gzipped Records files", &records, bytes)?,
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
    println!(
        "input kept in {} (JSON lines: {})",
        a.dir.display(),
        jsonl.display()
    );
    Ok(0)
}
