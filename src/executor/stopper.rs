//! `Stopper`: ends a loop's `run_forever` from any thread.
//!
//! A `Handle` is `!Send` (it reaches the loop's tables), so another thread, or a signal
//! handler's helper, cannot call `Handle::stop`. A `Stopper` holds only the part of the loop
//! other threads may touch (`task::Shared`): it sets the stop flag and writes the notifier
//! if the loop is blocked. It must never reach the loop's tables. While one exists it
//! counts as an escaped waker, so the loop keeps the notifier in its waits.

use crate::executor::Handle;
use crate::task::Shared;
use alloc::sync::Arc;

/// Ends the loop's [`run_forever`](crate::Loop::run_forever) from any thread: a `Send +
/// Sync` form of [`Handle::stop`], made by [`Handle::stopper`].
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// let stopper = lp.handle().stopper();
/// let t = std::thread::spawn(move || {
///     std::thread::sleep(Duration::from_millis(20));
///     stopper.stop(); // the loop wakes from its wait and run_forever returns
/// });
/// lp.run_forever();
/// t.join().unwrap();
/// ```
#[derive(Debug)]
pub struct Stopper {
    shared: Arc<Shared>,
}

impl Stopper {
    /// Makes `run_forever` return at the end of its current turn, waking it if it is
    /// blocked; called while it is not running, the next `run_forever` returns after one
    /// turn (see [`Handle::stop`]).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// lp.handle().stopper().stop(); // before run_forever: it runs one turn, then returns
    /// lp.run_forever();
    /// ```
    pub fn stop(&self) {
        self.shared.request_stop();
    }
}

impl Clone for Stopper {
    fn clone(&self) -> Self {
        self.shared.escape();
        Stopper {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for Stopper {
    fn drop(&mut self) {
        self.shared.unescape();
    }
}

impl Handle {
    /// A [`Stopper`] for this loop: `Send`, so another thread can end `run_forever`.
    ///
    /// ```
    /// fn assert_send<T: Send + Sync>(_: &T) {}
    /// let lp = readyloop::Loop::new().unwrap();
    /// let stopper = lp.handle().stopper();
    /// assert_send(&stopper);
    /// ```
    pub fn stopper(&self) -> Stopper {
        self.core.shared.escape();
        Stopper {
            shared: self.core.shared.clone(),
        }
    }
}
