//! The ledger's decision alone (no HTTP): one check against a million live tokens.

use credwarden_ledger::{Change, Claims, Issued, Ledger};

fn main() {
    divan::main();
}

fn filled(n: usize) -> Ledger {
    let mut l = Ledger::new();
    for i in 0..n {
        l.apply(
            &Change::Issued(Issued {
                jti: format!("{i:032x}"),
                sub: Some(format!("member-{}", i % 500_000)),
                kid: Some("login-rs256-2025".into()),
                iat: Some(1_000),
                exp: 100_000,
                client_id: Some("web".into()),
            }),
            1_000,
        );
    }
    l
}

#[divan::bench(sample_count = 20)]
fn check_issued(b: divan::Bencher) {
    let l = filled(1_000_000);
    let mut i = 0usize;
    b.bench_local(|| {
        i = (i + 7919) % 1_000_000;
        let c = Claims {
            jti: Some(format!("{i:032x}")),
            kid: Some("login-rs256-2025".into()),
            sub: Some(format!("member-{}", i % 500_000)),
            iat: Some(1_000),
            exp: Some(100_000),
            client: None,
        };
        divan::black_box(l.check(&c, 2_000, 0))
    });
}

#[divan::bench(sample_count = 20)]
fn check_forged(b: divan::Bencher) {
    let l = filled(1_000_000);
    let mut i = 0usize;
    b.bench_local(|| {
        i += 1;
        let c = Claims {
            jti: Some(format!("forged-{i}")),
            kid: Some("login-rs256-2025".into()),
            sub: Some("member-1".into()),
            iat: Some(1_000),
            exp: Some(100_000),
            client: None,
        };
        divan::black_box(l.check(&c, 2_000, 0))
    });
}
