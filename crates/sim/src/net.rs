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

/// Hosting providers abroad the attacker rents from (rotating addresses), keyed by ASN.
pub fn attacker_blocks(asn: u32) -> Vec<Block> {
    let names: [(&'static str, &'static str); 4] = [
        ("NL", "bulletproof hosting"),
        ("SG", "VPS provider"),
        ("US", "residential proxy network"),
        ("RU", "hosting"),
    ];
    (0..64u8)
        .map(|i| {
            let (country, name) = names[(i % 4) as usize];
            Block {
                prefix: [45, 133 + i / 16, 16 * (i % 16)],
                asn,
                country,
                name,
            }
        })
        .collect()
}

/// Every block, for `networks.csv`.
pub fn all_blocks(attacker_asn: u32) -> Vec<Block> {
    let mut v = vec![OFFICE, VPN, NAT, BASTION];
    v.extend(HOME_KR);
    v.extend(TRAVEL);
    v.extend(attacker_blocks(attacker_asn));
    v
}
