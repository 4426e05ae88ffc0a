//! What one turn did, as [`Loop::step`](crate::Loop::step) returns it: the trace events of
//! that turn, gathered into one owned value.
//!
//! A [`TurnRecord`] is filled by the same hooks that feed every trace sink (the tracer copies
//! each event of a stepped turn into it), so stepping and tracing cannot disagree about what
//! a turn did. This module only collects; it never calls into the loop.

use super::format::{write_line, Secs};
use super::{PendingOn, Readiness, TraceEvent, WakeCause};
use crate::sys::backend::BackendKind;
use crate::sys::RawFd;
use crate::time::Instant;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

/// The one wait of a turn: what the loop handed the kernel and what came back.
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::builder().stepping().build().unwrap();
/// let h = lp.handle();
/// h.spawn({ let h = h.clone(); async move { h.sleep(Duration::from_millis(5)).await } });
/// // The task runs and files its timer; the wait then sleeps until the deadline.
/// let wait = lp.step().unwrap().wait.unwrap();
/// assert!(wait.timeout.is_some());
/// assert_eq!(wait.ready, 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitRecord {
    /// The system call.
    pub backend: BackendKind,
    /// Each fd with the events asked for (the loop's notifier included when it was in).
    pub fds: Vec<(RawFd, Readiness)>,
    /// The timeout asked (`None`: until an fd is ready).
    pub timeout: Option<Duration>,
    /// How long the wait blocked.
    pub blocked: Duration,
    /// How many fds it reported.
    pub ready: usize,
    /// The wait failed (the loop backed off for a millisecond).
    pub failed: bool,
    /// Each fd it reported, its `revents`, and how many waiters that woke.
    pub revents: Vec<(RawFd, Readiness, usize)>,
    /// The loop's notifier fired (a wake from another thread or a signal).
    pub notified: bool,
}

/// What one turn of the loop did, in the order it did it (see [`Loop::step`](crate::Loop::step)).
///
/// `woken` lists the tasks this turn took to run and what queued them (a wake made by the
/// previous turn's fds or timers is taken here); the wakes this turn's own wait caused show
/// as `wait.revents` and `timers_fired`, and their tasks run in the next turn. `Display`
/// prints the turn as the trace's readable lines, one per event.
///
/// ```
/// let lp = readyloop::Loop::builder().stepping().build().unwrap();
/// lp.handle().spawn(async {});
/// let turn = lp.step().unwrap();
/// assert_eq!(turn.polled, [1]);
/// assert_eq!(turn.completed, [1]);
/// assert!(turn.to_string().contains("poll task 1"), "{turn}");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TurnRecord {
    /// The turn's number (turns are counted from 1 over the loop's life).
    pub turn: u64,
    /// `call_soon` callbacks run.
    pub callbacks: usize,
    /// Tasks spawned during the turn, with their names.
    pub spawned: Vec<(u64, Option<String>)>,
    /// Tasks taken to run, and what queued each.
    pub woken: Vec<(u64, WakeCause)>,
    /// Tasks polled, in order (task 0 is a `block_on` future).
    pub polled: Vec<u64>,
    /// Tasks that returned `Pending`, with what each filed with the loop while it ran.
    pub pending: Vec<(u64, Vec<PendingOn>)>,
    /// Tasks that finished (completed, aborted or panicked).
    pub completed: Vec<u64>,
    /// The wait (`None` only if the turn did not reach it).
    pub wait: Option<WaitRecord>,
    /// The timers that fired: deadline, and how late the loop noticed.
    pub timers_fired: Vec<(Instant, Duration)>,
    /// The virtual clock jumped ahead by this much.
    pub clock_jump: Option<Duration>,
    /// The turn's trace lines, as [`trace::Lines`](crate::trace::Lines) would print them
    /// (without time stamps).
    pub lines: Vec<String>,
}

impl TurnRecord {
    /// Adds one event of the turn.
    #[cfg_attr(not(feature = "trace"), allow(dead_code))]
    pub(crate) fn absorb(&mut self, event: &TraceEvent<'_>, names: &BTreeMap<u64, String>) {
        match *event {
            TraceEvent::TurnStart { turn } => self.turn = turn,
            TraceEvent::Callback => self.callbacks += 1,
            TraceEvent::Spawned { task, name } => {
                self.spawned.push((task, name.map(String::from)));
            }
            TraceEvent::Woken { task, by } => self.woken.push((task, by)),
            TraceEvent::Polled { task } => self.polled.push(task),
            TraceEvent::Pending { task, waits } => self.pending.push((task, waits.to_vec())),
            TraceEvent::Completed { task }
            | TraceEvent::Aborted { task }
            | TraceEvent::Panicked { task } => self.completed.push(task),
            TraceEvent::Wait {
                backend,
                fds,
                timeout,
            } => {
                self.wait = Some(WaitRecord {
                    backend,
                    fds: fds.to_vec(),
                    timeout,
                    blocked: Duration::ZERO,
                    ready: 0,
                    failed: false,
                    revents: Vec::new(),
                    notified: false,
                })
            }
            TraceEvent::Waited {
                blocked,
                ready,
                failed,
            } => {
                if let Some(w) = self.wait.as_mut() {
                    (w.blocked, w.ready, w.failed) = (blocked, ready, failed);
                }
            }
            TraceEvent::Ready { fd, revents, woken } => {
                if let Some(w) = self.wait.as_mut() {
                    w.revents.push((fd, revents, woken));
                }
            }
            TraceEvent::Notified => {
                if let Some(w) = self.wait.as_mut() {
                    w.notified = true;
                }
            }
            TraceEvent::TimerFired { deadline, late } => self.timers_fired.push((deadline, late)),
            TraceEvent::ClockJump { from, to } => self.clock_jump = Some(to - from),
            TraceEvent::FdNamed { .. }
            | TraceEvent::Interrupted { .. }
            | TraceEvent::Syscall { .. } => {}
        }
        let mut line = String::new();
        let name = |id| names.get(&id).map(String::as_str);
        let _ = write_line(event, &mut line, &name);
        self.lines.push(line);
    }
}

impl fmt::Display for TurnRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        if let Some(w) = &self.wait {
            write!(f, "(blocked {} in {})", Secs(w.blocked), w.backend)?;
        }
        Ok(())
    }
}
