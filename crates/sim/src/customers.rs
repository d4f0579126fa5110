//! The shop's customers and everyone else who calls its API gateway, drifting the way real traffic
//! does: customers living in many countries (expats, overseas shoppers), travelling, shopping through
//! commercial VPNs and corporate proxies, thousands of them behind a mobile carrier's few NAT
//! addresses, switching from home Wi-Fi to mobile mid-session, updating the app (new user agents);
//! partner integrations that legitimately present many members' tokens from a cloud network (one of
//! them going live mid-period); crawlers on public pages. Every member's profile is derived from the
//! seed and the member id, so nothing is stored per member.

use crate::config::SimConfig;
use crate::net::{self, Block};
use crate::out::{Claims, GatewayLine, IssuanceLine, Outputs};
use crate::time::{rfc3339, DAY};
use rand::Rng;

/// The shop's own client applications (ids in the tokens the login service mints).
pub const APP_CLIENTS: [&str; 3] = ["shop-ios", "shop-android", "shop-web"];

/// The app's user agent for `platform` (0 iOS, 1 Android, 2 web) at `version` (0 before the
/// mid-period update, 1 after).
pub fn app_ua(platform: usize, version: usize) -> String {
    const V: [(&str, &str, &str); 2] = [("5.2.1", "5.2.0", "123.0"), ("5.3.0", "5.3.0", "124.0")];
    let (ios, android, chrome) = V[version.min(1)];
    match platform {
        0 => format!("ShopApp/{ios} (iPhone; iOS 17.4; Scale/3.00)"),
        1 => format!("ShopApp/{android} (Android 14; SM-S918N)"),
        _ => format!("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{chrome} Safari/537.36"),
    }
}

/// Token lifetime the login service gives each app (web sessions are shorter).
fn lifetime(client: usize) -> i64 {
    if client == 2 {
        1800
    } else {
        3600
    }
}

/// A partner integration.
#[derive(Debug, Clone)]
struct Partner {
    client_id: &'static str,
    user_agent: &'static str,
    block: Block,
    /// Members linked to the partner (sorted).
    linked: Vec<u64>,
    /// First day it calls.
    from_day: i64,
    /// Sync batches per day (each covers a slice of the linked members, in id order).
    batches: i64,
}

/// What one member looks like: where they live and shop from.
#[derive(Debug, Clone, Copy)]
struct Profile {
    home: Block,
    home_host: u8,
    mobile: Block,
    cgnat: bool,
    vpn: Option<Block>,
    corp: Option<Block>,
    trip: Option<(i64, i64, Block)>,
    platform: usize,
    update_day: i64,
}

/// The customer population and the other API callers.
#[derive(Debug, Clone)]
pub struct Customers {
    seed: u64,
    members: u64,
    days: i64,
    partners: Vec<Partner>,
    update_day: i64,
}

