//! The `credwarden` binary: argument parsing and wiring only. Each subcommand lives in its own module.

mod archive_cmd;
mod args;
mod audit_cmd;
mod bench_cmd;
mod bench_ledger;
mod config;
mod demo_cmd;
mod detect_cmd;
mod estate;
mod eval_cmd;
mod offboard_cmd;
mod output;
mod rules_cmd;
mod scope_cmd;
mod serve_cmd;
mod sim_cmd;

use clap::Parser;

/// mimalloc: the parse threads allocate events that the detector thread frees; glibc's allocator
/// serialises that on a lock, mimalloc does not (measured: see README, Speed).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// Exit code when the run itself failed (bad input, unreadable file, bad option).
pub const EXIT_ERROR: u8 = 2;
/// Exit code when `--fail-on` was given and a finding reached that severity.
pub const EXIT_FINDINGS: u8 = 1;

/// `credwarden config check`.
fn config_check(a: &args::ConfigArgs) -> Result<u8, String> {
    let args::ConfigAction::Check { config } = &a.action;
    match config::discover(config.as_deref()) {
        None => println!("no configuration file (looked for ./credwarden.toml and the XDG config folder): the defaults apply"),
        Some(p) => {
            config::Config::load(Some(&p))?;
            println!("{}: valid", p.display());
        }
    }
    Ok(0)
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    output::init_logging(&cli.global);
    let result = match &cli.command {
        args::Command::Audit(a) => audit_cmd::run(&cli.global, a),
        args::Command::Rules(a) => rules_cmd::run(&cli.global, a),
        args::Command::Detect(a) => detect_cmd::run(&cli.global, a),
        args::Command::Archive(a) => archive_cmd::run(a),
        args::Command::Scope(a) => scope_cmd::run(a),
        args::Command::Evidence(a) => scope_cmd::evidence(a),
        args::Command::Bench(a) => bench_cmd::run(a),
        args::Command::Offboard(a) => offboard_cmd::run(a),
        args::Command::Serve(a) => serve_cmd::run(a),
        args::Command::Simulate(a) => sim_cmd::run(&cli.global, a),
        args::Command::Eval(a) => eval_cmd::run(&cli.global, a),
        args::Command::Demo(a) => demo_cmd::run(&cli.global, a),
        args::Command::Config(a) => config_check(a),
        args::Command::Completions(a) => {
            use clap::CommandFactory;
            let mut cmd = args::Cli::command();
            clap_complete::generate(a.shell, &mut cmd, "credwarden", &mut std::io::stdout());
            Ok(0)
        }
        args::Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(args::Cli::command())
                .render(&mut std::io::stdout())
                .map(|_| 0)
                .map_err(|e| e.to_string())
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("credwarden: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
