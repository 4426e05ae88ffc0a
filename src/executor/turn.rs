//! One turn of the loop, as seed 002's `run()` does it.
//!
//! ```text
//! run the call_soon callbacks queued before this turn
//! take the tasks woken since the last turn (from this thread or others)
//! run them (a bounded batch, so a task that wakes itself cannot starve I/O)
//! timeout = 0 if work is ready, else the nearest deadline, else forever
//! one poll in the backend (poll / select / epoll)
//! wake the tasks whose fds are ready, then the sleepers whose deadline passed
//! ```
//!
//! Every step is a method of the loop's `Core` (its tables: `executor/handle.rs`). The steps
//! are compiled twice, told apart by `TRACED`: in the copy a loop without a trace sink runs
//! (`TRACED = false`) every trace hook (see `hooks.rs`) is `if false` and vanishes; `turn`
//! picks the copy once per turn. The traced copy is linked only into programs that call
//! `Builder::trace` (or `stepping`), and not built at all without the `trace` feature. A turn never calls a waker while it holds a borrow of the loop's tables, never
//! blocks when work is ready, and allocates nothing once its buffers have grown.

use super::leftover_wakers::Leftovers;
use super::{Core, BUDGET};
use crate::stats::bump;
use crate::sys::clock;
use crate::task::{Park, TaskRef};
use crate::trace::{TraceEvent, WakeCause};
use alloc::vec::Vec;
use core::task::Waker;

/// How many tasks one turn polls before it looks at I/O and timers again.
pub(super) const BATCH: usize = 256;

impl Core {
    /// One turn of the loop: the plain steps, or for a loop built with a trace sink the
    /// traced ones (through a pointer only `Builder::trace` sets: a program that never
    /// traces does not link them).
    #[inline]
    pub(crate) fn turn(&self) {
        match self.traced_turn {
            None => self.plain_turn(),
            Some(traced_turn) => traced_turn(self),
        }
    }

    /// The turn with every trace hook compiled out. Not generic, so it is compiled once, in
    /// this crate, however many `block_on` futures a program has.
    fn plain_turn(&self) {
        self.run_turn::<false>();
    }

    /// The traced turn; named only by `Builder::trace` and `Builder::stepping`.
    #[cfg(feature = "trace")]
    pub(crate) fn traced_turn(&self) {
        self.run_turn::<true>();
    }

    /// The turn's steps, in order (`TRACED`: whether their trace hooks are compiled in).
    fn run_turn<const TRACED: bool>(&self) {
        self.begin_turn::<TRACED>();
        self.call_leftover_wakers::<TRACED>();
        self.run_callbacks::<TRACED>();
        self.take_woken::<TRACED>();
        self.run_ready::<TRACED>();
        let timeout = self.timeout();
        self.poll_backend::<TRACED>(timeout);
        self.wake_ready_fds::<TRACED>();
        self.fire_timers::<TRACED>();
    }

    /// Counts the turn (and traces its start).
    fn begin_turn<const TRACED: bool>(&self) {
        bump(&self.counters.turns, 1);
        self.trace_if::<TRACED>(|| TraceEvent::TurnStart {
            turn: self.counters.turns.get(),
        });
    }

