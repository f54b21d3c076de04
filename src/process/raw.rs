//! The system calls that nix cannot make for secrun, and why:
//!
//! - The signal mask and waiting for signals take the kernel's 64-bit
//!   sigset: glibc's `sigfillset` (which nix's `SigSet` uses) leaves out
//!   signals 32 and 33, which it reserves for its threads, so through it
//!   those two could neither be blocked (one killed a subreaper) nor waited
//!   for (PID 1 dropped them).
//! - Signals 32 and 33 are reset to their default with the raw
//!   `rt_sigaction`: glibc's `sigaction` (nix's too) refuses them.
//! - `kill` of a real-time signal: nix's `Signal` has no real-time values.
//! - `waitpid`: nix decodes the status into `Signal`, and fails for a child
//!   killed by a real-time signal after it was reaped, losing its status.
//! - Descriptors by number between fork and exec, and adopting one that
//!   was inherited by number (`--watch`'s pipes): there is no owned value
//!   to hand nix there.
//!
//! Everything else in `process/` goes through nix's safe wrappers.
#![allow(unsafe_code)]

use std::time::Duration;

/// The kernel's sigset: one bit per signal 1..=64.
const KERNEL_SIGSET_SIZE: usize = 8;

/// `rt_sigprocmask(how, set)` for the calling thread.
pub fn sigprocmask(how: libc::c_int, set: u64) -> std::io::Result<()> {
    // SAFETY: rt_sigprocmask reads 8 bytes from a live u64 and is given a
    // null old-set pointer, which the kernel allows. Async-signal-safe.
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

/// `rt_sigtimedwait` on `set` for at most `timeout`: the signal taken, or
/// `None` on timeout or interruption.
pub fn sigtimedwait(set: u64, timeout: Duration) -> Option<i32> {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
    };
    // SAFETY: the kernel reads the 8-byte set and the timespec, both alive
    // across the call; a null siginfo pointer is allowed.
    let sig = unsafe {
        libc::syscall(
            libc::SYS_rt_sigtimedwait,
            &set as *const u64,
            std::ptr::null_mut::<libc::siginfo_t>(),
            &ts as *const libc::timespec,
            KERNEL_SIGSET_SIZE,
        )
    };
    (sig > 0).then_some(sig as i32)
}

/// Signals 32 and 33 back to their default action (between fork and exec:
/// glibc's `posix_spawn` hands them over ignored from a multi-threaded
/// parent, and an ignore survives execve).
pub fn default_action_32_33() {
    // An all-zero kernel sigaction is SIG_DFL with no flags and an empty
    // mask, whatever the architecture's field order.
    let default_action = [0u64; 4];
    for sig in [32, 33] {
        // SAFETY: the raw rt_sigaction syscall is async-signal-safe; the
        // kernel reads the zeroed array, which outlives the call, and a null
        // old-action pointer is allowed.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                default_action.as_ptr(),
                std::ptr::null_mut::<u64>(),
                KERNEL_SIGSET_SIZE,
            );
        }
    }
}

/// `kill(pid, sig)` for any signal number, real-time ones included.
pub fn kill(pid: i32, sig: i32) -> bool {
    // SAFETY: kill has no memory effects; any pid/signal pair is valid input.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// `waitpid(-1, WNOHANG)`: the pid and raw status reaped, `Ok(None)` when
/// children remain and none has exited, `Err` when there are none.
pub fn waitpid_any() -> Result<Option<(i32, i32)>, ()> {
    let mut status = 0;
    // SAFETY: waitpid writes only to the status integer we own.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    match pid {
        p if p > 0 => Ok(Some((p, status))),
        0 => Ok(None),
        _ => Err(()),
    }
}

/// Let `fd` survive the next exec (clear `FD_CLOEXEC`): between fork and
/// exec, for the pipe the supervisor hands a copy of secrun. The
/// descriptor is named by number because the child's copy is not an owned
/// value there.
pub fn keep_across_exec(fd: i32) -> bool {
    // SAFETY: fcntl(F_SETFD) on a descriptor number touches no memory and
    // is async-signal-safe; a closed number only fails with EBADF.
    unsafe { libc::fcntl(fd, libc::F_SETFD, 0) == 0 }
}

/// Adopt a descriptor this process inherited by number (the pipe its
/// supervisor named in `SECRUN_SUPERVISED`), closed on the next exec.
pub fn adopt(fd: i32) -> Option<std::fs::File> {
    use std::os::fd::FromRawFd;
    // SAFETY: fcntl(F_GETFD) only asks whether the number is open.
    if fd < 3 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return None;
    }
    // SAFETY: the descriptor is open, was inherited for this purpose, and
    // nothing else in this process refers to it: the File takes it over.
    let file = unsafe { std::fs::File::from_raw_fd(fd) };
    let _ = nix::fcntl::fcntl(
        &file,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    Some(file)
}
