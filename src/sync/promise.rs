//! `promise()`: asyncio.Future, a result set by hand and awaited by any number of tasks.
//!
//! The pair splits asyncio's one object in two Rust halves: the [`Promise`] sets the outcome
//! (`set_result`, `set_error`, `cancel`), the cloneable [`SharedFuture`] awaits it. Setting
//! an outcome twice is an error value, never a panic; dropping the promise without setting
//! anything cancels the future, so no waiter can hang on a setter that is gone. This module
//! must never call a waker or a done callback while it holds its `RefCell` borrow.

use super::waiters::{WaitKey, WaitList};
use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Why a [`SharedFuture`] holds no value.
///
/// ```
/// use readyloop::sync::{promise, FutureError};
/// let lp = readyloop::Loop::new().unwrap();
/// let (p, f) = promise::<u8, &str>();
/// p.set_error("disk full").unwrap();
/// assert_eq!(lp.block_on(f), Err(FutureError::Failed("disk full")));
/// let (p, f) = promise::<u8, &str>();
/// drop(p); // dropped without an outcome: cancelled
/// assert_eq!(lp.block_on(f), Err(FutureError::Cancelled));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FutureError<E> {
    /// The promise set an error (`set_exception`).
    Failed(E),
    /// The future was cancelled, or its promise dropped without an outcome.
    Cancelled,
}

impl<E> FutureError<E> {
    /// True for [`FutureError::Cancelled`].
    ///
    /// ```
    /// assert!(readyloop::sync::FutureError::<()>::Cancelled.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, FutureError::Cancelled)
    }
}

impl<E: fmt::Display> fmt::Display for FutureError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Failed(e) => write!(f, "the future failed: {e}"),
            FutureError::Cancelled => f.write_str("the future was cancelled"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for FutureError<E> {}

/// A promise's outcome was already set (asyncio's `InvalidStateError`); carries back the
/// value that could not be set.
///
/// ```
/// use readyloop::sync::{promise, AlreadySet};
/// let (p, _f) = promise::<u8, ()>();
/// p.set_result(1).unwrap();
/// assert_eq!(p.set_result(2), Err(AlreadySet(2)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AlreadySet<V>(pub V);

impl<V> fmt::Debug for AlreadySet<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AlreadySet(..)")
    }
}

impl<V> fmt::Display for AlreadySet<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the future already has an outcome (result, error or cancel was set before)")
    }
}

impl<V> core::error::Error for AlreadySet<V> {}

/// What awaiting a [`SharedFuture`] gives.
///
/// ```
/// use readyloop::sync::{promise, Outcome};
/// let lp = readyloop::Loop::new().unwrap();
/// let (p, f) = promise::<&str, ()>();
/// p.set_result("done").unwrap();
/// let outcome: Outcome<&str, ()> = lp.block_on(f);
/// assert_eq!(outcome, Ok("done"));
/// ```
pub type Outcome<T, E> = Result<T, FutureError<E>>;

type Callback<T, E> = Box<dyn FnOnce(&Outcome<T, E>)>;

struct State<T, E> {
    /// Set once; shared so callbacks can read it with no borrow of the state held.
    outcome: Option<Rc<Outcome<T, E>>>,
    waiters: WaitList<()>,
    callbacks: Vec<Callback<T, E>>,
}

type Shared<T, E> = Rc<RefCell<State<T, E>>>;

/// Makes a hand-set future (`loop.create_future()`): the [`Promise`] sets its outcome, the
/// [`SharedFuture`] (clone it for each waiter) awaits it.
///
/// ```
/// use core::time::Duration;
/// use readyloop::{Loop, sync::promise};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let (promise, future) = promise::<&str, ()>();
/// let out = lp.block_on(async move {
///     h.spawn({
///         let h = h.clone();
///         async move {
///             h.sleep(Duration::from_millis(5)).await;
///             promise.set_result("resolved").unwrap();
///         }
///     });
///     future.await
/// });
/// assert_eq!(out, Ok("resolved"));
/// ```
pub fn promise<T, E>() -> (Promise<T, E>, SharedFuture<T, E>) {
    let shared = Rc::new(RefCell::new(State {
        outcome: None,
        waiters: WaitList::new(),
        callbacks: Vec::new(),
    }));
    (
        Promise {
            shared: shared.clone(),
        },
        SharedFuture { shared, key: None },
    )
}

