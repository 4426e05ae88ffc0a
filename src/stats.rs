//! Counters the loop keeps about itself, read with [`Handle::stats`](crate::Handle::stats).

use core::cell::Cell;
use core::time::Duration;

/// A snapshot of a loop's counters.
///
/// ```
/// use readyloop::Loop;
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let task = h.spawn(async { 7 }); // runs in a turn of the loop
/// assert_eq!(lp.block_on(task).unwrap(), 7);
/// let s = h.stats();
/// assert!(s.turns >= 1 && s.task_polls >= 1 && s.tasks_alive == 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Turns of the loop.
    pub turns: u64,
    /// Calls into the backend's wait (poll, select or epoll_wait).
    pub polls: u64,
    /// Total time spent inside those waits.
    pub time_blocked: Duration,
    /// Wakers called because an fd became ready.
    pub wakeups_fd: u64,
    /// Wakers called because a timer fired.
    pub wakeups_timer: u64,
    /// Times another thread (or a signal) woke a blocked wait through the notifier.
    pub wakeups_remote: u64,
    /// `call_soon` callbacks run.
    pub callbacks: u64,
    /// Waits that returned with nothing ready and no timer due (EINTR, early returns).
    pub spurious_wakeups: u64,
    /// Task polls.
    pub task_polls: u64,
    /// Times a task used up its budget and was made to yield.
    pub budget_yields: u64,
    /// Tasks spawned and not yet finished.
    pub tasks_alive: u64,
    /// The largest `tasks_alive` seen.
    pub tasks_peak: u64,
    /// Fds currently handed to the kernel (the loop's own notifier included).
    pub fds_registered: u64,
    /// Times the adaptive backend moved the registered set between poll and epoll.
    pub backend_moves: u64,
    /// Task waits currently registered on fds (several may share one fd).
    pub fd_waiters: u64,
    /// Timers currently armed.
    pub timers_armed: u64,
    /// Times a virtual clock jumped ahead (see `Builder::virtual_clock`).
    pub clock_jumps: u64,
    /// Total time a virtual clock skipped.
    pub time_skipped: Duration,
}

/// The live counters (loop thread only).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) turns: Cell<u64>,
    pub(crate) polls: Cell<u64>,
    pub(crate) blocked_ns: Cell<u64>,
    pub(crate) wakeups_fd: Cell<u64>,
    pub(crate) wakeups_timer: Cell<u64>,
    pub(crate) wakeups_remote: Cell<u64>,
    pub(crate) callbacks: Cell<u64>,
    pub(crate) spurious: Cell<u64>,
    pub(crate) task_polls: Cell<u64>,
    pub(crate) budget_yields: Cell<u64>,
    pub(crate) tasks_peak: Cell<u64>,
    pub(crate) clock_jumps: Cell<u64>,
}

pub(crate) fn bump(c: &Cell<u64>, by: u64) {
    c.set(c.get().wrapping_add(by));
}
