//! Where output goes and how it looks: logging to stderr, colour choice, format defaults.

use crate::args::{ColorChoice, FindingsOutput, FormatArg, Global};
use credwarden_model::Finding;
use credwarden_report::Format;
use std::io::IsTerminal;
use std::io::Write;

/// Send logs to stderr; data goes to stdout.
pub fn init_logging(g: &Global) {
    let level = if g.quiet {
        "error"
    } else {
        match g.verbose {
            0 => "warn",
            1 => "info",
            _ => "debug",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(stderr_color(g.color))
        .with_target(false)
        .without_time()
        .try_init();
}

fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Colour decision for data written to stdout (or a file: never coloured in auto mode).
pub fn stdout_color(choice: ColorChoice, to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !to_file && !no_color_env() && std::io::stdout().is_terminal(),
    }
}

fn stderr_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color_env() && std::io::stderr().is_terminal(),
    }
}

/// Chosen format, or table on a terminal and OCSF JSON otherwise.
pub fn format(arg: Option<FormatArg>, to_file: bool) -> Format {
    match arg {
        Some(FormatArg::Table) => Format::Table,
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Csv) => Format::Csv,
        None if !to_file && std::io::stdout().is_terminal() => Format::Table,
        None => Format::Json,
    }
}

/// Write findings as `o` asks (file or stdout, format, colour); a closed pipe (`| head`) is not an error.
pub fn write_findings(g: &Global, o: &FindingsOutput, findings: &[Finding]) -> Result<(), String> {
    write_findings_to(g, o, findings, false)
}

/// Write findings to `-o FILE` (appended with `append`, flushed to disk before returning, so a
/// caller may then record them as reported) or stdout.
pub fn write_findings_to(
    g: &Global,
    o: &FindingsOutput,
    findings: &[Finding],
    append: bool,
) -> Result<(), String> {
    let to_file = o.output.is_some();
    let fmt = format(o.format, to_file);
    let color = stdout_color(g.color, to_file);
    let res = match &o.output {
        Some(p) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(p)
                .map_err(|e| format!("{}: cannot create: {e}", p.display()))?;
            let mut f = std::io::BufWriter::with_capacity(1 << 16, f);
            credwarden_report::write(&mut f, findings, fmt, color)
                .and_then(|_| f.flush())
                .and_then(|_| credwarden_sink::sync_to_disk(f.get_ref()))
        }
        None => {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            credwarden_report::write(&mut out, findings, fmt, color).and_then(|_| out.flush())
        }
    };
    match res {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| format!("writing findings: {e}")),
    }
}

/// Fingerprints (32 hex digits) already in a findings file (OCSF JSON lines or CSV), for a run
/// recovering from a crash to append only what the file lacks. Missing file: none.
pub fn fingerprints_in(path: &std::path::Path) -> std::collections::HashSet<String> {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
        .collect()
}

/// Exit code: [`crate::EXIT_FINDINGS`] when `--fail-on` is met, else 0.
pub fn exit_code(o: &FindingsOutput, findings: &[Finding]) -> u8 {
    match o.fail_on {
        Some(t) if findings.iter().any(|f| f.severity >= t) => crate::EXIT_FINDINGS,
        _ => 0,
    }
}

/// `value` as pretty JSON (and a newline) in the file at `path`; errors name the file.
pub fn write_json_file(
    path: &std::path::Path,
    value: &impl serde::Serialize,
) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())? + "\n";
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
