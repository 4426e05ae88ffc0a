//! `timeout`: give a future a deadline (asyncio.wait_for).
//!
//! The inner future is polled first, then a [`Sleep`] until the deadline. If the deadline
//! passes first, the inner future is dropped at once (which withdraws whatever it waited on)
//! and the result is [`Elapsed`]. Dropping a `Timeout` drops its `Sleep`, which cancels the
//! timer: an abandoned timeout leaves nothing armed in the loop.

use crate::error::Error;
use crate::events::Sleep;
use crate::executor::Handle;
use crate::time::Instant;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

/// The deadline of a [`Handle::timeout`] passed before its future finished.
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let r = lp.block_on(h.timeout(Duration::from_millis(5), std::future::pending::<()>()));
/// let e = r.unwrap_err();
/// assert!(e.to_string().contains("deadline"));
/// let as_error: readyloop::Error = e.into();
/// assert_eq!(as_error.kind(), readyloop::ErrorKind::TimedOut);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed {
    /// The deadline that passed.
    deadline: Instant,
}

impl Elapsed {
    /// The deadline that passed.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let when = h.now() + Duration::from_millis(1);
    /// let e = lp.block_on(h.timeout_at(when, std::future::pending::<()>())).unwrap_err();
    /// assert_eq!(e.deadline(), when);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out: the deadline elapsed before the operation finished")
    }
}

impl core::error::Error for Elapsed {}

impl From<Elapsed> for Error {
    fn from(_: Elapsed) -> Error {
        Error::new(
            crate::ErrorKind::TimedOut,
            "timed out: the deadline elapsed before the operation finished",
        )
    }
}

#[cfg(feature = "std")]
impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> std::io::Error {
        Error::from(e).into()
    }
}

/// The future of [`Handle::timeout`] and [`Handle::timeout_at`]: the inner output in
/// `Ok`, or `Err(Elapsed)` if the deadline passed first.
///
/// ```
/// use core::time::Duration;
/// use readyloop::{combinators::Timeout, Loop};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let late: Timeout<_> = h.timeout(Duration::from_millis(5), core::future::pending::<()>());
/// assert!(lp.block_on(late).is_err());
/// let quick = h.timeout(Duration::from_secs(5), async { 1 });
/// assert_eq!(lp.block_on(quick).unwrap(), 1);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    /// The inner future; `None` once it finished or was dropped at the deadline.
    future: Option<F>,
    deadline: Instant,
    /// The loop whose timer to use, found when the timeout was made.
    handle: Handle,
    /// Armed at the first poll that finds the inner future pending.
    sleep: Option<Sleep>,
    /// Where the timeout was made, for reports.
    origin: crate::report::TimerOrigin,
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.deadline)
            .field("finished", &self.future.is_none())
            .finish()
    }
}

impl<F> Timeout<F> {
    #[track_caller]
    pub(crate) fn new(handle: Handle, deadline: Instant, future: F) -> Self {
        Timeout {
            future: Some(future),
            deadline,
            handle,
            sleep: None,
            origin: crate::report::TimerOrigin::here(crate::report::TimerKind::Timeout),
        }
    }

    /// The deadline.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let t = h.timeout(Duration::from_secs(1), async {});
    /// assert!(t.deadline() > h.now());
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline, earlier, later or into the past (an idle timeout that restarts
    /// on each bit of progress). A task waiting on this `Timeout` keeps waiting, for the
    /// new deadline: the timer is moved with the waker it holds (see [`Sleep::reset`]).
    ///
    /// ```
    /// use core::pin::pin;
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let mut t = pin!(h.timeout(Duration::from_secs(3600), core::future::pending::<()>()));
    /// let sooner = h.now() + Duration::from_millis(5);
    /// t.as_mut().reset(sooner); // an hour becomes 5 ms
    /// assert_eq!(lp.block_on(t).unwrap_err().deadline(), sooner);
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        // SAFETY: only the unpinned fields (`deadline`, `sleep`) are touched; `future`,
        // the one pinned field, is neither moved nor reached.
        let this = unsafe { self.get_unchecked_mut() };
        this.deadline = deadline;
        if let Some(sleep) = this.sleep.as_mut() {
            sleep.reset(deadline);
        }
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is pinned in place (structural pinning) and dropped in place by
        // assigning `None`; the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let future = this
            .future
            .as_mut()
            .expect("readyloop: Timeout polled after it completed");
        // SAFETY: as above.
        if let Poll::Ready(v) = unsafe { Pin::new_unchecked(future) }.poll(cx) {
            this.future = None;
            this.sleep = None;
            return Poll::Ready(Ok(v));
        }
        if this.sleep.is_none() {
            this.sleep = Some(Sleep::until(&this.handle, this.deadline, this.origin));
        }
        let sleep = this.sleep.as_mut().expect("armed above");
        match Pin::new(sleep).poll(cx) {
            Poll::Ready(()) => {
                this.future = None;
                this.sleep = None;
                Poll::Ready(Err(Elapsed {
                    deadline: this.deadline,
                }))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Handle {
    /// Runs `future` for at most `duration` (`asyncio.wait_for`): its output in `Ok`, or
    /// `Err(Elapsed)` with the future dropped if it takes longer.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let quick = lp.block_on(h.timeout(Duration::from_secs(5), async { 1 }));
    /// assert_eq!(quick, Ok(1));
    /// let slow = lp.block_on(h.timeout(Duration::from_millis(5), h.sleep(Duration::from_secs(5))));
    /// assert!(slow.is_err());
    /// assert_eq!(h.stats().timers_armed, 0);
    /// ```
    #[track_caller]
    pub fn timeout<F: Future>(&self, duration: Duration, future: F) -> Timeout<F> {
        Timeout::new(self.clone(), self.now() + duration, future)
    }

    /// Like [`timeout`](Handle::timeout) with a deadline instead of a duration.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let r = lp.block_on(h.timeout_at(h.now() + Duration::from_secs(1), async { "in time" }));
    /// assert_eq!(r, Ok("in time"));
    /// ```
    #[track_caller]
    pub fn timeout_at<F: Future>(&self, deadline: Instant, future: F) -> Timeout<F> {
        Timeout::new(self.clone(), deadline, future)
    }
}
