//! What a virtual clock asks the kernel before it skips time over a waiting fd: whether
//! anything is ready now, what kind of socket the fd is, who its peer is, and how many
//! bytes sit in its queues (SIOCINQ / SIOCOUTQ).
//!
//! Called only by a loop on a virtual clock, only when it is about to skip time; the normal
//! loop never makes these calls. Nothing here may block or change an fd.

use rustix::fd::{BorrowedFd, RawFd};
use rustix::net::{AddressFamily, SocketAddrAny, SocketType};

/// `SIOCOUTQ` (= `TIOCOUTQ`): bytes in the send queue (TCP: not yet acknowledged; Unix:
/// sent and not yet read by the peer).
const SIOCOUTQ: rustix::ioctl::Opcode = 0x5411;

/// What an fd is, as far as the virtual clock cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SockKind {
    /// Not a socket (pipe, tty, eventfd, file), or a socket that could not be asked.
    Other,
    /// A listening socket.
    Listener,
    /// A stream socket (TCP or Unix).
    Stream,
    /// A datagram socket (UDP or Unix).
    Datagram,
}

/// One fd described for the virtual clock's rule.
#[derive(Debug, Clone)]
pub(crate) struct SockInfo {
    pub(crate) fd: RawFd,
    pub(crate) kind: SockKind,
    /// Its own address (None if unnamed: a Unix socket without a path).
    pub(crate) local: Option<SocketAddrAny>,
    /// Its peer's address (None if not connected, or unnamed).
    pub(crate) peer: Option<SocketAddrAny>,
    /// It has a peer (named or not: a socketpair's ends are connected and unnamed).
    pub(crate) connected: bool,
    /// Its inode number (what pairs a socketpair's ends, see `LoopClock::pairs`).
    pub(crate) ino: u64,
    /// Bytes waiting to be read.
    pub(crate) inq: u64,
    /// Bytes sent and not yet taken by the other side.
    pub(crate) outq: u64,
}

/// # Safety
///
/// `fd` must be open for as long as the borrow is used: a number the reactor holds a
/// registration for (its owner keeps it open while registered).
unsafe fn borrow(fd: RawFd) -> BorrowedFd<'static> {
    // SAFETY: the caller's promise.
    unsafe { BorrowedFd::borrow_raw(fd) }
}

/// A named address (an unnamed Unix address names nothing: two of them are not a pair).
fn named(addr: SocketAddrAny) -> Option<SocketAddrAny> {
    let unnamed = addr.address_family() == AddressFamily::UNIX
        && addr.addr_len() as usize <= core::mem::size_of::<u16>();
    (!unnamed).then_some(addr)
}

/// Describes `fd`: its kind, addresses and queue lengths.
///
/// # Safety
///
/// As [`borrow`]: `fd` is open for the call (registered with the loop).
pub(crate) unsafe fn describe(fd: RawFd) -> SockInfo {
    let other = SockInfo {
        fd,
        kind: SockKind::Other,
        local: None,
        peer: None,
        connected: false,
        ino: 0,
        inq: 0,
        outq: 0,
    };
    // SAFETY: the caller's promise.
    let b = unsafe { borrow(fd) };
    let kind = match rustix::net::sockopt::socket_type(b) {
        Ok(SocketType::STREAM) | Ok(SocketType::SEQPACKET) => {
            if rustix::net::sockopt::socket_acceptconn(b).unwrap_or(false) {
                SockKind::Listener
            } else {
                SockKind::Stream
            }
        }
        Ok(SocketType::DGRAM) => SockKind::Datagram,
        _ => return other,
    };
    let local = rustix::net::getsockname(b).ok().and_then(named);
    if kind == SockKind::Listener {
        return SockInfo {
            kind,
            local,
            ..other
        };
    }
    let peer = rustix::net::getpeername(b).ok().flatten();
    let connected = peer.is_some();
    let peer = peer.and_then(named);
    let ino = rustix::fs::fstat(b).map(|st| st.st_ino).unwrap_or(0);
    let inq = rustix::io::ioctl_fionread(b).unwrap_or(u64::MAX);
    // SAFETY: SIOCOUTQ's output is one `c_int`, the getter's type.
    let getter = unsafe { rustix::ioctl::Getter::<SIOCOUTQ, core::ffi::c_int>::new() };
    // SAFETY: the getter matches the request (above); `b` is a socket.
    let outq = unsafe { rustix::ioctl::ioctl(b, getter) }
        .map(|n| n.max(0) as u64)
        .unwrap_or(u64::MAX);
    SockInfo {
        fd,
        kind,
        local,
        peer,
        connected,
        ino,
        inq,
        outq,
    }
}

/// The inode numbers of a socketpair's two ends.
pub(crate) fn pair_inodes(a: BorrowedFd<'_>, b: BorrowedFd<'_>) -> Option<(u64, u64)> {
    let a = rustix::fs::fstat(a).ok()?.st_ino;
    let b = rustix::fs::fstat(b).ok()?.st_ino;
    Some((a, b))
}

/// Whether a zero-timeout poll over `fds` (fd, wants read, wants write) reports anything
/// (an fd in error or hung up counts as ready: its waiter has something to learn).
///
/// # Safety
///
/// As [`borrow`]: every fd in `fds` is open for the call (registered with the loop).
pub(crate) unsafe fn any_ready(fds: &[(RawFd, bool, bool)]) -> bool {
    use rustix::event::{PollFd, PollFlags};
    let mut set: alloc::vec::Vec<PollFd<'_>> = fds
        .iter()
        .map(|&(fd, read, write)| {
            let mut flags = PollFlags::empty();
            if read {
                flags |= PollFlags::IN;
            }
            if write {
                flags |= PollFlags::OUT;
            }
            // SAFETY: the caller's promise, for every fd in `fds`.
            PollFd::from_borrowed_fd(unsafe { borrow(fd) }, flags)
        })
        .collect();
    let zero = rustix::time::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    match rustix::event::poll(&mut set, Some(&zero)) {
        Ok(n) => n > 0,
        // Cannot tell: count it as ready, so the clock does not skip.
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fd::AsRawFd;

    #[test]
    #[cfg_attr(miri, ignore = "Miri has no poll(2)")]
    fn a_pipe_is_not_a_socket_and_an_empty_one_is_not_ready() {
        let (r, _w) = rustix::pipe::pipe().unwrap();
        // SAFETY: `r` is open for both calls.
        assert_eq!(unsafe { describe(r.as_raw_fd()) }.kind, SockKind::Other);
        // SAFETY: as above.
        assert!(!unsafe { any_ready(&[(r.as_raw_fd(), true, false)]) });
    }
}
