//! Stuck-task reports: every pending task, what it waits on, and for how long.
//!
//! A report is a snapshot built from the loop's own tables (by the executor, which owns
//! them: `executor/report.rs`): the reactor's waiters and the
//! timer heap name the task behind each waker (the loop recognises its own wakers), and the
//! task registry gives names and the time of each task's last poll. A task that is pending
//! but filed nothing with the loop waits on something only its code knows (a channel, a
//! `JoinHandle`, another thread); the report says so rather than guessing.
//!
//! [`Stuck`] is what [`Loop::block_on_timeout`](crate::Loop::block_on_timeout) returns when
//! its deadline passes: the report, ready to fail a test with. Building a report allocates;
//! nothing here runs unless asked, and it never changes the loop's state or calls a waker.

use crate::sys::describe::FdObject;
use crate::sys::{Interest, RawFd};
use crate::time::Instant;
use crate::trace::format::TaskLabel;
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt;
use core::panic::Location;
use core::time::Duration;

/// What armed a timer.
///
/// ```
/// use readyloop::{TimerKind, WaitReport};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let _t = h.spawn({ let h = h.clone(); async move { h.interval(core::time::Duration::from_secs(9)).tick().await; h.sleep(core::time::Duration::from_secs(9)).await } });
/// lp.block_on(readyloop::yield_now());
/// let report = h.pending_report();
/// let WaitReport::Timer { origin: Some(o), .. } = report.tasks()[0].waits[0] else { panic!() };
/// assert_eq!(o.kind, TimerKind::Sleep);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimerKind {
    /// `sleep` or `sleep_until`.
    Sleep,
    /// The deadline of `timeout` or `timeout_at`.
    Timeout,
    /// An `Interval`'s next tick.
    Interval,
}

impl TimerKind {
    /// The name in reports: `sleep`, `timeout`, `interval`.
    ///
    /// ```
    /// assert_eq!(readyloop::TimerKind::Timeout.name(), "timeout");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            TimerKind::Sleep => "sleep",
            TimerKind::Timeout => "timeout",
            TimerKind::Interval => "interval",
        }
    }
}

/// What armed a timer and where: the source line of the `h.sleep(..)`, `h.timeout(..)` or
/// `h.interval(..)` call (taken with `#[track_caller]` when the future was made; a pointer
/// to a static, copied once per timer armed).
///
/// ```
/// use core::time::Duration;
/// use readyloop::{Loop, TimerKind, WaitReport};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let t = h.spawn({ let h = h.clone(); async move { h.sleep(Duration::from_secs(60)).await } });
/// let line = line!() - 1;
/// lp.block_on(readyloop::yield_now());
/// let report = h.pending_report();
/// let WaitReport::Timer { origin: Some(origin), .. } = report.task(t.id()).unwrap().waits[0] else { panic!() };
/// assert_eq!((origin.kind, origin.location.line()), (TimerKind::Sleep, line));
/// assert!(report.to_string().contains(&format!("(sleep at {}:{line}:", file!())));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerOrigin {
    /// Sleep, timeout or interval.
    pub kind: TimerKind,
    /// Where it was made.
    pub location: &'static Location<'static>,
}

impl TimerOrigin {
    /// The origin of a timer of `kind` made by this function's caller.
    #[track_caller]
    #[inline]
    pub(crate) fn here(kind: TimerKind) -> TimerOrigin {
        TimerOrigin {
            kind,
            location: Location::caller(),
        }
    }
}

