//! Trace of every turn: what the loop asked the kernel, what it answered, and what each task
//! did about it.
//!
//! Tracing is switched on when the loop is built ([`Builder::trace`](crate::Builder::trace)).
//! The loop then hands one [`TraceEvent`] value per step to a [`TraceSink`]: the pollfd set
//! and timeout of each wait, the time it blocked, every returned `revents`, which task each
//! readiness, timer, callback or cross-thread wake queued, and each task's life (spawned,
//! polled, pending on what, completed, aborted, panicked). One producer feeds every sink:
//!
//! - any closure `FnMut(Instant, &TraceEvent)` (works without `std`);
//! - [`Lines`] (`std`): one readable line per event, to stderr by default;
//! - [`JsonLines`] (`std`): one JSON object per line, for tools.
//!
//! ```
//! use readyloop::trace::TraceEvent;
//! use readyloop::Loop;
//! use std::{cell::RefCell, rc::Rc};
//!
//! let seen = Rc::new(RefCell::new(Vec::new()));
//! let log = seen.clone();
//! let lp = Loop::builder()
//!     .trace(move |_at, ev: &TraceEvent<'_>| log.borrow_mut().push(ev.to_string()))
//!     .build()
//!     .unwrap();
//! let h = lp.handle();
//! lp.block_on(h.spawn_named("napper", { let h = h.clone(); async move {
//!     h.sleep(core::time::Duration::from_millis(50)).await
//! }})).unwrap();
//! let seen = seen.borrow();
//! assert!(seen.iter().any(|l| l.starts_with("task 1 pending: timer due in 0.0")), "{seen:#?}");
//! assert!(seen.iter().any(|l| l.starts_with("wait ")), "{seen:#?}");
//! assert!(seen.iter().any(|l| l == "task 1 completed"));
//! ```
//!
//! When tracing is off the loop carries `None` where the tracer would be: each hook is one
//! predictable branch on that `Option` (and one on a flag in the wake path), nothing else.
//! This module never calls into the loop and never blocks the loop except inside the sink.

pub(crate) mod format;
#[cfg(feature = "std")]
mod sinks;
mod step;
pub(crate) mod tracer;

#[cfg(feature = "std")]
pub use sinks::{JsonLines, Lines};
pub use step::{TurnRecord, WaitRecord};

use crate::sys::backend::BackendKind;
pub use crate::sys::backend::Readiness;
use crate::sys::{Interest, RawFd};
use crate::time::Instant;
use core::time::Duration;

/// Why a task was queued to run.
///
/// ```
/// use readyloop::trace::{Readiness, WakeCause};
/// let cause = WakeCause::Fd { fd: 7, revents: Readiness::IN };
/// assert_eq!(cause.to_string(), "fd 7 (IN)");
/// assert_eq!(WakeCause::CrossThread.to_string(), "another thread");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WakeCause {
    /// The kernel reported the fd ready (with these `revents`).
    Fd {
        /// The fd.
        fd: RawFd,
        /// What the wait returned for it.
        revents: Readiness,
    },
    /// A timer the task waited on reached its deadline.
    Timer,
    /// Another thread (or a signal handler) called the task's waker.
    CrossThread,
    /// A `call_soon` callback called the waker.
    CallSoon,
    /// A task of this loop called the waker while it ran (a channel, a finished task's
    /// `JoinHandle`, or the task itself yielding). Task 0 is the `block_on` future.
    Task(u64),
    /// The task was just spawned.
    Spawn,
    /// The loop's own thread outside any task or callback (before `block_on`, in a drop).
    Other,
}

