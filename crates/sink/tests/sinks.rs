//! End-to-end tests of the sinks: HTTP ones against the scripted mock server in mock/, the file sink
//! against a temporary directory. Backoff is 1 ms so retries cost nothing; nothing asserts on time.

mod mock;

use credwarden_model::{Finding, RuleMeta, Severity, Subject};
use credwarden_sink::{open, Delivery, Options, SinkError, SinkSpec};
use mock::{Mock, Reply, SECRET};
use std::net::TcpListener;
use std::time::Duration;

static META: RuleMeta = RuleMeta {
    id: "CW-T001",
    name: "test",
    version: 1,
    title: "Test rule",
    description: "d",
    severity: Severity::High,
    attack: &[],
    d3fend: &[],
    false_positives: &[],
    recommendation: "r",
};

fn findings(n: usize) -> Vec<Finding> {
    (0..n)
        .map(|i| {
            Finding::new(
                &META,
                Subject {
                    system: Some("aws".into()),
                    principal: Some(format!("svc-{i}")),
                    credential_id: Some(format!("AKIA{i:04}")),
                    ..Default::default()
                },
                format!("access key {i} is 400 days old"),
                jiff::Timestamp::UNIX_EPOCH,
            )
        })
        .collect()
}

fn fast(retries: u32) -> Options {
    Options {
        retries,
        backoff_initial: Duration::from_millis(1),
        timeout: Duration::from_secs(10),
        ..Options::default()
    }
}

fn webhook(url: &str) -> SinkSpec {
    format!("webhook:{url}").parse().unwrap()
}

fn slack(url: &str) -> SinkSpec {
    format!("slack:{url}").parse().unwrap()
}

/// An http URL on a local port nothing listens on, with the secret path.
fn refused_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}/services/{SECRET}")
}

fn assert_no_secret(text: &str) {
    for part in SECRET.split('/') {
        assert!(!text.contains(part), "secret {part:?} leaked into: {text}");
    }
}

#[test]
fn webhook_posts_a_generic_json_batch_of_ocsf_findings() {
    let mock = Mock::start(vec![mock::status(200)]);
    let mut sink = open(&webhook(&mock.url), &fast(5)).unwrap();
    let d = sink.send(&findings(3)).unwrap();
    assert_eq!(
        d,
        Delivery {
            sent: 3,
            attempts: 1
        }
    );

    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, format!("/services/{SECRET}"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("user-agent").unwrap().starts_with("credwarden/"));
    let body = r.json();
    assert_eq!(body["source"], "credwarden");
    assert_eq!(body["count"], 3);
    let fs = body["findings"].as_array().unwrap();
    assert_eq!(fs.len(), 3);
    for f in fs {
        assert_eq!(f["class_uid"], 2004);
    }
    assert_eq!(fs[1]["message"], "access key 1 is 400 days old");
}

#[test]
fn server_errors_are_retried_until_delivered() {
    let mock = Mock::start(vec![
        mock::status(500),
        mock::status(503),
        mock::status(200),
    ]);
    let mut sink = open(&webhook(&mock.url), &fast(5)).unwrap();
    let d = sink.send(&findings(2)).unwrap();
    assert_eq!(
        d,
        Delivery {
            sent: 2,
            attempts: 3
        }
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 3);
    assert!(reqs.iter().all(|r| r.body == reqs[0].body));
}

#[test]
fn too_many_requests_with_retry_after_is_retried() {
    let mock = Mock::start(vec![
        mock::with_header(429, "Retry-After", "0"),
        mock::status(200),
    ]);
    // A long backoff: Retry-After: 0 replaces it, so the test stays fast.
    let opts = Options {
        backoff_initial: Duration::from_secs(3600),
        ..fast(5)
    };
    let d = open(&webhook(&mock.url), &opts)
        .unwrap()
        .send(&findings(1))
        .unwrap();
    assert_eq!(d.attempts, 2);
    assert_eq!(mock.requests().len(), 2);
}

