//! The sleepers: a binary heap of deadlines, nearest first (seed 002 keeps a sorted list).
//!
//! Each timer has a slot (its waker, its deadline, a generation); the heap holds
//! (deadline, sequence, slot, generation). Cancelling frees the slot and bumps its
//! generation, which turns the heap entry stale (lazy deletion); stale entries are skipped
//! when they surface, and the heap is compacted if they pile up. The sequence number makes
//! equal deadlines fire in the order they were set. Slots are reused, so a re-armed timer
//! allocates nothing.

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
    generation: u32,
    armed: bool,
    deadline: u64,
    since: u64,
    waker: Option<Waker>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    deadline: u64,
    sequence: u64,
    slot: u32,
    generation: u32,
}

/// The deadline heap.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<Entry>>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    sequence: u64,
    live: usize,
}

impl Timers {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Arms a timer for `deadline` (ns on the loop clock).
    pub(crate) fn insert(&mut self, deadline: u64, waker: &Waker, now: u64) -> TimerKey {
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    armed: false,
                    deadline: 0,
                    since: 0,
                    waker: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[slot as usize];
        s.armed = true;
        s.deadline = deadline;
        s.since = now;
        s.waker = Some(waker.clone());
        self.live += 1;
        self.sequence += 1;
        let key = TimerKey {
            slot,
            generation: s.generation,
        };
        self.heap.push(Reverse(Entry {
            deadline,
            sequence: self.sequence,
            slot,
            generation: s.generation,
        }));
        key
    }

    fn slot(&mut self, key: TimerKey) -> Option<&mut Slot> {
        self.slots
            .get_mut(key.slot as usize)
            .filter(|s| s.armed && s.generation == key.generation)
    }

    /// True while the timer has not fired or been cancelled.
    pub(crate) fn is_armed(&self, key: TimerKey) -> bool {
        self.slots
            .get(key.slot as usize)
            .is_some_and(|s| s.armed && s.generation == key.generation)
    }

    /// Replaces the waker of an armed timer (the task moved or the waker changed); returns
    /// its deadline if it is still armed.
    pub(crate) fn update_waker(&mut self, key: TimerKey, waker: &Waker) -> Option<u64> {
        let s = self.slot(key)?;
        if !s.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            s.waker = Some(waker.clone());
        }
        Some(s.deadline)
    }

    /// Disarms the timer (no effect if it already fired).
    pub(crate) fn cancel(&mut self, key: TimerKey) {
        if let Some(s) = self.slot(key) {
            s.armed = false;
            s.waker = None;
            s.generation = s.generation.wrapping_add(1);
            self.free.push(key.slot);
            self.live -= 1;
            self.compact_if_stale();
        }
    }

    fn disarm_fired(&mut self, slot: u32) -> Option<Waker> {
        let s = &mut self.slots[slot as usize];
        s.armed = false;
        s.generation = s.generation.wrapping_add(1);
        self.free.push(slot);
        self.live -= 1;
        s.waker.take()
    }

    fn is_stale(&self, e: &Entry) -> bool {
        let s = &self.slots[e.slot as usize];
        !s.armed || s.generation != e.generation
    }

    fn compact_if_stale(&mut self) {
        if self.heap.len() > 1024 && self.heap.len() > 4 * self.live {
            let slots = &self.slots;
            self.heap.retain(|Reverse(e)| {
                let s = &slots[e.slot as usize];
                s.armed && s.generation == e.generation
            });
        }
    }

    /// The nearest armed deadline.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        while let Some(Reverse(top)) = self.heap.peek() {
            if self.is_stale(top) {
                self.heap.pop();
            } else {
                return Some(top.deadline);
            }
        }
        None
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
        while let Some(Reverse(top)) = self.heap.peek() {
            if top.deadline > now {
                break;
            }
            let top = *top;
            self.heap.pop();
            if self.is_stale(&top) {
                continue;
            }
            fired += 1;
            if let Some(w) = self.disarm_fired(top.slot) {
                on_fire(top.deadline);
                wake.push(w);
            }
        }
        fired
    }

    /// Number of armed timers.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Calls `f` with (key, deadline, since, waker) for every armed timer.
    pub(crate) fn for_each(&self, f: &mut dyn FnMut(TimerKey, u64, u64, &Waker)) {
        for (slot, s) in self.slots.iter().enumerate() {
            if let (true, Some(w)) = (s.armed, &s.waker) {
                let key = TimerKey {
                    slot: slot as u32,
                    generation: s.generation,
                };
                f(key, s.deadline, s.since, w);
            }
        }
    }
}
