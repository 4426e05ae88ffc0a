//! `BindOptions`: the socket options a server sets between `socket(2)` and `bind(2)`
//! (`SO_REUSEADDR`, `SO_REUSEPORT`, `IPV6_V6ONLY`) and the `listen(2)` backlog. Every
//! `bind` of `TcpListener`, `UdpSocket` and `UnixListener` is `bind_with` and the default
//! options, so there is one code path. This file only holds and checks the options; the
//! syscalls are in `sys/net.rs`. It never opens a socket and never guesses: an option that
//! has no meaning for the socket it is given to is an `InvalidInput` error, not ignored.

use crate::error::{Error, ErrorKind};
use crate::sys::net::{self as sys, Kind};
use core::net::SocketAddr;
use rustix::fd::{AsFd, OwnedFd};

/// Options for binding a socket: `SO_REUSEADDR`, `SO_REUSEPORT`, `IPV6_V6ONLY` and the
/// listen backlog, for [`TcpListener::bind_with`](crate::net::TcpListener::bind_with),
/// [`UdpSocket::bind_with`](crate::net::UdpSocket::bind_with) and
/// [`UnixListener::bind_with`](crate::net::UnixListener::bind_with).
///
/// [`BindOptions::new`] is what plain `bind` uses: each option left at the socket type's
/// default (a TCP listener sets `SO_REUSEADDR` and a backlog of
/// [`DEFAULT_BACKLOG`](crate::net::DEFAULT_BACKLOG); a UDP socket sets nothing; `IPV6_V6ONLY`
/// stays the system's default, `net.ipv6.bindv6only`, 0 on Linux unless changed).
///
/// `reuse_port(true)` lets several sockets, each with the option set and owned by the same
/// user, bind the same address and port; the kernel then spreads new connections (TCP) or
/// datagrams (UDP) over them by a hash of the peer's address and port. It is how several
/// loops, one per thread, share one port: see [`multi`](crate::multi) (`std`).
///
/// ```
/// use readyloop::net::{BindOptions, TcpListener};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let opts = BindOptions::new().reuse_port(true).backlog(64);
/// let a = TcpListener::bind_with(&h, "127.0.0.1:0", &opts).unwrap();
/// let port = a.local_addr().unwrap().port();
/// // A second listener on the same port: allowed because both set SO_REUSEPORT.
/// let b = TcpListener::bind_with(&h, ("127.0.0.1", port), &opts).unwrap();
/// assert_eq!(b.local_addr().unwrap().port(), port);
/// // Without the option the port is taken.
/// let err = TcpListener::bind(&h, ("127.0.0.1", port)).unwrap_err();
/// assert_eq!(err.kind(), readyloop::ErrorKind::AddrInUse);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BindOptions {
    /// `SO_REUSEADDR`: `None` is the socket type's default (on for TCP listeners, not set
    /// for UDP).
    reuse_addr: Option<bool>,
    /// `SO_REUSEPORT`: set only when true.
    reuse_port: bool,
    /// The `listen(2)` backlog: `None` is [`DEFAULT_BACKLOG`](crate::net::DEFAULT_BACKLOG).
    backlog: Option<u32>,
    /// `IPV6_V6ONLY`: `None` leaves the system's default.
    only_v6: Option<bool>,
}

impl BindOptions {
    /// Every option at the socket type's default: what plain `bind` uses.
    ///
    /// ```
    /// assert_eq!(readyloop::net::BindOptions::new(), Default::default());
    /// ```
    pub const fn new() -> BindOptions {
        BindOptions {
            reuse_addr: None,
            reuse_port: false,
            backlog: None,
            only_v6: None,
        }
    }

    /// `SO_REUSEADDR`: for a TCP listener (on by default), binding while connections of an
    /// earlier listener on the port sit in `TIME_WAIT`; for UDP (off by default), sharing
    /// the port with other sockets that set it. Not meaningful for a Unix-domain socket.
    ///
    /// ```
    /// use readyloop::net::{BindOptions, UdpSocket};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = UdpSocket::bind_with(&lp.handle(), "127.0.0.1:0", &BindOptions::new().reuse_addr(true));
    /// assert!(s.is_ok());
    /// ```
    pub const fn reuse_addr(mut self, on: bool) -> BindOptions {
        self.reuse_addr = Some(on);
        self
    }

