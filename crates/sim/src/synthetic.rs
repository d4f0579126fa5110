//! Synthetic CloudTrail for speed measurements: records shaped like the ones AWS writes (user
//! identity with session context, TLS details, resources, request parameters; about 1 KB each), in
//! the proportions of an ordinary account: mostly reads by IAM users and assumed roles, a few percent
//! refused, and now and then a call the detectors care about. Deterministic per seed.
//!
//! This is not the company simulator (no people, no scenarios): it exists so that `credwarden bench`,
//! the criterion-style benchmarks and the DuckDB comparison all read the same kind of bytes.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CALLS: &[(&str, &str, bool)] = &[
    ("GetObject", "s3.amazonaws.com", true),
    ("GetObject", "s3.amazonaws.com", true),
    ("PutObject", "s3.amazonaws.com", false),
    ("ListBuckets", "s3.amazonaws.com", true),
    ("DescribeInstances", "ec2.amazonaws.com", true),
    ("DescribeSecurityGroups", "ec2.amazonaws.com", true),
    ("AssumeRole", "sts.amazonaws.com", false),
    ("GetCallerIdentity", "sts.amazonaws.com", true),
    ("GetSecretValue", "secretsmanager.amazonaws.com", true),
    ("Decrypt", "kms.amazonaws.com", true),
    ("Query", "dynamodb.amazonaws.com", true),
    ("DescribeDBInstances", "rds.amazonaws.com", true),
    ("ListUsers", "iam.amazonaws.com", true),
    ("GetUser", "iam.amazonaws.com", true),
    ("PutMetricData", "monitoring.amazonaws.com", false),
    ("SendMessage", "sqs.amazonaws.com", false),
    ("Invoke", "lambda.amazonaws.com", false),
    ("DescribeLogStreams", "logs.amazonaws.com", true),
];

/// Rare calls some detector looks at (one in `rare_every` records).
const RARE: &[(&str, &str)] = &[
    ("StopLogging", "cloudtrail.amazonaws.com"),
    ("CreateAccessKey", "iam.amazonaws.com"),
    ("CreateLoginProfile", "iam.amazonaws.com"),
    ("ModifySnapshotAttribute", "ec2.amazonaws.com"),
];

const AGENTS: &[&str] = &[
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#5.10.210-201.852.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#s3.cp",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.79 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
    "aws-sdk-java/2.25.16 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
];

/// The long-term access key of IAM user `u` in the generated records.
pub fn access_key(u: usize) -> String {
    format!("AKIA{u:016X}")
}

/// Generator of CloudTrail records (one JSON object per call, no trailing newline).
pub struct CloudTrailGen {
    rng: ChaCha8Rng,
    /// Current event time, seconds.
    t: i64,
    users: usize,
    rare_every: u64,
    n: u64,
    account: &'static str,
    per_step: u64,
}

