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
    // SAFETY: isatty, tcgetpgrp and getpgrp only inspect descriptors and
    // process state.
    unsafe {
        libc::isatty(libc::STDIN_FILENO) == 1
            && libc::tcgetpgrp(libc::STDIN_FILENO) == libc::getpgrp()
    }
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

/// Start the resolving copy of secrun and supervise it. Returns the exit
/// code for the supervisor.
pub fn run(how: &Supervision, args: &[OsString], env: &[(OsString, OsString)]) -> i32 {
    // Signals are already blocked (main does it first thing).
    let set = SigSet::supervised();
    let pid1 = super::is_pid1();
    if !pid1 {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer flag and
        // touches no memory of ours.
        let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        if rc != 0 {
            log::warn(&format!(
                "cannot become a child subreaper ({}); orphaned processes will not be reaped by secrun",
                std::io::Error::last_os_error()
            ));
        }
    }
    let program = std::env::current_exe().unwrap_or_else(|_| PathBuf::from(&args[0]));
    let tty = owns_terminal();
    let mut cmd = Command::new(&program);
    cmd.arg0(&args[0])
        .args(&args[1..])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env(MARKER, "1");
    // SAFETY: between fork and exec the closure calls only setpgid, getpgrp,
    // tcsetpgrp, setsid, sigemptyset, sigprocmask and signal, all
    // async-signal-safe. With a terminal, the child takes its own process
    // group and makes it the terminal's foreground group (as tini does) while
    // SIGTTOU is still blocked, so the call cannot stop it; without one, it
    // starts a session of its own.
    unsafe {
        cmd.pre_exec(move || {
            if tty {
                libc::setpgid(0, 0);
                libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpgrp());
            } else {
                libc::setsid();
            }
            signals::reset_for_exec()
        });
    }
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            log::error(&format!("cannot start {}: {e}", program.display()));
            return 125;
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
        if !released {
            // Start-up is over: from here on PID 1 only waits.
            memory::release_startup_pages();
            released = true;
        }
        match set.wait(timeout) {
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
