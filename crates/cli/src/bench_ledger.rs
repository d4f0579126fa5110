//! `credwarden bench --token-checks N`: the gateway's token check end to end over loopback — the
//! real server (`serve --ledger`'s router, every core) and a load generator of keep-alive
//! connections on its own thread, on the same machine. The ledger holds `--live-tokens` issued
//! tokens; the checks are a realistic mix (90 % issued, 5 % forged, 5 % expired), every answer is
//! verified, and the figures are checks per second, latency percentiles (as the client sees them)
//! and memory per live token.

use crate::args::BenchArgs;
use credwarden_ledger::{Change, Issued};
use credwarden_server::ledger::LedgerHandle;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "bench-gateway-token-0123456789abcdef";
const KID: &str = "login-rs256-2026";

fn rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<u64>().ok())
        .map_or(0, |k| k * 1024)
}

/// What a check should answer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Issued,
    Forged,
    Expired,
}

/// One prepared request and the status it must get.
struct Req {
    bytes: Vec<u8>,
    want: u16,
    kind: Kind,
}

fn request(body: &str) -> Vec<u8> {
    format!(
        "POST /v1/token-check HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Requests in the mix, from a small deterministic generator.
fn mix(n: usize, live: usize, now: i64) -> Vec<Req> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let r = next() % 100;
            let kind = match r {
                0..=89 => Kind::Issued,
                90..=94 => Kind::Forged,
                _ => Kind::Expired,
            };
            let body = match kind {
                Kind::Issued => {
                    let t = (next() % live as u64) as usize;
                    format!(
                        r#"{{"jti":"{t:032x}","kid":"{KID}","sub":"member-{}","iat":{}}}"#,
                        t % 500_000,
                        now - 60
                    )
                }
                Kind::Forged => format!(
                    r#"{{"jti":"forged-{i}-{:x}","kid":"{KID}","sub":"member-{}","iat":{}}}"#,
                    next(),
                    next() % 500_000,
                    now - 600
                ),
                Kind::Expired => format!(
                    r#"{{"jti":"old-{i}","kid":"{KID}","sub":"member-1","iat":{},"exp":{}}}"#,
                    now - 7200,
                    now - 3600
                ),
            };
            Req {
                bytes: request(&body),
                want: if kind == Kind::Issued { 200 } else { 403 },
                kind,
            }
        })
        .collect()
}

/// Where the headers end in `b` (after the blank line), and the Content-Length they give.
fn head_end(b: &[u8]) -> Option<(usize, usize)> {
    let end = b.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&b[..end]).ok()?;
    let len = head
        .split("\r\n")
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    Some((end, len))
}

