//! The loop's side of tracing: the sink, scratch buffers for events that carry slices, and
//! the compact encoding of a [`WakeCause`] that a waker stores in its task's header.
//!
//! A `Tracer` exists only when tracing is on; the loop holds `Option<Box<Tracer>>`. Nothing
//! here is touched from another thread except [`encode`]d causes, which are plain `u64`s.

#[cfg(feature = "trace")]
use super::step::TurnRecord;
use super::{PendingOn, Readiness, TraceEvent, TraceSink, WakeCause};
use crate::sys::backend::ReadyFd;
use crate::sys::RawFd;
use crate::time::Instant;
use alloc::boxed::Box;
#[cfg(feature = "trace")]
use alloc::collections::BTreeMap;
#[cfg(feature = "trace")]
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

/// The tracer of one loop.
pub(crate) struct Tracer {
    /// Where events go. Borrowed for each event; an event the sink causes itself is dropped.
    sink: RefCell<Box<dyn TraceSink>>,
    /// What the task being polled filed with the loop during this poll.
    pub(crate) waits: RefCell<Vec<PendingOn>>,
    /// The cause of each waker in the loop's wake buffer, in the same order.
    pub(crate) causes: RefCell<Vec<u64>>,
    /// The fd set of the coming wait.
    pub(crate) fds: RefCell<Vec<(RawFd, Readiness)>>,
    /// The fds a dispatch reported (with how many wakers each released) and the deadlines
    /// of the timers that fired: noted while the reactor or the timers are borrowed, handed
    /// to the sink after (the sink is user code and may re-enter the loop).
    pub(crate) ready: RefCell<Vec<(ReadyFd, usize)>>,
    pub(crate) fired: RefCell<Vec<u64>>,
    /// The turn `Loop::step` is recording, if one is: every event goes here too. (Step
    /// mode is part of the `trace` feature: without it the fields and their code are out.)
    #[cfg(feature = "trace")]
    step: RefCell<Option<TurnRecord>>,
    /// Names of live named tasks, for the records' lines (kept once a step was taken).
    #[cfg(feature = "trace")]
    names: RefCell<Option<BTreeMap<u64, String>>>,
    /// The fds already named in this trace (`FdNamed`); one leaves when its registration
    /// is dropped, so a reused number is named again. Sorted (binary search): a `Vec`
    /// keeps the untraced build free of map code.
    pub(crate) named_fds: RefCell<Vec<RawFd>>,
    /// Labels given with `Async::label`, added to the fd's `FdNamed` line.
    /// Sorted by fd, like `named_fds`.
    pub(crate) labels: RefCell<Vec<(RawFd, &'static str)>>,
    /// `Builder::trace_syscalls`: the socket leaves report their syscalls.
    pub(crate) syscalls: core::cell::Cell<bool>,
}

impl core::fmt::Debug for Tracer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tracer").finish_non_exhaustive()
    }
}

impl Tracer {
    pub(crate) fn new(sink: Box<dyn TraceSink>) -> Self {
        Tracer {
            sink: RefCell::new(sink),
            waits: RefCell::new(Vec::new()),
            causes: RefCell::new(Vec::new()),
            fds: RefCell::new(Vec::new()),
            ready: RefCell::new(Vec::new()),
            fired: RefCell::new(Vec::new()),
            #[cfg(feature = "trace")]
            step: RefCell::new(None),
            #[cfg(feature = "trace")]
            names: RefCell::new(None),
            named_fds: RefCell::new(Vec::new()),
            syscalls: core::cell::Cell::new(false),
            labels: RefCell::new(Vec::new()),
        }
    }

    /// Starts recording the events of one turn (for `Loop::step`).
    /// Keeps task names from now on, for the lines of stepped turns.
    #[cfg(feature = "trace")]
    pub(crate) fn keep_names(&self) {
        self.names.borrow_mut().get_or_insert_with(BTreeMap::new);
    }

    #[cfg(feature = "trace")]
    pub(crate) fn start_step(&self) {
        self.keep_names();
        *self.step.borrow_mut() = Some(TurnRecord::default());
    }

