//! The loop's state (`Core`) and the `Handle` that tasks and leaves use to reach it.
//!
//! A `Handle` is a cheap reference-counted pointer to the loop, `!Send` like the loop itself.
//! Leaves capture one when they are made (the explicit-handle design: it works without `std`
//! and under any combinator); with `std`, [`Handle::current`] finds the running loop of this
//! thread so free functions such as [`sleep`](crate::sleep) need no argument.

use super::loop_clock::{ClockHold, LoopClock};
use crate::error::Error;
use crate::reactor::Reactor;
use crate::report::Report;
use crate::stats::{Counters, Stats};
use crate::sys::backend::BackendKind;
use crate::sys::clock;
use crate::task::{JoinHandle, Registry, Shared, TaskRef};
use crate::time::Instant;
use crate::timers::Timers;
use crate::trace::tracer::Tracer;
use crate::trace::{TraceEvent, TraceSink, WakeCause};
use alloc::borrow::Cow;
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::task::Waker;
use core::time::Duration;

/// The panic of [`Handle::current`] (and so of every free function) outside a running loop.
#[cfg(feature = "std")]
pub(crate) const NO_CURRENT_LOOP: &str = "readyloop: no loop is running on this thread: call \
    this inside Loop::block_on (or a task spawned on the loop), or call the method on that \
    loop's Handle (loop.handle())";

/// How many leaf operations a task may complete in one poll before it is made to yield.
pub(crate) const BUDGET: u32 = 128;

/// Everything a loop owns. Reached only from the loop's thread.
pub(crate) struct Core {
    /// What other threads may touch: the wake queue and the notifier.
    pub(crate) shared: Arc<Shared>,
    /// fd -> waiting tasks, over the backend.
    pub(crate) reactor: RefCell<Reactor>,
    /// The sleepers.
    pub(crate) timers: RefCell<Timers>,
    /// Tasks taken from the wake queue in earlier turns and not run yet (the backlog).
    pub(crate) run_queue: RefCell<VecDeque<TaskRef>>,
    /// The first BATCH tasks woken since the last turn: run this turn, before the backlog.
    pub(crate) fresh: RefCell<VecDeque<TaskRef>>,
    /// Every task not yet finished (one reference each).
    pub(crate) tasks: RefCell<Registry>,
    /// Callbacks from `call_soon`, run at the start of the next turn.
    pub(crate) callbacks: RefCell<VecDeque<Box<dyn FnOnce()>>>,
    /// Wakers collected from the reactor and timers, called after their borrows end.
    pub(crate) wake_buf: RefCell<Vec<Waker>>,
    /// The loop clock at the start of the current turn's dispatch (ns).
    pub(crate) now: Cell<u64>,
    /// Leaf operations the running task may still complete before yielding.
    pub(crate) budget: Cell<u32>,
    /// The turn runs alone (`run_once`, `step`): a wait that nothing could ever end (no
    /// fd, timer, queued work or waker on another thread) only looks (timeout 0).
    pub(crate) single_turn: Cell<bool>,
    /// The loop is inside `block_on` or `run_forever`.
    pub(crate) running: Cell<bool>,
    /// The loop was dropped; spawns are cancelled at once.
    pub(crate) closed: Cell<bool>,
    /// The next task id.
    pub(crate) next_id: Cell<u64>,
    pub(crate) counters: Counters,
    /// The tracer; `None` unless the loop was built with a trace sink.
    pub(crate) trace: Option<Box<Tracer>>,
    /// The loop clock (real, or virtual for tests).
    pub(crate) clock: LoopClock,
    /// When the `block_on` future was last polled (loop clock, ns).
    pub(crate) main_polled_at: Cell<u64>,
    /// The last wait was asked to block and returned with nothing ready (reset by the
    /// turn's timer step, which counts it as spurious if no timer was due either).
    pub(crate) idle_return: Cell<bool>,
    /// How long before a timer deadline the wait stops blocking (`Builder::timer_spin`).
    pub(crate) timer_spin_ns: Cell<u64>,
    /// The state of the order in which a turn's woken tasks run (`Builder::shuffle`).
    pub(crate) shuffle: Cell<Option<u64>>,
    /// The turn of a loop built with a trace sink (`Core::traced_turn`); `None` runs the
    /// plain turn. A pointer, set only by `Builder::trace` and `Builder::stepping`, so a
    /// program that never traces does not link the traced turn (see `Core::turn`).
    pub(crate) traced_turn: Option<fn(&Core)>,
    /// This loop's helper threads for `spawn_blocking`, made at first use.
    #[cfg(feature = "std")]
    pub(crate) blocking: core::cell::OnceCell<crate::blocking::pool::Pool>,
    /// The hog watchdog (`Builder::hog_watchdog`), set once when the loop is built.
    #[cfg(feature = "std")]
    pub(crate) watchdog: core::cell::OnceCell<super::watchdog::Watchdog>,
}

