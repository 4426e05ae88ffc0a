//! The rules every leaf follows before it touches the loop: the loop must be running (a leaf
//! polled elsewhere would hang: an error value, or a panic for a leaf with no error
//! channel), and a task that keeps finding its sources ready must yield once its budget is
//! spent, so it cannot starve the loop. Also `poll_ready`, for leaves that wait for
//! readiness without a syscall of their own. Nothing here blocks.

use super::Handle;
use crate::error::{Error, ErrorKind, LOOP_NOT_RUNNING};
use crate::stats::bump;
use crate::sys::{Interest, RawFd};
use core::task::{Context, Poll};

impl Handle {
    /// Fails with `NoLoop` unless the loop is running (a leaf polled elsewhere would hang):
    /// the rule for leaves whose output is a `Result`.
    pub(crate) fn check_running(&self) -> Result<(), Error> {
        if self.core.running.get() {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::NoLoop, LOOP_NOT_RUNNING))
        }
    }

    /// Panics unless the loop is running: the rule for leaves with no error channel
    /// (`Sleep`, an interval's tick), with the message `NoLoop` carries.
    #[track_caller]
    pub(crate) fn assert_running(&self, what: &'static str) {
        if !self.core.running.get() {
            panic!("{LOOP_NOT_RUNNING} ({what})");
        }
    }

    /// Spends one unit of the running task's budget; when it is used up the task is woken
    /// again and made to yield, so an always-ready source cannot starve the loop.
    pub(crate) fn poll_budget(&self, cx: &Context<'_>) -> Poll<()> {
        let left = self.core.budget.get();
        if left == 0 {
            bump(&self.core.counters.budget_yields, 1);
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.core.budget.set(left - 1);
        Poll::Ready(())
    }

    /// Waits for readiness only: Ready once the registered wait has been woken by the
    /// kernel (or on the first poll, if `*token` is 0 and `check_first` says it is ready).
    pub(crate) fn poll_ready(
        &self,
        cx: &Context<'_>,
        fd: RawFd,
        interest: Interest,
        token: &mut u64,
    ) -> Poll<Result<(), Error>> {
        if let Err(e) = self.check_running() {
            return Poll::Ready(Err(e));
        }
        if *token != 0 && !self.core.reactor.borrow().is_waiting(fd, interest, *token) {
            *token = 0;
            return Poll::Ready(Ok(()));
        }
        match self.register_io(cx, fd, interest, token) {
            Ok(()) => Poll::Pending,
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}
