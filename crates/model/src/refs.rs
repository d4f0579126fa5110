//! ATT&CK and D3FEND references shared by audit rules and detectors (ATT&CK v18 ids; D3FEND 1.x ids).

use crate::{AttackRef, D3fendRef};

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
/// T1562.008 Impair Defenses: Disable or Modify Cloud Logs (Defense Evasion). ATT&CK v19 renames
/// the log-tampering techniques; ids here are v18's.
pub const DISABLE_CLOUD_LOGS: AttackRef = AttackRef {
    technique: "T1562.008",
    name: "Impair Defenses: Disable or Modify Cloud Logs",
    tactic: "TA0005",
    tactic_name: "Defense Evasion",
};
/// T1537 Transfer Data to Cloud Account (Exfiltration).
pub const TRANSFER_TO_CLOUD_ACCOUNT: AttackRef = AttackRef {
    technique: "T1537",
    name: "Transfer Data to Cloud Account",
    tactic: "TA0010",
    tactic_name: "Exfiltration",
};
/// T1530 Data from Cloud Storage (Collection).
pub const DATA_FROM_CLOUD_STORAGE: AttackRef = AttackRef {
    technique: "T1530",
    name: "Data from Cloud Storage",
    tactic: "TA0009",
    tactic_name: "Collection",
};
/// T1136.003 Create Account: Cloud Account (Persistence).
pub const CREATE_CLOUD_ACCOUNT: AttackRef = AttackRef {
    technique: "T1136.003",
    name: "Create Account: Cloud Account",
    tactic: "TA0003",
    tactic_name: "Persistence",
};
/// T1098.003 Account Manipulation: Additional Cloud Roles (Persistence).
pub const ADDITIONAL_CLOUD_ROLES: AttackRef = AttackRef {
    technique: "T1098.003",
    name: "Account Manipulation: Additional Cloud Roles",
    tactic: "TA0003",
    tactic_name: "Persistence",
};
/// T1580 Cloud Infrastructure Discovery (Discovery).
pub const CLOUD_DISCOVERY: AttackRef = AttackRef {
    technique: "T1580",
    name: "Cloud Infrastructure Discovery",
    tactic: "TA0007",
    tactic_name: "Discovery",
};
/// D3-RAPA Resource Access Pattern Analysis.
pub const RESOURCE_ACCESS_PATTERN: D3fendRef = D3fendRef {
    id: "D3-RAPA",
    name: "Resource Access Pattern Analysis",
};
/// D3-PM Platform Monitoring.
pub const PLATFORM_MONITORING: D3fendRef = D3fendRef {
    id: "D3-PM",
    name: "Platform Monitoring",
};