impl Core {
    /// Registers a new task and queues its first poll (the part of `spawn` that does not
    /// depend on the future's type).
    fn start(&self, task: &TaskRef, name: Option<Cow<'static, str>>) {
        self.trace(|| TraceEvent::Spawned {
            task: task.id(),
            name: name.as_deref(),
        });
        if self.closed.get() {
            task.cancel();
            task.set_complete();
            return;
        }
        #[cfg(feature = "std")]
        if let (Some(w), Some(n)) = (self.watchdog.get(), name.as_deref()) {
            w.name(task.id(), Some(n));
        }
        let alive = {
            let mut tasks = self.tasks.borrow_mut();
            tasks.insert(task, name);
            tasks.len() as u64
        };
        if alive > self.counters.tasks_peak.get() {
            self.counters.tasks_peak.set(alive);
        }
        let traced = self.tracing();
        let previous = if traced {
            self.set_cause(WakeCause::Spawn)
        } else {
            0
        };
        task.schedule();
        if traced {
            self.shared.set_cause(previous);
        }
    }
}

/// A reference to a loop, for spawning tasks and making leaves. Cheap to clone; `!Send`.
///
/// ```
/// use readyloop::Loop;
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let h2 = h.clone();
/// let n = lp.block_on(async move { h2.spawn(async { 1 }).await.unwrap() + 1 });
/// assert_eq!(n, 2);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) core: Rc<Core>,
}

impl core::fmt::Debug for Handle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Handle")
            .field("backend", &self.backend())
            .field("running", &self.core.running.get())
            .finish()
    }
}

#[cfg(feature = "std")]
std::thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

impl Handle {
    pub(crate) fn new(
        backend: crate::sys::backend::Backend,
        trace: Option<Box<dyn TraceSink>>,
        traced_turn: Option<fn(&Core)>,
        virtual_clock: bool,
    ) -> Result<Handle, Error> {
        let notifier = crate::sys::notifier::Notifier::new()?;
        let notifier_fd = notifier.fd();
        let tracing = trace.is_some();
        let shared = Arc::new(Shared::new(notifier, tracing));
        let reactor = Reactor::new(backend, notifier_fd)?;
        if tracing {
            // A loop is `!Send`: the thread that builds it is the one that runs it.
            shared.set_loop_thread();
        }
        let tasks = Registry::new(&shared);
        Ok(Handle {
            core: Rc::new(Core {
                shared,
                reactor: RefCell::new(reactor),
                timers: RefCell::new(Timers::new()),
                run_queue: RefCell::new(VecDeque::new()),
                fresh: RefCell::new(VecDeque::new()),
                tasks: RefCell::new(tasks),
                callbacks: RefCell::new(VecDeque::new()),
                wake_buf: RefCell::new(Vec::new()),
                now: Cell::new(clock::monotonic_nanos()),
                budget: Cell::new(BUDGET),
                single_turn: Cell::new(false),
                running: Cell::new(false),
                closed: Cell::new(false),
                next_id: Cell::new(1),
                counters: Counters::default(),
                trace: trace.map(|sink| Box::new(Tracer::new(sink))),
                clock: LoopClock::new(virtual_clock),
                main_polled_at: Cell::new(0),
                idle_return: Cell::new(false),
                timer_spin_ns: Cell::new(0),
                shuffle: Cell::new(None),
                traced_turn,
                #[cfg(feature = "std")]
                blocking: core::cell::OnceCell::new(),
                #[cfg(feature = "std")]
                watchdog: core::cell::OnceCell::new(),
            }),
        })
    }

    /// The loop running on this thread, if any (`std` only).
    ///
    /// ```
    /// use readyloop::{Handle, Loop};
    /// assert!(Handle::try_current().is_none());
    /// let lp = Loop::new().unwrap();
    /// assert!(lp.block_on(async { Handle::try_current().is_some() }));
    /// ```
    #[cfg(feature = "std")]
    pub fn try_current() -> Option<Handle> {
        CURRENT.with(|c| c.borrow().clone())
    }

