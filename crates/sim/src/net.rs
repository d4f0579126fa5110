//! The simulated internet: address blocks with their ASN and country, so that generated logs carry
//! plausible public addresses and evaluation can enrich them without a GeoIP database. Written out as
//! `networks.csv` (`prefix,asn,country,name`).

use rand::Rng;

/// One address block.
#[derive(Debug, Clone, Copy)]
pub struct Block {
    /// First three octets of a /24.
    pub prefix: [u8; 3],
    /// Autonomous system.
    pub asn: u32,
    /// ISO 3166 country.
    pub country: &'static str,
    /// Operator.
    pub name: &'static str,
}

impl Block {
    /// A random host in the block.
    pub fn host(&self, rng: &mut impl Rng) -> String {
        format!(
            "{}.{}.{}.{}",
            self.prefix[0],
            self.prefix[1],
            self.prefix[2],
            rng.random_range(2..250u8)
        )
    }
}

/// The company's office egress (Seoul).
pub const OFFICE: Block = Block {
    prefix: [211, 45, 60],
    asn: 4766,
    country: "KR",
    name: "office egress",
};
/// The company's VPN egress (cloud-hosted).
pub const VPN: Block = Block {
    prefix: [52, 78, 120],
    asn: 16509,
    country: "KR",
    name: "corporate VPN egress",
};
/// NAT gateways of the production VPC (service traffic).
pub const NAT: Block = Block {
    prefix: [13, 125, 33],
    asn: 16509,
    country: "KR",
    name: "prod NAT gateway",
};
/// The bastion host's public address block.
pub const BASTION: Block = Block {
    prefix: [13, 209, 1],
    asn: 16509,
    country: "KR",
    name: "bastion",
};

/// Consumer ISPs where customers and employees at home connect from.
pub const HOME_KR: [Block; 4] = [
    Block {
        prefix: [121, 134, 10],
        asn: 4766,
        country: "KR",
        name: "KT residential",
    },
    Block {
        prefix: [175, 223, 40],
        asn: 9644,
        country: "KR",
        name: "SK Broadband",
    },
    Block {
        prefix: [118, 235, 90],
        asn: 17858,
        country: "KR",
        name: "LG U+ mobile",
    },
    Block {
        prefix: [39, 7, 200],
        asn: 4766,
        country: "KR",
        name: "KT mobile",
    },
];

/// Places employees travel to.
pub const TRAVEL: [Block; 3] = [
    Block {
        prefix: [73, 162, 15],
        asn: 7922,
        country: "US",
        name: "Comcast",
    },
    Block {
        prefix: [126, 75, 33],
        asn: 17676,
        country: "JP",
        name: "SoftBank",
    },
    Block {
        prefix: [86, 149, 70],
        asn: 3320,
        country: "DE",
        name: "Deutsche Telekom",
    },
];

const fn b(prefix: [u8; 3], asn: u32, country: &'static str, name: &'static str) -> Block {
    Block {
        prefix,
        asn,
        country,
        name,
    }
}

/// Mobile carriers: carrier-grade NAT, thousands of customers behind a handful of addresses
/// (see [`Block::cgnat_host`]).
pub const MOBILE_KR: [Block; 3] = [
    b([118, 235, 91], 17858, "KR", "LG U+ mobile CGNAT"),
    b([223, 38, 12], 9644, "KR", "SK Telecom mobile CGNAT"),
    b([39, 7, 201], 4766, "KR", "KT mobile CGNAT"),
];

/// Home networks of customers who live abroad (expats, overseas shoppers), with their mobile
/// carriers: the same countries as some attacker networks, on purpose.
pub const ABROAD: [Block; 10] = [
    b([73, 162, 16], 7922, "US", "Comcast"),
    b([71, 178, 44], 701, "US", "Verizon"),
    b([172, 58, 10], 21928, "US", "T-Mobile USA"),
    b([126, 75, 34], 17676, "JP", "SoftBank"),
    b([153, 156, 80], 4713, "JP", "NTT OCN"),
    b([86, 149, 71], 3320, "DE", "Deutsche Telekom"),
    b([27, 72, 98], 7552, "VN", "Viettel"),
    b([183, 14, 22], 4134, "CN", "China Telecom"),
    b([101, 160, 5], 1221, "AU", "Telstra"),
    b([116, 86, 40], 9506, "SG", "Singtel"),
];

