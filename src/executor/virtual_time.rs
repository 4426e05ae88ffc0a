//! Explicit control of a loop's virtual clock from a test: `Handle::pause` and
//! `Handle::advance`.
//!
//! readyloop's virtual clock is the real clock plus an offset that only grows (see
//! `loop_clock.rs`). Unlike tokio's paused clock it is never frozen: while the loop waits on
//! something it cannot see through (a peer outside the loop), time runs at the real rate,
//! so a timeout against a real external server still fires, and a stuck test still hits its
//! deadline. What it adds is skipping: idle time (every task on a timer or a provably quiet
//! fd) is jumped over, and `advance` jumps on demand. Nothing here may move the clock back.

use super::Handle;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

impl Handle {
    /// Turns this loop's virtual clock on from now on (tokio's `time::pause`, with
    /// auto-advance): idle time is skipped as [`Builder::virtual_clock`] describes. The
    /// clock is not frozen: it keeps running at the real rate while a task waits on
    /// something outside the loop, so a timeout against an external peer still fires.
    /// Calling it again does nothing; a loop's clock cannot be made real again.
    /// Needs `std` (see [`Builder::virtual_clock`]).
    ///
    /// [`Builder::virtual_clock`]: crate::Builder::virtual_clock
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// h.pause();
    /// let real = std::time::Instant::now();
    /// lp.block_on(h.sleep(Duration::from_secs(600)));
    /// assert!(real.elapsed() < Duration::from_secs(5));
    /// ```
    pub fn pause(&self) {
        self.core.clock.set_virtual();
    }

    /// Moves this loop's clock forward by `by` (and turns its virtual clock on, as
    /// [`pause`](Handle::pause)). The timers due by then fire before the returned future
    /// completes, and the tasks they wake are polled before it: after
    /// `h.advance(d).await`, a task whose sleep ended within `d` has run up to its next
    /// await.
    ///
    /// ```
    /// use core::time::Duration;
    /// use std::{cell::Cell, rc::Rc};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let woke = Rc::new(Cell::new(false));
    /// lp.block_on(async {
    ///     let w = woke.clone();
    ///     let h2 = h.clone();
    ///     h.spawn(async move {
    ///         h2.sleep(Duration::from_secs(10)).await;
    ///         w.set(true);
    ///     });
    ///     readyloop::yield_now().await; // the task runs and arms its sleep
    ///     h.advance(Duration::from_secs(5)).await;
    ///     assert!(!woke.get());
    ///     h.advance(Duration::from_secs(5)).await;
    ///     assert!(woke.get());
    /// });
    /// ```
    pub fn advance(&self, by: Duration) -> Advance {
        Advance {
            handle: self.clone(),
            by: u64::try_from(by.as_nanos()).unwrap_or(u64::MAX),
            moved: false,
        }
    }
}

/// The future of [`Handle::advance`].
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let start = h.now();
/// let advance: readyloop::Advance = h.advance(Duration::from_secs(90));
/// lp.block_on(advance);
/// assert!(h.now() - start >= Duration::from_secs(90));
/// ```
#[derive(Debug)]
#[must_use = "the clock moves only when the future is awaited"]
pub struct Advance {
    handle: Handle,
    by: u64,
    moved: bool,
}

impl Future for Advance {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.moved {
            return Poll::Ready(());
        }
        self.moved = true;
        let core = &self.handle.core;
        core.clock.set_virtual();
        core.clock.skip(self.by);
        // Fire what is due now, so the woken tasks are queued ahead of this one and run
        // before the `advance` completes.
        let now = core.clock_now();
        let mut wake = Vec::new();
        if let Ok(mut timers) = core.timers.try_borrow_mut() {
            timers.fire(now, &mut wake, |_| {});
        }
        for w in wake {
            w.wake();
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
