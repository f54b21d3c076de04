//! Keeping the supervisor small: once the command is running, PID 1 needs
//! only its wait loop, yet start-up (argument parsing, the dynamic loader)
//! left pages of code and read-only data mapped in, many more than it ran,
//! since the kernel maps the neighbours of each page it faults in.
//!
//! `release_startup_pages` drops those mappings' page-table entries with
//! `MADV_DONTNEED`. Only clean, read-only, file-backed mappings are
//! touched, and only those with no private (copied-on-write) page: for
//! them the next access faults the identical bytes back in from the page
//! cache. A mapping with private pages (relocated RELRO data) is left alone,
//! since dropping it would discard the relocations.

struct Mapping {
    start: usize,
    end: usize,
    releasable: bool,
}

/// Mappings from `/proc/self/smaps` text: header lines
/// `start-end perms offset dev inode [path]`, then `Field: N kB` lines.
fn mappings(smaps: &str) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if let Some((a, b)) = first.split_once('-') {
            if let (Ok(start), Ok(end)) =
                (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
            {
                let perms = fields.next().unwrap_or_default();
                let inode = fields.nth(2).unwrap_or("0");
                out.push(Mapping {
                    start,
                    end,
                    releasable: (perms == "r-xp" || perms == "r--p") && inode != "0",
                });
                continue;
            }
        }
        // Private pages that are resident (Anonymous) or swapped out (Swap):
        // dropping either would bring back the file's bytes instead.
        if (first == "Anonymous:" || first == "Swap:" || first == "SwapPss:")
            && fields.next() != Some("0")
        {
            if let Some(last) = out.last_mut() {
                last.releasable = false;
            }
        }
    }
    out
}

/// Drop the clean read-only file pages of this process from its resident
/// set. Best effort: any failure leaves things as they were.
#[allow(unsafe_code)]
pub fn release_startup_pages() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for m in mappings(&smaps).into_iter().filter(|m| m.releasable) {
        // SAFETY: the range is a whole mapping of this process that is
        // read-only, file-backed and has no private pages; MADV_DONTNEED
        // on it only drops page-table entries, and any later access
        // faults in the same file bytes. No Rust reference can observe a
        // change, since the contents stay identical.
        unsafe {
            libc::madvise(
                m.start as *mut libc::c_void,
                m.end - m.start,
                libc::MADV_DONTNEED,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clean_read_only_file_mappings_are_released() {
        let smaps = "\
55d0c0000000-55d0c0010000 r--p 00000000 08:01 1234 /usr/bin/secrun
Rss:                  64 kB
Anonymous:             0 kB
55d0c0010000-55d0c0020000 r-xp 00010000 08:01 1234 /usr/bin/secrun
Anonymous:             0 kB
55d0c0020000-55d0c0030000 r--p 00020000 08:01 1234 /usr/bin/secrun
Anonymous:            12 kB
55d0c0030000-55d0c0040000 rw-p 00030000 08:01 1234 /usr/bin/secrun
Anonymous:             0 kB
55d0c0040000-55d0c0050000 r--p 00040000 08:01 1234 /usr/bin/secrun
Anonymous:             0 kB
Swap:                  8 kB
7ffd00000000-7ffd00001000 r-xp 00000000 00:00 0 [vdso]
Anonymous:             0 kB
7ffd00002000-7ffd00003000 rw-p 00000000 00:00 0 [stack]
Anonymous:             4 kB
";
        let released: Vec<bool> = mappings(smaps).iter().map(|m| m.releasable).collect();
        assert_eq!(released, [true, true, false, false, false, false, false]);
    }
}
