//! Socket system calls for `net/`: create, bind, listen, accept, connect, send, receive.
//!
//! Every socket is made non-blocking and close-on-exec in the same call that creates it
//! (`socket`/`accept4`/`socketpair` flags, never a later `fcntl`), and every send passes
//! `MSG_NOSIGNAL` so a peer that went away gives `EPIPE`, never a `SIGPIPE` that kills the
//! process. Nothing here waits, retries or knows about tasks: an `EAGAIN` goes back to the
//! caller as it is.

use crate::error::Error;
use core::mem::MaybeUninit;
use core::net::SocketAddr;
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::{
    addr::SocketAddrArg, AddressFamily, RecvFlags, SendFlags, SocketAddrAny, SocketAddrUnix,
    SocketFlags, SocketType,
};
#[cfg(feature = "std")]
use std::io::IoSlice;

pub(crate) use rustix::net::Shutdown;

/// The flags every socket readyloop makes or accepts carries.
const FLAGS: SocketFlags = SocketFlags::NONBLOCK.union(SocketFlags::CLOEXEC);

/// A socket's address family, as readyloop distinguishes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// `AF_INET` or `AF_INET6`.
    Inet,
    /// `AF_UNIX`.
    Unix,
}

/// A socket's type, as readyloop distinguishes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `SOCK_STREAM`.
    Stream,
    /// `SOCK_DGRAM`.
    Datagram,
}

impl Kind {
    fn raw(self) -> SocketType {
        match self {
            Kind::Stream => SocketType::STREAM,
            Kind::Datagram => SocketType::DGRAM,
        }
    }
}

fn inet_family(addr: &SocketAddr) -> AddressFamily {
    match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    }
}

/// A new non-blocking, close-on-exec socket of the family `addr` belongs to.
pub(crate) fn inet_socket(addr: &SocketAddr, kind: Kind) -> Result<OwnedFd, Errno> {
    rustix::net::socket_with(inet_family(addr), kind.raw(), FLAGS, None)
}

/// A new non-blocking, close-on-exec Unix-domain socket.
pub(crate) fn unix_socket(kind: Kind) -> Result<OwnedFd, Errno> {
    rustix::net::socket_with(AddressFamily::UNIX, kind.raw(), FLAGS, None)
}

/// A connected pair of non-blocking, close-on-exec Unix-domain sockets.
pub(crate) fn unix_pair(kind: Kind) -> Result<(OwnedFd, OwnedFd), Errno> {
    rustix::net::socketpair(AddressFamily::UNIX, kind.raw(), FLAGS, None)
}

/// `SO_REUSEADDR` (on, a restarted server can bind while old connections sit in
/// `TIME_WAIT`).
pub(crate) fn set_reuseaddr(fd: BorrowedFd<'_>, on: bool) -> Result<(), Errno> {
    rustix::net::sockopt::set_socket_reuseaddr(fd, on)
}

/// `SO_REUSEPORT` (on, sockets of one user share an address and the kernel spreads
/// connections over them).
pub(crate) fn set_reuseport(fd: BorrowedFd<'_>, on: bool) -> Result<(), Errno> {
    rustix::net::sockopt::set_socket_reuseport(fd, on)
}

/// `IPV6_V6ONLY`, set before `bind` (an IPv4 socket has no such option: callers refuse
/// that first).
pub(crate) fn set_only_v6(fd: BorrowedFd<'_>, on: bool) -> Result<(), Errno> {
    rustix::net::sockopt::set_ipv6_v6only(fd, on)
}

/// `bind(2)` to an IP address.
pub(crate) fn bind(fd: BorrowedFd<'_>, addr: &SocketAddr) -> Result<(), Errno> {
    rustix::net::bind(fd, addr)
}

/// `bind(2)` to a Unix-domain address.
pub(crate) fn bind_unix(fd: BorrowedFd<'_>, addr: &SocketAddrUnix) -> Result<(), Errno> {
    rustix::net::bind(fd, addr)
}

/// `listen(2)`.
pub(crate) fn listen(fd: BorrowedFd<'_>, backlog: i32) -> Result<(), Errno> {
    rustix::net::listen(fd, backlog)
}

/// `accept4(2)` with the peer's address; the new socket is non-blocking and close-on-exec.
pub(crate) fn accept(fd: BorrowedFd<'_>) -> Result<(OwnedFd, Option<SocketAddrAny>), Errno> {
    rustix::net::acceptfrom_with(fd, FLAGS)
}

