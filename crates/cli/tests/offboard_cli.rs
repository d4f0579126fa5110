//! `credwarden offboard` through the real binary, without outside systems: the plan is a dry run that
//! changes nothing, secrets the leaver could read become open rotation items, a person closes one with
//! a reason, `--list-open` shows what is left, and `--watch-hr` offboards an identity the moment the
//! roster says it left (and only once). The connectors against real servers are tested in
//! `crates/respond/tests/offboard.rs`.

use std::path::Path;
use std::process::{Command, Output};

#[path = "support/servers.rs"]
mod servers;
use servers::*;

const EX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");

fn credwarden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credwarden"))
        .args(args)
        .env_remove("CREDWARDEN_CONFIG")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn plan_apply_close_and_list() {
    let d = tempfile::tempdir().unwrap();
    let j = d.path().join("journal.jsonl").display().to_string();
    let hr = format!("{EX}/hr.csv");
    let inv = [
        format!("{EX}/iam-credential-report.csv"),
        format!("{EX}/secrets.csv"),
    ];
    let groups = format!("{EX}/groups.csv");
    let base = [
        "offboard",
        "--identity",
        "E1002",
        "--hr",
        &hr,
        "--inventory",
        &inv[0],
        &inv[1],
        "--groups",
        &groups,
        "--journal",
        &j,
    ];
    // The dry run: the leaver's AWS key has no connector configured here, which the plan says
    // (and exits 1: the offboarding would leave it alive).
    let plan = credwarden(&base);
    assert_eq!(plan.status.code(), Some(1), "{}", text(&plan));
    let t = text(&plan);
    assert!(
        t.contains("dry run, nothing changed")
            && t.contains("login-token-signing-2019")
            && t.contains("no connector for access_key on aws:"),
        "{t}"
    );
    // With --apply (no outside systems configured): the unrotated signing key stays open, exit 1.
    let mut apply = base.to_vec();
    apply.push("--apply");
    let out = credwarden(&apply);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let list = credwarden(&["offboard", "--list-open", "--journal", &j]);
    assert_eq!(list.status.code(), Some(1));
    let lt = text(&list);
    let id_of = |what: &str| {
        lt.lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("{what} not open: {lt}"))
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    // A person closes each, with a reason; nothing is open any more.
    for (what, why) in [
        (
            "login-token-signing-2019",
            "rotated by the login team, ticket SEC-42",
        ),
        (
            "jkim#access_key_1",
            "deleted by hand in the console, ticket SEC-43",
        ),
    ] {
        let out = credwarden(&[
            "offboard",
            "--close",
            &id_of(what),
            "--reason",
            why,
            "--journal",
            &j,
        ]);
        assert!(out.status.success(), "{}", text(&out));
    }
    let list = credwarden(&["offboard", "--list-open", "--journal", &j]);
    assert_eq!(list.status.code(), Some(0), "{}", text(&list));
    // The journal names every step and its author, and its chain holds.
    let journal = std::fs::read_to_string(&j).unwrap();
    assert!(journal.contains("\"phase\":\"closed\"") && journal.contains("SEC-42"));
    // Closing is refused for an unknown id; an unknown identity is an error naming the roster.
    assert_eq!(
        credwarden(&[
            "offboard",
            "--close",
            "nope",
            "--reason",
            "x",
            "--journal",
            &j
        ])
        .status
        .code(),
        Some(2)
    );
    let out = credwarden(&[
        "offboard",
        "--identity",
        "E9999",
        "--hr",
        &hr,
        "--journal",
        &j,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("E9999") && text(&out).contains("hr.csv"));
}

fn roster(p: &Path, status: &str, end: &str) {
    std::fs::write(
        p,
        format!("employee_id,name,email,username,status,start_date,end_date\nE1,Ana Lee,ana@shop.example,ana,active,2020-01-01,\nE2,Bo Kim,bo@shop.example,bo,{status},2020-01-01,{end}\nE3,Cy Old,cy@shop.example,cy,terminated,2019-01-01,2021-01-01\n"),
    )
    .unwrap();
}

#[test]
fn watching_the_roster_offboards_a_new_leaver_once() {
    let d = tempfile::tempdir().unwrap();
    let hr = d.path().join("hr.csv");
    let j = d.path().join("journal.jsonl").display().to_string();
    let secrets = d.path().join("secrets.csv");
    std::fs::write(&secrets, "id,kind,system,owner,created,readers\norders-hmac,shared_secret,orders-api,E1,2020-01-01,bo;ana\n").unwrap();
    roster(&hr, "active", "");
    let hr_s = hr.display().to_string();
    let secrets_s = secrets.display().to_string();
    let args = [
        "offboard",
        "--watch-hr",
        "--once",
        "--apply",
        "--hr",
        &hr_s,
        "--inventory",
        &secrets_s,
        "--journal",
        &j,
    ];
    let first = credwarden(&args);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("1 identities already departed are remembered"),
        "{}",
        text(&first)
    );
    assert!(!text(&first).contains("termination seen"));
    // Bo leaves: the next look offboards Bo (the secret Bo could read must be rotated: open).
    roster(&hr, "terminated", "2025-01-31");
    let second = credwarden(&args);
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    let t = text(&second);
    assert!(
        t.contains("termination seen: E2") && t.contains("orders-hmac"),
        "{t}"
    );
    // A third look does nothing.
    let third = credwarden(&args);
    assert!(third.status.success(), "{}", text(&third));
    assert!(!text(&third).contains("termination seen"));
}

