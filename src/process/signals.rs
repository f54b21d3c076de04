//! Signal sets for the supervisor: block every signal before anything else
//! runs, and read them one at a time with `sigtimedwait` (tini's model).
//!
//! The synchronous fault signals (SEGV, BUS, FPE, ILL) stay unblocked: a
//! blocked fault signal raised by a real fault kills the process anyway, and
//! nobody forwards them.

use std::mem::MaybeUninit;
use std::time::Duration;

const UNBLOCKED: [i32; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL];

pub struct SigSet(libc::sigset_t);

impl SigSet {
    /// Every signal the supervisor blocks and waits for.
    pub fn supervised() -> SigSet {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigfillset initialises the set it is given; sigdelset only
        // reads and writes that initialised set.
        unsafe {
            libc::sigfillset(set.as_mut_ptr());
            for sig in UNBLOCKED {
                libc::sigdelset(set.as_mut_ptr(), sig);
            }
            SigSet(set.assume_init())
        }
    }

    /// Block this set for the calling thread (the only one).
    pub fn block(&self) -> std::io::Result<()> {
        // SAFETY: pthread_sigmask reads an initialised set; a null old-set
        // pointer is allowed.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &self.0, std::ptr::null_mut()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::from_raw_os_error(rc))
        }
    }

    /// Wait for one signal of the set for at most `timeout`. `None` on
    /// timeout or interruption.
    pub fn wait(&self, timeout: Duration) -> Option<i32> {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
            tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
        };
        // SAFETY: the set is initialised, the timespec lives across the call,
        // and a null siginfo pointer is allowed.
        let sig = unsafe { libc::sigtimedwait(&self.0, std::ptr::null_mut(), &ts) };
        (sig > 0).then_some(sig)
    }
}

/// Async-signal-safe reset for a child about to exec: an empty mask and
/// SIGPIPE back to its default (Rust ignores SIGPIPE in its own processes).
/// Called between fork and exec only.
pub fn reset_for_exec() -> std::io::Result<()> {
    let mut empty = MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset, sigprocmask and signal are async-signal-safe
    // (POSIX signal-safety list); the set is initialised before use.
    unsafe {
        libc::sigemptyset(empty.as_mut_ptr());
        if libc::sigprocmask(libc::SIG_SETMASK, empty.as_ptr(), std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    Ok(())
}

/// Send `sig` to `pid` (negative: a process group). A target that is gone
/// is not an error: the supervisor logs nothing and carries on.
pub fn send(pid: i32, sig: i32) -> bool {
    // SAFETY: kill has no memory effects; any pid/signal pair is valid input.
    unsafe { libc::kill(pid, sig) == 0 }
}
