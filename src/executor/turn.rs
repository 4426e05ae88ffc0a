//! One turn of the loop, as seed 002's `run()` does it.
//!
//! ```text
//! run the call_soon callbacks queued before this turn
//! take the tasks woken since the last turn (from this thread or others)
//! run them (a bounded batch, so a task that wakes itself cannot starve I/O)
//! timeout = 0 if work is ready, else the nearest deadline, else forever
//! one wait in the backend (poll / select / epoll)
//! wake the tasks whose fds are ready, then the sleepers whose deadline passed
//! ```
//!
//! A turn is run by a [`Turn`], which is the loop's `Core` plus one compile-time fact:
//! whether tracing is on. The loop calls the plain or the traced instance through a
//! function pointer chosen when it is built; in the plain one every trace hook (see
//! `hooks.rs`) is `if false`, and a program that never asks for a trace does not even link
//! the traced one. A turn never calls a waker while it holds a borrow of the
//! loop's tables, never blocks when work is ready, and allocates nothing once its buffers
//! have grown.

use super::quiet::Skip;
use super::{Core, BUDGET};
use crate::stats::bump;
use crate::sys::clock;
use crate::task::{Park, TaskRef};
use crate::trace::{TraceEvent, WakeCause};
use core::ops::Deref;

/// How many tasks one turn polls before it looks at I/O and timers again.
const BATCH: usize = 256;

/// The loop's core, running a turn with tracing on (`TRACED`) or off.
pub(crate) struct Turn<'a, const TRACED: bool>(pub(crate) &'a Core);

impl<const TRACED: bool> Deref for Turn<'_, TRACED> {
    type Target = Core;
    fn deref(&self) -> &Core {
        self.0
    }
}

impl Core {
    /// One turn of the loop.
    #[inline]
    pub(crate) fn turn(&self) {
        (self.turn)(self)
    }

    /// A turn with every trace hook compiled out.
    pub(crate) fn plain_turn(&self) {
        Turn::<false>(self).run();
    }

    /// A turn that traces; only `Builder::trace` names it, so it is linked only when used.
    #[cfg(feature = "trace")]
    pub(crate) fn traced_turn(&self) {
        Turn::<true>(self).run();
    }
}

