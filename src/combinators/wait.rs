//! `wait`: asyncio.wait over spawned tasks, giving back `(done, pending)`.
//!
//! Seed 003 builds `wait` from done-callbacks and one future that the last callback
//! resolves. Here the `Wait` future polls each task's [`JoinHandle`] (a completed task wakes
//! it through the handle's waker), collects the outputs of the tasks that finished, and
//! stops at the [`ReturnWhen`] condition or at the timeout. Pending tasks are handed back
//! untouched, still running; `wait` never cancels anything.

use crate::events::Sleep;
use crate::executor::Handle;
use crate::task::{JoinError, JoinHandle};
use crate::time::Instant;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

/// When [`wait`](crate::wait) returns.
///
/// ```
/// use core::time::Duration;
/// use readyloop::{Loop, ReturnWhen};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let slow = h.spawn({
///     let h = h.clone();
///     async move { h.sleep(Duration::from_secs(60)).await; Ok(()) }
/// });
/// let failing = h.spawn(async { Err::<(), &str>("refused") });
/// // FirstError returns as soon as one task fails, without waiting for the slow one.
/// let (done, pending) = lp.block_on(lp.handle().wait(vec![slow, failing], ReturnWhen::FirstError, None));
/// assert_eq!((done.len(), pending.len()), (1, 1));
/// pending[0].abort();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task finishes (`FIRST_COMPLETED`).
    FirstCompleted,
    /// When every task has finished (`ALL_COMPLETED`, the default).
    #[default]
    AllCompleted,
    /// When any task fails (see [`TaskOutcome`]), or else when all have finished
    /// (`FIRST_EXCEPTION`).
    FirstError,
}

/// How `wait(.., ReturnWhen::FirstError, ..)` tells a failed task from a good one: a task
/// failed if it panicked or was cancelled ([`JoinError`]) or if its output says so.
///
/// Implemented for `Result` (an `Err` is a failure) and, as never failing, for `()`, `bool`,
/// `char`, the integers, `String`, `&'static str`, `Vec` and `Option`. Implement it for
/// your own output types as needed.
///
/// ```
/// use readyloop::TaskOutcome;
/// assert!(Err::<(), &str>("no").is_failure());
/// assert!(!().is_failure());
/// ```
pub trait TaskOutcome {
    /// True if this output means the task failed.
    ///
    /// ```
    /// use readyloop::TaskOutcome;
    /// struct Reply { status: u16 }
    /// impl TaskOutcome for Reply {
    ///     fn is_failure(&self) -> bool { self.status >= 500 }
    /// }
    /// assert!(Reply { status: 503 }.is_failure());
    /// assert!(!Reply { status: 200 }.is_failure());
    /// assert!(Err::<u8, ()>(()).is_failure());
    /// ```
    fn is_failure(&self) -> bool;
}

impl<T, E> TaskOutcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

macro_rules! never_fails {
    ($($t:ty),*) => {$(
        impl TaskOutcome for $t {
            fn is_failure(&self) -> bool {
                false
            }
        }
    )*};
}

never_fails!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize
);
never_fails!(alloc::string::String, &'static str);

impl<T> TaskOutcome for Vec<T> {
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T> TaskOutcome for Option<T> {
    fn is_failure(&self) -> bool {
        false
    }
}

/// A task that finished during a [`wait`](crate::wait): its place in the input and its
/// result. Awaiting it gives the result at once, as awaiting a finished `JoinHandle` does.
///
/// ```
/// use readyloop::{Loop, ReturnWhen};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let tasks = vec![h.spawn(async { "a" }), h.spawn(async { "b" })];
/// let (done, _) = lp.block_on(lp.handle().wait(tasks, ReturnWhen::AllCompleted, None));
/// let first = lp.block_on(async { done.into_iter().next().unwrap().await });
/// assert!(matches!(first, Ok("a" | "b")));
/// ```
pub struct Finished<T> {
    index: usize,
    id: u64,
    result: Option<Result<T, JoinError>>,
}

impl<T> fmt::Debug for Finished<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finished")
            .field("index", &self.index)
            .field("id", &self.id)
            .finish()
    }
}

impl<T> Finished<T> {
    /// The task's position in the list given to `wait`.
    ///
    /// ```
    /// use readyloop::{Loop, ReturnWhen};
    /// let lp = Loop::new().unwrap();
    /// let tasks = vec![lp.handle().spawn(core::future::pending::<()>()), lp.handle().spawn(async {})];
    /// let (done, pending) = lp.block_on(lp.handle().wait(tasks, ReturnWhen::FirstCompleted, None));
    /// assert_eq!(done[0].index(), 1);
    /// pending[0].abort();
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// The task's id (as [`JoinHandle::id`]).
    ///
    /// ```
    /// use readyloop::{Loop, ReturnWhen};
    /// let lp = Loop::new().unwrap();
    /// let task = lp.handle().spawn(async {});
    /// let id = task.id();
    /// let (done, _) = lp.block_on(lp.handle().wait(vec![task], ReturnWhen::AllCompleted, None));
    /// assert_eq!(done[0].id(), id);
    /// ```
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The task's result (`task.result()`).
    ///
    /// # Panics
    /// If the result was already taken by awaiting this `Finished`.
    ///
    /// ```
    /// use readyloop::{Loop, ReturnWhen};
    /// let lp = Loop::new().unwrap();
    /// let failing = lp.handle().spawn(async { Err::<(), &str>("bad input") });
    /// let (done, _) = lp.block_on(lp.handle().wait(vec![failing], ReturnWhen::FirstError, None));
    /// assert_eq!(done[0].result().as_ref().unwrap(), &Err("bad input"));
    /// ```
    pub fn result(&self) -> &Result<T, JoinError> {
        self.result
            .as_ref()
            .expect("readyloop: Finished result already taken by .await")
    }

