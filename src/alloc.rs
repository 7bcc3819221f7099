//! The addon's own memory allocator: mimalloc, told to hand freed memory back to the system.
//!
//! Under glibc's allocator every thread that allocates gets an arena of its own, and the freed
//! pages of a long list stayed in them, fragmented (`malloc_trim` released only part): a
//! process listing the same 10,000 items again and again grew by 10–20 MB per list, to a peak
//! of 190–210 MB by the sixth. With mimalloc, committing arena memory only as it is used and
//! handing back what a long list freed as soon as the list ends, the same process settles
//! near 125 MB (`npm run bench`, "6th list in a row"), and lists cost less CPU.
//!
//! Only the addon's allocations go through it: Node and V8 keep theirs. The Buffers `listIssues`
//! hands to JS are freed by their finalizer, through this allocator as well.

use libmimalloc_sys::{mi_collect, mi_option_set, mi_option_t};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's number for the option (`mi_option_t` in mimalloc.h; the -sys crate does not name
// it); the test checks the numbering around it against mimalloc's documented defaults.
const ARENA_EAGER_COMMIT: mi_option_t = 4;

/// Lists at least this long hand their freed memory back as soon as they end.
const RELEASE_AFTER: usize = 1000;

/// Called when the library loads (`module_init` in `lib.rs`), before any tracker exists.
pub fn configure() {
    // Arena memory is committed as it is used, so that a purge returns it to the system (on
    // Linux, mimalloc's default "eager" commit turns a purge into a reset, which leaves the
    // pages resident). Measured over six 10,000-item lists: peak 117 MB instead of 130, the
    // same CPU. Freed memory is purged after mimalloc's default delay (1 s), or at once after
    // a long list (`release_after_list`): a shorter delay saved a few MB at 4 % more CPU.
    // SAFETY: setting an option stores one integer; mimalloc reads options on every use.
    unsafe { mi_option_set(ARENA_EAGER_COMMIT, 0) }
}

/// After a list of `items` issues: what its pages and intermediate values used goes back to
/// the system now, not a second later at the next allocation. Measured after three
/// 10,000-item lists: 95 MB resident when idle instead of 117–125, and a peak of 102–105 MB
/// instead of 119–128.
pub fn release_after_list(items: usize) {
    if items >= RELEASE_AFTER {
        // SAFETY: collects freed memory of this thread's heap and purges the shared arenas;
        // callable from any thread at any time.
        unsafe { mi_collect(true) }
    }
}

/// The value of a mimalloc option (tests).
#[cfg(test)]
fn option(o: mi_option_t) -> i64 {
    // SAFETY: reads one integer.
    unsafe { libmimalloc_sys::mi_option_get(o) as i64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_are_set_at_mimallocs_numbers() {
        // `configure` ran when the library loaded (`module_init`, in test binaries too).
        assert_eq!(option(ARENA_EAGER_COMMIT), 0);
        // The numbering around it is mimalloc's: other options hold their documented
        // defaults (deprecated_eager_commit 1, purge_decommits 1, purge_delay 1000 ms,
        // os_tag 100, max_errors 32).
        assert_eq!([option(3), option(5), option(15), option(18), option(19)], [1, 1, 1000, 100, 32]);
        release_after_list(RELEASE_AFTER);
        let v: Vec<u8> = vec![7; 1 << 20];
        assert_eq!(v.iter().map(|&b| usize::from(b)).sum::<usize>(), 7 << 20);
    }
}
