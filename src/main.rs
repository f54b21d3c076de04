//! secrun: resolve secret references in the environment, then run the
//! command. `main` is the list of phases (parse, plan, resolve, assemble,
//! run) and the one place where a result becomes an exit code.

use secrun::{assemble, cli, commands, error, fetched, log, plan, process, report, resolve, watch};
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use cli::{Action, Config, Parsed, Role};
use commands::print_stdout;
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
            let text = format!("{}\n", error.render().to_string().trim_end());
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
    config: &Config,
) -> Result<u8, Vec<Error>> {
    let role = cli::role(&env);
    let supervising =
        matches!(config.action, Action::Run(_)) && role == Role::Own && supervises(config.init);
    if !supervising {
        let _ = process::signals::unblock_all();
    }
    match &config.action {
        Action::Check {
            format,
            allow,
            files,
        } => return Ok(commands::check(*format, allow, files)),
        Action::Policy {
            kms_keys,
            region,
            watch,
            files,
        } => {
            return Ok(commands::policy(
                config,
                &env,
                files,
                kms_keys,
                region.as_deref(),
                *watch,
            ))
        }
        Action::Run(command) if supervising => {
            // PID 1 resolves nothing: a fresh copy of secrun does, then execs
            // the command, so no secret value enters the supervisor. When
            // nothing needs resolving (and nothing is watched), the command
            // is started directly.
            let watching = config.watch;
            // Watching needs the copy's report of what it resolved.
            let direct = watching
                .is_none()
                .then(|| nothing_to_resolve(config, &env))
                .flatten();
            let start = match direct {
                Some(env) => process::supervise::Start::command(command, env),
                None => process::supervise::Start::copy_of_secrun(args, &env),
            };
            let code = process::supervise::run(&config.supervision, start, watching.as_ref());
            return Ok(u8::try_from(code).unwrap_or(125));
        }
        Action::Run(_) if config.watch.is_some() && role == Role::Own => {
            return Err(vec![Error::Usage(
                "--watch needs init mode: secrun as PID 1 (the container's entrypoint), or --init always".into(),
            )]);
        }
        _ => {}
    }
    if role == Role::Check {
        return Ok(check_versions(config));
    }
    let pipes = Pipes::adopt(role);
    // From here on this process may hold secret values: no core dump, no
    // ptrace by other processes. The command, once exec'd, is dumpable again.
    process::signals::forbid_core_dumps();
    let started = Instant::now();
    let deadline = started + config.timeout;
    // Errors of every phase are collected, so one start-up shows everything
    // that must be fixed.
    let (env_files, mut errors) =
        commands::read_env_files(&config.env_files, config.options.interpolate, deadline);
    let mut plan = commands::plan_on_disk(&env, &env_files.parsed, &config.options);
    errors.append(&mut plan.errors);

    if let Action::Explain(format) = config.action {
        print_stdout(&report::explain(&plan, &errors, format));
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
        deadline,
        &config.options.file_dirs,
    );
    errors.extend(resolve_errors);
    let command: &[OsString] = match &config.action {
        Action::Run(command) => command,
        _ => &[],
    };
    let limits = process::limits(command);
    let outcome = assemble_with_room(&plan, &resolved, &limits);
    let watched = matches!(
        role,
        Role::Copy {
            report: Some(_),
            ..
        }
    )
    .then(|| watched(&plan, &resolved, &env_files, config));
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
    if let (Role::Copy { go: Some(_), .. }, false) = (role, errors.is_empty()) {
        // Resolving again after a change: the application keeps running,
        // so these are warnings for the supervisor's log.
        for e in &errors {
            log::warn(&format!("after a change: {e}"));
        }
        return Ok(125);
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
    if let Some(watched) = &watched {
        if !report_and_wait(pipes, watched) {
            return Ok(0);
        }
    }
    Err(vec![process::exec(command, &outcome.env)])
}

/// What this resolution used, at which version, for `--watch`: the
/// secrets and parameters, the `_FILE` files, the env files and the local
/// secrets file (files by identity). No value.
fn watched(
    plan: &plan::Plan,
    resolved: &fetched::Resolved,
    env_files: &commands::EnvFiles,
    config: &Config,
) -> watch::Watched {
    // The identities the files had when they were read, not now: a file
    // replaced since is a change the first check sees.
    let files: Vec<(std::path::PathBuf, String)> = env_files
        .identities
        .iter()
        .chain(resolved.secrets_file_id.iter())
        .cloned()
        .collect();
    watch::watched(plan, resolved, &files, config.secrets_file.is_some())
}

/// The pipes a supervisor gave this copy, taken over (and closed on exec)
/// first thing, so that no process this copy starts (a credential_process)
/// inherits them.
struct Pipes {
    report: Option<std::fs::File>,
    go: Option<std::fs::File>,
}

impl Pipes {
    fn adopt(role: Role) -> Pipes {
        match role {
            Role::Copy { report, go } => Pipes {
                report: report.and_then(process::adopt_fd),
                go: go.and_then(process::adopt_fd),
            },
            _ => Pipes {
                report: None,
                go: None,
            },
        }
    }
}

/// Tell the supervisor what was used; then, when restarting, wait for its
/// word: `true` to exec the command.
fn report_and_wait(pipes: Pipes, watched: &watch::Watched) -> bool {
    use std::io::Read;
    let mut line = serde_json::to_vec(watched).unwrap_or_default();
    line.push(b'\n');
    if let Some(mut out) = pipes.report {
        let _ = out.write_all(&line);
        // The descriptor stays open until exec closes it: the supervisor
        // learns the moment the command starts.
        std::mem::forget(out);
    }
    let Some(mut word) = pipes.go else {
        return true;
    };
    let mut byte = [0u8; 1];
    matches!(word.read(&mut byte), Ok(1) if byte[0] == b'g')
}

/// `--watch`'s check, in a short-lived copy: the list of what was used
/// comes on stdin, the versions now go to stdout.
fn check_versions(config: &Config) -> u8 {
    use std::io::Read;
    let mut input = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut input);
    let Ok(watched) = serde_json::from_slice::<watch::Watched>(&input) else {
        log::error("the list of what to check is unreadable");
        return 2;
    };
    let checked = resolve::check_versions(&watched.items, config.timeout);
    print_stdout(&serde_json::to_string(&checked).unwrap_or_default());
    0
}

