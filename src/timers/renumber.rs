//! Running out of 32-bit sequence numbers (about once per four billion armings): the heap is
//! renumbered in order, so ties keep firing in the order they were set.

use super::{Entry, Timers};
use alloc::collections::BinaryHeap;
use core::cmp::Reverse;

impl Timers {
    /// Gives every live entry a new sequence number in heap order, from zero, and drops the
    /// stale ones (when the 32-bit numbers run out: about once per four billion armings).
    #[cold]
    pub(super) fn renumber(&mut self) {
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
}
