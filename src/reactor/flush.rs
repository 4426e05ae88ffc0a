//! Bringing the interest of the fds the last dispatch woke up to date, just before the next
//! wait (`Reactor::flush_interest` calls `flush_dirty`): deferred, so a task that waits
//! again in between (the usual read-reply-read loop) costs the backend nothing. Never calls
//! a waker; an fd the backend refuses is reported by the next wait, not dropped silently.

use super::Reactor;
use crate::sys::RawFd;

/// How many turns a kept fd (epoll, level-triggered) stays armed after its last waiter was
/// woken, before it leaves the kernel's set. Under load a woken task often runs a turn or two
/// later (behind a batch of others) and waits again: keeping the registration meanwhile
/// saves an `EPOLL_CTL_DEL` and an `EPOLL_CTL_ADD`; the price is that a ready fd nobody
/// reads can end at most this many waits early.
const IDLE_GRACE: u8 = 16;

impl Reactor {
    /// The work of `flush_interest` when the last dispatch left fds to check.
    pub(super) fn flush_dirty(&mut self) {
        let mut carried = 0;
        let (disarms, keeps) = (self.disarms, self.keeps);
        for i in 0..self.dirty.len() {
            let index = self.dirty[i];
            let entry = &mut self.fds[index];
            let now = entry.wanted_now();
            let kept = now.keep && !entry.retell && keeps;
            if kept && now.is_empty() && !entry.wanted.is_empty() && entry.idle_turns < IDLE_GRACE {
                // Its task has not waited again yet: stay armed a little (see IDLE_GRACE).
                entry.idle_turns += 1;
                self.dirty[carried] = index;
                carried += 1;
                continue;
            }
            entry.idle_turns = 0;
            let armed = !disarms || kept;
            if now == entry.wanted && (now.is_empty() || armed) {
                continue;
            }
            match self.backend.set(index as RawFd, now) {
                Ok(()) => {
                    entry.wanted = now;
                    entry.retell &= now.is_empty();
                }
                Err(_) => self.refused.push(index as RawFd),
            }
        }
        self.dirty.truncate(carried);
    }
}
