//! The names of a loop's named tasks, by task id.
//!
//! Task ids only grow, so names arrive in id order: a name is appended, found by binary
//! search, and removed by leaving a hole that the next compaction (when holes outnumber
//! names) squeezes out. Every operation is amortized O(log n) or better, and the code is a
//! few lines, where a `BTreeMap` would add kilobytes to a daemon that names nothing.

use alloc::borrow::Cow;
use alloc::vec::Vec;

/// Id-sorted (id, name) pairs; `None` marks a removed name.
#[derive(Default)]
pub(crate) struct Names {
    entries: Vec<(u64, Option<Cow<'static, str>>)>,
    holes: usize,
    /// `remove_named`, set by the first `push`: reached only through this pointer, the
    /// search and compaction are not linked into a program that never names a task.
    remover: Option<fn(&mut Names, u64)>,
}

impl Names {
    /// Adds the name of task `id`, which is larger than every id added before.
    pub(crate) fn push(&mut self, id: u64, name: Cow<'static, str>) {
        debug_assert!(self.entries.last().is_none_or(|(last, _)| *last < id));
        self.entries.push((id, Some(name)));
        self.remover = Some(Names::remove_named);
    }

    pub(crate) fn get(&self, id: u64) -> Option<&Cow<'static, str>> {
        let i = self.entries.binary_search_by_key(&id, |(k, _)| *k).ok()?;
        self.entries[i].1.as_ref()
    }

    /// Forgets the name of task `id` (nothing if no name was ever added).
    #[inline]
    pub(crate) fn remove(&mut self, id: u64) {
        if let Some(remove_named) = self.remover {
            remove_named(self, id);
        }
    }

    fn remove_named(&mut self, id: u64) {
        let Ok(i) = self.entries.binary_search_by_key(&id, |(k, _)| *k) else {
            return;
        };
        if self.entries[i].1.take().is_some() {
            self.holes += 1;
        }
        if self.holes * 2 > self.entries.len() {
            self.entries.retain(|(_, name)| name.is_some());
            self.holes = 0;
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.holes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::Names;

    #[test]
    fn names_are_found_until_removed_and_holes_are_squeezed_out() {
        let mut names = Names::default();
        for id in (1..=1000u64).map(|i| i * 3) {
            names.push(id, alloc::format!("task {id}").into());
        }
        // Remove every id not divisible by 9, in a scrambled order.
        let mut order: alloc::vec::Vec<u64> = (1..=1000u64).map(|i| i * 3).collect();
        order.sort_by_key(|id| id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for &id in &order {
            if id % 9 != 0 {
                names.remove(id);
            }
        }
        for id in (1..=1000u64).map(|i| i * 3) {
            let expected = (id % 9 == 0).then(|| alloc::format!("task {id}"));
            assert_eq!(names.get(id).map(|n| n.to_string()), expected);
        }
        assert!(
            names.entries.len() <= 2 * 333 + 1,
            "{}",
            names.entries.len()
        );
        names.remove(7); // never named: nothing happens
        names.clear();
        assert!(names.get(9).is_none());
    }
}
