//! Network enrichment: source address → ASN, country and network name, from a table of prefixes
//! (`prefix,asn,country,name` CSV, as the simulator's `networks.csv` or an export of any IP-to-ASN
//! database; longest prefix wins) and from the public ip-location-db range tables as they come —
//! `start,end,asn,name` (ASN) and `start,end,country` (country), IPv4 or IPv6, several at once (the
//! ASN of one table and the country of another are joined per address). Addresses that are not
//! addresses (anonymized logs, AWS service names) are left alone.

use credwarden_model::Event;
use std::borrow::Cow;
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
    /// Address ranges → (ASN, name), sorted by (v6, start), not overlapping.
    asn_ranges: Vec<(bool, u128, u128, u32, Arc<str>)>,
    /// Address ranges → country, sorted by (v6, start), not overlapping.
    country_ranges: Vec<(bool, u128, u128, Arc<str>)>,
    /// MaxMind DB files (GeoLite2 ASN / Country, ip-location-db's MMDB packages), asked in order.
    mmdbs: Vec<maxminddb::Reader<Vec<u8>>>,
}

/// What an MMDB record may say, in the layouts the common databases use.
#[derive(serde::Deserialize, Default)]
struct MmdbRecord {
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<String>,
    /// ip-location-db's MMDB packages.
    country_code: Option<String>,
    /// GeoLite2 / GeoIP2.
    country: Option<MmdbCountry>,
}

#[derive(serde::Deserialize, Default)]
struct MmdbCountry {
    iso_code: Option<String>,
}

