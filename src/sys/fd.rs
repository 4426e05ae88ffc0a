//! Plain fd operations the leaves need: read, recv, and the checks they make before waiting.

use crate::error::Error;
use rustix::fd::{BorrowedFd, RawFd};
use rustix::io::Errno;

/// Borrows a raw fd number for one syscall.
///
/// The callers hold the fd open (a `BorrowedFd<'a>` in the leaf or an owned socket), so the
/// number names the file they mean for the duration of the call.
fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: the borrow lives only for the syscall that follows; if the fd was closed
    // behind the owner's back the kernel answers EBADF, which becomes `ErrorKind::Closed`.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// `read(2)` into `buf`.
pub(crate) fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
    rustix::io::read(borrow(fd), buf)
}

/// `recv(2)` into `buf`, without flags.
pub(crate) fn recv(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
    rustix::net::recv(borrow(fd), buf, rustix::net::RecvFlags::empty()).map(|(n, _)| n)
}

/// Whether the fd's file description is in non-blocking mode.
pub(crate) fn is_nonblocking(fd: RawFd) -> Result<bool, Error> {
    let flags = rustix::fs::fcntl_getfl(borrow(fd))?;
    Ok(flags.contains(rustix::fs::OFlags::NONBLOCK))
}

/// Checks that `fd` is a socket (the recv-family leaves refuse anything else).
pub(crate) fn check_socket(fd: RawFd) -> Result<(), Error> {
    rustix::net::sockopt::socket_type(borrow(fd))
        .map(|_| ())
        .map_err(Error::from_errno)
}

/// `write(2)` from `buf`.
pub(crate) fn write(fd: RawFd, buf: &[u8]) -> Result<usize, Errno> {
    rustix::io::write(borrow(fd), buf)
}

/// Puts the fd's file description in non-blocking mode (shared with every dup of it).
pub(crate) fn set_nonblocking(fd: RawFd) -> Result<(), Error> {
    let flags = rustix::fs::fcntl_getfl(borrow(fd))?;
    if !flags.contains(rustix::fs::OFlags::NONBLOCK) {
        rustix::fs::fcntl_setfl(borrow(fd), flags | rustix::fs::OFlags::NONBLOCK)?;
    }
    Ok(())
}

/// Shuts the writing half if the fd is a socket; anything else has no half to shut.
pub(crate) fn shutdown_write_if_socket(fd: RawFd) -> Result<(), Errno> {
    match rustix::net::shutdown(borrow(fd), rustix::net::Shutdown::Write) {
        Err(Errno::NOTSOCK) => Ok(()),
        other => other,
    }
}
