//! `Semaphore`: asyncio.Semaphore, a counter of permits that tasks wait for in FIFO order.
//!
//! A released permit goes straight to the oldest waiter (so a newcomer cannot overtake
//! the line). If that waiter is dropped before it runs, the permit passes to the next one or
//! back to the count: cancellation never loses a permit. This module must never call a waker
//! while it holds its `RefCell` borrow.

use super::waiters::{WaitKey, WaitList};
use alloc::rc::Rc;
use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

struct Inner {
    /// Permits nobody holds or has been handed.
    permits: usize,
    waiters: WaitList<()>,
}

impl Inner {
    /// Hands a permit to the oldest waiter, or returns it to the count.
    fn release(&mut self) -> Option<core::task::Waker> {
        match self.waiters.notify_one(()) {
            Ok(waker) => waker,
            Err(()) => {
                self.permits += 1;
                None
            }
        }
    }
}

/// Limits how many tasks of one loop do something at once (`asyncio.Semaphore`).
/// Clones share the permits.
///
/// ```
/// use core::time::Duration;
/// use readyloop::{Loop, sync::Semaphore};
/// use std::{cell::Cell, rc::Rc};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let sem = Semaphore::new(2);
/// let (now, peak) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
/// lp.block_on(async move {
///     let mut tasks = Vec::new();
///     for _ in 0..6 {
///         let (sem, now, peak, h2) = (sem.clone(), now.clone(), peak.clone(), h.clone());
///         tasks.push(h.spawn(async move {
///             let _permit = sem.acquire().await;
///             now.set(now.get() + 1);
///             peak.set(peak.get().max(now.get()));
///             h2.sleep(Duration::from_millis(2)).await;
///             now.set(now.get() - 1);
///         }));
///     }
///     for t in tasks { t.await.unwrap(); }
///     assert_eq!(peak.get(), 2);
/// });
/// ```
#[derive(Clone)]
pub struct Semaphore {
    inner: Rc<RefCell<Inner>>,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.inner.borrow();
        f.debug_struct("Semaphore")
            .field("permits", &i.permits)
            .field("waiters", &i.waiters.len())
            .finish()
    }
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    ///
    /// ```
    /// assert_eq!(readyloop::sync::Semaphore::new(3).available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Self {
        Semaphore {
            inner: Rc::new(RefCell::new(Inner {
                permits,
                waiters: WaitList::new(),
            })),
        }
    }

    /// Permits free now.
    ///
    /// ```
    /// let s = readyloop::sync::Semaphore::new(1);
    /// let p = s.try_acquire().unwrap();
    /// assert_eq!(s.available_permits(), 0);
    /// drop(p);
    /// assert_eq!(s.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.inner.borrow().permits
    }

    /// Whether `acquire` would wait now (`Semaphore.locked()`).
    ///
    /// ```
    /// assert!(readyloop::sync::Semaphore::new(0).locked());
    /// ```
    pub fn locked(&self) -> bool {
        let i = self.inner.borrow();
        i.permits == 0 || !i.waiters.is_empty()
    }

    /// Adds `n` permits (handing them to waiters first).
    ///
    /// ```
    /// let s = readyloop::sync::Semaphore::new(0);
    /// s.add_permits(2);
    /// assert_eq!(s.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        for _ in 0..n {
            let waker = self.inner.borrow_mut().release();
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    /// Takes a permit without waiting, if one is free and nobody is waiting for one.
    ///
    /// ```
    /// let s = readyloop::sync::Semaphore::new(1);
    /// let p = s.try_acquire();
    /// assert!(p.is_some());
    /// assert!(s.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<Permit> {
        let mut i = self.inner.borrow_mut();
        if i.permits > 0 && i.waiters.is_empty() {
            i.permits -= 1;
            Some(Permit {
                semaphore: Some(self.clone()),
            })
        } else {
            None
        }
    }

    /// Waits for a permit (FIFO). The [`Permit`] gives it back when dropped.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::sync::Semaphore::new(1);
    /// let permit = lp.block_on(s.acquire());
    /// assert_eq!(s.available_permits(), 0);
    /// drop(permit);
    /// ```
    pub fn acquire(&self) -> Acquire {
        Acquire {
            semaphore: self.clone(),
            key: None,
        }
    }
}

/// One permit of a [`Semaphore`]; dropping it releases the permit.
///
/// ```
/// use readyloop::sync::{Permit, Semaphore};
/// let sem = Semaphore::new(2);
/// let a: Permit = sem.try_acquire().unwrap();
/// let _b = sem.try_acquire().unwrap();
/// assert!(sem.try_acquire().is_none());
/// drop(a);
/// assert!(sem.try_acquire().is_some());
/// ```
#[must_use = "dropping a Permit releases it at once"]
#[derive(Debug)]
pub struct Permit {
    /// The semaphore to give the permit back to (`None` once forgotten).
    semaphore: Option<Semaphore>,
}

impl Permit {
    /// Keeps the permit taken for good (the semaphore has one permit fewer).
    ///
    /// ```
    /// let s = readyloop::sync::Semaphore::new(1);
    /// s.try_acquire().unwrap().forget();
    /// assert_eq!(s.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        // Let go of the semaphore without giving the permit back (the permit's own
        // reference to the semaphore is still dropped: `mem::forget` would leak it).
        self.semaphore = None;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(semaphore) = self.semaphore.take() {
            semaphore.add_permits(1);
        }
    }
}

/// The future of [`Semaphore::acquire`].
///
/// ```
/// use readyloop::sync::{Acquire, Semaphore};
/// let lp = readyloop::Loop::new().unwrap();
/// let sem = Semaphore::new(1);
/// let first: Acquire = sem.acquire();
/// let permit = lp.block_on(first);
/// assert_eq!(sem.available_permits(), 0);
/// drop(permit);
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "an acquire does nothing unless awaited"]
#[derive(Debug)]
pub struct Acquire {
    semaphore: Semaphore,
    key: Option<WaitKey>,
}

impl Future for Acquire {
    type Output = Permit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit> {
        let this = &mut *self;
        // Declared before the borrow, so a waker put here drops after it.
        let mut retired = None;
        let mut i = this.semaphore.inner.borrow_mut();
        match this.key {
            Some(key) => match i.waiters.poll(key, cx.waker(), &mut retired) {
                Some(_) => this.key = None,
                None => return Poll::Pending,
            },
            None if i.permits > 0 && i.waiters.is_empty() => i.permits -= 1,
            None => {
                this.key = Some(i.waiters.push(cx.waker()));
                return Poll::Pending;
            }
        }
        Poll::Ready(Permit {
            semaphore: Some(this.semaphore.clone()),
        })
    }
}

impl Drop for Acquire {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = {
            // Declared before the borrow, so a waker put here drops after it.
            let mut retired = None;
            let mut i = self.semaphore.inner.borrow_mut();
            match i.waiters.remove(key, &mut retired) {
                // A permit was handed to us and never used: pass it on.
                Some(_) => i.release(),
                None => None,
            }
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}
