//! Withdrawing a wait before the kernel reported its fd (a leaf dropped, or done, while
//! registered), and asking whether a wait is still registered (`is_waiting`, for
//! `Handle::poll_ready`). A withdrawn waker goes back to the caller, never dropped under the
//! reactor's borrow (its `Drop` is user code).

use super::Reactor;
use crate::sys::{Interest, RawFd};
use core::task::Waker;

impl Reactor {
    /// Withdraws the wait identified by `*token`, if it is still registered. Returns its
    /// waker, for the caller to drop once its borrow of the reactor has ended.
    #[must_use = "drop the waker after the reactor's borrow ends"]
    pub(crate) fn cancel(
        &mut self,
        fd: RawFd,
        interest: Interest,
        token: &mut u64,
    ) -> Option<Waker> {
        if *token == 0 {
            return None;
        }
        let t = core::mem::replace(token, 0);
        let entry = usize::try_from(fd).ok().and_then(|i| self.fds.get_mut(i))?;
        let list = entry.list(interest);
        let pos = list.iter().position(|w| w.token == t)?;
        let waiter = list.swap_remove(pos);
        self.waiters -= 1;
        let _ = self.sync_interest(fd as usize);
        Some(waiter.waker)
    }

    /// Whether the wait identified by `token` is still registered (not yet woken).
    pub(crate) fn is_waiting(&self, fd: RawFd, interest: Interest, token: u64) -> bool {
        token != 0
            && usize::try_from(fd)
                .ok()
                .and_then(|i| self.fds.get(i))
                .is_some_and(|e| match interest {
                    Interest::Readable => e.readers.iter().any(|w| w.token == token),
                    Interest::Writable => e.writers.iter().any(|w| w.token == token),
                })
    }
}
