//! SSH keys and CA certificates of a leaver revoked in a real OpenSSH KRL with the real ssh-keygen:
//! a key and a certificate are accepted before (`ssh-keygen -Q`: ok) and REVOKED after, someone
//! else's key stays ok, a key whose public half we lack stays open, and a second run changes nothing.
//! ssh-keygen comes from PATH (openssh-client); absent, the test fails under CI=true and is skipped
//! elsewhere.

use credwarden_model::*;
use credwarden_respond::connectors::ssh::{Ssh, SshConfig};
use credwarden_respond::journal::Journal;
use credwarden_respond::playbook::{offboard, Options, Outcome};
use credwarden_respond::{Connector, Leaver};
use std::path::Path;
use std::process::Command;

#[path = "support/people.rs"]
mod people;
#[path = "support/tools.rs"]
mod tools;
use tools::*;

fn keygen(args: &[&str], dir: &Path) -> bool {
    Command::new("ssh-keygen")
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn checked(dir: &Path, krl: &Path, file: &str) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-Q", "-f"])
        .arg(krl)
        .arg(file)
        .current_dir(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn ssh_keys_and_certificates_are_revoked_in_the_krl_and_proven() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    if !keygen(
        &["-q", "-t", "ed25519", "-N", "", "-f", "ca", "-C", "ssh-ca"],
        dir,
    ) {
        needed(false, "ssh-keygen (openssh-client)");
        return;
    }
    for k in ["laptop", "ci", "lost", "someone-else"] {
        assert!(keygen(
            &["-q", "-t", "ed25519", "-N", "", "-f", k, "-C", k],
            dir
        ));
    }
    // The CA issued Bo a certificate for a key the inventory does not know.
    assert!(keygen(
        &["-q", "-t", "ed25519", "-N", "", "-f", "cert-key", "-C", "bo-cert"],
        dir
    ));
    assert!(keygen(
        &[
            "-q",
            "-s",
            "ca",
            "-I",
            "bo@shop.example",
            "-n",
            "bo",
            "-V",
            "+1d",
            "cert-key.pub"
        ],
        dir
    ));
    let keys = dir.join("keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::copy(dir.join("ci.pub"), keys.join("bo-ci.pub")).unwrap();
    let laptop = std::fs::read_to_string(dir.join("laptop.pub")).unwrap();
    let krl = dir.join("revoked_keys");
    let cred = |id: &str| people::credential(id, CredentialKind::SshKey, "bastion");
    let mut identity = people::identity("E2");
    identity.usernames = vec!["bo".into()];
    identity.emails = vec!["bo@shop.example".into()];
    let who = Leaver {
        identity,
        // The laptop key by its public key line, the CI key by its file, one we lack.
        credentials: vec![cred(laptop.trim()), cred("bo-ci"), cred("bo-lost")],
        readable: vec![],
    };
    let connector = || -> Vec<Box<dyn Connector>> {
        vec![Box::new(Ssh::new(SshConfig {
            krl: krl.clone(),
            ca_public_key: Some(dir.join("ca.pub")),
            keys_dir: Some(keys.clone()),
            ssh_keygen: "ssh-keygen".into(),
        }))]
    };
    let jp = dir.join("journal.jsonl");
    let opts = Options {
        apply: true,
        verify_for: std::time::Duration::from_millis(200),
        ..Options::default()
    };
    let mut j = Journal::open(&jp, "test").unwrap();
    let r = offboard(&who, &mut connector(), &mut j, &opts).unwrap();
    let dead = r
        .lines
        .iter()
        .filter(|l| matches!(l.outcome, Outcome::Done { .. }))
        .count();
    // Two keys, and certificates under both key ids (bo, bo@shop.example).
    assert_eq!(dead, 4, "{r:#?}");
    let lost = r
        .lines
        .iter()
        .find(|l| l.action.target == "bo-lost")
        .unwrap();
    assert!(
        matches!(&lost.outcome, Outcome::Open(why) if why.contains("no public key")),
        "{r:#?}"
    );
    // What sshd would decide: Bo's keys and certificate refused, someone else's key fine.
    assert!(checked(dir, &krl, "laptop.pub").contains("REVOKED"));
    assert!(checked(dir, &krl, "ci.pub").contains("REVOKED"));
    assert!(checked(dir, &krl, "cert-key-cert.pub").contains("REVOKED"));
    assert!(checked(dir, &krl, "someone-else.pub").contains(": ok"));
    // A second run changes nothing: no new applied line.
    let before = applied(&j);
    let mut j = Journal::open(&jp, "test").unwrap();
    offboard(&who, &mut connector(), &mut j, &opts).unwrap();
    assert_eq!(applied(&j), before);
}
