//! The epoll(7) backend: interest kept in the kernel between waits.
//!
//! **Owned fds** (a socket or an `Async<T>`, whose `Registration` tells the reactor before
//! the fd is closed) are registered level-triggered and left armed: a task that reads,
//! replies and waits again within one turn leaves the interest unchanged, so its wait costs
//! no `epoll_ctl` at all. When no task waits on one any more, it leaves the kernel
//! (`EPOLL_CTL_DEL`), so an idle fd is never reported.
//!
//! **Other fds** (a leaf waiting on a borrowed fd, whose owner may close it and reuse the
//! number behind the loop's back) get one-shot waits: the reactor's waits are one-shot (a
//! woken waiter leaves; it registers again if its retry would block), so each such fd is
//! registered with `EPOLLONESHOT`: after the kernel reports it,
//! the registration stays in the kernel but is disabled, and the next waiter re-arms it with
//! one `EPOLL_CTL_MOD` (which also re-checks readiness, so nothing that happened meanwhile is
//! missed). A wait cycle thus costs one `epoll_ctl`, where add-then-delete would cost two,
//! and a ready fd that nobody waits on is never reported twice (no busy loop on an idle
//! connection's `EPOLLHUP`). The loop's own notifier is registered once, level-triggered.
//! Under Miri, which implements only edge-triggered epoll, `EPOLLET` replaces
//! `EPOLLONESHOT`, and owned fds are treated like the others (re-armed after each report):
//! the re-arming `MOD` resets the edge tracking, so the behaviour is the same.
//!
//! `epoll_wait` counts its timeout in whole milliseconds; a timeout with a fraction of one
//! is waited in `ppoll` on the epoll fd instead, so deadlines keep nanosecond precision.
//! Where epoll differs from poll(2), and how this backend hides it:
//!
//! - **An fd closed while registered silently leaves the set** (the kernel drops the
//!   registration with the file), where poll(2) answers `POLLNVAL`. Re-arming a closed fd
//!   fails (`EBADF`), so a waiter registering on one gets `ErrorKind::Closed` at once. For
//!   an fd closed while a task already waits on it, the backend re-tells the kernel each
//!   armed registration (`EPOLL_CTL_MOD` with the same events) [`FIRST_CHECK_NS`] after the
//!   wait began, then at doubling intervals up to [`LAST_CHECK_NS`], and bounds its waits so
//!   those checks happen: `EBADF` (closed) or `ENOENT` (the number now names another file)
//!   is reported as `NVAL`, so the waiter gets `ErrorKind::Closed`, within a quarter of a
//!   second if the fd was closed early in the wait. readyloop's own sockets and signal pipe
//!   are never checked: they hold their fd and close it only after the reactor hears of it
//!   (a sealed `Wanted`), so a loop whose tasks wait on them alone blocks with no timeout.
//!   The checks that remain (`Registration::new`, `Async<T>`, borrowed fds) cost a thousand
//!   idle fds about 125 a second once they have waited for a while. A number closed and reused by
//!   a new file is re-armed with `ADD` (the `MOD` finds nothing). One case stays out of
//!   reach: if a duplicate of a closed fd keeps its file open (`dup`, `fork`), the old
//!   registration may still fire under the old number; that is at most a spurious wake,
//!   since a woken waiter retries its syscall.
//! - **Regular files and directories are refused** (`EPERM`): poll(2) reports them always
//!   ready, so this backend keeps them aside and reports them ready at every wait.
//!
//! It never reports an fd that no task waits on, and never blocks longer than the loop
//! asked.

use super::{timespec, Readiness, ReadyFd, Wanted};
use crate::error::Error;
use crate::sys::{clock, RawFd};
use alloc::vec::Vec;
use rustix::event::epoll::{self, EventData, EventFlags};
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;

/// When (ns after its wait began) a registration is first re-checked for an fd closed
/// under its waiter; checks are made at most this often.
pub(crate) const FIRST_CHECK_NS: u64 = 250_000_000;

/// The longest interval (ns) between two checks of one long wait.
pub(crate) const LAST_CHECK_NS: u64 = 8_000_000_000;

const NO_SLOT: u32 = u32::MAX;

/// How a waited-on fd is registered: disabled after each report (edge-triggered under Miri).
fn mode() -> EventFlags {
    if cfg!(miri) {
        EventFlags::ET
    } else {
        EventFlags::ONESHOT
    }
}

/// How the notifier is registered: permanently (edge-triggered under Miri).
fn notifier_mode() -> EventFlags {
    if cfg!(miri) {
        EventFlags::ET
    } else {
        EventFlags::empty()
    }
}

