//! The wait backends: one small interface, chosen when the loop is built.
//!
//! A backend keeps the set of (fd, interest) pairs the reactor asked for and waits on it
//! with a nanosecond timeout, reporting each ready fd once per wait as poll(2)-style
//! [`Readiness`]. It knows nothing of tasks. Three are offered and behave the same to the
//! layers above:
//!
//! - `poll.rs`: poll(2) through `ppoll`;
//! - `select.rs`: select(2) through `pselect6`, the literal port of Python's `select.select`
//!   (fds of 1024 and more are refused with [`ErrorKind::FdTooLarge`](crate::ErrorKind));
//! - `epoll.rs`: epoll(7), registrations kept in the kernel between waits;
//! - `adaptive.rs`: the default's policy, poll(2) while the registered set is small or
//!   mostly ready, epoll(7) while it is large and mostly idle (the reactor moves the set).
//!
//! The default a plain `Loop::new()` uses is chosen at build time from the environment
//! variable `READYLOOP_BACKEND` (`adaptive`, the default, `poll`, `select` or `epoll`; see
//! `build.rs`), so the whole test suite can be rerun against each backend. A fd closed while registered is reported
//! as `NVAL` by all three (select and epoll find it themselves; see their module docs).

pub(crate) mod adaptive;
#[cfg(feature = "epoll")]
mod epoll;
mod poll;
#[cfg(feature = "select")]
mod select;

use super::{FdStatus, Interest, RawFd};
use crate::error::Error;
#[cfg(any(feature = "select", feature = "epoll"))]
use alloc::boxed::Box;
use alloc::vec::Vec;

/// Which system call the loop waits with.
///
/// ```
/// use readyloop::{BackendKind, Loop};
/// let lp = Loop::builder().backend(BackendKind::Epoll).build().unwrap();
/// assert_eq!(lp.handle().backend(), BackendKind::Epoll);
/// assert_eq!(BackendKind::Select.name(), "select");
/// // The default moves between poll(2) and epoll(7) with the registered set.
/// let lp = Loop::new().unwrap();
/// assert!(matches!(lp.handle().backend_in_use(), BackendKind::Poll | BackendKind::Epoll
///     | BackendKind::Select));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendKind {
    /// `poll(2)` through `ppoll` (nanosecond timeouts), always: the articles' loop.
    Poll,
    /// `select(2)` through `pselect6` (nanosecond timeouts): the articles' `select.select`.
    /// File descriptors of `FD_SETSIZE` (1024) and above are refused with
    /// [`ErrorKind::FdTooLarge`](crate::ErrorKind::FdTooLarge), as Python refuses them.
    Select,
    /// `epoll(7)`: interest stays registered in the kernel between waits, so a wait costs
    /// O(ready fds) instead of O(registered fds). A socket (any fd behind a
    /// [`Registration`](crate::Registration)) stays armed, level-triggered, while tasks keep
    /// waiting on it: no `epoll_ctl` per wait; a leaf waiting on a borrowed fd re-arms a
    /// one-shot registration with one `epoll_ctl`. Timeouts keep nanosecond precision (a
    /// fractional millisecond is waited in `ppoll` on the epoll fd).
    Epoll,
    /// The default: waits with poll(2) while the registered set is small or most of it is
    /// ready at each wait (busy connections), and moves the set to epoll(7) while it is
    /// large and mostly idle (a daemon's keep-alive clients), and back, measured over
    /// windows of 64 waits with hysteresis (see
    /// [`Builder::adaptive_threshold`](crate::Builder::adaptive_threshold)). A move happens
    /// between two waits: every waiter's interest is handed to the new backend before it
    /// waits (level-triggered, so readiness that came meanwhile is reported by that wait),
    /// and the old one is closed with every registration in it. Traces name the backend
    /// each wait used; [`Handle::backend_in_use`](crate::Handle::backend_in_use) tells it
    /// now. Without the `epoll` feature it stays on poll(2).
    Adaptive,
}

