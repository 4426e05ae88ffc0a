//! The loop clock: `CLOCK_MONOTONIC`, or a virtual clock that skips idle time for tests.
//!
//! A virtual clock is the real clock plus an offset that only grows. Time runs at the real
//! rate while anything could happen from outside, and jumps straight to the nearest
//! deadline when nothing but timers can wake a task. The rule, checked each time the loop
//! is about to block (see `Core::timeout`):
//!
//! 1. no task is ready and no `call_soon` callback is queued;
//! 2. every fd a task waits on is provably quiet (see `quiet.rs`): nothing is ready, and
//!    a socket whose peer is a socket of this loop has no byte in flight on either end; an
//!    fd whose other end is outside the loop (a pipe, another thread's or process's socket)
//!    keeps real time, unless the loop was given a quiet grace
//!    (`Builder::virtual_clock_grace`) and the loop has been quiet that long in real time;
//! 3. no [`ClockHold`] is alive: code that hands a waker to another thread (a blocking-work
//!    pool, a thread that will answer later) holds one, since the loop cannot see a waker
//!    travel; wakes already made from other threads are caught by rule 1;
//! 4. a timer is armed.
//!
//! Then the offset grows by exactly what the loop would have slept, the wait becomes a
//! zero-timeout poll (so fds are still looked at), and the timers fire in deadline order.
//! The clock never goes backwards and a sleep never ends early in virtual time.

use crate::task::Shared;
use alloc::sync::Arc;
use core::cell::Cell;
use core::sync::atomic::{AtomicUsize, Ordering};

/// The clock of one loop.
#[derive(Debug)]
pub(crate) struct LoopClock {
    /// Whether idle time may be skipped (`Builder::virtual_clock`, `Handle::pause`).
    virtual_time: Cell<bool>,
    /// Real quiet after which an fd with an outside peer no longer holds the clock (ns).
    pub(crate) grace: Cell<Option<u64>>,
    /// Real time (monotonic ns) since which nothing has happened in the loop, and the
    /// activity count it was measured from (for the grace).
    pub(crate) quiet_since: Cell<(u64, u64)>,
    /// The inode numbers of the two ends of each socketpair made on this loop while its
    /// clock was virtual: their unnamed ends can be matched only this way.
    pub(crate) pairs: core::cell::RefCell<alloc::vec::Vec<(u64, u64)>>,
    /// Nanoseconds added to the monotonic clock (grows only).
    offset: Cell<u64>,
    /// How many [`ClockHold`]s are alive.
    holds: Arc<AtomicUsize>,
}

impl LoopClock {
    pub(crate) fn new(virtual_time: bool) -> Self {
        LoopClock {
            virtual_time: Cell::new(virtual_time),
            grace: Cell::new(None),
            quiet_since: Cell::new((0, 0)),
            pairs: core::cell::RefCell::new(alloc::vec::Vec::new()),
            offset: Cell::new(0),
            holds: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The loop clock for a reading of the monotonic clock.
    #[inline]
    pub(crate) fn at(&self, monotonic: u64) -> u64 {
        monotonic.saturating_add(self.offset.get())
    }

    /// Always false without std: the virtual clock is a testing aid, and a constant lets
    /// the optimizer drop its code from no_std builds (nostd-echo/ must stay <= 32 KiB).
    #[inline]
    pub(crate) fn is_virtual(&self) -> bool {
        cfg!(feature = "std") && self.virtual_time.get()
    }

    /// Notes a socketpair made on a virtual-clock loop (nothing on a real clock), so its
    /// ends count as peers of each other (see `quiet.rs`).
    pub(crate) fn note_pair(&self, a: rustix::fd::BorrowedFd<'_>, b: rustix::fd::BorrowedFd<'_>) {
        if self.is_virtual() {
            if let Some(pair) = crate::sys::quiet::pair_inodes(a, b) {
                self.pairs.borrow_mut().push(pair);
            }
        }
    }

    /// Turns the virtual clock on (it stays on).
    pub(crate) fn set_virtual(&self) {
        self.virtual_time.set(true);
    }

    /// Whether a hold forbids skipping time.
    pub(crate) fn is_held(&self) -> bool {
        self.holds.load(Ordering::Acquire) != 0
    }

    /// Moves the clock ahead by `by` nanoseconds.
    pub(crate) fn skip(&self, by: u64) {
        self.offset.set(self.offset.get().saturating_add(by));
    }

    /// Total time skipped so far.
    pub(crate) fn skipped(&self) -> u64 {
        self.offset.get()
    }

    /// A hold; `shared` is poked when the last hold ends, so a loop blocked on real time
    /// looks again at whether it may skip.
    pub(crate) fn hold(&self, shared: &Arc<Shared>) -> ClockHold {
        self.holds.fetch_add(1, Ordering::AcqRel);
        // A hold may end a wait from any thread: it needs the notifier while it lives.
        shared.escape();
        ClockHold {
            holds: self.holds.clone(),
            shared: shared.clone(),
        }
    }
}

/// Keeps a virtual clock from skipping ahead while it lives (no effect on a real clock).
///
/// Get one with [`Handle::hold_virtual_clock`](crate::Handle::hold_virtual_clock) before
/// handing a waker to another thread, and drop it (on any thread: it is `Send`) once that
/// thread has woken the task or given up.
///
/// ```
/// use core::time::Duration;
/// use readyloop::Loop;
/// let lp = Loop::builder().virtual_clock().build().unwrap();
/// let h = lp.handle();
/// let hold = h.hold_virtual_clock();
/// let worker = std::thread::spawn(move || {
///     std::thread::sleep(Duration::from_millis(20));
///     drop(hold);
/// });
/// lp.block_on(h.sleep(Duration::from_millis(10)));
/// worker.join().unwrap();
/// ```
#[derive(Debug)]
#[must_use = "the hold ends as soon as it is dropped"]
pub struct ClockHold {
    holds: Arc<AtomicUsize>,
    shared: Arc<Shared>,
}

impl Drop for ClockHold {
    fn drop(&mut self) {
        if self.holds.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.notify_if_parked();
        }
        self.shared.unescape();
    }
}
