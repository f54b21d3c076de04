//! secrun: resolve secret references in the environment, then run the
//! command. `main` is the list of phases (parse, plan, resolve, assemble,
//! run) and the one place where a result becomes an exit code.

mod assemble;
mod cli;
mod dotenv;
mod error;
mod log;
mod plan;
mod process;
mod provider;
mod reference;
mod report;
mod resolve;
mod secret;
mod template;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use cli::{Action, Parsed};
use error::Error;

fn main() -> ExitCode {
    // A panic message could carry anything that was being formatted; print
    // only where it happened.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        log::error(&format!("internal error{at}; please report it"));
    }));
    let args: Vec<OsString> = std::env::args_os().collect();
    let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let (format, level) = cli::log_settings(&args, &env);
    log::init(format, level);
    match run(&args, env) {
        Ok(code) => ExitCode::from(code),
        Err(errors) => {
            for e in &errors {
                log::error(&e.to_string());
            }
            let code = errors.iter().map(Error::exit_code).max().unwrap_or(125);
            ExitCode::from(u8::try_from(code).unwrap_or(125))
        }
    }
}

fn run(args: &[OsString], env: Vec<(OsString, OsString)>) -> Result<u8, Vec<Error>> {
    let config = match cli::parse(args, &env).map_err(|e| vec![e])? {
        Parsed::Config(c) => c,
        Parsed::Clap(e) => {
            // --help and --version print to stdout and exit 0; usage errors 125.
            let text = e.render().to_string();
            let text = if text.ends_with('\n') {
                text
            } else {
                text + "\n"
            };
            if e.use_stderr() {
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
            } else {
                print_stdout(&text);
            }
            return Ok(if e.use_stderr() { 125 } else { 0 });
        }
    };
    if let Action::Run(_) = &config.action {
        if supervises(config.init, &env) {
            // PID 1 resolves nothing: a fresh copy of secrun does, then execs
            // the command, so no secret value enters the supervisor.
            let how = process::supervise::Supervision {
                signal_target: config.signal_target,
                signal_map: config.signal_map.clone(),
                grace: config.grace,
            };
            let code = process::supervise::run(&how, args, &env);
            return Ok(u8::try_from(code).unwrap_or(125));
        }
    }
    let started = Instant::now();
    // Errors of every phase are collected, so one start-up shows everything
    // that must be fixed.
    let (env_files, mut errors) = read_env_files(&config.env_files, config.interpolate);
    let mut plan = plan::plan(&env, &env_files, &config);
    errors.append(&mut plan.errors);

    if let Action::Explain(format) = config.action {
        print_stdout(&report::explain(&plan, format));
        return if errors.is_empty() {
            Ok(0)
        } else {
            Err(errors)
        };
    }

    let (resolved, resolve_errors) =
        resolve::resolve(&plan, config.secrets_file.as_deref(), config.timeout);
    errors.extend(resolve_errors);
    let outcome = assemble::assemble(&plan, &resolved);
    drop(resolved);
    errors.extend(outcome.errors);
    for w in &outcome.warnings {
        log::warn(w);
    }

    if let Action::Verify(format) = config.action {
        print_stdout(&report::verify(&outcome.lines, &errors, format));
        return if errors.is_empty() {
            Ok(0)
        } else {
            Err(errors)
        };
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for line in &outcome.lines {
        log::debug(&format!("{} from {}", line.name, line.source));
    }
    let from_secrets = outcome.lines.iter().filter(|l| l.from_secret).count();
    if from_secrets > 0 {
        log::info(&format!(
            "resolved {from_secrets} variables from {} secrets in {} ms",
            plan.fetches.len() + plan.files.len(),
            started.elapsed().as_millis()
        ));
    }
    let Action::Run(command) = &config.action else {
        return Ok(0);
    };
    Err(vec![process::exec(command, &outcome.env)])
}

/// Init mode: as PID 1 with `--init auto`, or with `--init always`; never in
/// the copy that a supervisor started.
fn supervises(init: cli::InitMode, env: &[(OsString, OsString)]) -> bool {
    if env.iter().any(|(k, _)| k == process::supervise::MARKER) {
        return false;
    }
    match init {
        cli::InitMode::Always => true,
        cli::InitMode::Auto => process::is_pid1(),
        cli::InitMode::Never => false,
    }
}

fn print_stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Reads and parses every env file; a file that fails is reported (with its
/// line) and left out, and the others are still read.
fn read_env_files(
    paths: &[PathBuf],
    interpolate: bool,
) -> (Vec<(PathBuf, Vec<dotenv::Entry>)>, Vec<Error>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let bad = |line, message| Error::EnvFile {
            path: path.clone(),
            line,
            message,
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                errors.push(bad(None, format!("cannot read it: {e}")));
                continue;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
                errors.push(bad(Some(line), "not valid UTF-8".into()));
                continue;
            }
        };
        match dotenv::parse(&text, interpolate) {
            Ok(entries) => files.push((path.clone(), entries)),
            Err(e) => errors.push(bad(Some(e.line), e.message)),
        }
    }
    (files, errors)
}
