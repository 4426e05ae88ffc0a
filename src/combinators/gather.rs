//! `gather` / `try_gather`: asyncio.gather over a `Vec` or a tuple of futures.
//!
//! The children are joined in place (see [`gather`] for how this relates to spawned
//! tasks); nothing here spawns, and dropping a gather drops every child it still holds.
//! The fallible form returns the first error and drops the other children at that moment
//! (asyncio's gather leaves them running; dropping is the Rust way to cancel).

use super::join_all::{JoinAll, TryJoinAll};
use alloc::vec::Vec;
use core::future::Future;

/// What [`gather`] accepts: a `Vec` of futures of one type, or a tuple of 1 to 12 futures of
/// any types.
///
/// ```
/// use readyloop::{gather, Loop};
/// let lp = Loop::new().unwrap();
/// // A tuple of futures of different types...
/// let (n, s) = lp.block_on(gather((async { 1 }, async { "one" })));
/// assert_eq!((n, s), (1, "one"));
/// // ...or a Vec of futures of one type.
/// let all = lp.block_on(gather((1..=3).map(|i| async move { i * 2 }).collect::<Vec<_>>()));
/// assert_eq!(all, vec![2, 4, 6]);
/// ```
pub trait Gather {
    /// The outputs, in input order: a `Vec`, or a tuple.
    type Output;
    /// The joining future.
    type Future: Future<Output = Self::Output>;
    /// Makes the joining future.
    ///
    /// ```
    /// use readyloop::{combinators::Gather, Loop};
    /// let lp = Loop::new().unwrap();
    /// let joined = (async { 'a' }, async { 'b' }).into_gather();
    /// assert_eq!(lp.block_on(joined), ('a', 'b'));
    /// ```
    fn into_gather(self) -> Self::Future;
}

/// What [`try_gather`] accepts: a `Vec` or a tuple (1 to 12) of futures giving `Result`s
/// with one error type.
///
/// ```
/// use readyloop::{try_gather, Loop};
/// let lp = Loop::new().unwrap();
/// let ok = lp.block_on(try_gather((async { Ok::<_, &str>(1) }, async { Ok("x") })));
/// assert_eq!(ok, Ok((1, "x")));
/// let checks: Vec<_> = [1, 0, 3].into_iter().map(|n| async move {
///     if n > 0 { Ok(n) } else { Err("zero") }
/// }).collect();
/// assert_eq!(lp.block_on(try_gather(checks)), Err("zero"));
/// ```
pub trait TryGather {
    /// The values, in input order: a `Vec`, or a tuple.
    type Ok;
    /// The common error type.
    type Error;
    /// The joining future.
    type Future: Future<Output = Result<Self::Ok, Self::Error>>;
    /// Makes the joining future.
    ///
    /// ```
    /// use readyloop::{combinators::TryGather, Loop};
    /// let lp = Loop::new().unwrap();
    /// let joined = (async { Ok::<u8, ()>(1) }, async { Ok("b") }).into_try_gather();
    /// assert_eq!(lp.block_on(joined), Ok((1, "b")));
    /// ```
    fn into_try_gather(self) -> Self::Future;
}

impl<F: Future> Gather for Vec<F> {
    type Output = Vec<F::Output>;
    type Future = JoinAll<F>;

    fn into_gather(self) -> JoinAll<F> {
        super::join_all(self)
    }
}

impl<T, E, F: Future<Output = Result<T, E>>> TryGather for Vec<F> {
    type Ok = Vec<T>;
    type Error = E;
    type Future = TryJoinAll<F>;

    fn into_try_gather(self) -> TryJoinAll<F> {
        super::try_join_all(self)
    }
}

/// Runs the futures concurrently and returns all their outputs in input order
/// (`asyncio.gather`). Takes a `Vec` (see also [`join_all`](crate::join_all)) or a tuple of
/// up to 12 futures of different types.
///
/// ## Futures in place, tasks by handle
///
/// `gather` joins *futures in place*: the children are polled by the task that awaits the
/// gather, concurrently (while one waits, the others run) but never on their own. Nothing
/// is spawned, so nothing outlives the gather: dropping it drops every child still running,
/// which withdraws whatever fd or timer each waited on.
///
/// To run children as independent tasks, spawn them and gather their
/// [`JoinHandle`](crate::JoinHandle)s; each output is then a `Result<T, JoinError>`. Dropping
/// such a gather drops the handles, which *detaches* the tasks (they keep running, as a
/// dropped `JoinHandle` always does); gather handles made with
/// [`abort_on_drop`](crate::JoinHandle::abort_on_drop) to have the drop cancel the tasks.
///
/// ```
/// use core::time::Duration;
/// use readyloop::{gather, Loop};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let start = h.now();
/// let (a, b) = lp.block_on(gather((
///     async { h.sleep(Duration::from_millis(20)).await; "slow" },
///     async { h.sleep(Duration::from_millis(10)).await; 2 },
/// )));
/// assert_eq!((a, b), ("slow", 2));
/// assert!(h.now() - start < Duration::from_millis(200)); // together, not one after the other
/// ```
///
/// Spawned tasks, cancelled if the gather is dropped:
///
/// ```
/// use readyloop::{gather, Loop};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let tasks: Vec<_> = (0..3).map(|n| h.spawn(async move { n * 10 }).abort_on_drop()).collect();
/// let out: Vec<_> = lp.block_on(gather(tasks)).into_iter().map(Result::unwrap).collect();
/// assert_eq!(out, vec![0, 10, 20]);
/// ```
pub fn gather<G: Gather>(futures: G) -> G::Future {
    futures.into_gather()
}

/// Like [`gather`] for futures giving `Result`s: all the values in input order, or the
/// first error, at which point every other child is dropped (cancelled).
///
/// ```
/// use readyloop::{try_gather, Loop};
/// let lp = Loop::new().unwrap();
/// let ok = lp.block_on(try_gather((async { Ok::<_, String>(1) }, async { Ok("two") })));
/// assert_eq!(ok, Ok((1, "two")));
/// let failed = lp.block_on(try_gather((
///     async { Err::<u8, _>("bad input".to_string()) },
///     std::future::pending::<Result<(), String>>(), // dropped at the error
/// )));
/// assert_eq!(failed.unwrap_err(), "bad input");
/// ```
pub fn try_gather<G: TryGather>(futures: G) -> G::Future {
    futures.into_try_gather()
}
