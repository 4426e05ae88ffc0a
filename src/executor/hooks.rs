//! What a turn's steps do besides their job: trace events, wake causes, the virtual clock.
//!
//! Kept apart so the turn (`turn.rs`) reads like seed 002's `run()`. Inside a turn the hooks
//! are methods of `Turn<TRACED>` and test the compile-time `TRACED`: in the plain turn they
//! vanish. Outside a turn (spawn, a leaf filing a wait, the `block_on` future's poll) the
//! hooks of `Core` test `Core::trace` at run time: one predictable branch each. Either way
//! the tracing work sits in out-of-line `#[cold]` bodies, so the hot path stays small.
//! Nothing here may block or call a waker while it holds a borrow of the loop's tables.

use super::turn::Turn;
use super::{Core, BUDGET};
use crate::reactor::Reactor;
use crate::sys::backend::{Event, IoEvents};
use crate::sys::clock;
use crate::task::TaskRef;
use crate::time::Instant;
use crate::trace::tracer::{decode, encode, Tracer};
use crate::trace::{TraceEvent, Wait, WakeCause};
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;

/// The hooks used outside a turn, checked at run time.
impl Core {
    /// The loop clock now (ns): monotonic, plus what a virtual clock skipped.
    #[inline]
    pub(crate) fn clock_now(&self) -> u64 {
        self.clock.at(clock::monotonic_nanos())
    }

    /// Whether tracing is on.
    #[inline(always)]
    pub(crate) fn tracing(&self) -> bool {
        // Without the `trace` feature this is a constant false and every traced path is
        // compiled out (the no_std daemon's size budget depends on it).
        cfg!(feature = "trace") && self.trace.is_some()
    }

    /// The tracer (callers checked that tracing is on).
    fn tracer(&self) -> &Tracer {
        self.trace.as_deref().expect("tracing is on")
    }

    /// Hands the event `make` builds to the sink, if tracing is on (`make` runs only then).
    #[inline(always)]
    pub(crate) fn trace<'a>(&self, make: impl FnOnce() -> TraceEvent<'a>) {
        if self.tracing() {
            self.emit(make);
        }
    }

    /// Hands an event to the sink (tracing is on).
    #[cold]
    #[inline(never)]
    pub(crate) fn emit<'a>(&self, make: impl FnOnce() -> TraceEvent<'a>) {
        if let Some(t) = self.trace.as_deref() {
            t.emit(Instant(self.clock_now()), &make());
        }
    }

    /// Runs `f` with wakes on this thread recording `cause` (while tracing).
    #[inline(always)]
    pub(crate) fn waking_as<R>(&self, cause: WakeCause, f: impl FnOnce() -> R) -> R {
        if !self.tracing() {
            return f();
        }
        let previous = self.shared.set_cause(encode(cause));
        let result = f();
        self.shared.set_cause(previous);
        result
    }

    /// Makes wakes on this thread record `cause` (tracing is on); returns the previous one.
    #[cold]
    #[inline(never)]
    pub(crate) fn set_cause(&self, cause: WakeCause) -> u64 {
        self.shared.set_cause(encode(cause))
    }

    /// Notes a wait the running task filed (for its `Pending` event).
    #[inline(always)]
    pub(crate) fn note_wait(&self, wait: impl FnOnce() -> Wait) {
        if self.tracing() {
            self.note_wait_traced(wait());
        }
    }

    #[cold]
    #[inline(never)]
    fn note_wait_traced(&self, wait: Wait) {
        if let Ok(mut waits) = self.tracer().waits.try_borrow_mut() {
            waits.push(wait);
        }
    }

    /// Polls the future given to `block_on` (task 0 in traces and reports).
    pub(crate) fn poll_main<F: Future>(
        &self,
        future: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<F::Output> {
        self.budget.set(BUDGET);
        self.main_polled_at.set(self.now.get());
        if !self.tracing() {
            return future.poll(cx);
        }
        self.emit(|| TraceEvent::Woken {
            task: 0,
            by: decode(self.shared.main_cause()),
        });
        self.begin_poll_traced(0);
        let result = future.poll(cx);
        let outcome = if result.is_ready() {
            Poll::Ready(false)
        } else {
            Poll::Pending
        };
        self.end_poll_traced(0, outcome);
        result
    }

    #[cold]
    #[inline(never)]
    fn begin_poll_traced(&self, task: u64) {
        self.tracer().waits.borrow_mut().clear();
        self.shared.set_cause(encode(WakeCause::Task(task)));
        self.emit(|| TraceEvent::Polled { task });
    }

    #[cold]
    #[inline(never)]
    fn end_poll_traced(&self, task: u64, result: Poll<bool>) {
        self.shared.set_cause(encode(WakeCause::Other));
        match result {
            Poll::Pending => {
                let waits = self.tracer().waits.borrow();
                self.emit(|| TraceEvent::Pending {
                    task,
                    waits: &waits,
                });
            }
            Poll::Ready(false) => self.emit(|| TraceEvent::Completed { task }),
            Poll::Ready(true) => self.emit(|| TraceEvent::Panicked { task }),
        }
    }

    #[cold]
    #[inline(never)]
    fn trace_wait_traced(&self, timeout: Option<u64>, notifier: bool) {
        let mut fds = self.tracer().fds.borrow_mut();
        fds.clear();
        let reactor: &Reactor = &self.reactor.borrow();
        reactor.for_each_interest(notifier, &mut |fd, wanted| {
            fds.push((fd, IoEvents::wanted(wanted)))
        });
        self.emit(|| TraceEvent::Wait {
            backend: reactor.backend.kind(),
            fds: &fds,
            timeout: timeout.map(Duration::from_nanos),
        });
    }

    #[cold]
    #[inline(never)]
    fn trace_ready_traced(&self, event: &Event, woken: usize) {
        self.emit(|| TraceEvent::Ready {
            fd: event.fd,
            revents: event.revents,
            woken,
        });
        let cause = encode(WakeCause::Fd {
            fd: event.fd,
            revents: event.revents,
        });
        self.tracer()
            .causes
            .borrow_mut()
            .extend(core::iter::repeat_n(cause, woken));
    }

    #[cold]
    #[inline(never)]
    fn trace_timer_traced(&self, deadline: u64, now: u64) {
        self.emit(|| TraceEvent::TimerFired {
            deadline: Instant(deadline),
            late: Duration::from_nanos(now.saturating_sub(deadline)),
        });
        self.tracer()
            .causes
            .borrow_mut()
            .push(encode(WakeCause::Timer));
    }

    #[cold]
    #[inline(never)]
    fn call_wakers_traced(&self, wake: &mut Vec<Waker>) {
        let mut causes = core::mem::take(&mut *self.tracer().causes.borrow_mut());
        for (i, w) in wake.drain(..).enumerate() {
            let cause = causes.get(i).copied().unwrap_or(encode(WakeCause::Other));
            self.shared.set_cause(cause);
            w.wake();
        }
        self.shared.set_cause(encode(WakeCause::Other));
        causes.clear();
        *self.tracer().causes.borrow_mut() = causes;
    }
}

