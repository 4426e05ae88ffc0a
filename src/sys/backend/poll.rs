//! The poll(2) backend (through `ppoll`, so timeouts keep nanosecond precision).
//!
//! A `Vec<PollFd>` handed to the kernel as is, plus an index from fd number to slot, so a
//! change of interest edits one entry and a removal is a swap-remove: nothing is rebuilt
//! per turn. After the wait, the scan stops once the kernel's count of ready fds is reached.
//! The loop's notifier is the array's first entry (added first, never removed, and a
//! swap-remove never moves it), so a wait that does not need it passes the array from the
//! second entry on.

use super::{timespec, Readiness, ReadyFd, Wanted};
use crate::error::Error;
use crate::sys::RawFd;
use alloc::vec::Vec;
use rustix::event::{PollFd, PollFlags};
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

const NO_SLOT: u32 = u32::MAX;

#[derive(Debug)]
pub(crate) struct PollBackend {
    /// The array the kernel reads: one entry per fd with a non-empty interest.
    fds: Vec<PollFd<'static>>,
    /// `slot_of[fd]` is the index of `fd` in `fds`, or `NO_SLOT`.
    slot_of: Vec<u32>,
    /// `fds[0]` is the loop's notifier.
    notifier: bool,
}

fn flags(wanted: Wanted) -> PollFlags {
    let mut f = PollFlags::empty();
    if wanted.read {
        f |= PollFlags::IN;
    }
    if wanted.write {
        f |= PollFlags::OUT;
    }
    f
}

/// The poll(2) entry for a registered fd number.
///
/// # Safety
/// `fd` must be a number the reactor was given for a registration whose owner keeps it
/// open while it is registered (the contract of `Registration::new`, a readyloop socket
/// that owns its fd, or a leaf holding a `BorrowedFd` across its wait). The borrow lasts
/// until the entry is replaced or removed; should an owner break that promise, the kernel answers
/// for a closed number (EBADF, POLLNVAL) and the reactor reports it to the waiters.
unsafe fn entry(fd: RawFd, wanted: Wanted) -> PollFd<'static> {
    // SAFETY: the caller's promise (above); poll(2) only reads the number, and reports one
    // closed while registered as POLLNVAL, after which the reactor drops the entry.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    PollFd::from_borrowed_fd(borrowed, flags(wanted))
}

/// poll(2)'s own bits, as readyloop's `Readiness`: `Readiness` uses poll's values, so this is
/// a mask (checked at compile time beside `Readiness`), not a bit-by-bit translation.
// (`bits()` is u16 on rustix's linux_raw backend and c_short on its libc one.)
#[allow(clippy::unnecessary_cast)]
fn revents_of(flags: PollFlags) -> Readiness {
    Readiness::from_bits_truncate(flags.bits() as u16)
}

impl PollBackend {
    pub(crate) fn new() -> Self {
        PollBackend {
            fds: Vec::new(),
            slot_of: Vec::new(),
            notifier: false,
        }
    }

    /// Adds the loop's notifier, as the first entry (the array must be empty).
    pub(crate) fn add_notifier(&mut self, fd: RawFd) -> Result<(), Error> {
        debug_assert!(self.fds.is_empty(), "the notifier comes first");
        let wanted = Wanted {
            read: true,
            write: false,
            keep: true,
            sealed: true,
        };
        self.set(fd, wanted)?;
        self.notifier = self.fds.len() == 1;
        Ok(())
    }

    pub(crate) fn set(&mut self, fd: RawFd, wanted: Wanted) -> Result<(), Error> {
        let Ok(index) = usize::try_from(fd) else {
            return Err(Error::from_errno(Errno::BADF));
        };
        if index >= self.slot_of.len() {
            if wanted.is_empty() {
                return Ok(());
            }
            self.slot_of.resize(index + 1, NO_SLOT);
        }
        let slot = self.slot_of[index];
        match (slot, wanted.is_empty()) {
            (NO_SLOT, true) => {}
            (NO_SLOT, false) => {
                self.slot_of[index] = self.fds.len() as u32;
                // SAFETY: a number the reactor registered (see `entry`).
                self.fds.push(unsafe { entry(fd, wanted) });
            }
            // SAFETY: a number the reactor registered (see `entry`).
            (slot, false) => self.fds[slot as usize] = unsafe { entry(fd, wanted) },
            (slot, true) => {
                self.fds.swap_remove(slot as usize);
                if let Some(moved) = self.fds.get(slot as usize) {
                    let moved_fd = rustix::fd::AsRawFd::as_raw_fd(&rustix::fd::AsFd::as_fd(moved));
                    self.slot_of[moved_fd as usize] = slot;
                }
                self.slot_of[index] = NO_SLOT;
            }
        }
        Ok(())
    }

    /// One ppoll over the array; `notifier`: include the notifier (the first entry).
    /// `Ok(true)`: a signal interrupted it (EINTR), with no events.
    pub(crate) fn poll(
        &mut self,
        timeout_ns: Option<u64>,
        events: &mut Vec<ReadyFd>,
        notifier: bool,
    ) -> Result<bool, Error> {
        let ts = timeout_ns.map(timespec);
        let skip = usize::from(self.notifier && !notifier);
        let fds = &mut self.fds[skip..];
        let mut ready = match rustix::event::poll(fds, ts.as_ref()) {
            Ok(n) => n,
            Err(Errno::INTR) => return Ok(true),
            Err(e) => return Err(e.into()),
        };
        for pfd in fds.iter() {
            if ready == 0 {
                break;
            }
            let revents = pfd.revents();
            if revents.is_empty() {
                continue;
            }
            ready -= 1;
            events.push(ReadyFd {
                fd: rustix::fd::AsRawFd::as_raw_fd(&rustix::fd::AsFd::as_fd(pfd)),
                revents: revents_of(revents),
            });
        }
        Ok(false)
    }

    pub(crate) fn len(&self) -> usize {
        self.fds.len()
    }
}
