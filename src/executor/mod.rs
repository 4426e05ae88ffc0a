//! The loop: seed 002's `run()`, turn by turn.
//!
//! ```text
//! loop {
//!     run callbacks from call_soon
//!     take the tasks woken since last turn (from this thread or others)
//!     run them (a bounded batch, so a task that wakes itself cannot starve I/O)
//!     timeout = 0 if work is ready, else the nearest deadline, else forever
//!     one wait in the backend (poll / select / epoll)
//!     wake the tasks whose fds are ready, then the sleepers whose deadline passed
//! }
//! ```
//!
//! The loop never calls a waker while it holds a borrow of its own tables, never blocks when
//! work is ready, and allocates nothing per turn once its buffers have grown.

mod handle;
mod hooks;
mod loop_clock;

pub use handle::Handle;
pub(crate) use handle::{Core, BUDGET};
pub use loop_clock::ClockHold;

use crate::error::Error;
use crate::report::Stuck;
use crate::stats::bump;
use crate::sys::backend::BackendKind;
use crate::sys::clock;
use crate::task::TaskRef;
use crate::timers::TimerKey;
use crate::trace::{TraceEvent, TraceSink, WakeCause};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

/// How many tasks one turn polls before it looks at I/O and timers again.
const BATCH: usize = 256;

/// A single-threaded event loop over poll(2) (asyncio's event loop).
///
/// ```
/// use core::time::Duration;
/// use readyloop::Loop;
///
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let out = lp.block_on(async move {
///     h.sleep(Duration::from_millis(10)).await;
///     "woke up"
/// });
/// assert_eq!(out, "woke up");
/// ```
pub struct Loop {
    handle: Handle,
}

/// Chooses a loop's options before it is built.
///
/// ```
/// use readyloop::{BackendKind, Loop};
/// let lp = Loop::builder().backend(BackendKind::Poll).build().unwrap();
/// # drop(lp);
/// ```
pub struct Builder {
    backend: BackendKind,
    timer_slack_ns: Option<u64>,
    trace: Option<Box<dyn TraceSink>>,
    virtual_clock: bool,
}

impl core::fmt::Debug for Builder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Builder")
            .field("backend", &self.backend)
            .field("timer_slack_ns", &self.timer_slack_ns)
            .field("trace", &self.trace.is_some())
            .field("virtual_clock", &self.virtual_clock)
            .finish()
    }
}

impl Builder {
    /// Which system call the loop waits with (default: [`BackendKind::default_kind`]).
    ///
    /// ```
    /// use readyloop::{BackendKind, Loop};
    /// let lp = Loop::builder().backend(BackendKind::Select).build().unwrap();
    /// assert_eq!(lp.handle().backend(), BackendKind::Select);
    /// ```
    pub fn backend(mut self, kind: BackendKind) -> Self {
        self.backend = kind;
        self
    }

    /// Sets the kernel's timer slack for the thread that builds the loop (default: the
    /// kernel's 50 us). Lower slack makes short sleeps end closer to their deadline.
    ///
    /// ```
    /// let lp = readyloop::Loop::builder()
    ///     .timer_slack(core::time::Duration::from_micros(1))
    ///     .build()
    ///     .unwrap();
    /// # drop(lp);
    /// ```
    pub fn timer_slack(mut self, slack: core::time::Duration) -> Self {
        self.timer_slack_ns = Some(slack.as_nanos().min(u64::MAX as u128) as u64);
        self
    }

    /// Traces every turn into `sink`: a closure `FnMut(Instant, &TraceEvent)`,
    /// [`trace::Lines`](crate::trace::Lines) or [`trace::JsonLines`](crate::trace::JsonLines)
    /// (see the [`trace`](crate::trace) module). Without this call the loop carries no
    /// tracer and pays one predictable branch per hook.
    ///
    /// ```
    /// use readyloop::{trace::TraceEvent, Loop};
    /// let mut waits = 0;
    /// let lp = Loop::builder()
    ///     .trace(move |_, ev: &TraceEvent<'_>| {
    ///         if let TraceEvent::Wait { .. } = ev {
    ///             waits += 1;
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # drop(lp);
    /// ```
    pub fn trace(mut self, sink: impl TraceSink + 'static) -> Self {
        self.trace = Some(Box::new(sink));
        self
    }

