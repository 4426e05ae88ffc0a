//! The select(2) backend (through `pselect6`, so timeouts keep nanosecond precision).
//!
//! The literal port of Python's `select.select(rlist, wlist, xlist, timeout)` that seed 002
//! builds its loop on: the interest list is kept as (fd, interest) pairs and the three bit
//! sets are rebuilt for every wait, because select(2) overwrites them with its answer. Like
//! CPython it refuses an fd of `FD_SETSIZE` (1024) or more, with
//! [`ErrorKind::FdTooLarge`](crate::ErrorKind::FdTooLarge), instead of writing past a set.
//!
//! select(2) has no `POLLNVAL`: a closed fd in a set makes the whole call fail with `EBADF`.
//! This backend then asks the kernel which registered fds are no longer open and reports
//! those as `NVAL`, so the reactor drops them and their waiters get `ErrorKind::Closed`,
//! exactly as with poll(2). It never hands the kernel a set shorter than its `nfds`.

use super::{is_open, timespec, Readiness, ReadyFd, Wanted};
use crate::error::{Error, ErrorKind};
use crate::sys::RawFd;
use alloc::vec::Vec;
use rustix::event::{fd_set_insert, fd_set_num_elements, FdSetElement, FdSetIter};
use rustix::io::Errno;

/// `FD_SETSIZE` of glibc and of CPython's `select` module.
pub(crate) const FD_SETSIZE: RawFd = 1024;

const NO_SLOT: u32 = u32::MAX;

pub(crate) struct SelectBackend {
    /// The interest list: one entry per fd with a non-empty interest.
    interest: Vec<(RawFd, Wanted)>,
    /// `slot_of[fd]` is the index of `fd` in `interest`, or `NO_SLOT`.
    slot_of: Vec<u32>,
    /// The read, write and except sets handed to the kernel, rebuilt every wait.
    read: Vec<FdSetElement>,
    write: Vec<FdSetElement>,
    except: Vec<FdSetElement>,
    /// Per-fd bits while the answer is read back (no allocation once grown).
    scratch: Vec<Readiness>,
}

impl SelectBackend {
    pub(crate) fn new() -> Self {
        SelectBackend {
            interest: Vec::new(),
            slot_of: Vec::new(),
            read: Vec::new(),
            write: Vec::new(),
            except: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub(crate) fn set(&mut self, fd: RawFd, wanted: Wanted) -> Result<(), Error> {
        let Ok(index) = usize::try_from(fd) else {
            return Err(Error::from_errno(Errno::BADF));
        };
        if index >= self.slot_of.len() {
            if wanted.is_empty() {
                return Ok(());
            }
            if fd >= FD_SETSIZE {
                return Err(Error::new(
                    ErrorKind::FdTooLarge,
                    "fd number is 1024 (FD_SETSIZE) or more: select(2) cannot wait on it; \
                     build the loop with BackendKind::Poll or BackendKind::Epoll",
                ));
            }
            self.slot_of.resize(index + 1, NO_SLOT);
        }
        let slot = self.slot_of[index];
        match (slot, wanted.is_empty()) {
            (NO_SLOT, true) => {}
            (NO_SLOT, false) => {
                self.slot_of[index] = self.interest.len() as u32;
                self.interest.push((fd, wanted));
            }
            (slot, false) => self.interest[slot as usize].1 = wanted,
            (slot, true) => {
                self.interest.swap_remove(slot as usize);
                if let Some(&(moved, _)) = self.interest.get(slot as usize) {
                    self.slot_of[moved as usize] = slot;
                }
                self.slot_of[index] = NO_SLOT;
            }
        }
        Ok(())
    }

    /// Rebuilds the three sets from the interest list; returns `nfds` (highest fd + 1).
    fn fill_sets(&mut self) -> RawFd {
        let nfds = self
            .interest
            .iter()
            .map(|&(fd, _)| fd + 1)
            .max()
            .unwrap_or(0);
        let len = fd_set_num_elements(self.interest.len(), nfds).max(1);
        for set in [&mut self.read, &mut self.write, &mut self.except] {
            set.clear();
            set.resize(len, FdSetElement::default());
        }
        for &(fd, wanted) in &self.interest {
            if wanted.read {
                fd_set_insert(&mut self.read, fd);
                fd_set_insert(&mut self.except, fd);
            }
            if wanted.write {
                fd_set_insert(&mut self.write, fd);
            }
        }
        nfds
    }

    pub(crate) fn poll(
        &mut self,
        timeout_ns: Option<u64>,
        events: &mut Vec<ReadyFd>,
    ) -> Result<bool, Error> {
        let nfds = self.fill_sets();
        let ts = timeout_ns.map(timespec);
        // SAFETY: each set holds `fd_set_num_elements(.., nfds)` elements, and every fd in
        // them is one the reactor registered and believes open; one closed behind its back
        // makes the kernel answer EBADF (handled below), never touch memory.
        let result = unsafe {
            rustix::event::select(
                nfds,
                Some(&mut self.read),
                Some(&mut self.write),
                Some(&mut self.except),
                ts.as_ref(),
            )
        };
        match result {
            Ok(0) => Ok(false),
            Err(Errno::INTR) => Ok(true),
            Ok(_) => {
                self.collect(events);
                Ok(false)
            }
            Err(Errno::BADF) => {
                self.report_closed(events);
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Turns the sets the kernel returned into one event per ready fd, in interest order.
    fn collect(&mut self, events: &mut Vec<ReadyFd>) {
        let bits = &mut self.scratch;
        bits.clear();
        bits.resize(self.slot_of.len(), Readiness::EMPTY);
        for (set, bit) in [
            (&self.read, Readiness::IN),
            (&self.write, Readiness::OUT),
            (&self.except, Readiness::PRI),
        ] {
            for fd in FdSetIter::new(set) {
                if let Some(b) = bits.get_mut(fd as usize) {
                    *b = *b | bit;
                }
            }
        }
        for &(fd, _) in &self.interest {
            let revents = bits[fd as usize];
            if !revents.is_empty() {
                events.push(ReadyFd { fd, revents });
            }
        }
    }

    /// After EBADF: reports every registered fd that is no longer open as `NVAL`.
    fn report_closed(&self, events: &mut Vec<ReadyFd>) {
        for &(fd, _) in &self.interest {
            // SAFETY: a number the reactor registered (see `is_open`).
            if !unsafe { is_open(fd) } {
                events.push(ReadyFd {
                    fd,
                    revents: Readiness::NVAL,
                });
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.interest.len()
    }
}

impl core::fmt::Debug for SelectBackend {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SelectBackend")
            .field("interest", &self.interest)
            .finish_non_exhaustive()
    }
}

impl super::OtherBackend for SelectBackend {
    fn kind(&self) -> super::BackendKind {
        super::BackendKind::Select
    }
    fn add_notifier(&mut self, fd: RawFd) -> Result<(), Error> {
        self.set(
            fd,
            Wanted {
                read: true,
                write: false,
                keep: true,
                sealed: true,
            },
        )
    }
    fn set(&mut self, fd: RawFd, wanted: Wanted) -> Result<(), Error> {
        SelectBackend::set(self, fd, wanted)
    }
    fn poll(&mut self, timeout_ns: Option<u64>, events: &mut Vec<ReadyFd>) -> Result<bool, Error> {
        SelectBackend::poll(self, timeout_ns, events)
    }
    fn len(&self) -> usize {
        SelectBackend::len(self)
    }
}
