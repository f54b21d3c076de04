//! The only module with `unsafe`: starting the command, signals, reaping
//! and exit statuses.
//!
//! Exec mode replaces secrun with the command, so the application takes its
//! PID. Init mode (`supervise`) keeps a supervisor as PID 1 that never
//! resolves anything: it starts a fresh copy of secrun, which resolves and
//! execs the command, so the secrets live only in the application.
//!
//! Environments are built with `env_clear().envs(...)` from `OsString`s;
//! secrun never changes its own environment (`set_var` is unsafe once
//! threads exist and would leak values into `/proc/self/environ`).
#![allow(unsafe_code)]

pub mod memory;
pub mod signals;
pub mod supervise;
pub mod wait;

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::error::Error;

/// Replace this process with `command`. Returns only on failure.
pub fn exec(command: &[OsString], env: &[(OsString, OsString)]) -> Error {
    let Some((program, args)) = command.split_first() else {
        return Error::Usage("no command given".into());
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)));
    // SAFETY: reset_for_exec calls only sigemptyset, sigprocmask and
    // signal, which are async-signal-safe.
    unsafe {
        cmd.pre_exec(signals::reset_for_exec);
    }
    let source = cmd.exec();
    if source.raw_os_error() == Some(libc::E2BIG) {
        return too_big(env);
    }
    Error::Spawn {
        command: program.to_string_lossy().into_owned(),
        source,
    }
}

/// The kernel refused the environment: name the largest variables (names
/// and sizes only).
fn too_big(env: &[(OsString, OsString)]) -> Error {
    let mut sizes: Vec<(String, usize)> = env
        .iter()
        .map(|(k, v)| (k.to_string_lossy().into_owned(), k.len() + v.len() + 2))
        .collect();
    sizes.sort_by_key(|s| std::cmp::Reverse(s.1));
    sizes.truncate(5);
    Error::TooBig { largest: sizes }
}

pub fn is_pid1() -> bool {
    std::process::id() == 1
}
