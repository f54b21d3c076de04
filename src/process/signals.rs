//! Signal sets for the supervisor: block every signal before anything else
//! runs, and read them one at a time (tini's model). The mask and the wait
//! use the kernel's 64-bit sigset through [`raw`](super::raw), so that
//! signals 32 and 33 are blocked and taken like every other.
//!
//! The synchronous fault signals (SEGV, BUS, FPE, ILL) stay unblocked: a
//! blocked fault signal raised by a real fault kills the process anyway, and
//! nobody forwards them.

use std::time::Duration;

use nix::sys::signal::{self, SigHandler, Signal};
use nix::unistd::Pid;

use super::raw;

const UNBLOCKED: [i32; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL];

#[derive(Clone, Copy)]
pub struct SigSet(u64);

fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

impl SigSet {
    /// Every signal the supervisor blocks and waits for.
    pub fn supervised() -> SigSet {
        SigSet(UNBLOCKED.iter().fold(u64::MAX, |m, &s| m & !bit(s)))
    }

    /// Block this set for the calling thread (the only one).
    pub fn block(&self) -> std::io::Result<()> {
        raw::sigprocmask(libc::SIG_BLOCK, self.0)
    }

    /// Wait for one signal of the set for at most `timeout`. `None` on
    /// timeout or interruption.
    pub fn wait(&self, timeout: Duration) -> Option<i32> {
        raw::sigtimedwait(self.0, timeout)
    }
}

/// Unblock every signal again (the paths that do not supervise).
pub fn unblock_all() -> std::io::Result<()> {
    raw::sigprocmask(libc::SIG_SETMASK, 0)
}

/// Async-signal-safe reset for a child about to exec: an empty mask, and
/// SIGPIPE (which Rust ignores in its own processes) and signals 32 and 33
/// back to their defaults. Called between fork and exec only.
#[allow(unsafe_code)]
pub fn reset_for_exec() -> std::io::Result<()> {
    unblock_all()?;
    // SAFETY: setting SIG_DFL installs no handler, so nothing can run
    // concurrently with it; sigaction is async-signal-safe.
    let _ = unsafe { signal::signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    raw::default_action_32_33();
    Ok(())
}

/// Send `sig` to `pid` (negative: a process group). A target that is gone
/// is not an error: the supervisor carries on.
pub fn send(pid: i32, sig: i32) -> bool {
    match Signal::try_from(sig) {
        Ok(s) => signal::kill(Pid::from_raw(pid), s).is_ok(),
        // Real-time signals: nix's Signal has no value for them.
        Err(_) => raw::kill(pid, sig),
    }
}

/// No core dump, and no ptrace or /proc/<pid>/mem access by other processes
/// of the same user, while this process holds secret values. Reset by the
/// kernel at execve, so the application is unaffected.
pub fn forbid_core_dumps() {
    let _ = nix::sys::prctl::set_dumpable(false);
}
