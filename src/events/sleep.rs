//! `Sleep`: wait until a deadline on the loop clock.

use crate::executor::Handle;
use crate::report::{TimerKind, TimerOrigin};
use crate::time::Instant;
use crate::timers::TimerKey;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

/// Completes at a deadline on the loop's monotonic clock.
///
/// Ports seed 002's `AsyncSleep` and seed 004's `AsyncTimer`: where the Python event
/// `yield`s itself so the loop files it under its `until` time, `Sleep` puts its deadline in
/// the loop's timer heap with the task's waker and returns `Pending`; the loop's wait never
/// outlasts the nearest deadline, and when it passes the loop wakes this task. It never
/// completes early. A deadline in the past completes at once; `Duration::MAX` never fires.
///
/// Made by [`Handle::sleep`] and [`Handle::sleep_until`] (or, with `std`, the free
/// [`sleep`](crate::sleep) and [`sleep_until`](crate::sleep_until)). Polled while its loop is
/// not running, it panics (it has no error to return): see the crate docs' API guide.
///
/// ```
/// use core::time::Duration;
/// use readyloop::{Loop, Sleep};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let start = h.now();
/// let nap: Sleep = h.sleep(Duration::from_millis(20));
/// lp.block_on(nap);
/// assert!(h.now() - start >= Duration::from_millis(20));
/// ```
///
/// # Resetting it from another thread
///
/// A `Sleep` is `!Send`: it holds its loop's [`Handle`], which never leaves the loop's
/// thread, so no other thread can touch it, and readyloop gives no `Send` handle to one.
/// The task that owns the timer resets it; another thread only tells that task what to do,
/// through anything `Send` plus a [`Waker`](core::task::Waker) (wakers are `Send`: a wake
/// from another thread reaches the loop through its wake queue, waking it from `poll`).
/// Here a `Mutex` is the mailbox, and the owning task races the timer against it:
///
/// ```
/// use core::time::Duration;
/// use readyloop::{select, Either, Loop};
/// use std::sync::{Arc, Mutex};
/// use std::task::{Poll, Waker};
///
/// /// What the other thread writes: a new timeout, and whom to wake about it.
/// #[derive(Default)]
/// struct Mailbox {
///     new_timeout: Option<Duration>,
///     waker: Option<Waker>,
/// }
///
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let mailbox = Arc::new(Mutex::new(Mailbox::default()));
/// let other_thread = std::thread::spawn({
///     let mailbox = mailbox.clone();
///     move || {
///         std::thread::sleep(Duration::from_millis(20));
///         let mut m = mailbox.lock().unwrap();
///         m.new_timeout = Some(Duration::from_millis(10)); // an hour becomes 10 ms
///         if let Some(waker) = m.waker.take() {
///             waker.wake();
///         }
///     }
/// });
/// let took = lp.block_on(async {
///     let start = h.now();
///     let mut timer = h.sleep(Duration::from_secs(3600));
///     loop {
///         let reset = core::future::poll_fn(|cx| {
///             let mut m = mailbox.lock().unwrap();
///             match m.new_timeout.take() {
///                 Some(d) => Poll::Ready(d),
///                 None => {
///                     m.waker = Some(cx.waker().clone());
///                     Poll::Pending
///                 }
///             }
///         });
///         match select(&mut timer, reset).await {
///             Either::Left(()) => break h.now() - start,
///             Either::Right(d) => timer.reset(h.now() + d),
///         }
///     }
/// });
/// other_thread.join().unwrap();
/// assert!(took >= Duration::from_millis(30) && took < Duration::from_secs(60), "{took:?}");
/// ```
///
/// The timer itself cannot cross:
///
/// ```compile_fail
/// fn needs_send<T: Send>(_: T) {}
/// let lp = readyloop::Loop::new().unwrap();
/// needs_send(lp.handle().sleep(core::time::Duration::from_secs(1)));
/// ```
#[derive(Debug)]
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    handle: Handle,
    deadline: Instant,
    key: Option<TimerKey>,
    /// What made it and where, for reports (copied into the timer at each arming).
    origin: Option<TimerOrigin>,
}

impl Sleep {
    /// A sleep until `deadline` on `handle`'s loop (what [`Handle::sleep`] and
    /// [`Handle::sleep_until`] make; the deadline is taken by the caller).
    pub(crate) fn until(handle: &Handle, deadline: Instant, origin: TimerOrigin) -> Sleep {
        Sleep {
            handle: handle.clone(),
            deadline,
            key: None,
            origin: Some(origin),
        }
    }

    /// The deadline this sleep waits for.
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::{Loop, Sleep};
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let deadline = h.now() + Duration::from_secs(1);
    /// assert_eq!(h.sleep_until(deadline).deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline, earlier, later or into the past (re-arming reuses the timer's
    /// slot: no allocation). A task already waiting on this sleep keeps waiting, now for the
    /// new deadline: the timer is moved with the waker that task registered, so a reset
    /// from another task (through a shared handle such as `Rc<RefCell<..>>`) wakes it at
    /// the new deadline, or at the next turn if that has passed.
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::{Loop, Sleep};
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let mut sleep = h.sleep(Duration::from_secs(3600));
    /// let sooner = h.now() + Duration::from_millis(5);
    /// sleep.reset(sooner); // an hour becomes 5 ms
    /// lp.block_on(sleep);
    /// assert!(h.now() >= sooner);
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        // Armed: move it, waker and all. Fired: its waker was called, and the next poll
        // arms the new deadline afresh (or completes, if it has passed).
        if let Some(key) = self.key.take() {
            self.key = self.handle.timer_reset(key, deadline.0);
        }
    }

    /// True once the deadline has passed (or the timer fired).
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::{Loop, Sleep};
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let sleep = h.sleep(Duration::from_millis(5));
    /// assert!(!sleep.is_elapsed());
    /// lp.block_on(h.sleep(Duration::from_millis(10)));
    /// assert!(sleep.is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        // A timer moved into the past is still armed until the next turn fires it.
        self.handle.now() >= self.deadline
            || self.key.is_some_and(|key| !self.handle.timer_is_armed(key))
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        this.handle.assert_running("Sleep");
        match this.key {
            Some(key) if this.handle.timer_is_armed(key) => {
                this.handle.timer_update(key, cx.waker());
                Poll::Pending
            }
            Some(_) => {
                this.key = None;
                Poll::Ready(())
            }
            None => {
                if this.handle.now() >= this.deadline {
                    return Poll::Ready(());
                }
                this.key = Some(
                    this.handle
                        .timer_insert(this.deadline.0, cx.waker(), this.origin),
                );
                Poll::Pending
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.handle.timer_cancel(key);
        }
    }
}

impl Handle {
    /// A [`Sleep`] for `duration` from now (`asyncio.sleep`).
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// lp.block_on(lp.handle().sleep(Duration::from_millis(1)));
    /// ```
    #[track_caller]
    pub fn sleep(&self, duration: Duration) -> Sleep {
        let origin = TimerOrigin::here(TimerKind::Sleep);
        Sleep::until(self, self.now() + duration, origin)
    }

    /// A [`Sleep`] until `deadline`.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// lp.block_on(h.sleep_until(h.now() + Duration::from_millis(1)));
    /// ```
    #[track_caller]
    pub fn sleep_until(&self, deadline: Instant) -> Sleep {
        Sleep::until(self, deadline, TimerOrigin::here(TimerKind::Sleep))
    }
}
