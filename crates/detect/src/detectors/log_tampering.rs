//! CW-D001: CloudTrail or VPC flow logging stopped, deleted or narrowed.

use crate::{finding_for, Detector};
use credwarden_model::refs::*;
use credwarden_model::{Event, EventOutcome, Finding, RuleMeta, Severity};

/// Metadata.
pub static META: RuleMeta = RuleMeta {
    id: "CW-D001",
    name: "log-tampering",
    version: 1,
    title: "Cloud logging stopped, deleted or narrowed",
    description: "StopLogging, DeleteTrail, PutEventSelectors, UpdateTrail, DeleteFlowLogs or a DNS query-log deletion: the evidence an investigation needs is being switched off.",
    severity: Severity::High,
    attack: &[DISABLE_CLOUD_LOGS],
    d3fend: &[PLATFORM_MONITORING],
    false_positives: &["planned trail migration by the platform team (expect a change ticket)"],
    recommendation: "Re-enable logging now, then treat the actor's credential as compromised until the change is explained.",
};

const CALLS: [&str; 7] = [
    "StopLogging",
    "DeleteTrail",
    "PutEventSelectors",
    "UpdateTrail",
    "DeleteFlowLogs",
    "DeleteQueryLoggingConfig",
    "DeleteResolverQueryLogConfig",
];

/// The detector.
pub struct LogTampering;

impl Detector for LogTampering {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn on_event(&mut self, ev: &Event, out: &mut Vec<Finding>) {
        if ev.outcome != EventOutcome::Success || !CALLS.contains(&ev.action.as_str()) {
            return;
        }
        if ev.action == "PutEventSelectors" && !narrows(ev) {
            return;
        }
        let target = ev
            .detail
            .pointer("/requestParameters/name")
            .or_else(|| ev.detail.pointer("/requestParameters/trailName"))
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let who = ev.principal.as_deref().unwrap_or("unknown principal");
        let mut f = finding_for(
            &META,
            ev,
            format!(
                "{} {target} by {who} from {}",
                ev.action,
                ev.src.ip.as_deref().unwrap_or("?")
            ),
        );
        f.discriminator = ev.event_id.clone();
        out.push(f);
    }
}

/// Does a PutEventSelectors call log less than a full trail? Management events off or partly
/// excluded, or only reads or only writes; advanced selectors cannot be judged here and count.
fn narrows(ev: &Event) -> bool {
    let p = ev.detail.pointer("/requestParameters");
    if p.and_then(|p| p.get("advancedEventSelectors"))
        .is_some_and(|a| !a.is_null())
    {
        return true;
    }
    let Some(sel) = p
        .and_then(|p| p.get("eventSelectors"))
        .and_then(|s| s.as_array())
    else {
        return true;
    };
    sel.is_empty()
        || sel.iter().any(|s| {
            s.get("includeManagementEvents").and_then(|v| v.as_bool()) == Some(false)
                || s.get("excludeManagementEventSources")
                    .and_then(|v| v.as_array())
                    .is_some_and(|a| !a.is_empty())
                || s.get("readWriteType")
                    .and_then(|v| v.as_str())
                    .is_some_and(|r| r != "All")
        })
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn fires_on_stop_logging_and_flow_log_deletion() {
        let evs = [
            ct(
                "StopLogging",
                "cloudtrail.amazonaws.com",
                json!({"name": "org-trail"}),
            ),
            ct("DeleteFlowLogs", "ec2.amazonaws.com", json!({})),
        ];
        let mut evs = evs.to_vec();
        evs[1].event_id = Some("ev-2".into());
        assert_eq!(run(&mut LogTampering, &evs).len(), 2);
    }

    #[test]
    fn quiet_for_reads_and_refused_calls() {
        let mut denied = ct("StopLogging", "cloudtrail.amazonaws.com", json!({}));
        denied.outcome = EventOutcome::Denied;
        let evs = [
            ct("DescribeTrails", "cloudtrail.amazonaws.com", json!({})),
            ct("StartLogging", "cloudtrail.amazonaws.com", json!({})),
            denied,
            // Event selectors that log everything: not narrowing.
            ct(
                "PutEventSelectors",
                "cloudtrail.amazonaws.com",
                json!({"eventSelectors": [{"includeManagementEvents": true, "readWriteType": "All", "excludeManagementEventSources": []}]}),
            ),
        ];
        assert!(run(&mut LogTampering, &evs).is_empty());
        let narrowed = ct(
            "PutEventSelectors",
            "cloudtrail.amazonaws.com",
            json!({"eventSelectors": [{"includeManagementEvents": false, "readWriteType": "ReadOnly"}]}),
        );
        assert_eq!(run(&mut LogTampering, &[narrowed]).len(), 1);
    }
}
