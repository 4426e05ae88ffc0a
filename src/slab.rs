//! A vector with a free list: stable indices, O(1) insert and remove, no allocation once warm.

use alloc::vec::Vec;

#[derive(Debug)]
enum Entry<T> {
    Occupied(T),
    Vacant(usize),
}

/// Values addressed by the index `insert` returned.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    entries: Vec<Entry<T>>,
    /// Head of the free list (`entries.len()` when empty).
    next_free: usize,
    len: usize,
}

impl<T> Slab<T> {
    pub(crate) const fn new() -> Self {
        Slab {
            entries: Vec::new(),
            next_free: 0,
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn insert(&mut self, value: T) -> usize {
        let index = self.next_free;
        if index == self.entries.len() {
            self.entries.push(Entry::Occupied(value));
            self.next_free = index + 1;
        } else {
            match core::mem::replace(&mut self.entries[index], Entry::Occupied(value)) {
                Entry::Vacant(next) => self.next_free = next,
                Entry::Occupied(_) => unreachable!("free list points at an occupied entry"),
            }
        }
        self.len += 1;
        index
    }

    pub(crate) fn remove(&mut self, index: usize) -> Option<T> {
        let entry = self.entries.get_mut(index)?;
        if let Entry::Vacant(_) = entry {
            return None;
        }
        let old = core::mem::replace(entry, Entry::Vacant(self.next_free));
        self.next_free = index;
        self.len -= 1;
        match old {
            Entry::Occupied(v) => Some(v),
            Entry::Vacant(_) => None,
        }
    }

    /// Every value with its index (for stuck-task reports).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &T)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e {
                Entry::Occupied(v) => Some((i, v)),
                Entry::Vacant(_) => None,
            })
    }

    /// Empties the slab, handing back every value (for teardown).
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> {
        self.next_free = 0;
        self.len = 0;
        core::mem::take(&mut self.entries)
            .into_iter()
            .filter_map(|e| match e {
                Entry::Occupied(v) => Some(v),
                Entry::Vacant(_) => None,
            })
    }
}