/// `connect(2)`; on a non-blocking socket `EINPROGRESS` means "wait writable, then ask
/// [`take_error`]".
pub(crate) fn connect(fd: BorrowedFd<'_>, addr: &impl SocketAddrArg) -> Result<(), Errno> {
    rustix::net::connect(fd, addr)
}

/// `SO_ERROR`: the pending error of the socket (how a non-blocking connect reports).
pub(crate) fn take_error(fd: BorrowedFd<'_>) -> Result<Result<(), Errno>, Errno> {
    rustix::net::sockopt::socket_error(fd)
}

/// `recv(2)` without flags (with feature `testing`, after asking `faults` whether to fail
/// or shorten it).
pub(crate) fn recv(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    #[cfg(feature = "testing")]
    let buf = {
        let n = super::faults::before(fd, super::faults::Op::Recv, buf.len())?;
        &mut buf[..n]
    };
    rustix::net::recv(fd, buf, RecvFlags::empty()).map(|(n, _)| n)
}

/// Whether a stream socket has something to receive (data, the peer's close, or an error),
/// without taking it: a one-byte `MSG_PEEK | MSG_DONTWAIT` receive; false on `EAGAIN`.
pub(crate) fn has_input(fd: BorrowedFd<'_>) -> bool {
    let mut byte = [0u8; 1];
    !matches!(
        rustix::net::recv(fd, &mut byte, RecvFlags::PEEK | RecvFlags::DONTWAIT),
        Err(Errno::AGAIN)
    )
}

/// `send(2)` with `MSG_NOSIGNAL` (with feature `testing`, after asking `faults`).
pub(crate) fn send(fd: BorrowedFd<'_>, buf: &[u8]) -> Result<usize, Errno> {
    #[cfg(feature = "testing")]
    let buf = &buf[..super::faults::before(fd, super::faults::Op::Send, buf.len())?];
    rustix::net::send(fd, buf, SendFlags::NOSIGNAL)
}

/// `recv(2)` into memory that need not be initialised; returns the count of bytes the
/// kernel wrote, which are initialised from then on.
pub(crate) fn recv_uninit(fd: BorrowedFd<'_>, buf: &mut [MaybeUninit<u8>]) -> Result<usize, Errno> {
    rustix::net::recv(fd, buf, RecvFlags::empty()).map(|((filled, _), _)| filled.len())
}

/// `sendmsg(2)` of several buffers (`std` only: then rustix's `IoSlice` is std's, which the
/// public API takes) in one call (gather write) with `MSG_NOSIGNAL`: no
/// ancillary data and no address, so it is `writev(2)` that cannot raise `SIGPIPE`.
#[cfg(feature = "std")]
pub(crate) fn send_vectored(fd: BorrowedFd<'_>, bufs: &[IoSlice<'_>]) -> Result<usize, Errno> {
    let mut control = rustix::net::SendAncillaryBuffer::default();
    rustix::net::sendmsg(fd, bufs, &mut control, SendFlags::NOSIGNAL)
}

/// `recvfrom(2)`: the byte count and the sender's address.
pub(crate) fn recv_from(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
) -> Result<(usize, Option<SocketAddrAny>), Errno> {
    rustix::net::recvfrom(fd, buf, RecvFlags::empty()).map(|(n, _, addr)| (n, addr))
}

/// `recv(2)` with `MSG_PEEK`: the bytes stay queued.
pub(crate) fn peek(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    rustix::net::recv(fd, buf, RecvFlags::PEEK).map(|(n, _)| n)
}

/// `recvfrom(2)` with `MSG_PEEK`: the byte count and the sender; the datagram stays queued.
pub(crate) fn peek_from(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
) -> Result<(usize, Option<SocketAddrAny>), Errno> {
    rustix::net::recvfrom(fd, buf, RecvFlags::PEEK).map(|(n, _, addr)| (n, addr))
}

/// `sendto(2)` with `MSG_NOSIGNAL`.
pub(crate) fn send_to(
    fd: BorrowedFd<'_>,
    buf: &[u8],
    addr: &impl SocketAddrArg,
) -> Result<usize, Errno> {
    rustix::net::sendto(fd, buf, SendFlags::NOSIGNAL, addr)
}

/// `shutdown(2)`.
pub(crate) fn shutdown(fd: BorrowedFd<'_>, how: Shutdown) -> Result<(), Errno> {
    rustix::net::shutdown(fd, how)
}

/// `getsockname(2)`.
pub(crate) fn local_addr(fd: BorrowedFd<'_>) -> Result<SocketAddrAny, Errno> {
    rustix::net::getsockname(fd)
}

