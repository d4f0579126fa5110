//! Network enrichment: source address → ASN, country and network name, from a table of prefixes
//! (`prefix,asn,country,name` CSV, as the simulator's `networks.csv` or an export of any IP-to-ASN
//! database). Longest prefix wins. Addresses that are not addresses (anonymized logs, AWS service
//! names) are left alone.

use credwarden_model::Event;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// What is known of one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetInfo {
    /// Autonomous system number.
    pub asn: u32,
    /// ISO 3166 country code.
    pub country: String,
    /// Name (operator or purpose).
    pub name: String,
}

/// A prefix table.
#[derive(Debug, Default)]
pub struct Networks {
    /// (prefix length, v6?) → masked address → info; lengths tried longest first.
    by_len: Vec<(u8, bool, HashMap<u128, Arc<NetInfo>>)>,
    count: usize,
}

fn bits(ip: IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(a) => (u32::from(a) as u128, false),
        IpAddr::V6(a) => (u128::from(a), true),
    }
}

fn mask(addr: u128, len: u8, v6: bool) -> u128 {
    let width = if v6 { 128 } else { 32 };
    if len == 0 {
        0
    } else {
        addr & (u128::MAX << (width - len as u32)) & if v6 { u128::MAX } else { 0xffff_ffff }
    }
}

impl Networks {
    /// Read a `prefix,asn,country,name` CSV (header row required; extra columns ignored). Errors
    /// name the file, line and field.
    pub fn from_csv(path: &std::path::Path) -> Result<Networks, String> {
        let label = path.display().to_string();
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .map_err(|e| format!("{label}: {e}"))?;
        let headers = r.headers().map_err(|e| format!("{label}: {e}"))?.clone();
        let col = |n: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(n))
        };
        let (Some(p), Some(a)) = (col("prefix"), col("asn")) else {
            return Err(format!(
                "{label}: needs columns prefix and asn (and country, name); found {}",
                headers.iter().collect::<Vec<_>>().join(",")
            ));
        };
        let (c, n) = (col("country"), col("name"));
        let mut net = Networks::default();
        for (i, rec) in r.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| format!("{label}:{line}: {e}"))?;
            let get = |k: Option<usize>| k.and_then(|k| rec.get(k)).unwrap_or("").trim();
            let prefix = get(Some(p));
            let (addr, len) = prefix.split_once('/').unwrap_or((prefix, ""));
            let ip: IpAddr = addr.parse().map_err(|_| {
                format!("{label}:{line}: field `prefix`: not an address: {prefix:?}")
            })?;
            let (a_bits, v6) = bits(ip);
            let width = if v6 { 128 } else { 32 };
            let len: u8 = if len.is_empty() {
                width
            } else {
                len.parse().ok().filter(|l| *l <= width).ok_or_else(|| {
                    format!("{label}:{line}: field `prefix`: bad length in {prefix:?}")
                })?
            };
            let asn = get(Some(a)).trim_start_matches("AS").parse().map_err(|_| {
                format!(
                    "{label}:{line}: field `asn`: not a number: {:?}",
                    get(Some(a))
                )
            })?;
            net.insert(
                a_bits,
                len,
                v6,
                NetInfo {
                    asn,
                    country: get(c).to_string(),
                    name: get(n).to_string(),
                },
            );
        }
        Ok(net)
    }

    fn insert(&mut self, addr: u128, len: u8, v6: bool, info: NetInfo) {
        let slot = match self
            .by_len
            .iter()
            .position(|(l, v, _)| *l == len && *v == v6)
        {
            Some(i) => i,
            None => {
                self.by_len.push((len, v6, HashMap::new()));
                self.by_len.sort_by_key(|e| std::cmp::Reverse(e.0));
                self.by_len
                    .iter()
                    .position(|(l, v, _)| *l == len && *v == v6)
                    .expect("just pushed")
            }
        };
        self.by_len[slot]
            .2
            .insert(mask(addr, len, v6), Arc::new(info));
        self.count += 1;
    }

    /// Prefixes loaded.
    pub fn len(&self) -> usize {
        self.count
    }

    /// No prefixes?
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The network of `ip` (longest prefix), if known.
    pub fn lookup(&self, ip: &str) -> Option<&NetInfo> {
        let (a, v6) = bits(ip.trim().parse().ok()?);
        self.by_len
            .iter()
            .filter(|(_, v, _)| *v == v6)
            .find_map(|(len, _, m)| m.get(&mask(a, *len, v6)))
            .map(|i| i.as_ref())
    }

    /// Fill the event's ASN and country when the log did not.
    pub fn enrich(&self, e: &mut Event) {
        if e.src.asn.is_some() {
            return;
        }
        if let Some(n) = e.src.ip.as_deref().and_then(|ip| self.lookup(ip)) {
            e.src.asn = Some(n.asn);
            if e.src.country.is_none() && !n.country.is_empty() {
                e.src.country = Some(n.country.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_bad_rows_are_located() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("n.csv");
        std::fs::write(&p, "prefix,asn,country,name\n45.133.0.0/16,666,NL,hosting\n45.133.7.0/24,AS667,SG,vps\n2001:db8::/32,64500,DE,v6\n").unwrap();
        let n = Networks::from_csv(&p).unwrap();
        assert_eq!(n.len(), 3);
        assert_eq!(n.lookup("45.133.7.9").unwrap().asn, 667);
        assert_eq!(n.lookup("45.133.8.9").unwrap().country, "NL");
        assert_eq!(n.lookup("2001:db8::1").unwrap().asn, 64500);
        assert!(n.lookup("10.0.0.1").is_none() && n.lookup("s3.amazonaws.com").is_none());
        std::fs::write(&p, "prefix,asn\n1.2.3.0/24,x\n").unwrap();
        let e = Networks::from_csv(&p).unwrap_err();
        assert!(
            e.ends_with("n.csv:2: field `asn`: not a number: \"x\""),
            "{e}"
        );
        std::fs::write(&p, "net,asn\n").unwrap();
        assert!(Networks::from_csv(&p)
            .unwrap_err()
            .contains("needs columns prefix and asn"));
    }
}