impl CloudTrailGen {
    /// Records starting at `start` (epoch seconds), spread over `users` IAM users (each with one
    /// access key) and as many role sessions; one record in `rare_every` is a rare call.
    pub fn new(seed: u64, start: i64, users: usize, rare_every: u64) -> CloudTrailGen {
        CloudTrailGen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            t: start,
            users: users.max(1),
            rare_every: rare_every.max(1),
            n: 0,
            account: "123456789012",
            per_step: 1,
        }
    }

    /// About `n` records per second of event time instead of one (the clock moves every `n` records).
    pub fn per_second(mut self, n: u64) -> CloudTrailGen {
        self.per_step = n.max(1);
        self
    }

    /// The next record's JSON text.
    pub fn next_record(&mut self) -> String {
        let rng = &mut self.rng;
        self.n += 1;
        // Calls arrive a few per second, slightly out of order (as CloudTrail delivers them).
        if self.n.is_multiple_of(self.per_step) {
            self.t += rng.random_range(0..3);
        }
        let jitter: i64 = rng.random_range(-30..=0);
        let time = jiff::Timestamp::from_second(self.t + jitter).expect("in range");
        let u = rng.random_range(0..self.users);
        let role = rng.random_bool(0.3);
        let (name, source, read_only) = if self.n.is_multiple_of(self.rare_every) {
            let (n, s) = RARE[rng.random_range(0..RARE.len())];
            (n, s, false)
        } else {
            CALLS[rng.random_range(0..CALLS.len())]
        };
        let ip = format!(
            "10.{}.{}.{}",
            u % 200,
            rng.random_range(0..255),
            rng.random_range(1..255)
        );
        let agent = AGENTS[rng.random_range(0..AGENTS.len())];
        let acct = self.account;
        let identity = if role {
            format!(
                r#"{{"type":"AssumedRole","principalId":"AROAEXAMPLE{u:08}:i-0{u:016x}","arn":"arn:aws:sts::{acct}:assumed-role/app-role-{r}/i-0{u:016x}","accountId":"{acct}","accessKeyId":"ASIA{u:016X}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROAEXAMPLE{u:08}","arn":"arn:aws:iam::{acct}:role/app-role-{r}","accountId":"{acct}","userName":"app-role-{r}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"{time}","mfaAuthenticated":"false"}},"ec2RoleDelivery":"2.0"}}}}"#,
                r = u % 40
            )
        } else {
            format!(
                r#"{{"type":"IAMUser","principalId":"AIDAEXAMPLE{u:010}","arn":"arn:aws:iam::{acct}:user/user{u}","accountId":"{acct}","accessKeyId":"{key}","userName":"user{u}"}}"#,
                key = access_key(u)
            )
        };
        let denied = rng.random_bool(0.03);
        let error = if denied {
            r#""errorCode":"AccessDenied","errorMessage":"User is not authorized to perform this operation","#
        } else {
            ""
        };
        let request = match name {
            "GetObject" | "PutObject" => format!(
                r#"{{"bucketName":"data-{b}","Host":"data-{b}.s3.ap-northeast-2.amazonaws.com","key":"exports/2025/part-{k:05}.parquet"}}"#,
                b = u % 17,
                k = rng.random_range(0..100_000)
            ),
            "CreateAccessKey" | "CreateLoginProfile" => {
                format!(r#"{{"userName":"user{}"}}"#, rng.random_range(0..self.users))
            }
            "StopLogging" => format!(r#"{{"name":"arn:aws:cloudtrail:ap-northeast-2:{acct}:trail/org-trail"}}"#),
            "ModifySnapshotAttribute" => r#"{"snapshotId":"snap-0abc","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"userId":"999988887777"}]}}}"#.to_string(),
            "DescribeInstances" => r#"{"instancesSet":{},"filterSet":{"items":[{"name":"tag:team","valueSet":{"items":[{"value":"payments"}]}}]}}"#.to_string(),
            _ => r#"{"maxResults":100}"#.to_string(),
        };
        let additional = if source == "s3.amazonaws.com" {
            format!(
                r#","additionalEventData":{{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"k9Xk3Q2b7W1pY8cL0eN5sR4tU6vA2zB8dC1eF3gH5iJ7kL9mN0oP2qR4sT6uV8wX","bytesTransferredOut":{}}}"#,
                rng.random_range(200..2_000_000)
            )
        } else {
            String::new()
        };
        let id: u128 = rng.random();
        let req: u64 = rng.random();
        format!(
            r#"{{"eventVersion":"1.09","userIdentity":{identity},"eventTime":"{time}","eventSource":"{source}","eventName":"{name}","awsRegion":"ap-northeast-2","sourceIPAddress":"{ip}","userAgent":"{agent}",{error}"requestParameters":{request},"responseElements":null{additional},"requestID":"{req:016X}","eventID":"{a:08x}-{b:04x}-{c:04x}-{d:04x}-{e:012x}","readOnly":{read_only},"eventType":"AwsApiCall","managementEvent":{mgmt},"recipientAccountId":"{acct}","eventCategory":"{cat}","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{host}"}}}}"#,
            a = (id >> 96) as u32,
            b = (id >> 80) as u16,
            c = (id >> 64) as u16,
            d = (id >> 48) as u16,
            e = id & 0xffff_ffff_ffff,
            mgmt = source != "s3.amazonaws.com",
            cat = if source == "s3.amazonaws.com" {
                "Data"
            } else {
                "Management"
            },
            host = source.replace("amazonaws.com", "ap-northeast-2.amazonaws.com"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_json_deterministic_and_about_a_kilobyte() {
        let mut a = CloudTrailGen::new(7, 1_743_465_600, 100, 1000);
        let mut b = CloudTrailGen::new(7, 1_743_465_600, 100, 1000);
        let mut total = 0;
        for _ in 0..2000 {
            let r = a.next_record();
            assert_eq!(r, b.next_record());
            let v: serde_json::Value = serde_json::from_str(&r).unwrap();
            assert!(v["eventTime"].is_string() && v["userIdentity"]["accessKeyId"].is_string());
            total += r.len();
        }
        let avg = total / 2000;
        assert!((700..1400).contains(&avg), "average record {avg} bytes");
    }
}