#[test]
fn client_errors_fail_at_once_with_status_and_body() {
    let mock = Mock::start(vec![mock::with_body(400, "invalid_payload: missing text")]);
    let err = open(&webhook(&mock.url), &fast(5))
        .unwrap()
        .send(&findings(1))
        .unwrap_err();
    match &err {
        SinkError::Rejected {
            status, attempts, ..
        } => {
            assert_eq!(*status, 400);
            assert_eq!(*attempts, 1);
        }
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("HTTP 400"), "{msg}");
    assert!(msg.contains("invalid_payload: missing text"), "{msg}");
    assert!(msg.contains("0 of 1 findings delivered"), "{msg}");
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn long_error_bodies_are_cut_to_200_chars() {
    let mock = Mock::start(vec![mock::with_body(422, "e".repeat(1000))]);
    let msg = open(&webhook(&mock.url), &fast(0))
        .unwrap()
        .send(&findings(1))
        .unwrap_err()
        .to_string();
    assert!(msg.contains(&format!("{}…", "e".repeat(200))), "{msg}");
    assert!(!msg.contains(&"e".repeat(201)), "{msg}");
}

#[test]
fn connection_refused_gives_up_after_retries_plus_one_attempts() {
    let err = open(&webhook(&refused_url()), &fast(3))
        .unwrap()
        .send(&findings(1))
        .unwrap_err();
    match &err {
        SinkError::GaveUp { attempts, .. } => assert_eq!(*attempts, 4),
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("after 4 attempt(s)"), "{msg}");
    assert_no_secret(&msg);
}

#[test]
fn timeouts_are_retried() {
    let mock = Mock::start(vec![Reply::Hang, mock::status(200)]);
    let opts = Options {
        timeout: Duration::from_millis(200),
        ..fast(2)
    };
    let d = open(&webhook(&mock.url), &opts)
        .unwrap()
        .send(&findings(1))
        .unwrap();
    assert_eq!(d.attempts, 2);
}

#[test]
fn batches_hold_at_most_the_batch_size() {
    let mock = Mock::start(vec![
        mock::status(200),
        mock::status(200),
        mock::status(200),
    ]);
    let opts = Options {
        batch: 100,
        ..fast(5)
    };
    let d = open(&webhook(&mock.url), &opts)
        .unwrap()
        .send(&findings(250))
        .unwrap();
    assert_eq!(
        d,
        Delivery {
            sent: 250,
            attempts: 3
        }
    );
    let counts: Vec<u64> = mock
        .requests()
        .iter()
        .map(|r| {
            let b = r.json();
            assert_eq!(b["findings"].as_array().unwrap().len() as u64, b["count"]);
            b["count"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(counts, [100, 100, 50]);
}

#[test]
fn a_failed_batch_reports_what_earlier_batches_delivered() {
    let mock = Mock::start(vec![mock::status(200), mock::status(403)]);
    let msg = open(&webhook(&mock.url), &fast(5))
        .unwrap()
        .send(&findings(250))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("HTTP 403"), "{msg}");
    assert!(msg.contains("100 of 250 findings delivered"), "{msg}");
}

#[test]
fn nothing_to_send_makes_no_request() {
    let mock = Mock::start(vec![]);
    let d = open(&webhook(&mock.url), &fast(0))
        .unwrap()
        .send(&[])
        .unwrap();
    assert_eq!(d, Delivery::default());
}

#[test]
fn slack_message_shape_and_truncation() {
    let mock = Mock::start(vec![mock::status(200)]);
    let d = open(&slack(&mock.url), &fast(0))
        .unwrap()
        .send(&findings(60))
        .unwrap();
    assert_eq!(
        d,
        Delivery {
            sent: 60,
            attempts: 1
        }
    );
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
    let body = reqs[0].json();
    assert!(body["text"]
        .as_str()
        .unwrap()
        .starts_with("credwarden: 60 findings (60 high)"));
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 50);
    assert_eq!(blocks[0]["type"], "header");
    let first = blocks[1]["text"]["text"].as_str().unwrap();
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    for part in [
        "HIGH",
        "CW-T001",
        "Test rule",
        "aws/svc-0",
        "AKIA0000",
        "access key 0 is 400 days old",
    ] {
        assert!(first.contains(part), "{part} missing from {first}");
    }
    assert_eq!(blocks[49]["type"], "context");
    assert_eq!(blocks[49]["elements"][0]["text"], "…and 12 more");
}

#[test]
fn webhook_secrets_never_show_in_names_or_errors() {
    let url = format!("http://127.0.0.1:9/services/{SECRET}");
    for spec in [webhook(&url), slack(&url)] {
        let sink = open(&spec, &fast(0)).unwrap();
        assert_no_secret(&sink.name());
        assert_no_secret(&spec.to_string());
        assert_no_secret(&format!("{spec:?}"));
    }
    assert_eq!(
        open(&slack(&url), &fast(0)).unwrap().name(),
        "slack:http://127.0.0.1:9/…"
    );

    // Servers that echo the request path or URL in their error bodies.
    let echo = format!("Cannot POST /services/{SECRET}");
    let mock = Mock::start(vec![
        mock::with_body(404, echo.clone()),
        mock::with_body(500, echo.clone()),
        mock::with_body(500, format!("upstream {url} failed")),
    ]);
    let errors = [
        open(&slack(&mock.url), &fast(0))
            .unwrap()
            .send(&findings(1))
            .unwrap_err(),
        open(&webhook(&mock.url), &fast(1))
            .unwrap()
            .send(&findings(1))
            .unwrap_err(),
        open(&webhook(&refused_url()), &fast(1))
            .unwrap()
            .send(&findings(1))
            .unwrap_err(),
    ];
    for e in &errors {
        assert_no_secret(&e.to_string());
        assert_no_secret(&format!("{e:?}"));
    }
    assert!(errors[0].to_string().contains("HTTP 404"));

    // Malformed specs do not quote the URL either.
    let e = format!("webhook:ftp://host/services/{SECRET}")
        .parse::<SinkSpec>()
        .unwrap_err();
    assert_no_secret(&e.to_string());
}

#[test]
fn file_sink_appends_ocsf_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("findings.jsonl");
    let spec: SinkSpec = format!("file:{}", path.display()).parse().unwrap();
    let mut sink = open(&spec, &Options::default()).unwrap();
    assert!(path.exists(), "created on open");
    assert_eq!(sink.name(), format!("file:{}", path.display()));
    assert_eq!(
        sink.send(&findings(2)).unwrap(),
        Delivery {
            sent: 2,
            attempts: 1
        }
    );
    drop(sink);
    // A second sink on the same file appends rather than truncates.
    let mut sink = open(&spec, &Options::default()).unwrap();
    sink.send(&findings(3)).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(text.ends_with('\n'));
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["class_uid"], 2004);
    }
}

