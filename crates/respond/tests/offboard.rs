//! Offboarding against real servers on loopback: moto's IAM (with its authentication checks on, so an
//! old key can be tried and refused), scim2-server as the identity provider, and a local webhook. The
//! servers come from PATH (`pip install "moto[server]" scim2-server`, as `.ci/run` does); when absent the
//! test fails under CI=true and is skipped with a message elsewhere.

use credwarden_model::*;
use credwarden_respond::connectors::{aws_iam, rotation, scim, webhook};
use credwarden_respond::journal::Journal;
use credwarden_respond::playbook::{offboard, Options, Outcome};
use credwarden_respond::{Connector, Leaver};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/people.rs"]
mod people;
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/tools.rs"]
mod tools;
use tools::*;

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn servers_present() -> bool {
    needed(
        which("moto_server").is_some() && which("scim2-server").is_some(),
        "moto_server / scim2-server (pip install \"moto[server]\" scim2-server)",
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_up(port: u16) {
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "server on {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn moto(port: u16, free_calls: u32) -> Server {
    let child = Command::new(which("moto_server").unwrap())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", free_calls.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_up(port);
    Server(child)
}

fn scim_server(port: u16) -> Server {
    let child = Command::new(which("scim2-server").unwrap())
        .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_up(port);
    Server(child)
}

/// One unauthenticated IAM query call (moto's free calls); the response text.
fn iam_call(port: u16, params: &[(&str, &str)]) -> String {
    let mut body = String::from("Version=2010-05-08");
    for (k, v) in params {
        let enc: String = v
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        body.push_str(&format!("&{k}={enc}"));
    }
    let mut r = ureq::post(&format!("http://127.0.0.1:{port}/"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        // Routes the call to IAM (moto reads the service from the credential scope); not checked
        // during the free calls.
        .header("Authorization", "AWS4-HMAC-SHA256 Credential=AKIABOOTSTRAP/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0")
        .send(body)
        .unwrap();
    r.body_mut().read_to_string().unwrap()
}

fn between<'a>(s: &'a str, a: &str, b: &str) -> &'a str {
    let i = s.find(a).unwrap() + a.len();
    &s[i..i + s[i..].find(b).unwrap()]
}

fn new_key(port: u16, user: &str) -> (String, String) {
    let r = iam_call(port, &[("Action", "CreateAccessKey"), ("UserName", user)]);
    (
        between(&r, "<AccessKeyId>", "<").to_string(),
        between(&r, "<SecretAccessKey>", "<").to_string(),
    )
}

/// An IAM user `admin` allowed everything, and its access key, made in moto's free calls (three).
fn admin_key(port: u16) -> (String, String) {
    iam_call(port, &[("Action", "CreateUser"), ("UserName", "admin")]);
    iam_call(
        port,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "admin"),
            ("PolicyName", "admin"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            ),
        ],
    );
    new_key(port, "admin")
}

fn webhook_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 65536];
            let _ = s.read(&mut buf);
            h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (port, hits)
}

fn leaver() -> Leaver {
    let mut identity = people::identity("E1002");
    identity.display_name = Some("Jaehoon Kim".into());
    identity.emails = vec!["jkim@shop.example".into()];
    identity.usernames = vec!["jkim".into()];
    identity.end_date = Some("2025-03-14".parse().unwrap());
    let mut key = people::credential(
        "arn:aws:iam::123456789012:user/jkim#access_key_1",
        CredentialKind::AccessKey,
        "aws:123456789012",
    );
    key.principal = Some("arn:aws:iam::123456789012:user/jkim".into());
    Leaver {
        identity,
        credentials: vec![key],
        readable: vec![people::credential(
            "login-rs256-2019",
            CredentialKind::SigningKey,
            "login-service",
        )],
    }
}

