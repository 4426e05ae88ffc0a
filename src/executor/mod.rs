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

pub use handle::Handle;
pub(crate) use handle::{Core, BUDGET};

use crate::error::Error;
use crate::stats::bump;
use crate::sys::backend::BackendKind;
use crate::sys::clock;
use crate::task::TaskRef;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

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
#[derive(Clone, Debug)]
pub struct Builder {
    backend: BackendKind,
    timer_slack_ns: Option<u64>,
}

impl Builder {
    /// Which system call the loop waits with (default: [`BackendKind::default_kind`]).
    pub fn backend(mut self, kind: BackendKind) -> Self {
        self.backend = kind;
        self
    }

    /// Sets the kernel's timer slack for the thread that builds the loop (default: the
    /// kernel's 50 us). Lower slack makes short sleeps end closer to their deadline.
    pub fn timer_slack(mut self, slack: core::time::Duration) -> Self {
        self.timer_slack_ns = Some(slack.as_nanos().min(u64::MAX as u128) as u64);
        self
    }

    /// Builds the loop.
    pub fn build(self) -> Result<Loop, Error> {
        if let Some(ns) = self.timer_slack_ns {
            clock::set_timer_slack(Some(ns.max(1)))?;
        }
        Ok(Loop {
            handle: Handle::new(self.backend)?,
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
        let core = &self.handle.core;
        let _running = self.handle.enter();
        let waker = Waker::from(core.shared.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        core.shared.wake_main();
        loop {
            if core.shared.take_main_woken() {
                core.budget.set(BUDGET);
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    return output;
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

impl Core {
    /// One turn of the loop.
    pub(crate) fn turn(&self) {
        bump(&self.counters.turns, 1);
        self.run_callbacks();
        self.take_woken();
        self.run_ready();
        let timeout = self.timeout();
        self.wait(timeout);
        self.wake_ready_fds();
        self.fire_timers();
    }

    /// Runs the callbacks queued before this turn began (later ones wait a turn).
    fn run_callbacks(&self) {
        let queued = self.callbacks.borrow().len();
        for _ in 0..queued {
            let Some(callback) = self.callbacks.borrow_mut().pop_front() else {
                break;
            };
            bump(&self.counters.callbacks, 1);
            callback();
        }
    }

    /// Moves the tasks woken since the last turn onto the run queue, in wake order.
    fn take_woken(&self) {
        let mut run_queue = self.run_queue.borrow_mut();
        self.shared.take_all(|task| {
            // SAFETY: each queued task carries the reference its wake counted.
            run_queue.push_back(unsafe { TaskRef::from_raw(task) });
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
            task.cancel();
            self.complete(&task);
            return;
        }
        bump(&self.counters.task_polls, 1);
        self.budget.set(BUDGET);
        if task.poll().is_ready() {
            self.complete(&task);
        }
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
        Some(deadline.saturating_sub(clock::monotonic_nanos()))
    }

    /// One wait in the backend. Wakes from other threads that raced with the decision to
    /// block are caught by `park` (see `task/shared.rs`).
    fn wait(&self, timeout: Option<u64>) {
        let timeout = if timeout != Some(0) && self.shared.park() {
            Some(0)
        } else {
            timeout
        };
        let before = clock::monotonic_nanos();
        let result = self.reactor.borrow_mut().poll(timeout);
        self.shared.unpark();
        let after = clock::monotonic_nanos();
        self.now.set(after);
        bump(&self.counters.polls, 1);
        bump(&self.counters.blocked_ns, after - before);
        if let Err(e) = result {
            // poll(2) fails only on EFAULT/EINVAL/ENOMEM: a bug or exhaustion, not input.
            // Back off instead of spinning, and keep serving.
            let _ = e;
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
                reactor.dispatch(&mut wake, &mut |_, _| {})
            }
        };
        if notified {
            bump(&self.counters.wakeups_remote, 1);
            self.shared.drain_notifier();
        }
        bump(&self.counters.wakeups_fd, wake.len() as u64);
        self.call_wakers(wake);
    }

    /// Wakes the sleepers whose deadline has passed, nearest first.
    fn fire_timers(&self) {
        let mut wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
        let fired = self.timers.borrow_mut().fire(self.now.get(), &mut wake);
        bump(&self.counters.wakeups_timer, fired as u64);
        self.call_wakers(wake);
    }

    fn call_wakers(&self, mut wake: Vec<Waker>) {
        for w in wake.drain(..) {
            w.wake();
        }
        *self.wake_buf.borrow_mut() = wake;
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
