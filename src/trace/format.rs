//! How trace events read: one line of text, or one JSON object.
//!
//! Both work without `std` (they write to any `core::fmt::Write`). Task names are not in most
//! events (a waker only knows a task's number), so the writers take a lookup that a sink
//! fills from `Spawned` events. This module only formats; it never allocates.

use super::{PendingOn, SyscallResult, TraceEvent, WakeCause};
use crate::time::Instant;
use core::fmt::{self, Write};
use core::time::Duration;

/// Seconds with microseconds, as trace lines show durations.
pub(crate) struct Secs(pub(crate) Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(f, "{}.{:06} s", d.as_secs(), d.subsec_micros())
    }
}

/// A task as a line names it: `task 3 (handler)`, or `block_on` for task 0.
pub(crate) struct TaskLabel<'a>(pub(crate) u64, pub(crate) Option<&'a str>);

impl fmt::Display for TaskLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (0, _) => f.write_str("block_on"),
            (id, Some(name)) => write!(f, "task {id} ({name})"),
            (id, None) => write!(f, "task {id}"),
        }
    }
}

impl fmt::Display for PendingOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PendingOn::Fd { fd, interest } => write!(f, "{} on fd {fd}", interest.name()),
            PendingOn::Timer { due_in, .. } => write!(f, "timer due in {}", Secs(due_in)),
        }
    }
}

impl fmt::Display for WakeCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WakeCause::Fd { fd, revents } => write!(f, "fd {fd} ({revents})"),
            WakeCause::Timer => f.write_str("its timer"),
            WakeCause::CrossThread => f.write_str("another thread"),
            WakeCause::CallSoon => f.write_str("a call_soon callback"),
            WakeCause::Task(id) => write!(f, "{}", TaskLabel(id, None)),
            WakeCause::Spawn => f.write_str("spawn"),
            WakeCause::Other => f.write_str("the loop's thread outside any task"),
        }
    }
}

impl fmt::Display for TraceEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_line(self, f, &|_| None)
    }
}

/// Writes the readable line for `event`, naming tasks through `name`.
pub(crate) fn write_line<'n>(
    event: &TraceEvent<'_>,
    f: &mut dyn Write,
    name: &dyn Fn(u64) -> Option<&'n str>,
) -> fmt::Result {
    let task = |id: u64| TaskLabel(id, name(id));
    match *event {
        TraceEvent::TurnStart { turn } => write!(f, "--- turn {turn} ---"),
        TraceEvent::Callback => f.write_str("run call_soon callback"),
        TraceEvent::Spawned { task: id, name: n } => write!(f, "spawn {}", TaskLabel(id, n)),
        TraceEvent::Woken { task: id, by } => match by {
            WakeCause::Task(by) if by == id => write!(f, "{} woken by itself (yield)", task(id)),
            WakeCause::Task(by) => write!(f, "{} woken by {}", task(id), task(by)),
            by => write!(f, "{} woken by {by}", task(id)),
        },
        TraceEvent::Polled { task: id } => write!(f, "poll {}", task(id)),
        TraceEvent::Pending { task: id, waits } => {
            write!(f, "{} pending: ", task(id))?;
            if waits.is_empty() {
                return f.write_str("on nothing the loop knows (its waker is held elsewhere)");
            }
            for (i, w) in waits.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{w}")?;
            }
            Ok(())
        }
        TraceEvent::Completed { task: id } => write!(f, "{} completed", task(id)),
        TraceEvent::Aborted { task: id } => write!(f, "{} aborted", task(id)),
        TraceEvent::Panicked { task: id } => write!(f, "{} panicked", task(id)),
        TraceEvent::Wait {
            backend,
            fds,
            timeout,
        } => {
            write!(f, "wait {backend}([")?;
            for (i, (fd, events)) in fds.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{fd} {events}")?;
            }
            match timeout {
                Some(t) => write!(f, "], timeout {})", Secs(t)),
                None => f.write_str("], no timeout)"),
            }
        }
        TraceEvent::Waited {
            blocked,
            ready,
            failed,
        } => {
            write!(f, "waited {}: {ready} ready", Secs(blocked))?;
            if failed {
                f.write_str(" (the wait failed; backing off 1 ms)")?;
            }
            Ok(())
        }
        TraceEvent::Ready { fd, revents, woken } => {
            write!(f, "fd {fd} revents {revents}, woke {woken}")
        }
        TraceEvent::Notified => f.write_str("notifier fired: woken from another thread"),
        TraceEvent::FdNamed { fd, what } => write!(f, "fd {fd} is {what}"),
        TraceEvent::Syscall { fd, op, result } => write!(f, "{op} fd {fd} -> {result}"),
        TraceEvent::Interrupted { signal: None } => f.write_str("wait interrupted (EINTR)"),
        TraceEvent::Interrupted { signal: Some(s) } => {
            write!(f, "wait interrupted (EINTR) by signal {s}")?;
            match signal_name(s) {
                Some(name) => write!(f, " ({name})"),
                None => Ok(()),
            }
        }
        TraceEvent::TimerFired { late, .. } => write!(f, "timer fired {} late", Secs(late)),
        TraceEvent::ClockJump { from, to } => {
            write!(f, "virtual clock jumps ahead {}", Secs(to - from))
        }
    }
}

