//! A leaver's PostgreSQL roles against a real PostgreSQL started by the test on loopback: the role
//! logs in with its password and holds a session before; after the offboarding a login with the old
//! password is refused, the open session is gone, another user is untouched, and a second run
//! changes nothing. PostgreSQL comes from the machine (`initdb`, `pg_ctl`; run as the `postgres`
//! user when the test runs as root); absent, the test fails under CI=true and is skipped elsewhere.

use credwarden_model::*;
use credwarden_respond::connectors::postgres::{PgConfig, Postgres};
use credwarden_respond::journal::Journal;
use credwarden_respond::playbook::{offboard, Options, Outcome};
use credwarden_respond::{Connector, Leaver};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[path = "support/people.rs"]
mod people;
#[path = "support/tools.rs"]
mod tools;
use tools::*;

fn pg_bin(name: &str) -> Option<PathBuf> {
    which(name).or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        found.pop()
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command, run as `postgres` when we are root (PostgreSQL refuses to run as root).
fn as_pg(bin: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

struct Pg {
    pg_ctl: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = as_pg(&self.pg_ctl)
            .args(["-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn start(dir: &Path) -> Option<Pg> {
    let (initdb, pg_ctl) = (pg_bin("initdb")?, pg_bin("pg_ctl")?);
    std::fs::write(dir.join("pw"), "admin-pass-0123456789\n").unwrap();
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
    }
    let data = dir.join("data");
    let ok = as_pg(&initdb)
        .arg("-D")
        .arg(&data)
        .args(["-U", "admin", "-A", "scram-sha-256", "--no-sync"])
        .arg(format!("--pwfile={}", dir.join("pw").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pg = Pg {
        pg_ctl: pg_ctl.clone(),
        data: data.clone(),
        port,
    };
    let ok = as_pg(&pg_ctl)
        .arg("-D")
        .arg(&data)
        .arg("-o")
        .arg(format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            dir.display()
        ))
        .arg("-l")
        .arg(dir.join("log"))
        .args(["-w", "start"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(pg)
}

fn connect(port: u16, user: &str, password: &str) -> Result<postgres::Client, postgres::Error> {
    postgres::Config::new()
        .host("127.0.0.1")
        .port(port)
        .user(user)
        .password(password)
        .dbname("postgres")
        .connect(postgres::NoTls)
}

#[test]
fn database_roles_lose_their_login_and_their_open_sessions() {
    let d = tempfile::tempdir().unwrap();
    let Some(pg) = start(d.path()) else {
        needed(false, "a PostgreSQL that starts (initdb, pg_ctl)");
        return;
    };
    let mut admin = connect(pg.port, "admin", "admin-pass-0123456789").unwrap();
    admin
        .batch_execute(
            "CREATE ROLE bo LOGIN PASSWORD 'bo-old-pass-0123'; CREATE ROLE ana LOGIN PASSWORD 'ana-pass-0123';",
        )
        .unwrap();
    // Bo is connected when he leaves.
    let mut held = connect(pg.port, "bo", "bo-old-pass-0123").unwrap();
    held.simple_query("SELECT 1").unwrap();
    let cred = |id: &str| people::credential(id, CredentialKind::DbUser, "postgres:orders-db");
    let who = Leaver {
        identity: people::identity("E2"),
        credentials: vec![cred("bo"), cred("ghost-role-never-created")],
        readable: vec![],
    };
    let connector = || -> Vec<Box<dyn Connector>> {
        vec![Box::new(Postgres::new(PgConfig {
            connection: format!("host=127.0.0.1 port={} user=admin dbname=postgres", pg.port),
            password: Some("admin-pass-0123456789".into()),
            system: "postgres:orders-db".into(),
            verify_passwords: [("bo".to_string(), "bo-old-pass-0123".to_string())]
                .into_iter()
                .collect(),
        }))]
    };
    // Before: the proof says alive (it can fail).
    let mut c = connector();
    let plan = c[0].plan(&who).unwrap();
    assert_eq!(
        plan.len(),
        1,
        "a role that does not exist is not planned: {plan:?}"
    );
    assert!(c[0].verify(&plan[0]).unwrap().strength().is_none());
    let jp = d.path().join("journal.jsonl");
    let mut j = Journal::open(&jp, "test").unwrap();
    let opts = Options {
        apply: true,
        ..Options::default()
    };
    let r = offboard(&who, &mut connector(), &mut j, &opts).unwrap();
    assert!(
        matches!(&r.lines[0].outcome, Outcome::Done { how, .. } if how.contains("refused")),
        "{r:#?}"
    );
    // The old password no longer logs in, the open session is gone, Ana is untouched.
    assert!(connect(pg.port, "bo", "bo-old-pass-0123").is_err());
    assert!(held.simple_query("SELECT 1").is_err());
    assert!(connect(pg.port, "ana", "ana-pass-0123").is_ok());
    // A second run changes nothing.
    let before = applied(&j);
    let mut j = Journal::open(&jp, "test").unwrap();
    offboard(&who, &mut connector(), &mut j, &opts).unwrap();
    assert_eq!(applied(&j), before);
    let text = std::fs::read_to_string(&jp).unwrap();
    assert!(!text.contains("bo-old-pass") && !text.contains("admin-pass"));
}

/// The unhelpful answers a real server gives: a verification password that was wrong all along is
/// refused too (28P01), and a `pg_hba.conf` line rejecting the role says nothing about its
/// password. Neither is taken as a refusal of the role: both are shown as "gone" — the catalog's
/// word that the role cannot log in — never "refused".
#[test]
fn a_wrong_verification_password_or_a_pg_hba_rejection_is_no_refusal() {
    let d = tempfile::tempdir().unwrap();
    let Some(pg) = start(d.path()) else {
        needed(false, "a PostgreSQL that starts (initdb, pg_ctl)");
        return;
    };
    let mut admin = connect(pg.port, "admin", "admin-pass-0123456789").unwrap();
    admin
        .batch_execute(
            "CREATE ROLE bo LOGIN PASSWORD 'bo-real-pass-0123'; CREATE ROLE cy LOGIN PASSWORD 'cy-pass-0123';",
        )
        .unwrap();
    // Cy's connections from loopback are rejected by pg_hba, whatever the password.
    let hba = d.path().join("data/pg_hba.conf");
    let text = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(&hba, format!("host all cy 127.0.0.1/32 reject\n{text}")).unwrap();
    admin.batch_execute("SELECT pg_reload_conf()").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(connect(pg.port, "cy", "cy-pass-0123").is_err());
    let cred = |id: &str| people::credential(id, CredentialKind::DbUser, "postgres:orders-db");
    let who = Leaver {
        identity: people::identity("E2"),
        credentials: vec![cred("bo"), cred("cy")],
        readable: vec![],
    };
    let mut cs: Vec<Box<dyn Connector>> = vec![Box::new(Postgres::new(PgConfig {
        connection: format!("host=127.0.0.1 port={} user=admin dbname=postgres", pg.port),
        password: Some("admin-pass-0123456789".into()),
        system: "postgres:orders-db".into(),
        verify_passwords: [
            ("bo".to_string(), "not-bos-password".to_string()),
            ("cy".to_string(), "cy-pass-0123".to_string()),
        ]
        .into_iter()
        .collect(),
    }))];
    let mut j = Journal::open(&d.path().join("j.jsonl"), "test").unwrap();
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
    assert_eq!(r.lines.len(), 2, "{r:#?}");
    assert!(
        r.lines.iter().all(|l| matches!(
            &l.outcome,
            Outcome::Done {
                strength: credwarden_respond::Strength::Gone,
                ..
            }
        )),
        "{r:#?}"
    );
    assert_eq!(r.count(credwarden_respond::Strength::Refused), 0);
    // The roles really lost their login (the catalog's word holds).
    assert!(connect(pg.port, "bo", "bo-real-pass-0123").is_err());
}
