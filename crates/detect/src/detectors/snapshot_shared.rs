//! CW-D002: a database snapshot, EBS snapshot or AMI shared with another account (or made public).

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};
use serde_json::Value;

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D002",
    name: "snapshot-shared-outside",
    version: 1,
    title: "Snapshot or image shared with another account",
    description: "ModifyDBSnapshotAttribute / ModifyDBClusterSnapshotAttribute (restore), ModifySnapshotAttribute (createVolumePermission) or ModifyImageAttribute (launchPermission) adding an account other than the owner's, or `all`: a whole database or disk can be copied out.",
    severity: Severity::High,
    attack: &[TRANSFER_TO_CLOUD_ACCOUNT],
    d3fend: &[RESOURCE_ACCESS_PATTERN],
    false_positives: &["sharing with the organisation's own backup or DR account (list it as known)"],
    recommendation: "Remove the share, identify what the snapshot holds, and check whether the other account copied it.",
};

fn added_accounts(ev: &Event) -> Vec<String> {
    let p = ev.detail.pointer("/requestParameters");
    let mut out = Vec::new();
    let mut push = |v: Option<&Value>| match v {
        Some(Value::Array(a)) => out.extend(a.iter().filter_map(|x| {
            x.as_str().map(str::to_string).or_else(|| {
                x.get("userId")
                    .or_else(|| x.get("group"))
                    .and_then(|u| u.as_str())
                    .map(str::to_string)
            })
        })),
        Some(Value::String(s)) => out.push(s.clone()),
        _ => {}
    };
    if let Some(p) = p {
        push(p.get("valuesToAdd"));
        push(p.pointer("/createVolumePermission/add/items"));
        push(p.pointer("/launchPermission/add/items"));
    }
    // Only an account id (12 digits) or `all` (public) shares anything; `none`, names and the like
    // are not grants.
    out.retain(|a| a == "all" || (a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())));
    out
}

/// The detector.
pub struct SnapshotShared;

impl Detector for SnapshotShared {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.outcome != EventOutcome::Success
            || !matches!(
                ev.action.as_str(),
                "ModifyDBSnapshotAttribute"
                    | "ModifyDBClusterSnapshotAttribute"
                    | "ModifySnapshotAttribute"
                    | "ModifyImageAttribute"
            )
        {
            return;
        }
        let own = ev
            .detail
            .get("recipientAccountId")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let outside: Vec<String> = added_accounts(ev)
            .into_iter()
            .filter(|a| a != own)
            .collect();
        if outside.is_empty() {
            return;
        }
        let what = ev
            .detail
            .pointer("/requestParameters/dBSnapshotIdentifier")
            .or_else(|| ev.detail.pointer("/requestParameters/snapshotId"))
            .or_else(|| ev.detail.pointer("/requestParameters/imageId"))
            .and_then(|v| v.as_str())
            .unwrap_or("?");
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "{} shared {what} with {}",
                ev.principal.as_deref().unwrap_or("?"),
                outside.join(", ")
            ),
        )
        .fact("accounts", outside);
        f.discriminator = ev.event_id.clone();
        out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn fires_for_outside_or_public_shares() {
        let rds = ct(
            "ModifyDBSnapshotAttribute",
            "rds.amazonaws.com",
            json!({"dBSnapshotIdentifier": "db1", "attributeName": "restore", "valuesToAdd": ["999988887777"]}),
        );
        let mut ebs = ct(
            "ModifySnapshotAttribute",
            "ec2.amazonaws.com",
            json!({"snapshotId": "snap-1", "createVolumePermission": {"add": {"items": [{"group": "all"}]}}}),
        );
        ebs.event_id = Some("ev-2".into());
        let f = run(&mut SnapshotShared, &[rds, ebs]);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].facts["accounts"], json!(["999988887777"]));
    }

    #[test]
    fn quiet_for_own_account_or_removals() {
        let own = ct(
            "ModifyDBSnapshotAttribute",
            "rds.amazonaws.com",
            json!({"valuesToAdd": ["111122223333"]}),
        );
        let remove = ct(
            "ModifyDBSnapshotAttribute",
            "rds.amazonaws.com",
            json!({"valuesToRemove": ["999988887777"]}),
        );
        assert!(run(&mut SnapshotShared, &[own, remove]).is_empty());
        // `none`, `not-all` and names are not grants.
        let odd = ct(
            "ModifyImageAttribute",
            "ec2.amazonaws.com",
            json!({"launchPermission": {"add": {"items": [{"group": "none"}, {"group": "not-all"}, {"userId": "bob"}]}}}),
        );
        assert!(run(&mut SnapshotShared, &[odd]).is_empty());
    }
}
