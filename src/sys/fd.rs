//! Plain fd operations the leaves need: read, recv, and the checks they make before waiting.
//!
//! Each takes the `BorrowedFd` its caller holds, never a bare number: turning an arbitrary
//! number into a borrow is the caller's promise to make (an `unsafe` one), not this module's.

use crate::error::Error;
use rustix::fd::BorrowedFd;
use rustix::io::Errno;

/// `read(2)` into `buf`.
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    rustix::io::read(fd, buf)
}

/// `recv(2)` into `buf`, without flags.
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    rustix::net::recv(fd, buf, rustix::net::RecvFlags::empty()).map(|(n, _)| n)
}

/// Whether the fd's file description is in non-blocking mode.
pub(crate) fn is_nonblocking(fd: BorrowedFd<'_>) -> Result<bool, Error> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    Ok(flags.contains(rustix::fs::OFlags::NONBLOCK))
}

/// Checks that `fd` is a socket (the recv-family leaves refuse anything else).
pub(crate) fn check_socket(fd: BorrowedFd<'_>) -> Result<(), Error> {
    rustix::net::sockopt::socket_type(fd)
        .map(|_| ())
        .map_err(Error::from_errno)
}

/// `write(2)` from `buf`.
pub(crate) fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize, Errno> {
    rustix::io::write(fd, buf)
}

/// Puts the fd's file description in non-blocking mode (shared with every dup of it).
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> Result<(), Error> {
    let flags = rustix::fs::fcntl_getfl(fd)?;
    if !flags.contains(rustix::fs::OFlags::NONBLOCK) {
        rustix::fs::fcntl_setfl(fd, flags | rustix::fs::OFlags::NONBLOCK)?;
    }
    Ok(())
}

/// Shuts the writing half if the fd is a socket; anything else has no half to shut.
pub(crate) fn shutdown_write_if_socket(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    match rustix::net::shutdown(fd, rustix::net::Shutdown::Write) {
        Err(Errno::NOTSOCK) => Ok(()),
        other => other,
    }
}