/// Sets all waiters' outcome; returns the value back if one was set before.
fn settle<T, E, V>(
    shared: &Shared<T, E>,
    outcome: Outcome<T, E>,
    back: impl FnOnce(Outcome<T, E>) -> V,
) -> Result<(), V> {
    let (outcome, callbacks, mark) = {
        let mut s = shared.borrow_mut();
        if s.outcome.is_some() {
            drop(s);
            return Err(back(outcome));
        }
        let outcome = Rc::new(outcome);
        s.outcome = Some(outcome.clone());
        (outcome, core::mem::take(&mut s.callbacks), s.waiters.mark())
    };
    loop {
        let waker = shared.borrow_mut().waiters.notify_before(mark, ());
        match waker {
            Some(Some(w)) => w.wake(),
            Some(None) => {}
            None => break,
        }
    }
    for callback in callbacks {
        callback(&outcome);
    }
    Ok(())
}

fn add_callback<T, E>(shared: &Shared<T, E>, callback: impl FnOnce(&Outcome<T, E>) + 'static) {
    let done = {
        let mut s = shared.borrow_mut();
        match &s.outcome {
            Some(outcome) => Some(outcome.clone()),
            None => {
                s.callbacks.push(Box::new(callback));
                return;
            }
        }
    };
    if let Some(outcome) = done {
        callback(&outcome);
    }
}

/// The setting half of a hand-set future (see [`promise`]). Dropping it without setting an
/// outcome cancels the future.
///
/// ```
/// use readyloop::sync::{promise, Promise};
/// let lp = readyloop::Loop::new().unwrap();
/// let (p, f): (Promise<u32, ()>, _) = promise();
/// lp.handle().spawn(async move { p.set_result(42).unwrap() });
/// assert_eq!(lp.block_on(f), Ok(42));
/// ```
pub struct Promise<T, E> {
    shared: Shared<T, E>,
}

impl<T, E> fmt::Debug for Promise<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Promise")
            .field("done", &self.is_done())
            .finish()
    }
}

impl<T, E> Promise<T, E> {
    /// Sets the result and wakes every waiter (`set_result`). Fails, giving `value` back, if
    /// an outcome was already set.
    ///
    /// ```
    /// let (p, f) = readyloop::sync::promise::<u8, ()>();
    /// assert!(p.set_result(1).is_ok());
    /// assert_eq!(p.set_result(2).unwrap_err().0, 2);
    /// assert_eq!(f.result(), Some(Ok(1)));
    /// ```
    pub fn set_result(&self, value: T) -> Result<(), AlreadySet<T>> {
        settle(&self.shared, Ok(value), |o| match o {
            Ok(v) => AlreadySet(v),
            Err(_) => unreachable!(),
        })
    }

    /// Sets an error and wakes every waiter (`set_exception`); they get
    /// [`FutureError::Failed`]. Fails, giving `error` back, if an outcome was already set.
    ///
    /// ```
    /// use readyloop::sync::{promise, FutureError};
    /// let (p, f) = promise::<u8, &str>();
    /// p.set_error("boom").unwrap();
    /// assert_eq!(f.result(), Some(Err(FutureError::Failed("boom"))));
    /// ```
    pub fn set_error(&self, error: E) -> Result<(), AlreadySet<E>> {
        settle(&self.shared, Err(FutureError::Failed(error)), |o| match o {
            Err(FutureError::Failed(e)) => AlreadySet(e),
            _ => unreachable!(),
        })
    }

    /// Cancels the future: every waiter gets [`FutureError::Cancelled`]. Returns false if an
    /// outcome was already set (as asyncio's `cancel()` does).
    ///
    /// ```
    /// let (p, f) = readyloop::sync::promise::<u8, ()>();
    /// assert!(p.cancel());
    /// assert!(!p.cancel());
    /// assert!(f.is_cancelled());
    /// ```
    pub fn cancel(&self) -> bool {
        settle(&self.shared, Err(FutureError::Cancelled), |_| ()).is_ok()
    }

    /// Whether an outcome is set (`done()`).
    ///
    /// ```
    /// let (p, _f) = readyloop::sync::promise::<u8, ()>();
    /// assert!(!p.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.shared.borrow().outcome.is_some()
    }

    /// Another awaiting half for the same outcome.
    ///
    /// ```
    /// let (p, _f) = readyloop::sync::promise::<u8, ()>();
    /// let f2 = p.future();
    /// p.set_result(3).unwrap();
    /// assert_eq!(f2.result(), Some(Ok(3)));
    /// ```
    pub fn future(&self) -> SharedFuture<T, E> {
        SharedFuture {
            shared: self.shared.clone(),
            key: None,
        }
    }

    /// Runs `callback` with the outcome once it is set (at once if it already is), in the
    /// order callbacks were added (`add_done_callback`).
    ///
    /// Unlike asyncio, which schedules callbacks with `call_soon`, readyloop calls them right
    /// after the outcome is set and every waiter has been woken, on the setter's stack; they
    /// may set other promises or add callbacks, but should not block.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// let (p, _f) = readyloop::sync::promise::<u8, ()>();
    /// let seen = Rc::new(Cell::new(0));
    /// let s = seen.clone();
    /// p.add_done_callback(move |r| s.set(*r.as_ref().unwrap()));
    /// p.set_result(9).unwrap();
    /// assert_eq!(seen.get(), 9);
    /// ```
    pub fn add_done_callback(&self, callback: impl FnOnce(&Outcome<T, E>) + 'static) {
        add_callback(&self.shared, callback);
    }
}