/// Init mode: as PID 1 with `--init auto`, or with `--init always`.
fn supervises(init: cli::InitMode) -> bool {
    match init {
        cli::InitMode::Always => true,
        cli::InitMode::Auto => process::is_pid1(),
        cli::InitMode::Never => false,
    }
}

/// The command's environment when nothing in it needs resolving (no env
/// file, no bundle, no reference, no `${...}`, no `_FILE` to read): the
/// process environment without `SECRUN_*`. Planning is pure and sees no
/// secret, only references to them; anything else goes to the copy.
fn nothing_to_resolve(
    config: &Config,
    env: &[(OsString, OsString)],
) -> Option<Vec<(OsString, OsString)>> {
    // A secrets file or env file is read (and checked) by the copy, even
    // when nothing refers to it: a typo in its path must not pass silently.
    if !config.env_files.is_empty()
        || !config.options.from.is_empty()
        || config.secrets_file.is_some()
    {
        return None;
    }
    let plan = commands::plan_on_disk(env, &[], &config.options);
    plan.changes_nothing().then(|| {
        env.iter()
            .filter(|(k, _)| !plan::is_secrun_var(k))
            .cloned()
            .collect()
    })
}

/// `assemble` recurses once per variable in a chain of `${...}`: up to
/// `assemble::MAX_CHAIN` deep, more than the main thread's stack may hold.
/// With any `${...}` to expand, a thread of its own gets room for it
/// (reserved, not used, until needed).
fn assemble_with_room(
    plan: &plan::Plan,
    resolved: &fetched::Resolved,
    limits: &assemble::Limits,
) -> assemble::Outcome {
    if !plan.has_templates() {
        return assemble::assemble(plan, resolved, limits);
    }
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