#[test]
fn offboarding_revokes_proves_is_idempotent_and_keeps_a_down_system_open() {
    if !servers_present() {
        return;
    }
    let (mport, sport) = (free_port(), free_port());
    // Bootstrap in moto's free calls: an admin with a key, the leaver with two keys and a password.
    let _moto = moto(mport, 8);
    let admin = admin_key(mport);
    iam_call(mport, &[("Action", "CreateUser"), ("UserName", "jkim")]);
    let k1 = new_key(mport, "jkim");
    let k2 = new_key(mport, "jkim");
    iam_call(
        mport,
        &[
            ("Action", "CreateLoginProfile"),
            ("UserName", "jkim"),
            ("Password", "Sup3r-Secret!pw"),
        ],
    );

    let (wport, hits) = webhook_server();
    let who = leaver();
    let dir = tempfile::tempdir().unwrap();
    let jpath = dir.path().join("journal.jsonl");
    let scim_cfg = scim::ScimConfig {
        url: format!("http://127.0.0.1:{sport}"),
        token: None,
        delete_after_days: None,
        timeout: Duration::from_secs(5),
    };
    let connectors = |scim_cfg: &scim::ScimConfig| -> Vec<Box<dyn Connector>> {
        let aws = aws_iam::AwsIam::new(aws_iam::AwsConfig {
            account_id: None,
            endpoint: Some(format!("http://127.0.0.1:{mport}")),
            region: None,
            verify_secrets: [k1.clone(), k2.clone()].into_iter().collect(),
            credentials: Some(admin.clone()),
        })
        .unwrap();
        vec![
            Box::new(aws),
            Box::new(scim::Scim::new(scim_cfg.clone())),
            Box::new(webhook::Notify::new(
                &format!("http://127.0.0.1:{wport}/hooks/secret-token"),
                Duration::from_secs(5),
            )),
            Box::new(rotation::Rotations::new(&who)),
        ]
    };
    let fast = Options {
        apply: true,
        retries: 1,
        backoff: Duration::from_millis(50),
        verify_for: Duration::from_secs(5),
    };

    // 0. Before: the connector's proof says the old key is alive (the proof can fail).
    {
        let mut cs = connectors(&scim_cfg);
        let a = credwarden_respond::Action::new(
            "aws-iam",
            credwarden_respond::ActionKind::DeleteAccessKey,
            &format!("jkim/{}", k1.0),
            "E1002",
            "",
        );
        let p = cs[0].verify(&a).unwrap();
        assert!(p.strength().is_none(), "{p:?}");
    }

    // 1. The identity provider is down: AWS is done and proven, SCIM stays open.
    let mut j = Journal::open(&jpath, "test").unwrap();
    let t0 = Instant::now();
    let r = offboard(&who, &mut connectors(&scim_cfg), &mut j, &fast).unwrap();
    let dead: Vec<_> = r
        .lines
        .iter()
        .filter(|l| matches!(l.outcome, Outcome::Done { .. }))
        .collect();
    assert_eq!(dead.len(), 5, "{r:#?}"); // two keys, the password, the deny policy, the notice
                                         // Keys refused by STS; the password and the deny policy read back from IAM; the webhook told.
    assert!(
        r.summary().starts_with("2 refused, 2 gone, 1 notified"),
        "{}",
        r.summary()
    );
    let proofs: Vec<String> = dead
        .iter()
        .filter_map(|l| match &l.outcome {
            Outcome::Done { how, .. } => Some(how.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        proofs
            .iter()
            .filter(|p| p.contains("refused by STS"))
            .count(),
        2,
        "{proofs:?}"
    );
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "time to dead {:?}",
        t0.elapsed()
    );
    assert_eq!(r.unreachable.len(), 1, "{r:#?}");
    assert!(
        r.open() >= 2,
        "the signing key rotation and the unreachable IdP stay open"
    );
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);

    // 2. The identity provider is back (with the leaver's account): the open item completes.
    let _scim = scim_server(sport);
    let mut created = ureq::post(&format!("http://127.0.0.1:{sport}/Users"))
        .header("Content-Type", "application/scim+json")
        .send(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jkim","active":true,"emails":[{"value":"jkim@shop.example"}]}"#)
        .unwrap();
    assert_eq!(
        created.status().as_u16(),
        201,
        "{}",
        created.body_mut().read_to_string().unwrap()
    );
    let mut j = Journal::open(&jpath, "test").unwrap();
    let r = offboard(&who, &mut connectors(&scim_cfg), &mut j, &fast).unwrap();
    assert!(r.unreachable.is_empty(), "{r:#?}");
    let scim_line = r
        .lines
        .iter()
        .find(|l| l.action.connector == "scim")
        .expect("scim planned");
    assert!(matches!(scim_line.outcome, Outcome::Done { .. }), "{r:#?}");
    // Nothing in AWS is planned again, and the webhook is not called twice.
    assert!(
        !r.lines.iter().any(|l| l.action.connector == "aws-iam"),
        "{r:#?}"
    );
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);

    // 3. A third run changes nothing: no new applied line in the journal.
    let before = applied(&j);
    let mut j = Journal::open(&jpath, "test").unwrap();
    let r = offboard(&who, &mut connectors(&scim_cfg), &mut j, &fast).unwrap();
    let after = applied(&j);
    assert_eq!(before, after, "{r:#?}");
    // Only the rotation of the signing key the leaver could read is still open, loudly.
    let open = j.open_items(Some("E1002"));
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0].action.target, "login-rs256-2019");
    // Secrets never reach the journal.
    let text = std::fs::read_to_string(&jpath).unwrap();
    assert!(!text.contains(&k1.1) && !text.contains(&admin.1) && !text.contains("secret-token"));
}