    /// The loop running on this thread (`std` only).
    ///
    /// # Panics
    /// Outside `Loop::block_on` / `run_forever`, with a message naming the fix.
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::{Handle, Loop};
    /// fn pause() -> readyloop::Sleep {
    ///     // Library code that needs the loop without a parameter for it.
    ///     Handle::current().sleep(Duration::from_millis(1))
    /// }
    /// let lp = Loop::new().unwrap();
    /// lp.block_on(async { pause().await });
    /// ```
    #[cfg(feature = "std")]
    #[track_caller]
    pub fn current() -> Handle {
        match Self::try_current() {
            Some(handle) => handle,
            None => panic!("{NO_CURRENT_LOOP}"),
        }
    }

    /// Marks the loop running on this thread until the guard drops.
    pub(crate) fn enter(&self) -> EnterGuard {
        assert!(
            !self.core.running.get(),
            "readyloop: the loop is already running (block_on or run_forever called from \
             inside a task of the same loop); spawn the future instead"
        );
        self.core.running.set(true);
        #[cfg(feature = "std")]
        let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
        // A loop run from inside another loop's task hides the outer one until it returns.
        #[cfg(feature = "std")]
        if let Some(outer) = &previous {
            outer.core.shared.set_running_here(false);
        }
        self.core.shared.set_running_here(true);
        EnterGuard {
            core: self.core.clone(),
            #[cfg(feature = "std")]
            previous,
        }
    }

