//! `PidFd`: one child's pidfd, registered with a loop, and the future-free step that reaps it.
//!
//! It must never reap any process but its own (it waits on `P_PIDFD`, never on `-1`), and
//! never close the fd while the loop still has it registered (the registration drops first).

use crate::executor::Handle;
use crate::registration::Registration;
use crate::sys::{process as sys, Interest};
use core::task::{Context, Poll};
use rustix::fd::{AsFd, AsRawFd, OwnedFd};
use rustix::io::Errno;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// A child's pidfd on a loop. Readable once the child has exited.
#[derive(Debug)]
pub(super) struct PidFd {
    /// Dropped first (fields drop in declaration order): the loop forgets the fd before it
    /// closes.
    registration: Registration,
    /// The pidfd itself.
    fd: OwnedFd,
}

impl PidFd {
    /// Opens the pidfd of the unreaped child `pid` and registers it with `handle`'s loop.
    pub(super) fn open(handle: &Handle, pid: u32) -> std::io::Result<PidFd> {
        let fd = sys::pidfd_open(pid).map_err(|e| match e {
            Errno::NOSYS => std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "readyloop::process needs pidfd_open(2), which this system lacks (Linux \
                 before 5.3, valgrind 3.19, or a seccomp filter)",
            ),
            e => e.into(),
        })?;
        Ok(PidFd {
            registration: Registration::sealed(handle, fd.as_raw_fd()),
            fd,
        })
    }

    /// The loop the pidfd is registered with.
    pub(super) fn handle(&self) -> &Handle {
        self.registration.handle()
    }

    /// Reaps the child now if it has exited (`waitid(P_PIDFD, WNOHANG)`).
    pub(super) fn try_reap(&self) -> std::io::Result<Option<ExitStatus>> {
        Ok(sys::try_reap(self.fd.as_fd())?.map(ExitStatus::from_raw))
    }

    /// Reaps the child once it has exited; until then waits for the pidfd to turn readable.
    pub(super) fn poll_reap(&self, cx: &mut Context<'_>) -> Poll<std::io::Result<ExitStatus>> {
        self.registration
            .poll_io(cx, Interest::Readable, || {
                match sys::try_reap(self.fd.as_fd()) {
                    Ok(Some(raw)) => Ok(ExitStatus::from_raw(raw)),
                    Ok(None) => Err(Errno::AGAIN),
                    Err(e) => Err(e),
                }
            })
            .map_err(std::io::Error::from)
    }

    /// Sends `SIGKILL`; a child that has already exited (but is not reaped) is not an error.
    pub(super) fn kill(&self) -> std::io::Result<()> {
        match sys::kill(self.fd.as_fd()) {
            Ok(()) | Err(Errno::SRCH) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deregisters the pidfd and hands the fd back (for the parked-orphan list).
    pub(super) fn into_fd(self) -> OwnedFd {
        let PidFd { registration, fd } = self;
        drop(registration);
        fd
    }
}
