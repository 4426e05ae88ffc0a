//! `select` / `select_all`: race futures, keep the first output, drop the rest.
//!
//! Children are polled in order (the first listed wins a tie: the choice is predictable,
//! not random). When one completes, every other child is dropped at once, which withdraws
//! whatever fd or timer it waited on.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// The output of [`select`]: which of the two futures finished first, with its output.
///
/// ```
/// use readyloop::{select, Either, Loop};
/// let lp = Loop::new().unwrap();
/// let out: Either<u8, &str> = lp.block_on(select(async { 1u8 }, async { "two" }));
/// assert_eq!(out, Either::Left(1)); // both ready: the first listed wins
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Either<L, R> {
    /// The first future won.
    Left(L),
    /// The second future won.
    Right(R),
}

impl<T> Either<T, T> {
    /// The output, whichever side it came from.
    ///
    /// ```
    /// use readyloop::Either;
    /// assert_eq!(Either::<u8, u8>::Right(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Either::Left(v) | Either::Right(v) => v,
        }
    }
}

/// Waits for whichever of `a` and `b` finishes first and drops the other (a race).
/// If both are ready at the same poll, `a` wins.
///
/// ```
/// use core::time::Duration;
/// use readyloop::{select, Either, Loop};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let winner = lp.block_on(select(
///     async { h.sleep(Duration::from_millis(50)).await; "slow" },
///     async { h.sleep(Duration::from_millis(5)).await; 7 },
/// ));
/// assert_eq!(winner, Either::Right(7));
/// assert_eq!(h.stats().timers_armed, 0); // the loser's timer went with it
/// ```
pub fn select<A: Future, B: Future>(a: A, b: B) -> Select<A, B> {
    Select {
        a: Some(a),
        b: Some(b),
    }
}

/// The future of [`select`].
///
/// ```
/// use readyloop::combinators::Select;
/// use readyloop::{select, Either, Loop};
/// let lp = Loop::new().unwrap();
/// let race: Select<_, _> = select(core::future::pending::<()>(), async { "ready" });
/// assert_eq!(lp.block_on(race), Either::Right("ready"));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Select<A, B> {
    a: Option<A>,
    b: Option<B>,
}

impl<A, B> fmt::Debug for Select<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("finished", &self.a.is_none())
            .finish()
    }
}

impl<A: Future, B: Future> Future for Select<A, B> {
    type Output = Either<A::Output, B::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `a` and `b` are pinned in place (structural pinning); they are dropped in
        // place by assigning `None`, never moved out.
        let this = unsafe { self.get_unchecked_mut() };
        let (Some(a), Some(b)) = (this.a.as_mut(), this.b.as_mut()) else {
            panic!("readyloop: select polled after it completed");
        };
        // SAFETY: as above.
        let a = unsafe { Pin::new_unchecked(a) };
        // SAFETY: as above.
        let b = unsafe { Pin::new_unchecked(b) };
        let out = match a.poll(cx) {
            Poll::Ready(v) => Either::Left(v),
            Poll::Pending => match b.poll(cx) {
                Poll::Ready(v) => Either::Right(v),
                Poll::Pending => return Poll::Pending,
            },
        };
        this.a = None;
        this.b = None;
        Poll::Ready(out)
    }
}

/// Waits for the first of many futures to finish; returns its index and output and drops
/// the others. An empty list gives `None` at once (rather than waiting forever). If several
/// are ready at the same poll, the lowest index wins.
///
/// ```
/// use core::time::Duration;
/// use readyloop::{select_all, Loop};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let racers: Vec<_> = [3000u64, 5, 2000].iter().map(|&ms| {
///     let h = h.clone();
///     async move { h.sleep(Duration::from_millis(ms)).await; ms }
/// }).collect();
/// assert_eq!(lp.block_on(select_all(racers)), Some((1, 5)));
/// ```
pub fn select_all<I>(futures: I) -> SelectAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let v: Vec<Option<I::Item>> = futures.into_iter().map(Some).collect();
    SelectAll {
        children: Box::into_pin(v.into_boxed_slice()),
        finished: false,
    }
}

/// The future of [`select_all`].
///
/// ```
/// use core::time::Duration;
/// use readyloop::{combinators::SelectAll, select_all, Loop};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let sleepers: Vec<_> = [300u64, 10, 200]
///     .into_iter()
///     .map(|ms| {
///         let h = h.clone();
///         Box::pin(async move { h.sleep(Duration::from_millis(ms)).await; ms })
///     })
///     .collect();
/// let first: SelectAll<_> = select_all(sleepers);
/// assert_eq!(lp.block_on(first), Some((1, 10)));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct SelectAll<F> {
    children: Pin<Box<[Option<F>]>>,
    finished: bool,
}

impl<F> fmt::Debug for SelectAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectAll")
            .field("children", &self.children.len())
            .field("finished", &self.finished)
            .finish()
    }
}

impl<F: Future> Future for SelectAll<F> {
    type Output = Option<(usize, F::Output)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(
            !this.finished,
            "readyloop: select_all polled after it completed"
        );
        // SAFETY: the boxed slice is never reallocated and its futures are dropped in place
        // (assigning `None`), never moved.
        let children = unsafe { this.children.as_mut().get_unchecked_mut() };
        let mut winner = None;
        for (index, child) in children.iter_mut().enumerate() {
            let Some(future) = child.as_mut() else {
                continue;
            };
            // SAFETY: as above; pinning the slice pins its elements.
            if let Poll::Ready(v) = unsafe { Pin::new_unchecked(future) }.poll(cx) {
                winner = Some((index, v));
                break;
            }
        }
        if winner.is_none() && !children.is_empty() {
            return Poll::Pending;
        }
        this.finished = true;
        for child in children.iter_mut() {
            *child = None;
        }
        Poll::Ready(winner)
    }
}
