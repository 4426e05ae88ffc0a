//! `yield_now`: give the other tasks a turn.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Returns `Pending` once after waking its own task (seed 001's `yield` with no event).
///
/// ```
/// use readyloop::{Loop, YieldNow};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let other = h.spawn(async { "the other task ran" });
/// lp.block_on(async move {
///     let step: YieldNow = readyloop::yield_now();
///     step.await; // the spawned task runs here
///     assert!(other.is_finished());
/// });
/// ```
#[derive(Debug, Default)]
#[must_use = "YieldNow does nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

/// Lets every other ready task run before this one continues.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// lp.block_on(readyloop::yield_now());
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
