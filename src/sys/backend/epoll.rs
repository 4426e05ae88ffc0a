//! The epoll(7) backend: interest registered in the kernel, level-triggered.
//!
//! An fd's interest is told to the kernel only when it changes (`EPOLL_CTL_ADD` on the first
//! waiter, `MOD` when the direction set changes, `DEL` when the last waiter leaves), so a
//! wait costs one `epoll_wait` whatever the number of registered fds. Level-triggered mode
//! keeps poll(2)'s meaning: an fd that stays ready is reported again at the next wait.
//! Timeouts are rounded up to whole milliseconds by `epoll_wait`, so a sleep may end up to
//! a millisecond late, never early.
//!
//! Two places where epoll differs from poll(2), and how this backend hides them:
//!
//! - **An fd closed while registered silently leaves the set** (the kernel drops the
//!   registration with the file), where poll(2) answers `POLLNVAL`; a waiter on it would wait
//!   forever. So while fds other than the loop's notifier are registered, a wait lasts at
//!   most [`SWEEP_NS`], and at most once per `SWEEP_NS` the backend re-tells the kernel each
//!   registration (`EPOLL_CTL_MOD` with the same events): `EBADF` (closed) or `ENOENT` (the
//!   number now names another file) is reported as `NVAL`, so the reactor drops the fd and
//!   the waiter gets `ErrorKind::Closed` within about a second. Registering an fd that is
//!   already closed fails at once (`EBADF` from `EPOLL_CTL_ADD`). One case stays out of
//!   reach: if a duplicate of the closed fd keeps the file open (`dup`, `fork`), the kernel
//!   keeps reporting it under the old number and it cannot be removed; close registered fds
//!   only after their waiters are gone.
//! - **Regular files and directories are refused** (`EPERM`): poll(2) reports them always
//!   ready, so this backend keeps them aside and reports them ready at every wait.

use super::{timespec, Event, IoEvents, Wanted};
use crate::error::Error;
use crate::sys::{clock, RawFd};
use alloc::vec::Vec;
use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;

/// How often (ns) registrations are re-checked for fds closed under their waiters.
pub(crate) const SWEEP_NS: u64 = 1_000_000_000;

const NO_SLOT: u32 = u32::MAX;

/// One registered fd.
#[derive(Clone, Copy, Debug)]
struct Entry {
    fd: RawFd,
    wanted: Wanted,
    /// False for files epoll refuses (EPERM): reported ready at every wait instead.
    in_kernel: bool,
}

pub(crate) struct EpollBackend {
    /// The epoll instance.
    epoll: OwnedFd,
    /// Every fd with a non-empty interest.
    entries: Vec<Entry>,
    /// `slot_of[fd]` is the index of `fd` in `entries`, or `NO_SLOT`.
    slot_of: Vec<u32>,
    /// How many entries are kept aside as always ready.
    always_ready: usize,
    /// The buffer `epoll_wait` fills; grown with the number of entries.
    buffer: Vec<epoll::Event>,
    /// When the registrations were last re-checked (ns on the monotonic clock).
    last_sweep: u64,
}

fn flags(wanted: Wanted) -> EventFlags {
    let mut f = EventFlags::empty();
    if wanted.read {
        f |= EventFlags::IN;
    }
    if wanted.write {
        f |= EventFlags::OUT;
    }
    f
}

fn revents_of(flags: EventFlags) -> IoEvents {
    const MAP: [(EventFlags, IoEvents); 5] = [
        (EventFlags::IN, IoEvents::IN),
        (EventFlags::PRI, IoEvents::PRI),
        (EventFlags::OUT, IoEvents::OUT),
        (EventFlags::ERR, IoEvents::ERR),
        (EventFlags::HUP, IoEvents::HUP),
    ];
    MAP.iter()
        .filter(|(e, _)| flags.contains(*e))
        .fold(IoEvents::EMPTY, |acc, (_, bits)| acc | *bits)
}

fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: only passed to epoll_ctl, which answers EBADF for an fd that is not open.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

fn empty_event() -> epoll::Event {
    epoll::Event {
        flags: EventFlags::empty(),
        data: EventData::new_u64(0),
    }
}

