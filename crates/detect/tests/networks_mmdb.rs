//! `--networks` with a real MaxMind DB file: the CC0 ip-location-db country database from npm
//! (`cd crates/detect/tests/mmdb && npm install`, as .ci/run does), joined with an ASN range table
//! in the ip-location-db CSV shape. Absent, the test fails under CI=true and is skipped elsewhere.

use credwarden_detect::enrich::Networks;
use credwarden_model::{Event, EventOutcome, Network, ResourceRef, SourceRef, Volume};
use std::path::PathBuf;

fn event(ip: &str) -> Event {
    Event {
        time: jiff::Timestamp::UNIX_EPOCH,
        credential_id: None,
        principal: None,
        token: None,
        action: "GET".into(),
        resource: ResourceRef::default(),
        src: Network {
            ip: Some(ip.into()),
            ..Network::default()
        },
        user_agent: None,
        outcome: EventOutcome::Success,
        volume: Volume::default(),
        event_id: None,
        detail: serde_json::Value::Null,
        raw: SourceRef::new("x", 1),
    }
}

#[test]
fn a_maxmind_db_gives_countries_and_joins_an_asn_table() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/mmdb/node_modules/@ip-location-db/geo-whois-asn-country-mmdb");
    let mmdb = dir.join("geo-whois-asn-country.mmdb");
    if !mmdb.is_file() {
        assert!(
            std::env::var("CI").is_err(),
            "{} is needed under CI (cd crates/detect/tests/mmdb && npm install)",
            mmdb.display()
        );
        eprintln!(
            "skipped: {} absent (npm install in crates/detect/tests/mmdb)",
            mmdb.display()
        );
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let asn = d.path().join("asn-ipv4.csv");
    std::fs::write(&asn, "8.8.8.0,8.8.8.255,15169,GOOGLE\n").unwrap();
    let n = Networks::from_files(&[mmdb.clone(), asn]).unwrap();
    // ASN from the table, country from the MaxMind DB.
    let g = n.lookup("8.8.8.8").unwrap();
    assert_eq!(
        (g.asn, g.country.as_str(), g.name.as_str()),
        (15169, "US", "GOOGLE")
    );
    // A country alone (no ASN source knows the address) still enriches the event's country.
    let mut e = event("1.1.1.1");
    n.enrich(&mut e);
    assert_eq!(e.src.asn, None);
    assert!(
        e.src.country.as_deref().is_some_and(|c| c.len() == 2),
        "{:?}",
        e.src
    );
    // A file that is not a MaxMind DB but looks like one is named in the error.
    let bad = d.path().join("bad.mmdb");
    std::fs::write(&bad, b"garbage\xab\xcd\xefMaxMind.com").unwrap();
    let err = Networks::from_files(&[bad]).unwrap_err();
    assert!(err.contains("bad.mmdb") && err.contains("MaxMind"), "{err}");
}
