//! `Mutex`: asyncio.Lock with the data inside, for the tasks of one loop.
//!
//! A guard may be held across `.await`. Unlocking hands the lock straight to the oldest
//! waiter (FIFO, no overtaking); if that waiter is dropped before it runs, the lock passes to
//! the next one or is released: cancellation never leaves the lock held by nobody. The data
//! sits in a `RefCell` that only a guard borrows, so there is no `unsafe` here. This module
//! must never call a waker while it holds its `RefCell` borrow.

use super::waiters::{WaitKey, WaitList};
use core::cell::{RefCell, RefMut};
use core::fmt;
use core::future::Future;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

struct LockState {
    locked: bool,
    waiters: WaitList<()>,
}

impl LockState {
    /// Hands the lock to the oldest waiter, or unlocks.
    fn unlock(&mut self) -> Option<Waker> {
        match self.waiters.notify_one(()) {
            Ok(waker) => waker,
            Err(()) => {
                self.locked = false;
                None
            }
        }
    }
}

/// An async mutual-exclusion lock for the tasks of one loop (`asyncio.Lock`), owning the
/// data it protects. Share it between tasks with an `Rc`.
///
/// ```
/// use readyloop::{Loop, sync::Mutex};
/// use std::rc::Rc;
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let log = Rc::new(Mutex::new(Vec::new()));
/// lp.block_on(async move {
///     let mut tasks = Vec::new();
///     for n in 0..3 {
///         let log = log.clone();
///         tasks.push(h.spawn(async move {
///             let mut guard = log.lock().await;
///             guard.push(n);
///             readyloop::yield_now().await; // still held: nobody else can push
///             guard.push(n);
///         }));
///     }
///     for t in tasks { t.await.unwrap(); }
///     assert_eq!(*log.lock().await, vec![0, 0, 1, 1, 2, 2]);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    state: RefCell<LockState>,
    value: RefCell<T>,
}

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.borrow();
        f.debug_struct("Mutex")
            .field("locked", &s.locked)
            .field("waiters", &s.waiters.len())
            .finish()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> Mutex<T> {
    /// A mutex, unlocked, holding `value`.
    ///
    /// ```
    /// let m = readyloop::sync::Mutex::new(5);
    /// assert_eq!(m.into_inner(), 5);
    /// ```
    pub fn new(value: T) -> Self {
        Mutex {
            state: RefCell::new(LockState {
                locked: false,
                waiters: WaitList::new(),
            }),
            value: RefCell::new(value),
        }
    }

    /// The protected value (no guard can exist: the mutex is owned).
    ///
    /// ```
    /// assert_eq!(readyloop::sync::Mutex::new("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock (FIFO). The guard unlocks when dropped.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let m = readyloop::sync::Mutex::new(1);
    /// lp.block_on(async { *m.lock().await += 1 });
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: self,
            key: None,
        }
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// ```
    /// let m = readyloop::sync::Mutex::new(());
    /// let g = m.try_lock();
    /// assert!(g.is_some());
    /// assert!(m.try_lock().is_none());
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        let mut s = self.state.borrow_mut();
        if s.locked {
            return None;
        }
        s.locked = true;
        drop(s);
        Some(self.guard())
    }

    /// Whether the lock is held (`Lock.locked()`).
    ///
    /// ```
    /// let m = readyloop::sync::Mutex::new(0);
    /// let _g = m.try_lock().unwrap();
    /// assert!(m.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.state.borrow().locked
    }

    /// Direct access through a unique borrow (no lock needed).
    ///
    /// ```
    /// let mut m = readyloop::sync::Mutex::new(1);
    /// *m.get_mut() = 3;
    /// assert_eq!(m.into_inner(), 3);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    fn guard(&self) -> MutexGuard<'_, T> {
        MutexGuard {
            mutex: self,
            value: Some(self.value.borrow_mut()),
        }
    }
}

/// Access to the data of a locked [`Mutex`]; unlocks when dropped.
///
/// ```
/// use readyloop::sync::{Mutex, MutexGuard};
/// let m = Mutex::new(vec![1]);
/// {
///     let mut guard: MutexGuard<'_, Vec<i32>> = m.try_lock().unwrap();
///     guard.push(2);
///     assert!(m.is_locked());
/// }
/// assert!(!m.is_locked());
/// ```
#[must_use = "dropping a MutexGuard unlocks at once"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    /// The borrow of the data; `None` only inside `drop`.
    value: Option<RefMut<'a, T>>,
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_deref().expect("guard holds its borrow")
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_deref_mut().expect("guard holds its borrow")
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // End the data borrow before the next owner can be woken.
        self.value = None;
        let waker = self.mutex.state.borrow_mut().unlock();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The future of [`Mutex::lock`].
///
/// ```
/// use readyloop::sync::{Lock, Mutex};
/// let lp = readyloop::Loop::new().unwrap();
/// let m = Mutex::new(0);
/// let lock: Lock<'_, i32> = m.lock();
/// *lp.block_on(lock) += 1;
/// assert_eq!(m.into_inner(), 1);
/// ```
#[must_use = "a lock does nothing unless awaited"]
pub struct Lock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    key: Option<WaitKey>,
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = &mut *self;
        // Declared before the borrow, so a waker put here drops after it.
        let mut retired = None;
        let mut s = this.mutex.state.borrow_mut();
        match this.key {
            Some(key) => match s.waiters.poll(key, cx.waker(), &mut retired) {
                // The lock was handed to us (it stayed locked on the way).
                Some(_) => this.key = None,
                None => return Poll::Pending,
            },
            None if !s.locked => s.locked = true,
            None => {
                this.key = Some(s.waiters.push(cx.waker()));
                return Poll::Pending;
            }
        }
        drop(s);
        Poll::Ready(this.mutex.guard())
    }
}

impl<T: ?Sized> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = {
            // Declared before the borrow, so a waker put here drops after it.
            let mut retired = None;
            let mut s = self.mutex.state.borrow_mut();
            match s.waiters.remove(key, &mut retired) {
                // The lock was handed to us and never used: pass it on.
                Some(_) => s.unlock(),
                None => None,
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}
