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
//!
//! This file holds what a turn uses (`insert`, `next_deadline`, `fire`); changing a timer
//! before it fires is `timers/changes.rs`, renumbering `timers/renumber.rs`, the views for
//! reports `timers/inspect.rs`. No waker is ever called or dropped here.

mod changes;
mod inspect;
mod renumber;

use crate::report::TimerOrigin;
use crate::task::NewWaker;
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
}

#[cfg(test)]
mod tests;
