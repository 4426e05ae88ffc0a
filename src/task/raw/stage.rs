//! What happens to a task's stage (its future, then its output) besides being polled:
//! dropping the future in place, cancelling, handing the output out, freeing the cell.
//! Each runs on the loop's thread with no reference into the stage live while user code
//! (a future's or an output's `Drop`) runs; with `std` such a panic is caught into the
//! task's `JoinError`.

use super::super::join_error::JoinError;
use super::{stage, Header, Stage, TaskCell};
use alloc::boxed::Box;
use core::future::Future;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

/// Drops the future the stage holds, in place (it is pinned: it must not move before its
/// `Drop`), through a raw pointer, so no reference into the stage is held by the loop while
/// that user code runs. Afterwards the stage holds no value: the caller writes one. With
/// `std`, a panic in the future's `Drop` is caught and returned.
///
/// # Safety
/// Loop thread only; the stage is `Running`; no reference into it is live; the task is
/// not COMPLETE (so nothing reads the stage until the caller has written it again).
pub(super) unsafe fn drop_future_in_place<F: Future>(
    ptr: NonNull<Header>,
) -> Result<(), JoinError> {
    let stage = stage::<F>(ptr);
    run_catching(|| {
        // Should the `Drop` unwind (and no `catch_unwind` stop it: without `std`), the stage
        // must not still look `Running`, or the loop's own drop would drop it again.
        let vacated = Vacated(stage);
        // SAFETY: the caller's contract: the stage is a live, pinned `Running` value that is
        // never used again before the caller overwrites it.
        unsafe { core::ptr::drop_in_place(stage) };
        core::mem::forget(vacated);
    })
}

/// Marks a stage `Consumed` if dropped, which only an unwinding `Drop` of its future does
/// (see `drop_future_in_place`).
struct Vacated<F: Future>(*mut Stage<F>);

impl<F: Future> Drop for Vacated<F> {
    fn drop(&mut self) {
        // SAFETY: the stage's value was being dropped and is never used again; writing over
        // it drops nothing.
        unsafe { core::ptr::write(self.0, Stage::Consumed) };
    }
}

/// Runs `f`; with `std`, a panic in it is caught and returned.
#[cfg(feature = "std")]
fn run_catching(f: impl FnOnce()) -> Result<(), JoinError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(JoinError::panicked)
}

#[cfg(not(feature = "std"))]
fn run_catching(f: impl FnOnce()) -> Result<(), JoinError> {
    f();
    Ok(())
}

/// Drops `value`, catching a panic in its `Drop` (see `run_catching`).
pub(super) fn drop_catching<T>(value: T) -> Result<(), JoinError> {
    run_catching(move || drop(value))
}

#[cfg(feature = "std")]
pub(super) fn catch_panic<F: Future>(
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Result<Poll<F::Output>, JoinError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.poll(cx)))
        .map_err(JoinError::panicked)
}

#[cfg(not(feature = "std"))]
pub(super) fn catch_panic<F: Future>(
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Result<Poll<F::Output>, JoinError> {
    Ok(future.poll(cx))
}

/// Whether the stage still holds the future.
///
/// # Safety
/// Loop thread only; no reference into the stage is live.
unsafe fn is_running<F: Future>(ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller's contract. (A unique borrow, as a poll takes: the future may be
    // self-referential, and a shared one would retag the references it holds.)
    matches!(unsafe { &mut *stage::<F>(ptr) }, Stage::Running(_))
}

/// Moves the output or nothing the stage holds out (never a future: that is pinned),
/// leaving `with` in its place: the caller drops it (an output's `Drop` is user code) with
/// no reference into the stage live.
///
/// # Safety
/// Loop thread only; the stage is not `Running`; no reference into it is live.
unsafe fn replace_stage<F: Future>(ptr: NonNull<Header>, with: Stage<F>) -> Stage<F> {
    // SAFETY: the caller's contract; `stage` points into the live task cell.
    unsafe { core::ptr::replace(stage::<F>(ptr), with) }
}

pub(super) unsafe fn cancel<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: loop thread only, not during a poll of this task, and not COMPLETE (the
    // loop cancels only unfinished tasks).
    if unsafe { is_running::<F>(ptr) } {
        // SAFETY: as above.
        let dropped = unsafe { drop_future_in_place::<F>(ptr) };
        let output = match dropped {
            Ok(()) => Err(JoinError::Cancelled),
            Err(error) => Err(error),
        };
        // SAFETY: the stage holds no value now.
        unsafe { core::ptr::write(stage::<F>(ptr), Stage::Finished(output)) };
    }
}

pub(super) unsafe fn take_output<F: Future>(ptr: NonNull<Header>, out: *mut ()) {
    // SAFETY: loop thread only; called for a COMPLETE task, whose stage is not `Running`.
    let taken = unsafe { replace_stage::<F>(ptr, Stage::Consumed) };
    if let Stage::Finished(result) = taken {
        let out = out as *mut Poll<Result<F::Output, JoinError>>;
        // SAFETY: `out` points to a live `Poll<Result<F::Output, JoinError>>` (the caller's
        // promise), borrowed mutably by the caller for this call.
        unsafe { *out = Poll::Ready(result) };
    }
}

pub(super) unsafe fn drop_stage<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: loop thread only; nothing borrows the stage.
    if unsafe { is_running::<F>(ptr) } {
        // Not reached today (the stage is dropped only once the task is COMPLETE), but a
        // future must be dropped where it is pinned.
        // SAFETY: as above.
        let _ = unsafe { drop_future_in_place::<F>(ptr) };
        // SAFETY: the stage holds no value now.
        unsafe { core::ptr::write(stage::<F>(ptr), Stage::Consumed) };
        return;
    }
    // SAFETY: as above; the stage is not `Running`. The old output is dropped after the
    // stage is `Consumed`.
    let old = unsafe { replace_stage::<F>(ptr, Stage::Consumed) };
    drop(old);
}

pub(super) unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: this was allocated as a Box<TaskCell<F>> and this is the last reference.
    drop(unsafe { Box::from_raw(ptr.cast::<TaskCell<F>>().as_ptr()) });
}