/// The hooks a turn uses: `TRACED` is known at compile time.
impl<const TRACED: bool> Turn<'_, TRACED> {
    /// Hands the event `make` builds to the sink (traced turns only).
    #[inline(always)]
    pub(crate) fn trace<'a>(&self, make: impl FnOnce() -> TraceEvent<'a>) {
        if TRACED {
            self.0.emit(make);
        }
    }

    /// Runs `f` with wakes on this thread recording `cause` (traced turns only).
    #[inline(always)]
    pub(crate) fn waking_as<R>(&self, cause: WakeCause, f: impl FnOnce() -> R) -> R {
        if TRACED {
            self.0.waking_as(cause, f)
        } else {
            f()
        }
    }

    /// Traces why a task taken from the wake queue was queued.
    #[inline(always)]
    pub(crate) fn trace_woken(&self, task: &TaskRef) {
        self.trace(|| TraceEvent::Woken {
            task: task.id(),
            by: decode(task.woken_by()),
        });
    }

    /// Before a task's poll: trace it, start collecting what it files, name it as the cause
    /// of the wakes it makes.
    #[inline(always)]
    pub(crate) fn begin_poll(&self, task: u64) {
        if TRACED {
            self.0.begin_poll_traced(task);
        }
    }

    /// After a task's poll (and the wakes its completion made): trace what came of it.
    #[inline(always)]
    pub(crate) fn end_poll(&self, task: u64, result: Poll<bool>) {
        if TRACED {
            self.0.end_poll_traced(task, result);
        }
    }

    /// Traces the set about to be handed to the kernel, and the timeout.
    #[inline(always)]
    pub(crate) fn trace_wait(&self, timeout: Option<u64>, notifier: bool) {
        if TRACED {
            self.0.trace_wait_traced(timeout, notifier);
        }
    }

    /// Traces the end of a wait.
    #[inline(always)]
    pub(crate) fn trace_waited(&self, blocked_ns: u64, ready: usize, failed: bool) {
        self.trace(|| TraceEvent::Waited {
            blocked: Duration::from_nanos(blocked_ns),
            ready,
            failed,
        });
    }

    /// Traces one fd the wait reported, and notes its cause for the wakers it released.
    #[inline(always)]
    pub(crate) fn trace_ready(&self, event: &Event, woken: &[Waker]) {
        if TRACED {
            self.0.trace_ready_traced(event, woken.len());
        }
    }

    /// Traces a fired timer, and notes its cause for the waker it released.
    #[inline(always)]
    pub(crate) fn trace_timer(&self, deadline: u64, now: u64) {
        if TRACED {
            self.0.trace_timer_traced(deadline, now);
        }
    }

    /// Calls the wakers collected from the reactor or the timers (no borrow held), each
    /// recording its cause in traced turns.
    #[inline]
    pub(crate) fn call_wakers(&self, mut wake: Vec<Waker>) {
        if TRACED {
            self.0.call_wakers_traced(&mut wake);
        } else {
            // The loop's own copies queue their task straight on the run queue, after any
            // task woken earlier through the wake stack (so tasks still run in wake order).
            self.take_woken();
            // In collection order, without a `Drain` (this runs twice a turn).
            wake.reverse();
            while let Some(w) = wake.pop() {
                match crate::task::wake_local(w) {
                    Ok(Some(task)) => self.queue_woken(task),
                    Ok(None) => {}
                    Err(w) => w.wake(),
                }
            }
        }
        *self.wake_buf.borrow_mut() = wake;
    }

    /// Jumps a virtual clock from `now` to `deadline`.
    pub(crate) fn skip_time(&self, now: u64, deadline: u64) {
        self.0.skip_to(now, deadline);
        self.trace(|| TraceEvent::ClockJump {
            from: Instant(now),
            to: Instant(deadline),
        });
    }
}
