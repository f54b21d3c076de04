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
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::memory;
use super::signals::{self, SigSet};
use super::wait::{exit_code_of, reap_one, Reaped};
use crate::cli::SUPERVISED as MARKER;
use crate::{log, watch};

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
#[derive(Clone)]
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
        Start {
            program,
            arg0: args[0].clone(),
            args: args[1..].to_vec(),
            env: env.to_vec(),
        }
        .marked("1")
    }

    /// The same start with `SECRUN_SUPERVISED` set to `role`.
    fn marked(&self, role: &str) -> Start {
        let mut start = self.clone();
        start.env.retain(|(k, _)| k != MARKER);
        start
            .env
            .push((OsString::from(MARKER), OsString::from(role)));
        start
    }
}

/// `--watch`: check every `interval` (±20%), act on a change after a random
/// delay up to `spread`, and restart the command or (`exit`, `--on-change
/// exit`) stop it and end secrun.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watching {
    pub interval: Duration,
    pub spread: Duration,
    pub exit: bool,
}

/// How a child is started.
enum Spawn {
    /// Its own session; or, when secrun owns a terminal (`tty`, decided once
    /// before the first child takes the foreground), its own process group
    /// in secrun's session, made the terminal's foreground when `foreground`
    /// (the command, and copies that exec it).
    Command { tty: bool, foreground: bool },
    /// Its own session, stdin and stdout piped (a checking copy).
    Piped,
}

/// Start `start`, keeping the descriptors `keep` open across its exec.
#[allow(unsafe_code)]
fn spawn(start: &Start, how: Spawn, keep: Vec<i32>) -> std::io::Result<std::process::Child> {
    let mut cmd = Command::new(&start.program);
    cmd.arg0(&start.arg0)
        .args(&start.args)
        .env_clear()
        .envs(start.env.iter().map(|(k, v)| (k, v)));
    let (tty, foreground) = match how {
        Spawn::Command { tty, foreground } => (tty, foreground),
        Spawn::Piped => {
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
            (false, false)
        }
    };
    // SAFETY: between fork and exec the closure calls only setpgid, getpgrp,
    // tcsetpgrp, setsid, fcntl, rt_sigprocmask and rt_sigaction, all
    // async-signal-safe. With a terminal, the child takes its own process
    // group and (when it is to be the foreground) makes it the terminal's
    // foreground group, as tini does, while SIGTTOU is still blocked, so the
    // call cannot stop it; without one, it starts a session of its own.
    unsafe {
        cmd.pre_exec(move || {
            use nix::unistd::{getpgrp, setpgid, setsid, tcsetpgrp, Pid};
            if tty {
                let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
                if foreground {
                    let _ = tcsetpgrp(std::io::stdin(), getpgrp());
                }
            } else {
                let _ = setsid();
            }
            for fd in &keep {
                if !super::raw::keep_across_exec(*fd) {
                    return Err(std::io::Error::last_os_error());
                }
            }
            signals::reset_for_exec()
        });
    }
    cmd.spawn()
}

/// A pipe whose ends are closed on exec unless kept: (read, write).
fn pipe() -> std::io::Result<(std::fs::File, std::fs::File)> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    Ok((std::fs::File::from(r), std::fs::File::from(w)))
}

fn nonblocking(file: &std::fs::File) {
    let _ = nix::fcntl::fcntl(
        file,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    );
}

/// What has come through a non-blocking pipe so far, and whether it has
/// ended (every writer closed it, or exec'd).
struct Reader {
    file: std::fs::File,
    buf: Vec<u8>,
    ended: bool,
}

impl Reader {
    fn new(file: std::fs::File) -> Reader {
        nonblocking(&file);
        Reader {
            file,
            buf: Vec::new(),
            ended: false,
        }
    }

