//! What the turn's steps do besides their job: trace events, wake causes, the virtual clock.
//!
//! Kept apart so `turn()` and its steps read like seed 002's `run()`. Every hook starts with
//! a check of `Core::trace` (an `Option`, `None` unless the loop was built with a sink), so
//! with tracing off each costs one predictable branch; the tracing work itself sits in the
//! out-of-line `Tracer::emit`. Nothing here may block or call a waker while it holds a
//! borrow of the loop's tables.

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

impl Core {
    /// The loop clock now (ns): monotonic, plus what a virtual clock skipped.
    #[inline]
    pub(crate) fn clock_now(&self) -> u64 {
        self.clock.at(clock::monotonic_nanos())
    }

    /// The tracer, when tracing is on.
    #[inline(always)]
    fn tracer(&self) -> Option<&Tracer> {
        self.trace.as_deref()
    }

    /// Hands `event` to the sink, if tracing is on.
    #[inline(always)]
    pub(crate) fn trace(&self, event: TraceEvent<'_>) {
        if let Some(t) = self.tracer() {
            t.emit(Instant(self.clock_now()), &event);
        }
    }

    /// Runs `f` with wakes on this thread recording `cause` (while tracing).
    #[inline(always)]
    pub(crate) fn waking_as<R>(&self, cause: WakeCause, f: impl FnOnce() -> R) -> R {
        if self.tracer().is_none() {
            return f();
        }
        let previous = self.shared.set_cause(encode(cause));
        let result = f();
        self.shared.set_cause(previous);
        result
    }

    /// Traces why a task taken from the wake queue was queued.
    #[inline(always)]
    pub(crate) fn trace_woken(&self, task: &TaskRef) {
        if self.tracer().is_some() {
            self.trace(TraceEvent::Woken {
                task: task.id(),
                by: decode(task.woken_by()),
            });
        }
    }

    /// Before a task's poll: trace it, start collecting what it files, name it as the cause
    /// of the wakes it makes.
    #[inline(always)]
    pub(crate) fn begin_poll(&self, task: u64) {
        if let Some(t) = self.tracer() {
            t.waits.borrow_mut().clear();
            self.shared.set_cause(encode(WakeCause::Task(task)));
            self.trace(TraceEvent::Polled { task });
        }
    }

    /// After a task's poll: trace what came of it.
    #[inline(always)]
    pub(crate) fn end_poll(&self, task: u64, result: Poll<bool>) {
        if let Some(t) = self.tracer() {
            self.shared.set_cause(encode(WakeCause::Other));
            match result {
                Poll::Pending => {
                    let waits = t.waits.borrow();
                    self.trace(TraceEvent::Pending {
                        task,
                        waits: &waits,
                    });
                }
                Poll::Ready(false) => self.trace(TraceEvent::Completed { task }),
                Poll::Ready(true) => self.trace(TraceEvent::Panicked { task }),
            }
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
        if self.tracer().is_some() {
            self.trace(TraceEvent::Woken {
                task: 0,
                by: decode(self.shared.main_cause()),
            });
        }
        self.begin_poll(0);
        let result = future.poll(cx);
        let outcome = if result.is_ready() {
            Poll::Ready(false)
        } else {
            Poll::Pending
        };
        self.end_poll(0, outcome);
        result
    }

    /// Notes a wait the running task filed (for its `Pending` event).
    #[inline(always)]
    pub(crate) fn note_wait(&self, wait: impl FnOnce() -> Wait) {
        if let Some(t) = self.tracer() {
            if let Ok(mut waits) = t.waits.try_borrow_mut() {
                waits.push(wait());
            }
        }
    }

    /// Traces the set about to be handed to the kernel, and the timeout.
    #[inline(always)]
    pub(crate) fn trace_wait(&self, timeout: Option<u64>) {
        if let Some(t) = self.tracer() {
            let mut fds = t.fds.borrow_mut();
            fds.clear();
            let reactor: &Reactor = &self.reactor.borrow();
            reactor.for_each_interest(&mut |fd, wanted| fds.push((fd, IoEvents::wanted(wanted))));
            self.trace(TraceEvent::Wait {
                backend: reactor.backend.kind(),
                fds: &fds,
                timeout: timeout.map(Duration::from_nanos),
            });
        }
    }

    /// Traces the end of a wait.
    #[inline(always)]
    pub(crate) fn trace_waited(&self, blocked_ns: u64, ready: usize, failed: bool) {
        self.trace(TraceEvent::Waited {
            blocked: Duration::from_nanos(blocked_ns),
            ready,
            failed,
        });
    }

    /// Traces one fd the wait reported, and notes its cause for the wakers it released.
    #[inline(always)]
    pub(crate) fn trace_ready(&self, event: &Event, woken: &[Waker]) {
        if let Some(t) = self.tracer() {
            self.trace(TraceEvent::Ready {
                fd: event.fd,
                revents: event.revents,
                woken: woken.len(),
            });
            let cause = encode(WakeCause::Fd {
                fd: event.fd,
                revents: event.revents,
            });
            t.causes
                .borrow_mut()
                .extend(core::iter::repeat_n(cause, woken.len()));
        }
    }

    /// Traces a fired timer, and notes its cause for the waker it released.
    #[inline(always)]
    pub(crate) fn trace_timer(&self, deadline: u64, now: u64) {
        if let Some(t) = self.tracer() {
            self.trace(TraceEvent::TimerFired {
                deadline: Instant(deadline),
                late: Duration::from_nanos(now.saturating_sub(deadline)),
            });
            t.causes.borrow_mut().push(encode(WakeCause::Timer));
        }
    }

    /// Calls the wakers collected from the reactor or the timers (no borrow held), each
    /// recording its cause while tracing.
    pub(crate) fn call_wakers(&self, mut wake: Vec<Waker>) {
        match self.tracer() {
            None => {
                for w in wake.drain(..) {
                    w.wake();
                }
            }
            Some(t) => {
                let causes = core::mem::take(&mut *t.causes.borrow_mut());
                for (i, w) in wake.drain(..).enumerate() {
                    let cause = causes.get(i).copied().unwrap_or(encode(WakeCause::Other));
                    self.shared.set_cause(cause);
                    w.wake();
                }
                self.shared.set_cause(encode(WakeCause::Other));
                let mut causes = causes;
                causes.clear();
                *t.causes.borrow_mut() = causes;
            }
        }
        *self.wake_buf.borrow_mut() = wake;
    }

    /// Whether a virtual clock may jump now (rules 2 and 3 in `loop_clock.rs`; the caller
    /// checked rules 1 and 4).
    pub(crate) fn may_skip_time(&self) -> bool {
        self.clock.is_virtual()
            && !self.clock.is_held()
            && self.reactor.borrow().waiter_count() == 0
    }

    /// Jumps a virtual clock from `now` to `deadline`.
    pub(crate) fn skip_time(&self, now: u64, deadline: u64) {
        self.clock.skip(deadline - now);
        crate::stats::bump(&self.counters.clock_jumps, 1);
        self.trace(TraceEvent::ClockJump {
            from: Instant(now),
            to: Instant(deadline),
        });
    }
}
