//! What a turn's steps do besides their job: trace events, wake causes, the virtual clock.
//!
//! Kept apart so the turn (`turn.rs`) reads like seed 002's `run()`. Inside a turn the hooks
//! take the turn's compile-time `TRACED` (`trace_if::<TRACED>`, `begin_poll::<TRACED>`...):
//! in the plain turn they vanish. Outside a turn (spawn, a leaf filing a wait, the `block_on` future's poll) the
//! hooks of `Core` test `Core::trace` at run time: one predictable branch each. Either way
//! the tracing work sits in out-of-line `#[cold]` bodies, so the hot path stays small.
//! Nothing here may block or call a waker while it holds a borrow of the loop's tables.

use super::{Core, BUDGET};
use crate::reactor::Reactor;
use crate::sys::backend::{Readiness, ReadyFd};
use crate::sys::clock;
use crate::task::TaskRef;
use crate::time::Instant;
use crate::trace::tracer::{decode, encode, Tracer};
use crate::trace::{PendingOn, TraceEvent, WakeCause};
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

    /// Notes what the running task now waits on: an fd or a timer it registered (for its
    /// `Pending` trace event).
    #[inline(always)]
    pub(crate) fn note_pending_on(&self, wait: impl FnOnce() -> PendingOn) {
        if self.tracing() {
            self.note_pending_on_traced(wait());
        }
    }

    #[cold]
    #[inline(never)]
    fn note_pending_on_traced(&self, wait: PendingOn) {
        if let Ok(mut waits) = self.tracer().waits.try_borrow_mut() {
            waits.push(wait);
        }
    }

    /// Tells the hog watchdog (if any, `std` only) that `task`'s poll begins.
    #[inline(always)]
    pub(crate) fn watchdog_begin(&self, task: u64) {
        #[cfg(feature = "std")]
        if let Some(w) = self.watchdog.get() {
            w.begin(task);
        }
        #[cfg(not(feature = "std"))]
        let _ = task;
    }

    /// Tells the hog watchdog (if any, `std` only) that `task`'s poll ended, and forgets
    /// its name if it completed.
    #[inline(always)]
    pub(crate) fn watchdog_end(&self, task: u64, completed: bool) {
        #[cfg(feature = "std")]
        if let Some(w) = self.watchdog.get() {
            w.end();
            if completed {
                w.name(task, None);
            }
        }
        #[cfg(not(feature = "std"))]
        let _ = (task, completed);
    }

    /// Polls the future given to `block_on` (task 0 in traces and reports).
    pub(crate) fn poll_main<F: Future>(
        &self,
        future: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<F::Output> {
        self.budget.set(BUDGET);
        self.main_polled_at.set(self.now.get());
        #[cfg(feature = "std")]
        if let Some(w) = self.watchdog.get() {
            w.begin(0);
            let result = self.poll_main_unwatched(future, cx);
            w.end();
            return result;
        }
        self.poll_main_unwatched(future, cx)
    }

    /// `poll_main` after the watchdog's bookkeeping.
    fn poll_main_unwatched<F: Future>(
        &self,
        future: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<F::Output> {
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
        // The reactor's borrow ends before the sink runs (it may re-enter the loop).
        let backend = {
            let reactor: &Reactor = &self.reactor.borrow();
            reactor.for_each_interest(notifier, &mut |fd, wanted| {
                fds.push((fd, Readiness::wanted(wanted)))
            });
            reactor.backend.kind()
        };
        self.name_new_fds(&fds);
        self.emit(|| TraceEvent::Wait {
            backend,
            fds: &fds,
            timeout: timeout.map(Duration::from_nanos),
        });
    }

    /// Emits `FdNamed` for each fd of the coming wait not named yet in this trace. Every name
    /// is made before the first event goes out: a sink is user code, and what it does may
    /// drop a registration, so an fd is described only while nothing can have run since it
    /// was read from the reactor.
    fn name_new_fds(&self, fds: &[(crate::sys::RawFd, Readiness)]) {
        let notifier = self.reactor.borrow().notifier_fd();
        let mut names = alloc::vec::Vec::new();
        for &(fd, _) in fds {
            {
                let mut named = self.tracer().named_fds.borrow_mut();
                match named.binary_search(&fd) {
                    Ok(_) => continue,
                    Err(at) => named.insert(at, fd),
                }
            }
            let mut what = if fd == notifier {
                alloc::string::String::from("the loop's notifier (eventfd)")
            } else {
                // SAFETY: `fd` was read from the reactor's registered set just now and no
                // user code has run since (the events go out below), so it is registered.
                unsafe { fd_name(fd) }
            };
            let label = {
                let labels = self.tracer().labels.borrow();
                labels
                    .binary_search_by_key(&fd, |&(f, _)| f)
                    .ok()
                    .map(|at| labels[at].1)
            };
            if let Some(label) = label {
                what.push_str(" \"");
                what.push_str(label);
                what.push('"');
            }
            names.push((fd, what));
        }
        for (fd, what) in &names {
            self.emit(|| TraceEvent::FdNamed { fd: *fd, what });
        }
    }

    /// Traces a socket syscall a leaf made (`Builder::trace_syscalls`): one predictable
    /// branch when tracing is off; `result` runs only when the syscall level is on.
    #[inline(always)]
    pub(crate) fn trace_syscall(
        &self,
        fd: crate::sys::RawFd,
        op: &'static str,
        result: impl FnOnce() -> crate::trace::SyscallResult,
    ) {
        if self.tracing() {
            self.trace_syscall_traced(fd, op, result);
        }
    }

    #[cold]
    #[inline(never)]
    fn trace_syscall_traced(
        &self,
        fd: crate::sys::RawFd,
        op: &'static str,
        result: impl FnOnce() -> crate::trace::SyscallResult,
    ) {
        if self.tracer().syscalls.get() {
            let result = result();
            self.emit(|| TraceEvent::Syscall { fd, op, result });
        }
    }

    /// A registration of `fd` is going: the next fd with its number is named again.
    #[inline(always)]
    pub(crate) fn forget_fd_name(&self, fd: crate::sys::RawFd) {
        if self.tracing() {
            self.forget_fd_name_traced(fd);
        }
    }

    #[cold]
    #[inline(never)]
    fn forget_fd_name_traced(&self, fd: crate::sys::RawFd) {
        if let Ok(mut named) = self.tracer().named_fds.try_borrow_mut() {
            if let Ok(at) = named.binary_search(&fd) {
                named.remove(at);
            }
        }
        if let Ok(mut labels) = self.tracer().labels.try_borrow_mut() {
            if let Ok(at) = labels.binary_search_by_key(&fd, |&(f, _)| f) {
                labels.remove(at);
            }
        }
    }

    /// `Async::label`: names `fd` in the trace (traced loops only).
    pub(crate) fn label_fd(&self, fd: crate::sys::RawFd, label: &'static str) {
        if self.tracing() {
            if let Ok(mut labels) = self.tracer().labels.try_borrow_mut() {
                match labels.binary_search_by_key(&fd, |&(f, _)| f) {
                    Ok(at) => labels[at].1 = label,
                    Err(at) => labels.insert(at, (fd, label)),
                }
            }
            // Named again, with the label, at the next wait it is in.
            if let Ok(mut named) = self.tracer().named_fds.try_borrow_mut() {
                if let Ok(at) = named.binary_search(&fd) {
                    named.remove(at);
                }
            }
        }
    }

    /// Emits `Interrupted` after a wait a signal cut short (EINTR).
    #[cold]
    #[inline(never)]
    fn trace_interrupted_traced(&self) {
        if !self.reactor.borrow().interrupted {
            return;
        }
        #[cfg(feature = "signal")]
        let signal = crate::sys::signal::pending_signal();
        #[cfg(not(feature = "signal"))]
        let signal = None;
        self.emit(|| TraceEvent::Interrupted { signal });
    }

    /// Notes a reported fd and the cause of the wakers it released (the reactor is
    /// borrowed: no sink call here, see `emit_noted`).
    #[cold]
    #[inline(never)]
    fn note_ready_traced(&self, event: &ReadyFd, woken: usize) {
        self.tracer().ready.borrow_mut().push((*event, woken));
        let cause = encode(WakeCause::Fd {
            fd: event.fd,
            revents: event.revents,
        });
        self.tracer()
            .causes
            .borrow_mut()
            .extend(core::iter::repeat_n(cause, woken));
    }

    /// Notes a fired timer and its waker's cause (the timers are borrowed).
    #[cold]
    #[inline(never)]
    fn note_timer_traced(&self, deadline: u64) {
        self.tracer().fired.borrow_mut().push(deadline);
        self.tracer()
            .causes
            .borrow_mut()
            .push(encode(WakeCause::Timer));
    }

    /// Hands the noted `Ready` and `TimerFired` events to the sink, with no borrow of the
    /// loop's tables held. `now` is the turn's clock, for how late each timer fired.
    #[cold]
    #[inline(never)]
    fn emit_noted_traced(&self, now: u64) {
        let tracer = self.tracer();
        let ready = core::mem::take(&mut *tracer.ready.borrow_mut());
        for (event, woken) in &ready {
            self.emit(|| TraceEvent::Ready {
                fd: event.fd,
                revents: event.revents,
                woken: *woken,
            });
        }
        let fired = core::mem::take(&mut *tracer.fired.borrow_mut());
        for &deadline in &fired {
            self.emit(|| TraceEvent::TimerFired {
                deadline: Instant(deadline),
                late: Duration::from_nanos(now.saturating_sub(deadline)),
            });
        }
        // The buffers go back for reuse (emptied), unless the sink filled them meanwhile.
        let mut ready = ready;
        ready.clear();
        if let Ok(mut slot) = tracer.ready.try_borrow_mut() {
            if slot.is_empty() {
                *slot = ready;
            }
        }
        let mut fired = fired;
        fired.clear();
        if let Ok(mut slot) = tracer.fired.try_borrow_mut() {
            if slot.is_empty() {
                *slot = fired;
            }
        }
    }

    /// `wake` is in reverse collection order (popped from the end); `causes` is in
    /// collection order. A waker that panics leaves the rest in `wake` (see `Leftovers`)
    /// and their causes unused: the leftovers are then woken as `Other`.
    #[cold]
    #[inline(never)]
    pub(super) fn call_wakers_traced(&self, wake: &mut Vec<Waker>) {
        let mut causes = core::mem::take(&mut *self.tracer().causes.borrow_mut());
        let mut i = 0;
        while let Some(w) = wake.pop() {
            let cause = causes.get(i).copied().unwrap_or(encode(WakeCause::Other));
            i += 1;
            self.shared.set_cause(cause);
            w.wake();
        }
        self.shared.set_cause(encode(WakeCause::Other));
        causes.clear();
        *self.tracer().causes.borrow_mut() = causes;
    }
}

/// The hooks a turn uses (`turn.rs`): `TRACED` is known at compile time, so in the plain
/// turn they vanish.
impl Core {
    /// Hands the event `make` builds to the sink (traced turns only).
    #[inline(always)]
    pub(crate) fn trace_if<'a, const TRACED: bool>(&self, make: impl FnOnce() -> TraceEvent<'a>) {
        if TRACED {
            self.emit(make);
        }
    }

    /// Runs `f` with wakes on this thread recording `cause` (traced turns only).
    #[inline(always)]
    pub(crate) fn waking_as_if<const TRACED: bool, R>(
        &self,
        cause: WakeCause,
        f: impl FnOnce() -> R,
    ) -> R {
        if TRACED {
            self.waking_as(cause, f)
        } else {
            f()
        }
    }

    /// Traces why a task taken from the wake queue was queued.
    #[inline(always)]
    pub(crate) fn trace_woken<const TRACED: bool>(&self, task: &TaskRef) {
        self.trace_if::<TRACED>(|| TraceEvent::Woken {
            task: task.id(),
            by: decode(task.woken_by()),
        });
    }

    /// Before a task's poll: trace it, start collecting what it files, name it as the cause
    /// of the wakes it makes.
    #[inline(always)]
    pub(crate) fn begin_poll<const TRACED: bool>(&self, task: u64) {
        if TRACED {
            self.begin_poll_traced(task);
        }
    }

    /// After a task's poll (and the wakes its completion made): trace what came of it.
    #[inline(always)]
    pub(crate) fn end_poll<const TRACED: bool>(&self, task: u64, result: Poll<bool>) {
        if TRACED {
            self.end_poll_traced(task, result);
        }
    }

    /// Traces the set about to be handed to the kernel, and the timeout.
    #[inline(always)]
    pub(crate) fn trace_wait<const TRACED: bool>(&self, timeout: Option<u64>, notifier: bool) {
        if TRACED {
            self.trace_wait_traced(timeout, notifier);
        }
    }

    /// Traces the end of a wait.
    #[inline(always)]
    pub(crate) fn trace_waited<const TRACED: bool>(
        &self,
        blocked_ns: u64,
        ready: usize,
        failed: bool,
    ) {
        self.trace_if::<TRACED>(|| TraceEvent::Waited {
            blocked: Duration::from_nanos(blocked_ns),
            ready,
            failed,
        });
        if TRACED {
            self.trace_interrupted_traced();
        }
    }

    /// Notes one fd the wait reported (traced turns), for `emit_noted`, and its cause for
    /// the wakers it released. Called with the reactor borrowed: never reaches the sink.
    #[inline(always)]
    pub(crate) fn note_ready<const TRACED: bool>(&self, event: &ReadyFd, woken: usize) {
        if TRACED {
            self.note_ready_traced(event, woken);
        }
    }

    /// Notes a fired timer (traced turns), like `note_ready`.
    #[inline(always)]
    pub(crate) fn note_timer<const TRACED: bool>(&self, deadline: u64) {
        if TRACED {
            self.note_timer_traced(deadline);
        }
    }

    /// Traces what `note_ready` and `note_timer` noted (traced turns), with no borrow held.
    #[inline(always)]
    pub(crate) fn emit_noted<const TRACED: bool>(&self, now: u64) {
        if TRACED {
            self.emit_noted_traced(now);
        }
    }
}

/// What `fd` is, in a few words: its kind and, for a socket, its addresses (the stuck
/// report's description without the queue sizes, which change every turn).
///
/// # Safety
/// As `describe_registered`: `fd` is registered with this loop's reactor.
unsafe fn fd_name(fd: crate::sys::RawFd) -> alloc::string::String {
    use core::fmt::Write;
    // SAFETY: `fd` is registered (this fn's contract).
    let object = unsafe { crate::sys::describe::describe_registered(fd) };
    let mut what = alloc::string::String::from(object.kind.name());
    if let Some(local) = &object.local {
        let _ = write!(what, " {local}");
    }
    if let Some(peer) = &object.peer {
        let _ = write!(what, " -> {peer}");
    }
    what
}
