//! `Queue`: asyncio.Queue for the tasks of one loop (seed 002, answer 3's producers and
//! consumers).
//!
//! Getters and putters wait in FIFO lines. An item put while getters wait is handed straight
//! to the oldest getter; space freed while putters wait is reserved for the oldest putter.
//! Either hand-off survives cancellation: a getter dropped after it was handed an item gives
//! the item back (to the next getter, or to the front of the queue), and a putter dropped
//! after it was given room passes the room on. So no interleaving of `put`, `get` and
//! cancellation can lose or duplicate an item. This module must never call a waker while it
//! holds its `RefCell` borrow, and never allocates per wait once its buffers have grown.

use super::waiters::{WaitKey, WaitList};
use alloc::collections::VecDeque;
use alloc::rc::Rc;
use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

/// `put_nowait` found the queue full; the item is given back.
///
/// ```
/// use readyloop::sync::{Full, Queue};
/// let q = Queue::new(1);
/// q.put_nowait('a').unwrap();
/// assert_eq!(q.put_nowait('b'), Err(Full('b')));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Full<T>(pub T);

/// `get_nowait` found the queue empty.
///
/// ```
/// use readyloop::sync::{Empty, Queue};
/// let q = Queue::<u8>::unbounded();
/// assert_eq!(q.get_nowait(), Err(Empty));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Empty;

/// `task_done` was called more times than items were put (asyncio's `ValueError`).
///
/// ```
/// use readyloop::sync::{Queue, TaskDoneError};
/// let q = Queue::<u8>::unbounded();
/// assert_eq!(q.task_done(), Err(TaskDoneError));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskDoneError;

impl<T> fmt::Debug for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Full(..)")
    }
}

impl<T> fmt::Display for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is full (put_nowait); await put() to wait for room")
    }
}

impl fmt::Display for Empty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is empty (get_nowait); await get() to wait for an item")
    }
}

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than there were items put")
    }
}

impl<T> core::error::Error for Full<T> {}
impl core::error::Error for Empty {}
impl core::error::Error for TaskDoneError {}

struct Inner<T> {
    /// Items nobody has been handed yet, oldest first.
    items: VecDeque<T>,
    /// Most items the queue holds (`usize::MAX`: unbounded).
    maxsize: usize,
    /// Items handed to getters that have not collected them yet (they still take room).
    handed: usize,
    /// Room granted to putters that have not used it yet.
    reserved: usize,
    /// Items put and not yet marked done with `task_done`.
    unfinished: usize,
    getters: WaitList<T>,
    putters: WaitList<()>,
    joiners: WaitList<()>,
}

impl<T> Inner<T> {
    /// Room in use: queued items, items in hand-off, and room promised to putters.
    fn occupied(&self) -> usize {
        self.items.len() + self.handed + self.reserved
    }

    fn is_full(&self) -> bool {
        self.occupied() >= self.maxsize
    }

    /// Gives `item` to the oldest getter, or queues it at the back.
    fn deliver(&mut self, item: T) -> Option<Waker> {
        match self.getters.notify_one(item) {
            Ok(waker) => {
                self.handed += 1;
                waker
            }
            Err(item) => {
                self.items.push_back(item);
                None
            }
        }
    }

    /// Gives back an item a cancelled getter had been handed: to the next getter, or to the
    /// front of the queue (it was the oldest item).
    fn give_back(&mut self, item: T) -> Option<Waker> {
        match self.getters.notify_one(item) {
            Ok(waker) => {
                self.handed += 1;
                waker
            }
            Err(item) => {
                self.items.push_front(item);
                None
            }
        }
    }

    /// If there is room and a putter waits, reserves the room for it.
    fn grant_putter(&mut self) -> Option<Waker> {
        if self.is_full() {
            return None;
        }
        match self.putters.notify_one(()) {
            Ok(waker) => {
                self.reserved += 1;
                waker
            }
            Err(()) => None,
        }
    }

    /// Accepts an item (room already checked or reserved).
    fn accept(&mut self, item: T) -> Option<Waker> {
        self.unfinished += 1;
        self.deliver(item)
    }
}