    /// Stops recording and returns what was recorded since `start_step`.
    #[cfg(feature = "trace")]
    pub(crate) fn take_step(&self) -> TurnRecord {
        self.step.borrow_mut().take().unwrap_or_default()
    }

    /// Copies an event into the turn being stepped, and keeps task names for its lines
    /// (both only on a loop that was stepped).
    #[cfg(feature = "trace")]
    fn record_step(&self, event: &TraceEvent<'_>) {
        let Ok(mut names) = self.names.try_borrow_mut() else {
            return;
        };
        let Some(names) = names.as_mut() else {
            return;
        };
        if let TraceEvent::Spawned {
            task,
            name: Some(n),
        } = *event
        {
            names.insert(task, String::from(n));
        }
        if let Ok(mut step) = self.step.try_borrow_mut() {
            if let Some(record) = step.as_mut() {
                record.absorb(event, names);
            }
        }
        if let TraceEvent::Completed { task }
        | TraceEvent::Aborted { task }
        | TraceEvent::Panicked { task } = *event
        {
            names.remove(&task);
        }
    }

    /// Hands one event to the sink (dropped if the sink is busy: it caused this event).
    #[cold]
    #[inline(never)]
    pub(crate) fn emit(&self, at: Instant, event: &TraceEvent<'_>) {
        #[cfg(feature = "trace")]
        self.record_step(event);
        if let Ok(mut sink) = self.sink.try_borrow_mut() {
            sink.record(at, event);
        }
    }
}

const KIND_SHIFT: u32 = 56;
const PAYLOAD: u64 = (1 << KIND_SHIFT) - 1;
const OTHER: u64 = 0;
const FD: u64 = 1;
const TIMER: u64 = 2;
const CROSS_THREAD: u64 = 3;
const CALL_SOON: u64 = 4;
const TASK: u64 = 5;
const SPAWN: u64 = 6;

/// Packs a cause into a `u64` (kind in the top byte) so a waker can store it atomically.
pub(crate) fn encode(cause: WakeCause) -> u64 {
    let (kind, payload) = match cause {
        WakeCause::Other => (OTHER, 0),
        WakeCause::Fd { fd, revents } => (FD, (fd as u32 as u64) << 16 | revents.bits() as u64),
        WakeCause::Timer => (TIMER, 0),
        WakeCause::CrossThread => (CROSS_THREAD, 0),
        WakeCause::CallSoon => (CALL_SOON, 0),
        WakeCause::Task(id) => (TASK, id & PAYLOAD),
        WakeCause::Spawn => (SPAWN, 0),
    };
    kind << KIND_SHIFT | payload
}

/// The code a wake from another thread records.
pub(crate) const ENCODED_CROSS_THREAD: u64 = CROSS_THREAD << KIND_SHIFT;
// The task layer records this code without knowing the encoding (it sits below the tracer).
const _: () = assert!(ENCODED_CROSS_THREAD == crate::task::CROSS_THREAD_CAUSE);

/// Unpacks [`encode`].
pub(crate) fn decode(code: u64) -> WakeCause {
    let payload = code & PAYLOAD;
    match code >> KIND_SHIFT {
        FD => WakeCause::Fd {
            fd: (payload >> 16) as u32 as RawFd,
            revents: Readiness::from_bits_truncate(payload as u16),
        },
        TIMER => WakeCause::Timer,
        CROSS_THREAD => WakeCause::CrossThread,
        CALL_SOON => WakeCause::CallSoon,
        TASK => WakeCause::Task(payload),
        SPAWN => WakeCause::Spawn,
        _ => WakeCause::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_round_trip() {
        for cause in [
            WakeCause::Other,
            WakeCause::Fd {
                fd: 1023,
                revents: Readiness::IN | Readiness::HUP,
            },
            WakeCause::Timer,
            WakeCause::CrossThread,
            WakeCause::CallSoon,
            WakeCause::Task(0),
            WakeCause::Task(123_456_789),
            WakeCause::Spawn,
        ] {
            assert_eq!(decode(encode(cause)), cause);
        }
    }
}
