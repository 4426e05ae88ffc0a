//! Tasks: one allocation each (header, future and output slot together), their wakers, and
//! the handle that awaits their output.
//!
//! This is the one intricate piece of `unsafe` in the crate. The rule that keeps it sound:
//! a `Waker` may travel to any thread, so it touches only the header's atomics and the loop's
//! [`Shared`] queue; the future, the output and the header's `local` part are touched only on
//! the loop's thread (the `Loop`, `Handle` and `JoinHandle` are all `!Send`).
//!
//! Re-entrancy: a waker's `wake` or `Drop`, a future's or output's `Drop`, may run arbitrary
//! code that re-enters the loop and reads this very task (a stuck-task report does). So no
//! `&mut` into a task is ever held across such a call: the header's loop-thread part is
//! `Cell`s moved in and out whole, and a stage is replaced first and its old value dropped
//! after (the pattern of async-task).

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

/// A waker one of the loop's tables (reactor, timers) is about to keep, prepared before the
/// table is borrowed: a waker that is not this loop's own may run user code when cloned
/// (its vtable's `clone`), so it is cloned here, outside any borrow. The loop's own wakers
/// are copied inside (`local_clone`), which runs no user code. Whatever the table did not
/// take is dropped by the caller after the borrow ends.
pub(crate) struct NewWaker<'a> {
    waker: &'a Waker,
    owner: *const Shared,
    foreign: Option<Waker>,
}

impl<'a> NewWaker<'a> {
    /// Prepares `waker` for a table of the loop whose `Shared` is `owner`.
    #[inline]
    pub(crate) fn new(waker: &'a Waker, owner: *const Shared) -> Self {
        let own = raw::is_own(waker, owner) || shared::is_own(waker, owner);
        NewWaker {
            waker,
            owner,
            foreign: if own { None } else { Some(waker.clone()) },
        }
    }

    /// The waker, to compare with the one a table holds.
    #[inline]
    pub(crate) fn get(&self) -> &Waker {
        self.waker
    }

    /// The copy to keep (taken once).
    #[inline]
    pub(crate) fn take(&mut self) -> Waker {
        match self.foreign.take() {
            Some(w) => w,
            None => local_clone(self.waker, self.owner),
        }
    }
}

/// Whether `a` and `b` wake the same thing: `Waker::will_wake`, but also true for a local
/// copy (see `local_clone`) and the waker it was made from.
pub(crate) fn same_waker(a: &Waker, b: &Waker) -> bool {
    a.will_wake(b) || raw::same_task(a, b) || shared::same_main(a, b)
}