#[test]
fn file_sink_names_the_path_it_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("f.jsonl");
    let spec: SinkSpec = format!("file:{}", path.display()).parse().unwrap();
    let err = open(&spec, &Options::default()).err().unwrap();
    assert!(matches!(err, SinkError::File { .. }));
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

#[test]
fn open_rejects_a_zero_batch() {
    let spec: SinkSpec = "webhook:https://example.com/x".parse().unwrap();
    let opts = Options {
        batch: 0,
        ..Options::default()
    };
    assert!(matches!(open(&spec, &opts), Err(SinkError::Options(_))));
}

/// Splunk HEC: concatenated events with the token in `Authorization: Splunk …`; a busy collector
/// (503) is retried.
#[test]
fn hec_sends_events_with_the_token_and_retries_a_busy_collector() {
    std::env::set_var("CREDWARDEN_HEC_TOKEN", "hec-token-0123");
    let m = Mock::start(vec![
        mock::status(503),
        mock::with_body(200, r#"{"text":"Success","code":0}"#),
    ]);
    let spec: SinkSpec = format!("hec:{}", m.url).parse().unwrap();
    let mut s = open(&spec, &fast(3)).unwrap();
    let d = s.send(&findings(3)).unwrap();
    assert_eq!((d.sent, d.attempts), (3, 2));
    let reqs = m.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].header("authorization"),
        Some("Splunk hec-token-0123")
    );
    let body = String::from_utf8(reqs[1].body.clone()).unwrap();
    let events: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0]["sourcetype"], "ocsf:detection_finding");
    assert_eq!(events[0]["event"]["class_uid"], 2004);
    assert!(!s.name().contains("hec-token-0123"));
}

