//! The allocator the `hardport` binary and its benchmark run with: mimalloc, told to give freed
//! memory back to the system sooner than it would by itself. The library itself allocates with
//! whatever allocator the program that links it chose.
//!
//! Why mimalloc: a run builds and drops a small tree per file on every core, and glibc's
//! `malloc`/`free` were a fifth of its CPU; with mimalloc the whole-tree dry run takes about a
//! fifth less time (docs/performance.md). Built without transparent huge pages (`no_thp`), which
//! held 70 MB of mostly empty pages. Version 3 (the crate's default) and not version 2: version 2
//! maps 32 MiB segments per thread and aborts under a 256 MiB address-space limit that version 3
//! runs in (`tests/bad_inputs.rs` runs hardport under one).

use std::ffi::c_long;

use libmimalloc_sys::{mi_option_set, mi_option_t};

pub use mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mimalloc.h`; the Rust binding has no name for it.
/// A test below checks that the number still means that option.
const PURGE_DELAY: mi_option_t = 15;

/// How long freed memory stays with mimalloc before it is given back, in milliseconds. Its
/// default, a second, kept the freed pages of the files just migrated around: 48 to 67 MB of
/// peak RSS on 50,000 files, over the 50 MB target. After 10 ms (the delay mimalloc's own
/// documentation gives, and version 2's) the peak is 30–34 MB, at no measurable cost in time.
const PURGE_DELAY_MS: c_long = 10;

/// Sets the allocator's options: call it first thing in `main`.
pub fn tune() {
    // SAFETY: `mi_option_set` only stores a value in mimalloc's option table; any option
    // number and value are accepted (an unknown number is ignored).
    unsafe { mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) }
}

#[cfg(test)]
mod tests {
    use libmimalloc_sys::mi_option_get;

    use super::*;

    /// Option 15 must be the purge delay, whose default is 1000 ms in mimalloc 3: no other
    /// option has that default, so a renumbering in a later mimalloc fails here.
    #[test]
    fn option_15_is_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads one value of mimalloc's option table.
        assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, 1000);
    }
}
