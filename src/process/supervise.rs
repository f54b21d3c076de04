//! Init mode: what PID 1 does (tini's and catatonit's job), and the
//! subreaper variant for `--init always`.
//!
//! The supervisor blocks signals before anything else, starts a fresh copy
//! of secrun (marked with `SECRUN_SUPERVISED`) in a session or process group
//! of its own, and then only waits: it forwards every signal except SIGCHLD
//! to the command's process group (or the child alone), reaps every zombie,
//! and exits with the main child's status. It never resolves a reference, so
//! no secret value ever enters its memory. Once the command runs, it never
//! bails out: failures to forward are ignored, as catatonit does.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use super::memory;
use super::signals::{self, SigSet};
use super::wait::{exit_code_of, reap_one, Reaped};
use crate::cli::SUPERVISED as MARKER;
use crate::log;

/// Where forwarded signals go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalTarget {
    /// The command's process group.
    Group,
    /// The command alone.
    Child,
}

/// How long the command runs before PID 1 releases its start-up pages.
const SETTLE: Duration = Duration::from_millis(50);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supervision {
    pub signal_target: SignalTarget,
    pub signal_map: Vec<(i32, i32)>,
    pub grace: Duration,
}

/// The signal forwarded for `sig`, after `--signal-map`.
pub fn mapped(map: &[(i32, i32)], sig: i32) -> i32 {
    map.iter()
        .find(|(from, _)| *from == sig)
        .map_or(sig, |(_, to)| *to)
}

/// Whether stdin is a terminal whose foreground process group is ours: only
/// then is it ours to hand to the command. (As a subreaper started from an
/// interactive shell in the background, taking it would steal the shell's
/// terminal.)
fn owns_terminal() -> bool {
    use std::io::IsTerminal;
    let stdin = std::io::stdin();
    stdin.is_terminal() && nix::unistd::tcgetpgrp(&stdin).ok() == Some(nix::unistd::getpgrp())
}

/// The supervisor's own children, from `/proc/self/task/*/children`: what
/// `--grace` stops besides the command's group, since a process may have
/// left the group (setsid) and orphans are re-parented here.
fn children() -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok()),
            );
        }
    }
    out
}

/// Signal what is left after the main child: everything in the namespace as
/// PID 1; otherwise the command's group and every remaining child.
fn signal_rest(pid1: bool, group: i32, sig: i32) {
    if pid1 {
        signals::send(-1, sig);
        return;
    }
    signals::send(-group, sig);
    for child in children() {
        signals::send(child, sig);
    }
}

/// What the supervisor starts: the resolving copy of secrun, or, when
/// nothing needs resolving, the command itself.
pub struct Start {
    pub program: PathBuf,
    /// `argv[0]` as the child should see it.
    pub arg0: OsString,
    pub args: Vec<OsString>,
    pub env: Vec<(OsString, OsString)>,
}

impl Start {
    /// The command itself, with `env`.
    pub fn command(command: &[OsString], env: Vec<(OsString, OsString)>) -> Start {
        Start {
            program: PathBuf::from(&command[0]),
            arg0: command[0].clone(),
            args: command[1..].to_vec(),
            env,
        }
    }

    /// A fresh copy of this secrun with the same arguments, marked so that
    /// it resolves and execs instead of supervising.
    pub fn copy_of_secrun(args: &[OsString], env: &[(OsString, OsString)]) -> Start {
        let program = std::env::current_exe().unwrap_or_else(|_| PathBuf::from(&args[0]));
        let mut env = env.to_vec();
        env.push((OsString::from(MARKER), OsString::from("1")));
        Start {
            program,
            arg0: args[0].clone(),
            args: args[1..].to_vec(),
            env,
        }
    }
}