/// A bulk answer where one document failed for now (429): only that one is sent again; the
/// documents taken are not sent twice; a document refused for good names itself in the error.
#[test]
fn bulk_resends_only_the_documents_that_failed() {
    let items = |st: &[u16]| {
        let v: Vec<serde_json::Value> = st
            .iter()
            .map(|s| serde_json::json!({"index": {"status": s, "error": if *s >= 300 { serde_json::json!({"reason": "busy"}) } else { serde_json::Value::Null }}}))
            .collect();
        serde_json::json!({"errors": st.iter().any(|s| *s >= 300), "items": v}).to_string()
    };
    let m = Mock::start(vec![
        mock::with_body(200, items(&[201, 429, 201])),
        mock::with_body(200, items(&[201])),
    ]);
    let base = m.url.split("/services/").next().unwrap().to_string();
    let spec: SinkSpec = format!("elasticsearch:{base}/credwarden-findings")
        .parse()
        .unwrap();
    let fs = findings(3);
    let d = open(&spec, &fast(3)).unwrap().send(&fs).unwrap();
    assert_eq!(d.sent, 3);
    let reqs = m.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path, "/_bulk");
    assert_eq!(reqs[0].header("content-type"), Some("application/x-ndjson"));
    let again = String::from_utf8(reqs[1].body.clone()).unwrap();
    let lines: Vec<serde_json::Value> = again
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "one action and one document: {again}");
    assert_eq!(lines[0]["index"]["_id"], fs[1].fingerprint());
    assert_eq!(lines[0]["index"]["_index"], "credwarden-findings");
    // Refused for good (a mapping error): an error naming the document, nothing resent.
    let m = Mock::start(vec![mock::with_body(200, items(&[201, 400]))]);
    let base = m.url.split("/services/").next().unwrap().to_string();
    let spec: SinkSpec = format!("opensearch:{base}/credwarden-findings")
        .parse()
        .unwrap();
    let e = open(&spec, &fast(3))
        .unwrap()
        .send(&fs[..2])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("HTTP 400") && e.contains(&fs[1].fingerprint()),
        "{e}"
    );
    assert_eq!(m.requests().len(), 1);
    // The index must be named.
    assert!(format!("elasticsearch:{base}").parse::<SinkSpec>().is_err());
}

/// rsyslogd running `conf`, killed when dropped; returned once `tcp_port` listens.
struct Rsyslog(std::process::Child);

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rsyslog(bin: &str, conf: &std::path::Path, pid: &std::path::Path, tcp_port: u16) -> Rsyslog {
    let child = std::process::Command::new(bin)
        .arg("-n")
        .arg("-f")
        .arg(conf)
        .arg("-i")
        .arg(pid)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let r = Rsyslog(child);
    let t = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", tcp_port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "rsyslogd did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    r
}