/// One thing a pending task waits on, with how long it has waited.
///
/// ```
/// use core::time::Duration;
/// use readyloop::{Interest, Loop, WaitReport};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let (r, _w) = std::io::pipe().unwrap();
/// let _reader = h.spawn_named("reader", { let h = h.clone(); async move {
///     let mut buf = [0u8; 1];
///     readyloop::ReadFd::new(&h, std::os::fd::AsFd::as_fd(&r), &mut buf).await
/// }});
/// lp.block_on(readyloop::yield_now());
/// let report = h.pending_report();
/// let task = report.task(1).unwrap();
/// assert!(matches!(task.waits[0], WaitReport::Fd { interest: Interest::Readable, .. }));
/// assert!(task.waits[0].to_string().starts_with("READABLE on fd "));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitReport {
    /// Waiting until `fd` is ready for `interest`.
    #[non_exhaustive]
    Fd {
        /// The fd.
        fd: RawFd,
        /// Reading or writing.
        interest: Interest,
        /// How long it has waited so far.
        waited: Duration,
        /// What the fd is, as the kernel said when the report was made.
        object: FdObject,
    },
    /// Waiting for a timer.
    #[non_exhaustive]
    Timer {
        /// When it fires.
        deadline: Instant,
        /// How long until then (zero if it is due).
        due_in: Duration,
        /// How long it has waited so far.
        waited: Duration,
        /// What armed it and where (`None` for the loop's own timers: connect and accept
        /// back-offs).
        origin: Option<TimerOrigin>,
    },
}

/// One pending task in a [`Report`].
///
/// ```
/// use core::time::Duration;
/// use readyloop::{Interest, Loop, WaitReport};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let (r, _w) = std::io::pipe().unwrap();
/// let _reader = h.spawn_named("reader", { let h = h.clone(); async move {
///     let mut buf = [0u8; 1];
///     readyloop::ReadFd::new(&h, std::os::fd::AsFd::as_fd(&r), &mut buf).await
/// }});
/// lp.block_on(readyloop::yield_now());
/// let report = h.pending_report();
/// let task = &report.tasks()[0];
/// assert_eq!((task.id, task.name.as_deref(), task.ready), (1, Some("reader"), false));
/// assert!(task.to_string().starts_with("task 1 (reader) waiting READABLE on fd "));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskReport {
    /// The task's id (as [`JoinHandle::id`](crate::JoinHandle::id)); 0 is the `block_on`
    /// future.
    pub id: u64,
    /// The name given with [`Handle::spawn_named`](crate::Handle::spawn_named).
    pub name: Option<Cow<'static, str>>,
    /// Woken and queued to run (not waiting).
    pub ready: bool,
    /// The fds and timers it waits on; empty if it waits on nothing the loop knows.
    pub waits: Vec<WaitReport>,
    /// Time since the loop last polled it.
    pub since_poll: Duration,
}

/// Every pending task of a loop, and what it waits on
/// ([`Handle::pending_report`](crate::Handle::pending_report)).
///
/// `Display` gives one line per task, such as
/// `task 7 (handler) waiting READABLE on fd 12 for 2.031 s` or
/// `task 3 waiting on timer due in 1.500 s`.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let report = lp.handle().pending_report();
/// assert!(report.tasks().is_empty());
/// assert_eq!(report.to_string(), "no pending tasks\n");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    tasks: Vec<TaskReport>,
    foreign: Vec<WaitReport>,
}

impl Report {
    /// A report of `tasks` (by id) and of the waits whose waker is no task's (`foreign`).
    pub(crate) fn new(tasks: Vec<TaskReport>, foreign: Vec<WaitReport>) -> Report {
        Report { tasks, foreign }
    }

    /// The pending tasks, by id (the `block_on` future first, when it is included).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let _t = lp.handle().spawn(core::future::pending::<()>());
    /// lp.block_on(readyloop::yield_now());
    /// assert_eq!(lp.handle().pending_report().tasks().len(), 1);
    /// ```
    pub fn tasks(&self) -> &[TaskReport] {
        &self.tasks
    }

    /// Waits registered with a waker that is not a readyloop task's (a combinator's own
    /// waker, such as one from `FuturesUnordered`), so no task can be named for them.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// assert!(lp.handle().pending_report().foreign_waits().is_empty());
    /// ```
    pub fn foreign_waits(&self) -> &[WaitReport] {
        &self.foreign
    }

