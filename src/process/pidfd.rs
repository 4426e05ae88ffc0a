//! `PidFd`: how the loop learns that one child exited, and the non-blocking step that reaps
//! it.
//!
//! Normally a pidfd, registered with the loop: readable once the child has exited. Where the
//! system has no pidfds (`pidfd_open(2)` says `ENOSYS`: Linux before 5.3, valgrind 3.19, some
//! seccomp filters) the child's pid is checked with `waitid(P_PID, WNOHANG)` every
//! [`PID_POLL_PERIOD`] on a loop timer instead: still no signal handler and no thread, at
//! the price of a wakeup per period while a child is awaited. It must never reap any process
//! but its own, and never close the fd while the loop still has it registered (the
//! registration drops first).

use crate::events::Sleep;
use crate::executor::Handle;
use crate::registration::Registration;
use crate::sys::{process as sys, Interest};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::io::Errno;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// How often a child is checked where the system has no pidfds.
const PID_POLL_PERIOD: Duration = Duration::from_millis(10);

/// One unreaped child, watched by the loop.
#[derive(Debug)]
pub(super) enum PidFd {
    /// The child's pidfd.
    Fd {
        /// Dropped first (fields drop in declaration order): the loop forgets the fd
        /// before it closes.
        registration: Registration,
        /// The pidfd itself.
        fd: OwnedFd,
    },
    /// No pidfds on this system: the pid, checked on a timer.
    Pid {
        /// The loop whose timer checks it.
        handle: Handle,
        /// The child's pid (ours until reaped, so it cannot name another process).
        pid: u32,
        /// The timer until the next check, while a task waits.
        next_check: Option<Pin<Box<Sleep>>>,
    },
}

/// What the orphan list keeps for a child whose loop went away.
#[derive(Debug)]
pub(super) enum Parked {
    Fd(OwnedFd),
    Pid(u32),
}

impl Parked {
    /// Reaps the child now if it has exited: `true` once it is gone (reaped, or not ours).
    pub(super) fn try_reap(&self) -> bool {
        let r = match self {
            Parked::Fd(fd) => sys::try_reap(fd.as_fd()),
            Parked::Pid(pid) => sys::try_reap_pid(*pid),
        };
        !matches!(r, Ok(None))
    }
}

impl PidFd {
    /// Watches the unreaped child `pid` on `handle`'s loop.
    pub(super) fn open(handle: &Handle, pid: u32) -> std::io::Result<PidFd> {
        match sys::pidfd_open(pid) {
            Ok(fd) => Ok(PidFd::Fd {
                registration: Registration::sealed(handle, fd.as_raw_fd()),
                fd,
            }),
            Err(Errno::NOSYS) => Ok(PidFd::Pid {
                handle: handle.clone(),
                pid,
                next_check: None,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The loop the child is watched on.
    pub(super) fn handle(&self) -> &Handle {
        match self {
            PidFd::Fd { registration, .. } => registration.handle(),
            PidFd::Pid { handle, .. } => handle,
        }
    }

    fn reap_now(&self) -> Result<Option<i32>, Errno> {
        match self {
            PidFd::Fd { fd, .. } => sys::try_reap(fd.as_fd()),
            PidFd::Pid { pid, .. } => sys::try_reap_pid(*pid),
        }
    }

    /// Reaps the child now if it has exited (`waitid(.., WNOHANG)`).
    pub(super) fn try_reap(&self) -> std::io::Result<Option<ExitStatus>> {
        Ok(self.reap_now()?.map(ExitStatus::from_raw))
    }

    /// Reaps the child once it has exited; until then waits for the pidfd to turn readable
    /// (or for the next check's timer).
    pub(super) fn poll_reap(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<ExitStatus>> {
        match self {
            PidFd::Fd { registration, fd } => registration
                .poll_io(cx, Interest::Readable, || match sys::try_reap(fd.as_fd()) {
                    Ok(Some(raw)) => Ok(ExitStatus::from_raw(raw)),
                    Ok(None) => Err(Errno::AGAIN),
                    Err(e) => Err(e),
                })
                .map_err(std::io::Error::from),
            PidFd::Pid {
                handle,
                pid,
                next_check,
            } => loop {
                if let Some(timer) = next_check.as_mut() {
                    if timer.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *next_check = None;
                }
                match sys::try_reap_pid(*pid) {
                    Ok(Some(raw)) => return Poll::Ready(Ok(ExitStatus::from_raw(raw))),
                    Ok(None) => *next_check = Some(Box::pin(handle.sleep(PID_POLL_PERIOD))),
                    Err(e) => return Poll::Ready(Err(e.into())),
                }
            },
        }
    }

    /// Sends `SIGKILL`; a child that has already exited (but is not reaped) is not an error.
    pub(super) fn kill(&self) -> std::io::Result<()> {
        let r = match self {
            PidFd::Fd { fd, .. } => sys::kill(fd.as_fd()),
            PidFd::Pid { pid, .. } => sys::kill_pid(*pid),
        };
        match r {
            Ok(()) | Err(Errno::SRCH) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Stops watching on the loop and hands back what names the child (for the orphan
    /// list).
    pub(super) fn into_parked(self) -> Parked {
        match self {
            PidFd::Fd { registration, fd } => {
                drop(registration);
                Parked::Fd(fd)
            }
            PidFd::Pid { pid, .. } => Parked::Pid(pid),
        }
    }
}