    /// The task's result, by value.
    ///
    /// # Panics
    /// If the result was already taken by awaiting this `Finished`.
    ///
    /// ```
    /// use readyloop::{Loop, ReturnWhen};
    /// let lp = Loop::new().unwrap();
    /// let (done, _) = lp.block_on(lp.handle().wait(vec![lp.handle().spawn(async { 7 })], ReturnWhen::AllCompleted, None));
    /// assert_eq!(done.into_iter().next().unwrap().into_result().unwrap(), 7);
    /// ```
    pub fn into_result(self) -> Result<T, JoinError> {
        self.result
            .expect("readyloop: Finished result already taken by .await")
    }
}

impl<T> Unpin for Finished<T> {}

impl<T> Future for Finished<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(
            self.result
                .take()
                .expect("readyloop: Finished polled after it returned its result"),
        )
    }
}

fn failed<T: TaskOutcome>(result: &Result<T, JoinError>) -> bool {
    match result {
        Ok(output) => output.is_failure(),
        Err(_) => true,
    }
}

/// The future of [`Handle::wait`]: `(done, pending)`, `done` in
/// the order the tasks finished, `pending` in input order.
///
/// ```
/// use readyloop::combinators::Wait;
/// use readyloop::{Loop, ReturnWhen};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let tasks = vec![h.spawn(async { 1 })];
/// let waiting: Wait<i32> = h.wait(tasks, ReturnWhen::AllCompleted, None);
/// let (done, pending) = lp.block_on(waiting);
/// assert_eq!((done.len(), pending.len()), (1, 0));
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T> {
    tasks: Vec<Option<JoinHandle<T>>>,
    done: Vec<Finished<T>>,
    when: ReturnWhen,
    deadline: Option<Instant>,
    /// The loop whose timer to use, found when the wait was made.
    handle: Handle,
    sleep: Option<Sleep>,
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("when", &self.when)
            .field("done", &self.done.len())
            .field("pending", &self.tasks.iter().flatten().count())
            .finish()
    }
}

impl<T> Unpin for Wait<T> {}

impl<T> Wait<T> {
    pub(crate) fn new(
        handle: Handle,
        tasks: impl IntoIterator<Item = JoinHandle<T>>,
        when: ReturnWhen,
        deadline: Option<Instant>,
    ) -> Self {
        let tasks: Vec<_> = tasks.into_iter().map(Some).collect();
        Wait {
            done: Vec::with_capacity(tasks.len()),
            tasks,
            when,
            deadline,
            handle,
            sleep: None,
        }
    }

    fn finish(&mut self) -> (Vec<Finished<T>>, Vec<JoinHandle<T>>) {
        self.sleep = None;
        let pending = self.tasks.drain(..).flatten().collect();
        (core::mem::take(&mut self.done), pending)
    }
}

impl<T: TaskOutcome> Future for Wait<T> {
    type Output = (Vec<Finished<T>>, Vec<JoinHandle<T>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut any_failed = this.done.iter().any(|f| failed(f.result()));
        let mut remaining = 0;
        for (index, slot) in this.tasks.iter_mut().enumerate() {
            let Some(task) = slot else { continue };
            match Pin::new(&mut *task).poll(cx) {
                Poll::Ready(result) => {
                    any_failed |= failed(&result);
                    this.done.push(Finished {
                        index,
                        id: task.id(),
                        result: Some(result),
                    });
                    *slot = None;
                }
                Poll::Pending => remaining += 1,
            }
        }
        let finished = remaining == 0
            || match this.when {
                ReturnWhen::FirstCompleted => !this.done.is_empty(),
                ReturnWhen::AllCompleted => false,
                ReturnWhen::FirstError => any_failed,
            };
        if finished {
            return Poll::Ready(this.finish());
        }
        let Some(deadline) = this.deadline else {
            return Poll::Pending;
        };
        if this.sleep.is_none() {
            this.sleep = Some(this.handle.sleep_until(deadline));
        }
        match Pin::new(this.sleep.as_mut().expect("armed above")).poll(cx) {
            Poll::Ready(()) => Poll::Ready(this.finish()),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Handle {
    /// Waits for spawned tasks (`asyncio.wait`) until `when` holds or `timeout` passes, and
    /// returns `(done, pending)`: the tasks that finished, as [`Finished`] (in the order they
    /// finished), and the handles of the others (in input order, still running). An empty
    /// list returns at once. Dropping the `Wait` drops the handles it holds, which detaches
    /// those tasks (see [`JoinHandle`]).
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::{Loop, ReturnWhen};
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let (done, pending) = lp.block_on(async {
    ///     let tasks: Vec<_> = [10u64, 500].iter().map(|&ms| {
    ///         let h2 = h.clone();
    ///         h.spawn(async move { h2.sleep(Duration::from_millis(ms)).await })
    ///     }).collect();
    ///     h.wait(tasks, ReturnWhen::AllCompleted, Some(Duration::from_millis(100))).await
    /// });
    /// assert_eq!((done.len(), pending.len()), (1, 1));
    /// assert_eq!(done[0].index(), 0);
    /// for task in pending { task.abort(); }
    /// ```
    pub fn wait<T, I>(&self, tasks: I, when: ReturnWhen, timeout: Option<Duration>) -> Wait<T>
    where
        I: IntoIterator<Item = JoinHandle<T>>,
    {
        let deadline = timeout.map(|d| self.now() + d);
        Wait::new(self.clone(), tasks, when, deadline)
    }
}
