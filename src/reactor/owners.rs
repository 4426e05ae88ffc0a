//! Fds owned by a `Registration` (`registration.rs`): while owned, an fd cannot be closed
//! behind the reactor's back, so a backend may keep it armed between waits (epoll). This
//! file only counts owners; it never tells the backend anything `sync_interest` would not.

use super::{FdWaiters, Reactor};
use crate::sys::RawFd;

impl Reactor {
    /// A `Registration` now owns `fd`: until it is released, the fd cannot be closed behind
    /// the reactor's back, so a backend may keep it armed between waits (epoll). Its next
    /// interest is told to the backend even if it looks unchanged, in case the number was
    /// closed and reused since the reactor last saw it. `sealed`: the owner also holds the
    /// fd (a readyloop socket), so it is never closed while registered.
    pub(crate) fn adopt(&mut self, fd: RawFd, sealed: bool) {
        let Ok(index) = usize::try_from(fd) else {
            return;
        };
        if index >= self.fds.len() {
            self.fds.resize_with(index + 1, FdWaiters::default);
        }
        let entry = &mut self.fds[index];
        entry.owned += 1;
        entry.sealed += u32::from(sealed);
        entry.retell = true;
        let _ = self.sync_interest(index);
    }

    /// The `Registration` that adopted `fd` is going (before the fd is closed): if no
    /// other owns it, the backend goes back to disarming it after each report.
    pub(crate) fn release(&mut self, fd: RawFd, sealed: bool) {
        let Some(entry) = usize::try_from(fd).ok().and_then(|i| self.fds.get_mut(i)) else {
            return;
        };
        entry.owned = entry.owned.saturating_sub(1);
        entry.sealed = entry.sealed.saturating_sub(u32::from(sealed));
        entry.retell = true;
        let _ = self.sync_interest(fd as usize);
    }
}