/// splitmix64 of `(seed, a, b)`: a member's stable random draws.
fn h(seed: u64, a: u64, b: u64) -> u64 {
    let mut z =
        seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Customers {
    /// The population for `cfg`.
    pub fn new(cfg: &SimConfig) -> Self {
        let seed = cfg.seed;
        let days = cfg.days as i64;
        let linked = |tag: u64, per_mille: u64| -> Vec<u64> {
            (1..=cfg.members)
                .filter(|&m| h(seed, m, tag) % 1000 < per_mille)
                .collect()
        };
        let go_live = days / 2 + (h(seed, 0, 99) % (days as u64 / 4).max(1)) as i64;
        let partners = vec![
            Partner {
                client_id: "partner-deliverytrack",
                user_agent: "DeliveryTrack-Sync/3.4 (+https://deliverytrack.example/bot)",
                block: net::PARTNERS[0],
                linked: linked(101, 40),
                from_day: 0,
                batches: 12,
            },
            Partner {
                client_id: "partner-pointshub",
                user_agent: "Apache-HttpClient/4.5.14 (Java/17.0.9)",
                block: net::PARTNERS[1],
                linked: linked(102, 25),
                from_day: 0,
                batches: 24,
            },
            // Goes live mid-period: a network presenting hundreds of members' tokens it never did.
            Partner {
                client_id: "partner-giftbox",
                user_agent: "GiftBox/1.0 okhttp/4.12.0",
                block: net::PARTNERS[2],
                linked: linked(103, 30),
                from_day: go_live,
                batches: 8,
            },
        ];
        Self {
            seed,
            members: cfg.members,
            days,
            partners,
            update_day: days / 3 + (h(seed, 0, 98) % (days as u64 / 3).max(1)) as i64,
        }
    }

    fn profile(&self, m: u64) -> Profile {
        let (r1, r2, r3, r4) = (
            h(self.seed, m, 1),
            h(self.seed, m, 2),
            h(self.seed, m, 3),
            h(self.seed, m, 4),
        );
        // About 9 % live abroad; their "mobile" is their home ISP's other addresses.
        let abroad = r1 % 1000 < 90;
        let (home, mobile, cgnat) = if abroad {
            let b = net::ABROAD[(r1 >> 10) as usize % net::ABROAD.len()];
            (b, b, false)
        } else {
            (
                net::HOME_KR[(r1 >> 10) as usize % 3],
                net::MOBILE_KR[(r1 >> 20) as usize % net::MOBILE_KR.len()],
                true,
            )
        };
        let vpn = (r2 % 1000 < 30).then(|| net::CONSUMER_VPN[(r2 >> 10) as usize % 3]);
        let corp = ((r2 >> 20) % 1000 < 60).then(|| {
            if abroad {
                net::CORPORATE[2 + (r2 >> 32) as usize % 2]
            } else {
                net::CORPORATE[(r2 >> 32) as usize % 2]
            }
        });
        // About 6 % travel once in the period, 3–10 days; Koreans abroad, people abroad to Korea.
        let trip = (r3 % 1000 < 60).then(|| {
            let start = ((r3 >> 10) % self.days as u64) as i64;
            let len = 3 + ((r3 >> 30) % 8) as i64;
            let b = if abroad {
                net::MOBILE_KR[(r3 >> 40) as usize % 3]
            } else {
                net::ABROAD[(r3 >> 40) as usize % net::ABROAD.len()]
            };
            (start, start + len, b)
        });
        Profile {
            home,
            home_host: (r4 >> 16) as u8,
            mobile,
            cgnat,
            vpn,
            corp,
            trip,
            platform: (r4 % 3) as usize,
            update_day: self.update_day + ((r4 >> 8) % 14) as i64,
        }
    }

    /// Where member with `p` connects from on `day` at second-of-day `sod` (UTC).
    fn address(
        p: &Profile,
        day: i64,
        sod: i64,
        weekday: bool,
        rng: &mut impl Rng,
    ) -> (String, Block) {
        if let Some((s, e, b)) = p.trip {
            if (s..=e).contains(&day) {
                return (b.host(rng), b);
            }
        }
        if let Some(b) = p.vpn {
            if rng.random_bool(0.7) {
                return (b.shared_host(20, rng), b);
            }
        }
        if let Some(b) = p.corp {
            // 09:00–18:00 KST on weekdays.
            if weekday && sod < 9 * 3600 && rng.random_bool(0.6) {
                return (b.shared_host(4, rng), b);
            }
        }
        if rng.random_bool(0.55) {
            // Home addresses change now and then.
            let host = p
                .home_host
                .wrapping_add((day / 9) as u8 * u8::from(p.home_host.is_multiple_of(5)));
            (p.home.nth(host), p.home)
        } else if p.cgnat {
            (p.mobile.shared_host(6, rng), p.mobile)
        } else {
            (p.mobile.host(rng), p.mobile)
        }
    }

    /// Write day `day`'s benign gateway traffic and token issuance.
    #[allow(clippy::too_many_arguments)]
    pub fn day(
        &self,
        cfg: &SimConfig,
        kid: &str,
        day: i64,
        midnight: i64,
        weekday: bool,
        rng: &mut impl Rng,
        out: &mut Outputs,
    ) {
        for _ in 0..cfg.logins_per_day {
            // A few members are much more active than others.
            let member = if rng.random_bool(0.3) {
                rng.random_range(1..=self.members / 50 + 1)
            } else {
                rng.random_range(1..=self.members)
            };
            self.session(member, day, midnight, weekday, kid, rng, out);
        }
        for p in &self.partners {
            if day >= p.from_day {
                self.partner_day(p, day, midnight, kid, rng, out);
            }
        }
        bots(midnight, rng, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn session(
        &self,
        member: u64,
        day: i64,
        midnight: i64,
        weekday: bool,
        kid: &str,
        rng: &mut impl Rng,
        out: &mut Outputs,
    ) {
        let p = self.profile(member);
        let sod = customer_second(rng);
        let t0 = midnight + sod;
        let (ip, _) = Self::address(&p, day, sod, weekday, rng);
        let version = usize::from(day >= p.update_day);
        let ua = app_ua(p.platform, version);
        if day == p.update_day {
            out.drift("customer_app_updates");
        }
        let client = APP_CLIENTS[p.platform];
        // The login itself goes through the gateway (no token yet).
        let rid = out.uuid();
        out.gateway(&GatewayLine {
            t: t0,
            time: rfc3339(t0),
            request_id: &rid,
            client_ip: &ip,
            user_agent: &ua,
            method: "POST",
            path: "/api/v1/auth/login",
            status: 200,
            bytes: 900,
            records: 0,
            latency_ms: rng.random_range(40..300),
            token: None,
        });
        let jti = out.uuid();
        let exp = t0 + lifetime(p.platform);
        out.issuance(&IssuanceLine {
            time: rfc3339(t0),
            event: "token_issued",
            sub: member.to_string(),
            jti: &jti,
            kid,
            iat: t0,
            exp,
            client_id: client,
            ip: &ip,
            auth_method: "password",
            server: "",
        });
        // One session in ten moves from home Wi-Fi to the mobile network halfway.
        let hop = rng.random_bool(0.1).then(|| {
            if p.cgnat {
                p.mobile.shared_host(6, rng)
            } else {
                p.mobile.host(rng)
            }
        });
        let n = rng.random_range(1..8);
        let mut t = t0;
        for k in 0..n {
            t += rng.random_range(2..300);
            if t >= exp {
                break;
            }
            let (path, records, status) = match rng.random_range(0..40) {
                0..=15 => (
                    format!("/api/v1/members/{member}/orders"),
                    rng.random_range(0..20),
                    200,
                ),
                16..=27 => (format!("/api/v1/members/{member}/profile"), 1, 200),
                28..=35 => (
                    format!("/api/v1/members/{member}/address-book"),
                    rng.random_range(1..5),
                    200,
                ),
                // A stale link to an order that is gone.
                36 => (
                    format!(
                        "/api/v1/members/{member}/orders/{}",
                        rng.random_range(1..99_999)
                    ),
                    0,
                    404,
                ),
                _ => (
                    "/api/v1/products/search".to_string(),
                    rng.random_range(10..50),
                    200,
                ),
            };
            let from = match &hop {
                Some(h) if k >= n / 2 => h.as_str(),
                _ => ip.as_str(),
            };
            let rid = out.uuid();
            out.gateway(&GatewayLine {
                t,
                time: rfc3339(t),
                request_id: &rid,
                client_ip: from,
                user_agent: &ua,
                method: "GET",
                path: &path,
                status,
                bytes: 300 + records * 180,
                records,
                latency_ms: rng.random_range(8..120),
                token: Some(Claims {
                    sub: member.to_string(),
                    jti: &jti,
                    kid,
                    iat: t0,
                    exp: Some(exp),
                    client_id: client,
                }),
            });
        }
    }

    fn partner_day(
        &self,
        p: &Partner,
        day: i64,
        midnight: i64,
        kid: &str,
        rng: &mut impl Rng,
        out: &mut Outputs,
    ) {
        if p.linked.is_empty() {
            return;
        }
        let per_batch = (p.linked.len() as i64 / p.batches).max(1) as usize;
        for b in 0..p.batches {
            let t0 = midnight + b * (DAY / p.batches) + rng.random_range(0..300);
            let ip = p.block.shared_host(3, rng);
            let start = (b as usize * per_batch + day as usize * 7) % p.linked.len();
            for (k, &member) in p
                .linked
                .iter()
                .cycle()
                .skip(start)
                .take(per_batch)
                .enumerate()
            {
                let t = t0 + k as i64 / 4;
                let jti = out.uuid();
                out.issuance(&IssuanceLine {
                    time: rfc3339(t),
                    event: "token_issued",
                    sub: member.to_string(),
                    jti: &jti,
                    kid,
                    iat: t,
                    exp: t + 7200,
                    client_id: p.client_id,
                    ip: &ip,
                    auth_method: "delegated_consent",
                    server: "",
                });
                let path = if rng.random_bool(0.5) {
                    format!("/api/v1/members/{member}/orders")
                } else {
                    format!("/api/v1/members/{member}/address-book")
                };
                let records = rng.random_range(0..6);
                let rid = out.uuid();
                out.gateway(&GatewayLine {
                    t: t + 1,
                    time: rfc3339(t + 1),
                    request_id: &rid,
                    client_ip: &ip,
                    user_agent: p.user_agent,
                    method: "GET",
                    path: &path,
                    status: 200,
                    bytes: 300 + records * 180,
                    records,
                    latency_ms: rng.random_range(8..120),
                    token: Some(Claims {
                        sub: member.to_string(),
                        jti: &jti,
                        kid,
                        iat: t,
                        exp: Some(t + 7200),
                        client_id: p.client_id,
                    }),
                });
            }
        }
        if day == p.from_day && day > 0 {
            out.drift("partner_go_live");
        }
    }
}

const BOT_UA: [&str; 3] = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "python-requests/2.31.0",
];

/// Crawlers and price scrapers on public pages, without a customer token.
fn bots(midnight: i64, rng: &mut impl Rng, out: &mut Outputs) {
    for _ in 0..rng.random_range(300..800) {
        let k = rng.random_range(0..net::BOTS.len());
        let t = midnight + rng.random_range(0..DAY);
        let ip = net::BOTS[k].host(rng);
        let path = format!("/api/v1/products/{}", rng.random_range(1..200_000));
        let rid = out.uuid();
        out.gateway(&GatewayLine {
            t,
            time: rfc3339(t),
            request_id: &rid,
            client_ip: &ip,
            user_agent: BOT_UA[k],
            method: "GET",
            path: &path,
            status: if rng.random_bool(0.05) { 404 } else { 200 },
            bytes: rng.random_range(2_000..20_000),
            records: 0,
            latency_ms: rng.random_range(8..120),
            token: None,
        });
    }
}

/// Customer activity peaks in the Seoul evening (seconds into the UTC day).
pub fn customer_second(rng: &mut impl Rng) -> i64 {
    let local = match rng.random_range(0..10) {
        0 => rng.random_range(0..7),
        1..=4 => rng.random_range(7..18),
        _ => rng.random_range(18..24),
    };
    ((local + 24 - 9) % 24) * 3600 + rng.random_range(0..3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_spread_over_countries_and_networks() {
        let cfg = SimConfig {
            members: 5_000,
            ..SimConfig::default()
        };
        let c = Customers::new(&cfg);
        let profiles: Vec<Profile> = (1..=5_000).map(|m| c.profile(m)).collect();
        let abroad = profiles.iter().filter(|p| p.home.country != "KR").count();
        let vpn = profiles.iter().filter(|p| p.vpn.is_some()).count();
        let trips = profiles.iter().filter(|p| p.trip.is_some()).count();
        assert!((300..600).contains(&abroad), "{abroad}");
        assert!((80..250).contains(&vpn), "{vpn}");
        assert!((150..450).contains(&trips), "{trips}");
        // Deterministic.
        assert_eq!(
            c.profile(17).home_host,
            Customers::new(&cfg).profile(17).home_host
        );
        assert!(c.partners.iter().all(|p| !p.linked.is_empty()));
        assert!(c.partners[2].from_day > 0);
    }
}
