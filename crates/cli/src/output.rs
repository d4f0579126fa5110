//! Where output goes and how it looks: logging to stderr, colour choice, format defaults.

use crate::args::{ColorChoice, FormatArg, Global};
use credwarden_report::Format;
use std::io::IsTerminal;

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