impl EpollBackend {
    pub(crate) fn new() -> Result<Self, Error> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        Ok(EpollBackend {
            epoll,
            entries: Vec::new(),
            slot_of: Vec::new(),
            always_ready: 0,
            buffer: Vec::new(),
            last_sweep: clock::monotonic_nanos(),
        })
    }

    /// Tells the kernel `fd`'s new events; returns whether the kernel holds it (false when
    /// epoll refuses the file type and it is to be reported always ready).
    fn register(&self, fd: RawFd, wanted: Wanted, known: bool) -> Result<bool, Error> {
        let data = EventData::new_u64(fd as u64);
        let first = if known {
            epoll::modify(&self.epoll, borrow(fd), data, flags(wanted))
        } else {
            epoll::add(&self.epoll, borrow(fd), data, flags(wanted))
        };
        let second = match first {
            // The number was closed and reopened: the kernel forgot the old file.
            Err(Errno::NOENT) => epoll::add(&self.epoll, borrow(fd), data, flags(wanted)),
            Err(Errno::EXIST) => epoll::modify(&self.epoll, borrow(fd), data, flags(wanted)),
            other => other,
        };
        match second {
            Ok(()) => Ok(true),
            Err(Errno::PERM) => Ok(false),
            Err(e) => Err(Error::from_errno(e)),
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
            self.slot_of.resize(index + 1, NO_SLOT);
        }
        let slot = self.slot_of[index];
        if wanted.is_empty() {
            if slot != NO_SLOT {
                self.remove(index, slot as usize);
            }
            return Ok(());
        }
        if slot == NO_SLOT {
            let in_kernel = self.register(fd, wanted, false)?;
            self.always_ready += usize::from(!in_kernel);
            self.slot_of[index] = self.entries.len() as u32;
            self.entries.push(Entry {
                fd,
                wanted,
                in_kernel,
            });
        } else {
            let entry = self.entries[slot as usize];
            if entry.in_kernel && entry.wanted != wanted {
                self.register(fd, wanted, true)?;
            }
            self.entries[slot as usize].wanted = wanted;
        }
        Ok(())
    }

    fn remove(&mut self, index: usize, slot: usize) {
        let entry = self.entries.swap_remove(slot);
        if entry.in_kernel {
            // Fails only if the fd is already closed, which removed it from the set anyway.
            let _ = epoll::delete(&self.epoll, borrow(entry.fd));
        } else {
            self.always_ready -= 1;
        }
        if let Some(moved) = self.entries.get(slot) {
            self.slot_of[moved.fd as usize] = slot as u32;
        }
        self.slot_of[index] = NO_SLOT;
    }

    pub(crate) fn wait(
        &mut self,
        timeout_ns: Option<u64>,
        events: &mut Vec<Event>,
    ) -> Result<(), Error> {
        let mut timeout = timeout_ns;
        if self.always_ready > 0 {
            timeout = Some(0);
        }
        // Bound the wait so a registration that vanished with its fd is found (module docs);
        // the loop's own notifier is always registered and never closed under the loop.
        if self.entries.len() > 1 {
            timeout = Some(timeout.map_or(SWEEP_NS, |t| t.min(SWEEP_NS)));
        }
        let wanted_len = self.entries.len().clamp(16, 4096);
        if self.buffer.len() < wanted_len {
            self.buffer.resize(wanted_len, empty_event());
        }
        let ts = timeout.map(timespec);
        let ready = match epoll::wait(&self.epoll, &mut self.buffer[..], ts.as_ref()) {
            Ok(n) => n,
            Err(Errno::INTR) => 0,
            Err(e) => return Err(e.into()),
        };
        for event in &self.buffer[..ready] {
            let fd = event.data.u64() as RawFd;
            if self.slot_of.get(fd as usize).is_some_and(|&s| s != NO_SLOT) {
                events.push(Event {
                    fd,
                    revents: revents_of(event.flags),
                });
            }
        }
        if self.always_ready > 0 {
            for entry in self.entries.iter().filter(|e| !e.in_kernel) {
                events.push(Event {
                    fd: entry.fd,
                    revents: IoEvents::wanted(entry.wanted),
                });
            }
        }
        self.sweep_if_due(events);
        Ok(())
    }

    /// Reports registered fds that were closed under their waiters as `NVAL` (module docs).
    fn sweep_if_due(&mut self, events: &mut Vec<Event>) {
        if self.entries.len() <= 1 {
            return;
        }
        let now = clock::monotonic_nanos();
        if now.saturating_sub(self.last_sweep) < SWEEP_NS {
            return;
        }
        self.last_sweep = now;
        for entry in self.entries.iter().filter(|e| e.in_kernel) {
            let data = EventData::new_u64(entry.fd as u64);
            let check = epoll::modify(&self.epoll, borrow(entry.fd), data, flags(entry.wanted));
            if let Err(Errno::BADF | Errno::NOENT) = check {
                events.push(Event {
                    fd: entry.fd,
                    revents: IoEvents::NVAL,
                });
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

impl core::fmt::Debug for EpollBackend {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EpollBackend")
            .field("entries", &self.entries)
            .field("always_ready", &self.always_ready)
            .finish_non_exhaustive()
    }
}
