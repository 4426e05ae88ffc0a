//! Read-only views of the timers for stats and stuck-task reports. Nothing here changes the
//! heap or calls a waker.

use super::{TimerKey, Timers};
use crate::report::TimerOrigin;
use core::task::Waker;

/// What [`Timers::for_each`] calls: (key, deadline, since, waker, origin).
pub(crate) type TimerVisitor<'a> = dyn FnMut(TimerKey, u64, u64, &Waker, Option<TimerOrigin>) + 'a;

impl Timers {
    /// Number of armed timers.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Calls `f` with (key, deadline, since, waker, origin) for every armed timer.
    pub(crate) fn for_each(&self, f: &mut TimerVisitor<'_>) {
        for (slot, s) in self.slots.iter().enumerate() {
            if let Some(w) = &s.waker {
                let key = TimerKey {
                    slot: slot as u32,
                    generation: s.generation,
                };
                f(key, s.deadline, s.since, w, s.origin);
            }
        }
    }
}
