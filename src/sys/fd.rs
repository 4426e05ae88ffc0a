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

/// Whether the fd is the slave side of a terminal, whose open file description a shell
/// may share (`TCGETS` succeeds on it, and it is not a pseudo-terminal master).
///
/// A master (`/dev/ptmx`, device 5:2) answers `TCGETS` too, but it belongs to the program
/// that opened it, and opening it again would make a new, unrelated pseudo-terminal.
pub(crate) fn is_shared_terminal(fd: BorrowedFd<'_>) -> bool {
    const PTMX: (u32, u32) = (5, 2);
    if !rustix::termios::isatty(fd) {
        return false;
    }
    match rustix::fs::fstat(fd) {
        Ok(st) => (rustix::fs::major(st.st_rdev), rustix::fs::minor(st.st_rdev)) != PTMX,
        Err(_) => true,
    }
}

/// A second, private open file description of the file `fd` names, in non-blocking and
/// close-on-exec mode, with `fd`'s access mode; it never becomes a controlling terminal.
///
/// `O_NONBLOCK` belongs to the open file description, which a terminal shares with the
/// shell and with every dup (stdin, stdout and stderr are usually one description): setting
/// it there breaks them, even after this process ends. Opening `/proc/self/fd/N` again makes
/// a description of the same terminal (same input queue, same termios) that only we hold.
pub(crate) fn reopen_private_nonblocking(fd: BorrowedFd<'_>) -> Result<rustix::fd::OwnedFd, Errno> {
    use rustix::fs::{Mode, OFlags};
    let access = rustix::fs::fcntl_getfl(fd)? & OFlags::RWMODE;
    let mut path = [0u8; 32];
    let len = proc_self_fd_path(rustix::fd::AsRawFd::as_raw_fd(&fd), &mut path);
    let path = core::ffi::CStr::from_bytes_with_nul(&path[..len]).map_err(|_| Errno::INVAL)?;
    rustix::fs::open(
        path,
        access | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY,
        Mode::empty(),
    )
}

/// Writes `/proc/self/fd/<fd>` and a NUL into `out`; the length with the NUL.
pub(crate) fn proc_self_fd_path(fd: rustix::fd::RawFd, out: &mut [u8; 32]) -> usize {
    const PREFIX: &[u8] = b"/proc/self/fd/";
    out[..PREFIX.len()].copy_from_slice(PREFIX);
    let mut digits = [0u8; 10];
    let mut n = fd.unsigned_abs();
    let mut count = 0;
    loop {
        digits[count] = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut at = PREFIX.len();
    for d in digits[..count].iter().rev() {
        out[at] = *d;
        at += 1;
    }
    out[at] = 0;
    at + 1
}

#[cfg(test)]
mod tests {
    #[test]
    fn proc_path_names_the_fd() {
        let mut out = [0u8; 32];
        for (fd, want) in [(0, "/proc/self/fd/0\0"), (1234, "/proc/self/fd/1234\0")] {
            let len = super::proc_self_fd_path(fd, &mut out);
            assert_eq!(&out[..len], want.as_bytes());
        }
        let len = super::proc_self_fd_path(i32::MAX, &mut out);
        assert_eq!(&out[..len], b"/proc/self/fd/2147483647\0");
    }
}
