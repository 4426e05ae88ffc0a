//! hyper's `rt::Timer` for readyloop: [`HyperTimer`] makes [`HyperSleep`]s, which wait on
//! the timer heap of the loop that polls them.
//!
//! hyper requires its `Sleep` to be `Send + Sync`, and readyloop's [`Sleep`] holds an `Rc`.
//! So a `HyperSleep` holds only its deadline (a `std::time::Instant`) until its first poll,
//! and makes the readyloop `Sleep` then, on the polling thread's running loop, kept in a
//! [`ThreadBound`]: polled later on another thread it panics, dropped on another it is
//! leaked. This file must never touch the loop except from inside a poll or a drop on the
//! loop's thread.

use super::thread_bound::ThreadBound;
use crate::events::Sleep;
use crate::executor::Handle;
use crate::time::Instant;
use alloc::boxed::Box;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

/// What the thread-check panic calls a `HyperSleep`.
const WHAT: &str = "a readyloop timer (HyperSleep)";

/// hyper's timer on readyloop: pass it to hyper's builders (`.timer(HyperTimer::new())`),
/// as hyper-util's `TokioTimer` is passed for tokio. It holds nothing, so it is `Send +
/// Sync` and `Copy`; each sleep it makes runs on the loop of the thread that first polls it.
///
/// ```
/// use core::time::Duration;
/// use hyper::rt::Timer;
/// use readyloop::hyper::HyperTimer;
/// let lp = readyloop::Loop::new().unwrap();
/// let start = std::time::Instant::now();
/// lp.block_on(HyperTimer::new().sleep(Duration::from_millis(10)));
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperTimer;

impl HyperTimer {
    /// The timer (it has no state; `HyperTimer` alone is the same value).
    ///
    /// ```
    /// fn timer(_: impl hyper::rt::Timer + Send + Sync + Clone + 'static) {}
    /// timer(readyloop::hyper::HyperTimer::new());
    /// ```
    pub fn new() -> Self {
        HyperTimer
    }
}

impl ::hyper::rt::Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        let now = std::time::Instant::now();
        let deadline = now.checked_add(duration).unwrap_or(now + FAR_AHEAD);
        Box::pin(HyperSleep::until(deadline))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(HyperSleep::until(deadline))
    }

    fn reset(
        &self,
        sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>,
        new_deadline: std::time::Instant,
    ) {
        match sleep.as_mut().downcast_mut_pin::<HyperSleep>() {
            Some(mine) => mine.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// How far `sleep(Duration::MAX)` looks (std's `Instant` cannot hold more): never, in
/// practice.
const FAR_AHEAD: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// One sleep of [`HyperTimer`]: `Send + Sync` as hyper requires, made of a deadline until
/// its first poll, then of a readyloop [`Sleep`] on the polling loop.
///
/// # Panics
/// Polled on a thread where no readyloop loop is running, or on another thread than its
/// first poll's.
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// let deadline = std::time::Instant::now() + Duration::from_millis(5);
/// lp.block_on(readyloop::hyper::HyperSleep::until(deadline));
/// assert!(std::time::Instant::now() >= deadline);
/// ```
#[derive(Debug)]
pub struct HyperSleep {
    /// When it ends, on std's clock (hyper's unit).
    deadline: std::time::Instant,
    /// The loop's sleep, made at the first poll on the loop's thread.
    armed: Option<ThreadBound<Sleep>>,
}

impl HyperSleep {
    /// A sleep until `deadline` (nothing touches a loop until it is polled).
    ///
    /// ```
    /// let s = readyloop::hyper::HyperSleep::until(std::time::Instant::now());
    /// fn hyper_sleep(_: impl hyper::rt::Sleep) {}
    /// hyper_sleep(s);
    /// ```
    pub fn until(deadline: std::time::Instant) -> Self {
        HyperSleep {
            deadline,
            armed: None,
        }
    }

    /// Moves the deadline. On the loop's thread an armed sleep keeps its timer entry;
    /// elsewhere only the deadline changes and the next poll arms it.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let start = std::time::Instant::now();
    /// let mut s = readyloop::hyper::HyperSleep::until(start + Duration::from_secs(60));
    /// s.reset(start + Duration::from_millis(5));
    /// lp.block_on(s);
    /// assert!(start.elapsed() < Duration::from_secs(60));
    /// ```
    pub fn reset(&mut self, deadline: std::time::Instant) {
        self.deadline = deadline;
        match &mut self.armed {
            Some(armed) if armed.is_home() => {
                armed.get_mut(WHAT).reset(Instant::from_std(deadline));
            }
            // Not on the loop's thread: the drop leaks rather than touch the loop here.
            Some(_) => self.armed = None,
            None => {}
        }
    }
}

impl ::hyper::rt::Sleep for HyperSleep {}

impl Future for HyperSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let armed = match &mut this.armed {
            Some(armed) => armed,
            None => {
                let Some(handle) = Handle::try_current() else {
                    panic!(
                        "readyloop: a readyloop timer (HyperSleep) was polled on a thread \
                         with no running readyloop loop; run hyper's connection inside \
                         Loop::block_on or a task spawned on the loop"
                    );
                };
                let sleep = handle.sleep_until(Instant::from_std(this.deadline));
                this.armed.insert(ThreadBound::new(sleep))
            }
        };
        Pin::new(armed.get_mut(WHAT)).poll(cx)
    }
}
