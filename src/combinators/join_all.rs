//! `join_all` / `try_join_all`: await a vector of futures together, in place.
//!
//! The children run inside the task that awaits the join, and every wake of that task polls
//! each unfinished child once: simple, no allocation after the join is made, but O(children)
//! per wake. On the
//! test machine 10,000 children (or `JoinHandle`s) woken one at a time cost about 0.25 s of
//! CPU in all over awaiting them one by one; past a few thousand, prefer awaiting handles in
//! turn or collecting results through a [`Queue`](crate::sync::Queue).
//!
//! Outputs come back in input order. Dropping the join drops every child still running;
//! the fallible form drops them as soon as one child fails.

use super::maybe_done::MaybeDone;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Pins each element of a pinned slice.
fn children<F: Future>(
    slice: Pin<&mut [MaybeDone<F>]>,
) -> impl Iterator<Item = Pin<&mut MaybeDone<F>>> {
    // SAFETY: the slice lives in a `Pin<Box<[_]>>` that is never reallocated, so each
    // element stays where it is; nothing here moves one.
    let slice = unsafe { slice.get_unchecked_mut() };
    slice.iter_mut().map(|child| {
        // SAFETY: pinning the slice pins its elements (structural pinning).
        unsafe { Pin::new_unchecked(child) }
    })
}

fn pin_children<F: Future>(futures: impl IntoIterator<Item = F>) -> Pin<Box<[MaybeDone<F>]>> {
    let v: Vec<MaybeDone<F>> = futures.into_iter().map(MaybeDone::Running).collect();
    Box::into_pin(v.into_boxed_slice())
}

/// Awaits every future of `futures` and returns their outputs in input order
/// (`asyncio.gather(*aws)`). See [`gather`](crate::gather) for tuples and for how this
/// relates to spawned tasks.
///
/// ```
/// use core::time::Duration;
/// use readyloop::{join_all, Loop};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let out = lp.block_on(join_all([30u64, 10, 20].map(|ms| {
///     let h = h.clone();
///     async move { h.sleep(Duration::from_millis(ms)).await; ms }
/// })));
/// assert_eq!(out, vec![30, 10, 20]); // input order, not finishing order
/// ```
pub fn join_all<I>(futures: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    JoinAll {
        children: pin_children(futures),
        finished: false,
    }
}

/// Awaits every future of `futures`, each giving a `Result`; returns all the values in input
/// order, or the first error, at which point the other children are dropped (cancelled).
///
/// ```
/// use readyloop::{try_join_all, Loop};
/// let lp = Loop::new().unwrap();
/// let ok = lp.block_on(try_join_all((1..=3).map(|n| async move { Ok::<_, &str>(n) })));
/// assert_eq!(ok, Ok(vec![1, 2, 3]));
/// let err = lp.block_on(try_join_all(vec![
///     Box::pin(async { Ok(1) }) as std::pin::Pin<Box<dyn std::future::Future<Output = Result<i32, &str>>>>,
///     Box::pin(async { Err("no") }),
///     Box::pin(std::future::pending()), // dropped when the error arrives
/// ]));
/// assert_eq!(err, Err("no"));
/// ```
pub fn try_join_all<I, T, E>(futures: I) -> TryJoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    TryJoinAll {
        children: pin_children(futures),
        finished: false,
    }
}

/// The future of [`join_all`] (and of [`gather`](crate::gather) over a `Vec`).
///
/// ```
/// use readyloop::{combinators::JoinAll, join_all, Loop};
/// let lp = Loop::new().unwrap();
/// let all: JoinAll<_> = join_all((1..=3).map(|i| async move { i * 10 }));
/// assert_eq!(lp.block_on(all), vec![10, 20, 30]);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    children: Pin<Box<[MaybeDone<F>]>>,
    finished: bool,
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("children", &self.children.len())
            .finish()
    }
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.finished, "readyloop: join polled after it completed");
        let mut all_done = true;
        for child in children(this.children.as_mut()) {
            all_done &= child.poll_step(cx);
        }
        if !all_done {
            return Poll::Pending;
        }
        this.finished = true;
        Poll::Ready(
            children(this.children.as_mut())
                .map(|c| c.take_output().expect("every child is done"))
                .collect(),
        )
    }
}

/// The future of [`try_join_all`] (and of [`try_gather`](crate::try_gather) over a `Vec`).
///
/// ```
/// use readyloop::{combinators::TryJoinAll, try_join_all, Loop};
/// let lp = Loop::new().unwrap();
/// let all: TryJoinAll<_> = try_join_all((1..=3).map(|i| async move {
///     if i < 3 { Ok(i) } else { Err("three") }
/// }));
/// assert_eq!(lp.block_on(all), Err("three"));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct TryJoinAll<F: Future> {
    children: Pin<Box<[MaybeDone<F>]>>,
    finished: bool,
}

impl<F: Future> fmt::Debug for TryJoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryJoinAll")
            .field("children", &self.children.len())
            .finish()
    }
}

impl<T, E, F: Future<Output = Result<T, E>>> Future for TryJoinAll<F> {
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.finished, "readyloop: join polled after it completed");
        let mut all_done = true;
        let mut failed = None;
        for mut child in children(this.children.as_mut()) {
            if child.as_mut().poll_step(cx) {
                if let Some(Err(_)) = child.as_mut().output_mut() {
                    failed = child.take_output();
                    break;
                }
            } else {
                all_done = false;
            }
        }
        if let Some(Err(e)) = failed {
            this.finished = true;
            // The first error cancels the rest, now rather than when the join is dropped.
            for child in children(this.children.as_mut()) {
                child.cancel();
            }
            return Poll::Ready(Err(e));
        }
        if !all_done {
            return Poll::Pending;
        }
        this.finished = true;
        Poll::Ready(Ok(children(this.children.as_mut())
            .map(|c| match c.take_output() {
                Some(Ok(v)) => v,
                _ => unreachable!("every child is done and none failed"),
            })
            .collect()))
    }
}
