//! `MaybeDone`: one child of a join, which keeps its output until every sibling is done.
//!
//! Shared by the joins over vectors and tuples. Pinning is structural: a child future is
//! pinned where it sits and dropped in place (never moved) once it completes or the join
//! gives up on it.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// A child future, its output once it finished, or nothing (output taken, or dropped).
#[derive(Debug)]
pub(crate) enum MaybeDone<F: Future> {
    Running(F),
    Done(F::Output),
    Gone,
}

impl<F: Future> MaybeDone<F> {
    /// Polls the child if it is still running; true once it has an output (or is gone).
    pub(crate) fn poll_step(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        // SAFETY: the future is never moved out of `Running`: it is polled where it sits and
        // replaced (dropped in place) by `Done` once it completes.
        let this = unsafe { self.get_unchecked_mut() };
        if let MaybeDone::Running(future) = this {
            // SAFETY: `this` is pinned, so the future inside it is too (structural pinning).
            match unsafe { Pin::new_unchecked(future) }.poll(cx) {
                Poll::Ready(output) => *this = MaybeDone::Done(output),
                Poll::Pending => return false,
            }
        }
        true
    }

    /// Takes the output out (leaving `Gone`).
    pub(crate) fn take_output(self: Pin<&mut Self>) -> Option<F::Output> {
        // SAFETY: only a `Done` value is moved out; a running future is never moved.
        let this = unsafe { self.get_unchecked_mut() };
        match this {
            MaybeDone::Done(_) => match core::mem::replace(this, MaybeDone::Gone) {
                MaybeDone::Done(output) => Some(output),
                _ => None,
            },
            _ => None,
        }
    }

    /// Drops the child (running future or unclaimed output) in place.
    pub(crate) fn cancel(self: Pin<&mut Self>) {
        // SAFETY: assigning drops the old value in place; nothing pinned is moved.
        unsafe { *self.get_unchecked_mut() = MaybeDone::Gone };
    }

    /// A view of the output, if the child is done.
    pub(crate) fn output_mut(self: Pin<&mut Self>) -> Option<&mut F::Output> {
        // SAFETY: the output is not pinned (only the future is); handing out `&mut` to it
        // moves nothing that is.
        match unsafe { self.get_unchecked_mut() } {
            MaybeDone::Done(output) => Some(output),
            _ => None,
        }
    }
}