/// A first-in first-out queue for the tasks of one loop (`asyncio.Queue`).
///
/// Bounded ([`Queue::new`] with a `maxsize`) or unbounded ([`Queue::unbounded`]). `put`
/// waits while the queue is full and `get` while it is empty, in FIFO order; `put_nowait`
/// and `get_nowait` never wait and report [`Full`] / [`Empty`]. [`task_done`] and [`join`]
/// count work as asyncio's do: every accepted item must be marked done before `join`
/// returns. Cloning a `Queue` gives another handle to the same queue.
///
/// Cancellation loses nothing: a `get()` future dropped after an item was handed to it gives
/// the item back to the front of the queue (or to the next getter), and a dropped `put()`
/// that had not been accepted leaves the queue unchanged (its item is dropped with it).
///
/// The queue is for one loop's tasks (`Rc` inside, `!Send`); between threads use a channel
/// and a waker.
///
/// [`task_done`]: Queue::task_done
/// [`join`]: Queue::join
///
/// ```
/// use readyloop::{Loop, sync::Queue};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let q = Queue::new(2);
/// let total = lp.block_on(async move {
///     let consumer = h.spawn({
///         let q = q.clone();
///         async move {
///             let mut sum = 0;
///             while let Some(n) = q.get().await {
///                 sum += n;
///                 q.task_done().unwrap();
///             }
///             sum
///         }
///     });
///     for n in 1..=5 {
///         q.put(Some(n)).await; // waits while 2 items are queued
///     }
///     q.join().await; // every item marked done
///     q.put(None).await;
///     consumer.await.unwrap()
/// });
/// assert_eq!(total, 15);
/// ```
pub struct Queue<T> {
    inner: Rc<RefCell<Inner<T>>>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.inner.borrow();
        f.debug_struct("Queue")
            .field("len", &i.items.len())
            .field("maxsize", &self.maxsize())
            .field("getters", &i.getters.len())
            .field("putters", &i.putters.len())
            .field("unfinished", &i.unfinished)
            .finish()
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(w) = waker {
        w.wake();
    }
}

impl<T> Queue<T> {
    /// A queue holding at most `maxsize` items; `maxsize == 0` means unbounded, as in
    /// `asyncio.Queue(maxsize=0)`.
    ///
    /// ```
    /// let q = readyloop::sync::Queue::new(1);
    /// q.put_nowait("a").unwrap();
    /// assert!(q.put_nowait("b").is_err());
    /// ```
    pub fn new(maxsize: usize) -> Self {
        Queue {
            inner: Rc::new(RefCell::new(Inner {
                items: VecDeque::new(),
                maxsize: if maxsize == 0 { usize::MAX } else { maxsize },
                handed: 0,
                reserved: 0,
                unfinished: 0,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
            })),
        }
    }

    /// A queue without a size limit (`put` never waits).
    ///
    /// ```
    /// let q = readyloop::sync::Queue::unbounded();
    /// for i in 0..1000 { q.put_nowait(i).unwrap(); }
    /// assert_eq!(q.len(), 1000);
    /// ```
    pub fn unbounded() -> Self {
        Self::new(0)
    }

    /// The size limit, or `None` if unbounded.
    ///
    /// ```
    /// assert_eq!(readyloop::sync::Queue::<u8>::new(3).maxsize(), Some(3));
    /// assert_eq!(readyloop::sync::Queue::<u8>::unbounded().maxsize(), None);
    /// ```
    pub fn maxsize(&self) -> Option<usize> {
        let m = self.inner.borrow().maxsize;
        (m != usize::MAX).then_some(m)
    }