/// One keep-alive connection sending `reqs` one after another (no pipelining, as a gateway's
/// subrequests go); latencies in microseconds and the number of wrong answers.
async fn connection(port: u16, reqs: Arc<Vec<Req>>, start: usize, count: usize) -> (Vec<u32>, u64) {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the bench server listens");
    s.set_nodelay(true).ok();
    let mut lat = Vec::with_capacity(count);
    let mut wrong = 0;
    let mut buf = vec![0u8; 4096];
    for k in 0..count {
        let r = &reqs[(start + k) % reqs.len()];
        let t = Instant::now();
        s.write_all(&r.bytes).await.expect("write");
        let mut have = 0;
        let status = loop {
            let n = s.read(&mut buf[have..]).await.expect("read");
            assert!(n > 0, "the bench server closed the connection");
            have += n;
            if let Some((end, len)) = head_end(&buf[..have]) {
                if have >= end + len {
                    break std::str::from_utf8(&buf[9..12.min(have)])
                        .ok()
                        .and_then(|x| x.parse::<u16>().ok())
                        .unwrap_or(0);
                }
            }
            if have == buf.len() {
                buf.resize(buf.len() * 2, 0);
            }
        };
        lat.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        if status != r.want {
            wrong += 1;
        }
    }
    (lat, wrong)
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// Run the token-check benchmark.
pub fn run(a: &BenchArgs, checks: u64) -> Result<u8, String> {
    let live = a.live_tokens.max(1);
    let dir = a.dir.join("ledger");
    let _ = std::fs::remove_dir_all(&dir);
    let now = credwarden_server::ledger::now();
    let (mut durable, _) =
        credwarden_ledger::wal::Durable::open(&dir, now).map_err(|e| e.to_string())?;
    let before = rss();
    for i in 0..live {
        durable.ledger.apply(
            &Change::Issued(Issued {
                jti: format!("{i:032x}"),
                sub: Some(format!("member-{}", i % 500_000)),
                kid: Some(KID.into()),
                iat: Some(now - 60),
                exp: now + 3600,
                client_id: Some(["shop-ios", "shop-android", "shop-web"][i % 3].into()),
            }),
            now,
        );
    }
    let per_token = rss().saturating_sub(before) as f64 / live as f64;
    let handle = Arc::new(LedgerHandle::new(durable, Duration::ZERO, None));
    let req_log = a.dir.join("ledger-requests.jsonl");
    let cfg = credwarden_server::ServerConfig {
        bind: "127.0.0.1:0".parse().expect("an address"),
        token_hashes: vec![(credwarden_server::hash_token(TOKEN), "gateway".into())],
        on_offboarding: None,
        request_log: req_log,
        directory: Arc::new(credwarden_model::Directory::default()),
        scim_state: None,
        public_url: None,
        ssf: None,
        tls: None,
        ledger: Some(handle.clone()),
    };
    let app = credwarden_server::router(&cfg, Arc::new(|_| {})).map_err(|e| e.to_string())?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            let l = credwarden_server::listen::bind(cfg.bind)
                .await
                .expect("bind loopback");
            tx.send(l.local_addr().expect("an address").port())
                .expect("the bench waits");
            let _ = credwarden_server::listen::serve(l, None, app).await;
        });
    });
    let port = rx.recv().map_err(|e| e.to_string())?;
    let reqs = Arc::new(mix(200_000, live, now));
    let conns = a.connections.max(1);
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let run_once = |n: u64| -> (Vec<u32>, u64, f64) {
        client.block_on(async {
            let per = (n as usize).div_ceil(conns);
            let t = Instant::now();
            let tasks: Vec<_> = (0..conns)
                .map(|c| tokio::spawn(connection(port, reqs.clone(), c * 7919, per)))
                .collect();
            let mut lat = Vec::with_capacity(per * conns);
            let mut wrong = 0;
            for t in tasks {
                let (l, w) = t.await.expect("a connection task");
                lat.extend(l);
                wrong += w;
            }
            (lat, wrong, t.elapsed().as_secs_f64())
        })
    };
    // Warm up (connections, caches), then measure.
    run_once((checks / 10).max(1000));
    let (mut lat, wrong, secs) = run_once(checks);
    lat.sort_unstable();
    let n = lat.len();
    let kinds = |k: Kind| reqs.iter().filter(|r| r.kind == k).count() as f64 / reqs.len() as f64;
    println!(
        "token check over loopback: {live} live tokens in the ledger, {conns} keep-alive connections, mix {:.0} % issued / {:.0} % forged / {:.0} % expired, server and load generator on this machine ({} cores)",
        100.0 * kinds(Kind::Issued),
        100.0 * kinds(Kind::Forged),
        100.0 * kinds(Kind::Expired),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| checks | wall s | checks/s | p50 ms | p99 ms | p99.9 ms | max ms | wrong answers | memory per live token |");
    println!("|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    println!(
        "| {n} | {secs:.2} | {:.0} | {:.3} | {:.3} | {:.3} | {:.3} | {wrong} | {per_token:.0} B |",
        n as f64 / secs,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        pct(&lat, 0.999),
        pct(&lat, 1.0)
    );
    Ok(u8::from(wrong > 0))
}