/// The entry of a sorted, non-overlapping range list holding `(v6, a)`.
fn in_ranges<T>(
    list: &[T],
    key: impl Fn(&T) -> (bool, u128, u128),
    v6: bool,
    a: u128,
) -> Option<&T> {
    let i = list.partition_point(|e| {
        let (v, start, _) = key(e);
        (v, start) <= (v6, a)
    });
    let e = list.get(i.checked_sub(1)?)?;
    let (v, start, end) = key(e);
    (v == v6 && start <= a && a <= end).then_some(e)
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
    /// Read every file into one table: each is a prefix table (header `prefix,asn,…`) or an
    /// ip-location-db range table (no header: `start,end,asn,name` or `start,end,country`),
    /// told apart by its first line.
    pub fn from_files(paths: &[std::path::PathBuf]) -> Result<Networks, String> {
        let mut net = Networks::default();
        for p in paths {
            let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            // MaxMind DB: binary, with its metadata marker near the end.
            if bytes
                .windows(14)
                .rev()
                .take(128 * 1024)
                .any(|w| w == b"\xab\xcd\xefMaxMind.com")
            {
                let r = maxminddb::Reader::from_source(bytes)
                    .map_err(|e| format!("{}: not a MaxMind DB file: {e}", p.display()))?;
                net.count += r.metadata().node_count as usize;
                net.mmdbs.push(r);
                continue;
            }
            let first = String::from_utf8_lossy(&bytes)
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            let cells: Vec<&str> = first.split(',').map(str::trim).collect();
            let is_ip = |s: &str| s.parse::<IpAddr>().is_ok();
            if cells.len() >= 3 && is_ip(cells[0]) && is_ip(cells[1]) {
                net.add_ranges(p)?;
            } else {
                net.add_prefixes(p)?;
            }
        }
        net.asn_ranges.sort_by_key(|e| (e.0, e.1));
        net.country_ranges.sort_by_key(|e| (e.0, e.1));
        Ok(net)
    }

    /// Add an ip-location-db range table: `start,end,asn[,name]` or `start,end,country`.
    fn add_ranges(&mut self, path: &std::path::Path) -> Result<(), String> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{label}: {e}"))?;
        let mut names: HashMap<String, Arc<str>> = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            // A name may hold commas: split the first three fields only.
            let mut f = line.splitn(4, ',').map(str::trim);
            let (Some(a), Some(b), Some(third)) = (f.next(), f.next(), f.next()) else {
                return Err(format!(
                    "{label}:{line_no}: expected start,end,asn[,name] or start,end,country"
                ));
            };
            let parse = |s: &str, what: &str| -> Result<(u128, bool), String> {
                s.parse::<IpAddr>().map(bits).map_err(|_| {
                    format!("{label}:{line_no}: field `{what}`: not an address: {s:?}")
                })
            };
            let ((start, v6), (end, v6e)) = (parse(a, "start")?, parse(b, "end")?);
            if v6 != v6e || end < start {
                return Err(format!("{label}:{line_no}: {a}..{b} is not a range"));
            }
            match third.trim_start_matches("AS").parse::<u32>() {
                Ok(asn) => {
                    let name = f.next().unwrap_or("").trim_matches('"').to_string();
                    let name = names
                        .entry(name.clone())
                        .or_insert_with(|| Arc::from(name.as_str()))
                        .clone();
                    self.asn_ranges.push((v6, start, end, asn, name));
                }
                Err(_) if third.len() == 2 && third.chars().all(|c| c.is_ascii_alphabetic()) => {
                    let c = names
                        .entry(third.to_string())
                        .or_insert_with(|| Arc::from(third))
                        .clone();
                    self.country_ranges.push((v6, start, end, c));
                }
                Err(_) => {
                    return Err(format!(
                    "{label}:{line_no}: third field {third:?} is neither an ASN nor a country code"
                ))
                }
            }
            self.count += 1;
        }
        Ok(())
    }

    /// Read a `prefix,asn,country,name` CSV (header row required; extra columns ignored). Errors
    /// name the file, line and field.
    pub fn from_csv(path: &std::path::Path) -> Result<Networks, String> {
        let mut net = Networks::default();
        net.add_prefixes(path)?;
        Ok(net)
    }

    fn add_prefixes(&mut self, path: &std::path::Path) -> Result<(), String> {
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
        let net = self;
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
        Ok(())
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

    /// The longest prefix of the prefix tables holding `a`.
    fn prefix(&self, a: u128, v6: bool) -> Option<&NetInfo> {
        self.by_len
            .iter()
            .filter(|(_, v, _)| *v == v6)
            .find_map(|(len, _, m)| m.get(&mask(a, *len, v6)))
            .map(|i| i.as_ref())
    }

    /// The network of `ip`: the longest prefix of the prefix tables, else the ASN and country
    /// ranges and MaxMind DBs (joined), if an ASN is known.
    pub fn lookup(&self, ip: &str) -> Option<NetInfo> {
        let addr: IpAddr = ip.trim().parse().ok()?;
        let (a, v6) = bits(addr);
        if let Some(i) = self.prefix(a, v6) {
            return Some(i.clone());
        }
        let (asn, name, country) = self.joined(addr, v6, a);
        asn.map(|asn| NetInfo {
            asn,
            country: country.map(Cow::into_owned).unwrap_or_default(),
            name: name.map(Cow::into_owned).unwrap_or_default(),
        })
    }

    /// ASN, name and country from the range tables and the MaxMind DBs: the first source that
    /// knows each wins (borrowed from the tables; owned only when a database had to be decoded).
    fn joined(
        &self,
        addr: IpAddr,
        v6: bool,
        a: u128,
    ) -> (Option<u32>, Option<Cow<'_, str>>, Option<Cow<'_, str>>) {
        let (mut asn, mut name) = match in_ranges(&self.asn_ranges, |e| (e.0, e.1, e.2), v6, a) {
            Some((_, _, _, n, nm)) => (Some(*n), Some(Cow::Borrowed(&**nm))),
            None => (None, None),
        };
        let mut country = in_ranges(&self.country_ranges, |e| (e.0, e.1, e.2), v6, a)
            .map(|c| Cow::Borrowed(&*c.3));
        for r in &self.mmdbs {
            if asn.is_some() && country.is_some() {
                break;
            }
            let Ok(found) = r.lookup(addr) else { continue };
            let Ok(Some(rec)) = found.decode::<MmdbRecord>() else {
                continue;
            };
            if asn.is_none() {
                asn = rec.autonomous_system_number;
                name = name.or(rec.autonomous_system_organization.map(Cow::Owned));
            }
            if country.is_none() {
                country = rec
                    .country_code
                    .or_else(|| rec.country.and_then(|c| c.iso_code))
                    .map(Cow::Owned);
            }
        }
        (asn, name, country)
    }

    /// Fill the event's ASN and country when the log did not (a country alone when only a
    /// country table is given).
    pub fn enrich(&self, e: &mut Event) {
        if e.src.asn.is_some() {
            return;
        }
        let Some(addr) = e
            .src
            .ip
            .as_deref()
            .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
        else {
            return;
        };
        let (a, v6) = bits(addr);
        let (asn, country) = match self.prefix(a, v6) {
            Some(i) => (Some(i.asn), Some(Cow::Borrowed(i.country.as_str()))),
            None => {
                let (asn, _, country) = self.joined(addr, v6, a);
                (asn, country)
            }
        };
        if asn.is_some() {
            e.src.asn = asn;
        }
        if e.src.country.is_none() {
            e.src.country = country.filter(|c| !c.is_empty()).map(Cow::into_owned);
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

    #[test]
    fn ip_location_db_range_tables_are_joined_per_address() {
        let d = tempfile::tempdir().unwrap();
        let asn = d.path().join("asn-ipv4.csv");
        std::fs::write(&asn, "1.0.0.0,1.0.0.255,13335,CLOUDFLARENET\n45.133.0.0,45.133.255.255,666,\"Hosting, Inc\"\n").unwrap();
        let asn6 = d.path().join("asn-ipv6.csv");
        std::fs::write(
            &asn6,
            "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64500,DOC\n",
        )
        .unwrap();
        let country = d.path().join("country-ipv4.csv");
        std::fs::write(
            &country,
            "1.0.0.0,1.0.0.127,AU\n45.133.0.0,45.133.127.255,NL\n45.133.128.0,45.133.255.255,SG\n",
        )
        .unwrap();
        let n = Networks::from_files(&[asn, asn6, country]).unwrap();
        let x = n.lookup("45.133.200.1").unwrap();
        assert_eq!(
            (x.asn, x.country.as_str(), x.name.as_str()),
            (666, "SG", "Hosting, Inc")
        );
        assert_eq!(n.lookup("45.133.1.1").unwrap().country, "NL");
        assert_eq!(
            n.lookup("1.0.0.200").unwrap().country,
            "",
            "no country range there"
        );
        assert_eq!(n.lookup("2001:db8::7").unwrap().asn, 64500);
        assert!(n.lookup("9.9.9.9").is_none());
        let bad = d.path().join("bad.csv");
        std::fs::write(&bad, "1.0.0.0,1.0.0.255,13335,X\n1.0.1.0,1.0.1.255,XYZ\n").unwrap();
        let e = Networks::from_files(&[bad]).unwrap_err();
        assert!(
            e.contains("bad.csv:2") && e.contains("neither an ASN nor a country"),
            "{e}"
        );
    }
}
