//! The addon's own memory allocator: mimalloc, told to hand freed memory back to the system.
//!
//! Under glibc's allocator every thread that allocates gets an arena of its own, and the freed
//! pages of a long list stayed in them, fragmented (`malloc_trim` released only part): a
//! process listing the same 10,000 items again and again grew by 10–20 MB per list, to a peak
//! of 190–210 MB by the sixth. With mimalloc, committing arena memory only when used and
//! purging what is freed after `PURGE_DELAY_MS`, the same process settles near 130 MB
//! (`npm run bench`, "6th list in a row"), and lists cost less CPU.
//!
//! Only the addon's allocations go through it: Node and V8 keep theirs. The Buffers `listIssues`
//! hands to JS are freed by their finalizer, through this allocator as well.

use libmimalloc_sys::{mi_collect, mi_option_set, mi_option_t};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's option numbers (`mi_option_t` in mimalloc.h, which the -sys crate does not name
// for these two); the tests check them against mimalloc's documented defaults.
const ARENA_EAGER_COMMIT: mi_option_t = 4;
const PURGE_DELAY: mi_option_t = 15;

/// Freed memory goes back to the system this long after it was freed (mimalloc's default is 1 s,
/// long enough for the next poll's list to find it all still resident).
const PURGE_DELAY_MS: i32 = 10;

/// Lists at least this long hand their freed memory back as soon as they end.
const RELEASE_AFTER: usize = 1000;

/// Called when the library loads (`module_init` in `lib.rs`), before any tracker exists.
pub fn configure() {
    // SAFETY: setting an option stores one integer; mimalloc reads options on every use.
    unsafe {
        // Arena memory is committed as it is used, so a purge returns it (on Linux, "eager"
        // commit makes a purge a reset, which leaves the pages resident).
        mi_option_set(ARENA_EAGER_COMMIT, 0);
        mi_option_set(PURGE_DELAY, PURGE_DELAY_MS.into());
    }
}

/// After a list of `items` issues: what its pages and intermediate values used goes back to
/// the system now, not at the next allocation, so an idle dashboard process holds little.
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
        assert_eq!(option(PURGE_DELAY), i64::from(PURGE_DELAY_MS));
        // The numbering around them is mimalloc's: the neighbours hold their documented
        // defaults (purge_decommits 1, deprecated_eager_commit_delay 1, os_tag 100,
        // max_errors 32).
        assert_eq!([option(5), option(14), option(18), option(19)], [1, 1, 100, 32]);
        release_after_list(RELEASE_AFTER);
        let v: Vec<u8> = vec![7; 1 << 20];
        assert_eq!(v.iter().map(|&b| usize::from(b)).sum::<usize>(), 7 << 20);
    }
}
