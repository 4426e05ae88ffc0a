//! `Handle::call_soon`'s side of the turn: the callbacks queued before a turn began run at
//! its start (later ones wait a turn), each as the cause of the wakes it makes. A callback
//! is user code: no borrow of the queue is held while it runs.

use super::Core;
use crate::stats::bump;
use crate::trace::{TraceEvent, WakeCause};

impl Core {
    /// Runs the callbacks queued before this turn began (later ones wait a turn).
    pub(super) fn run_callbacks<const TRACED: bool>(&self) {
        let queued = self.callbacks.borrow().len();
        for _ in 0..queued {
            let Some(callback) = self.callbacks.borrow_mut().pop_front() else {
                break;
            };
            bump(&self.counters.callbacks, 1);
            self.trace_if::<TRACED>(|| TraceEvent::Callback);
            self.waking_as_if::<TRACED, _>(WakeCause::CallSoon, callback);
        }
    }
}
