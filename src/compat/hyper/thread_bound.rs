//! `ThreadBound<T>`: a `!Send` value made `Send + Sync` by a runtime check, so hyper's
//! `Send` bounds (its `Sleep`, the `dyn Io + Send` of an upgrade) can hold readyloop's
//! `Rc`-based types soundly.
//!
//! The rule it enforces: the value is touched (polled, borrowed, dropped) only on the thread
//! that wrapped it. Touching it elsewhere panics with a message naming the mistake; dropping
//! it elsewhere leaks it (never runs its destructor there) and says so on stderr. This file
//! holds the crate's only `unsafe impl Send`/`Sync` for the hyper integration; it must never
//! hand out access to the value without the thread check.

use core::cell::Cell;
use core::fmt;
use core::mem::ManuallyDrop;
use core::sync::atomic::{AtomicU64, Ordering};

/// The next thread number to hand out (0 means "not numbered yet").
static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

std::thread_local! {
    /// This thread's number: unique for the life of the process, never reused (a kernel
    /// tid and a thread-local's address can both come back after a thread exits).
    static THIS_THREAD: Cell<u64> = const { Cell::new(0) };
}

/// The calling thread's number (one thread-local read after the first call).
pub(crate) fn this_thread() -> u64 {
    THIS_THREAD.with(|id| {
        if id.get() == 0 {
            id.set(NEXT_THREAD.fetch_add(1, Ordering::Relaxed));
        }
        id.get()
    })
}

/// A value that may travel between threads but is used and dropped only on its own.
pub(crate) struct ThreadBound<T> {
    /// The thread that made the value (the only one that may touch it).
    owner: u64,
    /// The value; dropped by hand in `Drop`, and only on `owner`.
    value: ManuallyDrop<T>,
}

// SAFETY: moving a `ThreadBound<T>` to another thread moves only the bytes of `T`: no method
// of `T` runs during the move. Every access to `value` goes through `get_mut` or `into_inner`
// (both compare `this_thread()` with `owner` first and panic on a mismatch), and `Drop` runs
// `T`'s destructor only when `this_thread() == owner`, leaking it otherwise. Thread numbers
// are never reused, so "same number" means "same live thread". So `T`'s code (an `Rc`
// count, a `RefCell`) only ever runs on the thread that made it, which is what `!Send`
// protects.
unsafe impl<T> Send for ThreadBound<T> {}

// SAFETY: a `&ThreadBound<T>` gives no access to `T` at all (every accessor takes `&mut
// self` or `self`, and `Debug` prints only the owner number), so sharing references across
// threads cannot reach `T`.
unsafe impl<T> Sync for ThreadBound<T> {}

impl<T> ThreadBound<T> {
    /// Binds `value` to the calling thread.
    pub(crate) fn new(value: T) -> Self {
        ThreadBound {
            owner: this_thread(),
            value: ManuallyDrop::new(value),
        }
    }

    /// The value, on its own thread.
    ///
    /// # Panics
    /// On any other thread, with `what` in the message.
    pub(crate) fn get_mut(&mut self, what: &str) -> &mut T {
        self.check(what);
        &mut self.value
    }

    /// Unwraps the value, on its own thread.
    ///
    /// # Panics
    /// On any other thread, with `what` in the message.
    pub(crate) fn into_inner(self, what: &str) -> T {
        self.check(what);
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped (ManuallyDrop), so `value` is taken exactly once.
        unsafe { ManuallyDrop::take(&mut this.value) }
    }

    /// Whether the calling thread is the value's own.
    pub(crate) fn is_home(&self) -> bool {
        this_thread() == self.owner
    }

    fn check(&self, what: &str) {
        if !self.is_home() {
            panic!(
                "readyloop: {what} polled on another thread; readyloop's loop, its sockets \
                 and its timers belong to the thread that runs the loop (spawn the \
                 connection with the loop's Handle, not on another runtime or thread)"
            );
        }
    }
}

impl<T> Drop for ThreadBound<T> {
    fn drop(&mut self) {
        if self.is_home() {
            // SAFETY: `value` is dropped here once; `self` is not used afterwards.
            unsafe { ManuallyDrop::drop(&mut self.value) }
        } else {
            // Running `T`'s destructor here would touch an `Rc` from a second thread: leak
            // it instead (its fd and its share of the loop stay until the process ends).
            std::eprintln!(
                "readyloop: a {} was dropped on another thread than its loop's; it was \
                 leaked instead (drop it on the loop's thread)",
                core::any::type_name::<T>()
            );
        }
    }
}

impl<T> fmt::Debug for ThreadBound<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadBound")
            .field("owner_thread", &self.owner)
            .finish_non_exhaustive()
    }
}