impl fmt::Display for SyscallResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SyscallResult::Bytes(n) => write!(f, "{n} B"),
            SyscallResult::Accepted { fd, peer: Some(p) } => write!(f, "fd {fd} from {p}"),
            SyscallResult::Accepted { fd, peer: None } => write!(f, "fd {fd}"),
            SyscallResult::Failed(e) => write!(f, "{}", ErrnoName(e)),
        }
    }
}

/// An errno's symbolic name (the ones a socket leaf meets), else `errno N`.
struct ErrnoName(i32);

impl fmt::Display for ErrnoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use rustix::io::Errno;
        let e = Errno::from_raw_os_error(self.0);
        let name = match e {
            Errno::AGAIN => "EAGAIN",
            Errno::INTR => "EINTR",
            Errno::PIPE => "EPIPE",
            Errno::CONNRESET => "ECONNRESET",
            Errno::CONNREFUSED => "ECONNREFUSED",
            Errno::CONNABORTED => "ECONNABORTED",
            Errno::NOTCONN => "ENOTCONN",
            Errno::MFILE => "EMFILE",
            Errno::NFILE => "ENFILE",
            Errno::BADF => "EBADF",
            _ => return write!(f, "errno {}", self.0),
        };
        f.write_str(name)
    }
}

/// The usual name of a signal number (Linux numbering), for trace lines.
fn signal_name(signo: i32) -> Option<&'static str> {
    Some(match signo {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        10 => "SIGUSR1",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        17 => "SIGCHLD",
        28 => "SIGWINCH",
        _ => return None,
    })
}