    /// Starts `future` as a task on this loop (`asyncio.create_task`). The future need not
    /// be `Send`: it never leaves the loop's thread.
    ///
    /// ```
    /// use readyloop::Loop;
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let task = h.spawn(async { "done" });
    /// assert_eq!(lp.block_on(task).unwrap(), "done");
    /// ```
    pub fn spawn<F: Future + 'static>(&self, future: F) -> JoinHandle<F::Output> {
        self.spawn_inner(future, None)
    }

    /// Like [`spawn`](Handle::spawn), with a name shown in traces and stuck-task reports.
    ///
    /// ```
    /// use readyloop::Loop;
    /// let lp = Loop::new().unwrap();
    /// let task = lp.handle().spawn_named("answer", async { 42 });
    /// assert_eq!(lp.block_on(task).unwrap(), 42);
    /// ```
    pub fn spawn_named<F: Future + 'static>(
        &self,
        name: impl Into<Cow<'static, str>>,
        future: F,
    ) -> JoinHandle<F::Output> {
        self.spawn_inner(future, Some(name.into()))
    }

    fn spawn_inner<F: Future + 'static>(
        &self,
        future: F,
        name: Option<Cow<'static, str>>,
    ) -> JoinHandle<F::Output> {
        let core = &self.core;
        let id = core.next_id.get();
        core.next_id.set(id + 1);
        let task = TaskRef::new(future, core.shared.clone(), id);
        core.start(&task, name);
        JoinHandle::new(task)
    }

    /// Runs `callback` at the start of the loop's next turn (`loop.call_soon`).
    ///
    /// ```
    /// use readyloop::Loop;
    /// use std::{cell::Cell, rc::Rc};
    /// let lp = Loop::new().unwrap();
    /// let hit = Rc::new(Cell::new(false));
    /// let h2 = hit.clone();
    /// lp.handle().call_soon(move || h2.set(true));
    /// lp.block_on(readyloop::yield_now());
    /// lp.block_on(readyloop::yield_now());
    /// assert!(hit.get());
    /// ```
    pub fn call_soon(&self, callback: impl FnOnce() + 'static) {
        self.core
            .callbacks
            .borrow_mut()
            .push_back(Box::new(callback));
    }

    /// Makes `run_forever` return at the end of the current turn (`loop.stop()`). Called
    /// while the loop is not in `run_forever` (before it, or inside a `block_on`), it makes
    /// the next `run_forever` return after one turn that does not block, as asyncio's
    /// `stop()` does; a `block_on` ignores it. From another thread, use a
    /// [`Stopper`](crate::Stopper) (see [`stopper`](Handle::stopper)).
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let h2 = h.clone();
    /// h.call_soon(move || h2.stop());
    /// let start = std::time::Instant::now();
    /// lp.run_forever(); // returns after the callback's turn
    /// assert!(start.elapsed() < Duration::from_secs(1));
    /// ```
    pub fn stop(&self) {
        self.core.shared.request_stop();
    }

    /// The loop clock now: `CLOCK_MONOTONIC`, or with
    /// [`Builder::virtual_clock`](crate::Builder::virtual_clock) the virtual time that
    /// every `Sleep` of this loop follows.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let a = h.now();
    /// assert!(h.now() >= a);
    /// ```
    pub fn now(&self) -> Instant {
        Instant(self.core.clock_now())
    }

    /// Keeps a virtual clock from jumping ahead until the returned guard is dropped (see
    /// [`ClockHold`]); no effect on a real clock. Hold one while another thread may wake a
    /// task of this loop.
    ///
    /// ```
    /// let lp = readyloop::Loop::builder().virtual_clock().build().unwrap();
    /// let hold = lp.handle().hold_virtual_clock();
    /// drop(hold);
    /// ```
    pub fn hold_virtual_clock(&self) -> ClockHold {
        self.core.clock.hold(&self.core.shared)
    }

    /// A report of every pending task: what it waits on (an fd and direction, a timer, or
    /// nothing the loop knows) and for how long. `Display` gives one line per task.
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::Loop;
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let _napper = h.spawn_named("napper", { let h = h.clone(); async move {
    ///     h.sleep(Duration::from_secs(60)).await
    /// }});
    /// lp.block_on(readyloop::yield_now());
    /// let report = h.pending_report().to_string();
    /// assert!(report.contains("task 1 (napper) waiting on timer due in 59.9"), "{report}");
    /// ```
    pub fn pending_report(&self) -> Report {
        self.core.report(None, false)
    }

    /// Which backend this loop was built with ([`BackendKind::Adaptive`] for the default
    /// that moves between poll and epoll; see [`backend_in_use`](Handle::backend_in_use)).
    ///
    /// ```
    /// let lp = readyloop::Loop::builder().backend(readyloop::BackendKind::Epoll).build().unwrap();
    /// assert_eq!(lp.handle().backend(), readyloop::BackendKind::Epoll);
    /// ```
    pub fn backend(&self) -> BackendKind {
        self.core.reactor.borrow().configured()
    }

    /// Which backend the loop's next wait uses: the one it was built with, or for
    /// [`BackendKind::Adaptive`] poll or epoll, whichever it is on now.
    ///
    /// ```
    /// use readyloop::{BackendKind, Loop};
    /// let lp = Loop::builder().backend(BackendKind::Adaptive).build().unwrap();
    /// assert_eq!(lp.handle().backend(), BackendKind::Adaptive);
    /// assert_eq!(lp.handle().backend_in_use(), BackendKind::Poll); // a small set starts on poll
    /// ```
    pub fn backend_in_use(&self) -> BackendKind {
        self.core.reactor.borrow().backend.kind()
    }

    /// A snapshot of the loop's counters.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// lp.block_on(readyloop::yield_now());
    /// let s = lp.handle().stats();
    /// assert!(s.turns >= 1 && s.fds_registered == 1);
    /// ```
    pub fn stats(&self) -> Stats {
        let c = &self.core.counters;
        // Settle the interest the last dispatch left open, so `fds_registered` counts only
        // fds that someone waits on (the next wait would do the same).
        if let Ok(mut reactor) = self.core.reactor.try_borrow_mut() {
            reactor.flush_interest();
        }
        let reactor = self.core.reactor.borrow();
        Stats {
            turns: c.turns.get(),
            polls: c.polls.get(),
            time_blocked: Duration::from_nanos(c.blocked_ns.get()),
            wakeups_fd: c.wakeups_fd.get(),
            wakeups_timer: c.wakeups_timer.get(),
            wakeups_remote: c.wakeups_remote.get(),
            callbacks: c.callbacks.get(),
            spurious_wakeups: c.spurious.get(),
            task_polls: c.task_polls.get(),
            budget_yields: c.budget_yields.get(),
            tasks_alive: self.core.tasks.borrow().len() as u64,
            tasks_peak: c.tasks_peak.get(),
            fds_registered: reactor.registered_fds() as u64,
            backend_moves: reactor.moves,
            fd_waiters: reactor.waiter_count() as u64,
            timers_armed: self.core.timers.borrow().len() as u64,
            clock_jumps: c.clock_jumps.get(),
            time_skipped: Duration::from_nanos(self.core.clock.skipped()),
        }
    }

    /// Number of (task, fd, interest) waits currently registered.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// assert_eq!(lp.handle().fd_waiters(), 0);
    /// ```
    pub fn fd_waiters(&self) -> usize {
        self.core.reactor.borrow().waiter_count()
    }
}

/// Restores "not running" (and the previous current loop) when `block_on` returns or unwinds.
pub(crate) struct EnterGuard {
    core: Rc<Core>,
    #[cfg(feature = "std")]
    previous: Option<Handle>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        self.core.running.set(false);
        self.core.shared.set_running_here(false);
        #[cfg(feature = "std")]
        {
            let previous = self.previous.take();
            if let Some(outer) = &previous {
                outer.core.shared.set_running_here(true);
            }
            let _ = CURRENT.try_with(|c| c.replace(previous));
        }
    }
}
