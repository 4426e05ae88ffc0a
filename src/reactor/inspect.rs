//! Read-only views of the reactor for stats, traces, stuck-task reports and the virtual
//! clock's rule. Nothing here changes the tables or calls a waker.

use super::{Reactor, Waiter};
use crate::sys::backend::Wanted;
use crate::sys::{Interest, RawFd};

impl Reactor {
    /// The loop's notifier fd (named in the trace).
    pub(crate) fn notifier_fd(&self) -> RawFd {
        self.notifier_fd
    }

    /// Number of live waiters.
    pub(crate) fn waiter_count(&self) -> usize {
        self.waiters
    }

    /// Number of fds handed to the kernel (the notifier included).
    pub(crate) fn registered_fds(&self) -> usize {
        self.backend.len()
    }

    /// Calls `f` for each fd with its interest, as the kernel is asked this turn (the
    /// notifier only if this wait includes it).
    pub(crate) fn for_each_interest(&self, notifier: bool, f: &mut dyn FnMut(RawFd, Wanted)) {
        if notifier {
            f(
                self.notifier_fd,
                Wanted {
                    read: true,
                    write: false,
                    keep: true,
                    sealed: true,
                },
            );
        }
        for (fd, e) in self.fds.iter().enumerate() {
            if !e.wanted.is_empty() {
                f(fd as RawFd, e.wanted);
            }
        }
    }

    /// Calls `f` for each waiter: (fd, interest, waiter).
    pub(crate) fn for_each_waiter(&self, f: &mut dyn FnMut(RawFd, Interest, &Waiter)) {
        for (fd, e) in self.fds.iter().enumerate() {
            for w in &e.readers {
                f(fd as RawFd, Interest::Readable, w);
            }
            for w in &e.writers {
                f(fd as RawFd, Interest::Writable, w);
            }
        }
    }

    /// Calls `f` for each fd a task waits on or a `Registration` owns: (fd, a task waits
    /// to read, a task waits to write). For the virtual clock's rule (`quiet.rs`).
    pub(crate) fn for_each_known_fd(&self, f: &mut dyn FnMut(RawFd, bool, bool)) {
        for (fd, e) in self.fds.iter().enumerate() {
            let (read, write) = (!e.readers.is_empty(), !e.writers.is_empty());
            if read || write || e.owned > 0 {
                f(fd as RawFd, read, write);
            }
        }
    }
}
