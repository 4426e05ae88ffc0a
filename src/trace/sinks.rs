//! The `std` sinks: readable lines and JSON Lines, written to any `io::Write`.
//!
//! Both keep the names given at spawn (from `Spawned` events) so later lines can say
//! `task 7 (handler)`. A write error is remembered and ends the output; it never reaches the
//! loop. These sinks never call into the loop.

use super::format::write_line;
use super::{TraceEvent, TraceSink};
use crate::time::Instant;
use alloc::collections::BTreeMap;
use alloc::string::String;
use std::io::Write;

/// Names of live tasks, filled from `Spawned` events and emptied when they finish.
#[derive(Debug, Default)]
struct Names(BTreeMap<u64, String>);

impl Names {
    /// Learns a name (call before writing the event's line).
    fn learn(&mut self, event: &TraceEvent<'_>) {
        if let TraceEvent::Spawned {
            task,
            name: Some(name),
        } = *event
        {
            self.0.insert(task, String::from(name));
        }
    }

    /// Forgets a finished task's name (call after writing the event's line).
    fn forget(&mut self, event: &TraceEvent<'_>) {
        match *event {
            TraceEvent::Completed { task }
            | TraceEvent::Aborted { task }
            | TraceEvent::Panicked { task } => {
                self.0.remove(&task);
            }
            _ => {}
        }
    }

    fn get(&self, task: u64) -> Option<&str> {
        self.0.get(&task).map(String::as_str)
    }
}

/// Writes one readable line per event: the time since the first event, the turn, the event.
///
/// ```text
///     0.000203 s  turn 3     turn 3
///     0.000210 s  turn 3         wait poll([3 IN, 6 IN], timeout 0.499788 s)
///     0.500101 s  turn 3         waited 0.499862 s: 0 ready
///     0.500116 s  turn 3           timer fired 0.000005 s late
///     0.500190 s  turn 4         task 2 (sleeper) woken by its timer
/// ```
///
/// ```
/// use readyloop::{trace::Lines, Loop};
/// let lp = Loop::builder().trace(Lines::new(Vec::new())).build().unwrap();
/// lp.block_on(readyloop::yield_now());
/// ```
#[derive(Debug)]
pub struct Lines<W: Write> {
    out: W,
    start: Option<Instant>,
    turn: u64,
    names: Names,
    line: String,
    failed: bool,
}

impl<W: Write> Lines<W> {
    /// Lines written to `out`.
    ///
    /// ```
    /// let sink = readyloop::trace::Lines::new(Vec::<u8>::new());
    /// assert!(sink.into_inner().is_empty());
    /// ```
    pub fn new(out: W) -> Self {
        Lines {
            out,
            start: None,
            turn: 0,
            names: Names::default(),
            line: String::new(),
            failed: false,
        }
    }

    /// The writer, back (for a `Vec<u8>` after the loop is done).
    ///
    /// ```
    /// use readyloop::trace::{Lines, TraceEvent, TraceSink};
    /// let mut sink = Lines::new(Vec::new());
    /// sink.record(readyloop::Instant::from_nanos(0), &TraceEvent::TurnStart { turn: 1 });
    /// let text = String::from_utf8(sink.into_inner()).unwrap();
    /// assert!(text.ends_with("--- turn 1 ---\n"), "{text}");
    /// ```
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl Lines<std::io::Stderr> {
    /// Lines written to standard error (the usual choice).
    ///
    /// ```
    /// let lp = readyloop::Loop::builder().trace(readyloop::trace::Lines::stderr()).build();
    /// # drop(lp);
    /// ```
    pub fn stderr() -> Self {
        Lines::new(std::io::stderr())
    }
}

impl<W: Write> TraceSink for Lines<W> {
    fn record(&mut self, at: Instant, event: &TraceEvent<'_>) {
        if self.failed {
            return;
        }
        self.names.learn(event);
        if let TraceEvent::TurnStart { turn } = *event {
            self.turn = turn;
        }
        let start = *self.start.get_or_insert(at);
        self.line.clear();
        let indent = match event {
            TraceEvent::TurnStart { .. } => "",
            TraceEvent::Ready { .. } | TraceEvent::TimerFired { .. } => "      ",
            _ => "    ",
        };
        let names = &self.names;
        let since = at - start;
        let _ = core::fmt::Write::write_fmt(
            &mut self.line,
            format_args!(
                "{:>5}.{:06} s  turn {:<5} {indent}",
                since.as_secs(),
                since.subsec_micros(),
                self.turn
            ),
        );
        let _ = write_line(event, &mut self.line, &|id| names.get(id));
        self.line.push('\n');
        self.names.forget(event);
        self.failed = self.out.write_all(self.line.as_bytes()).is_err();
    }
}

/// Writes one JSON object per line (JSON Lines), stamped with the loop clock in ns.
///
/// ```
/// use readyloop::{trace::JsonLines, Loop};
/// use std::{cell::RefCell, io::Write, rc::Rc};
///
/// #[derive(Clone, Default)]
/// struct Shared(Rc<RefCell<Vec<u8>>>);
/// impl Write for Shared {
///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.borrow_mut().write(b) }
///     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// }
/// let out = Shared::default();
/// let lp = Loop::builder().trace(JsonLines::new(out.clone())).build().unwrap();
/// lp.block_on(readyloop::yield_now());
/// let text = String::from_utf8(out.0.borrow().clone()).unwrap();
/// assert!(text.lines().all(|l| l.starts_with(r#"{"at_ns":"#) && l.ends_with('}')));
/// assert!(text.contains(r#""event":"wait""#));
/// ```
#[derive(Debug)]
pub struct JsonLines<W: Write> {
    out: W,
    line: String,
    failed: bool,
}

impl<W: Write> JsonLines<W> {
    /// JSON Lines written to `out`.
    ///
    /// ```
    /// let sink = readyloop::trace::JsonLines::new(Vec::<u8>::new());
    /// assert!(sink.into_inner().is_empty());
    /// ```
    pub fn new(out: W) -> Self {
        JsonLines {
            out,
            line: String::new(),
            failed: false,
        }
    }

    /// The writer, back.
    ///
    /// ```
    /// use readyloop::trace::{JsonLines, TraceEvent, TraceSink};
    /// let mut sink = JsonLines::new(Vec::new());
    /// sink.record(readyloop::Instant::from_nanos(9), &TraceEvent::Notified);
    /// let text = String::from_utf8(sink.into_inner()).unwrap();
    /// assert_eq!(text, "{\"at_ns\":9,\"event\":\"notified\"}\n");
    /// ```
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl JsonLines<std::io::Stderr> {
    /// JSON Lines written to standard error.
    ///
    /// ```
    /// let lp = readyloop::Loop::builder().trace(readyloop::trace::JsonLines::stderr()).build();
    /// # drop(lp);
    /// ```
    pub fn stderr() -> Self {
        JsonLines::new(std::io::stderr())
    }
}

impl<W: Write> TraceSink for JsonLines<W> {
    fn record(&mut self, at: Instant, event: &TraceEvent<'_>) {
        if self.failed {
            return;
        }
        self.line.clear();
        let _ = event.write_json(at, &mut self.line);
        self.line.push('\n');
        self.failed = self.out.write_all(self.line.as_bytes()).is_err();
    }
}