impl BackendKind {
    /// The backend a plain `Loop::new()` uses: adaptive, unless the crate was built with
    /// `READYLOOP_BACKEND=poll`, `select` or `epoll` in the environment.
    ///
    /// ```
    /// let kind = readyloop::BackendKind::default_kind();
    /// assert!(["adaptive", "poll", "select", "epoll"].contains(&kind.name()));
    /// ```
    pub fn default_kind() -> Self {
        if cfg!(readyloop_backend = "select") {
            BackendKind::Select
        } else if cfg!(readyloop_backend = "epoll") {
            BackendKind::Epoll
        } else if cfg!(readyloop_backend = "poll") {
            BackendKind::Poll
        } else {
            BackendKind::Adaptive
        }
    }

    /// A short lowercase name ("poll", "select", "epoll", "adaptive").
    ///
    /// ```
    /// assert_eq!(readyloop::BackendKind::Poll.name(), "poll");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Poll => "poll",
            BackendKind::Select => "select",
            BackendKind::Epoll => "epoll",
            BackendKind::Adaptive => "adaptive",
        }
    }

    /// Every backend, in the order above (for tests that run on each).
    ///
    /// ```
    /// assert_eq!(readyloop::BackendKind::ALL.len(), 4);
    /// ```
    pub const ALL: [BackendKind; 4] = [
        BackendKind::Poll,
        BackendKind::Select,
        BackendKind::Epoll,
        BackendKind::Adaptive,
    ];
}

impl core::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// poll(2)-style event bits: what a wait was asked for (`events`) or what it reported
/// (`revents`). Every backend speaks in these bits, so traces read the same whichever one
/// runs (select's read, write and except sets map to `IN`, `OUT` and `PRI`).
///
/// ```
/// use readyloop::trace::Readiness;
/// let ev = Readiness::IN | Readiness::HUP;
/// assert!(ev.contains(Readiness::IN) && !ev.contains(Readiness::OUT));
/// assert_eq!(ev.to_string(), "IN|HUP");
/// assert_eq!(Readiness::EMPTY.to_string(), "-");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Readiness(u16);

// `Readiness` uses poll(2)'s own values, so the poll backend reads `revents` as a mask.
#[allow(clippy::unnecessary_cast)]
const fn same(p: rustix::event::PollFlags, e: Readiness) -> bool {
    p.bits() as u16 == e.bits()
}

const _: () = assert!(
    same(rustix::event::PollFlags::IN, Readiness::IN)
        && same(rustix::event::PollFlags::PRI, Readiness::PRI)
        && same(rustix::event::PollFlags::OUT, Readiness::OUT)
        && same(rustix::event::PollFlags::ERR, Readiness::ERR)
        && same(rustix::event::PollFlags::HUP, Readiness::HUP)
        && same(rustix::event::PollFlags::NVAL, Readiness::NVAL)
);

impl Readiness {
    /// No bits.
    pub const EMPTY: Readiness = Readiness(0);
    /// Readable (`POLLIN`).
    pub const IN: Readiness = Readiness(0x001);
    /// Urgent data (`POLLPRI`; select's except set).
    pub const PRI: Readiness = Readiness(0x002);
    /// Writable (`POLLOUT`).
    pub const OUT: Readiness = Readiness(0x004);
    /// An error is pending (`POLLERR`).
    pub const ERR: Readiness = Readiness(0x008);
    /// The peer hung up (`POLLHUP`).
    pub const HUP: Readiness = Readiness(0x010);
    /// The fd is not open (`POLLNVAL`).
    pub const NVAL: Readiness = Readiness(0x020);

