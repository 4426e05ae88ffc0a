//! `Sleep`: wait until a deadline on the loop clock.

use crate::executor::Handle;
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
#[derive(Debug)]
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    handle: Handle,
    deadline: Instant,
    key: Option<TimerKey>,
}

impl Sleep {
    /// A sleep until `deadline` on `handle`'s loop (what [`Handle::sleep`] and
    /// [`Handle::sleep_until`] make; the deadline is taken by the caller).
    pub(crate) fn until(handle: &Handle, deadline: Instant) -> Sleep {
        Sleep {
            handle: handle.clone(),
            deadline,
            key: None,
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

    /// Moves the deadline (re-arming reuses the timer's slot: no allocation).
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
        if let Some(key) = self.key.take() {
            self.handle.timer_cancel(key);
        }
        self.deadline = deadline;
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
        match self.key {
            Some(key) => !self.handle.timer_is_armed(key),
            None => self.handle.now() >= self.deadline,
        }
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
                this.key = Some(this.handle.timer_insert(this.deadline.0, cx.waker()));
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
    pub fn sleep(&self, duration: Duration) -> Sleep {
        Sleep::until(self, self.now() + duration)
    }

    /// A [`Sleep`] until `deadline`.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// lp.block_on(h.sleep_until(h.now() + Duration::from_millis(1)));
    /// ```
    pub fn sleep_until(&self, deadline: Instant) -> Sleep {
        Sleep::until(self, deadline)
    }
}
