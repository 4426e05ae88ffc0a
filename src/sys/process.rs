//! Child-process syscalls: `pidfd_open(2)`, `waitid(P_PIDFD)` and `pidfd_send_signal(2)`.
//!
//! A pidfd names one process for as long as the fd is open, so waiting and signalling
//! through it can never reach a different process that reused the pid. Nothing here blocks:
//! `waitid` is always called with `WNOHANG`. Nothing here ever reaps a process other than the
//! one its pidfd names (no `waitpid(-1)`), so other libraries' children are left alone.

use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Signal, WaitId, WaitIdOptions};

/// Opens a pidfd for the child with process id `pid`.
///
/// The caller must not have reaped the child yet: until it is reaped the pid cannot be
/// reused, so the fd names that child and no other.
pub(crate) fn pidfd_open(pid: u32) -> Result<OwnedFd, Errno> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or(Errno::INVAL)?;
    // NONBLOCK is not needed: every wait below passes WNOHANG.
    rustix::process::pidfd_open(pid, PidfdFlags::empty())
}

/// Reaps the child behind `pidfd` if it has exited: its wait status in the classic
/// `waitpid` encoding (exit code in bits 8..16, or the signal in bits 0..7 with 0x80 for a
/// core dump), or `None` while it is still running.
pub(crate) fn try_reap(pidfd: BorrowedFd<'_>) -> Result<Option<i32>, Errno> {
    let status = rustix::process::waitid(
        WaitId::PidFd(pidfd),
        WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
    )?;
    let Some(status) = status else {
        return Ok(None);
    };
    if let Some(code) = status.exit_status() {
        return Ok(Some((code & 0xff) << 8));
    }
    match status.terminating_signal() {
        Some(sig) => Ok(Some(sig | if status.dumped() { 0x80 } else { 0 })),
        None => Err(Errno::INVAL),
    }
}

/// Sends `SIGKILL` to the process behind `pidfd`. `ESRCH` means it has already exited.
pub(crate) fn kill(pidfd: BorrowedFd<'_>) -> Result<(), Errno> {
    rustix::process::pidfd_send_signal(pidfd, Signal::KILL)
}
