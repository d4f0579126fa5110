//! What the behavioural detectors share: which events are workforce activity and under which key a
//! credential's behaviour is learnt, the learning rules, what counts as personal data, and a compact
//! robust series of daily totals.
//!
//! Learning, the same for every baseline detector: a subject (credential, or role for temporary
//! session keys) learns for [`LEARNING_DAYS`] from its first event and judges nothing meanwhile. A
//! subject that falls silent keeps its profile: a dormant key never re-enters learning when it wakes
//! up, so what it does then is judged against what it did before.

use credwarden_model::Event;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Days a new subject learns before it is judged.
pub const LEARNING_DAYS: i64 = 7;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// UTC day number of a time.
pub fn day(t: Timestamp) -> i64 {
    t.as_second().div_euclid(DAY)
}

/// The key a workforce event's behaviour is learnt under: an access key or API credential; for
/// temporary session keys (`ASIA…`) the role that issued them (sessions change hourly, the role does
/// not); else the principal. `None` for customer traffic (gateway, token issuance), network flows,
/// AWS services acting on their own, and events with no actor.
pub fn subject_key(ev: &Event) -> Option<&str> {
    if let Some("gateway" | "token_issuance" | "network") = ev.resource.kind.as_deref() {
        return None;
    }
    if ev.detail.get("userIdentityType").and_then(|v| v.as_str()) == Some("AWSService") {
        return None;
    }
    match ev.credential_id.as_deref() {
        Some(k) if k.starts_with("ASIA") => ev
            .detail
            .get("sessionIssuer")
            .and_then(|v| v.as_str())
            .or(ev.principal.as_deref()),
        Some(k) => Some(k),
        None => ev.principal.as_deref(),
    }
}

/// Words that mark personal data in a table, bucket, object or endpoint name.
pub const PERSONAL: &[&str] = &[
    "pii", "customer", "member", "address", "profile", "personal", "phone", "payment", "order",
];

/// Does this name look like it holds personal data?
pub fn personal(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    PERSONAL.iter().any(|w| n.contains(w))
}

/// The data class of an event: the table (DB access), the bucket (S3), else `None`.
pub fn data_class(ev: &Event) -> Option<&str> {
    match ev.resource.kind.as_deref() {
        Some("db_access") => ev.resource.id.as_deref(),
        Some("s3.amazonaws.com") => ev
            .resource
            .id
            .as_deref()
            .map(|r| r.split('/').next().unwrap_or(r)),
        _ => None,
    }
}

/// 64-bit hash of a name (profiles keep hashes, not names, to stay small).
pub fn hash(s: &str) -> u64 {
    // FNV-1a: stable across runs and versions (the state is saved), unlike the std hasher.
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Daily totals of one measure for one subject: the current day's running total and up to `cap`
/// earlier active days, for a robust baseline (median and median absolute deviation).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DailySeries {
    /// Current day and its running total.
    pub today: (i64, u64),
    /// Earlier active days' totals, oldest first.
    pub history: VecDeque<u64>,
    /// Today was found anomalous: it will not join the history (an attack must not become the
    /// baseline it is judged against).
    #[serde(default)]
    pub anomalous: bool,
}

impl DailySeries {
    /// Days kept.
    pub const CAP: usize = 28;

    /// Add `v` at day `d`; returns the running total of day `d`.
    pub fn add(&mut self, d: i64, v: u64) -> u64 {
        if d != self.today.0 {
            if self.today.1 > 0 && !std::mem::take(&mut self.anomalous) {
                if self.history.len() == Self::CAP {
                    self.history.pop_front();
                }
                self.history.push_back(self.today.1);
            }
            self.today = (d, 0);
        }
        self.today.1 = self.today.1.saturating_add(v);
        self.today.1
    }

    /// Set day `d`'s total to `v` (for measures that are not sums, such as distinct counts).
    pub fn set(&mut self, d: i64, v: u64) -> u64 {
        self.add(d, 0);
        self.today.1 = v;
        v
    }

    /// Keep today out of the history.
    pub fn mark_anomalous(&mut self) {
        self.anomalous = true;
    }

    /// Median and MAD of the history (`None` with fewer than `min` days).
    pub fn baseline(&self, min: usize) -> Option<(f64, f64)> {
        if self.history.len() < min {
            return None;
        }
        let mut v: Vec<f64> = self.history.iter().map(|&x| x as f64).collect();
        let med = median(&mut v);
        let mut dev: Vec<f64> = v.iter().map(|x| (x - med).abs()).collect();
        Some((med, median(&mut dev)))
    }

    /// The largest earlier day.
    pub fn max(&self) -> u64 {
        self.history.iter().copied().max().unwrap_or(0)
    }
}

/// Distinct count in 1 KiB: HyperLogLog with 1,024 registers (standard error about 3 %), exact
/// enough to tell 50 members from 5,000 while a client or a network costs the same memory whatever
/// its traffic.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Distinct {
    #[serde(with = "serde_bytes_hex")]
    reg: Vec<u8>,
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct { reg: vec![0; 1024] }
    }
}

impl Distinct {
    /// Count `h` (a [`hash`]).
    pub fn insert(&mut self, h: u64) {
        // FNV is not mixed enough for the registers: finish with splitmix64's mixer.
        let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let idx = (z >> 54) as usize;
        let rank = ((z << 10) | (1 << 9)).leading_zeros() as u8 + 1;
        if self.reg[idx] < rank {
            self.reg[idx] = rank;
        }
    }

    /// Estimated distinct count.
    pub fn estimate(&self) -> u64 {
        let m = self.reg.len() as f64;
        let sum: f64 = self.reg.iter().map(|&r| 2f64.powi(-(r as i32))).sum();
        let e = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
        let zeros = self.reg.iter().filter(|&&r| r == 0).count();
        if e <= 2.5 * m && zeros > 0 {
            (m * (m / zeros as f64).ln()).round() as u64
        } else {
            e.round() as u64
        }
    }

    /// Start counting afresh.
    pub fn clear(&mut self) {
        self.reg.iter_mut().for_each(|r| *r = 0);
    }
}

/// Registers as a hex string in the saved state (compact and readable).
mod serde_bytes_hex {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let t = String::deserialize(d)?;
        (0..t.len() / 2)
            .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).map_err(serde::de::Error::custom))
            .collect()
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_rolls_days_and_gives_a_robust_baseline() {
        let mut s = DailySeries::default();
        for d in 0..10 {
            s.add(d, 100 + d as u64);
            s.add(d, 1);
        }
        assert_eq!(s.add(10, 5000), 5000);
        let (med, mad) = s.baseline(5).unwrap();
        assert_eq!((med, mad), (105.5, 2.5));
        assert_eq!(s.max(), 110);
        assert!(DailySeries::default().baseline(1).is_none());
        assert!(
            personal("customer_addresses")
                && personal("shop-customer-pii")
                && !personal("shop-analytics")
        );
        assert_eq!(hash("a"), 0xaf63dc4c8601ec8c);
    }

    #[test]
    fn distinct_counts_within_a_few_percent() {
        for n in [10u64, 50, 1_000, 100_000] {
            let mut d = Distinct::default();
            for i in 0..n {
                d.insert(hash(&i.to_string()));
                d.insert(hash(&i.to_string()));
            }
            let e = d.estimate() as f64;
            assert!(
                (e - n as f64).abs() <= (n as f64 * 0.08).max(2.0),
                "{n}: {e}"
            );
        }
        let mut d = Distinct::default();
        d.insert(1);
        let back: Distinct = serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(back.estimate(), 1);
    }
}
