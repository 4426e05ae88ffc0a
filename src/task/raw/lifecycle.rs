//! A task's bookkeeping outside its poll and wake: its registry slot, name flag, join waker,
//! completion, cancellation, output and the time of its last poll (for reports). Loop thread
//! only; a waker taken out here is woken or dropped by the caller, never under a borrow.

use super::super::join_error::JoinError;
use super::super::shared::Shared;
use super::super::state::{ABORT, COMPLETE, FLAGS, JOIN_GONE, NAMED};
use super::TaskRef;
use alloc::sync::Arc;
use core::sync::atomic::Ordering::*;
use core::task::{Poll, Waker};

impl TaskRef {
    /// The loop this task belongs to (its wake queue).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.header().shared
    }

    /// The flag bits of the state word (see `state.rs`).
    pub(crate) fn state(&self) -> u64 {
        self.header().state.load(Acquire) & FLAGS
    }

    /// The task's index in its loop's registry (`NO_SLOT` while not registered).
    pub(crate) fn slot(&self) -> u32 {
        self.header().slot.get()
    }

    /// Only the registry sets the slot (see `registry.rs`).
    pub(in crate::task) fn set_slot(&self, slot: u32) {
        self.header().slot.set(slot);
    }

    /// Hands out one more owned reference to this task without counting it: the one the
    /// registry held.
    ///
    /// # Safety
    /// The caller must own one counted reference to this task that nothing else will
    /// release (the registry's, when it removes the task).
    pub(in crate::task) unsafe fn adopt_counted(&self) -> TaskRef {
        TaskRef { ptr: self.ptr }
    }

    /// Marks the task as named (its name is in the registry); before it is scheduled.
    pub(in crate::task) fn set_named(&self) {
        self.header().state.fetch_or(NAMED, Relaxed);
    }

    /// Whether the task was spawned with a name.
    pub(crate) fn is_named(&self) -> bool {
        self.header().state.load(Relaxed) & NAMED != 0
    }

    /// Whether the `JoinHandle` still exists (if not, an output is dropped at completion).
    pub(crate) fn join_alive(&self) -> bool {
        self.header().state.load(Acquire) & JOIN_GONE == 0
    }

    /// Records that the `JoinHandle` was dropped.
    pub(crate) fn set_join_gone(&self) {
        self.header().state.fetch_or(JOIN_GONE, AcqRel);
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.state() & COMPLETE != 0
    }

    /// Takes the waker to call when the task completes (the caller wakes or drops it).
    pub(crate) fn take_join_waker(&self) -> Option<Waker> {
        self.header().local.join_waker.take()
    }

    /// Stores the waker to call when the task completes; returns the one it replaces, for
    /// the caller to drop once nothing of the task's state is borrowed.
    pub(crate) fn replace_join_waker(&self, waker: Option<Waker>) -> Option<Waker> {
        self.header().local.join_waker.replace(waker)
    }

    /// When the task was last polled (loop clock, ns).
    pub(crate) fn polled_at(&self) -> u64 {
        self.header().local.polled_at.get()
    }

    /// Records the start of a poll (loop clock, ns).
    pub(crate) fn set_polled_at(&self, now: u64) {
        self.header().local.polled_at.set(now);
    }

    /// Asks the loop to drop the future at its next turn.
    pub(crate) fn request_abort(&self) {
        self.header().state.fetch_or(ABORT, AcqRel);
        self.schedule();
    }

    /// Drops the future, storing `Cancelled` as the output.
    pub(crate) fn cancel(&self) {
        // SAFETY: loop thread; the future is not being polled (no re-entrant poll exists).
        unsafe { (self.header().vtable.cancel)(self.ptr) }
    }

    /// Marks the task complete (never polled again; wakes become no-ops).
    pub(crate) fn set_complete(&self) {
        self.header().state.fetch_or(COMPLETE, AcqRel);
    }

    /// Moves the output out; `out` must point to a `Poll<Result<T, JoinError>>` of the
    /// task's own output type.
    ///
    /// # Safety
    /// `T` must be the output type of the future this task was created with.
    pub(crate) unsafe fn take_output<T>(&self, out: &mut Poll<Result<T, JoinError>>) {
        // SAFETY: the caller guarantees the type; loop thread only.
        unsafe { (self.header().vtable.take_output)(self.ptr, out as *mut _ as *mut ()) }
    }

    /// Drops whatever the stage holds (future or output).
    pub(crate) fn drop_stage(&self) {
        // SAFETY: loop thread; nothing borrows the stage now.
        unsafe { (self.header().vtable.drop_stage)(self.ptr) }
    }
}
