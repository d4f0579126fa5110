//! Which Stratus Red Team techniques the built-in detectors flag, on the real detonation logs in the
//! shared corpora (`CREDWARDEN_CORPORA` or `../shared/corpora`; absent → fail under CI=true, skip
//! elsewhere). The expectations are a floor: a technique listed must be flagged by the rule named;
//! the printed table shows the rest.

use std::collections::BTreeMap;
use std::path::PathBuf;

#[path = "../../ingest/tests/support/corpora.rs"]
mod corpora;

#[test]
fn stratus_techniques_flagged() {
    let Some(dir) = corpora::dir() else { return };
    let mut flagged: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("stratus-detonations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for f in &files {
        let detectors = credwarden_detect::all();
        let (findings, stats) = credwarden_detect::run(std::slice::from_ref(f), detectors).unwrap();
        assert!(stats.rejects.is_empty(), "{:?}", stats.rejects);
        let technique = f.file_stem().unwrap().to_string_lossy().to_string();
        let mut rules: Vec<String> = findings.iter().map(|x| x.rule.id.to_string()).collect();
        rules.sort();
        rules.dedup();
        flagged.insert(technique, rules);
    }
    let expected = [
        ("aws.defense-evasion.cloudtrail-stop", "CW-D001"),
        ("aws.defense-evasion.cloudtrail-delete", "CW-D001"),
        ("aws.defense-evasion.cloudtrail-event-selectors", "CW-D001"),
        ("aws.defense-evasion.vpc-remove-flow-logs", "CW-D001"),
        ("aws.defense-evasion.dns-delete-logs", "CW-D001"),
        ("aws.exfiltration.ec2-share-ebs-snapshot", "CW-D002"),
        ("aws.exfiltration.ec2-share-ami", "CW-D002"),
        ("aws.exfiltration.rds-share-snapshot", "CW-D002"),
        ("aws.persistence.iam-backdoor-user", "CW-D003"),
        ("aws.persistence.iam-create-admin-user", "CW-D004"),
        ("aws.persistence.iam-create-user-login-profile", "CW-D004"),
        (
            "aws.privilege-escalation.iam-update-user-login-profile",
            "CW-D004",
        ),
        ("aws.credential-access.ec2-get-password-data", "CW-R016"),
        (
            "aws.credential-access.ec2-steal-instance-credentials",
            "CW-D012",
        ),
        (
            "aws.credential-access.secretsmanager-batch-retrieve-secrets",
            "CW-R001",
        ),
        (
            "aws.credential-access.secretsmanager-retrieve-secrets",
            "CW-R002",
        ),
        (
            "aws.credential-access.ssm-retrieve-securestring-parameters",
            "CW-R003",
        ),
        ("aws.defense-evasion.organizations-leave", "CW-R004"),
        ("aws.discovery.ec2-download-user-data", "CW-R017"),
        ("aws.execution.ec2-launch-unusual-instances", "CW-R005"),
        ("aws.execution.ec2-user-data", "CW-R006"),
        ("aws.execution.ssm-send-command", "CW-R014"),
        ("aws.execution.ssm-start-session", "CW-R014"),
        (
            "aws.exfiltration.ec2-security-group-open-port-22-ingress",
            "CW-R007",
        ),
        ("aws.impact.bedrock-invoke-model", "CW-R015"),
        ("aws.initial-access.console-login-without-mfa", "CW-D010"),
        ("aws.lateral-movement.ec2-instance-connect", "CW-R013"),
        (
            "aws.lateral-movement.ec2-serial-console-send-ssh-public-key",
            "CW-R013",
        ),
        ("aws.persistence.iam-backdoor-role", "CW-R010"),
        ("aws.persistence.iam-create-backdoor-role", "CW-D004"),
        ("aws.persistence.lambda-backdoor-function", "CW-R008"),
        ("aws.persistence.lambda-layer-extension", "CW-R009"),
        ("aws.persistence.lambda-overwrite-code", "CW-R018"),
        (
            "aws.persistence.rolesanywhere-create-trust-anchor",
            "CW-R011",
        ),
        ("aws.persistence.sts-federation-token", "CW-R012"),
    ];
    let mut table = String::new();
    for (t, rules) in &flagged {
        table.push_str(&format!(
            "{t:<58} {}\n",
            if rules.is_empty() {
                "-".to_string()
            } else {
                rules.join(" ")
            }
        ));
    }
    eprintln!("Stratus technique → rules that fired\n{table}");
    for (t, rule) in expected {
        assert!(
            flagged.get(t).is_some_and(|r| r.iter().any(|x| x == rule)),
            "{t} should be flagged by {rule}\n{table}"
        );
    }
    assert!(flagged.len() >= 30);
}
