//! What an fd is, for the stuck-task report: its kind (TCP, UDP or Unix socket, listener,
//! pipe, eventfd, signal pipe, tty...), its local and peer address, the bytes queued in the
//! kernel (`SIOCINQ`, `SIOCOUTQ`) and, for TCP, the state (`TCP_INFO`).
//!
//! Only a report calls this: a handful of syscalls per waiting fd, never on a turn. It never
//! changes the fd (no read, no flag set) and never fails: what cannot be learned is `None`.
//! `SIOCINQ` is rustix's `ioctl_fionread` (the same request number); `SIOCOUTQ` is rustix's
//! generic `ioctl` getter (rustix has no wrapper); `TCP_INFO` is libc's `getsockopt`
//! (rustix has none), so without the `signal` feature (which brings libc) the TCP state is
//! `None`.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::net::SocketAddr;
use rustix::fd::BorrowedFd;
use rustix::fs::FileType;
use rustix::net::{AddressFamily, SocketAddrAny, SocketAddrUnix, SocketType};

/// What kind of OS object an fd is.
///
/// ```
/// use readyloop::{FdKind, WaitReport};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let (a, _b) = readyloop::net::UnixStream::pair(&h).unwrap();
/// let _t = h.spawn(async move { let mut buf = [0u8; 1]; a.recv(&mut buf).await });
/// lp.block_on(readyloop::yield_now());
/// let report = h.pending_report();
/// let WaitReport::Fd { object, .. } = &report.tasks()[0].waits[0] else { panic!() };
/// assert_eq!(object.kind, FdKind::UnixStream);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FdKind {
    /// A connected (or connecting) TCP socket.
    TcpSocket,
    /// A listening TCP socket.
    TcpListener,
    /// A UDP socket.
    UdpSocket,
    /// A Unix-domain stream socket.
    UnixStream,
    /// A listening Unix-domain stream socket.
    UnixListener,
    /// A Unix-domain datagram socket.
    UnixDatagram,
    /// Another kind of socket (raw, netlink, seqpacket...).
    OtherSocket,
    /// A pipe or FIFO.
    Pipe,
    /// The self-pipe of a `readyloop::signal` receiver.
    SignalPipe,
    /// An eventfd.
    EventFd,
    /// A terminal.
    Tty,
    /// A regular file, a device, or anything else.
    Other,
    /// Not an open fd any more (`EBADF`).
    Closed,
}

impl FdKind {
    /// The kind's name in reports: `TCP socket`, `pipe`, `eventfd`...
    ///
    /// ```
    /// assert_eq!(readyloop::FdKind::TcpListener.name(), "TCP listener");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            FdKind::TcpSocket => "TCP socket",
            FdKind::TcpListener => "TCP listener",
            FdKind::UdpSocket => "UDP socket",
            FdKind::UnixStream => "Unix stream socket",
            FdKind::UnixListener => "Unix listener",
            FdKind::UnixDatagram => "Unix datagram socket",
            FdKind::OtherSocket => "socket",
            FdKind::Pipe => "pipe",
            FdKind::SignalPipe => "signal pipe",
            FdKind::EventFd => "eventfd",
            FdKind::Tty => "tty",
            FdKind::Other => "file",
            FdKind::Closed => "closed fd",
        }
    }
}

/// What the kernel says about one waited-on fd, when the report was made.
///
/// ```
/// use readyloop::{FdKind, Loop, WaitReport};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let listener = readyloop::net::TcpListener::bind(&h, "127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// let _t = h.spawn(async move { listener.accept().await.map(|_| ()) });
/// lp.block_on(readyloop::yield_now());
/// let report = h.pending_report();
/// let WaitReport::Fd { object, .. } = &report.tasks()[0].waits[0] else { panic!() };
/// assert_eq!(object.kind, FdKind::TcpListener);
/// assert_eq!(object.local.as_deref(), Some(addr.to_string().as_str()));
/// assert_eq!(object.tcp_state.map(|s| s.name()).unwrap_or("LISTEN"), "LISTEN");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FdObject {
    /// What it is.
    pub kind: FdKind,
    /// Its local address (sockets): `127.0.0.1:5566`, a Unix path, `@abstract`, `unnamed`.
    pub local: Option<String>,
    /// Its peer's address (connected sockets).
    pub peer: Option<String>,
    /// Bytes waiting to be read (`SIOCINQ`/`FIONREAD`; sockets and pipes).
    pub queued_in: Option<u64>,
    /// Bytes sent but not yet acknowledged or read by the peer (`SIOCOUTQ`; sockets).
    pub queued_out: Option<u64>,
    /// A TCP socket's state (`TCP_INFO`; needs the `signal` feature, which brings libc).
    pub tcp_state: Option<TcpState>,
}

