//! Tasks: one allocation each (header, future and output slot together), their wakers, and
//! the handle that awaits their output.
//!
//! This is the one intricate piece of `unsafe` in the crate. The rule that keeps it sound:
//! a `Waker` may travel to any thread, so it touches only the header's atomics and the loop's
//! [`Shared`] queue; the future, the output and the header's `local` part are touched only on
//! the loop's thread (the `Loop`, `Handle` and `JoinHandle` are all `!Send`).

mod join;
mod join_error;
mod names;
mod raw;
mod registry;
mod shared;
pub(crate) mod state;

pub use join::{JoinError, JoinHandle};
#[allow(unused_imports)] // the trace and report layer names tasks by their wakers
pub(crate) use raw::{task_id_of, wake_local, TaskRef};
pub(crate) use registry::Registry;
pub(crate) use shared::{Park, Shared, CROSS_THREAD_CAUSE};

use core::task::Waker;

/// A copy of `waker` for the loop's own tables (reactor, timers, join), which call it on the
/// loop's thread only: for a waker of this loop (`owner`), one that is not counted as able
/// to wake the loop from another thread (see `Shared::escaped`); any other waker is cloned.
pub(crate) fn local_clone(waker: &Waker, owner: *const Shared) -> Waker {
    raw::local_clone(waker, owner)
        .or_else(|| shared::local_clone(waker, owner))
        .unwrap_or_else(|| waker.clone())
}

/// Whether `a` and `b` wake the same thing: `Waker::will_wake`, but also true for a local
/// copy (see `local_clone`) and the waker it was made from.
pub(crate) fn same_waker(a: &Waker, b: &Waker) -> bool {
    a.will_wake(b) || raw::same_task(a, b) || shared::same_main(a, b)
}
