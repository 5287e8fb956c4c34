//! How an export answers: the plugin's own work runs with the allocator
//! freeing as usual; once the export has its answer, frees are skipped.
//!
//! The host runs every call in a fresh instance and drops the instance
//! after it. Once an export returns, the guest code still to run is the
//! lowering of its answer and then the post-return, which frees that answer
//! string by string: thousands of frees for a page of orders (about a tenth
//! of the guest's time in a `perf` profile; BENCHMARKS.md §1), of memory the
//! host is about to drop with the instance. Every export of the
//! [`export!`](crate::export) macro goes through [`answer`], which turns
//! freeing back on for the export's own work (an earlier export of the same
//! instance — the host may call a few, e.g. `manifest` then
//! `forwarding-headers` — turned it off) and off once the answer is there.
//! What stays allocated is at most each export's answer, so a call that
//! allocates and frees as it goes (a large transfer) stays within its
//! memory as before.
//!
//! The allocator is the SDK's `#[global_allocator]` on wasm32 with the
//! default feature `answer-without-freeing`; a plugin that brings its own
//! global allocator turns the feature off (`default-features = false`),
//! and every post-return then frees as usual.

use core::sync::atomic::{AtomicBool, Ordering};

/// Whether frees are skipped: true from an export's answer until the next
/// export begins. (wasm32 guests are single-threaded; the atomic is a
/// plain load and store there.)
static ANSWERED: AtomicBool = AtomicBool::new(false);

/// Runs one export's work with frees on, then turns them off for the rest
/// of the export (lowering the answer, post-return).
#[doc(hidden)]
pub fn answer<T>(work: impl FnOnce() -> T) -> T {
    ANSWERED.store(false, Ordering::Relaxed);
    let answer = work();
    ANSWERED.store(true, Ordering::Relaxed);
    answer
}

/// Whether a free now would be skipped.
#[cfg_attr(
    not(all(target_arch = "wasm32", feature = "answer-without-freeing")),
    allow(dead_code)
)]
fn answered() -> bool {
    ANSWERED.load(Ordering::Relaxed)
}

#[cfg(all(target_arch = "wasm32", feature = "answer-without-freeing"))]
#[allow(unsafe_code)]
mod allocator {
    use core::alloc::{GlobalAlloc, Layout};
    use std::alloc::System;

    /// The system allocator, except that a free after the answer is skipped.
    struct AnswerWithoutFreeing;

    // SAFETY: every allocation is the system allocator's; skipping a
    // `dealloc` only leaves its memory allocated (until the instance is
    // dropped), which is always sound.
    unsafe impl GlobalAlloc for AnswerWithoutFreeing {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's contract, passed on.
            unsafe { System.alloc(layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's contract, passed on.
            unsafe { System.alloc_zeroed(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if !super::answered() {
                // SAFETY: the caller's contract, passed on.
                unsafe { System.dealloc(ptr, layout) }
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: the caller's contract, passed on; `ptr` came from
            // `System` (every allocation here does).
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: AnswerWithoutFreeing = AnswerWithoutFreeing;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frees_are_on_during_an_export_and_off_after_its_answer() {
        let during = answer(answered);
        assert!(!during, "the export's own work frees as usual");
        assert!(answered(), "after the answer, frees are skipped");
        assert!(!answer(answered), "the next export frees again");
    }
}