/// Writes `s` as a JSON string.
fn json_str(f: &mut dyn Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

fn json_wait(f: &mut dyn Write, w: &PendingOn) -> fmt::Result {
    match *w {
        PendingOn::Fd { fd, interest } => write!(
            f,
            r#"{{"kind":"fd","fd":{fd},"interest":"{}"}}"#,
            interest.name()
        ),
        PendingOn::Timer { deadline, due_in } => write!(
            f,
            r#"{{"kind":"timer","deadline_ns":{},"due_in_ns":{}}}"#,
            deadline.as_nanos(),
            due_in.as_nanos()
        ),
    }
}

fn json_cause(f: &mut dyn Write, by: &WakeCause) -> fmt::Result {
    match *by {
        WakeCause::Fd { fd, revents } => {
            write!(f, r#"{{"kind":"fd","fd":{fd},"revents":"{revents}"}}"#)
        }
        WakeCause::Task(id) => write!(f, r#"{{"kind":"task","task":{id}}}"#),
        WakeCause::Timer => f.write_str(r#"{"kind":"timer"}"#),
        WakeCause::CrossThread => f.write_str(r#"{"kind":"cross_thread"}"#),
        WakeCause::CallSoon => f.write_str(r#"{"kind":"call_soon"}"#),
        WakeCause::Spawn => f.write_str(r#"{"kind":"spawn"}"#),
        WakeCause::Other => f.write_str(r#"{"kind":"other"}"#),
    }
}

impl TraceEvent<'_> {
    /// The event's kind as the JSON `"event"` field names it (`"wait"`, `"woken"`, ...).
    ///
    /// ```
    /// use readyloop::trace::TraceEvent;
    /// assert_eq!(TraceEvent::TurnStart { turn: 1 }.kind(), "turn");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            TraceEvent::TurnStart { .. } => "turn",
            TraceEvent::Callback => "callback",
            TraceEvent::Spawned { .. } => "spawned",
            TraceEvent::Woken { .. } => "woken",
            TraceEvent::Polled { .. } => "polled",
            TraceEvent::Pending { .. } => "pending",
            TraceEvent::Completed { .. } => "completed",
            TraceEvent::Aborted { .. } => "aborted",
            TraceEvent::Panicked { .. } => "panicked",
            TraceEvent::Wait { .. } => "wait",
            TraceEvent::Waited { .. } => "waited",
            TraceEvent::Ready { .. } => "ready",
            TraceEvent::Notified => "notified",
            TraceEvent::FdNamed { .. } => "fd_named",
            TraceEvent::Syscall { .. } => "syscall",
            TraceEvent::Interrupted { .. } => "interrupted",
            TraceEvent::TimerFired { .. } => "timer_fired",
            TraceEvent::ClockJump { .. } => "clock_jump",
        }
    }

    /// Writes the event as one JSON object (no newline), stamped with `at`.
    ///
    /// ```
    /// use readyloop::trace::{TraceEvent, WakeCause};
    /// use readyloop::Instant;
    /// let mut s = String::new();
    /// let ev = TraceEvent::Woken { task: 3, by: WakeCause::Timer };
    /// ev.write_json(Instant::from_nanos(5), &mut s).unwrap();
    /// assert_eq!(s, r#"{"at_ns":5,"event":"woken","task":3,"by":{"kind":"timer"}}"#);
    /// ```
    pub fn write_json(&self, at: Instant, f: &mut dyn Write) -> fmt::Result {
        write!(
            f,
            r#"{{"at_ns":{},"event":"{}""#,
            at.as_nanos(),
            self.kind()
        )?;
        match *self {
            TraceEvent::TurnStart { turn } => write!(f, r#","turn":{turn}"#)?,
            TraceEvent::Callback | TraceEvent::Notified => {}
            TraceEvent::Spawned { task, name } => {
                write!(f, r#","task":{task},"name":"#)?;
                match name {
                    Some(n) => json_str(f, n)?,
                    None => f.write_str("null")?,
                }
            }
            TraceEvent::Woken { task, by } => {
                write!(f, r#","task":{task},"by":"#)?;
                json_cause(f, &by)?;
            }
            TraceEvent::Polled { task }
            | TraceEvent::Completed { task }
            | TraceEvent::Aborted { task }
            | TraceEvent::Panicked { task } => write!(f, r#","task":{task}"#)?,
            TraceEvent::Pending { task, waits } => {
                write!(f, r#","task":{task},"waits":["#)?;
                for (i, w) in waits.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    json_wait(f, w)?;
                }
                f.write_char(']')?;
            }
            TraceEvent::Wait {
                backend,
                fds,
                timeout,
            } => {
                write!(f, r#","backend":"{backend}","fds":["#)?;
                for (i, (fd, events)) in fds.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, r#"{{"fd":{fd},"events":"{events}"}}"#)?;
                }
                match timeout {
                    Some(t) => write!(f, r#"],"timeout_ns":{}"#, t.as_nanos())?,
                    None => f.write_str(r#"],"timeout_ns":null"#)?,
                }
            }
            TraceEvent::Waited {
                blocked,
                ready,
                failed,
            } => write!(
                f,
                r#","blocked_ns":{},"ready":{ready},"failed":{failed}"#,
                blocked.as_nanos()
            )?,
            TraceEvent::Ready { fd, revents, woken } => {
                write!(f, r#","fd":{fd},"revents":"{revents}","woken":{woken}"#)?
            }
            TraceEvent::FdNamed { fd, what } => {
                write!(f, r#","fd":{fd},"what":"#)?;
                json_str(f, what)?;
            }
            TraceEvent::Syscall { fd, op, result } => {
                write!(f, r#","fd":{fd},"op":"{op}","result":"#)?;
                match result {
                    SyscallResult::Bytes(n) => write!(f, r#"{{"bytes":{n}}}"#)?,
                    SyscallResult::Accepted { fd, peer } => {
                        write!(f, r#"{{"fd":{fd},"peer":"#)?;
                        match peer {
                            Some(p) => write!(f, r#""{p}"}}"#)?,
                            None => f.write_str("null}")?,
                        }
                    }
                    SyscallResult::Failed(e) => {
                        write!(f, r#"{{"errno":{e},"error":"{}"}}"#, ErrnoName(e))?
                    }
                }
            }
            TraceEvent::Interrupted { signal } => match signal {
                Some(s) => write!(f, r#","signal":{s}"#)?,
                None => f.write_str(r#","signal":null"#)?,
            },
            TraceEvent::TimerFired { deadline, late } => write!(
                f,
                r#","deadline_ns":{},"late_ns":{}"#,
                deadline.as_nanos(),
                late.as_nanos()
            )?,
            TraceEvent::ClockJump { from, to } => write!(
                f,
                r#","from_ns":{},"to_ns":{}"#,
                from.as_nanos(),
                to.as_nanos()
            )?,
        }
        f.write_char('}')
    }
}