impl<const TRACED: bool> Turn<'_, TRACED> {
    fn run(&self) {
        self.begin_turn();
        self.call_leftover_wakers();
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
        self.trace(|| TraceEvent::TurnStart {
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
            self.trace(|| TraceEvent::Callback);
            self.waking_as(WakeCause::CallSoon, callback);
        }
    }

    /// Takes the tasks woken since the last turn, in wake order. The first BATCH of them
    /// are this turn's fresh tasks and run ahead of the backlog left from earlier turns, so
    /// a task woken by its timer or fd runs within a turn even behind a burst of thousands
    /// of new tasks; the rest join the back of the run queue.
    pub(super) fn take_woken(&self) {
        self.shared.take_all(|task| {
            // SAFETY: each queued task carries the reference its wake counted.
            let task = unsafe { TaskRef::from_raw(task) };
            self.trace_woken(&task);
            self.queue_woken(task);
        });
    }

    /// Queues a task woken since the last turn: with this turn's fresh tasks while there
    /// are fewer than BATCH, else at the back of the run queue.
    #[inline]
    pub(super) fn queue_woken(&self, task: TaskRef) {
        let mut fresh = self.fresh.borrow_mut();
        if fresh.len() < BATCH {
            fresh.push_back(task);
        } else {
            self.run_queue.borrow_mut().push_back(task);
        }
    }

    /// Polls the fresh tasks, then up to BATCH tasks of the backlog: whatever is woken,
    /// the backlog advances every turn, so no task waits forever behind tasks that keep
    /// waking themselves.
    fn run_ready(&self) {
        // Without std never: shuffling is a testing aid, and no_std builds stay small.
        if cfg!(feature = "std") && self.shuffle.get().is_some() {
            self.shuffle_fresh();
        }
        // Each pop is its own statement: the queue's borrow ends before the task runs
        // (a `while let` would hold it across the poll).
        loop {
            let Some(task) = self.fresh.borrow_mut().pop_front() else {
                break;
            };
            self.run_task(task);
        }
        for _ in 0..BATCH {
            let Some(task) = self.run_queue.borrow_mut().pop_front() else {
                break;
            };
            self.run_task(task);
        }
    }

    /// Puts this turn's fresh tasks in an order drawn from the shuffle seed (each still
    /// runs once). Out of line: a loop without a seed never calls it.
    #[inline(never)]
    fn shuffle_fresh(&self) {
        let Some(mut state) = self.shuffle.get() else {
            return;
        };
        let mut fresh = self.fresh.borrow_mut();
        let tasks = fresh.make_contiguous();
        // Fisher-Yates over splitmix64.
        for i in (1..tasks.len()).rev() {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let j = (z % (i as u64 + 1)) as usize;
            tasks.swap(i, j);
        }
        self.shuffle.set(Some(state));
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
            self.trace(|| TraceEvent::Aborted { task: task.id() });
            return;
        }
        bump(&self.counters.task_polls, 1);
        self.budget.set(BUDGET);
        task.set_polled_at(self.now.get());
        self.begin_poll(task.id());
        #[cfg(feature = "std")]
        if let Some(w) = self.watchdog.get() {
            w.begin(task.id());
        }
        let result = task.poll();
        #[cfg(feature = "std")]
        if let Some(w) = self.watchdog.get() {
            w.end();
            if result.is_ready() {
                w.name(task.id(), None);
            }
        }
        if result.is_ready() {
            self.complete(&task);
        }
        self.end_poll(task.id(), result);
    }

    /// Marks a task finished, drops an output nobody will take, and wakes its JoinHandle.
    /// The loop's tables are updated before any user code runs (the output's `Drop`, the
    /// join waker), so a panic in either leaves them consistent.
    fn complete(&self, task: &TaskRef) {
        task.set_complete();
        let join_waker = task.take_join_waker();
        let registry_ref = self.tasks.borrow_mut().remove(task);
        drop(registry_ref);
        if !task.join_alive() {
            task.drop_stage();
        }
        if let Some(w) = join_waker {
            w.wake();
        }
    }

    /// Zero if anything is ready to run (or `run_forever` was asked to stop: it returns
    /// after this turn); else until the nearest deadline; else forever.
    /// With a virtual clock whose rule allows it (see `loop_clock.rs`), the clock jumps to
    /// the nearest deadline instead and the wait only looks.
    fn timeout(&self) -> Option<u64> {
        let ready = !self.run_queue.borrow().is_empty()
            || !self.callbacks.borrow().is_empty()
            || self.shared.has_woken()
            || self.shared.main_woken()
            || self.shared.stop_due();
        if ready {
            return Some(0);
        }
        let deadline = self.timers.borrow_mut().next_deadline()?;
        if deadline == u64::MAX {
            return None;
        }
        let now = self.clock_now();
        let wait = deadline.saturating_sub(now);
        if wait > 0 && self.clock.is_virtual() {
            return Some(self.virtual_timeout(now, deadline));
        }
        Some(wait)
    }

    /// The wait of a virtual clock's turn (out of line: a real clock never calls it).
    #[inline(never)]
    fn virtual_timeout(&self, now: u64, deadline: u64) -> u64 {
        match self.may_skip_time() {
            Skip::Now => {
                self.skip_time(now, deadline);
                0
            }
            Skip::Not => deadline - now,
            Skip::RecheckIn(ns) => (deadline - now).min(ns.max(1)),
        }
    }

    /// One wait in the backend. Wakes from other threads that raced with the decision to
    /// block are caught by `park` (see `task/shared.rs`).
    fn wait(&self, timeout: Option<u64>) {
        // A wait that may block leaves the notifier out while no waker could be on another
        // thread (see `task/shared.rs`).
        let (timeout, notifier) = match timeout {
            Some(0) => (timeout, true),
            _ => match self.shared.park() {
                Park::Work => (Some(0), true),
                Park::Block { notifier } => (timeout, notifier),
            },
        };
        // With a timer spin the wait ends `spin` before the deadline, and the turns after it
        // poll without blocking until the deadline passes (see `Builder::timer_spin`).
        let spin = self.timer_spin_ns.get();
        let early = spin > 0 && matches!(timeout, Some(t) if t > 0);
        let timeout = match timeout {
            Some(t) if early => Some(t.saturating_sub(spin)),
            other => other,
        };
        // Interest left over from the last dispatch is settled first, so the trace shows
        // the set exactly as the kernel gets it (the notifier too, whenever this backend
        // cannot leave it out).
        let (notifier, endless) = {
            let mut reactor = self.reactor.borrow_mut();
            reactor.flush_interest();
            let endless = timeout.is_none() && !notifier && reactor.waiter_count() == 0;
            (
                notifier || !reactor.backend.can_leave_out_notifier(),
                endless,
            )
        };
        // Nothing could end this wait: a lone turn (`run_once`, `step`) only looks.
        let timeout = if endless && self.single_turn.get() {
            Some(0)
        } else {
            timeout
        };
        self.trace_wait(timeout, notifier);
        let before = clock::monotonic_nanos();
        let result = self.reactor.borrow_mut().poll(timeout, notifier);
        self.shared.unpark();
        let after = clock::monotonic_nanos();
        self.now.set(self.clock.at(after));
        bump(&self.counters.polls, 1);
        bump(&self.counters.blocked_ns, after - before);
        let ready = *result.as_ref().unwrap_or(&0);
        if ready == 0 && timeout != Some(0) && !early {
            self.idle_return.set(true);
        }
        self.trace_waited(after - before, ready, result.is_err());
        if result.is_err() {
            // poll(2) fails only on EFAULT/EINVAL/ENOMEM: a bug or exhaustion, not input.
            // Back off instead of spinning, and keep serving.
            crate::sys::backend::backoff();
        }
    }

    /// Calls the wakers of the tasks whose fds the wait reported ready.
    fn wake_ready_fds(&self) {
        if self.reactor.borrow().events.is_empty() {
            return;
        }
        let mut wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
        let notified = self
            .reactor
            .borrow_mut()
            .dispatch(&mut wake, |event, woken| self.note_ready(event, woken));
        bump(&self.counters.wakeups_fd, wake.len() as u64);
        if notified {
            bump(&self.counters.wakeups_remote, 1);
            self.shared.drain_notifier();
        }
        if TRACED {
            // The sink runs with the collected wakers parked in `wake_buf`: if it panics,
            // the next turn still calls them.
            *self.wake_buf.borrow_mut() = wake;
            self.emit_noted(self.now.get());
            if notified {
                self.trace(|| TraceEvent::Notified);
            }
            wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
        }
        self.call_wakers(wake);
    }

    /// Wakes the sleepers whose deadline has passed, nearest first.
    fn fire_timers(&self) {
        let now = self.now.get();
        let fired = if self.timers.borrow().any_due(now) {
            let mut wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
            let fired = self
                .timers
                .borrow_mut()
                .fire(now, &mut wake, |deadline| self.note_timer(deadline));
            bump(&self.counters.wakeups_timer, fired as u64);
            if TRACED {
                // As in `wake_ready_fds`: the wakers wait in `wake_buf` while the sink runs.
                *self.wake_buf.borrow_mut() = wake;
                self.emit_noted(now);
                wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
            }
            self.call_wakers(wake);
            fired
        } else {
            0
        };
        if self.idle_return.get() {
            self.idle_return.set(false);
            if fired == 0 {
                bump(&self.counters.spurious, 1);
            }
        }
    }
}
