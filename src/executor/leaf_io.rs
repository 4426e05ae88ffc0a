//! What an fd leaf (`AsyncRecv`, `ReadFd`, the sockets...) asks of its loop: try the
//! syscall, and on `EAGAIN` register interest in the fd with the task's waker
//! (`Handle::poll_io` -> `register_io` -> `Reactor::register`). This is seed 002's
//! `AsyncRecv.__await__` from the loop's side: the leaf yields "wait for this fd to read".
//! A waker is cloned and dropped only outside the reactor's borrow (user code may run).

use super::Handle;
use crate::error::Error;
use crate::sys::{Interest, RawFd};
use crate::task::NewWaker;
use crate::trace::PendingOn;
use alloc::sync::Arc;
use core::task::{Context, Poll};
use rustix::io::Errno;

impl Handle {
    /// Tries `op`; if it would block, registers `*token` for `fd`/`interest` and returns
    /// Pending. EINTR retries; any other error is returned.
    pub(crate) fn poll_io<T>(
        &self,
        cx: &Context<'_>,
        fd: RawFd,
        interest: Interest,
        token: &mut u64,
        mut op: impl FnMut() -> Result<T, Errno>,
    ) -> Poll<Result<T, Error>> {
        if let Err(e) = self.check_running() {
            return Poll::Ready(Err(e));
        }
        if self.poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        loop {
            match op() {
                Ok(v) => {
                    self.cancel_io(fd, interest, token);
                    return Poll::Ready(Ok(v));
                }
                Err(Errno::INTR) => continue,
                Err(Errno::AGAIN) => {
                    return match self.register_io(cx, fd, interest, token) {
                        Ok(()) => Poll::Pending,
                        Err(e) => Poll::Ready(Err(e)),
                    };
                }
                Err(e) => {
                    self.cancel_io(fd, interest, token);
                    return Poll::Ready(Err(Error::from_errno(e)));
                }
            }
        }
    }

    pub(crate) fn register_io(
        &self,
        cx: &Context<'_>,
        fd: RawFd,
        interest: Interest,
        token: &mut u64,
    ) -> Result<(), Error> {
        let now = self.core.now.get();
        // Both made and dropped outside the reactor's borrow: a foreign waker's `clone` and
        // `Drop` are user code, which may re-enter the loop.
        let mut retired = None;
        let mut waker = NewWaker::new(cx.waker(), Arc::as_ptr(&self.core.shared));
        let result = self.core.reactor.borrow_mut().register(
            fd,
            interest,
            token,
            &mut waker,
            now,
            &mut retired,
        );
        drop(waker);
        drop(retired);
        result?;
        self.core.note_pending_on(|| PendingOn::Fd { fd, interest });
        Ok(())
    }

    /// Withdraws a registration (leaves call this on drop, and once their syscall succeeds).
    pub(crate) fn cancel_io(&self, fd: RawFd, interest: Interest, token: &mut u64) {
        if *token != 0 {
            let retired = match self.core.reactor.try_borrow_mut() {
                Ok(mut r) => r.cancel(fd, interest, token),
                Err(_) => None,
            };
            drop(retired);
        }
    }
}
