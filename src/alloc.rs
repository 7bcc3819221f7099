//! The addon's own memory allocator: mimalloc (its v2 line), which hands freed memory back to
//! the system.
//!
//! Under glibc's allocator every thread that allocates gets an arena of its own, and the freed
//! pages of a long list stayed in them, fragmented (`malloc_trim` released only part): a
//! process listing the same 10,000 items again and again grew by 10–20 MB per list, to a peak
//! of 190–210 MB by the sixth. With mimalloc it peaks at 135 MB by the sixth list and at about
//! 148 MB over twenty (V8's heap grows too), and lists cost less CPU. Purging freed memory at
//! once (`mi_option_purge_delay` 0 instead of 10 ms) held twenty lists to 128 MB but cost CPU
//! where lists convert much HTML, so the default stays.
//!
//! mimalloc v3 is not used: it crashes in its thread set-up when a second worker thread loads
//! the addon (as vitest's thread pool does), `__test__/workers.test.mjs`.
//!
//! Only the addon's allocations go through it: Node and V8 keep theirs (the JSON chunks
//! `listIssues` hands to JS become V8 strings).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Lists at least this long hand their freed memory back as soon as they end.
const RELEASE_AFTER: usize = 1000;

/// After a list of `items` issues: what its pages and intermediate values used goes back to
/// the system now rather than when mimalloc next gets to it. Measured over six 10,000-item
/// lists in one process: a peak of 137 MB instead of 141, and 108–121 MB resident when idle
/// after three lists instead of 120–122.
pub fn release_after_list(items: usize) {
    if items >= RELEASE_AFTER {
        // SAFETY: collects the freed memory of this thread's heap and purges what mimalloc
        // holds for all threads; callable from any thread at any time.
        unsafe { libmimalloc_sys::mi_collect(true) }
    }
}