    /// Traces every turn as readable lines on standard error (`std`).
    ///
    /// ```
    /// let lp = readyloop::Loop::builder().trace_stderr().build().unwrap();
    /// # drop(lp);
    /// ```
    #[cfg(feature = "std")]
    pub fn trace_stderr(self) -> Self {
        self.trace(crate::trace::Lines::stderr())
    }

    /// Runs the loop on a virtual clock (for tests): time jumps straight to the nearest
    /// deadline whenever every task waits only on timers, so an hour of timeouts takes
    /// milliseconds, while fds keep real time: no jump happens while any task waits on an
    /// fd or a [`ClockHold`] is alive. [`Handle::now`] and every `Sleep` follow this clock.
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::Loop;
    /// let lp = Loop::builder().virtual_clock().build().unwrap();
    /// let h = lp.handle();
    /// let start = h.now();
    /// let real = std::time::Instant::now();
    /// lp.block_on(h.sleep(Duration::from_secs(3600)));
    /// assert!(h.now() - start >= Duration::from_secs(3600));
    /// assert!(real.elapsed() < Duration::from_secs(5));
    /// ```
    pub fn virtual_clock(mut self) -> Self {
        self.virtual_clock = true;
        self
    }

    /// Builds the loop.
    pub fn build(self) -> Result<Loop, Error> {
        if let Some(ns) = self.timer_slack_ns {
            clock::set_timer_slack(Some(ns.max(1)))?;
        }
        Ok(Loop {
            handle: Handle::new(self.backend, self.trace, self.virtual_clock)?,
        })
    }
}

impl Loop {
    /// A loop with the default backend.
    pub fn new() -> Result<Loop, Error> {
        Self::builder().build()
    }

    /// A builder for a loop with options.
    pub fn builder() -> Builder {
        Builder {
            backend: BackendKind::default_kind(),
            timer_slack_ns: None,
            trace: None,
            virtual_clock: false,
        }
    }

    /// A handle to this loop, for spawning and making leaves from inside tasks.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Starts a task; see [`Handle::spawn`].
    pub fn spawn<F: Future + 'static>(&self, future: F) -> crate::JoinHandle<F::Output> {
        self.handle.spawn(future)
    }

    /// Runs the loop until `future` completes and returns its output
    /// (`asyncio.run` / `run_until_complete`). Spawned tasks run meanwhile; the ones still
    /// pending when it returns stay on the loop for the next `block_on` or `run_forever`.
    ///
    /// # Panics
    /// If called while this loop is already running (from inside one of its tasks), or if
    /// `future` itself panics.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self.run_main(future, None) {
            Ok(output) => output,
            Err(stuck) => unreachable!("block_on has no deadline: {stuck}"),
        }
    }

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
    /// let read = readyloop::AsyncRead::new(&h, r.as_fd(), &mut buf);
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
        self.run_main(future, Some(timeout))
    }

    /// Polls `future` whenever it is woken, and runs turns in between, until it completes
    /// or the deadline (if any) passes.
    fn run_main<F: Future>(
        &self,
        future: F,
        timeout: Option<Duration>,
    ) -> Result<F::Output, Stuck> {
        let core = &self.handle.core;
        let _running = self.handle.enter();
        let waker = Waker::from(core.shared.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        let deadline = timeout.map(|t| Deadline::arm(core, t, &waker));
        core.shared.take_main_woken();
        core.waking_as(WakeCause::Spawn, || core.shared.wake_main());
        loop {
            if core.shared.take_main_woken() {
                if let Poll::Ready(output) = core.poll_main(future.as_mut(), &mut cx) {
                    return Ok(output);
                }
            }
            if let Some(deadline) = &deadline {
                if deadline.has_passed() {
                    return Err(deadline.stuck());
                }
            }
            core.turn();
        }
    }

    /// Runs turns until [`Handle::stop`] is called (`loop.run_forever()`).
    pub fn run_forever(&self) {
        let core = &self.handle.core;
        let _running = self.handle.enter();
        core.stop.set(false);
        while !core.stop.get() {
            core.turn();
        }
        core.stop.set(false);
    }

    /// Runs exactly one turn (waiting at most until the nearest deadline).
    pub fn run_once(&self) {
        let _running = self.handle.enter();
        self.handle.core.turn();
    }

    /// Makes `run_forever` return at the end of the current turn.
    pub fn stop(&self) {
        self.handle.stop();
    }
}