/// Commercial VPN exits some customers always shop through (hosting networks abroad).
pub const CONSUMER_VPN: [Block; 3] = [
    b([89, 238, 130], 9009, "NL", "M247 (VPN exits)"),
    b([38, 132, 101], 9009, "US", "M247 (VPN exits)"),
    b([89, 187, 162], 60068, "SG", "DataCamp (VPN exits)"),
];

/// Corporate proxies: a workplace's customers all appear from a few addresses on weekdays.
pub const CORPORATE: [Block; 4] = [
    b([211, 60, 10], 4766, "KR", "corporate proxy (KT)"),
    b([203, 246, 80], 3786, "KR", "corporate proxy (LG DACOM)"),
    b([165, 225, 110], 62044, "JP", "Zscaler cloud proxy"),
    b([136, 226, 60], 62044, "US", "Zscaler cloud proxy"),
];

/// Partner integrations (delivery tracking, loyalty points) calling the API with members' tokens.
pub const PARTNERS: [Block; 3] = [
    b([13, 112, 40], 16509, "JP", "AWS Tokyo (partner)"),
    b([34, 82, 17], 396982, "US", "Google Cloud (partner)"),
    b([52, 79, 200], 16509, "KR", "AWS Seoul (partner)"),
];

/// Crawlers and scrapers of public pages (no customer token).
pub const BOTS: [Block; 3] = [
    b([66, 249, 66], 15169, "US", "Google"),
    b([40, 77, 167], 8075, "US", "Microsoft"),
    b([167, 99, 10], 14061, "US", "DigitalOcean"),
];

/// Networks an attacker may rent or proxy through, per provider: `(asn, name, kind, countries)`.
/// Residential ones are the same networks benign customers abroad use ([`ABROAD`]).
pub const ATTACKER_PROVIDERS: [(u32, &str, &str, &[&str]); 8] = [
    (9009, "M247", "hosting", &["NL", "RO", "US", "SG"]),
    (14061, "DigitalOcean", "hosting", &["US", "NL", "SG", "DE"]),
    (16276, "OVH", "hosting", &["FR", "CA", "DE"]),
    (20473, "Vultr", "hosting", &["US", "JP", "SG"]),
    (7922, "Comcast (residential proxy)", "residential", &["US"]),
    (7552, "Viettel (residential proxy)", "residential", &["VN"]),
    (28573, "Claro (residential proxy)", "residential", &["BR"]),
    (4713, "NTT OCN (residential proxy)", "residential", &["JP"]),
];

/// The attacker's `i`-th /24 of a provider in a country: 45.x.y.0/24 for hosting, elsewhere for
/// residential, never a block benign customers use.
pub fn attacker_block(slot: u8, asn: u32, country: &'static str, kind: &str) -> Block {
    let first = if kind == "hosting" {
        45
    } else {
        100 + slot / 64
    };
    Block {
        prefix: [first, 133 + (slot / 16) % 64, 16 * (slot % 16)],
        asn,
        country,
        name: if kind == "hosting" {
            "hosting (attacker)"
        } else {
            "residential proxy (attacker)"
        },
    }
}

/// Every benign block, for `networks.csv` (the attacker's are added by the caller).
pub fn benign_blocks() -> Vec<Block> {
    let mut v = vec![OFFICE, VPN, NAT, BASTION];
    v.extend(HOME_KR);
    v.extend(TRAVEL);
    v.extend(MOBILE_KR);
    v.extend(ABROAD);
    v.extend(CONSUMER_VPN);
    v.extend(CORPORATE);
    v.extend(PARTNERS);
    v.extend(BOTS);
    v
}

impl Block {
    /// One of the few shared addresses of a carrier-grade NAT or proxy (`n` addresses).
    pub fn shared_host(&self, n: u8, rng: &mut impl Rng) -> String {
        self.nth(rng.random_range(0..n.max(1)))
    }

    /// The `i`-th host of the block (2..=249).
    pub fn nth(&self, i: u8) -> String {
        format!(
            "{}.{}.{}.{}",
            self.prefix[0],
            self.prefix[1],
            self.prefix[2],
            2 + i % 248
        )
    }

    /// The block as CIDR.
    pub fn cidr(&self) -> String {
        format!(
            "{}.{}.{}.0/24",
            self.prefix[0], self.prefix[1], self.prefix[2]
        )
    }
}