    /// Takes the tasks woken since the last turn, in wake order. The first BATCH of them
    /// are this turn's fresh tasks and run ahead of the backlog left from earlier turns, so
    /// a task woken by its timer or fd runs within a turn even behind a burst of thousands
    /// of new tasks; the rest join the back of the run queue.
    pub(super) fn take_woken<const TRACED: bool>(&self) {
        self.shared.take_all(|task| {
            // SAFETY: each queued task carries the reference its wake counted.
            let task = unsafe { TaskRef::from_raw(task) };
            self.trace_woken::<TRACED>(&task);
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
    fn run_ready<const TRACED: bool>(&self) {
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
            self.run_task::<TRACED>(task);
        }
        for _ in 0..BATCH {
            let Some(task) = self.run_queue.borrow_mut().pop_front() else {
                break;
            };
            self.run_task::<TRACED>(task);
        }
    }

    fn run_task<const TRACED: bool>(&self, task: TaskRef) {
        let state = task.unschedule();
        if state & crate::task::state::COMPLETE != 0 {
            return;
        }
        if state & crate::task::state::ABORT != 0 {
            self.waking_as_if::<TRACED, _>(WakeCause::Task(task.id()), || {
                task.cancel();
                self.complete(&task);
            });
            self.trace_if::<TRACED>(|| TraceEvent::Aborted { task: task.id() });
            return;
        }
        bump(&self.counters.task_polls, 1);
        self.budget.set(BUDGET);
        task.set_polled_at(self.now.get());
        self.begin_poll::<TRACED>(task.id());
        self.watchdog_begin(task.id());
        let result = task.poll();
        self.watchdog_end(task.id(), result.is_ready());
        if result.is_ready() {
            self.complete(&task);
        }
        self.end_poll::<TRACED>(task.id(), result);
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

    /// One poll of the backend (the article's `select`). Wakes from other threads that
    /// raced with the decision to block are caught by `park` (see `task/shared.rs`).
    fn poll_backend<const TRACED: bool>(&self, timeout: Option<u64>) {
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
        self.trace_wait::<TRACED>(timeout, notifier);
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
        self.trace_waited::<TRACED>(after - before, ready, result.is_err());
        if result.is_err() {
            // poll(2) fails only on EFAULT/EINVAL/ENOMEM: a bug or exhaustion, not input.
            // Back off instead of spinning, and keep serving.
            crate::sys::backend::backoff();
        }
    }

    /// Calls the wakers of the tasks whose fds the wait reported ready.
    fn wake_ready_fds<const TRACED: bool>(&self) {
        if self.reactor.borrow().events.is_empty() {
            return;
        }
        let mut wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
        let notified = self
            .reactor
            .borrow_mut()
            .dispatch(&mut wake, |event, woken| {
                self.note_ready::<TRACED>(event, woken)
            });
        bump(&self.counters.wakeups_fd, wake.len() as u64);
        if notified {
            bump(&self.counters.wakeups_remote, 1);
            self.shared.drain_notifier();
        }
        if TRACED {
            // The sink runs with the collected wakers parked in `wake_buf`: if it panics,
            // the next turn still calls them.
            *self.wake_buf.borrow_mut() = wake;
            self.emit_noted::<TRACED>(self.now.get());
            if notified {
                self.trace_if::<TRACED>(|| TraceEvent::Notified);
            }
            wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
        }
        self.call_wakers::<TRACED>(wake);
    }

    /// Calls the wakers collected from the reactor or the timers (no borrow held), each
    /// recording its cause in traced turns.
    ///
    /// A waker is user code and may panic. The panic propagates (out of `block_on`), but
    /// the wakers not yet called are kept in `wake_buf`, and the next turn calls them first
    /// (`call_leftover_wakers`): the tasks they wake were already taken out of the fd table
    /// or the timer heap, and would otherwise never run again.
    #[inline]
    pub(crate) fn call_wakers<const TRACED: bool>(&self, mut wake: Vec<Waker>) {
        // In collection order, without a `Drain` (this runs twice a turn).
        wake.reverse();
        let mut rest = Leftovers { core: self, wake };
        if TRACED {
            self.call_wakers_traced(&mut rest.wake);
        } else {
            // The loop's own copies queue their task straight on the run queue, after any
            // task woken earlier through the wake stack (so tasks still run in wake order).
            self.take_woken::<TRACED>();
            while let Some(w) = rest.wake.pop() {
                match crate::task::wake_local(w) {
                    Ok(Some(task)) => self.queue_woken(task),
                    Ok(None) => {}
                    Err(w) => w.wake(),
                }
            }
        }
    }

    /// Wakes the sleepers whose deadline has passed, nearest first.
    fn fire_timers<const TRACED: bool>(&self) {
        let now = self.now.get();
        let fired = if self.timers.borrow().any_due(now) {
            let mut wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
            let fired = self.timers.borrow_mut().fire(now, &mut wake, |deadline| {
                self.note_timer::<TRACED>(deadline)
            });
            bump(&self.counters.wakeups_timer, fired as u64);
            if TRACED {
                // As in `wake_ready_fds`: the wakers wait in `wake_buf` while the sink runs.
                *self.wake_buf.borrow_mut() = wake;
                self.emit_noted::<TRACED>(now);
                wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
            }
            self.call_wakers::<TRACED>(wake);
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
