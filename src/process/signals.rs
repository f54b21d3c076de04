//! Signal sets for the supervisor: block every signal before anything else
//! runs, and read them one at a time (tini's model).
//!
//! The kernel's own `rt_sigprocmask` and `rt_sigtimedwait` are called
//! directly with a 64-bit mask: glibc's `sigfillset` leaves out signals 32
//! and 33, which it reserves for its threads, so through glibc those two
//! could neither be blocked (one killed a subreaper) nor waited for (PID 1
//! dropped them). The supervisor runs no threads, so it may take them.
//!
//! The synchronous fault signals (SEGV, BUS, FPE, ILL) stay unblocked: a
//! blocked fault signal raised by a real fault kills the process anyway, and
//! nobody forwards them.

use std::time::Duration;

const UNBLOCKED: [i32; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL];
/// The kernel's sigset: one bit per signal 1..=64.
const KERNEL_SIGSET_SIZE: usize = 8;

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

    fn mask(how: libc::c_int, set: u64) -> std::io::Result<()> {
        // SAFETY: rt_sigprocmask reads 8 bytes from a live u64 and is given
        // a null old-set pointer, which the kernel allows.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                how,
                &set as *const u64,
                std::ptr::null_mut::<u64>(),
                KERNEL_SIGSET_SIZE,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// Block this set for the calling thread (the only one).
    pub fn block(&self) -> std::io::Result<()> {
        SigSet::mask(libc::SIG_BLOCK, self.0)
    }

    /// Wait for one signal of the set for at most `timeout`. `None` on
    /// timeout or interruption.
    pub fn wait(&self, timeout: Duration) -> Option<i32> {
        let ts = libc::timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
            tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
        };
        // SAFETY: the kernel reads the 8-byte set and the timespec, both
        // alive across the call; a null siginfo pointer is allowed.
        let sig = unsafe {
            libc::syscall(
                libc::SYS_rt_sigtimedwait,
                &self.0 as *const u64,
                std::ptr::null_mut::<libc::siginfo_t>(),
                &ts as *const libc::timespec,
                KERNEL_SIGSET_SIZE,
            )
        };
        (sig > 0).then_some(sig as i32)
    }
}

/// Unblock every signal again (the paths that do not supervise).
pub fn unblock_all() -> std::io::Result<()> {
    SigSet::mask(libc::SIG_SETMASK, 0)
}

/// Async-signal-safe reset for a child about to exec: an empty mask and
/// SIGPIPE back to its default (Rust ignores SIGPIPE in its own processes).
/// Called between fork and exec only.
///
/// Signals 32 and 33 go back to their default too: glibc's `posix_spawn`
/// hands them over ignored from a multi-threaded parent, an ignore survives
/// execve, and glibc's `signal()` refuses to touch them.
pub fn reset_for_exec() -> std::io::Result<()> {
    unblock_all()?;
    // An all-zero kernel sigaction is SIG_DFL with no flags and an empty
    // mask, whatever the architecture's field order.
    let default_action = [0u64; 4];
    // SAFETY: signal() and the raw rt_sigaction syscall are
    // async-signal-safe; the kernel reads the zeroed array, which outlives
    // the calls, and a null old-action pointer is allowed.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        for sig in [32, 33] {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                default_action.as_ptr(),
                std::ptr::null_mut::<u64>(),
                KERNEL_SIGSET_SIZE,
            );
        }
    }
    Ok(())
}

/// Send `sig` to `pid` (negative: a process group). A target that is gone
/// is not an error: the supervisor carries on.
pub fn send(pid: i32, sig: i32) -> bool {
    // SAFETY: kill has no memory effects; any pid/signal pair is valid input.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// No core dump, and no ptrace or /proc/<pid>/mem access by other processes
/// of the same user, while this process holds secret values. Reset by the
/// kernel at execve, so the application is unaffected.
pub fn forbid_core_dumps() {
    // SAFETY: prctl(PR_SET_DUMPABLE) takes an integer and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}
