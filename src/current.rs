//! The free functions (`std`): each is exactly `Handle::current().method(..)`.
//!
//! One rule for all of them (the crate docs' API guide): the loop is found when the function
//! is called (the loop running this thread), any deadline is taken then on that loop's clock,
//! and outside a running loop the call panics with a message naming the fix. This file holds
//! nothing else: no function here may keep its own state, look the loop up later, or read a
//! clock other than the loop's.

use crate::blocking::{Blocking, Resolve};
use crate::combinators::{Interval, ReturnWhen, Timeout, Wait};
use crate::events::Sleep;
use crate::executor::Handle;
use crate::task::JoinHandle;
use crate::time::Instant;
use core::future::Future;
use core::time::Duration;

/// Starts `future` as a task on the loop running this thread: [`Handle::spawn`] on
/// [`Handle::current`].
///
/// # Panics
/// Outside a running loop, naming the fix.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let n = lp.block_on(async {
///     let task = readyloop::spawn(async { 20 });
///     task.await.unwrap() + 1
/// });
/// assert_eq!(n, 21);
/// ```
#[track_caller]
pub fn spawn<F: Future + 'static>(future: F) -> JoinHandle<F::Output> {
    Handle::current().spawn(future)
}

/// A [`Sleep`] for `duration` from now on the loop running this thread: [`Handle::sleep`]
/// on [`Handle::current`] (`asyncio.sleep`).
///
/// # Panics
/// Outside a running loop, naming the fix.
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// lp.block_on(async { readyloop::sleep(Duration::from_millis(1)).await });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    Handle::current().sleep(duration)
}

/// A [`Sleep`] until `deadline`: [`Handle::sleep_until`] on [`Handle::current`]. A deadline
/// in the past completes at once.
///
/// # Panics
/// Outside a running loop, naming the fix.
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let when = h.now() + Duration::from_millis(5);
/// lp.block_on(async move { readyloop::sleep_until(when).await });
/// assert!(h.now() >= when);
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Handle::current().sleep_until(deadline)
}

/// An [`Interval`] ticking every `period`, the first tick now: [`Handle::interval`] on
/// [`Handle::current`].
///
/// # Panics
/// Outside a running loop, naming the fix.
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// lp.block_on(async {
///     let mut iv = readyloop::interval(Duration::from_millis(1));
///     iv.tick().await;
///     iv.tick().await;
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    Handle::current().interval(period)
}

/// Runs `future` for at most `duration` from this call (`asyncio.wait_for`):
/// [`Handle::timeout`] on [`Handle::current`].
///
/// # Panics
/// Outside a running loop, naming the fix (the deadline needs the loop's clock, which may be
/// virtual: a deadline from any other clock would be wrong).
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// let r = lp.block_on(async {
///     readyloop::timeout(Duration::from_millis(10), std::future::pending::<()>()).await
/// });
/// assert!(r.is_err());
/// ```
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Handle::current().timeout(duration, future)
}

/// Like [`timeout`] with a deadline on the loop clock: [`Handle::timeout_at`] on
/// [`Handle::current`].
///
/// # Panics
/// Outside a running loop, naming the fix.
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// let when = lp.handle().now() + Duration::from_secs(1);
/// assert_eq!(lp.block_on(async { readyloop::timeout_at(when, async { 3 }).await }), Ok(3));
/// ```
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Handle::current().timeout_at(deadline, future)
}

/// Waits for spawned tasks until `when` holds or `timeout` (counted from this call) passes
/// (`asyncio.wait`): [`Handle::wait`] on [`Handle::current`].
///
/// # Panics
/// Outside a running loop, naming the fix.
///
/// ```
/// use readyloop::ReturnWhen;
/// let lp = readyloop::Loop::new().unwrap();
/// let sum = lp.block_on(async {
///     let tasks = vec![readyloop::spawn(async { 1 }), readyloop::spawn(async { 2 })];
///     let (done, pending) = readyloop::wait(tasks, ReturnWhen::AllCompleted, None).await;
///     assert!(pending.is_empty());
///     done.into_iter().map(|t| t.into_result().unwrap()).sum::<i32>()
/// });
/// assert_eq!(sum, 3);
/// ```
#[track_caller]
pub fn wait<T, I>(tasks: I, when: ReturnWhen, timeout: Option<Duration>) -> Wait<T>
where
    I: IntoIterator<Item = JoinHandle<T>>,
{
    Handle::current().wait(tasks, when, timeout)
}

/// Runs `work` on a helper thread of the loop running this thread:
/// [`Handle::spawn_blocking`] on [`Handle::current`].
///
/// # Panics
/// Outside a running loop, naming the fix.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let out = lp.block_on(async {
///     readyloop::spawn_blocking(|| std::thread::current().name().map(String::from)).await
/// });
/// assert_eq!(out.unwrap().as_deref(), Some("readyloop-pool"));
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(work: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Handle::current().spawn_blocking(work)
}

/// Looks up `host` for `port` (seed 003's `loop.getaddrinfo`): [`Handle::resolve`] on
/// [`Handle::current`]; every address the system resolver gives, in its order.
///
/// `host` may be a name (`"localhost"`), an IPv4 or IPv6 address, or an IPv6 address in
/// brackets (`"[::1]"`). An empty or malformed host, or a name the resolver does not know,
/// gives an [`Error`](crate::Error), never a panic. The lookup itself cannot be cancelled (it
/// finishes on its helper thread); wrap it in [`timeout`] to stop waiting for it.
///
/// # Panics
/// Outside a running loop, naming the fix.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// lp.block_on(async {
///     let addrs = readyloop::resolve("localhost", 8080).await.unwrap();
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
///     let bad = readyloop::resolve("", 80).await;
///     assert_eq!(bad.unwrap_err().kind(), readyloop::ErrorKind::InvalidInput);
/// });
/// ```
#[track_caller]
pub fn resolve(host: &str, port: u16) -> Resolve {
    Handle::current().resolve(host, port)
}
