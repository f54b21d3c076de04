//! Typed wait statuses and reaping (the shape of sudo-rs `system/wait.rs`):
//! `exit_code()` and `term_signal()` are `Option`s, and one pure function
//! maps a status to secrun's exit code. Reaping uses the raw `waitpid`
//! ([`raw`](super::raw) says why).

use super::raw;

/// A raw status from `waitpid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitStatus(pub i32);

impl WaitStatus {
    pub fn exit_code(self) -> Option<i32> {
        libc::WIFEXITED(self.0).then(|| libc::WEXITSTATUS(self.0))
    }

    pub fn term_signal(self) -> Option<i32> {
        libc::WIFSIGNALED(self.0).then(|| libc::WTERMSIG(self.0))
    }
}

/// The exit code secrun passes on: the child's own code, or 128+N when
/// signal N killed it (as shells report it).
pub fn exit_code_of(status: WaitStatus) -> i32 {
    match (status.exit_code(), status.term_signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 125,
    }
}

/// What one `waitpid(-1, WNOHANG)` found.
pub enum Reaped {
    Child(i32, WaitStatus),
    /// Children remain, none has exited.
    Running,
    /// No children at all.
    None,
}

pub fn reap_one() -> Reaped {
    match raw::waitpid_any() {
        Ok(Some((pid, status))) => Reaped::Child(pid, WaitStatus(status)),
        Ok(None) => Reaped::Running,
        Err(()) => Reaped::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_as_shells_report_them() {
        // Exit codes live in bits 8-15; a signal in the low 7 bits.
        for code in [0, 1, 42, 125, 255] {
            assert_eq!(exit_code_of(WaitStatus(code << 8)), code);
        }
        assert_eq!(exit_code_of(WaitStatus(libc::SIGTERM)), 143);
        assert_eq!(exit_code_of(WaitStatus(libc::SIGKILL)), 137);
        // A core dump flag does not change the signal.
        assert_eq!(exit_code_of(WaitStatus(libc::SIGSEGV | 0x80)), 139);
        // A real-time signal, which nix's decoding refuses.
        assert_eq!(exit_code_of(WaitStatus(40)), 168);
    }
}