/// The text of `out` once `n` of its lines match `ours` (or 15 s have passed).
fn lines_when(out: &std::path::Path, n: usize, ours: impl Fn(&str) -> bool) -> String {
    let t = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(out).unwrap_or_default();
        if text.lines().filter(|l| ours(l)).count() >= n || t.elapsed() > Duration::from_secs(15) {
            return text;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Syslog against a real rsyslog started on loopback: RFC 5424 messages over UDP and TCP (octet
/// counting) arrive with their structured data and the OCSF finding.
#[test]
fn syslog_messages_reach_rsyslog_over_udp_and_tcp() {
    let Some(rsyslogd) = ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        assert!(
            std::env::var("CI").is_err(),
            "rsyslogd is needed under CI (apt-get install rsyslog)"
        );
        eprintln!("skipped: rsyslogd not installed (apt-get install rsyslog)");
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let port = |udp: bool| -> u16 {
        if udp {
            std::net::UdpSocket::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        } else {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        }
    };
    let (up, tp) = (port(true), port(false));
    let out = d.path().join("got.log");
    let conf = d.path().join("rsyslog.conf");
    std::fs::write(
        &conf,
        format!(
            "global(workDirectory=\"{dir}\")\nmodule(load=\"imudp\")\nmodule(load=\"imtcp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=\"{up}\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"{tp}\")\ntemplate(name=\"raw\" type=\"string\" string=\"%pri% %app-name% %msgid% %structured-data% %msg%\\n\")\n*.* action(type=\"omfile\" file=\"{out}\" template=\"raw\")\n",
            dir = d.path().display(),
            out = out.display()
        ),
    )
    .unwrap();
    let _rsyslog = rsyslog(rsyslogd, &conf, &d.path().join("pid"), tp);
    let fs = findings(2);
    for spec in [
        format!("syslog:udp://127.0.0.1:{up}"),
        format!("syslog:tcp://127.0.0.1:{tp}"),
    ] {
        let spec: SinkSpec = spec.parse().unwrap();
        let d = open(&spec, &fast(3)).unwrap().send(&fs).unwrap();
        assert_eq!(d.sent, 2);
    }
    let text = lines_when(&out, 4, |l| l.contains("credwarden"));
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("credwarden finding"))
        .collect();
    assert_eq!(ours.len(), 4, "{text}");
    for l in &ours {
        // Facility log audit (13), severity error (3) for a high finding: PRI 107.
        assert!(
            l.starts_with("107 credwarden finding [credwarden@32473 rule=\"CW-T001\""),
            "{l}"
        );
        let json = &l[l.find('{').unwrap()..];
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["class_uid"], 2004);
    }
}

/// Syslog over TLS (RFC 5425) to a real rsyslog with its OpenSSL driver: the collector's
/// certificate is checked against the CA in CREDWARDEN_SYSLOG_CA; a collector whose certificate that
/// CA did not sign is refused (nothing sent).
#[test]
fn syslog_over_tls_reaches_rsyslog_and_checks_its_certificate() {
    let rsyslogd = "/usr/sbin/rsyslogd";
    let driver = std::path::Path::new("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so");
    if !std::path::Path::new(rsyslogd).exists() || !driver.exists() {
        assert!(
            std::env::var("CI").is_err(),
            "rsyslogd with its OpenSSL driver is needed under CI (apt-get install rsyslog rsyslog-openssl)"
        );
        eprintln!("skipped: rsyslog-openssl not installed");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).display().to_string();
    let sh = |cmd: &str| {
        let ok = std::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(d.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "{cmd}");
    };
    for ca in ["ca", "other"] {
        sh(&format!("openssl req -x509 -newkey rsa:2048 -nodes -keyout {ca}.key -out {ca}.pem -days 2 -subj /CN={ca}"));
    }
    sh("openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=collector");
    std::fs::write(d.path().join("ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    sh("openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = d.path().join("got.log");
    std::fs::write(
        d.path().join("rsyslog.conf"),
        format!(
            "global(workDirectory=\"{dir}\" DefaultNetstreamDriver=\"ossl\" DefaultNetstreamDriverCAFile=\"{ca}\" DefaultNetstreamDriverCertFile=\"{cert}\" DefaultNetstreamDriverKeyFile=\"{key}\")\nmodule(load=\"imtcp\" StreamDriver.Name=\"ossl\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"{port}\")\ntemplate(name=\"raw\" type=\"string\" string=\"%app-name% %msgid% %structured-data% %msg%\\n\")\n*.* action(type=\"omfile\" file=\"{out}\" template=\"raw\")\n",
            dir = d.path().display(),
            ca = p("ca.pem"),
            cert = p("srv.pem"),
            key = p("srv.key"),
            out = out.display()
        ),
    )
    .unwrap();
    let _rsyslog = rsyslog(
        rsyslogd,
        &d.path().join("rsyslog.conf"),
        &d.path().join("pid"),
        port,
    );
    let spec: SinkSpec = format!("syslog:tls://127.0.0.1:{port}").parse().unwrap();
    // A CA that did not sign the collector's certificate: refused, nothing delivered.
    std::env::set_var("CREDWARDEN_SYSLOG_CA", p("other.pem"));
    let e = open(&spec, &fast(0))
        .unwrap()
        .send(&findings(1))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("certificate") || e.contains("Certificate"),
        "{e}"
    );
    // The right CA: delivered.
    std::env::set_var("CREDWARDEN_SYSLOG_CA", p("ca.pem"));
    let dl = open(&spec, &fast(2)).unwrap().send(&findings(2)).unwrap();
    assert_eq!(dl.sent, 2);
    let text = lines_when(&out, 2, |l| l.starts_with("credwarden finding"));
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("credwarden finding"))
        .collect();
    assert_eq!(ours.len(), 2, "{text}");
    assert!(
        ours[0].contains("[credwarden@32473 rule=\"CW-T001\""),
        "{}",
        ours[0]
    );
}
