//! secrun: resolve secret references in the environment, then run the
//! command. `main` is the list of phases (parse, plan, resolve, assemble,
//! run) and the one place where a result becomes an exit code.

use secrun::{
    assemble, check, cli, dotenv, error, fetched, log, plan, policy, process, reference, report,
    resolve,
};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use cli::{Action, Parsed};
use error::Error;

fn main() -> ExitCode {
    // Block signals before anything else: as PID 1, a TERM that arrived while
    // the arguments were parsed would otherwise be dropped by the kernel
    // (PID 1 has no default actions). Paths that do not supervise unblock
    // them again at once.
    let _ = process::signals::SigSet::supervised().block();
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
    // Debug builds only: a panic on demand, so that the tests can show the
    // hook above never prints what was being formatted.
    #[cfg(debug_assertions)]
    if let Some((_, v)) = env.iter().find(|(k, _)| k == "__SECRUN_TEST_PANIC") {
        panic!("{}", v.to_string_lossy());
    }
    let config = match cli::parse(&args, &env) {
        Ok(Parsed::Config(c)) => c,
        Ok(Parsed::Clap { error, code }) => {
            // --help and --version print to stdout; usage errors to stderr.
            let text = error.render().to_string();
            let text = format!("{}\n", text.trim_end());
            if error.use_stderr() {
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
            } else {
                print_stdout(&text);
            }
            return ExitCode::from(code);
        }
        Err(invalid) => {
            log::init(invalid.log.0, invalid.log.1);
            log::error(&invalid.error.to_string());
            return ExitCode::from(invalid.code);
        }
    };
    log::init(config.log_format, config.log_level);
    match run(&args, env, &config) {
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

fn run(
    args: &[OsString],
    env: Vec<(OsString, OsString)>,
    config: &cli::Config,
) -> Result<u8, Vec<Error>> {
    if !matches!(config.action, Action::Run(_)) || !supervises(config.init, &env) {
        let _ = process::signals::unblock_all();
    }
    match &config.action {
        Action::Check {
            format,
            allow,
            files,
        } => {
            let report = check::check(&read_inputs(files), allow);
            print_stdout(&match format {
                cli::CheckFormat::Text => check::text(&report),
                cli::CheckFormat::Json => check::json(&report),
                cli::CheckFormat::Sarif => check::sarif(&report),
            });
            for warning in &report.warnings {
                log::warn(warning);
            }
            if *format != cli::CheckFormat::Text {
                for (file, why) in &report.unreadable {
                    log::error(&format!("{file}: cannot check: {why}"));
                }
            }
            return Ok(report.exit_code());
        }
        Action::Policy {
            kms_keys,
            region,
            watch,
            files,
        } => {
            return policy_command(config, &env, files, kms_keys, region.as_deref(), *watch);
        }
        Action::Run(_) if supervises(config.init, &env) => {
            // PID 1 resolves nothing: a fresh copy of secrun does, then execs
            // the command, so no secret value enters the supervisor.
            let code = process::supervise::run(&config.supervision, args, &env);
            return Ok(u8::try_from(code).unwrap_or(125));
        }
        _ => {}
    }
    // Signals are unblocked again (above). From here on this process may
    // hold secret values: no core dump, no ptrace by other processes. The
    // command, once exec'd, is dumpable again.
    process::signals::forbid_core_dumps();
    let started = Instant::now();
    // Errors of every phase are collected, so one start-up shows everything
    // that must be fixed.
    let (env_files, mut errors) = read_env_files(&config.env_files, config.options.interpolate);
    let mut plan = plan::plan(&env, &env_files, &config.options);
    errors.append(&mut plan.errors);

    if let Action::Explain(format) = config.action {
        print_stdout(&report::explain(&plan, format));
        return if errors.is_empty() {
            Ok(0)
        } else {
            Err(errors)
        };
    }

    let (resolved, resolve_errors) = resolve::resolve(
        &mut plan,
        config.secrets_file.as_deref(),
        config.timeout,
        &config.options.file_dirs,
    );
    errors.extend(resolve_errors);
    let command: &[OsString] = match &config.action {
        Action::Run(command) => command,
        _ => &[],
    };
    let limits = assemble::Limits {
        arg_max: process::arg_max(),
        arg_bytes: command.iter().map(|a| a.len() + 1).sum(),
        args: command.len(),
    };
    let outcome = assemble_on_a_large_stack(&plan, &resolved, &limits);
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
            "resolved {} from {} in {} ms",
            plural(from_secrets, "variable"),
            plural(plan.fetches.len() + plan.files.len(), "secret"),
            started.elapsed().as_millis()
        ));
    }
    Err(vec![process::exec(command, &outcome.env)])
}

