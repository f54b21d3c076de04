//! The shell around the pure modules for the subcommands that read files
//! and print: `check` and `policy`, and the env files the run path reads.
//! Reading happens here; checking, planning and policy making do not.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use crate::cli::{CheckFormat, Config};
use crate::error::Error;
use crate::{check, dotenv, log, plan, policy, reference};

pub fn print_stdout(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// `secrun check`: exit 0 clean, 1 findings, 2 unreadable input.
pub fn check(format: CheckFormat, allow: &[String], files: &[PathBuf]) -> u8 {
    let report = check::check(&read_inputs(files), allow);
    let cwd = std::env::current_dir().ok();
    print_stdout(&match format {
        CheckFormat::Text => check::text(&report),
        CheckFormat::Json => check::json(&report),
        CheckFormat::Sarif => check::sarif(&report, cwd.as_deref()),
    });
    for warning in &report.warnings {
        log::warn(warning);
    }
    if format != CheckFormat::Text {
        for (file, why) in &report.unreadable {
            log::error(&format!("{file}: cannot check: {why}"));
        }
    }
    report.exit_code()
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
pub fn policy(
    config: &Config,
    env: &[(OsString, OsString)],
    files: &[PathBuf],
    kms_keys: &[String],
    region: Option<&str>,
    watch: bool,
) -> u8 {
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
        return 2;
    }
    if let Some(bad) = kms_keys.iter().find(|k| !policy::is_kms_key_arn(k)) {
        log::error(&format!(
            "--kms-key {bad}: give the key's ARN (arn:aws:kms:REGION:ACCOUNT:key/ID); an alias does not authorise kms:Decrypt"
        ));
        return 2;
    }
    let refs: Vec<reference::Reference> = if files.is_empty() {
        let deadline = std::time::Instant::now() + config.timeout;
        let (env_files, mut errors) =
            read_env_files(&config.env_files, config.options.interpolate, deadline);
        let mut plan = plan_on_disk(env, &env_files.parsed, &config.options);
        errors.append(&mut plan.errors);
        if !errors.is_empty() {
            for e in &errors {
                log::error(&e.to_string());
            }
            return 2;
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
            return 2;
        }
        refs
    };
    match policy::document(&refs, &region, kms_keys, watch) {
        Some(doc) => {
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            print_stdout(&format!("{text}\n"));
            0
        }
        None => {
            log::error("no secret references found; there is nothing to grant");
            1
        }
    }
}

/// The env files read: each one's entries, and its identity when it was
/// read (for `--watch`).
#[derive(Default)]
pub struct EnvFiles {
    pub parsed: Vec<(PathBuf, Vec<dotenv::Entry>)>,
    pub identities: Vec<(PathBuf, String)>,
}

/// Reads and parses every env file; a file that fails is reported (with its
/// line) and left out, and the others are still read.
pub fn read_env_files(
    paths: &[PathBuf],
    interpolate: bool,
    deadline: std::time::Instant,
) -> (EnvFiles, Vec<Error>) {
    let mut files = EnvFiles::default();
    let mut errors = Vec::new();
    for path in paths {
        let bad = |line, message| Error::EnvFile {
            path: path.clone(),
            line,
            message,
        };
        let read = crate::resolve::read_within(
            path,
            crate::resolve::MAX_LOCAL_BYTES,
            "too large for an env file",
            deadline,
        );
        let bytes = match read {
            Ok((b, meta)) => {
                let identity = crate::resolve::identity(&meta);
                files.identities.push((path.clone(), identity));
                b
            }
            Err(e) => {
                errors.push(bad(None, e));
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
            Ok(entries) => files.parsed.push((path.clone(), entries)),
            Err(e) => errors.push(bad(Some(e.line), e.message)),
        }
    }
    (files, errors)
}

/// The plan, with `_FILE` paths decided on disk: every place that plans
/// (the run, PID 1's "anything to resolve?", `policy`) goes through here.
pub fn plan_on_disk(
    env: &[(OsString, OsString)],
    env_files: &[(PathBuf, Vec<dotenv::Entry>)],
    options: &plan::Options,
) -> plan::Plan {
    let mut options = options.clone();
    options.real_paths = real_paths(env, env_files, &options);
    plan::plan(env, env_files, &options)
}

/// Candidate `_FILE` paths and the secrets directories, with their links
/// resolved where they exist, so that the planner decides on real paths
/// (`/var/run/secrets` is `/run/secrets` where `/var/run` links to `/run`).
fn real_paths(
    env: &[(OsString, OsString)],
    env_files: &[(PathBuf, Vec<dotenv::Entry>)],
    options: &plan::Options,
) -> std::collections::BTreeMap<PathBuf, PathBuf> {
    let mut out = std::collections::BTreeMap::new();
    let Some(suffix) = &options.file_suffix else {
        return out;
    };
    let mut candidates: Vec<PathBuf> = options.file_dirs.clone();
    candidates.extend(
        env.iter()
            .filter(|(k, _)| k.to_string_lossy().ends_with(suffix.as_str()))
            .map(|(_, v)| PathBuf::from(v)),
    );
    for (_, entries) in env_files {
        for e in entries {
            if let (true, dotenv::Value::Template(v) | dotenv::Value::Literal(v)) =
                (e.key.ends_with(suffix.as_str()), &e.value)
            {
                candidates.push(PathBuf::from(v));
            }
        }
    }
    for c in candidates {
        if let Ok(real) = c.canonicalize() {
            out.insert(c, real);
        }
    }
    out
}