/// An fd that a task waits on (or the notifier).
#[derive(Clone, Copy, Debug)]
struct Entry {
    fd: RawFd,
    /// What the reactor wants reported.
    wanted: Wanted,
    /// The kernel registration will report `wanted` (false once it reported: re-arm first).
    armed: bool,
    /// False for files epoll refuses (EPERM): reported ready at every wait instead.
    in_kernel: bool,
    /// The loop's notifier: registered once, never disabled.
    permanent: bool,
    /// When to check next that the fd is still open (ns on the monotonic clock).
    check_at: u64,
    /// The interval before that check (doubles up to `LAST_CHECK_NS`).
    check_every: u64,
}

pub(crate) struct EpollBackend {
    /// The epoll instance.
    epoll: OwnedFd,
    /// Every fd with a non-empty interest.
    entries: Vec<Entry>,
    /// `slot_of[fd]` is the index of `fd` in `entries`, or `NO_SLOT`.
    slot_of: Vec<u32>,
    /// `known[fd]`: the kernel may hold a (possibly disabled) registration for `fd`, so
    /// arming it is a `MOD` rather than an `ADD`.
    known: Vec<bool>,
    /// How many entries are kept aside as always ready.
    always_ready: usize,
    /// The buffer `epoll_wait` fills; grown with the number of entries.
    buffer: Vec<epoll::Event>,
    /// The monotonic clock at the end of the last wait (ns).
    now: u64,
    /// When the registrations were last checked (ns).
    last_sweep: u64,
    /// The earliest `check_at` of an armed entry (ns; `u64::MAX`: none).
    next_check: u64,
}

/// Whether `wanted` is registered level-triggered and left armed between waits: the fd is
/// owned by a `Registration` (so the reactor hears of its close first) and this is not Miri.
fn kept(wanted: Wanted) -> bool {
    wanted.keep && !cfg!(miri)
}

fn flags(wanted: Wanted) -> EventFlags {
    let mut f = if kept(wanted) {
        EventFlags::empty()
    } else {
        mode()
    };
    if wanted.read {
        f |= EventFlags::IN;
    }
    if wanted.write {
        f |= EventFlags::OUT;
    }
    f
}

fn revents_of(flags: EventFlags) -> Readiness {
    const MAP: [(EventFlags, Readiness); 5] = [
        (EventFlags::IN, Readiness::IN),
        (EventFlags::PRI, Readiness::PRI),
        (EventFlags::OUT, Readiness::OUT),
        (EventFlags::ERR, Readiness::ERR),
        (EventFlags::HUP, Readiness::HUP),
    ];
    MAP.iter()
        .filter(|(e, _)| flags.contains(*e))
        .fold(Readiness::EMPTY, |acc, (_, bits)| acc | *bits)
}