    const NAMES: [(Readiness, &'static str); 6] = [
        (Readiness::IN, "IN"),
        (Readiness::PRI, "PRI"),
        (Readiness::OUT, "OUT"),
        (Readiness::ERR, "ERR"),
        (Readiness::HUP, "HUP"),
        (Readiness::NVAL, "NVAL"),
    ];

    /// The raw bits (poll(2)'s values).
    ///
    /// ```
    /// assert_eq!(readyloop::trace::Readiness::OUT.bits(), 0x004);
    /// ```
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Keeps the known bits of `bits`.
    pub(crate) const fn from_bits_truncate(bits: u16) -> Readiness {
        Readiness(bits & 0x3f)
    }

    /// True if every bit of `other` is set.
    ///
    /// ```
    /// use readyloop::trace::Readiness;
    /// assert!((Readiness::IN | Readiness::OUT).contains(Readiness::OUT));
    /// ```
    pub const fn contains(self, other: Readiness) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if any bit of `other` is set.
    ///
    /// ```
    /// use readyloop::trace::Readiness;
    /// assert!(Readiness::HUP.intersects(Readiness::ERR | Readiness::HUP));
    /// ```
    pub const fn intersects(self, other: Readiness) -> bool {
        self.0 & other.0 != 0
    }

    /// True if no bit is set.
    ///
    /// ```
    /// assert!(readyloop::trace::Readiness::EMPTY.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The events asked for an interest set.
    pub(crate) fn wanted(wanted: Wanted) -> Readiness {
        let mut e = Readiness::EMPTY;
        if wanted.read {
            e = e | Readiness::IN;
        }
        if wanted.write {
            e = e | Readiness::OUT;
        }
        e
    }

    /// What the reactor does with these bits.
    pub(crate) fn fd_status(self) -> FdStatus {
        FdStatus {
            readable: self.intersects(Readiness::IN | Readiness::PRI),
            writable: self.contains(Readiness::OUT),
            error_or_hangup: self.intersects(Readiness::ERR | Readiness::HUP),
            invalid: self.contains(Readiness::NVAL),
        }
    }
}

impl core::ops::BitOr for Readiness {
    type Output = Readiness;
    fn bitor(self, rhs: Readiness) -> Readiness {
        Readiness(self.0 | rhs.0)
    }
}

impl core::fmt::Display for Readiness {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.is_empty() {
            return f.write_str("-");
        }
        let mut first = true;
        for (bit, name) in Readiness::NAMES {
            if self.contains(bit) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// One ready fd reported by a wait.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyFd {
    pub(crate) fd: RawFd,
    pub(crate) revents: Readiness,
}

/// The interest currently registered for one fd.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub(crate) read: bool,
    pub(crate) write: bool,
    /// The fd is owned by a live `Registration`, so it cannot be closed (and its number
    /// reused) without the reactor hearing of it first: a backend may keep it armed between
    /// waits instead of disarming it after each report (epoll; poll and select ignore it).
    pub(crate) keep: bool,
    /// Every owner of the fd also holds the fd itself (a readyloop socket, the signal
    /// pipe): it is closed only after the reactor hears of it, never under a waiter, so a
    /// backend need not check that it is still open (epoll's closed-fd checks).
    pub(crate) sealed: bool,
}

impl Wanted {
    pub(crate) fn is_empty(self) -> bool {
        !self.read && !self.write
    }