/// What a traced socket syscall returned (see [`TraceEvent::Syscall`]).
///
/// ```
/// use readyloop::trace::SyscallResult;
/// assert_eq!(SyscallResult::Bytes(64).to_string(), "64 B");
/// assert_eq!(SyscallResult::Failed(11).to_string(), "EAGAIN");
/// let peer = "127.0.0.1:50312".parse().ok();
/// assert_eq!(SyscallResult::Accepted { fd: 7, peer }.to_string(), "fd 7 from 127.0.0.1:50312");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SyscallResult {
    /// This many bytes moved.
    Bytes(usize),
    /// A connection was accepted as `fd`, from `peer` (`None`: a Unix peer).
    Accepted {
        /// The new connection's fd.
        fd: RawFd,
        /// The peer's address (IP sockets).
        peer: Option<core::net::SocketAddr>,
    },
    /// It failed with this errno (`EAGAIN`: nothing to do yet, the leaf then waits).
    Failed(i32),
}

/// One thing a pending task filed with the loop: an fd wait or a timer.
///
/// ```
/// use readyloop::trace::PendingOn;
/// use readyloop::Interest;
/// let wait = PendingOn::Fd { fd: 5, interest: Interest::Readable };
/// assert_eq!(wait.to_string(), "READABLE on fd 5");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PendingOn {
    /// Waiting until `fd` is ready for `interest`.
    Fd {
        /// The fd.
        fd: RawFd,
        /// Reading or writing.
        interest: Interest,
    },
    /// Waiting until the loop clock reaches `deadline`.
    Timer {
        /// When the timer fires.
        deadline: Instant,
        /// How far ahead that was when the task filed it (or last polled it).
        due_in: Duration,
    },
}

/// One step of the loop, as handed to a [`TraceSink`]. Task 0 is the future given to
/// `block_on`; other task ids are those of [`JoinHandle::id`](crate::JoinHandle::id).
///
/// `Display` gives the readable line (without time or names: the [`Lines`] sink adds
/// those); [`write_json`](TraceEvent::write_json) gives the JSON object.
///
/// ```
/// use readyloop::trace::TraceEvent;
/// assert_eq!(TraceEvent::Polled { task: 3 }.to_string(), "poll task 3");
/// assert_eq!(TraceEvent::Completed { task: 0 }.to_string(), "block_on completed");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEvent<'a> {
    /// A turn of the loop begins (turns are numbered from 1).
    TurnStart {
        /// The turn's number.
        turn: u64,
    },
    /// A `call_soon` callback is about to run.
    Callback,
    /// A task was started (`spawn` / `spawn_named`).
    Spawned {
        /// The new task.
        task: u64,
        /// Its name, if it was given one.
        name: Option<&'a str>,
    },
    /// A task was queued to run, and what queued it.
    Woken {
        /// The task.
        task: u64,
        /// What called its waker first.
        by: WakeCause,
    },
    /// The loop is about to poll a task's future.
    Polled {
        /// The task.
        task: u64,
    },
    /// The poll returned `Pending`; `waits` is what the task filed with the loop during it
    /// (empty: it waits on something the loop does not know, such as a channel).
    Pending {
        /// The task.
        task: u64,
        /// The fds and timers it waits on.
        waits: &'a [PendingOn],
    },
    /// The task's future returned its output.
    Completed {
        /// The task.
        task: u64,
    },
    /// The task was aborted (its future dropped unfinished).
    Aborted {
        /// The task.
        task: u64,
    },
    /// The task's future panicked (`std`; the loop keeps running).
    Panicked {
        /// The task.
        task: u64,
    },
    /// The loop is about to wait: the set handed to the kernel and the timeout asked.
    Wait {
        /// The system call.
        backend: BackendKind,
        /// Each fd with the events asked for (the loop's notifier included).
        fds: &'a [(RawFd, Readiness)],
        /// `None`: block until an fd is ready.
        timeout: Option<Duration>,
    },
    /// The wait returned.
    Waited {
        /// How long it blocked.
        blocked: Duration,
        /// How many fds it reported.
        ready: usize,
        /// It failed (and the loop backed off for a millisecond).
        failed: bool,
    },
    /// One fd the wait reported, with its `revents`.
    Ready {
        /// The fd.
        fd: RawFd,
        /// What the kernel returned.
        revents: Readiness,
        /// How many waiters it woke (0 for the loop's notifier).
        woken: usize,
    },
    /// The loop's notifier fired: a cross-thread wake (or a signal) interrupted the wait.
    Notified,
    /// What an fd is, the first time it appears in a traced wait: `TCP listener
    /// 127.0.0.1:5566`, `TCP socket 127.0.0.1:5566 -> 127.0.0.1:50312`, `pipe`,
    /// `the loop's notifier (eventfd)`, `signal pipe`, `tty`. Named again after the fd's
    /// registration is dropped (its number may be reused for something else).
    FdNamed {
        /// The fd.
        fd: RawFd,
        /// What it is.
        what: &'a str,
    },
    /// A socket syscall a readiness leaf made, and what the kernel answered (only with
    /// [`Builder::trace_syscalls`](crate::Builder::trace_syscalls)): `recv fd 8 -> 64 B`,
    /// `recv fd 8 -> EAGAIN`, `accept fd 5 -> fd 7 from 127.0.0.1:50312`.
    Syscall {
        /// The fd it was made on.
        fd: RawFd,
        /// The call: `recv`, `send`, `sendmsg`, `recvfrom`, `sendto`, `peek`, `accept`.
        op: &'static str,
        /// What it returned.
        result: SyscallResult,
    },
    /// The wait returned early because a signal interrupted it (EINTR); `signal` is the
    /// signal a `readyloop::signal` receiver has pending, when one has (`signal` feature).
    Interrupted {
        /// The signal's number, when known.
        signal: Option<i32>,
    },
    /// A timer reached its deadline.
    TimerFired {
        /// The timer's deadline.
        deadline: Instant,
        /// How late the loop noticed it.
        late: Duration,
    },
    /// The virtual clock jumped ahead to the nearest deadline (every task waited only on
    /// timers; see [`Builder::virtual_clock`](crate::Builder::virtual_clock)).
    ClockJump {
        /// The loop clock before the jump.
        from: Instant,
        /// The loop clock after it.
        to: Instant,
    },
}