/// Someone HR has not let go is offboarded only on a second person's signed approval: Alice and
/// Bob make Ed25519 keys (`--keygen`), listed under `[respond.approvers]`; Alice asks (signed), her
/// own signed approval is refused, a typed `--approved-by` is refused, Bob's signed approval is
/// accepted and journaled with how it was verified.
#[test]
fn someone_hr_has_not_let_go_needs_a_second_persons_signed_approval() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).display().to_string();
    let hr = format!("{EX}/hr.csv");
    let inv = format!("{EX}/secrets.csv");
    let mut approvers = String::from("[respond.approvers]\n");
    for who in ["alice", "bob"] {
        let out = credwarden(&["offboard", "--keygen", &p(who)]);
        assert!(out.status.success(), "{}", text(&out));
        let t = text(&out);
        let public = t.split('"').nth(1).unwrap();
        approvers.push_str(&format!("{who} = \"{public}\"\n"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(p(who)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
    // A key is never overwritten.
    assert_eq!(
        credwarden(&["offboard", "--keygen", &p("alice")])
            .status
            .code(),
        Some(2)
    );
    std::fs::write(p("credwarden.toml"), approvers).unwrap();
    let (cfg, j) = (p("credwarden.toml"), p("journal.jsonl"));
    let run = |extra: &[&str]| {
        let mut args = vec![
            "offboard",
            "--identity",
            "E1001",
            "--hr",
            &hr,
            "--inventory",
            &inv,
            "--journal",
            &j,
            "--config",
            &cfg,
        ];
        args.extend_from_slice(extra);
        credwarden(&args)
    };
    let refused = |o: &Output, why: &str| {
        assert_eq!(o.status.code(), Some(2), "{}", text(o));
        assert!(text(o).contains(why), "{}", text(o));
    };
    // E1001 is active in HR: --apply alone is refused; so is an unsigned request.
    refused(&run(&["--apply"]), "not recorded as gone by HR");
    refused(
        &run(&["--request-approval", "--reason", "CW-B001 parallel use"]),
        "needs --signing-key",
    );
    // Alice asks, signed.
    let out = run(&[
        "--request-approval",
        "--reason",
        "CW-B001 parallel use",
        "--signing-key",
        &p("alice"),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // A typed name is refused, whoever types it.
    refused(
        &run(&["--apply", "--approved-by", "bob"]),
        "no longer accepted",
    );
    // Alice's own signed approval is refused.
    assert!(run(&[
        "--sign-approval",
        &p("alice.json"),
        "--signing-key",
        &p("alice")
    ])
    .status
    .success());
    refused(
        &run(&["--apply", "--approval", &p("alice.json")]),
        "a second person must approve",
    );
    // An edited approval does not verify.
    let bob = run(&[
        "--sign-approval",
        &p("bob.json"),
        "--signing-key",
        &p("bob"),
    ]);
    assert!(bob.status.success(), "{}", text(&bob));
    let good = std::fs::read_to_string(p("bob.json")).unwrap();
    std::fs::write(p("edited.json"), good.replace("\"bob\"", "\"alice\"")).unwrap();
    refused(
        &run(&["--apply", "--approval", &p("edited.json")]),
        "does not verify",
    );
    // Bob's approval: the offboarding runs, and the journal says who approved and how.
    let out = run(&["--apply", "--approval", &p("bob.json")]);
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", text(&out));
    let journal = std::fs::read_to_string(&j).unwrap();
    assert!(
        journal.contains("approved by bob (Ed25519-signed approval)")
            && journal.contains("requested by alice (Ed25519 key"),
        "{journal}"
    );
    // The approval is spent: replaying it is refused.
    refused(
        &run(&["--apply", "--approval", &p("bob.json")]),
        "approval request",
    );
}

/// `[respond.secrets_manager]` through the binary against moto's Secrets Manager: a shared secret
/// the leaver could read is rotated by `--apply` (a new version, proven), not left as an item for its
/// owner; a second run rotates nothing more. moto comes from PATH (`pip install "moto[server]"`);
/// absent, the test fails under CI=true and is skipped elsewhere.
#[test]
fn a_shared_secret_in_secrets_manager_is_rotated_by_apply() {
    let Some(moto) = on_path("moto_server") else {
        needed(false, "moto_server (pip install \"moto[server]\")");
        return;
    };
    let port = free_port();
    let _m = servers::moto(&moto, port);
    let call = |op: &str, body: &str| -> serde_json::Value {
        let mut r = ureq::post(&format!("http://127.0.0.1:{port}/"))
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("X-Amz-Target", &format!("secretsmanager.{op}"))
            .header("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0")
            .send(body)
            .unwrap();
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    };
    call(
        "CreateSecret",
        r#"{"Name":"orders-hmac","SecretString":"old-orders-hmac-value-0123456789"}"#,
    );
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).display().to_string();
    // Bo leaves today: the secret moto holds (made today) is one he could read.
    let today = jiff::Zoned::now().date();
    std::fs::write(p("hr.csv"), format!("employee_id,name,email,username,status,start_date,end_date\nE1,Ana Lee,ana@shop.example,ana,active,2020-01-01,\nE2,Bo Kim,bo@shop.example,bo,terminated,2020-01-01,{today}\n")).unwrap();
    std::fs::write(p("secrets.csv"), "id,kind,system,owner,created,readers\norders-hmac,shared_secret,aws-secretsmanager,E1,2020-01-01,bo\n").unwrap();
    std::fs::write(p("aws"), "AKIAEXAMPLEEXAMPLE01 example-secret\n").unwrap();
    std::fs::write(
        p("credwarden.toml"),
        format!(
            "[respond.secrets_manager]\nendpoint = \"http://127.0.0.1:{port}\"\ncredentials_file = \"{}\"\n",
            p("aws")
        ),
    )
    .unwrap();
    let args = [
        "offboard",
        "--identity",
        "E2",
        "--hr",
        &p("hr.csv"),
        "--inventory",
        &p("secrets.csv"),
        "--config",
        &p("credwarden.toml"),
        "--journal",
        &p("journal.jsonl"),
        "--apply",
    ];
    let versions = || {
        call("ListSecretVersionIds", r#"{"SecretId":"orders-hmac"}"#)["Versions"]
            .as_array()
            .unwrap()
            .len()
    };
    let out = credwarden(&args);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("GONE (listing)")
            && t.contains("orders-hmac")
            && t.contains("aws-secretsmanager")
            && t.contains("E2: 0 refused, 1 gone, 0 notified, 0 open"),
        "{t}"
    );
    assert!(
        !t.contains("rotation)"),
        "no manual rotation item as well: {t}"
    );
    assert_eq!(versions(), 2);
    let again = credwarden(&args);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("already done"), "{}", text(&again));
    assert_eq!(versions(), 2, "no second rotation");
    let journal = std::fs::read_to_string(p("journal.jsonl")).unwrap();
    assert!(!journal.contains("old-orders-hmac-value") && !t.contains("old-orders-hmac-value"));
}

#[path = "../../respond/tests/support/proxy.rs"]
mod proxy;

/// The issue's own check through the binary: a leaver's two keys in moto with authentication on.
/// Behind a proxy that refuses everything, or one that answers only the proof (STS with an old
/// key) with a bare 403, nothing is reported dead, everything stays open and the exit is 1; talking
/// to STS itself, both keys are reported dead because STS refuses them.
#[test]
fn with_authentication_on_a_key_is_dead_only_when_sts_refuses_it() {
    let Some(moto) = on_path("moto_server") else {
        needed(false, "moto_server (pip install \"moto[server]\")");
        return;
    };
    let mport = free_port();
    let _m = servers::moto_auth(&moto, mport, 6);
    let admin = admin_key(mport);
    iam(mport, &[("Action", "CreateUser"), ("UserName", "jkim")]);
    let k1 = key_of(&iam(
        mport,
        &[("Action", "CreateAccessKey"), ("UserName", "jkim")],
    ));
    let k2 = key_of(&iam(
        mport,
        &[("Action", "CreateAccessKey"), ("UserName", "jkim")],
    ));

    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_str().unwrap().to_string();
    std::fs::write(p("hr.csv"), "employee_id,name,email,username,status,start_date,end_date\nE1002,Jaehoon Kim,jkim@shop.example,jkim,terminated,2019-01-01,2025-03-14\n").unwrap();
    std::fs::write(p("report.csv"), "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\njkim,arn:aws:iam::123456789012:user/jkim,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-01T00:00:00+00:00,N/A,N/A,N/A,true,2024-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n").unwrap();
    std::fs::write(p("admin"), format!("{} {}\n", admin.0, admin.1)).unwrap();
    std::fs::write(
        p("old-keys"),
        format!("{} {}\n{} {}\n", k1.0, k1.1, k2.0, k2.1),
    )
    .unwrap();
    let config = |port: u16| {
        std::fs::write(
            p("credwarden.toml"),
            format!(
                "[respond.aws]\nendpoint = \"http://127.0.0.1:{port}\"\ncredentials_file = \"{}\"\nverify_secrets_file = \"{}\"\n",
                p("admin"),
                p("old-keys")
            ),
        )
        .unwrap();
    };
    let run = || {
        let out = credwarden(&[
            "offboard",
            "--identity",
            "E1002",
            "--hr",
            &p("hr.csv"),
            "--inventory",
            &p("report.csv"),
            "--config",
            &p("credwarden.toml"),
            "--journal",
            &p("journal.jsonl"),
            "--apply",
        ]);
        (out.status.code(), text(&out))
    };
    let open = || {
        text(&credwarden(&[
            "offboard",
            "--list-open",
            "--journal",
            &p("journal.jsonl"),
        ]))
    };

    // 1. Everything refused by a proxy: nothing done, nothing dead, all open.
    let wall = proxy::start(mport, |_| Some((403, "text/html", String::new())));
    config(wall.port);
    let (code, t) = run();
    assert_eq!(code, Some(1), "{t}");
    assert!(
        !t.contains("DEAD") && !t.contains("GONE") && t.contains("0 refused"),
        "{t}"
    );
    assert!(open().contains("aws-iam"), "{}", open());

    // 2. Only the proof answered with a bare 403: the keys are revoked, but not reported dead.
    let old: Vec<String> = vec![k1.0.clone(), k2.0.clone()];
    let sly = proxy::start(mport, move |r| {
        let auth = r.header("authorization").unwrap_or("");
        (r.body.contains("Action=GetCallerIdentity")
            && old.iter().any(|k| auth.contains(k.as_str())))
        .then(|| (403, "text/html", String::new()))
    });
    config(sly.port);
    let (code, t) = run();
    assert_eq!(code, Some(1), "{t}");
    assert!(!t.contains("DEAD"), "{t}");
    assert_eq!(t.matches("no AWS error code").count(), 2, "{t}");
    let o = open();
    assert!(o.contains(&k1.0) && o.contains(&k2.0), "{o}");

    // 3. Straight to STS: refused, so dead; nothing open; exit 0.
    config(mport);
    let (code, t) = run();
    assert_eq!(t.matches("DEAD (refused)").count(), 2, "{t}");
    assert!(t.contains("E1002: 2 refused"), "{t}");
    assert_eq!(code, Some(0), "{t}\n{}", open());
    // No secret in any output or the journal.
    let journal = std::fs::read_to_string(p("journal.jsonl")).unwrap();
    for s in [&k1.1, &k2.1, &admin.1] {
        assert!(!t.contains(s.as_str()) && !journal.contains(s.as_str()));
    }
}
