//! The other ways to run turns: `block_on_timeout` (for tests), `run_forever`, `run_once` and
//! `step`. `block_on` (the one the tour follows) is `block_on.rs`; the turn is `turn.rs`.
//! Like `block_on`, none of them holds a borrow of the loop's tables across a turn.

use super::block_on::ClearMainWoken;
use super::{Core, Loop};
#[cfg(feature = "trace")]
use crate::error::Error;
use crate::report::Stuck;
use crate::task::Shared;
use crate::timers::TimerKey;
use crate::trace::WakeCause;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

impl Loop {
    /// Like [`block_on`](Loop::block_on), but gives up once `timeout` has passed on the
    /// loop clock and returns [`Stuck`], which carries the report of every pending task
    /// (what it waits on, and for how long). Meant for tests: a hung integration test fails
    /// with what was stuck instead of hanging CI. The future is dropped on timeout; spawned
    /// tasks stay on the loop.
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::Loop;
    /// use std::os::fd::AsFd;
    ///
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let (r, _w) = std::io::pipe().unwrap();
    /// let mut buf = [0u8; 1];
    /// let read = readyloop::ReadFd::new(&h, r.as_fd(), &mut buf);
    /// let stuck = lp.block_on_timeout(Duration::from_millis(50), read).unwrap_err();
    /// assert!(stuck.to_string().contains("waiting READABLE on fd"), "{stuck}");
    /// ```
    ///
    /// # Panics
    /// As [`block_on`](Loop::block_on).
    pub fn block_on_timeout<F: Future>(
        &self,
        timeout: Duration,
        future: F,
    ) -> Result<F::Output, Stuck> {
        let core = &self.handle.core;
        let _running = self.handle.enter();
        let waker = Shared::main_waker(&core.shared);
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        let deadline = Deadline::arm(core, timeout, &waker);
        // A wake left from an earlier `block_on` is cleared now and on return; then the
        // future is woken for its first poll.
        let _clear = ClearMainWoken::new(core);
        core.waking_as(WakeCause::Spawn, || core.shared.wake_main());
        loop {
            if core.shared.take_main_woken() {
                if let Poll::Ready(output) = core.poll_main(future.as_mut(), &mut cx) {
                    return Ok(output);
                }
            }
            if deadline.has_passed() {
                return Err(deadline.stuck());
            }
            core.turn();
        }
    }

    /// Runs turns until [`Handle::stop`](crate::Handle::stop) is called (`loop.run_forever()`): from a task, a
    /// callback, or (through a [`Stopper`](crate::Stopper)) another thread. While idle it blocks in its wait
    /// and uses no CPU; the turn in which `stop` is called does not block, and is the last.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// h.spawn({
    ///     let h = h.clone();
    ///     async move {
    ///         h.sleep(Duration::from_millis(5)).await;
    ///         h.stop(); // run_forever returns at the end of this turn
    ///     }
    /// });
    /// lp.run_forever();
    /// assert_eq!(h.stats().tasks_alive, 0);
    /// ```
    pub fn run_forever(&self) {
        let core = &self.handle.core;
        let _running = self.handle.enter();
        let _forever = Forever::enter(&core.shared);
        loop {
            // No `block_on` future here: its flag (a wake of a waker an earlier `block_on`
            // left behind) is not work, and must not turn the waits into busy polls.
            core.shared.take_main_woken();
            core.turn();
            if core.shared.take_stop() {
                break;
            }
        }
    }

    /// Runs exactly one turn (waiting at most until the nearest deadline). A turn with nothing
    /// left that could end its wait (no fd, timer, queued work, or waker held on another
    /// thread) waits with timeout zero instead of blocking forever.
    ///
    /// ```
    /// use core::time::Duration;
    /// use std::{cell::Cell, rc::Rc};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let ran = Rc::new(Cell::new(false));
    /// let r = ran.clone();
    /// h.spawn({
    ///     let h = h.clone();
    ///     async move {
    ///         r.set(true);
    ///         h.sleep(Duration::from_millis(1)).await // the turn's wait ends at this deadline
    ///     }
    /// });
    /// lp.run_once(); // the spawned task runs in this turn
    /// assert!(ran.get());
    /// ```
    pub fn run_once(&self) {
        let _running = self.handle.enter();
        let core = &self.handle.core;
        core.single_turn.set(true);
        core.turn();
        core.single_turn.set(false);
    }

