//! The attacker of the forged-token story (scenario a), drawn per seed so that no detection can rely
//! on one fixed shape: which networks (hosting or residential proxies, in which countries), how many
//! addresses, which user agent (often copied from the real app), which client id, how its tokens'
//! claims are shaped, how fast, in which order it walks member ids and when it starts. Scenarios a2,
//! d and e reuse its networks.
//!
//! Settings given on the command line (`--attacker-asn`, `--attacker-addresses`,
//! `--forged-requests-per-day`, `--attack-start`) override the draw.

use crate::config::SimConfig;
use crate::customers::APP_CLIENTS;
use crate::net::{self, Block};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// In which order the attacker walks member ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// 1, 2, 3, … (running past the last real member).
    Sequential,
    /// A fixed stride (e.g. every 7th id).
    Strided(u64),
    /// Uniformly random ids, some beyond the last member.
    Random,
}

/// The attacker's parameters.
#[derive(Debug, Clone)]
pub struct Attacker {
    /// `hosting` or `residential`.
    pub kind: &'static str,
    /// The /24 blocks it uses (never used by benign traffic).
    pub blocks: Vec<Block>,
    /// Its address pool.
    pub addresses: Vec<String>,
    /// User agent of its script.
    pub user_agent: String,
    /// Client id put in forged tokens.
    pub client_id: &'static str,
    /// `exp - iat` of forged tokens; `None`: no `exp` claim.
    pub lifetime: Option<i64>,
    /// Forged tokens' `iat` is this many seconds before use (range).
    pub iat_lag: (i64, i64),
    /// Member id order.
    pub order: Order,
    /// Requests made with each forged token (1 = a new token per request).
    pub reuse: u32,
    /// Forged-token requests per day.
    pub per_day: u64,
    /// Misuse start, as a fraction of the period.
    pub start: f64,
    /// Follows the customers' evening peak (else around the clock).
    pub evening: bool,
}

const SCRIPT_UA: [&str; 4] = [
    "python-requests/2.31.0",
    "okhttp/4.12.0",
    "Go-http-client/2.0",
    "Mozilla/5.0 (compatible; Scrapy/2.11.1; +https://scrapy.org)",
];

impl Attacker {
    /// Draw the attacker for `cfg.seed`, honouring the overrides in `cfg`.
    pub fn draw(cfg: &SimConfig) -> Self {
        let mut rng =
            ChaCha8Rng::seed_from_u64(cfg.seed.wrapping_mul(0x9E37_79B9).wrapping_add(13));
        let kind = if rng.random_bool(0.6) {
            "hosting"
        } else {
            "residential"
        };
        let mut providers: Vec<_> = net::ATTACKER_PROVIDERS
            .iter()
            .filter(|p| p.2 == kind)
            .collect();
        providers.shuffle(&mut rng);
        let n_providers = rng.random_range(1..=3usize).min(providers.len());
        let mut blocks = Vec::new();
        let mut slot = 0u8;
        for &&(asn, _, _, countries) in providers.iter().take(n_providers) {
            let mut cs: Vec<&&str> = countries.iter().collect();
            cs.shuffle(&mut rng);
            for &&country in cs.iter().take(rng.random_range(1..=2)) {
                for _ in 0..rng.random_range(2..12) {
                    blocks.push(net::attacker_block(
                        slot,
                        cfg.attacker_asn.unwrap_or(asn),
                        country,
                        kind,
                    ));
                    slot = slot.wrapping_add(1);
                }
            }
        }
        let n_addresses = cfg
            .attacker_addresses
            .unwrap_or_else(|| rng.random_range(40..600));
        let addresses = (0..n_addresses)
            .map(|n| blocks[n % blocks.len()].nth((n / blocks.len()) as u8))
            .collect();
        let user_agent = match rng.random_range(0..10) {
            // Copied from the real app: the forger's best disguise.
            0..=4 => crate::customers::app_ua(rng.random_range(0..3), 0),
            5..=7 => SCRIPT_UA.choose(&mut rng).expect("non-empty").to_string(),
            _ => crate::customers::app_ua(2, 1),
        };
        let client_id = if rng.random_bool(0.8) {
            APP_CLIENTS.choose(&mut rng).expect("non-empty")
        } else {
            "shop-admin"
        };
        let lifetime = match rng.random_range(0..10) {
            0..=5 => Some(3600),
            6 | 7 => Some(86_400),
            8 => Some(30 * 86_400),
            _ => None,
        };
        let iat_lag = match rng.random_range(0..3) {
            0 => (5, 600),
            1 => (0, 2),
            _ => (60, 3500),
        };
        let order = match rng.random_range(0..10) {
            0..=3 => Order::Sequential,
            4 | 5 => Order::Strided(rng.random_range(3..40)),
            _ => Order::Random,
        };
        Self {
            kind,
            blocks,
            addresses,
            user_agent,
            client_id,
            lifetime,
            iat_lag,
            order,
            reuse: *[1u32, 1, 2, 4].choose(&mut rng).expect("non-empty"),
            per_day: cfg
                .forged_requests_per_day
                .unwrap_or_else(|| rng.random_range(400..3_000)),
            start: cfg
                .attack_start
                .unwrap_or_else(|| rng.random_range(0.45..0.7)),
            evening: rng.random_bool(0.5),
        }
    }

    /// The `n`-th member id of the walk (1-based, up to 5 % beyond the last real member).
    pub fn member(&self, n: u64, members: u64, rng: &mut impl Rng) -> u64 {
        let span = members + members / 20;
        match self.order {
            Order::Sequential => n % span + 1,
            Order::Strided(s) => (n * s) % span + 1,
            Order::Random => rng.random_range(1..=span),
        }
    }

    /// A /24 of the attacker's first network (same provider and country as the forger) but outside
    /// the forger's pool, for a2, d and e: each scenario's entities stay its own.
    pub fn block(&self, i: usize) -> Block {
        let first = self.blocks[0];
        net::attacker_block(200 + (i % 50) as u8, first.asn, first.country, self.kind)
    }
}
