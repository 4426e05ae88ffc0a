//! The bits of a task's atomic state word, each with the invariant it guards.
//!
//! The word is a `u64`: the flags below in its low bits, and above [`CAUSE_SHIFT`], while
//! tracing, the encoded cause of the wake that queued the task (see `Shared::push`).

/// The task is in the loop's wake queue or run queue, or is about to be pushed there.
/// Set by a wake that finds it clear (that wake then pushes the task and owns one reference
/// for the queue); cleared by the loop just before it polls the task.
pub(crate) const SCHEDULED: u64 = 1 << 0;

/// The future is gone (finished, cancelled or panicked). Never cleared. Wakes of a complete
/// task do nothing, and the loop never polls it again.
pub(crate) const COMPLETE: u64 = 1 << 1;

/// `abort()` was asked. The loop drops the future at its next turn instead of polling it.
pub(crate) const ABORT: u64 = 1 << 2;

/// The `JoinHandle` was dropped: an output is dropped at completion. Never cleared.
pub(crate) const JOIN_GONE: u64 = 1 << 3;

/// The task was spawned with a name (kept in the loop's registry, keyed by task id).
/// Set at spawn, before any waker exists; never cleared.
pub(crate) const NAMED: u64 = 1 << 4;

/// The flag bits; the bits above them hold the wake cause while tracing.
pub(crate) const FLAGS: u64 = (1 << CAUSE_SHIFT) - 1;

/// Where the wake cause starts. Its encoding (`trace::tracer::encode`) keeps the kind in
/// bits 56..59, so the shifted cause fits the word. Only the wake that sets SCHEDULED
/// writes it (the bits are zero then: the loop clears them with SCHEDULED).
pub(crate) const CAUSE_SHIFT: u32 = 5;