    fn pump(&mut self) {
        use std::io::Read;
        let mut chunk = [0u8; 4096];
        while !self.ended {
            match self.file.read(&mut chunk) {
                Ok(0) => self.ended = true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }

    /// The first complete line, once it has come.
    fn line(&self) -> Option<&[u8]> {
        let end = self.buf.iter().position(|&b| b == b'\n')?;
        Some(&self.buf[..end])
    }
}

/// A checking copy: asks for versions only, reports on stdout.
struct Checker {
    pid: i32,
    out: Reader,
    started: Instant,
    /// What is still to be written to its stdin (without blocking PID 1).
    input: Vec<u8>,
    stdin: Option<std::fs::File>,
}

impl Checker {
    /// Write what its stdin takes now; close it once all is written.
    fn feed(&mut self) {
        let Some(stdin) = self.stdin.as_mut() else {
            return;
        };
        while !self.input.is_empty() {
            match stdin.write(&self.input) {
                Ok(0) => break,
                Ok(n) => {
                    self.input.drain(..n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.input.clear();
                    break;
                }
            }
        }
        self.stdin = None;
    }
}

/// A copy resolving again after a change, and where the restart stands.
struct Restart {
    pid: i32,
    report: Reader,
    go: Option<std::fs::File>,
    changed: Vec<String>,
    state: Phase,
    /// The copy ended while the old application was being stopped.
    gone: Option<super::wait::WaitStatus>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The copy is resolving; the application runs on.
    Resolving,
    /// The copy has resolved; the old application is being stopped.
    Stopping { since: Instant, killed: bool },
    /// The old application has exited; the copy was told to go on.
    Starting { down_since: Instant },
}

/// What PID 1 knows while watching: versions, never values.
struct Watch<'a> {
    setup: &'a Watching,
    /// Whether secrun owned a terminal when it started the command: each
    /// new command is then made its foreground.
    tty: bool,
    template: Start,
    watched: Option<watch::Watched>,
    initial: Option<Reader>,
    next_check: Instant,
    checker: Option<Checker>,
    change: Option<(Instant, Vec<String>)>,
    restart: Option<Restart>,
    /// A stop signal came: nothing is checked or restarted any more.
    shutting_down: bool,
}

/// Start `start` and supervise it (and, with `watching`, restart it when
/// what it was resolved from changes). Returns the exit code for the
/// supervisor: the command's, or 125 (secrun could not start it), 126 or
/// 127 (the command could not be run).
pub fn run(how: &Supervision, start: Start, watching: Option<&Watching>) -> i32 {
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
    let mut watch = None;
    let tty = owns_terminal();
    let first = match watching {
        None => spawn(
            &start,
            Spawn::Command {
                tty,
                foreground: true,
            },
            Vec::new(),
        ),
        Some(setup) => {
            // The resolving copy reports what it used on a pipe of its own.
            let (report_r, report_w) = match pipe() {
                Ok(p) => p,
                Err(e) => {
                    log::error(&format!("cannot start watching: {e}"));
                    return 125;
                }
            };
            let fd = report_w.as_raw_fd();
            let marked = start.marked(&format!("watch:{fd}"));
            let child = spawn(
                &marked,
                Spawn::Command {
                    tty,
                    foreground: true,
                },
                vec![fd],
            );
            drop(report_w);
            watch = Some(Watch {
                setup,
                tty,
                template: start.clone(),
                watched: None,
                initial: Some(Reader::new(report_r)),
                next_check: Instant::now() + next_check(setup.interval),
                checker: None,
                change: None,
                restart: None,
                shutting_down: false,
            });
            child
        }
    };
    let child = match first {
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
    let mut app = child.id() as i32;
    log::debug(&format!(
        "supervising pid {app} as {}",
        if pid1 { "PID 1" } else { "a subreaper" }
    ));

    let target = |app: i32| match how.signal_target {
        // The child leads its own group, so the group id is its pid.
        SignalTarget::Group => -app,
        SignalTarget::Child => app,
    };
    let mut main_status = None;
    let mut grace_deadline: Option<Instant> = None;
    let mut released = false;
    let spawned = Instant::now();
    loop {
        let mut children_left = true;
        loop {
            match reap_one() {
                Reaped::Child(p, status) if p == app => {
                    match watch.as_mut().and_then(|w| w.old_app_stopped()) {
                        // The old application, stopped for a restart.
                        Some(next) => match next {
                            Next::Exit => {
                                signals::send(-app, libc::SIGKILL);
                                return 0;
                            }
                            Next::Go(new_app) => {
                                // What is left of the old application's
                                // group goes with it: no orphan stays.
                                signals::send(-app, libc::SIGKILL);
                                app = new_app;
                            }
                            Next::StopHere => {
                                signals::send(-app, libc::SIGKILL);
                                return exit_code_of(status);
                            }
                            Next::Failed(code) => return code,
                        },
                        None => {
                            main_status = Some(status);
                            if let Some(w) = watch.as_mut() {
                                w.abandon();
                            }
                        }
                    }
                }
                Reaped::Child(p, status) => {
                    if let Some(w) = watch.as_mut() {
                        if let Some(code) = w.reaped(p, status) {
                            // The restarted command could not be run.
                            return code;
                        }
                        // A helper ended: what it touched is released.
                        released = false;
                    }
                }
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
                    signal_rest(pid1, app, libc::SIGTERM);
                    grace_deadline = Some(Instant::now() + how.grace);
                }
                Some(deadline) if Instant::now() >= deadline => {
                    signal_rest(pid1, app, libc::SIGKILL);
                    return code;
                }
                Some(_) => {}
            }
        }
        let mut timeout = match grace_deadline {
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1)),
            None => Duration::from_secs(3600),
        };
        if main_status.is_none() {
            if let Some(w) = watch.as_mut() {
                if w.step(how, &mut app) {
                    // A restart completed or a helper ended: start-up pages
                    // it touched are released again.
                    released = false;
                }
                timeout = timeout.min(w.wake_in());
            }
        }
        // Start-up is over once the command has run for a moment: from then
        // on PID 1 only waits, and the pages start-up left are released. A
        // command that ends at once never waits for that. The release comes
        // last before the wait, so that what stays resident while PID 1
        // sleeps is only what the wait itself touches: while watching, the
        // code of a check's round comes back at the next check and goes
        // again once it is over.
        if !released {
            let settled = spawned.elapsed();
            if settled < SETTLE {
                timeout = timeout.min((SETTLE - settled).max(Duration::from_millis(1)));
            } else if watch.as_ref().is_none_or(Watch::idle) {
                memory::release_startup_pages();
                released = true;
            }
        }
        let got = set.wait(timeout);
        match got {
            None | Some(libc::SIGCHLD) => {}
            Some(sig) if main_status.is_none() => {
                let to = mapped(&how.signal_map, sig);
                if let Some(w) = watch.as_mut() {
                    w.signalled(sig, to);
                }
                let t = target(app);
                if !signals::send(t, to) {
                    log::debug(&format!("could not forward signal {to} to {t}"));
                }
                // A stopped command acts on TERM only once continued, and
                // `docker stop` must not wait for its KILL for that.
                if to == libc::SIGTERM {
                    signals::send(t, libc::SIGCONT);
                }
            }
            Some(_) => {}
        }
    }
}

