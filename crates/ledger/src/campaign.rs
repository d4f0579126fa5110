//! Forged tokens counted per campaign — the signing key and client they claim, as CW-D007 groups
//! them in logs — so a gateway refusing a million forged requests raises a handful of findings
//! (at the first refusal and again at 100, 10,000 and 1,000,000), not a million.

use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// Campaign sizes at which a finding is raised again (as CW-D007 does in logs).
pub const MILESTONES: [u64; 4] = [1, 100, 10_000, 1_000_000];

/// Most distinct members and addresses remembered per campaign (counts go on past it).
const MAX_KEPT: usize = 10_000;

/// One campaign: forged tokens under one (signing key, client).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Campaign {
    /// Signing key the tokens claim.
    pub kid: Option<String>,
    /// Client the tokens claim.
    pub client: Option<String>,
    /// Refused requests.
    pub refused: u64,
    /// Distinct members (subjects) named by the tokens, up to 10,000 kept.
    pub members: u64,
    /// Distinct source addresses the gateway reported, up to 10,000 kept.
    pub addresses: u64,
    /// First and last refusal (seconds).
    pub first: i64,
    /// Last refusal (seconds).
    pub last: i64,
    /// Why the tokens were refused, by reason code.
    pub reasons: std::collections::BTreeMap<String, u64>,
    #[serde(skip)]
    subs: BTreeSet<String>,
    #[serde(skip)]
    ips: BTreeSet<String>,
}

/// A campaign grew to a milestone: time for a finding.
#[derive(Debug, Clone)]
pub struct Milestone {
    /// The campaign as it is now.
    pub campaign: Campaign,
    /// The milestone reached.
    pub size: u64,
}

/// Every campaign seen.
#[derive(Debug, Default)]
pub struct Campaigns {
    by_key: HashMap<(Option<String>, Option<String>), Campaign>,
}

impl Campaigns {
    /// Count one refused forged token; returns a [`Milestone`] when the campaign reaches one.
    pub fn record(
        &mut self,
        claims: &crate::Claims,
        reason: &crate::Reason,
        ip: Option<&str>,
        now: i64,
    ) -> Option<Milestone> {
        let key = (claims.kid.clone(), claims.client.clone());
        let c = self.by_key.entry(key).or_insert_with(|| Campaign {
            kid: claims.kid.clone(),
            client: claims.client.clone(),
            first: now,
            ..Campaign::default()
        });
        c.refused += 1;
        c.last = now;
        *c.reasons.entry(reason.code().to_string()).or_default() += 1;
        if let Some(s) = &claims.sub {
            if c.subs.len() < MAX_KEPT && c.subs.insert(s.clone()) {
                c.members += 1;
            }
        }
        if let Some(ip) = ip {
            if c.ips.len() < MAX_KEPT && c.ips.insert(ip.to_string()) {
                c.addresses += 1;
            }
        }
        MILESTONES.contains(&c.refused).then(|| Milestone {
            campaign: c.clone(),
            size: c.refused,
        })
    }

    /// Every campaign, largest first.
    pub fn all(&self) -> Vec<Campaign> {
        let mut v: Vec<Campaign> = self.by_key.values().cloned().collect();
        v.sort_by(|a, b| b.refused.cmp(&a.refused).then(a.kid.cmp(&b.kid)));
        v
    }

    /// Refused forged tokens in all campaigns.
    pub fn refused(&self) -> u64 {
        self.by_key.values().map(|c| c.refused).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Claims, Reason};

    #[test]
    fn findings_at_milestones_only_per_campaign() {
        let mut cs = Campaigns::default();
        let forged = |kid: &str, sub: &str| Claims {
            jti: Some("x".into()),
            kid: Some(kid.into()),
            sub: Some(sub.into()),
            ..Claims::default()
        };
        let mut raised = Vec::new();
        for i in 0..250 {
            let c = forged("k1", &format!("m{}", i % 40));
            if let Some(m) = cs.record(&c, &Reason::NeverIssued, Some("198.51.100.7"), i) {
                raised.push(m.size);
            }
        }
        assert_eq!(raised, vec![1, 100]);
        // Another key is another campaign.
        assert!(cs
            .record(&forged("k2", "m1"), &Reason::NeverIssued, None, 300)
            .is_some());
        let all = cs.all();
        assert_eq!(all[0].kid.as_deref(), Some("k1"));
        assert_eq!(
            (all[0].refused, all[0].members, all[0].addresses),
            (250, 40, 1)
        );
        assert_eq!(cs.refused(), 251);
    }
}
