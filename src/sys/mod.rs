//! The syscall layer: the only code in readyloop that calls `rustix`.
//!
//! Everything above speaks in readyloop's own terms: raw fd numbers, [`Interest`],
//! nanosecond deadlines, and [`Error`](crate::Error). Nothing here knows about tasks or wakers.

pub(crate) mod backend;
pub(crate) mod clock;
pub(crate) mod describe;
#[cfg(feature = "testing")]
pub(crate) mod faults;
pub(crate) mod fd;
#[cfg(feature = "fs-watch")]
pub(crate) mod inotify;
pub(crate) mod net;
pub(crate) mod notifier;
#[cfg(feature = "process")]
pub(crate) mod process;
pub(crate) mod quiet;
#[cfg(feature = "signal")]
pub(crate) mod signal;
#[cfg(feature = "systemd")]
pub(crate) mod systemd;
pub(crate) mod thread;

pub use rustix::fd::RawFd;

/// Which readiness a task waits for on a file descriptor.
///
/// ```
/// use readyloop::{Interest, Loop, Registration};
/// use std::os::fd::AsRawFd;
/// let lp = Loop::new().unwrap();
/// let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
/// a.set_nonblocking(true).unwrap();
/// // SAFETY: the fd is open and outlives the registration (dropped first).
/// let reg = unsafe { Registration::new(&lp.handle(), a.as_raw_fd()) };
/// // An empty socket buffer has room: the wait for Writable ends on the first turn.
/// lp.block_on(core::future::poll_fn(|cx| reg.poll_ready(cx, Interest::Writable))).unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interest {
    /// Data can be read, a connection accepted, or the peer hung up (`POLLIN`).
    Readable,
    /// Data can be written or a connect finished (`POLLOUT`).
    Writable,
}

impl Interest {
    /// The name used in traces and stuck-task reports.
    ///
    /// ```
    /// assert_eq!(readyloop::Interest::Readable.name(), "READABLE");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Interest::Readable => "READABLE",
            Interest::Writable => "WRITABLE",
        }
    }
}

/// What the kernel reported for one file descriptor after a wait.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FdStatus {
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// `POLLERR` or `POLLHUP`: both sides are woken and the next syscall says what happened.
    pub(crate) error_or_hangup: bool,
    /// `POLLNVAL`: the fd is not open; its registration must be dropped.
    pub(crate) invalid: bool,
}