impl core::fmt::Debug for Loop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Loop")
            .field("handle", &self.handle)
            .finish()
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
        let key = core.timers.borrow_mut().insert(at, waker, now);
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
        if let Ok(mut timers) = self.core.timers.try_borrow_mut() {
            timers.cancel(self.key);
        }
    }
}

impl Core {
    /// One turn of the loop.
    pub(crate) fn turn(&self) {
        self.begin_turn();
        self.run_callbacks();
        self.take_woken();
        self.run_ready();
        let timeout = self.timeout();
        self.wait(timeout);
        self.wake_ready_fds();
        self.fire_timers();
    }

    /// Counts the turn (and traces its start).
    fn begin_turn(&self) {
        bump(&self.counters.turns, 1);
        self.trace(TraceEvent::TurnStart {
            turn: self.counters.turns.get(),
        });
    }

    /// Runs the callbacks queued before this turn began (later ones wait a turn).
    fn run_callbacks(&self) {
        let queued = self.callbacks.borrow().len();
        for _ in 0..queued {
            let Some(callback) = self.callbacks.borrow_mut().pop_front() else {
                break;
            };
            bump(&self.counters.callbacks, 1);
            self.trace(TraceEvent::Callback);
            self.waking_as(WakeCause::CallSoon, callback);
        }
    }

    /// Moves the tasks woken since the last turn onto the run queue, in wake order.
    fn take_woken(&self) {
        let mut run_queue = self.run_queue.borrow_mut();
        self.shared.take_all(|task| {
            // SAFETY: each queued task carries the reference its wake counted.
            let task = unsafe { TaskRef::from_raw(task) };
            self.trace_woken(&task);
            run_queue.push_back(task);
        });
    }

    /// Polls up to BATCH ready tasks.
    fn run_ready(&self) {
        for _ in 0..BATCH {
            let Some(task) = self.run_queue.borrow_mut().pop_front() else {
                break;
            };
            self.run_task(task);
        }
    }

    fn run_task(&self, task: TaskRef) {
        let state = task.unschedule();
        if state & crate::task::state::COMPLETE != 0 {
            return;
        }
        if state & crate::task::state::ABORT != 0 {
            self.waking_as(WakeCause::Task(task.id()), || {
                task.cancel();
                self.complete(&task);
            });
            self.trace(TraceEvent::Aborted { task: task.id() });
            return;
        }
        bump(&self.counters.task_polls, 1);
        self.budget.set(BUDGET);
        task.local().polled_at = self.now.get();
        self.begin_poll(task.id());
        let result = task.poll();
        if result.is_ready() {
            self.complete(&task);
        }
        self.end_poll(task.id(), result);
    }

    /// Marks a task finished, drops an output nobody will take, and wakes its JoinHandle.
    fn complete(&self, task: &TaskRef) {
        task.set_complete();
        let local = task.local();
        let join_waker = local.join_waker.take();
        let slot = local.slot;
        if !local.join_alive {
            task.drop_stage();
        }
        let registry_ref = self.tasks.borrow_mut().remove(slot);
        drop(registry_ref);
        if let Some(w) = join_waker {
            w.wake();
        }
    }