    #[allow(dead_code)]
    pub(crate) fn contains(self, interest: Interest) -> bool {
        match interest {
            Interest::Readable => self.read,
            Interest::Writable => self.write,
        }
    }
}

/// A backend other than poll, reached through a vtable: the vtable (and so the backend's
/// code) is linked only into programs that can ask for that backend, with
/// [`Builder::backend`](crate::Builder::backend) or `READYLOOP_BACKEND` at build time.
pub(crate) trait OtherBackend: core::fmt::Debug {
    fn kind(&self) -> BackendKind;
    fn add_notifier(&mut self, fd: RawFd) -> Result<(), Error>;
    fn set(&mut self, fd: RawFd, wanted: Wanted) -> Result<(), Error>;
    /// `Ok(true)`: a signal interrupted the wait (EINTR).
    fn poll(&mut self, timeout_ns: Option<u64>, events: &mut Vec<ReadyFd>) -> Result<bool, Error>;
    fn len(&self) -> usize;
    /// Whether an fd it reported must be armed again before it can report it again.
    fn disarms_on_report(&self) -> bool {
        false
    }
    /// Whether an fd whose interest has `keep` stays armed after a report.
    fn keeps_armed(&self) -> bool {
        false
    }
}

/// A backend other than poll, boxed: the `Other` variant's payload.
#[cfg(any(feature = "select", feature = "epoll"))]
type Others = Box<dyn OtherBackend>;

/// Without the select and epoll features there is no other backend: an uninhabited
/// payload, so every `Backend::Other` arm is dead before code generation (no vtable calls
/// or boxed drop linked into a poll-only program).
#[cfg(not(any(feature = "select", feature = "epoll")))]
type Others = NoOther;

#[cfg(not(any(feature = "select", feature = "epoll")))]
#[derive(Debug)]
pub(crate) enum NoOther {}

#[cfg(not(any(feature = "select", feature = "epoll")))]
impl OtherBackend for NoOther {
    fn kind(&self) -> BackendKind {
        match *self {}
    }
    fn add_notifier(&mut self, _: RawFd) -> Result<(), Error> {
        match *self {}
    }
    fn set(&mut self, _: RawFd, _: Wanted) -> Result<(), Error> {
        match *self {}
    }
    fn poll(&mut self, _: Option<u64>, _: &mut Vec<ReadyFd>) -> Result<bool, Error> {
        match *self {}
    }
    fn len(&self) -> usize {
        match *self {}
    }
}

/// The chosen backend: poll(2) inline (the default, on the hot path), the others boxed.
#[derive(Debug)]
pub(crate) enum Backend {
    Poll(poll::PollBackend),
    #[cfg_attr(not(any(feature = "select", feature = "epoll")), allow(dead_code))]
    Other(Others),
}

impl Backend {
    /// The backend of a plain `Loop::new()` ([`BackendKind::default_kind`]); only that one
    /// is linked by a program that never names another.
    pub(crate) fn default_backend(_: BackendKind) -> Result<Self, Error> {
        #[cfg(all(feature = "select", readyloop_backend = "select"))]
        return Backend::new(BackendKind::Select);
        #[cfg(all(feature = "epoll", readyloop_backend = "epoll"))]
        return Backend::new(BackendKind::Epoll);
        #[allow(unreachable_code)]
        Ok(Backend::Poll(poll::PollBackend::new()))
    }

    /// The backend `kind` (an error if its feature is off). Adaptive starts on poll(2); the
    /// reactor moves it (see `Reactor::make_adaptive`).
    pub(crate) fn new(kind: BackendKind) -> Result<Self, Error> {
        match kind {
            BackendKind::Poll | BackendKind::Adaptive => {
                Ok(Backend::Poll(poll::PollBackend::new()))
            }
            #[cfg(feature = "select")]
            BackendKind::Select => Ok(Backend::Other(Box::new(select::SelectBackend::new()))),
            #[cfg(feature = "epoll")]
            BackendKind::Epoll => Ok(Backend::Other(Box::new(epoll::EpollBackend::new()?))),
            #[allow(unreachable_patterns)]
            _ => Err(Error::new(
                crate::ErrorKind::InvalidInput,
                "that backend is not compiled in: enable readyloop's `select` or `epoll` feature",
            )),
        }
    }

    pub(crate) fn kind(&self) -> BackendKind {
        match self {
            Backend::Poll(_) => BackendKind::Poll,
            Backend::Other(b) => b.kind(),
        }
    }

    /// Registers the loop's notifier for reading, for the backend's whole life.
    pub(crate) fn add_notifier(&mut self, fd: RawFd) -> Result<(), Error> {
        match self {
            Backend::Poll(b) => b.add_notifier(fd),
            Backend::Other(b) => b.add_notifier(fd),
        }
    }