#[test]
fn a_dry_run_changes_nothing() {
    if !servers_present() {
        return;
    }
    let mport = free_port();
    let _moto = moto(mport, 1000);
    iam_call(mport, &[("Action", "CreateUser"), ("UserName", "jkim")]);
    let k = new_key(mport, "jkim");
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(&dir.path().join("j.jsonl"), "test").unwrap();
    let aws = aws_iam::AwsIam::new(aws_iam::AwsConfig {
        account_id: None,
        endpoint: Some(format!("http://127.0.0.1:{mport}")),
        credentials: Some(k.clone()),
        ..Default::default()
    })
    .unwrap();
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(aws)];
    let r = offboard(&leaver(), &mut cs, &mut j, &Options::default()).unwrap();
    // The signing key the leaver could read has no connector here: the plan says so.
    assert_eq!(r.uncovered(), 1, "{r:#?}");
    assert!(
        r.lines
            .iter()
            .filter(|l| l.action.connector != "coverage")
            .all(|l| l.outcome == Outcome::Planned),
        "{r:#?}"
    );
    assert_eq!(
        r.lines.len(),
        3,
        "a key, the deny policy, the uncovered key: {r:#?}"
    );
    assert!(j.open_items(None).is_empty(), "a dry run opens nothing");
    // The key still works: listing with it succeeds.
    let again = offboard(&leaver(), &mut cs, &mut j, &Options::default()).unwrap();
    assert_eq!(again.lines.len(), 3);
}