    /// Zero if anything is ready to run; else until the nearest deadline; else forever.
    /// With a virtual clock whose rule allows it (see `loop_clock.rs`), the clock jumps to the
    /// nearest deadline instead and the wait only looks.
    fn timeout(&self) -> Option<u64> {
        let ready = !self.run_queue.borrow().is_empty()
            || !self.callbacks.borrow().is_empty()
            || self.shared.has_woken()
            || self.shared.main_woken();
        if ready {
            return Some(0);
        }
        let deadline = self.timers.borrow_mut().next_deadline()?;
        if deadline == u64::MAX {
            return None;
        }
        let now = self.clock_now();
        if deadline > now && self.may_skip_time() {
            self.skip_time(now, deadline);
            return Some(0);
        }
        Some(deadline.saturating_sub(now))
    }

    /// One wait in the backend. Wakes from other threads that raced with the decision to
    /// block are caught by `park` (see `task/shared.rs`).
    fn wait(&self, timeout: Option<u64>) {
        let timeout = if timeout != Some(0) && self.shared.park() {
            Some(0)
        } else {
            timeout
        };
        self.trace_wait(timeout);
        let before = clock::monotonic_nanos();
        let result = self.reactor.borrow_mut().poll(timeout);
        self.shared.unpark();
        let after = clock::monotonic_nanos();
        self.now.set(self.clock.at(after));
        bump(&self.counters.polls, 1);
        bump(&self.counters.blocked_ns, after - before);
        let ready = self.reactor.borrow().events.len();
        self.idle_return.set(timeout != Some(0) && ready == 0);
        self.trace_waited(after - before, ready, result.is_err());
        if result.is_err() {
            // poll(2) fails only on EFAULT/EINVAL/ENOMEM: a bug or exhaustion, not input.
            // Back off instead of spinning, and keep serving.
            crate::sys::backend::backoff();
        }
    }

    /// Calls the wakers of the tasks whose fds the wait reported ready.
    fn wake_ready_fds(&self) {
        let mut wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
        let notified = {
            let mut reactor = self.reactor.borrow_mut();
            let nothing = reactor.events.is_empty();
            if nothing {
                false
            } else {
                reactor.dispatch(&mut wake, |event, woken| self.trace_ready(event, woken))
            }
        };
        if notified {
            bump(&self.counters.wakeups_remote, 1);
            self.shared.drain_notifier();
            self.trace(TraceEvent::Notified);
        }
        bump(&self.counters.wakeups_fd, wake.len() as u64);
        self.call_wakers(wake);
    }

    /// Wakes the sleepers whose deadline has passed, nearest first.
    fn fire_timers(&self) {
        let mut wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
        let now = self.now.get();
        let fired = self
            .timers
            .borrow_mut()
            .fire(now, &mut wake, |deadline| self.trace_timer(deadline, now));
        bump(&self.counters.wakeups_timer, fired as u64);
        if fired == 0 && self.idle_return.get() {
            bump(&self.counters.spurious, 1);
        }
        self.call_wakers(wake);
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let core = &self.handle.core;
        core.closed.set(true);
        // Cancel every task; dropping a future may spawn or wake others, so repeat.
        loop {
            let tasks: Vec<TaskRef> = core.tasks.borrow_mut().drain().collect();
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                if !task.is_complete() {
                    task.cancel();
                    task.set_complete();
                }
                let local = task.local();
                let join_waker = local.join_waker.take();
                if !local.join_alive {
                    task.drop_stage();
                }
                drop(join_waker);
            }
        }
        let queued: Vec<TaskRef> = core.run_queue.borrow_mut().drain(..).collect();
        drop(queued);
        core.shared.close(|task| {
            // SAFETY: each queued task carries the reference its wake counted.
            drop(unsafe { TaskRef::from_raw(task) });
        });
        let callbacks = core::mem::take(&mut *core.callbacks.borrow_mut());
        drop(callbacks);
    }
}