/// A TCP connection's state, as `TCP_INFO` gives it (the kernel's `TCP_*` numbers).
///
/// ```
/// assert_eq!(readyloop::TcpState(1).name(), "ESTABLISHED");
/// assert_eq!(readyloop::TcpState(10).name(), "LISTEN");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpState(pub u8);

impl TcpState {
    /// The state's name as the kernel (and `ss`) spells it: `ESTABLISHED`, `CLOSE_WAIT`...
    ///
    /// ```
    /// assert_eq!(readyloop::TcpState(8).name(), "CLOSE_WAIT");
    /// ```
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "ESTABLISHED",
            2 => "SYN_SENT",
            3 => "SYN_RECV",
            4 => "FIN_WAIT1",
            5 => "FIN_WAIT2",
            6 => "TIME_WAIT",
            7 => "CLOSE",
            8 => "CLOSE_WAIT",
            9 => "LAST_ACK",
            10 => "LISTEN",
            11 => "CLOSING",
            _ => "UNKNOWN",
        }
    }
}

impl fmt::Display for FdObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.name())?;
        if let Some(local) = &self.local {
            write!(f, " {local}")?;
        }
        if let Some(peer) = &self.peer {
            write!(f, " -> {peer}")?;
        }
        if let Some(state) = self.tcp_state {
            write!(f, ", {}", state.name())?;
        }
        match (self.queued_in, self.queued_out) {
            (Some(i), Some(o)) => write!(f, ", {i} B queued in, {o} B out"),
            (Some(i), None) => write!(f, ", {i} B queued in"),
            _ => Ok(()),
        }
    }
}

/// Describes an fd registered with a reactor.
pub(crate) fn describe_registered(fd: rustix::fd::RawFd) -> FdObject {
    // SAFETY: `fd` is registered with the reactor, and a registration's contract keeps its
    // fd open while registered; the borrow ends before this returns. An fd closed against
    // that contract only makes fstat say EBADF (reported as a closed fd).
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    #[cfg(feature = "signal")]
    let is_signal_pipe = super::signal::is_signal_pipe;
    #[cfg(not(feature = "signal"))]
    let is_signal_pipe = |_: BorrowedFd<'_>| false;
    describe(borrowed, is_signal_pipe)
}

/// Describes `fd`; `is_signal_pipe` recognises a pipe as a signal receiver's.
pub(crate) fn describe(
    fd: BorrowedFd<'_>,
    is_signal_pipe: impl Fn(BorrowedFd<'_>) -> bool,
) -> FdObject {
    let mut object = FdObject {
        kind: FdKind::Other,
        local: None,
        peer: None,
        queued_in: None,
        queued_out: None,
        tcp_state: None,
    };
    // Miri has no fstat (its tests of the loop's own logic run here): the fd is then
    // described by its number alone.
    if cfg!(miri) {
        return object;
    }
    let stat = match rustix::fs::fstat(fd) {
        Ok(st) => st,
        Err(_) => {
            object.kind = FdKind::Closed;
            return object;
        }
    };
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::Socket => describe_socket(fd, &mut object),
        FileType::Fifo => {
            object.kind = if is_signal_pipe(fd) {
                FdKind::SignalPipe
            } else {
                FdKind::Pipe
            };
            object.queued_in = rustix::io::ioctl_fionread(fd).ok();
        }
        FileType::CharacterDevice if rustix::termios::isatty(fd) => {
            object.kind = FdKind::Tty;
            object.queued_in = rustix::io::ioctl_fionread(fd).ok();
        }
        FileType::Unknown if is_eventfd(fd) => object.kind = FdKind::EventFd,
        _ if is_eventfd(fd) => object.kind = FdKind::EventFd,
        _ => {}
    }
    object
}