/// The benchmark of the issue: an identity holding 10 credentials across 3 systems (6 access keys and
/// 3 console passwords of 3 IAM users, an IdP account, plus the relying service told), from the
/// termination to every credential dead and verified. Printed; the target is 5 s on loopback.
#[test]
fn ten_credentials_across_three_systems_die_within_five_seconds() {
    if !servers_present() {
        return;
    }
    let (mport, sport) = (free_port(), free_port());
    // Authentication on after the seeding calls: the keys are proven by STS refusing them.
    let _moto = moto(mport, 15);
    let admin = admin_key(mport);
    let mut secrets = Vec::new();
    let mut who = leaver();
    who.credentials.clear();
    who.readable.clear();
    for u in ["jkim", "jkim-admin", "jkim-ci"] {
        iam_call(mport, &[("Action", "CreateUser"), ("UserName", u)]);
        secrets.push(new_key(mport, u));
        secrets.push(new_key(mport, u));
        iam_call(
            mport,
            &[
                ("Action", "CreateLoginProfile"),
                ("UserName", u),
                ("Password", "Sup3r-Secret!pw"),
            ],
        );
        let mut c = leaver().credentials[0].clone();
        c.principal = Some(format!("arn:aws:iam::123456789012:user/{u}"));
        who.credentials.push(c);
    }
    let _scim = scim_server(sport);
    ureq::post(&format!("http://127.0.0.1:{sport}/Users"))
        .header("Content-Type", "application/scim+json")
        .send(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jkim","active":true}"#)
        .unwrap();
    let (wport, _hits) = webhook_server();
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(&dir.path().join("j.jsonl"), "bench").unwrap();
    let mut cs: Vec<Box<dyn Connector>> = vec![
        Box::new(
            aws_iam::AwsIam::new(aws_iam::AwsConfig {
                account_id: None,
                endpoint: Some(format!("http://127.0.0.1:{mport}")),
                credentials: Some(admin),
                verify_secrets: secrets.iter().cloned().collect(),
                ..Default::default()
            })
            .unwrap(),
        ),
        Box::new(scim::Scim::new(scim::ScimConfig {
            url: format!("http://127.0.0.1:{sport}"),
            token: None,
            delete_after_days: None,
            timeout: Duration::from_secs(5),
        })),
        Box::new(webhook::Notify::new(
            &format!("http://127.0.0.1:{wport}/"),
            Duration::from_secs(5),
        )),
    ];
    let t = Instant::now();
    let r = offboard(
        &who,
        &mut cs,
        &mut j,
        &Options {
            apply: true,
            ..Options::default()
        },
    )
    .unwrap();
    let took = t.elapsed();
    let dead = r
        .lines
        .iter()
        .filter(|l| matches!(l.outcome, Outcome::Done { .. }))
        .count();
    // 6 keys, 3 passwords, 3 deny policies, 1 IdP account, 1 notice.
    assert_eq!(dead, 14, "{r:#?}");
    assert_eq!(r.open(), 0, "{r:#?}");
    assert!(
        r.summary()
            .starts_with("6 refused, 7 gone, 1 notified, 0 open"),
        "{}",
        r.summary()
    );
    eprintln!(
        "time to dead: {dead} actions over 3 systems in {:.2} s",
        took.as_secs_f64()
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

/// One Secrets Manager JSON call to moto (its free calls); the response text.
fn secrets_call(port: u16, op: &str, body: &str) -> String {
    let mut r = ureq::post(&format!("http://127.0.0.1:{port}/"))
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("X-Amz-Target", &format!("secretsmanager.{op}"))
        .header("Authorization", "AWS4-HMAC-SHA256 Credential=AKIABOOTSTRAP/20250101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0")
        .send(body)
        .unwrap();
    r.body_mut().read_to_string().unwrap()
}

/// A relying service that checks `Authorization: Bearer <secret>` against the secret it holds: the
/// value it read from Secrets Manager when it last reloaded (a cached copy, as real services keep).
/// Reloads when `reload` is set.
fn relying_service(
    moto_port: u16,
    secret: &'static str,
) -> (u16, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let reload = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let r = reload.clone();
    std::thread::spawn(move || {
        let mut held = String::new();
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            if r.swap(false, std::sync::atomic::Ordering::SeqCst) {
                let v: serde_json::Value = serde_json::from_str(&secrets_call(
                    moto_port,
                    "GetSecretValue",
                    &format!(r#"{{"SecretId":"{secret}"}}"#),
                ))
                .unwrap();
                held = v["SecretString"].as_str().unwrap().to_string();
            }
            let mut buf = [0u8; 65536];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]);
            let ok = req
                .lines()
                .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {held}")));
            let status = if ok { "200 OK" } else { "401 Unauthorized" };
            let _ = s.write_all(
                format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    (port, reload)
}

/// A shared API secret the leaver could read, kept in Secrets Manager (moto): rotated by us, not
/// left to its owner; while the relying service still accepts the old value from its cache the item
/// stays open, and once it reloads the old value is refused and the item is proven done. A second
/// run rotates nothing more; the secret value never reaches the journal.
#[test]
fn a_shared_secret_in_secrets_manager_is_rotated_and_the_old_value_refused() {
    if !servers_present() {
        return;
    }
    let mport = free_port();
    let _moto = moto(mport, 10_000);
    let created = secrets_call(
        mport,
        "CreateSecret",
        r#"{"Name":"orders-hmac","SecretString":"old-orders-hmac-value-0123456789"}"#,
    );
    assert!(created.contains("orders-hmac"), "{created}");
    let (sport, reload) = relying_service(mport, "orders-hmac");
    // The service loads the secret at its first request, and accepts it.
    let status = |value: &str| {
        ureq::get(&format!("http://127.0.0.1:{sport}/orders"))
            .header("Authorization", &format!("Bearer {value}"))
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(status("old-orders-hmac-value-0123456789"), 200);
    assert_eq!(status("a-wrong-value"), 401);
    let mut who = leaver();
    who.credentials.clear();
    // Leaving today: the secret (made today) is one they could read, and the rotation made today must
    // be recognised as ours by a later run.
    who.identity.end_date = Some(jiff::Zoned::now().date());
    who.readable = vec![people::credential(
        "orders-hmac",
        CredentialKind::SharedSecret,
        "aws-secretsmanager",
    )];
    let connector = || {
        credwarden_respond::connectors::secrets_manager::SecretsManager::new(
            credwarden_respond::connectors::secrets_manager::SecretsManagerConfig {
                endpoint: Some(format!("http://127.0.0.1:{mport}")),
                credentials: Some(("AKIAEXAMPLEEXAMPLE01".into(), "example-secret".into())),
                probe: Some(credwarden_respond::connectors::secrets_manager::Probe {
                    url: format!("http://127.0.0.1:{sport}/orders"),
                    header: "Authorization".into(),
                    prefix: "Bearer ".into(),
                }),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let jp = dir.path().join("j.jsonl");
    let mut j = Journal::open(&jp, "test").unwrap();
    let opts = Options {
        apply: true,
        verify_for: Duration::from_millis(300),
        ..Options::default()
    };
    // Before: the relying service accepts the old value; the plan is one rotation.
    let mut c = connector();
    let plan = c.plan(&who).unwrap();
    assert_eq!(plan.len(), 1);
    assert!(c.verify(&plan[0]).unwrap().strength().is_none());
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(c)];
    let r = offboard(&who, &mut cs, &mut j, &opts).unwrap();
    // Rotated, but the service's cached copy still accepts the old value: open.
    assert!(
        matches!(&r.lines[0].outcome, Outcome::Open(why) if why.contains("still accepts the old value")),
        "{r:#?}"
    );
    let versions = || {
        let v: serde_json::Value = serde_json::from_str(&secrets_call(
            mport,
            "ListSecretVersionIds",
            r#"{"SecretId":"orders-hmac"}"#,
        ))
        .unwrap();
        v["Versions"].as_array().unwrap().len()
    };
    assert_eq!(versions(), 2);
    // The service reloads: the old value is refused; the next run proves it without rotating again.
    reload.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(connector())];
    let r = offboard(&who, &mut cs, &mut j, &opts).unwrap();
    assert!(
        matches!(&r.lines[0].outcome, Outcome::Done { how, strength: credwarden_respond::Strength::Refused, .. } if how.contains("refuses the old value (HTTP 401) and accepts the new one")),
        "{r:#?}"
    );
    assert_eq!(versions(), 2, "no second rotation");
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(connector())];
    let r = offboard(&who, &mut cs, &mut j, &opts).unwrap();
    assert!(
        matches!(r.lines[0].outcome, Outcome::AlreadyDone(_)),
        "{r:#?}"
    );
    assert_eq!(versions(), 2);
    let text = std::fs::read_to_string(&jp).unwrap();
    assert!(!text.contains("old-orders-hmac-value"));
}

/// Moto with authentication on, an admin with a key, and the leaver `jkim` with two keys; the
/// admin's key and the leaver's.
fn seeded_moto(mport: u16) -> (Server, (String, String), Vec<(String, String)>) {
    let m = moto(mport, 6);
    let admin = admin_key(mport);
    iam_call(mport, &[("Action", "CreateUser"), ("UserName", "jkim")]);
    let keys = vec![new_key(mport, "jkim"), new_key(mport, "jkim")];
    (m, admin, keys)
}

fn aws_at(port: u16, admin: &(String, String), keys: &[(String, String)]) -> aws_iam::AwsIam {
    aws_iam::AwsIam::new(aws_iam::AwsConfig {
        account_id: None,
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: None,
        verify_secrets: keys.iter().cloned().collect(),
        credentials: Some(admin.clone()),
    })
    .unwrap()
}

/// Does STS itself (moto, no proxy) still accept the old key?
fn still_authenticates(mport: u16, admin: &(String, String), key: &(String, String)) -> bool {
    let c = aws_at(mport, admin, std::slice::from_ref(key));
    let mut c: Box<dyn Connector> = Box::new(c);
    let a = credwarden_respond::Action::new(
        "aws-iam",
        credwarden_respond::ActionKind::DeleteAccessKey,
        &format!("jkim/{}", key.0),
        "E1002",
        "",
    );
    let p = c.verify(&a).unwrap();
    match p.verdict {
        credwarden_respond::Verdict::Alive => true,
        credwarden_respond::Verdict::Proven(credwarden_respond::Strength::Refused) => false,
        _ => panic!("moto itself answered ambiguously: {p:?}"),
    }
}

fn only_aws_keys(who: &mut Leaver) {
    who.readable.clear();
}

/// STS behind a proxy that answers the proof call (GetCallerIdentity signed with an old key) with a
/// bare 403 and no AWS error code — a WAF, a corporate proxy, a wrong endpoint. The keys are still
/// revoked (revocation is always applied), but never reported dead: open, loud, non-zero.
#[test]
fn a_bare_403_to_the_proof_is_not_a_refusal() {
    if !servers_present() {
        return;
    }
    let mport = free_port();
    let (_moto, admin, keys) = seeded_moto(mport);
    let leaver_keys: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
    let px = proxy::start(mport, move |r| {
        let auth = r.header("authorization").unwrap_or("");
        (r.body.contains("Action=GetCallerIdentity")
            && leaver_keys.iter().any(|k| auth.contains(k.as_str())))
        .then(|| (403, "text/html", String::new()))
    });
    assert!(still_authenticates(mport, &admin, &keys[0]));
    let mut who = leaver();
    only_aws_keys(&mut who);
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(&dir.path().join("j.jsonl"), "test").unwrap();
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(aws_at(px.port, &admin, &keys))];
    let opts = Options {
        apply: true,
        retries: 1,
        backoff: Duration::from_millis(50),
        verify_for: Duration::from_millis(400),
    };
    let r = offboard(&who, &mut cs, &mut j, &opts).unwrap();
    let key_lines: Vec<_> = r
        .lines
        .iter()
        .filter(|l| l.action.kind == credwarden_respond::ActionKind::DeleteAccessKey)
        .collect();
    assert_eq!(key_lines.len(), 2, "{r:#?}");
    for l in &key_lines {
        assert!(
            matches!(&l.outcome, Outcome::Open(why) if why.contains("no AWS error code")),
            "{l:#?}"
        );
    }
    assert!(px.intercepted.load(std::sync::atomic::Ordering::SeqCst) >= 2);
    assert!(
        r.open() >= 2 && r.summary().contains("0 refused"),
        "{}",
        r.summary()
    );
    assert!(j.open_items(Some("E1002")).len() >= 2);
    // Revoke first: the keys were deleted all the same, as STS itself shows.
    for k in &keys {
        assert!(
            !still_authenticates(mport, &admin, k),
            "{} still works",
            k.0
        );
    }
    // Straight to STS, the next run proves them refused and closes the items.
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(aws_at(mport, &admin, &keys))];
    let r = offboard(&who, &mut cs, &mut j, &opts).unwrap();
    assert_eq!(r.count(credwarden_respond::Strength::Refused), 2, "{r:#?}");
    assert!(
        j.open_items(Some("E1002")).is_empty(),
        "{:#?}",
        j.open_items(Some("E1002"))
    );
}

/// A proxy that answers every call with a bare 403: nothing can be done or proven. The keys still
/// authenticate at STS, and nothing says otherwise.
#[test]
fn a_proxy_refusing_everything_leaves_live_keys_open() {
    if !servers_present() {
        return;
    }
    let mport = free_port();
    let (_moto, admin, keys) = seeded_moto(mport);
    let px = proxy::start(mport, |_| {
        Some((403, "text/html", "<html>Forbidden</html>".into()))
    });
    let mut who = leaver();
    only_aws_keys(&mut who);
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(&dir.path().join("j.jsonl"), "test").unwrap();
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(aws_at(px.port, &admin, &keys))];
    let opts = Options {
        apply: true,
        retries: 0,
        backoff: Duration::from_millis(20),
        verify_for: Duration::from_millis(200),
    };
    let r = offboard(&who, &mut cs, &mut j, &opts).unwrap();
    assert!(
        !r.lines
            .iter()
            .any(|l| matches!(l.outcome, Outcome::Done { .. })),
        "{r:#?}"
    );
    assert!(r.open() >= 1, "{r:#?}");
    assert!(!j.open_items(Some("E1002")).is_empty());
    for k in &keys {
        assert!(still_authenticates(mport, &admin, k));
    }
}

/// A connector configured for one account never acts on a same-named user of another: the
/// leaver's key in account 999999999999 stays an open item naming what is missing.
#[test]
fn a_credential_in_another_account_is_not_touched_and_stays_open() {
    if !servers_present() {
        return;
    }
    let mport = free_port();
    let (_moto, admin, keys) = seeded_moto(mport);
    let mut who = leaver();
    only_aws_keys(&mut who);
    for c in &mut who.credentials {
        c.id = c.id.replace("123456789012", "999999999999");
        c.system = "aws:999999999999".into();
        c.principal = c
            .principal
            .as_ref()
            .map(|p| p.replace("123456789012", "999999999999"));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(&dir.path().join("j.jsonl"), "test").unwrap();
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(aws_at(mport, &admin, &keys))];
    let opts = Options {
        apply: true,
        ..Options::default()
    };
    let r = offboard(&who, &mut cs, &mut j, &opts).unwrap();
    assert!(
        !r.lines.iter().any(|l| l.action.connector == "aws-iam"),
        "{r:#?}"
    );
    assert_eq!(r.uncovered(), 1, "{r:#?}");
    assert!(
        matches!(&r.lines[0].outcome, Outcome::Open(why) if why.contains("no connector for access_key on aws:999999999999")),
        "{r:#?}"
    );
    for k in &keys {
        assert!(
            still_authenticates(mport, &admin, k),
            "the other account's namesake is untouched"
        );
    }
    // Configured for an account its credentials are not of: it refuses to act at all.
    let mut c = aws_at(mport, &admin, &keys);
    let elsewhere = who;
    let mut who = leaver();
    only_aws_keys(&mut who);
    let mut cfgd = aws_iam::AwsIam::new(aws_iam::AwsConfig {
        account_id: Some("999999999999".into()),
        endpoint: Some(format!("http://127.0.0.1:{mport}")),
        credentials: Some(admin.clone()),
        ..Default::default()
    })
    .unwrap();
    assert!(c.plan(&who).unwrap().len() >= 2);
    let err = cfgd.plan(&elsewhere).unwrap_err().to_string();
    assert!(err.contains("configured for account 999999999999"), "{err}");
}

/// The identity provider behind a proxy whose answers prove nothing: reading the account back gets
/// a bare 404 page (not a SCIM error), or every call gets a 200 HTML page. The deactivation is
/// sent, but never proven: open.
#[test]
fn an_idp_read_back_through_a_broken_proxy_stays_open() {
    if !servers_present() {
        return;
    }
    for every_call in [false, true] {
        let sport = free_port();
        let _scim = scim_server(sport);
        let mut created = ureq::post(&format!("http://127.0.0.1:{sport}/Users"))
            .header("Content-Type", "application/scim+json")
            .send(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jkim","active":true}"#)
            .unwrap();
        let body = created.body_mut().read_to_string().unwrap();
        let px = proxy::start(sport, move |r| {
            if every_call {
                Some((200, "text/html", "<html>portal</html>".into()))
            } else {
                (r.method == "GET" && r.path.starts_with("/Users/"))
                    .then(|| (404, "text/html", "Not Found".into()))
            }
        });
        let mut who = leaver();
        who.credentials.clear();
        who.readable.clear();
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.jsonl"), "test").unwrap();
        let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(scim::Scim::new(scim::ScimConfig {
            url: format!("http://127.0.0.1:{}", px.port),
            token: None,
            delete_after_days: None,
            timeout: Duration::from_secs(5),
        }))];
        let opts = Options {
            apply: true,
            retries: 0,
            backoff: Duration::from_millis(20),
            verify_for: Duration::from_millis(200),
        };
        let r = offboard(&who, &mut cs, &mut j, &opts).unwrap();
        assert!(
            !r.lines
                .iter()
                .any(|l| matches!(l.outcome, Outcome::Done { .. })),
            "every_call={every_call}: {r:#?}"
        );
        assert!(r.open() >= 1, "every_call={every_call}: {r:#?} ({body})");
    }
}

/// A connector pointed at the wrong region (or name, or account) gets `ResourceNotFound`: nothing
/// was rotated, and nothing may say so — the item stays open.
#[test]
fn a_secret_not_found_in_the_configured_region_stays_open() {
    if !servers_present() {
        return;
    }
    let mport = free_port();
    let _moto = moto(mport, 10_000);
    secrets_call(
        mport,
        "CreateSecret",
        r#"{"Name":"orders-hmac","SecretString":"old-orders-hmac-value-0123456789"}"#,
    );
    let mut who = leaver();
    who.credentials.clear();
    who.readable = vec![people::credential(
        "orders-hmac",
        CredentialKind::SharedSecret,
        "aws-secretsmanager",
    )];
    let sm = credwarden_respond::connectors::secrets_manager::SecretsManager::new(
        credwarden_respond::connectors::secrets_manager::SecretsManagerConfig {
            endpoint: Some(format!("http://127.0.0.1:{mport}")),
            region: Some("eu-west-1".into()),
            credentials: Some(("AKIAEXAMPLEEXAMPLE01".into(), "example-secret".into())),
            ..Default::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut j = Journal::open(&dir.path().join("j.jsonl"), "test").unwrap();
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(sm)];
    let opts = Options {
        apply: true,
        retries: 0,
        backoff: Duration::from_millis(20),
        verify_for: Duration::from_millis(200),
    };
    let r = offboard(&who, &mut cs, &mut j, &opts).unwrap();
    assert!(
        !r.lines
            .iter()
            .any(|l| matches!(l.outcome, Outcome::Done { .. })),
        "{r:#?}"
    );
    assert!(r.open() >= 1, "{r:#?}");
    assert!(!j.open_items(Some("E1002")).is_empty());
    // The real secret, in us-east-1, was not touched.
    let v = secrets_call(
        mport,
        "ListSecretVersionIds",
        r#"{"SecretId":"orders-hmac"}"#,
    );
    assert_eq!(v.matches("VersionId").count(), 1, "{v}");
}
