//! The TOML config file. Unknown keys are errors, so a typo never silently keeps a default.

use credwarden_audit::Policy;
use serde::Deserialize;
use std::path::Path;

/// Whole config file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Audit thresholds.
    pub audit: Policy,
    /// How the HR export names its columns (`[hr]`).
    pub hr: HrSection,
    /// Field mappings of JSON-lines logs that are not in a built-in format (`[[log]]`).
    pub log: Vec<credwarden_ingest::jsonlines::LogMapping>,
    /// Offboarding: journal, approvers and connectors (`[respond]`), defined with them in
    /// `credwarden-respond`.
    pub respond: credwarden_respond::config::RespondConfig,
}

/// `[hr]`: the roster export as it comes.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HrSection {
    /// Roster field → the column (or JSON key) the export uses for it, accepted besides the
    /// built-in spellings (`[hr.columns]` with e.g. `id = "Badge"`, `end_date = "Gone On"`). Fields:
    /// id, emails, usernames, display_name, first_name, last_name, kind, status, start_date,
    /// end_date, manager, department.
    pub columns: std::collections::BTreeMap<String, String>,
}

/// Where the configuration comes from when `--config` (or `CREDWARDEN_CONFIG`, which clap reads
/// into it) does not say: `./credwarden.toml`, then `$XDG_CONFIG_HOME/credwarden/credwarden.toml`
/// (`~/.config/…` without it). `None`: no file, the defaults.
pub fn discover(given: Option<&Path>) -> Option<std::path::PathBuf> {
    if let Some(p) = given {
        return Some(p.to_path_buf());
    }
    let here = std::path::PathBuf::from("credwarden.toml");
    if here.is_file() {
        return Some(here);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".config"))
        })?;
    let xdg = base.join("credwarden").join("credwarden.toml");
    xdg.is_file().then_some(xdg)
}

impl Config {
    /// Load and validate the configuration `--config` names, or the one [`discover`] finds; none
    /// gives the defaults.
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        let found = discover(path);
        let Some(path) = found.as_deref() else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read config: {e}", path.display()))?;
        let cfg: Config = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| 1 + text[..s.start].matches('\n').count());
            let at = line.map(|l| format!(":{l}")).unwrap_or_default();
            format!("{}{at}: {}", path.display(), e.message())
        })?;
        cfg.audit
            .validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        credwarden_ingest::hr::fields_with(&cfg.hr.columns)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let mut names = std::collections::HashSet::new();
        if let Some(dup) = cfg.log.iter().find(|l| !names.insert(&l.name)) {
            return Err(format!(
                "{}: two [[log]] mappings are named `{}`",
                path.display(),
                dup.name
            ));
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(s: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, s).unwrap();
        Config::load(Some(&p)).map_err(|e| e.replace(&p.display().to_string(), "c.toml"))
    }

    #[test]
    fn overrides_and_defaults() {
        let c = load_str("[audit]\nrotation_max_days = 30\n").unwrap();
        assert_eq!(c.audit.rotation_max_days, 30);
        assert_eq!(c.audit.unused_warn_days, 45);
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        let e = load_str("[audit]\nrotation_max_dayz = 30\n").unwrap_err();
        assert!(
            e.starts_with("c.toml:2: unknown field `rotation_max_dayz`"),
            "{e}"
        );
        let e = load_str("[audit]\nunused_warn_days = 100\nunused_max_days = 90\n").unwrap_err();
        assert!(e.contains("must not exceed"), "{e}");
        let e = load_str("[[log]]\nname = \"kong\"\nkind = \"gateway\"\npath_contains = \"kong\"\n[log.fieldz]\n").unwrap_err();
        assert!(
            e.starts_with("c.toml:5:") && e.contains("unknown field `fieldz`"),
            "{e}"
        );
        let two = "[[log]]\nname = \"k\"\nkind = \"gateway\"\npath_contains = \"a\"\n";
        let e = load_str(&format!("{two}{two}")).unwrap_err();
        assert!(e.contains("two [[log]] mappings are named `k`"), "{e}");
    }

    /// Every `[respond]` section the example config documents (commented out there) parses as
    /// written once uncommented: the example cannot drift from the types.
    #[test]
    fn the_example_respond_sections_parse() {
        let text = include_str!("../../../examples/credwarden.toml");
        let start = text
            .find("# [respond]")
            .expect("the example documents [respond]");
        let respond: String = text[start..]
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| l.trim_start_matches('#').trim_start())
            .filter(|l| !l.starts_with("---"))
            .map(|l| format!("{l}\n"))
            .collect();
        let c = load_str(&respond).unwrap_or_else(|e| panic!("{e}\n{respond}"));
        assert!(c.respond.ssh.is_some() && c.respond.secrets_manager.is_some());
        assert!(c.respond.aws.is_some() && c.respond.scim.is_some());
        assert_eq!(c.respond.retry_seconds, Some(30));
    }

    #[test]
    fn log_mappings_load() {
        let c = load_str("[[log]]\nname = \"kong\"\nkind = \"gateway\"\npath_contains = \"kong/\"\n[log.fields]\ntime = \"started_at\"\n").unwrap();
        assert_eq!(c.log[0].mapping.time, "/started_at");
    }
}
