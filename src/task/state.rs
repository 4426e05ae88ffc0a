//! The bits of a task's atomic state word, each with the invariant it guards.

/// The task is in the loop's wake queue or run queue, or is about to be pushed there.
/// Set by a wake that finds it clear (that wake then pushes the task and owns one reference
/// for the queue); cleared by the loop just before it polls the task.
pub(crate) const SCHEDULED: usize = 1 << 0;

/// The future is gone (finished, cancelled or panicked). Never cleared. Wakes of a complete
/// task do nothing, and the loop never polls it again.
pub(crate) const COMPLETE: usize = 1 << 1;

/// `abort()` was asked. The loop drops the future at its next turn instead of polling it.
pub(crate) const ABORT: usize = 1 << 2;
