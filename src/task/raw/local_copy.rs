//! Telling the loop's own task wakers from any other, and making the uncounted local copies
//! the loop keeps in its tables (reactor, timers, join; see `LOCAL` in `waker.rs`). Runs no
//! user code: a foreign waker is only compared, never cloned, here.

use super::super::shared::Shared;
use super::waker::{increment, LOCAL, WAKER};
use super::Header;
use alloc::sync::Arc;
use core::task::{RawWaker, Waker};

/// Whether `waker` is one of readyloop's task wakers (either kind).
fn is_task_waker(waker: &Waker) -> bool {
    core::ptr::eq(waker.vtable(), &WAKER) || core::ptr::eq(waker.vtable(), &LOCAL)
}

/// Whether `a` and `b` wake the same task (of either kind).
pub(in crate::task) fn same_task(a: &Waker, b: &Waker) -> bool {
    a.data() == b.data() && is_task_waker(a) && is_task_waker(b)
}

/// The task id behind a waker, if the waker is one of readyloop's task wakers.
pub(crate) fn task_id_of(waker: &Waker) -> Option<u64> {
    if is_task_waker(waker) {
        // SAFETY: our vtable means the data pointer is a live header (the waker holds a ref).
        Some(unsafe { &*(waker.data() as *const Header) }.id)
    } else {
        None
    }
}

/// Whether `waker` wakes a task of the loop whose `Shared` is `owner` (its clone runs no
/// user code).
pub(in crate::task) fn is_own(waker: &Waker, owner: *const Shared) -> bool {
    // SAFETY: a task waker's data is a live header (the waker holds a reference).
    is_task_waker(waker)
        && core::ptr::eq(
            Arc::as_ptr(&unsafe { &*(waker.data() as *const Header) }.shared),
            owner,
        )
}

/// A clone of `waker` for the loop's own tables (uncounted, see `LOCAL`), if `waker` wakes
/// a task of the loop whose `Shared` is `owner`.
pub(in crate::task) fn local_clone(waker: &Waker, owner: *const Shared) -> Option<Waker> {
    if !is_task_waker(waker) {
        return None;
    }
    // SAFETY: a task waker's data is a live header (the waker holds a reference).
    let header = unsafe { &*(waker.data() as *const Header) };
    if !core::ptr::eq(Arc::as_ptr(&header.shared), owner) {
        return None;
    }
    increment(header);
    // SAFETY: the reference just counted is this waker's.
    Some(unsafe { Waker::from_raw(RawWaker::new(waker.data(), &LOCAL)) })
}
