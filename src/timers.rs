//! The sleepers: a binary heap of deadlines, nearest first (seed 002 keeps a sorted list).
//!
//! Each timer has a slot (its waker, its deadline, a generation for its owner's key, and the
//! sequence number of its arming); the heap holds 16-byte entries packing (deadline,
//! sequence, slot) into one `u128`, so ordering is one integer comparison and a pair of
//! siblings spans 32 bytes. Cancelling frees the slot, which turns its heap entry stale
//! (lazy deletion): an entry is live only while its slot is armed with the same sequence
//! number. Stale entries are skipped when they surface, and the heap is compacted if they
//! pile up. The sequence number makes equal deadlines fire in the order they were set; it is
//! 32 bits, and when it runs out the heap is renumbered in order (dropping stale entries), so
//! numbers are unique among the entries present and ties keep their order. Slots are
//! reused, so a re-armed timer allocates nothing.

use crate::report::TimerOrigin;
use crate::task::{same_waker, NewWaker};
use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::task::Waker;

/// Identifies one armed timer to its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    slot: u32,
    generation: u32,
}

#[derive(Debug)]
struct Slot {
    /// Bumped whenever the slot is freed, so an old key no longer matches.
    generation: u32,
    /// The sequence number of the arming that holds the slot (matches its heap entry).
    sequence: u32,
    deadline: u64,
    since: u64,
    /// Some while armed.
    waker: Option<Waker>,
    /// What armed it and where, for reports.
    origin: Option<TimerOrigin>,
}

impl Slot {
    fn holds(&self, generation: u32) -> bool {
        self.waker.is_some() && self.generation == generation
    }
}

/// A heap entry: deadline in the high 64 bits, then sequence, then slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry(u128);

impl Entry {
    fn new(deadline: u64, sequence: u32, slot: u32) -> Self {
        Entry((deadline as u128) << 64 | (sequence as u128) << 32 | slot as u128)
    }

    fn deadline(self) -> u64 {
        (self.0 >> 64) as u64
    }

    fn sequence(self) -> u32 {
        (self.0 >> 32) as u32
    }

    fn slot(self) -> u32 {
        self.0 as u32
    }
}

/// What [`Timers::for_each`] calls: (key, deadline, since, waker, origin).
pub(crate) type TimerVisitor<'a> = dyn FnMut(TimerKey, u64, u64, &Waker, Option<TimerOrigin>) + 'a;

/// The deadline heap.
#[derive(Debug)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<Entry>>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// The sequence number of the next arming.
    sequence: u32,
    live: usize,
}

impl Timers {
    pub(crate) fn new() -> Self {
        Timers {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            sequence: 0,
            live: 0,
        }
    }

    /// Arms a timer for `deadline` (ns on the loop clock).
    pub(crate) fn insert(
        &mut self,
        deadline: u64,
        waker: &mut NewWaker<'_>,
        now: u64,
        origin: Option<TimerOrigin>,
    ) -> TimerKey {
        let waker = waker.take();
        self.arm(deadline, waker, now, origin)
    }

    /// Moves an armed timer to `deadline`, keeping the waker its owner's pending poll
    /// registered (dropping it would leave that task waiting on nothing). Returns the new
    /// key, or `None` if the timer already fired or was cancelled: its waker was then
    /// already called (or nobody waits), and the owner arms afresh at its next poll.
    pub(crate) fn reset(&mut self, key: TimerKey, deadline: u64, now: u64) -> Option<TimerKey> {
        let origin = self.slot(key)?.origin;
        let waker = self.cancel(key)?;
        Some(self.arm(deadline, waker, now, origin))
    }

    /// Arms a slot with `waker` (already a local copy).
    fn arm(
        &mut self,
        deadline: u64,
        waker: Waker,
        now: u64,
        origin: Option<TimerOrigin>,
    ) -> TimerKey {
        if self.sequence == u32::MAX {
            self.renumber();
        }
        let sequence = self.sequence;
        self.sequence += 1;
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    sequence: 0,
                    deadline: 0,
                    since: 0,
                    waker: None,
                    origin: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[slot as usize];
        s.sequence = sequence;
        s.deadline = deadline;
        s.since = now;
        s.waker = Some(waker);
        s.origin = origin;
        self.live += 1;
        let key = TimerKey {
            slot,
            generation: s.generation,
        };
        self.heap
            .push(Reverse(Entry::new(deadline, sequence, slot)));
        key
    }

