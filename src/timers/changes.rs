//! Changing an armed timer before it fires: cancel it, move it (`reset`), swap its waker.
//! A waker taken out goes back to the caller, never dropped under the timers' borrow (its
//! `Drop` is user code). Cancelling leaves a stale heap entry; `compact_if_stale` bounds them.

use super::{Slot, TimerKey, Timers};
use crate::task::{same_waker, NewWaker};
use core::cmp::Reverse;
use core::task::Waker;

impl Timers {
    /// Moves an armed timer to `deadline`, keeping the waker its owner's pending poll
    /// registered (dropping it would leave that task waiting on nothing). Returns the new
    /// key, or `None` if the timer already fired or was cancelled: its waker was then
    /// already called (or nobody waits), and the owner arms afresh at its next poll.
    pub(crate) fn reset(&mut self, key: TimerKey, deadline: u64, now: u64) -> Option<TimerKey> {
        let origin = self.slot(key)?.origin;
        let waker = self.cancel(key)?;
        Some(self.arm(deadline, waker, now, origin))
    }

    fn slot(&mut self, key: TimerKey) -> Option<&mut Slot> {
        self.slots
            .get_mut(key.slot as usize)
            .filter(|s| s.holds(key.generation))
    }

    /// True while the timer has not fired or been cancelled.
    pub(crate) fn is_armed(&self, key: TimerKey) -> bool {
        self.slots
            .get(key.slot as usize)
            .is_some_and(|s| s.holds(key.generation))
    }

    /// Replaces the waker of an armed timer (the task moved or the waker changed); returns
    /// its deadline if it is still armed, and the waker it replaced, for the caller to drop
    /// once its borrow of the timers has ended (a waker's `Drop` may re-enter the loop).
    pub(crate) fn update_waker(
        &mut self,
        key: TimerKey,
        waker: &mut NewWaker<'_>,
    ) -> Option<(u64, Option<Waker>)> {
        let s = self.slot(key)?;
        let mut retired = None;
        if !s.waker.as_ref().is_some_and(|w| same_waker(w, waker.get())) {
            retired = s.waker.replace(waker.take());
        }
        Some((s.deadline, retired))
    }

    /// Disarms the timer (no effect if it already fired). Returns its waker, for the caller
    /// to drop once its borrow of the timers has ended.
    #[must_use = "drop the waker after the timers' borrow ends"]
    pub(crate) fn cancel(&mut self, key: TimerKey) -> Option<Waker> {
        let s = self.slot(key)?;
        let waker = s.waker.take();
        s.generation = s.generation.wrapping_add(1);
        self.free.push(key.slot);
        self.live -= 1;
        self.compact_if_stale();
        waker
    }

    fn compact_if_stale(&mut self) {
        if self.heap.len() > 1024 && self.heap.len() > 4 * self.live {
            self.compact();
        }
    }

    /// Drops the stale entries: filtered, then heapified whole (`BinaryHeap::retain` would
    /// pick between that and re-sifting the tail, with more code: with three quarters of
    /// the entries stale, it rebuilds anyway). Out of line: `cancel` is on the hot path.
    #[cold]
    #[inline(never)]
    fn compact(&mut self) {
        let mut entries = core::mem::take(&mut self.heap).into_vec();
        entries.retain(|Reverse(e)| !self.is_stale(*e));
        self.heap = alloc::collections::BinaryHeap::from(entries);
    }
}