    /// The task with this id, if it is pending.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let t = lp.handle().spawn(core::future::pending::<()>());
    /// lp.block_on(readyloop::yield_now());
    /// assert!(lp.handle().pending_report().task(t.id()).is_some());
    /// ```
    pub fn task(&self, id: u64) -> Option<&TaskReport> {
        self.tasks.iter().find(|t| t.id == id)
    }
}

/// Seconds with milliseconds: `2.031 s`.
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03} s", self.0.as_secs(), self.0.subsec_millis())
    }
}

impl fmt::Display for WaitReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WaitReport::Fd {
                fd,
                interest,
                waited,
                ref object,
            } => write!(
                f,
                "{} on fd {fd} ({object}) for {}",
                interest.name(),
                Millis(waited)
            ),
            WaitReport::Timer { due_in, origin, .. } => {
                write!(f, "on timer due in {}", Millis(due_in))?;
                if let Some(o) = origin {
                    let l = o.location;
                    write!(
                        f,
                        " ({} at {}:{}:{})",
                        o.kind.name(),
                        l.file(),
                        l.line(),
                        l.column()
                    )?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for TaskReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = TaskLabel(self.id, self.name.as_deref());
        if self.id == 0 {
            f.write_str("block_on future")?;
        } else {
            write!(f, "{label}")?;
        }
        if self.ready {
            return f.write_str(" ready to run (woken, not yet polled)");
        }
        if self.waits.is_empty() {
            return write!(
                f,
                " waiting on nothing the loop knows for {} (its waker is held elsewhere: \
                 a channel, a JoinHandle, another thread)",
                Millis(self.since_poll)
            );
        }
        f.write_str(" waiting ")?;
        for (i, w) in self.waits.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "{w}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tasks.is_empty() && self.foreign.is_empty() {
            return f.write_str("no pending tasks\n");
        }
        for t in &self.tasks {
            writeln!(f, "{t}")?;
        }
        for w in &self.foreign {
            writeln!(f, "a waker that is not a readyloop task's waiting {w}")?;
        }
        Ok(())
    }
}

/// The error of [`Loop::block_on_timeout`](crate::Loop::block_on_timeout): the future was
/// not done when the deadline passed. Carries the [`Report`] of what was pending then;
/// `Display` and `Debug` both print it, so `.unwrap()` in a test shows what was stuck.
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// let never = core::future::pending::<()>();
/// let stuck = lp.block_on_timeout(Duration::from_millis(10), never).unwrap_err();
/// assert_eq!(stuck.timeout(), Duration::from_millis(10));
/// assert!(stuck.report().task(0).is_some());
/// assert!(stuck.to_string().contains("block_on future waiting on nothing the loop knows"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Stuck {
    timeout: Duration,
    report: Report,
}

impl Stuck {
    pub(crate) fn new(timeout: Duration, report: Report) -> Self {
        Stuck { timeout, report }
    }

    /// The timeout that passed.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let d = core::time::Duration::from_millis(1);
    /// let stuck = lp.block_on_timeout(d, core::future::pending::<()>()).unwrap_err();
    /// assert_eq!(stuck.timeout(), d);
    /// ```
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// What was pending when it passed.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let d = core::time::Duration::from_millis(1);
    /// let stuck = lp.block_on_timeout(d, core::future::pending::<()>()).unwrap_err();
    /// assert_eq!(stuck.report().tasks()[0].id, 0);
    /// ```
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The report, owned.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let d = core::time::Duration::from_millis(1);
    /// let stuck = lp.block_on_timeout(d, core::future::pending::<()>()).unwrap_err();
    /// let report = stuck.into_report();
    /// assert!(report.to_string().starts_with("block_on future waiting on nothing"));
    /// ```
    pub fn into_report(self) -> Report {
        self.report
    }
}

impl fmt::Display for Stuck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "block_on_timeout: not done after {}; pending then:",
            Millis(self.timeout)
        )?;
        write!(f, "{}", self.report)
    }
}

impl fmt::Debug for Stuck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl core::error::Error for Stuck {}