    /// Number of items queued (`qsize()`); items already handed to a getter are not counted.
    ///
    /// ```
    /// let q = readyloop::sync::Queue::unbounded();
    /// q.put_nowait(1).unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.borrow().items.len()
    }

    /// True if no item is queued.
    ///
    /// ```
    /// assert!(readyloop::sync::Queue::<u8>::unbounded().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.borrow().items.is_empty()
    }

    /// True if a `put_nowait` now would fail.
    ///
    /// ```
    /// let q = readyloop::sync::Queue::new(1);
    /// q.put_nowait(()).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        let i = self.inner.borrow();
        i.is_full() || !i.putters.is_empty()
    }

    /// Puts `item` without waiting, or gives it back in [`Full`]. An item put while a getter
    /// waits goes straight to the oldest getter.
    ///
    /// ```
    /// let q = readyloop::sync::Queue::new(1);
    /// assert!(q.put_nowait(1).is_ok());
    /// assert_eq!(q.put_nowait(2).unwrap_err().0, 2);
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), Full<T>> {
        let waker = {
            let mut i = self.inner.borrow_mut();
            // Waiting putters were first in line: do not overtake them.
            if i.is_full() || !i.putters.is_empty() {
                return Err(Full(item));
            }
            i.accept(item)
        };
        wake(waker);
        Ok(())
    }

    /// Takes the oldest item without waiting, or fails with [`Empty`].
    ///
    /// ```
    /// let q = readyloop::sync::Queue::unbounded();
    /// q.put_nowait('x').unwrap();
    /// assert_eq!(q.get_nowait(), Ok('x'));
    /// assert!(q.get_nowait().is_err());
    /// ```
    pub fn get_nowait(&self) -> Result<T, Empty> {
        let (item, waker) = {
            let mut i = self.inner.borrow_mut();
            // Items are queued only while no getter waits, so this overtakes nobody.
            let item = i.items.pop_front().ok_or(Empty)?;
            (item, i.grant_putter())
        };
        wake(waker);
        Ok(item)
    }

    /// Puts `item`, waiting while the queue is full. Dropping the future before it completes
    /// leaves the queue as if it had never been called (the item is dropped with it).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let q = readyloop::sync::Queue::new(1);
    /// lp.block_on(q.put(5));
    /// assert_eq!(q.get_nowait(), Ok(5));
    /// ```
    pub fn put(&self, item: T) -> Put<T> {
        Put {
            queue: self.clone(),
            item: Some(item),
            key: None,
        }
    }

    /// Takes the oldest item, waiting while the queue is empty. Dropping the future after an
    /// item was handed to it returns the item to the queue: nothing is lost.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let q = readyloop::sync::Queue::unbounded();
    /// q.put_nowait("hi").unwrap();
    /// assert_eq!(lp.block_on(q.get()), "hi");
    /// ```
    pub fn get(&self) -> Get<T> {
        Get {
            queue: self.clone(),
            key: None,
        }
    }

    /// Marks one item taken earlier as processed; when every accepted item is, `join()`
    /// returns. Fails if called more times than items were put.
    ///
    /// ```
    /// let q = readyloop::sync::Queue::unbounded();
    /// q.put_nowait(1).unwrap();
    /// q.get_nowait().unwrap();
    /// assert!(q.task_done().is_ok());
    /// assert!(q.task_done().is_err());
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        {
            let mut i = self.inner.borrow_mut();
            if i.unfinished == 0 {
                return Err(TaskDoneError);
            }
            i.unfinished -= 1;
            if i.unfinished > 0 {
                return Ok(());
            }
        }
        let mark = self.inner.borrow().joiners.mark();
        loop {
            let waker = self.inner.borrow_mut().joiners.notify_before(mark, ());
            match waker {
                Some(w) => wake(w),
                None => break,
            }
        }
        Ok(())
    }

    /// Number of accepted items not yet marked done.
    ///
    /// ```
    /// let q = readyloop::sync::Queue::unbounded();
    /// q.put_nowait(1).unwrap();
    /// assert_eq!(q.unfinished(), 1);
    /// ```
    pub fn unfinished(&self) -> usize {
        self.inner.borrow().unfinished
    }

    /// Waits until every accepted item has been marked done with [`task_done`]
    /// (`Queue.join`). Returns at once if there is no unfinished item.
    ///
    /// [`task_done`]: Queue::task_done
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let q = readyloop::sync::Queue::<u8>::unbounded();
    /// lp.block_on(q.join()); // nothing to wait for
    /// ```
    pub fn join(&self) -> QueueJoin<T> {
        QueueJoin {
            queue: self.clone(),
            key: None,
        }
    }
}

/// The future of [`Queue::put`].
///
/// ```
/// use readyloop::sync::{Put, Queue};
/// let lp = readyloop::Loop::new().unwrap();
/// let q = Queue::new(1);
/// let put: Put<u8> = q.put(5);
/// lp.block_on(put);
/// assert_eq!(q.get_nowait(), Ok(5));
/// ```
#[must_use = "a put does nothing unless awaited"]
pub struct Put<T> {
    queue: Queue<T>,
    item: Option<T>,
    key: Option<WaitKey>,
}

impl<T> fmt::Debug for Put<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

impl<T> Unpin for Put<T> {}

impl<T> Future for Put<T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let waker = {
            // Declared before the borrow, so a waker put here drops after it.
            let mut retired = None;
            let mut i = this.queue.inner.borrow_mut();
            match this.key {
                Some(key) => match i.putters.poll(key, cx.waker(), &mut retired) {
                    Some(_granted) => {
                        this.key = None;
                        i.reserved -= 1;
                    }
                    None => return Poll::Pending,
                },
                None => {
                    if this.item.is_none() {
                        panic!("readyloop: Queue::put polled after it completed");
                    }
                    if i.is_full() || !i.putters.is_empty() {
                        this.key = Some(i.putters.push(cx.waker()));
                        return Poll::Pending;
                    }
                }
            }
            let item = this.item.take().expect("put item present until accepted");
            i.accept(item)
        };
        wake(waker);
        Poll::Ready(())
    }
}

