//! What a wake does: the task's waker vtables, its reference count, and the claim that queues
//! a task at most once (the SCHEDULED bit). A wake on the loop's thread of one of the loop's
//! own copies (`LOCAL`, kept in the reactor and timers) hands the task straight to the turn
//! (`wake_local`); any other wake pushes it on the loop's wake queue (`Shared::push`, which
//! writes the notifier if the loop is blocked in its poll). Nothing here touches the future:
//! a waker may be on any thread.

use super::super::state::{COMPLETE, SCHEDULED};
use super::{Header, TaskRef};
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use core::sync::atomic::Ordering::*;
use core::task::{RawWaker, RawWakerVTable, Waker};

pub(super) fn increment(header: &Header) {
    let old = header.refs.fetch_add(1, Relaxed);
    // Like Arc: a count this large means leaked wakers in a loop; stop before it wraps.
    assert!(
        old <= i32::MAX as u32,
        "readyloop: task reference count overflow"
    );
}

pub(super) fn release(ptr: NonNull<Header>) {
    // SAFETY: the caller owned one reference, so the header is alive until we drop it.
    let header = unsafe { ptr.as_ref() };
    if header.refs.fetch_sub(1, Release) == 1 {
        core::sync::atomic::fence(Acquire);
        // SAFETY: that was the last reference; the stage holds no future and no output
        // (see the module docs), so freeing on any thread is sound.
        unsafe { (header.vtable.dealloc)(ptr) }
    }
}

/// Marks the task SCHEDULED; true if this call must queue it (it was neither queued nor
/// finished).
fn claim(header: &Header) -> bool {
    header.state.fetch_or(SCHEDULED, AcqRel) & (SCHEDULED | COMPLETE) == 0
}

/// Queues a claimed task with a reference the queue now owns. If the loop is gone, nothing
/// will run the task, so that reference is returned.
fn enqueue(ptr: NonNull<Header>) {
    // SAFETY: the caller hands the queue a reference, so the header is alive.
    if !unsafe { ptr.as_ref() }.shared.push(ptr) {
        release(ptr);
    }
}

pub(super) fn schedule(ptr: NonNull<Header>) {
    // SAFETY: callers hold a reference.
    let header = unsafe { ptr.as_ref() };
    if claim(header) {
        increment(header);
        enqueue(ptr);
    }
}

/// Claims the task with the caller's reference: the task, carrying that reference, if this
/// call must queue it; else `None`, the reference released (already queued or finished).
fn claim_taking(ptr: NonNull<Header>) -> Option<TaskRef> {
    // SAFETY: the caller hands over a reference, so the header is alive.
    if claim(unsafe { ptr.as_ref() }) {
        Some(TaskRef { ptr })
    } else {
        release(ptr);
        None
    }
}

/// Like `schedule`, but the queue takes the caller's reference instead of counting its own:
/// a wake by value on the loop's thread costs no reference count traffic.
fn schedule_taking(ptr: NonNull<Header>) {
    if let Some(task) = claim_taking(ptr) {
        // The queue now owns the task's reference (it is not dropped here).
        enqueue(ManuallyDrop::new(task).ptr);
    }
}

/// Wakes `waker` if it is one of the loop's local copies (see `LOCAL`), handing the task
/// to the caller to queue on the loop's own run queue instead of through the wake stack
/// (two locked instructions less): `Ok(Some(task))` if this wake scheduled it (the waker's
/// reference is now the task's), `Ok(None)` if it was already queued or finished. Any other
/// waker comes back as `Err`, for the caller to wake as usual.
pub(crate) fn wake_local(waker: Waker) -> Result<Option<TaskRef>, Waker> {
    if !core::ptr::eq(waker.vtable(), &LOCAL) {
        return Err(waker);
    }
    let waker = ManuallyDrop::new(waker);
    // SAFETY: a LOCAL waker's data is a live header, and it owns one reference, which is
    // taken over here (the waker is not dropped).
    let ptr = unsafe { NonNull::new_unchecked(waker.data() as *mut Header) };
    Ok(claim_taking(ptr))
}

/// The waker that may travel to any thread: each one is counted in its loop's
/// `Shared::escaped` from its clone to its wake or drop.
pub(super) static WAKER: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

/// The clones of a task's waker that the loop keeps in its own tables (reactor, timers,
/// join): they never leave the loop's thread, so they are not counted. Cloning one makes a
/// counted `WAKER`, since that clone may go anywhere.
pub(super) static LOCAL: RawWakerVTable =
    RawWakerVTable::new(waker_clone, local_wake, waker_wake_by_ref, local_drop);

unsafe fn waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` is the header of a task this waker holds a reference to.
    let header = unsafe { &*(data as *const Header) };
    increment(header);
    header.shared.escape();
    RawWaker::new(data, &WAKER)
}

unsafe fn waker_wake(data: *const ()) {
    // SAFETY: the waker's own reference is consumed here; it keeps the header alive until
    // `release`.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    schedule(ptr);
    // SAFETY: as above. The task is queued before the count drops (see `Shared::park`).
    unsafe { ptr.as_ref() }.shared.unescape();
    release(ptr);
}

unsafe fn waker_wake_by_ref(data: *const ()) {
    // SAFETY: the waker holds a reference for the duration of the call.
    schedule(unsafe { NonNull::new_unchecked(data as *mut Header) });
}

unsafe fn waker_drop(data: *const ()) {
    // SAFETY: the waker's own reference is released here, after the count drops.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: as above.
    unsafe { ptr.as_ref() }.shared.unescape();
    release(ptr);
}

unsafe fn local_wake(data: *const ()) {
    // SAFETY: the waker's own reference is consumed here: it becomes the queue's.
    schedule_taking(unsafe { NonNull::new_unchecked(data as *mut Header) });
}

unsafe fn local_drop(data: *const ()) {
    // SAFETY: the waker's own reference is released.
    release(unsafe { NonNull::new_unchecked(data as *mut Header) });
}
