//! Child-process syscalls: `pidfd_open(2)`, `waitid(2)` and `pidfd_send_signal(2)`, with
//! `waitid(P_PID)` and `kill(2)` for systems that lack pidfds.
//!
//! A pidfd names one process for as long as the fd is open, so waiting and signalling
//! through it can never reach a different process that reused the pid. Without pidfds the
//! pid itself is used, which is safe for an unreaped child of ours: its pid cannot be reused
//! before it is reaped. Nothing here blocks: `waitid` is always called with `WNOHANG`.
//! Nothing here ever reaps a process other than the one it is given (no `waitpid(-1)`), so
//! other libraries' children are left alone.

use core::sync::atomic::{AtomicBool, Ordering};
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Signal, WaitId, WaitIdOptions, WaitIdStatus};

/// Set once `pidfd_open` said `ENOSYS`: it is not tried again (under valgrind each try logs
/// a warning).
static PIDFD_MISSING: AtomicBool = AtomicBool::new(false);

fn pid(pid: u32) -> Result<Pid, Errno> {
    i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or(Errno::INVAL)
}

/// Opens a pidfd for the child with process id `pid`; `ENOSYS` where the system has none
/// (Linux before 5.3, valgrind 3.19, some seccomp filters).
///
/// The caller must not have reaped the child yet: until it is reaped the pid cannot be
/// reused, so the fd names that child and no other.
pub(crate) fn pidfd_open(child: u32) -> Result<OwnedFd, Errno> {
    if PIDFD_MISSING.load(Ordering::Relaxed) {
        return Err(Errno::NOSYS);
    }
    // NONBLOCK is not needed: every wait below passes WNOHANG.
    let r = rustix::process::pidfd_open(pid(child)?, PidfdFlags::empty());
    if matches!(r, Err(Errno::NOSYS)) {
        PIDFD_MISSING.store(true, Ordering::Relaxed);
    }
    r
}

/// Reaps the child behind `pidfd` if it has exited: its wait status in the classic
/// `waitpid` encoding (exit code in bits 8..16, or the signal in bits 0..7 with 0x80 for a
/// core dump), or `None` while it is still running.
pub(crate) fn try_reap(pidfd: BorrowedFd<'_>) -> Result<Option<i32>, Errno> {
    let status = rustix::process::waitid(
        WaitId::PidFd(pidfd),
        WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
    )?;
    status.map(|s| encode(&s)).transpose()
}

/// [`try_reap`] for an unreaped child named by its pid (no pidfd on this system).
pub(crate) fn try_reap_pid(child: u32) -> Result<Option<i32>, Errno> {
    let status = rustix::process::waitid(
        WaitId::Pid(pid(child)?),
        WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
    )?;
    status.map(|s| encode(&s)).transpose()
}

/// The `waitpid`-style status of an exited child.
fn encode(status: &WaitIdStatus) -> Result<i32, Errno> {
    if let Some(code) = status.exit_status() {
        return Ok((code & 0xff) << 8);
    }
    match status.terminating_signal() {
        Some(sig) => Ok(sig | if status.dumped() { 0x80 } else { 0 }),
        None => Err(Errno::INVAL),
    }
}

/// Sends `SIGKILL` to the process behind `pidfd`. `ESRCH` means it has already exited.
pub(crate) fn kill(pidfd: BorrowedFd<'_>) -> Result<(), Errno> {
    rustix::process::pidfd_send_signal(pidfd, Signal::KILL)
}

/// Sends `SIGKILL` to the unreaped child `child` (no pidfd on this system).
pub(crate) fn kill_pid(child: u32) -> Result<(), Errno> {
    rustix::process::kill_process(pid(child)?, Signal::KILL)
}
