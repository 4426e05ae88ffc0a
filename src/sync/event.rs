//! `Event`: asyncio.Event, a flag tasks can wait for.
//!
//! `set` wakes every task waiting at that moment; a waiter woken by `set` returns even if the
//! flag is cleared again before it runs (as asyncio's does). This module must never call a
//! waker while it holds its `RefCell` borrow.

use super::waiters::{WaitKey, WaitList};
use alloc::rc::Rc;
use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

struct Inner {
    is_set: bool,
    waiters: WaitList<()>,
}

/// A flag that tasks of one loop can wait for (`asyncio.Event`). Clones share the flag.
///
/// ```
/// use readyloop::{Loop, sync::Event};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let ready = Event::new();
/// lp.block_on(async move {
///     let waiter = h.spawn({
///         let ready = ready.clone();
///         async move { ready.wait().await; "saw it" }
///     });
///     readyloop::yield_now().await;
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "saw it");
/// });
/// ```
#[derive(Clone)]
pub struct Event {
    inner: Rc<RefCell<Inner>>,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.inner.borrow();
        f.debug_struct("Event")
            .field("is_set", &i.is_set)
            .field("waiters", &i.waiters.len())
            .finish()
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl Event {
    /// A new event, not set.
    ///
    /// ```
    /// assert!(!readyloop::sync::Event::new().is_set());
    /// ```
    pub fn new() -> Self {
        Event {
            inner: Rc::new(RefCell::new(Inner {
                is_set: false,
                waiters: WaitList::new(),
            })),
        }
    }

    /// Whether the flag is set.
    ///
    /// ```
    /// let e = readyloop::sync::Event::new();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.inner.borrow().is_set
    }

    /// Sets the flag and wakes every task waiting now.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let e = readyloop::sync::Event::new();
    /// e.set();
    /// lp.block_on(e.wait()); // returns at once
    /// ```
    pub fn set(&self) {
        let mark = {
            let mut i = self.inner.borrow_mut();
            i.is_set = true;
            i.waiters.mark()
        };
        loop {
            let waker = self.inner.borrow_mut().waiters.notify_before(mark, ());
            match waker {
                Some(Some(w)) => w.wake(),
                Some(None) => {}
                None => break,
            }
        }
    }

    /// Clears the flag: later `wait`s wait again.
    ///
    /// ```
    /// let e = readyloop::sync::Event::new();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn clear(&self) {
        self.inner.borrow_mut().is_set = false;
    }

    /// Waits until the flag is set (returns at once if it is).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let e = readyloop::sync::Event::new();
    /// let e2 = e.clone();
    /// lp.handle().call_soon(move || e2.set());
    /// lp.block_on(e.wait());
    /// ```
    pub fn wait(&self) -> EventWait {
        EventWait {
            event: self.clone(),
            key: None,
        }
    }
}

/// The future of [`Event::wait`].
///
/// ```
/// use readyloop::sync::{Event, EventWait};
/// let lp = readyloop::Loop::new().unwrap();
/// let ev = Event::new();
/// lp.handle().spawn({ let ev = ev.clone(); async move { ev.set() } });
/// let wait: EventWait = ev.wait();
/// lp.block_on(wait);
/// assert!(ev.is_set());
/// ```
#[must_use = "a wait does nothing unless awaited"]
#[derive(Debug)]
pub struct EventWait {
    event: Event,
    key: Option<WaitKey>,
}

impl Future for EventWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        // Declared before the borrow, so a waker put here drops after it.
        let mut retired = None;
        let mut i = this.event.inner.borrow_mut();
        match this.key {
            Some(key) => match i.waiters.poll(key, cx.waker(), &mut retired) {
                Some(_) => {
                    this.key = None;
                    Poll::Ready(())
                }
                None => Poll::Pending,
            },
            None if i.is_set => Poll::Ready(()),
            None => {
                this.key = Some(i.waiters.push(cx.waker()));
                Poll::Pending
            }
        }
    }
}

impl Drop for EventWait {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Every waiter is notified by `set`; nothing to pass on.
            // Declared before the borrow, so a waker put here drops after it.
            let mut retired = None;
            let _ = self
                .event
                .inner
                .borrow_mut()
                .waiters
                .remove(key, &mut retired);
        }
    }
}