/// What follows the old application's exit during a restart.
enum Next {
    /// `--on-change exit`: secrun exits 0.
    Exit,
    /// The new application (the copy, exec'ing) is now the one supervised.
    Go(i32),
    /// TERM came during the restart: secrun exits with the old one's status.
    StopHere,
    /// The copy that was to start the new one ended first: exit with this.
    Failed(i32),
}

fn next_check(interval: Duration) -> Duration {
    watch::next_check(interval, crate::provider::random_unit())
}

/// The longest a check may run before it is ended.
const CHECK_LIMIT: Duration = Duration::from_secs(120);

/// How long `docker stop` waits before KILL; `--grace` when it is set.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

impl Watch<'_> {
    /// Nothing in flight: no report awaited, no check, no restart.
    fn idle(&self) -> bool {
        self.initial.is_none() && self.checker.is_none() && self.restart.is_none()
    }

    /// How soon the loop must look again.
    fn wake_in(&self) -> Duration {
        if !self.idle() {
            // Pipes do not wake the wait for signals: look often while
            // something is in flight.
            return Duration::from_millis(20);
        }
        let now = Instant::now();
        let mut at = self.next_check;
        if let Some((act_at, _)) = &self.change {
            at = at.min(*act_at);
        }
        at.saturating_duration_since(now)
            .max(Duration::from_millis(1))
    }

    /// The application exited by itself: nothing more to check or start.
    fn abandon(&mut self) {
        if let Some(c) = self.checker.take() {
            signals::send(c.pid, libc::SIGKILL);
        }
        if let Some(r) = self.restart.take() {
            signals::send(r.pid, libc::SIGKILL);
        }
        self.change = None;
    }

    /// A signal is being forwarded. One that stops the application (TERM,
    /// INT or QUIT, before or after `--signal-map`: `docker stop`) ends
    /// watching: no check or restart starts again, a resolving copy is
    /// ended, and a restart under way stops where it is. Once the new
    /// application is starting, it gets the signal itself.
    fn signalled(&mut self, sig: i32, to: i32) {
        let stops = |s: i32| matches!(s, libc::SIGTERM | libc::SIGINT | libc::SIGQUIT);
        if !(stops(sig) || stops(to)) {
            return;
        }
        self.shutting_down = true;
        self.change = None;
        if let Some(c) = self.checker.take() {
            signals::send(c.pid, libc::SIGKILL);
        }
        if let Some(r) = &self.restart {
            if !matches!(r.state, Phase::Starting { .. }) {
                signals::send(r.pid, libc::SIGKILL);
            }
        }
    }

    /// `pid`, the application, exited: if it was stopped for a restart,
    /// what follows.
    fn old_app_stopped(&mut self) -> Option<Next> {
        let r = self.restart.as_mut()?;
        let Phase::Stopping {
            since: down_since, ..
        } = r.state
        else {
            return None;
        };
        let mut go = r.go.take();
        if self.shutting_down {
            return Some(Next::StopHere);
        }
        if let Some(status) = r.gone {
            // Nothing is left to start: secrun ends with the copy's status.
            return Some(Next::Failed(exit_code_of(status)));
        }
        if self.setup.exit {
            if let Some(g) = go.as_mut() {
                let _ = g.write_all(b"q");
            }
            log::info(&format!(
                "stopped the application after a change to {}; exiting so that the task is replaced",
                r.changed.join(", ")
            ));
            return Some(Next::Exit);
        }
        if let Some(g) = go.as_mut() {
            let _ = g.write_all(b"g");
        }
        // With a terminal, the new group becomes the foreground.
        if self.tty {
            let _ = nix::unistd::tcsetpgrp(std::io::stdin(), nix::unistd::Pid::from_raw(r.pid));
        }
        r.state = Phase::Starting { down_since };
        Some(Next::Go(r.pid))
    }

    /// A child other than the application was reaped. `Some(code)` when
    /// secrun must exit with it.
    fn reaped(&mut self, pid: i32, status: super::wait::WaitStatus) -> Option<i32> {
        if self.checker.as_ref().is_some_and(|c| c.pid == pid) {
            if let Some(mut c) = self.checker.take() {
                c.out.pump();
                self.checked(&c.out.buf);
            }
            return None;
        }
        let r = self.restart.as_ref()?;
        if r.pid != pid {
            return None;
        }
        match r.state {
            Phase::Resolving => {
                if !self.shutting_down {
                    log::warn(
                        "resolving again after a change failed (see above); the application keeps running, and the next check tries again",
                    );
                }
                self.restart = None;
                self.next_check = Instant::now() + next_check(self.setup.interval);
                None
            }
            // The old application is still being stopped: what follows is
            // decided when it has gone.
            Phase::Stopping { .. } => {
                if let Some(r) = self.restart.as_mut() {
                    r.gone = Some(status);
                }
                None
            }
            // Once told to go, the copy is the application (reaped as such).
            Phase::Starting { .. } => None,
        }
    }

    /// A checking copy's report: warn about what could not be checked,
    /// and schedule a restart for what changed.
    fn checked(&mut self, out: &[u8]) {
        self.next_check = Instant::now() + next_check(self.setup.interval);
        let Some(watched) = &self.watched else { return };
        let checked: Vec<watch::Checked> = match serde_json::from_slice(out) {
            Ok(c) => c,
            Err(_) => {
                log::warn("the check for changes gave no answer; the application keeps running");
                return;
            }
        };
        let diff = watch::compare(watched, &checked);
        for (id, why, vars) in &diff.failed {
            let names = if vars.is_empty() {
                String::new()
            } else {
                format!("{} ", vars.join(", "))
            };
            log::warn(&format!(
                "could not check {names}({id}) for changes: {why}; the application keeps running"
            ));
        }
        if diff.is_change() && self.change.is_none() {
            let delay = watch::spread_delay(self.setup.spread, crate::provider::random_unit());
            log::info(&format!(
                "{} changed; resolving again in {} ms",
                diff.changed.join(", "),
                delay.as_millis()
            ));
            self.change = Some((Instant::now() + delay, diff.changed));
        }
    }

    /// Read what has come, start what is due, stop what must stop.
    /// `true` when a helper ended or a restart completed.
    fn step(&mut self, how: &Supervision, app: &mut i32) -> bool {
        let mut ended = false;
        if let Some(initial) = self.initial.as_mut() {
            initial.pump();
            if initial.line().is_some() || initial.ended {
                self.watched = initial.line().and_then(|l| serde_json::from_slice(l).ok());
                if initial.line().is_some() && self.watched.is_none() {
                    log::warn("what the application was started with could not be read; changes are not watched");
                }
                self.initial = None;
                ended = true;
            }
        }
        if let Some(c) = self.checker.as_mut() {
            c.feed();
            c.out.pump();
            // A check bounds itself by --timeout; one that does not end is
            // ended (and reported as giving no answer).
            if c.started.elapsed() > CHECK_LIMIT.max(self.setup.interval) {
                signals::send(c.pid, libc::SIGKILL);
            }
        }
        let now = Instant::now();
        if let Some(r) = self.restart.as_mut() {
            r.report.pump();
            match r.state {
                Phase::Resolving if r.report.line().is_some() => {
                    // Resolved: stop the old application as `docker stop`
                    // does; the new one starts once it has gone.
                    signals::send(-*app, libc::SIGTERM);
                    signals::send(-*app, libc::SIGCONT);
                    r.state = Phase::Stopping {
                        since: now,
                        killed: false,
                    };
                }
                Phase::Stopping {
                    since,
                    killed: false,
                } => {
                    let limit = if how.grace.is_zero() {
                        STOP_TIMEOUT
                    } else {
                        how.grace
                    };
                    if now >= since + limit {
                        signals::send(-*app, libc::SIGKILL);
                        r.state = Phase::Stopping {
                            since,
                            killed: true,
                        };
                    }
                }
                Phase::Starting { down_since } if r.report.ended => {
                    // The copy has exec'd the command: the restart is done.
                    self.watched = r.report.line().and_then(|l| serde_json::from_slice(l).ok());
                    log::info(&format!(
                        "restarted the application after a change to {}; it was down {} ms",
                        r.changed.join(", "),
                        down_since.elapsed().as_millis()
                    ));
                    self.restart = None;
                    self.next_check = now + next_check(self.setup.interval);
                    ended = true;
                }
                _ => {}
            }
        }
        if !self.shutting_down
            && self.restart.is_none()
            && self.checker.is_none()
            && self.initial.is_none()
        {
            if let Some((act_at, _)) = &self.change {
                if now >= *act_at {
                    if let Some((_, changed)) = self.change.take() {
                        self.start_restart(changed);
                    }
                    return ended;
                }
            }
            if self.change.is_none() && self.watched.is_some() && now >= self.next_check {
                self.start_check();
            }
        }
        ended
    }

    fn start_check(&mut self) {
        let Some(watched) = &self.watched else { return };
        let start = self.template.marked("check");
        match spawn(&start, Spawn::Piped, Vec::new()) {
            Ok(mut child) => {
                let stdin = child
                    .stdin
                    .take()
                    .map(|i| std::fs::File::from(std::os::fd::OwnedFd::from(i)));
                if let Some(i) = &stdin {
                    nonblocking(i);
                }
                match child.stdout.take() {
                    Some(out) => {
                        let mut checker = Checker {
                            started: Instant::now(),
                            pid: child.id() as i32,
                            out: Reader::new(std::fs::File::from(std::os::fd::OwnedFd::from(out))),
                            input: serde_json::to_vec(watched).unwrap_or_default(),
                            stdin,
                        };
                        checker.feed();
                        self.checker = Some(checker);
                    }
                    None => {
                        signals::send(child.id() as i32, libc::SIGKILL);
                    }
                }
            }
            Err(e) => {
                log::warn(&format!("cannot start a check for changes: {e}"));
                self.next_check = Instant::now() + next_check(self.setup.interval);
            }
        }
    }

    fn start_restart(&mut self, changed: Vec<String>) {
        let pipes = pipe().and_then(|report| pipe().map(|go| (report, go)));
        let ((report_r, report_w), (go_r, go_w)) = match pipes {
            Ok(p) => p,
            Err(e) => {
                log::warn(&format!("cannot restart after a change: {e}"));
                return;
            }
        };
        let (rfd, gfd) = (report_w.as_raw_fd(), go_r.as_raw_fd());
        let start = self.template.marked(&format!("restart:{rfd}:{gfd}"));
        let how = Spawn::Command {
            tty: self.tty,
            foreground: false,
        };
        match spawn(&start, how, vec![rfd, gfd]) {
            Ok(child) => {
                self.restart = Some(Restart {
                    pid: child.id() as i32,
                    report: Reader::new(report_r),
                    go: Some(go_w),
                    changed,
                    state: Phase::Resolving,
                    gone: None,
                });
            }
            Err(e) => {
                log::warn(&format!("cannot restart after a change: {e}"));
                self.next_check = Instant::now() + next_check(self.setup.interval);
            }
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