    /// Runs exactly one turn, as [`run_once`](Loop::run_once) does, and returns what it did:
    /// the tasks taken to run and why, the tasks polled and what each then waits on, the
    /// wait's fd set and timeout, how long it blocked and the `revents` it returned, and the
    /// timers that fired. The record is made by the trace hooks (the turn's events, gathered),
    /// so the loop must be built with [`Builder::stepping`](crate::Builder::stepping) or [`Builder::trace`](crate::Builder::trace).
    ///
    /// As with `run_once`, a turn whose wait nothing could end (no fd, timer, queued work or
    /// waker held on another thread) waits with timeout zero instead of blocking forever.
    ///
    /// # Errors
    /// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) if the loop was built
    /// without `stepping` or `trace`; no turn is run. Needs the `trace` feature (default).
    ///
    /// # Panics
    /// If called while this loop is already running (from inside one of its tasks).
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::trace::WakeCause;
    /// let lp = readyloop::Loop::builder().stepping().build().unwrap();
    /// let h = lp.handle();
    /// h.spawn({ let h = h.clone(); async move { h.sleep(Duration::from_millis(5)).await } });
    /// let first = lp.step().unwrap();
    /// assert_eq!(first.polled, [1]); // the task ran and filed its timer,
    /// assert!(first.wait.unwrap().timeout.is_some()); // the wait slept until its deadline
    /// assert_eq!(first.timers_fired.len(), 1); // and the timer fired
    /// let second = lp.step().unwrap();
    /// assert_eq!(second.woken, [(1, WakeCause::Timer)]);
    /// assert_eq!(second.completed, [1]);
    /// assert!(readyloop::Loop::new().unwrap().step().is_err()); // not built to step
    /// ```
    #[cfg(feature = "trace")]
    pub fn step(&self) -> Result<crate::trace::TurnRecord, Error> {
        let core = &self.handle.core;
        let tracer =
            match core.trace.as_deref() {
                Some(tracer) if core.tracing() => tracer,
                _ => return Err(Error::new(
                    crate::ErrorKind::Unsupported,
                    "Loop::step needs a loop built with Builder::stepping() or Builder::trace()",
                )),
            };
        let _running = self.handle.enter();
        tracer.start_step();
        core.single_turn.set(true);
        core.turn();
        core.single_turn.set(false);
        Ok(tracer.take_step())
    }
}

/// Marks the loop inside `run_forever` until dropped (also when a task's panic unwinds
/// through it), so a stop request counts as work only there.
struct Forever<'a>(&'a Shared);

impl<'a> Forever<'a> {
    fn enter(shared: &'a Shared) -> Self {
        shared.set_forever(true);
        Forever(shared)
    }
}

impl Drop for Forever<'_> {
    fn drop(&mut self) {
        self.0.set_forever(false);
    }
}

/// The deadline of `block_on_timeout`: a timer that wakes the main future when it passes.
struct Deadline<'a> {
    core: &'a Core,
    timeout: Duration,
    at: u64,
    key: TimerKey,
}

impl<'a> Deadline<'a> {
    fn arm(core: &'a Core, timeout: Duration, waker: &Waker) -> Self {
        let now = core.clock_now();
        let at = now.saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
        let mut waker = crate::task::NewWaker::new(waker, alloc::sync::Arc::as_ptr(&core.shared));
        let key = core.timers.borrow_mut().insert(at, &mut waker, now, None);
        drop(waker);
        Deadline {
            core,
            timeout,
            at,
            key,
        }
    }

    fn has_passed(&self) -> bool {
        self.core.clock_now() >= self.at
    }

    fn stuck(&self) -> Stuck {
        Stuck::new(self.timeout, self.core.report(Some(self.key), true))
    }
}

impl Drop for Deadline<'_> {
    fn drop(&mut self) {
        let retired = match self.core.timers.try_borrow_mut() {
            Ok(mut timers) => timers.cancel(self.key),
            Err(_) => None,
        };
        drop(retired);
    }
}
