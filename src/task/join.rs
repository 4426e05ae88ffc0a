//! `JoinHandle`: awaits a spawned task's output, or aborts it.

pub use super::join_error::JoinError;
use super::raw::TaskRef;
use alloc::sync::Arc;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Awaits the output of a task started with [`Handle::spawn`](crate::Handle::spawn)
/// (`asyncio.create_task` returns the same idea: a Task you can await or cancel).
///
/// Dropping a `JoinHandle` **detaches** the task: it keeps running and its output is dropped
/// when it finishes. To cancel instead, call [`abort`](JoinHandle::abort) or wrap the handle
/// with [`JoinHandle::abort_on_drop`]. An aborted task's future is dropped at the loop's next
/// turn (which also withdraws whatever fd or timer it waited on); awaiting it then gives
/// [`JoinError::Cancelled`].
///
/// ```
/// use readyloop::Loop;
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let out = lp.block_on(async move {
///     let task = h.spawn(async { 6 * 7 });
///     task.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
pub struct JoinHandle<T> {
    task: TaskRef,
    abort_on_drop: bool,
    _output: PhantomData<T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: TaskRef) -> Self {
        JoinHandle {
            task,
            abort_on_drop: false,
            _output: PhantomData,
        }
    }

    /// Cancels the task: its future is dropped at the loop's next turn. No effect if it
    /// already finished.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let task = h.spawn({
    ///     let h = h.clone();
    ///     async move { h.sleep(Duration::from_secs(3600)).await }
    /// });
    /// task.abort(); // the hour-long sleep is withdrawn at the next turn
    /// assert!(lp.block_on(task).unwrap_err().is_cancelled());
    /// assert_eq!(h.stats().timers_armed, 0);
    /// ```
    pub fn abort(&self) {
        if !self.task.is_complete() {
            self.task.request_abort();
        }
    }

    /// True once the task finished, was cancelled, or panicked.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let task = lp.handle().spawn(async { 1 });
    /// assert!(!task.is_finished());
    /// lp.block_on(readyloop::yield_now());
    /// assert!(task.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.is_complete()
    }

    /// The task's id (as in traces and stuck-task reports).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = (lp.handle().spawn(async {}), lp.handle().spawn(async {}));
    /// assert_ne!(a.id(), b.id());
    /// ```
    pub fn id(&self) -> u64 {
        self.task.id()
    }

    /// Makes dropping this handle abort the task instead of detaching it.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let task = h.spawn({
    ///     let h = h.clone();
    ///     async move { h.sleep(Duration::from_secs(3600)).await }
    /// });
    /// drop(task.abort_on_drop());
    /// lp.block_on(readyloop::yield_now());
    /// assert_eq!(h.stats().tasks_alive, 0);
    /// ```
    pub fn abort_on_drop(mut self) -> Self {
        self.abort_on_drop = true;
        self
    }
}

// A handle holds no `T` inline (the output lives in the task), so moving it is always fine.
impl<T> Unpin for JoinHandle<T> {}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = &self.task;
        if task.is_complete() {
            let mut out = Poll::Pending;
            // SAFETY: a JoinHandle<T> is only made for a task whose output type is T.
            unsafe { task.take_output(&mut out) };
            if out.is_pending() {
                panic!("readyloop: JoinHandle polled again after it returned the output");
            }
            return out;
        }
        check_loop_running(task);
        // The stored waker is moved out and back, never borrowed in place: cloning the new
        // one and dropping the old one may run user code that re-enters the loop and reads
        // this task (a report), so each happens while the slot holds a whole value.
        let stored = task.take_join_waker();
        let replaced = match stored {
            Some(w) if crate::task::same_waker(&w, cx.waker()) => task.replace_join_waker(Some(w)),
            old => {
                let new = crate::task::local_clone(cx.waker(), Arc::as_ptr(task.shared()));
                let empty = task.replace_join_waker(Some(new));
                drop(empty);
                old
            }
        };
        drop(replaced);
        Poll::Pending
    }
}

/// Panics if `task`'s loop is not the one running on this thread: the task cannot make
/// progress then, and awaiting it (from another runtime, or another loop) would hang. The
/// loop tells its `Shared` when it runs, so this layer never asks the executor.
fn check_loop_running(task: &TaskRef) {
    if !task.shared().is_running_here() {
        panic!("{} (JoinHandle)", crate::error::LOOP_NOT_RUNNING);
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if self.abort_on_drop {
            self.abort();
        }
        self.task.set_join_gone();
        let join_waker = self.task.take_join_waker();
        drop(join_waker);
        if self.task.is_complete() {
            self.task.drop_stage();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.task.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}