    /// Gives every live entry a new sequence number in heap order, from zero, and drops the
    /// stale ones (when the 32-bit numbers run out: about once per four billion armings).
    #[cold]
    fn renumber(&mut self) {
        // The heap's own order, read back nearest last (`Reverse`), then turned around:
        // ascending (deadline, sequence), since every number was given in this epoch. (No
        // separate sort: the heap's sifting is linked anyway, a sort would not be.)
        let mut entries = core::mem::take(&mut self.heap).into_sorted_vec();
        entries.reverse();
        entries.retain(|Reverse(e)| !self.is_stale(*e));
        for (sequence, Reverse(e)) in entries.iter_mut().enumerate() {
            let sequence = sequence as u32;
            self.slots[e.slot() as usize].sequence = sequence;
            *e = Entry::new(e.deadline(), sequence, e.slot());
        }
        self.sequence = entries.len() as u32;
        self.heap = BinaryHeap::from(entries);
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

    fn disarm_fired(&mut self, slot: u32) -> Option<Waker> {
        let s = &mut self.slots[slot as usize];
        s.generation = s.generation.wrapping_add(1);
        self.free.push(slot);
        self.live -= 1;
        s.waker.take()
    }

    fn is_stale(&self, e: Entry) -> bool {
        let s = &self.slots[e.slot() as usize];
        s.waker.is_none() || s.sequence != e.sequence()
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
        self.heap = BinaryHeap::from(entries);
    }

    /// The nearest armed deadline.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        while let Some(&Reverse(top)) = self.heap.peek() {
            if self.is_stale(top) {
                self.heap.pop();
            } else {
                return Some(top.deadline());
            }
        }
        None
    }

    /// Whether a heap entry (perhaps a stale one) is due at `now`: if not, `fire` would do
    /// nothing.
    #[inline]
    pub(crate) fn any_due(&self, now: u64) -> bool {
        self.heap
            .peek()
            .is_some_and(|Reverse(top)| top.deadline() <= now)
    }

    /// Fires every timer due at `now`, in deadline order (FIFO among equals), handing
    /// their wakers to `wake` and each deadline to `on_fire` (for traces). Returns how many
    /// fired.
    pub(crate) fn fire(
        &mut self,
        now: u64,
        wake: &mut Vec<Waker>,
        mut on_fire: impl FnMut(u64),
    ) -> usize {
        let mut fired = 0;
        while let Some(&Reverse(top)) = self.heap.peek() {
            if top.deadline() > now {
                break;
            }
            self.heap.pop();
            if self.is_stale(top) {
                continue;
            }
            fired += 1;
            if let Some(w) = self.disarm_fired(top.slot()) {
                on_fire(top.deadline());
                wake.push(w);
            }
        }
        fired
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    fn fire_all(t: &mut Timers) -> Vec<u64> {
        let mut out = Vec::new();
        let mut wake = Vec::new();
        t.fire(u64::MAX - 1, &mut wake, |d| out.push(d));
        out
    }

    #[test]
    fn stale_entries_are_compacted_away_and_the_live_ones_fire_in_order() {
        let noop = Waker::noop();
        let w = &mut NewWaker::new(noop, core::ptr::null());
        let mut t = Timers::new();
        // Deadlines in a scrambled order, ties among them.
        let keys: Vec<(u64, TimerKey)> = (0..2000u64)
            .map(|i| {
                let deadline = (i * 7919) % 1000;
                (deadline, t.insert(deadline, w, 0, None))
            })
            .collect();
        let mut kept = Vec::new();
        for (i, (deadline, key)) in keys.into_iter().enumerate() {
            if i % 20 == 0 {
                kept.push(deadline);
            } else {
                drop(t.cancel(key));
            }
        }
        // 100 live among 2000: the heap was compacted (more than 1024 entries, 4x live).
        assert!(t.heap.len() < 500, "{} entries", t.heap.len());
        assert_eq!(t.len(), 100);
        kept.sort();
        assert_eq!(fire_all(&mut t), kept);
    }

    #[test]
    fn running_out_of_sequence_numbers_keeps_order_and_keys() {
        let noop = Waker::noop();
        let w = &mut NewWaker::new(noop, core::ptr::null());
        let mut t = Timers::new();
        t.sequence = u32::MAX - 3;
        let a = t.insert(50, w, 0, None);
        let b = t.insert(10, w, 0, None);
        let c = t.insert(50, w, 0, None);
        drop(t.cancel(b));
        // The next arming renumbers: the stale entry goes, a and c keep their order.
        let d = t.insert(50, w, 0, None);
        assert_eq!(t.heap.len(), 3);
        assert!(t.sequence < 10);
        assert!(t.is_armed(a) && t.is_armed(c) && t.is_armed(d) && !t.is_armed(b));
        let slots: Vec<u32> = {
            let mut v: Vec<Entry> = t.heap.iter().map(|r| r.0).collect();
            v.sort();
            v.iter().map(|e| e.slot()).collect()
        };
        assert_eq!(slots, [a.slot, c.slot, d.slot]);
        assert_eq!(fire_all(&mut t), [50, 50, 50]);
        assert_eq!(t.len(), 0);
    }
}