/// `assemble` recurses once per variable in a chain of `${...}`: up to
/// `assemble::MAX_CHAIN` deep, more than the main thread's stack may hold.
/// A thread of its own gets room for it (reserved, not used, until needed).
fn assemble_on_a_large_stack(
    plan: &plan::Plan,
    resolved: &fetched::Resolved,
    limits: &assemble::Limits,
) -> assemble::Outcome {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("secrun-assemble".into())
            .stack_size(64 << 20)
            .spawn_scoped(scope, || assemble::assemble(plan, resolved, limits))
            .ok()
            .and_then(|t| t.join().ok())
    })
    .unwrap_or_else(|| assemble::assemble(plan, resolved, limits))
}

/// `1 variable`, `2 variables`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `check`'s and `policy`'s inputs: files, or standard input for `-`.
fn read_inputs(files: &[PathBuf]) -> Vec<(String, Result<String, String>)> {
    files
        .iter()
        .map(|path| {
            let name = path.to_string_lossy().into_owned();
            let bytes = if name == "-" {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
            } else {
                std::fs::read(path)
            };
            let text = bytes
                .map_err(|e| format!("cannot read it: {e}"))
                .and_then(|b| String::from_utf8(b).map_err(|_| "not valid UTF-8".to_owned()));
            (name, text)
        })
        .collect()
}

/// `secrun policy`: from files as `check` reads them, or from the
/// environment and env files as the run path sees them.
fn policy_command(
    config: &cli::Config,
    env: &[(OsString, OsString)],
    files: &[PathBuf],
    kms_keys: &[String],
    region: Option<&str>,
    watch: bool,
) -> Result<u8, Vec<Error>> {
    let var = |n: &str| {
        env.iter()
            .find(|(k, _)| k == n)
            .and_then(|(_, v)| v.to_str().map(str::to_owned))
    };
    let region = region
        .map(str::to_owned)
        .or_else(|| var("AWS_REGION"))
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "*".to_owned());
    // Usage errors: policy documents exit 2 for them.
    if !policy::is_region(&region) {
        log::error(&format!("--region {region:?} is not a region name"));
        return Ok(2);
    }
    if let Some(bad) = kms_keys.iter().find(|k| !policy::is_kms_key_arn(k)) {
        log::error(&format!(
            "--kms-key {bad}: give the key's ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); an alias does not authorise kms:Decrypt"
        ));
        return Ok(2);
    }
    let refs: Vec<reference::Reference> = if files.is_empty() {
        let (env_files, mut errors) = read_env_files(&config.env_files, config.options.interpolate);
        let mut plan = plan::plan(env, &env_files, &config.options);
        errors.append(&mut plan.errors);
        if !errors.is_empty() {
            for e in &errors {
                log::error(&e.to_string());
            }
            return Ok(2);
        }
        plan.fetches.into_iter().collect()
    } else {
        let mut refs = Vec::new();
        let mut unreadable = false;
        for (name, text) in read_inputs(files) {
            match text.and_then(|t| check::inputs::read(&name, &t)) {
                Ok(x) if !x.unknown.is_empty() => {
                    for address in &x.unknown {
                        log::error(&format!(
                            "{name}: {address}: container_definitions is not known until apply, so its references cannot be granted; run policy on the state after apply, or on the file it is rendered from"
                        ));
                    }
                    unreadable = true;
                }
                Ok(x) => match policy::references_in(&x) {
                    Ok((found, ecs_secrets)) => {
                        refs.extend(found);
                        if ecs_secrets > 0 {
                            log::info(&format!(
                                "{name}: {ecs_secrets} ECS `secrets` entries are fetched with the execution role, not the task role: they are not in this policy"
                            ));
                        }
                    }
                    Err(errors) => {
                        for e in errors {
                            log::error(&format!("{name}: {e}"));
                        }
                        unreadable = true;
                    }
                },
                Err(why) => {
                    log::error(&format!(
                        "{name}: cannot read it as a deployment file: {why}"
                    ));
                    unreadable = true;
                }
            }
        }
        if unreadable {
            return Ok(2);
        }
        refs
    };
    match policy::document(&refs, &region, kms_keys, watch) {
        Some(doc) => {
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            print_stdout(&format!("{text}\n"));
            Ok(0)
        }
        None => {
            log::error("no secret references found; there is nothing to grant");
            Ok(1)
        }
    }
}

/// Init mode: as PID 1 with `--init auto`, or with `--init always`; never in
/// the copy that a supervisor started.
fn supervises(init: cli::InitMode, env: &[(OsString, OsString)]) -> bool {
    if env.iter().any(|(k, _)| k == cli::SUPERVISED) {
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