/// Borrows a registered fd number for one `epoll_ctl`.
///
/// # Safety
/// `fd` must be a number the reactor was given for a registration whose owner keeps it
/// open while it is registered (the contract of `Registration::new`, a readyloop socket
/// that owns its fd, or a leaf holding a `BorrowedFd` across its wait). The borrow lasts
/// for one call into the kernel; should an owner break that promise, the kernel answers
/// for a closed number (EBADF, POLLNVAL) and the reactor reports it to the waiters.
unsafe fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: the caller's promise (above); epoll_ctl answers EBADF for a closed number.
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
            known: Vec::new(),
            always_ready: 0,
            buffer: Vec::new(),
            now: clock::monotonic_nanos(),
            last_sweep: 0,
            next_check: u64::MAX,
        })
    }

    /// Registers the loop's notifier for reading, once and for good.
    pub(crate) fn add_notifier(&mut self, fd: RawFd) -> Result<(), Error> {
        let data = EventData::new_u64(fd as u64);
        epoll::add(
            &self.epoll,
            // SAFETY: a number this backend was asked to watch (see `borrow`).
            unsafe { borrow(fd) },
            data,
            EventFlags::IN | notifier_mode(),
        )?;
        self.insert(Entry {
            fd,
            wanted: Wanted {
                read: true,
                write: false,
                keep: true,
                sealed: true,
            },
            armed: true,
            in_kernel: true,
            permanent: true,
            check_at: u64::MAX,
            check_every: 0,
        });
        Ok(())
    }

    /// Arms the kernel registration of `fd` for `wanted` (one `epoll_ctl`); returns whether
    /// the kernel holds it (false when epoll refuses the file type).
    fn arm(&mut self, fd: RawFd, wanted: Wanted) -> Result<bool, Error> {
        let data = EventData::new_u64(fd as u64);
        let index = fd as usize;
        if index >= self.known.len() {
            self.known.resize(index + 1, false);
        }
        // SAFETY: a number this backend was asked to watch (see `borrow`).
        let borrowed = unsafe { borrow(fd) };
        let first = if self.known[index] {
            epoll::modify(&self.epoll, borrowed, data, flags(wanted))
        } else {
            epoll::add(&self.epoll, borrowed, data, flags(wanted))
        };
        let result = match first {
            // The number was closed and reopened: the kernel forgot the old file.
            Err(Errno::NOENT) => epoll::add(&self.epoll, borrowed, data, flags(wanted)),
            Err(Errno::EXIST) => epoll::modify(&self.epoll, borrowed, data, flags(wanted)),
            other => other,
        };
        match result {
            Ok(()) => {
                self.known[index] = true;
                Ok(true)
            }
            Err(Errno::PERM) => Ok(false),
            Err(e) => {
                self.known[index] = false;
                Err(Error::from_errno(e))
            }
        }
    }

    fn insert(&mut self, entry: Entry) {
        let index = entry.fd as usize;
        if index >= self.slot_of.len() {
            self.slot_of.resize(index + 1, NO_SLOT);
        }
        self.slot_of[index] = self.entries.len() as u32;
        self.always_ready += usize::from(!entry.in_kernel);
        self.entries.push(entry);
    }

    pub(crate) fn set(&mut self, fd: RawFd, wanted: Wanted) -> Result<(), Error> {
        let Ok(index) = usize::try_from(fd) else {
            return Err(Error::from_errno(Errno::BADF));
        };
        let slot = self.slot_of.get(index).copied().unwrap_or(NO_SLOT);
        if wanted.is_empty() {
            // A one-shot registration stays (disabled once it reports): the next waiter
            // re-arms it with one MOD instead of an ADD after a DEL. A level-triggered one
            // would keep reporting, so it leaves the kernel.
            if slot != NO_SLOT {
                let entry = self.entries[slot as usize];
                if entry.in_kernel && kept(entry.wanted) {
                    // SAFETY: a number this backend was asked to watch (see `borrow`).
                    let _ = epoll::delete(&self.epoll, unsafe { borrow(fd) });
                    self.known[index] = false;
                }
                self.remove(index, slot as usize);
            }
            return Ok(());
        }
        if slot == NO_SLOT {
            let in_kernel = self.arm(fd, wanted)?;
            let check_at = self.first_check(wanted);
            self.insert(Entry {
                fd,
                wanted,
                armed: in_kernel,
                in_kernel,
                permanent: false,
                check_at,
                check_every: FIRST_CHECK_NS,
            });
            return Ok(());
        }
        let entry = self.entries[slot as usize];
        if entry.in_kernel && (entry.wanted != wanted || !entry.armed) {
            self.arm(fd, wanted)?;
            let check_at = self.first_check(wanted);
            let e = &mut self.entries[slot as usize];
            e.armed = true;
            e.check_at = check_at;
            e.check_every = FIRST_CHECK_NS;
        }
        self.entries[slot as usize].wanted = wanted;
        Ok(())
    }

    /// When a registration just armed for `wanted` is first checked for a closed fd: never
    /// for a sealed one (a readyloop socket: closed only after the reactor hears of it), else
    /// [`FIRST_CHECK_NS`] from now. Only those checks need the clock, so it is read here
    /// and in a wait that has one due, and a loop waiting on sockets alone blocks without a
    /// timeout.
    fn first_check(&mut self, wanted: Wanted) -> u64 {
        if wanted.sealed {
            return u64::MAX;
        }
        self.now = clock::monotonic_nanos();
        let at = self.now + FIRST_CHECK_NS;
        self.next_check = self.next_check.min(at);
        at
    }

    fn remove(&mut self, index: usize, slot: usize) {
        let entry = self.entries.swap_remove(slot);
        self.always_ready -= usize::from(!entry.in_kernel);
        if let Some(moved) = self.entries.get(slot) {
            self.slot_of[moved.fd as usize] = slot as u32;
        }
        self.slot_of[index] = NO_SLOT;
    }

    pub(crate) fn poll(
        &mut self,
        timeout_ns: Option<u64>,
        events: &mut Vec<ReadyFd>,
    ) -> Result<bool, Error> {
        let mut timeout = timeout_ns;
        if self.always_ready > 0 {
            timeout = Some(0);
        }
        // Bound the wait so a registration that vanished with its fd is found (module docs).
        if self.next_check != u64::MAX {
            let due = self.next_check.max(self.last_sweep + FIRST_CHECK_NS);
            // The checks need no precision: a bound rounded up to whole milliseconds lets
            // epoll_wait wait alone, without the ppoll a fractional timeout needs.
            let until = due.saturating_sub(self.now).div_ceil(1_000_000) * 1_000_000;
            timeout = Some(timeout.map_or(until, |t| t.min(until)));
        }
        let wanted_len = self.entries.len().clamp(16, 4096);
        if self.buffer.len() < wanted_len {
            self.buffer.resize(wanted_len, empty_event());
        }
        let mut interrupted = false;
        let ready = match self.wait_ns(timeout) {
            Ok(n) => n,
            Err(Errno::INTR) => {
                interrupted = true;
                0
            }
            Err(e) => return Err(e.into()),
        };
        if self.next_check != u64::MAX {
            self.now = clock::monotonic_nanos();
        }
        for i in 0..ready {
            let event = self.buffer[i];
            let fd = event.data.u64() as RawFd;
            let slot = self.slot_of.get(fd as usize).copied().unwrap_or(NO_SLOT);
            // No entry: nobody waits on it any more (a withdrawn wait's last report).
            let Some(entry) = self.entries.get_mut(slot as usize) else {
                continue;
            };
            if !entry.permanent && !kept(entry.wanted) {
                entry.armed = false;
            }
            events.push(ReadyFd {
                fd,
                revents: revents_of(event.flags),
            });
        }
        if self.always_ready > 0 {
            for entry in self.entries.iter().filter(|e| !e.in_kernel) {
                events.push(ReadyFd {
                    fd: entry.fd,
                    revents: Readiness::wanted(entry.wanted),
                });
            }
        }
        self.sweep_if_due(events);
        Ok(interrupted)
    }

    /// `epoll_wait` with a nanosecond timeout. `epoll_wait` counts whole milliseconds, so a
    /// timeout with a fraction of one waits in `ppoll` on the epoll fd itself (readable once
    /// an event is ready) and then collects with a zero timeout: one more syscall, but a
    /// 1.5 ms sleep lasts 1.5 ms, as with the other backends. (Miri has no `ppoll`: there the
    /// timeout is rounded up.)
    fn wait_ns(&mut self, timeout: Option<u64>) -> Result<usize, Errno> {
        if let Some(t) = timeout.filter(|t| *t % 1_000_000 != 0 && !cfg!(miri)) {
            use rustix::event::{PollFd, PollFlags};
            let mut epoll = [PollFd::new(&self.epoll, PollFlags::IN)];
            if rustix::event::poll(&mut epoll, Some(&timespec(t)))? == 0 {
                return Ok(0);
            }
            return epoll::wait(&self.epoll, &mut self.buffer[..], Some(&timespec(0)));
        }
        let ts = timeout.map(timespec);
        epoll::wait(&self.epoll, &mut self.buffer[..], ts.as_ref())
    }

    /// Reports registered fds that were closed under their waiters as `NVAL` (module docs).
    fn sweep_if_due(&mut self, events: &mut Vec<ReadyFd>) {
        let now = self.now;
        if now < self.next_check || now < self.last_sweep + FIRST_CHECK_NS {
            return;
        }
        self.last_sweep = now;
        self.next_check = u64::MAX;
        for entry in &mut self.entries {
            if !entry.armed || entry.permanent {
                continue;
            }
            if entry.check_at <= now {
                let data = EventData::new_u64(entry.fd as u64);
                // SAFETY: a number this backend was asked to watch (see `borrow`).
                let check = epoll::modify(
                    &self.epoll,
                    unsafe { borrow(entry.fd) },
                    data,
                    flags(entry.wanted),
                );
                if let Err(Errno::BADF | Errno::NOENT) = check {
                    events.push(ReadyFd {
                        fd: entry.fd,
                        revents: Readiness::NVAL,
                    });
                }
                entry.check_every = (entry.check_every * 2).min(LAST_CHECK_NS);
                entry.check_at = now + entry.check_every;
            }
            self.next_check = self.next_check.min(entry.check_at);
        }
    }

    /// How many fds a task waits on, plus the notifier.
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

impl super::OtherBackend for EpollBackend {
    fn kind(&self) -> super::BackendKind {
        super::BackendKind::Epoll
    }
    fn add_notifier(&mut self, fd: RawFd) -> Result<(), Error> {
        EpollBackend::add_notifier(self, fd)
    }
    fn set(&mut self, fd: RawFd, wanted: Wanted) -> Result<(), Error> {
        EpollBackend::set(self, fd, wanted)
    }
    fn poll(&mut self, timeout_ns: Option<u64>, events: &mut Vec<ReadyFd>) -> Result<bool, Error> {
        EpollBackend::poll(self, timeout_ns, events)
    }
    fn len(&self) -> usize {
        EpollBackend::len(self)
    }
    fn disarms_on_report(&self) -> bool {
        true
    }
    fn keeps_armed(&self) -> bool {
        !cfg!(miri)
    }
}