/// Start `start` and supervise it. Returns the exit code for the
/// supervisor: the child's, or 125 (secrun could not start it), 126 or
/// 127 (the command could not be run).
#[allow(unsafe_code)]
pub fn run(how: &Supervision, start: Start) -> i32 {
    // Signals are already blocked (main does it first thing).
    let set = SigSet::supervised();
    let pid1 = super::is_pid1();
    if !pid1 {
        if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
            log::warn(&format!(
                "cannot become a child subreaper ({e}); orphaned processes will not be reaped by secrun"
            ));
        }
    }
    let tty = owns_terminal();
    let mut cmd = Command::new(&start.program);
    cmd.arg0(&start.arg0)
        .args(&start.args)
        .env_clear()
        .envs(start.env.iter().map(|(k, v)| (k, v)));
    // SAFETY: between fork and exec the closure calls only setpgid, getpgrp,
    // tcsetpgrp, setsid, rt_sigprocmask and rt_sigaction, all
    // async-signal-safe. With a terminal, the child takes its own process
    // group and makes it the terminal's foreground group (as tini does) while
    // SIGTTOU is still blocked, so the call cannot stop it; without one, it
    // starts a session of its own.
    unsafe {
        cmd.pre_exec(move || {
            use nix::unistd::{getpgrp, setpgid, setsid, tcsetpgrp, Pid};
            if tty {
                let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
                let _ = tcsetpgrp(std::io::stdin(), getpgrp());
            } else {
                let _ = setsid();
            }
            signals::reset_for_exec()
        });
    }
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(source) => {
            let error = crate::error::Error::Spawn {
                command: start.program.to_string_lossy().into_owned(),
                source,
            };
            log::error(&error.to_string());
            return error.exit_code();
        }
    };
    let pid = child.id() as i32;
    // The child leads its own group, so the group id is its pid.
    let target = match how.signal_target {
        SignalTarget::Group => -pid,
        SignalTarget::Child => pid,
    };
    log::debug(&format!(
        "supervising pid {pid} as {}",
        if pid1 { "PID 1" } else { "a subreaper" }
    ));

    let mut main_status = None;
    let mut grace_deadline: Option<Instant> = None;
    let mut released = false;
    let spawned = Instant::now();
    loop {
        let mut children_left = true;
        loop {
            match reap_one() {
                Reaped::Child(p, status) if p == pid => main_status = Some(status),
                Reaped::Child(..) => {}
                Reaped::Running => break,
                Reaped::None => {
                    children_left = false;
                    break;
                }
            }
        }
        if let Some(status) = main_status {
            let code = exit_code_of(status);
            if how.grace.is_zero() || !children_left {
                return code;
            }
            match grace_deadline {
                None => {
                    signal_rest(pid1, pid, libc::SIGTERM);
                    grace_deadline = Some(Instant::now() + how.grace);
                }
                Some(deadline) if Instant::now() >= deadline => {
                    signal_rest(pid1, pid, libc::SIGKILL);
                    return code;
                }
                Some(_) => {}
            }
        }
        let timeout = match grace_deadline {
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1)),
            None => Duration::from_secs(3600),
        };
        // Start-up is over once the command has run for a moment: from then
        // on PID 1 only waits, and the pages start-up left are released. A
        // command that ends at once never waits for that.
        let timeout = if released {
            timeout
        } else {
            timeout.min(
                SETTLE
                    .saturating_sub(spawned.elapsed())
                    .max(Duration::from_millis(1)),
            )
        };
        let got = set.wait(timeout);
        if !released && spawned.elapsed() >= SETTLE {
            memory::release_startup_pages();
            released = true;
        }
        match got {
            None | Some(libc::SIGCHLD) => {}
            Some(sig) if main_status.is_none() => {
                let to = mapped(&how.signal_map, sig);
                if !signals::send(target, to) {
                    log::debug(&format!("could not forward signal {to} to {target}"));
                }
                // A stopped command acts on TERM only once continued, and
                // `docker stop` must not wait for its KILL for that.
                if to == libc::SIGTERM {
                    signals::send(target, libc::SIGCONT);
                }
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_map_rewrites_only_what_it_names() {
        let map = [(libc::SIGTERM, libc::SIGQUIT)];
        assert_eq!(mapped(&map, libc::SIGTERM), libc::SIGQUIT);
        assert_eq!(mapped(&map, libc::SIGHUP), libc::SIGHUP);
    }
}
