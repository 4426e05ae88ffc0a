//! The loop's registry of unfinished tasks: one counted reference to each, for the loop's
//! drop (which cancels them) and for stuck-task reports, and the names of named tasks.
//!
//! A task knows its own slot (in its header), and removal happens at completion, when the
//! header is in the cache anyway: it clears one bit of a small occupancy bitmap and pushes
//! the slot on a free stack, and never touches the task's entry (the slot array is as long
//! as the most tasks ever alive, and completions come in any order, so reading the entry
//! would be a cache miss per task). An entry whose bit is clear is stale and never read.
//!
//! Names live here, keyed by task id, so the tasks that have none (nearly all) do not carry
//! the room for one; the task's NAMED bit says whether to look.

use super::names::Names;
use super::raw::{TaskRef, NO_SLOT};
use super::shared::Shared;
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::mem::ManuallyDrop;

/// Every task of one loop that has not finished.
pub(crate) struct Registry {
    /// Entry `i` owns one counted reference while bit `i` of `occupied` is set; otherwise it
    /// is stale (its task may be freed) and is neither read nor dropped.
    tasks: Vec<ManuallyDrop<TaskRef>>,
    /// One bit per entry of `tasks`.
    occupied: Vec<u64>,
    /// Vacant slots below `tasks.len()`, most recently freed last.
    free: Vec<u32>,
    len: usize,
    /// The names of the named tasks among them.
    names: Names,
    /// The loop whose tasks these are (only compared, never dereferenced).
    owner: *const Shared,
}

impl Registry {
    pub(crate) fn new(owner: &alloc::sync::Arc<Shared>) -> Self {
        Registry {
            tasks: Vec::new(),
            occupied: Vec::new(),
            free: Vec::new(),
            len: 0,
            names: Names::default(),
            owner: alloc::sync::Arc::as_ptr(owner),
        }
    }

    /// Number of registered tasks.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Registers a new task of this loop (with a reference of its own) and its name.
    ///
    /// # Panics
    /// If the task is registered already or belongs to another loop, or if `u32::MAX - 1`
    /// tasks are alive.
    pub(crate) fn insert(&mut self, task: &TaskRef, name: Option<Cow<'static, str>>) {
        assert!(
            task.slot() == NO_SLOT && self.owns(task),
            "readyloop: task registered twice"
        );
        let slot = match self.free.pop() {
            Some(slot) => {
                self.tasks[slot as usize] = ManuallyDrop::new(task.clone());
                slot
            }
            None => {
                let slot = u32::try_from(self.tasks.len())
                    .ok()
                    .filter(|&s| s != NO_SLOT)
                    .expect("readyloop: too many tasks alive");
                self.tasks.push(ManuallyDrop::new(task.clone()));
                if slot % 64 == 0 {
                    self.occupied.push(0);
                }
                slot
            }
        };
        self.occupied[slot as usize / 64] |= 1 << (slot % 64);
        task.set_slot(slot);
        self.len += 1;
        if let Some(name) = name {
            task.set_named();
            self.names.push(task.id(), name);
        }
    }

    /// Unregisters a task, handing back the registry's reference to it (drop it after the
    /// borrow of the registry ends: it may be the last one); `None` if it was not registered
    /// here.
    pub(crate) fn remove(&mut self, task: &TaskRef) -> Option<TaskRef> {
        let slot = task.slot();
        if slot == NO_SLOT || !self.owns(task) {
            return None;
        }
        let (word, bit) = (slot as usize / 64, 1u64 << (slot % 64));
        // A registered task of this loop is the one at its slot (only `insert` sets a slot,
        // and only `remove` and `drain` clear it), so its bit is set.
        debug_assert!(self.occupied[word] & bit != 0);
        self.occupied[word] &= !bit;
        task.set_slot(NO_SLOT);
        self.free.push(slot);
        self.len -= 1;
        if task.is_named() {
            self.names.remove(task.id());
        }
        // SAFETY: the task was registered at `slot` (see above), so the entry there held a
        // counted reference to it; its bit is now clear, so the entry will never be read or
        // dropped, and that reference passes to the result.
        Some(unsafe { task.adopt_counted() })
    }

    fn owns(&self, task: &TaskRef) -> bool {
        core::ptr::eq(alloc::sync::Arc::as_ptr(task.shared()), self.owner)
    }

    /// The slots whose entries are live.
    fn occupied_slots(&self) -> impl Iterator<Item = usize> + '_ {
        self.occupied
            .iter()
            .enumerate()
            .flat_map(|(word, &bits)| BitIter(bits).map(move |bit| word * 64 + bit))
    }

    /// Every registered task with its name (for stuck-task reports).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&TaskRef, Option<&Cow<'static, str>>)> {
        self.occupied_slots().map(|slot| {
            let task: &TaskRef = &self.tasks[slot];
            let name = if task.is_named() {
                self.names.get(task.id())
            } else {
                None
            };
            (task, name)
        })
    }

    /// Empties the registry, handing back every task's reference (for teardown).
    pub(crate) fn drain(&mut self) -> Vec<TaskRef> {
        let mut out = Vec::with_capacity(self.len);
        self.take_each(|task| out.push(task));
        out
    }

    /// Empties the registry, handing each task's reference to `f`.
    fn take_each(&mut self, mut f: impl FnMut(TaskRef)) {
        for (word, &bits) in self.occupied.iter().enumerate() {
            for bit in BitIter(bits) {
                // SAFETY: the entry's bit is set, so it owns a counted reference; the bitmap
                // is cleared below before anything can read the entry again.
                let task = unsafe { ManuallyDrop::take(&mut self.tasks[word * 64 + bit]) };
                task.set_slot(NO_SLOT);
                f(task);
            }
        }
        self.occupied.clear();
        self.tasks.clear();
        self.free.clear();
        self.names.clear();
        self.len = 0;
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Each reference is dropped as it is taken: no list of them to allocate.
        self.take_each(drop);
    }
}

impl core::fmt::Debug for Registry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Registry").field("len", &self.len).finish()
    }
}

/// The indices of the set bits of a word, lowest first.
struct BitIter(u64);

impl Iterator for BitIter {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let bit = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(bit)
    }
}
