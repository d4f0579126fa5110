//! Property tests standing in for fuzzing (cargo-fuzz needs a nightly toolchain, which these machines
//! cannot fetch): no reader panics on arbitrary or mutated input, and every error names the file.

use credwarden_ingest::{gcp_keys, hr, iam_report, inventory, mapping, Input, Rejects};
use proptest::prelude::*;

const HR: &str = "id,emails,usernames,display_name,kind,status,start_date,end_date,manager,department\nE1,a@x.io,a,Ann,employee,active,2020-01-01,,E9,Ops\nE2,b@x.io,b,Bo,contractor,terminated,2021-01-01,2024-05-01,E9,Ops\n";
const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\nbob,arn:aws:iam::123456789012:user/bob,2019-01-01T00:00:00+00:00,true,N/A,2019-01-01T00:00:00+00:00,N/A,false,true,2019-01-02T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n";
const INV: &str = "id,kind,system,owner,created,last_rotated,last_used,expires,status,scopes,readers\nk1,signing_key,login,E1,2019-01-01,,never,2029-01-01,active,sign,g1;E2\n";
const GCP: &str = "[{\"keyType\":\"USER_MANAGED\",\"name\":\"projects/p/serviceAccounts/s@p.iam.gserviceaccount.com/keys/k1\",\"validAfterTime\":\"2024-01-01T00:00:00Z\",\"validBeforeTime\":\"9999-12-31T23:59:59Z\"}]";

fn all_readers(text: &str) {
    let input = Input::new("fuzz.txt", text);
    for keep in [false, true] {
        let check = |r: Result<usize, credwarden_ingest::IngestError>, rj: &Rejects| {
            if let Err(e) = r {
                assert_eq!(e.file(), "fuzz.txt");
                assert!(e.to_string().starts_with("fuzz.txt"), "{e}");
            }
            for x in rj.items() {
                assert!(x.error.to_string().starts_with("fuzz.txt"));
            }
        };
        let mut rj = Rejects::new(keep);
        check(hr::read(&input, &mut rj).map(|v| v.len()), &rj);
        let mut rj = Rejects::new(keep);
        check(iam_report::read(&input, &mut rj).map(|v| v.len()), &rj);
        let mut rj = Rejects::new(keep);
        check(inventory::read(&input, &mut rj).map(|v| v.len()), &rj);
        let mut rj = Rejects::new(keep);
        check(gcp_keys::read(&input, &mut rj).map(|v| v.len()), &rj);
        let mut rj = Rejects::new(keep);
        check(mapping::read_groups(&input, &mut rj).map(|v| v.len()), &rj);
        let mut rj = Rejects::new(keep);
        check(mapping::read_owners(&input, &mut rj).map(|v| v.len()), &rj);
    }
}

/// Apply byte-level mutations (replace, delete, insert) to a valid document.
fn mutate(base: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut b = base.as_bytes().to_vec();
    for &(pos, op, byte) in edits {
        if b.is_empty() {
            break;
        }
        let p = pos % b.len();
        let byte = b",;\"\n\r{}[]:-T0aZ \x00\xef"[byte as usize % 17];
        match op % 3 {
            0 => b[p] = byte,
            1 => {
                b.remove(p);
            }
            _ => b.insert(p, byte),
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        all_readers(&s);
    }

    #[test]
    fn mutated_documents_never_panic(which in 0usize..4, edits in prop::collection::vec((0usize..4096, 0u8..3, 0u8..17), 1..12)) {
        let base = [HR, REPORT, INV, GCP][which];
        all_readers(&mutate(base, &edits));
    }
}

#[test]
fn valid_documents_parse() {
    let mut rj = Rejects::new(false);
    assert_eq!(hr::read(&Input::new("f", HR), &mut rj).unwrap().len(), 2);
    assert_eq!(
        iam_report::read(&Input::new("f", REPORT), &mut rj)
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        inventory::read(&Input::new("f", INV), &mut rj)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        gcp_keys::read(&Input::new("f", GCP), &mut rj)
            .unwrap()
            .len(),
        1
    );
}
