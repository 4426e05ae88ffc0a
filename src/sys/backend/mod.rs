//! The wait backends: one small interface, chosen when the loop is built.
//!
//! A backend keeps the set of (fd, interest) pairs the reactor asked for and waits on it
//! with a nanosecond timeout, reporting each ready fd once per wait. It knows nothing of
//! tasks. poll(2) is the default; every backend behaves the same to the layers above.

mod poll;

use super::{Interest, RawFd, Readiness};
use crate::error::Error;
use alloc::vec::Vec;

/// Which system call the loop waits with.
///
/// ```
/// use readyloop::{BackendKind, Loop};
/// let lp = Loop::builder().backend(BackendKind::Poll).build().unwrap();
/// assert_eq!(lp.handle().backend(), BackendKind::Poll);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendKind {
    /// `poll(2)` through `ppoll` (nanosecond timeouts); the default.
    Poll,
}

impl BackendKind {
    /// The backend a plain `Loop::new()` uses.
    pub fn default_kind() -> Self {
        BackendKind::Poll
    }

    /// A short lowercase name ("poll").
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Poll => "poll",
        }
    }
}

/// One ready fd reported by a wait.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Event {
    pub(crate) fd: RawFd,
    pub(crate) readiness: Readiness,
}

/// The interest currently registered for one fd.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub(crate) read: bool,
    pub(crate) write: bool,
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

/// The chosen backend.
#[derive(Debug)]
pub(crate) enum Backend {
    Poll(poll::PollBackend),
}

impl Backend {
    pub(crate) fn new(kind: BackendKind) -> Result<Self, Error> {
        match kind {
            BackendKind::Poll => Ok(Backend::Poll(poll::PollBackend::new())),
        }
    }

    pub(crate) fn kind(&self) -> BackendKind {
        match self {
            Backend::Poll(_) => BackendKind::Poll,
        }
    }

    /// Sets the interest for `fd`; an empty `Wanted` removes it.
    pub(crate) fn set(&mut self, fd: RawFd, wanted: Wanted) -> Result<(), Error> {
        match self {
            Backend::Poll(b) => b.set(fd, wanted),
        }
    }

    /// Waits up to `timeout_ns` (None: forever) and appends what is ready to `events`.
    /// An interrupted wait (EINTR) returns with no events.
    pub(crate) fn wait(
        &mut self,
        timeout_ns: Option<u64>,
        events: &mut Vec<Event>,
    ) -> Result<(), Error> {
        match self {
            Backend::Poll(b) => b.wait(timeout_ns, events),
        }
    }

    /// How many fds are registered.
    pub(crate) fn len(&self) -> usize {
        match self {
            Backend::Poll(b) => b.len(),
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

/// Pauses the thread for a millisecond after a wait failed (ENOMEM and the like), so a
/// persistent failure cannot turn the loop into a busy spin.
pub(crate) fn backoff() {
    let _ = rustix::thread::nanosleep(&timespec(1_000_000));
}