impl<T, E> Drop for Promise<T, E> {
    fn drop(&mut self) {
        // A setter that is gone can never set anything: release the waiters.
        let _ = settle(&self.shared, Err(FutureError::Cancelled), |_| ());
    }
}

/// The awaiting half of a hand-set future (see [`promise`]). Clone it for each waiter; each
/// gets its own copy of the outcome (`T` and `E` must be `Clone`; wrap them in `Rc`
/// otherwise).
///
/// ```
/// use readyloop::sync::promise;
/// let lp = readyloop::Loop::new().unwrap();
/// let (p, f) = promise::<&str, ()>();
/// let waiters: Vec<_> = (0..3).map(|_| lp.handle().spawn(f.clone())).collect();
/// p.set_result("for everyone").unwrap();
/// for w in waiters {
///     assert_eq!(lp.block_on(w).unwrap(), Ok("for everyone"));
/// }
/// ```
pub struct SharedFuture<T, E> {
    shared: Shared<T, E>,
    key: Option<WaitKey>,
}

impl<T, E> Clone for SharedFuture<T, E> {
    fn clone(&self) -> Self {
        SharedFuture {
            shared: self.shared.clone(),
            key: None,
        }
    }
}

impl<T, E> fmt::Debug for SharedFuture<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedFuture")
            .field("done", &self.is_done())
            .finish()
    }
}

impl<T, E> SharedFuture<T, E> {
    /// Whether an outcome is set (`done()`).
    ///
    /// ```
    /// let (p, f) = readyloop::sync::promise::<u8, ()>();
    /// p.set_result(1).unwrap();
    /// assert!(f.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.shared.borrow().outcome.is_some()
    }

    /// Whether the future was cancelled (`cancelled()`).
    ///
    /// ```
    /// let (p, f) = readyloop::sync::promise::<u8, ()>();
    /// drop(p); // a promise dropped unset cancels
    /// assert!(f.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self.shared.borrow().outcome.as_deref(),
            Some(Err(FutureError::Cancelled))
        )
    }

    /// Runs `callback` with the outcome once it is set; see
    /// [`Promise::add_done_callback`].
    ///
    /// ```
    /// let (p, f) = readyloop::sync::promise::<u8, ()>();
    /// f.add_done_callback(|r| assert!(r.is_err()));
    /// p.cancel();
    /// ```
    pub fn add_done_callback(&self, callback: impl FnOnce(&Outcome<T, E>) + 'static) {
        add_callback(&self.shared, callback);
    }
}

impl<T: Clone, E: Clone> SharedFuture<T, E> {
    /// A copy of the outcome, or `None` while it is not set (`result()` without raising).
    ///
    /// ```
    /// let (p, f) = readyloop::sync::promise::<u8, ()>();
    /// assert_eq!(f.result(), None);
    /// p.set_result(4).unwrap();
    /// assert_eq!(f.result(), Some(Ok(4)));
    /// ```
    pub fn result(&self) -> Option<Outcome<T, E>> {
        self.shared.borrow().outcome.as_deref().cloned()
    }
}

impl<T: Clone, E: Clone> Future for SharedFuture<T, E> {
    type Output = Outcome<T, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        // Declared before the borrow, so a waker put here drops after it.
        let mut retired = None;
        let mut s = this.shared.borrow_mut();
        if let Some(outcome) = s.outcome.clone() {
            if let Some(key) = this.key.take() {
                let _ = s.waiters.remove(key, &mut retired);
            }
            return Poll::Ready((*outcome).clone());
        }
        match this.key {
            Some(key) => {
                let _ = s.waiters.poll(key, cx.waker(), &mut retired);
            }
            None => this.key = Some(s.waiters.push(cx.waker())),
        }
        Poll::Pending
    }
}

impl<T, E> Drop for SharedFuture<T, E> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Every waiter is notified at once; nothing to pass on.
            // Declared before the borrow, so a waker put here drops after it.
            let mut retired = None;
            let _ = self.shared.borrow_mut().waiters.remove(key, &mut retired);
        }
    }
}