/// `getpeername(2)` (`ENOTCONN` when not connected).
pub(crate) fn peer_addr(fd: BorrowedFd<'_>) -> Result<SocketAddrAny, Errno> {
    rustix::net::getpeername(fd)?.ok_or(Errno::NOTCONN)
}

/// An IP address out of a kernel address (`EAFNOSUPPORT` if it is not IPv4 or IPv6).
pub(crate) fn to_inet(addr: SocketAddrAny) -> Result<SocketAddr, Errno> {
    SocketAddr::try_from(addr)
}

/// A Unix-domain address out of a kernel address (unnamed if the kernel gave none).
pub(crate) fn to_unix(addr: Option<SocketAddrAny>) -> Result<SocketAddrUnix, Errno> {
    // An unbound socket's address is just the family field; rustix would read that as
    // an empty abstract name, so it is recognised here.
    match addr {
        Some(a) if a.addr_len() as usize > core::mem::size_of::<u16>() => {
            SocketAddrUnix::try_from(a)
        }
        Some(a) if a.address_family() != AddressFamily::UNIX => Err(Errno::AFNOSUPPORT),
        _ => Ok(SocketAddrUnix::new_unnamed()),
    }
}

/// A Unix-domain address for a filesystem path given as bytes (`ENAMETOOLONG` past 107).
pub(crate) fn unix_addr(path: &[u8]) -> Result<SocketAddrUnix, Errno> {
    rustix::net::SocketAddrUnix::new(path)
}

/// A Unix-domain address in the abstract namespace (Linux; no file is created).
pub(crate) fn unix_abstract_addr(name: &[u8]) -> Result<SocketAddrUnix, Errno> {
    rustix::net::SocketAddrUnix::new_abstract_name(name)
}

/// `TCP_NODELAY`.
pub(crate) fn set_nodelay(fd: BorrowedFd<'_>, on: bool) -> Result<(), Errno> {
    rustix::net::sockopt::set_tcp_nodelay(fd, on)
}

/// Reads `TCP_NODELAY`.
pub(crate) fn nodelay(fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    rustix::net::sockopt::tcp_nodelay(fd)
}

/// `SO_LINGER`; `Some(0)` makes `close` send a reset.
pub(crate) fn set_linger(
    fd: BorrowedFd<'_>,
    linger: Option<core::time::Duration>,
) -> Result<(), Errno> {
    rustix::net::sockopt::set_socket_linger(fd, linger)
}

/// `connect(2)` to `AF_UNSPEC`: dissolves a TCP connection, sending a reset if it was
/// established (the fault proxy's reset, while other threads still hold the fd).
#[cfg(feature = "testing")]
pub(crate) fn disconnect(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    rustix::net::connect_unspec(fd)
}

/// Checks that an fd handed to readyloop is a socket of the expected family and type, in
/// non-blocking mode; each mismatch is its own error with a message naming the fix.
pub(crate) fn check_adopted(fd: BorrowedFd<'_>, family: Family, kind: Kind) -> Result<(), Error> {
    use crate::error::ErrorKind;
    let found_type = rustix::net::sockopt::socket_type(fd).map_err(|e| match e {
        Errno::NOTSOCK => Error::new(
            ErrorKind::NotASocket,
            "from_fd: the file descriptor is not a socket (a file, pipe or tty was given)",
        ),
        e => Error::from_errno(e),
    })?;
    if found_type != kind.raw() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            match kind {
                Kind::Stream => "from_fd: the socket is not a stream socket (SOCK_STREAM)",
                Kind::Datagram => "from_fd: the socket is not a datagram socket (SOCK_DGRAM)",
            },
        ));
    }
    let found_family = rustix::net::sockopt::socket_domain(fd)?;
    let family_ok = match family {
        Family::Inet => found_family == AddressFamily::INET || found_family == AddressFamily::INET6,
        Family::Unix => found_family == AddressFamily::UNIX,
    };
    if !family_ok {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            match family {
                Family::Inet => "from_fd: the socket is not an IPv4 or IPv6 socket",
                Family::Unix => "from_fd: the socket is not a Unix-domain socket",
            },
        ));
    }
    if !super::fd::is_nonblocking(fd)? {
        return Err(Error::new(
            ErrorKind::Blocking,
            "from_fd: the socket is in blocking mode; a blocking socket would stall the whole \
             loop: set O_NONBLOCK first (std: set_nonblocking(true))",
        ));
    }
    Ok(())
}

/// Whether a listening socket is in the listening state (`SO_ACCEPTCONN`).
pub(crate) fn is_listening(fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    rustix::net::sockopt::socket_acceptconn(fd)
}
