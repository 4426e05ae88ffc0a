//! What a timer leaf (`Sleep`, `Interval`, `timeout`) asks of its loop: file a deadline with
//! the task's waker in the loop's timers, move it, cancel it. A waker is cloned and dropped
//! only outside the timers' borrow (user code may run).

use super::Handle;
use crate::task::NewWaker;
use crate::time::Instant;
use crate::timers::TimerKey;
use crate::trace::PendingOn;
use alloc::sync::Arc;
use core::task::Waker;
use core::time::Duration;

impl Handle {
    #[inline]
    pub(crate) fn timer_insert(
        &self,
        deadline: u64,
        waker: &Waker,
        origin: Option<crate::report::TimerOrigin>,
    ) -> TimerKey {
        let now = self.core.now.get();
        self.note_timer(deadline);
        // Made and dropped outside the timers' borrow (see `register_io`).
        let mut waker = NewWaker::new(waker, Arc::as_ptr(&self.core.shared));
        let key = self
            .core
            .timers
            .borrow_mut()
            .insert(deadline, &mut waker, now, origin);
        drop(waker);
        key
    }

    fn note_timer(&self, deadline: u64) {
        self.core.note_pending_on(|| PendingOn::Timer {
            deadline: Instant(deadline),
            due_in: Duration::from_nanos(deadline.saturating_sub(self.core.clock_now())),
        });
    }

    pub(crate) fn timer_is_armed(&self, key: TimerKey) -> bool {
        self.core.timers.borrow().is_armed(key)
    }

    pub(crate) fn timer_update(&self, key: TimerKey, waker: &Waker) {
        let mut waker = NewWaker::new(waker, Arc::as_ptr(&self.core.shared));
        let updated = self.core.timers.borrow_mut().update_waker(key, &mut waker);
        drop(waker);
        if let Some((deadline, retired)) = updated {
            // Dropped after the borrow ends: a waker's `Drop` may re-enter the loop.
            drop(retired);
            self.note_timer(deadline);
        }
    }

    /// Moves an armed timer to `deadline` with the waker it holds; `None` if it is no
    /// longer armed (see `Timers::reset`).
    pub(crate) fn timer_reset(&self, key: TimerKey, deadline: u64) -> Option<TimerKey> {
        let now = self.core.now.get();
        self.core.timers.borrow_mut().reset(key, deadline, now)
    }

    pub(crate) fn timer_cancel(&self, key: TimerKey) {
        let retired = match self.core.timers.try_borrow_mut() {
            Ok(mut t) => t.cancel(key),
            Err(_) => None,
        };
        drop(retired);
    }
}
