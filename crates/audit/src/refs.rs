//! ATT&CK and D3FEND references used by the audit rules (ATT&CK v18 ids; D3FEND 1.x ids).

use credwarden_model::{AttackRef, D3fendRef};

/// T1078 Valid Accounts (Persistence).
pub const VALID_ACCOUNTS: AttackRef = AttackRef {
    technique: "T1078",
    name: "Valid Accounts",
    tactic: "TA0003",
    tactic_name: "Persistence",
};
/// T1078.004 Valid Accounts: Cloud Accounts (Initial Access).
pub const CLOUD_ACCOUNTS: AttackRef = AttackRef {
    technique: "T1078.004",
    name: "Valid Accounts: Cloud Accounts",
    tactic: "TA0001",
    tactic_name: "Initial Access",
};
/// T1606 Forge Web Credentials (Credential Access).
pub const FORGE_WEB_CREDENTIALS: AttackRef = AttackRef {
    technique: "T1606",
    name: "Forge Web Credentials",
    tactic: "TA0006",
    tactic_name: "Credential Access",
};
/// T1552 Unsecured Credentials (Credential Access).
pub const UNSECURED_CREDENTIALS: AttackRef = AttackRef {
    technique: "T1552",
    name: "Unsecured Credentials",
    tactic: "TA0006",
    tactic_name: "Credential Access",
};
/// T1550.001 Use Alternate Authentication Material: Application Access Token (Defense Evasion).
pub const APP_ACCESS_TOKEN: AttackRef = AttackRef {
    technique: "T1550.001",
    name: "Use Alternate Authentication Material: Application Access Token",
    tactic: "TA0005",
    tactic_name: "Defense Evasion",
};
/// T1098.001 Account Manipulation: Additional Cloud Credentials (Persistence).
pub const ADDITIONAL_CLOUD_CREDENTIALS: AttackRef = AttackRef {
    technique: "T1098.001",
    name: "Account Manipulation: Additional Cloud Credentials",
    tactic: "TA0003",
    tactic_name: "Persistence",
};
/// T1110 Brute Force (Credential Access).
pub const BRUTE_FORCE: AttackRef = AttackRef {
    technique: "T1110",
    name: "Brute Force",
    tactic: "TA0006",
    tactic_name: "Credential Access",
};

/// D3-CRO Credential Rotation.
pub const CREDENTIAL_ROTATION: D3fendRef = D3fendRef {
    id: "D3-CRO",
    name: "Credential Rotation",
};
/// D3-CR Credential Revoking.
pub const CREDENTIAL_REVOKING: D3fendRef = D3fendRef {
    id: "D3-CR",
    name: "Credential Revoking",
};
/// D3-AL Account Locking.
pub const ACCOUNT_LOCKING: D3fendRef = D3fendRef {
    id: "D3-AL",
    name: "Account Locking",
};
/// D3-MFA Multi-factor Authentication.
pub const MFA: D3fendRef = D3fendRef {
    id: "D3-MFA",
    name: "Multi-factor Authentication",
};
/// D3-UAP User Account Permissions.
pub const USER_ACCOUNT_PERMISSIONS: D3fendRef = D3fendRef {
    id: "D3-UAP",
    name: "User Account Permissions",
};
/// D3-DAM Domain Account Monitoring.
pub const ACCOUNT_MONITORING: D3fendRef = D3fendRef {
    id: "D3-DAM",
    name: "Domain Account Monitoring",
};