    /// Sets the interest for `fd`; an empty `Wanted` removes it (removing never fails).
    #[inline]
    pub(crate) fn set(&mut self, fd: RawFd, wanted: Wanted) -> Result<(), Error> {
        match self {
            Backend::Poll(b) => b.set(fd, wanted),
            Backend::Other(b) => b.set(fd, wanted),
        }
    }

    /// Polls the kernel, blocking up to `timeout_ns` (None: forever), and appends what is
    /// ready to `events`.
    /// An interrupted wait (EINTR) returns `Ok(true)` with no events.
    #[inline]
    /// `notifier`: whether the wait must include the notifier; only poll(2) can leave it
    /// out (select and epoll watch it always: see `can_leave_out_notifier`).
    pub(crate) fn poll(
        &mut self,
        timeout_ns: Option<u64>,
        events: &mut Vec<ReadyFd>,
        notifier: bool,
    ) -> Result<bool, Error> {
        match self {
            Backend::Poll(b) => b.poll(timeout_ns, events, notifier),
            Backend::Other(b) => b.poll(timeout_ns, events),
        }
    }

    /// Whether a wait can leave the notifier out of its set (poll(2), where it is the first
    /// entry of the array and a wait simply starts after it; epoll keeps it registered in
    /// the kernel, where leaving it out would cost two `epoll_ctl` calls, and select's set
    /// is rebuilt from the interest table).
    pub(crate) fn can_leave_out_notifier(&self) -> bool {
        matches!(self, Backend::Poll(_))
    }

    /// How many fds are registered.
    pub(crate) fn len(&self) -> usize {
        match self {
            Backend::Poll(b) => b.len(),
            Backend::Other(b) => b.len(),
        }
    }

    /// Whether an fd it reported must be `set` again, even with the same interest, before
    /// it can be reported again (epoll's one-shot registrations; poll and select keep it).
    #[inline]
    pub(crate) fn disarms_on_report(&self) -> bool {
        match self {
            Backend::Poll(_) => false,
            Backend::Other(b) => b.disarms_on_report(),
        }
    }

    /// Whether an fd whose interest has `keep` stays armed after a report, so an unchanged
    /// interest need not be told again.
    #[inline]
    pub(crate) fn keeps_armed(&self) -> bool {
        match self {
            Backend::Poll(_) => false,
            Backend::Other(b) => b.keeps_armed(),
        }
    }
}

/// Converts a nanosecond timeout to the kernel's `Timespec`, exactly (no rounding).
pub(crate) fn timespec(nanos: u64) -> rustix::event::Timespec {
    rustix::event::Timespec {
        tv_sec: (nanos / 1_000_000_000) as i64,
        tv_nsec: (nanos % 1_000_000_000) as _,
    }
}

#[cfg(feature = "select")]
/// Whether `fd` names an open file (`fcntl(F_GETFD)` succeeds). select uses it to find fds
/// closed under their waiters, which poll(2) reports itself as `POLLNVAL`.
///
/// # Safety
/// `fd` must be a number the reactor was given for a registration whose owner keeps it
/// open while it is registered (the contract of `Registration::new`, a readyloop socket
/// that owns its fd, or a leaf holding a `BorrowedFd` across its wait). The borrow lasts
/// for one call into the kernel; should an owner break that promise, the kernel answers
/// for a closed number (EBADF, POLLNVAL) and the reactor reports it to the waiters.
pub(crate) unsafe fn is_open(fd: RawFd) -> bool {
    // SAFETY: the caller's promise (above); fcntl answers EBADF if the number is closed.
    let borrowed = unsafe { rustix::fd::BorrowedFd::borrow_raw(fd) };
    rustix::io::fcntl_getfd(borrowed).is_ok()
}

/// Pauses the thread for a millisecond after a wait failed (ENOMEM and the like), so a
/// persistent failure cannot turn the loop into a busy spin.
pub(crate) fn backoff() {
    let _ = rustix::thread::nanosleep(&timespec(1_000_000));
}
