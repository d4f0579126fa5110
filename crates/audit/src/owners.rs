//! Who a credential or a principal seen in a log belongs to: the one owner join the posture rules
//! use ([`Context`](crate::Context)), indexed for lookups by what logs carry — a credential id (an
//! inventory id or an access key id), a principal (an IAM user ARN, a service account e-mail) or the
//! user name at the end of an ARN — so that every finding names the person when the estate knows
//! them.

use crate::{Context, Owner};
use credwarden_model::{Directory, Identity, Resolution};
use std::collections::HashMap;

/// Lookups from what a log names to the owning identity.
pub struct OwnerIndex<'a> {
    dir: &'a Directory,
    by_credential: HashMap<String, &'a Identity>,
    by_principal: HashMap<String, &'a Identity>,
}

fn norm(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// The user name at the end of an ARN (`…:user/path/name` → `name`), if it is one.
fn arn_user(p: &str) -> Option<&str> {
    p.split(":user/").nth(1)?.rsplit('/').next()
}

impl<'a> OwnerIndex<'a> {
    /// Index the owners `ctx` resolved.
    pub fn new(ctx: &Context<'a>) -> Self {
        let mut by_credential = HashMap::new();
        let mut by_principal = HashMap::new();
        for r in &ctx.creds {
            let Owner::Identity(who, _) = r.owner else {
                continue;
            };
            by_credential.insert(norm(&r.cred.id), who);
            if let Some(p) = &r.cred.principal {
                by_principal.insert(norm(p), who);
            }
        }
        OwnerIndex {
            dir: ctx.directory,
            by_credential,
            by_principal,
        }
    }

    /// The identity behind `credential` or `principal`: the inventory's resolved owner of that
    /// credential or principal, else the roster identity the principal (or its ARN user name)
    /// names — only when exactly one matches.
    pub fn identity_of(
        &self,
        credential: Option<&str>,
        principal: Option<&str>,
    ) -> Option<&'a Identity> {
        if let Some(i) = credential.and_then(|c| self.by_credential.get(&norm(c))) {
            return Some(i);
        }
        let p = principal?;
        if let Some(i) = self.by_principal.get(&norm(p)) {
            return Some(i);
        }
        for name in [Some(p), arn_user(p)].into_iter().flatten() {
            if let Resolution::Found(idx, _) = self.dir.resolve(name) {
                return Some(self.dir.get(idx));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credwarden_model::{Credential, CredentialKind, SourceRef};

    #[test]
    fn a_key_and_a_principal_lead_to_their_owner() {
        let mut ana = Identity::leaver("E1", SourceRef::new("hr.csv", 2));
        ana.usernames = vec!["ana".into()];
        ana.emails = vec!["ana@shop.example".into()];
        let dir = Directory::new(vec![ana]);
        let mut c = Credential::new(
            "arn:aws:iam::111122223333:user/deploy#access_key_1",
            CredentialKind::AccessKey,
            "aws:111122223333",
            SourceRef::new("report.csv", 2),
        );
        c.principal = Some("arn:aws:iam::111122223333:user/deploy".into());
        c.owner = Some("ana@shop.example".into());
        let creds = [c];
        let policy = crate::Policy::default();
        let ctx = Context::new(&dir, &creds, "2025-07-01".parse().unwrap(), &policy);
        let idx = OwnerIndex::new(&ctx);
        let id = |c: Option<&str>, p: Option<&str>| idx.identity_of(c, p).map(|i| i.id.clone());
        assert_eq!(
            id(
                Some("AKIAUNLISTED"),
                Some("arn:aws:iam::111122223333:user/deploy")
            ),
            Some("E1".into()),
            "an access key id the inventory lacks, by its principal"
        );
        assert_eq!(
            id(None, Some("arn:aws:iam::111122223333:user/ana")),
            Some("E1".into()),
            "an IAM user named after the person"
        );
        assert_eq!(id(Some("AKIAOTHER"), Some("arn:aws:iam::1:user/zed")), None);
    }
}