    /// `SO_REUSEPORT`: several sockets of this user, each with the option, may bind the same
    /// address and port, and the kernel spreads connections (or datagrams) over them. Not
    /// meaningful for a Unix-domain socket.
    ///
    /// ```
    /// use readyloop::net::{BindOptions, UdpSocket};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let opts = BindOptions::new().reuse_port(true);
    /// let a = UdpSocket::bind_with(&h, "127.0.0.1:0", &opts).unwrap();
    /// let b = UdpSocket::bind_with(&h, a.local_addr().unwrap(), &opts).unwrap();
    /// assert_eq!(a.local_addr().unwrap(), b.local_addr().unwrap());
    /// ```
    pub const fn reuse_port(mut self, on: bool) -> BindOptions {
        self.reuse_port = on;
        self
    }

    /// The `listen(2)` backlog: how many finished handshakes may wait for `accept` (the
    /// kernel caps it at `net.core.somaxconn`). Listeners only: a UDP socket refuses it.
    ///
    /// ```
    /// use readyloop::net::{BindOptions, TcpListener};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let l = TcpListener::bind_with(&lp.handle(), "127.0.0.1:0", &BindOptions::new().backlog(10));
    /// assert!(l.is_ok());
    /// ```
    pub const fn backlog(mut self, backlog: u32) -> BindOptions {
        self.backlog = Some(backlog);
        self
    }

    /// `IPV6_V6ONLY`: `true` keeps an IPv6 socket to IPv6 (so an IPv4 socket may bind the
    /// same port), `false` lets a socket bound to `[::]` take IPv4 too (as `::ffff:a.b.c.d`).
    /// IPv6 addresses only: with an IPv4 address it is `InvalidInput`.
    ///
    /// ```
    /// use readyloop::net::{BindOptions, TcpListener};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let v6 = TcpListener::bind_with(&h, "[::1]:0", &BindOptions::new().only_v6(true)).unwrap();
    /// let bad = TcpListener::bind_with(&h, "127.0.0.1:0", &BindOptions::new().only_v6(true));
    /// assert_eq!(bad.unwrap_err().kind(), readyloop::ErrorKind::InvalidInput);
    /// ```
    pub const fn only_v6(mut self, on: bool) -> BindOptions {
        self.only_v6 = Some(on);
        self
    }

    /// The backlog to pass to `listen(2)`.
    pub(crate) fn listen_backlog(&self) -> i32 {
        let backlog = self.backlog.unwrap_or(crate::net::DEFAULT_BACKLOG);
        i32::try_from(backlog).unwrap_or(i32::MAX)
    }

    /// A Unix-domain listener takes only a backlog; anything else is refused by name.
    pub(crate) fn check_unix(&self) -> Result<(), Error> {
        let refused = if self.reuse_addr.is_some() {
            "BindOptions::reuse_addr has no meaning for a Unix-domain socket"
        } else if self.reuse_port {
            "BindOptions::reuse_port has no meaning for a Unix-domain socket"
        } else if self.only_v6.is_some() {
            "BindOptions::only_v6 has no meaning for a Unix-domain socket"
        } else {
            return Ok(());
        };
        Err(Error::new(ErrorKind::InvalidInput, refused))
    }
}

/// A non-blocking, close-on-exec socket of `kind` bound to `addr` with `opts` set first
/// (not yet listening). The one place every IP socket of readyloop is bound.
pub(crate) fn bind_inet(
    addr: &SocketAddr,
    kind: Kind,
    opts: &BindOptions,
) -> Result<OwnedFd, Error> {
    if opts.only_v6.is_some() && addr.is_ipv4() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "BindOptions::only_v6 applies to an IPv6 address; this one is IPv4",
        ));
    }
    if kind == Kind::Datagram && opts.backlog.is_some() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "BindOptions::backlog has no meaning for a datagram socket (nothing listens)",
        ));
    }
    let fd = sys::inet_socket(addr, kind)?;
    // A TCP listener reuses the address unless told not to: a restarted server must be
    // able to bind while the old connections sit in TIME_WAIT.
    let reuse_addr = opts.reuse_addr.unwrap_or(kind == Kind::Stream);
    if reuse_addr {
        sys::set_reuseaddr(fd.as_fd(), true)?;
    }
    if opts.reuse_port {
        sys::set_reuseport(fd.as_fd(), true)?;
    }
    if let Some(on) = opts.only_v6 {
        sys::set_only_v6(fd.as_fd(), on)?;
    }
    sys::bind(fd.as_fd(), addr)?;
    Ok(fd)
}