/// Where trace events go. Implemented for every `FnMut(Instant, &TraceEvent)` closure.
///
/// `at` is the loop clock when the event happened (virtual time with a virtual clock). A sink
/// runs on the loop's thread in the middle of a turn: it must not block for long. It may call
/// into the loop (`Handle::try_current()` with `std`, then `stats`,
/// `pending_report`, `spawn`): no table of the loop is borrowed while it runs, and events it
/// causes itself are dropped rather than re-entering it. A sink that panics propagates the
/// panic out of `block_on`; the loop stays usable (see [`Loop::block_on`](crate::Loop::block_on)).
///
/// ```
/// use readyloop::trace::{TraceEvent, TraceSink};
/// use readyloop::{Instant, Loop};
///
/// struct CountPolls(u64);
/// impl TraceSink for CountPolls {
///     fn record(&mut self, _at: Instant, event: &TraceEvent<'_>) {
///         if let TraceEvent::Wait { .. } = event {
///             self.0 += 1;
///         }
///     }
/// }
/// let lp = Loop::builder().trace(CountPolls(0)).build().unwrap();
/// lp.block_on(readyloop::yield_now());
/// ```
pub trait TraceSink {
    /// Receives one event.
    ///
    /// ```
    /// use readyloop::trace::{TraceEvent, TraceSink};
    /// use readyloop::Instant;
    /// let mut lines = Vec::new();
    /// let mut sink = |_at: Instant, event: &TraceEvent<'_>| lines.push(event.to_string());
    /// sink.record(Instant::from_nanos(0), &TraceEvent::TurnStart { turn: 1 });
    /// assert_eq!(lines.len(), 1);
    /// ```
    fn record(&mut self, at: Instant, event: &TraceEvent<'_>);
}

impl<F: FnMut(Instant, &TraceEvent<'_>)> TraceSink for F {
    fn record(&mut self, at: Instant, event: &TraceEvent<'_>) {
        self(at, event)
    }
}