impl<T> Drop for Put<T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = {
            // Declared before the borrow, so a waker put here drops after it.
            let mut retired = None;
            let mut i = self.queue.inner.borrow_mut();
            match i.putters.remove(key, &mut retired) {
                // Room had been reserved for us: pass it to the next putter.
                Some(_) => {
                    i.reserved -= 1;
                    i.grant_putter()
                }
                None => None,
            }
        };
        wake(waker);
    }
}

/// The future of [`Queue::get`].
///
/// ```
/// use readyloop::sync::{Get, Queue};
/// let lp = readyloop::Loop::new().unwrap();
/// let q = Queue::unbounded();
/// lp.handle().spawn({ let q = q.clone(); async move { q.put("item").await } });
/// let get: Get<&str> = q.get();
/// assert_eq!(lp.block_on(get), "item");
/// ```
#[must_use = "a get does nothing unless awaited"]
pub struct Get<T> {
    queue: Queue<T>,
    key: Option<WaitKey>,
}

impl<T> fmt::Debug for Get<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

impl<T> Unpin for Get<T> {}

impl<T> Future for Get<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = &mut *self;
        let (item, waker) = {
            // Declared before the borrow, so a waker put here drops after it.
            let mut retired = None;
            let mut i = this.queue.inner.borrow_mut();
            let item = match this.key {
                Some(key) => match i.getters.poll(key, cx.waker(), &mut retired) {
                    Some(item) => {
                        this.key = None;
                        i.handed -= 1;
                        item.expect("a notified getter holds its item")
                    }
                    None => return Poll::Pending,
                },
                None => match i.items.pop_front() {
                    Some(item) => item,
                    None => {
                        this.key = Some(i.getters.push(cx.waker()));
                        return Poll::Pending;
                    }
                },
            };
            (item, i.grant_putter())
        };
        wake(waker);
        Poll::Ready(item)
    }
}

impl<T> Drop for Get<T> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let waker = {
            // Declared before the borrow, so a waker put here drops after it.
            let mut retired = None;
            let mut i = self.queue.inner.borrow_mut();
            match i.getters.remove(key, &mut retired) {
                // We were handed an item but never took it: give it back.
                Some(Some(item)) => {
                    i.handed -= 1;
                    i.give_back(item)
                }
                _ => None,
            }
        };
        wake(waker);
    }
}

/// The future of [`Queue::join`].
///
/// ```
/// use readyloop::sync::{Queue, QueueJoin};
/// let lp = readyloop::Loop::new().unwrap();
/// let q = Queue::unbounded();
/// q.put_nowait(1).unwrap();
/// lp.handle().spawn({
///     let q = q.clone();
///     async move { let _item = q.get().await; q.task_done().unwrap(); }
/// });
/// let all_done: QueueJoin<i32> = q.join();
/// lp.block_on(all_done);
/// assert_eq!(q.unfinished(), 0);
/// ```
#[must_use = "a join does nothing unless awaited"]
pub struct QueueJoin<T> {
    queue: Queue<T>,
    key: Option<WaitKey>,
}

impl<T> fmt::Debug for QueueJoin<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueJoin")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

impl<T> Unpin for QueueJoin<T> {}

impl<T> Future for QueueJoin<T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        // Declared before the borrow, so a waker put here drops after it.
        let mut retired = None;
        let mut i = this.queue.inner.borrow_mut();
        match this.key {
            Some(key) => match i.joiners.poll(key, cx.waker(), &mut retired) {
                Some(_) => {
                    this.key = None;
                    Poll::Ready(())
                }
                None => Poll::Pending,
            },
            None if i.unfinished == 0 => Poll::Ready(()),
            None => {
                this.key = Some(i.joiners.push(cx.waker()));
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for QueueJoin<T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // A joiner's notification carries nothing; nobody else needs it passed on.
            // Declared before the borrow, so a waker put here drops after it.
            let mut retired = None;
            let _ = self
                .queue
                .inner
                .borrow_mut()
                .joiners
                .remove(key, &mut retired);
        }
    }
}