fn describe_socket(fd: BorrowedFd<'_>, object: &mut FdObject) {
    use rustix::net::sockopt;
    let family = sockopt::socket_domain(fd).ok();
    let kind = sockopt::socket_type(fd).ok();
    let listening = sockopt::socket_acceptconn(fd).unwrap_or(false);
    let inet = family == Some(AddressFamily::INET) || family == Some(AddressFamily::INET6);
    let unix = family == Some(AddressFamily::UNIX);
    object.kind = match (inet, unix, kind, listening) {
        (true, _, Some(SocketType::STREAM), true) => FdKind::TcpListener,
        (true, _, Some(SocketType::STREAM), false) => FdKind::TcpSocket,
        (true, _, Some(SocketType::DGRAM), _) => FdKind::UdpSocket,
        (_, true, Some(SocketType::STREAM), true) => FdKind::UnixListener,
        (_, true, Some(SocketType::STREAM), false) => FdKind::UnixStream,
        (_, true, Some(SocketType::DGRAM), _) => FdKind::UnixDatagram,
        _ => FdKind::OtherSocket,
    };
    object.local = rustix::net::getsockname(fd).ok().map(|a| address(a, unix));
    object.peer = rustix::net::getpeername(fd)
        .ok()
        .flatten()
        .map(|a| address(a, unix));
    if !listening {
        object.queued_in = rustix::io::ioctl_fionread(fd).ok();
        object.queued_out = outq(fd);
    }
    if inet && kind == Some(SocketType::STREAM) {
        object.tcp_state = tcp_state(fd);
    }
}

/// An address as `ss` would print it.
fn address(addr: SocketAddrAny, unix: bool) -> String {
    if !unix {
        return match SocketAddr::try_from(addr) {
            Ok(a) => format!("{a}"),
            Err(_) => String::from("?"),
        };
    }
    if (addr.addr_len() as usize) <= core::mem::size_of::<u16>() {
        return String::from("unnamed");
    }
    match SocketAddrUnix::try_from(addr) {
        Ok(u) => {
            if let Some(p) = u.path_bytes() {
                String::from_utf8_lossy(p).into_owned()
            } else if let Some(n) = u.abstract_name() {
                format!("@{}", String::from_utf8_lossy(n))
            } else {
                String::from("unnamed")
            }
        }
        Err(_) => String::from("?"),
    }
}

/// `SIOCOUTQ`: bytes in the socket's send queue.
fn outq(fd: BorrowedFd<'_>) -> Option<u64> {
    const SIOCOUTQ: rustix::ioctl::Opcode = 0x5411;
    // SAFETY: SIOCOUTQ writes one `int` through its pointer argument, which is what
    // `Getter<_, c_int>` passes; on a non-socket the kernel returns an error instead.
    let getter = unsafe { rustix::ioctl::Getter::<SIOCOUTQ, core::ffi::c_int>::new() };
    // SAFETY: as above: the request and the output type match.
    let n = unsafe { rustix::ioctl::ioctl(fd, getter) }.ok()?;
    u64::try_from(n).ok()
}

/// `TCP_INFO`'s first byte, `tcpi_state`.
#[cfg(feature = "signal")]
fn tcp_state(fd: BorrowedFd<'_>) -> Option<TcpState> {
    use rustix::fd::AsRawFd;
    let mut info = [0u8; 8];
    let mut len = info.len() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `info` and updates `len`; `fd` is a
    // borrowed open fd.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    (r == 0 && len >= 1).then(|| TcpState(info[0]))
}

#[cfg(not(feature = "signal"))]
fn tcp_state(_fd: BorrowedFd<'_>) -> Option<TcpState> {
    None
}

/// Whether `fd` is an eventfd (an anonymous inode `/proc/self/fd/N` names
/// `anon_inode:[eventfd]`).
fn is_eventfd(fd: BorrowedFd<'_>) -> bool {
    let mut path = [0u8; 32];
    let len = super::fd::proc_self_fd_path(rustix::fd::AsRawFd::as_raw_fd(&fd), &mut path);
    let Ok(path) = core::ffi::CStr::from_bytes_with_nul(&path[..len]) else {
        return false;
    };
    match rustix::fs::readlink(path, alloc::vec::Vec::new()) {
        Ok(target) => target.as_bytes() == b"anon_inode:[eventfd]",
        Err(_) => false,
    }
}
