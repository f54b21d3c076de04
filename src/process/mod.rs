//! Starting the command, signals, reaping and exit statuses: the only
//! module with `unsafe` (the `pre_exec` hooks, `madvise`, and the raw system
//! calls that nix cannot make, fenced in [`raw`] with their reasons).
//!
//! Exec mode replaces secrun with the command, so the application takes its
//! PID. Init mode (`supervise`) keeps a supervisor as PID 1 that never
//! resolves anything: it starts a fresh copy of secrun, which resolves and
//! execs the command, so the secrets live only in the application.
//!
//! Environments are built with `env_clear().envs(...)` from `OsString`s;
//! secrun never changes its own environment (`set_var` is unsafe once
//! threads exist and would leak values into `/proc/self/environ`).

pub mod memory;
mod raw;
pub mod signals;
pub mod supervise;
pub mod wait;

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::assemble::{size_error, Limits};
use crate::error::Error;

/// Replace this process with `command`. Returns only on failure.
#[allow(unsafe_code)]
pub fn exec(command: &[OsString], env: &[(OsString, OsString)]) -> Error {
    let Some((program, args)) = command.split_first() else {
        return Error::Usage("no command given".into());
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)));
    // SAFETY: between fork and exec, reset_for_exec makes only
    // rt_sigprocmask and rt_sigaction calls, which are async-signal-safe.
    unsafe {
        cmd.pre_exec(signals::reset_for_exec);
    }
    let source = cmd.exec();
    if source.raw_os_error() == Some(libc::E2BIG) {
        // Refused although it looked within limits: the sizes, by name.
        return size_error(env, &limits(command));
    }
    Error::Spawn {
        command: program.to_string_lossy().into_owned(),
        source,
    }
}

/// What `execve` allows `command` and its environment.
pub fn limits(command: &[OsString]) -> Limits {
    Limits {
        arg_max: arg_max(),
        arg_bytes: command.iter().map(|a| a.len() + 1).sum(),
        args: command.len(),
    }
}

/// What `execve` takes for arguments and environment together:
/// `sysconf(_SC_ARG_MAX)`, which glibc works out from the stack limit.
fn arg_max() -> usize {
    let n = nix::unistd::sysconf(nix::unistd::SysconfVar::ARG_MAX)
        .ok()
        .flatten()
        .and_then(|n| usize::try_from(n).ok());
    n.unwrap_or(128 * 1024).max(128 * 1024)
}

/// A descriptor inherited by number from the supervisor, taken over and
/// closed on the next exec.
pub fn adopt_fd(fd: i32) -> Option<std::fs::File> {
    raw::adopt(fd)
}

pub fn is_pid1() -> bool {
    std::process::id() == 1
}
