//! `TcpListener`: a listening TCP socket (seed 003's `socket(); setsockopt(SO_REUSEADDR);
//! setblocking(False); bind(); listen()` in one call). It never blocks and never hands out a
//! blocking or inheritable fd.

use super::accept::{poll_accept_shared, sealed::Accepts, Accept, Listener};
use super::addr::{inet_from_kernel, ToSocketAddr};
use super::socket::{AcceptBackoff, Socket};
use super::tcp_stream::TcpStream;
use super::DEFAULT_BACKLOG;
use crate::error::{Error, ErrorKind};
use crate::executor::Handle;
use crate::sys::net::{self as sys, Family, Kind};
use core::net::SocketAddr;
use core::task::{Context, Poll};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// A TCP socket listening for connections, IPv4 or IPv6.
///
/// ```
/// use readyloop::net::{TcpListener, TcpStream};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// assert_ne!(addr.port(), 0);
/// lp.block_on(async {
///     let _client = TcpStream::connect(&h, addr).await.unwrap();
///     let (_conn, _peer) = listener.accept().await.unwrap();
/// });
/// ```
#[derive(Debug)]
pub struct TcpListener {
    /// The listening socket and its registration.
    socket: Socket,
    /// The timer `poll_accept` backs off on when fds run out.
    backoff: AcceptBackoff,
}

impl TcpListener {
    /// Binds to `addr` (`"127.0.0.1:9527"`, `"[::1]:0"`, a `SocketAddr`...) with
    /// `SO_REUSEADDR` and listens with a backlog of [`DEFAULT_BACKLOG`]. Port 0 picks a free
    /// port; [`local_addr`](Self::local_addr) tells which.
    ///
    /// Errors: `InvalidInput` for text that is not `IP:PORT`, `AddrInUse` when another
    /// socket listens there, `AddrNotAvailable` for an address not on this machine.
    ///
    /// ```
    /// use readyloop::{net::TcpListener, ErrorKind};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let first = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    /// let taken = first.local_addr().unwrap();
    /// assert_eq!(TcpListener::bind(&h, taken).unwrap_err().kind(), ErrorKind::AddrInUse);
    /// let no_port = TcpListener::bind(&h, "127.0.0.1").unwrap_err();
    /// assert_eq!(no_port.kind(), ErrorKind::InvalidInput);
    /// ```
    pub fn bind(handle: &Handle, addr: impl ToSocketAddr) -> Result<TcpListener, Error> {
        Self::bind_with_backlog(handle, addr, DEFAULT_BACKLOG)
    }

    /// Like [`bind`](Self::bind) with the listen backlog (`listen(10)` in seed 003); the
    /// kernel caps it at `net.core.somaxconn`.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// use readyloop::net::TcpListener;
    /// let l = TcpListener::bind_with_backlog(&lp.handle(), "[::1]:0", 10).unwrap();
    /// assert!(l.local_addr().unwrap().is_ipv6());
    /// ```
    pub fn bind_with_backlog(
        handle: &Handle,
        addr: impl ToSocketAddr,
        backlog: u32,
    ) -> Result<TcpListener, Error> {
        let addr = addr.to_socket_addr()?;
        let fd = sys::inet_socket(&addr, Kind::Stream)?;
        sys::set_reuseaddr(fd.as_fd())?;
        sys::bind(fd.as_fd(), &addr)?;
        sys::listen(fd.as_fd(), i32::try_from(backlog).unwrap_or(i32::MAX))?;
        Ok(Self::wrap(handle, fd))
    }

    /// [`bind`](Self::bind) on the loop running this thread (`std`); `NoLoop` outside one.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// lp.block_on(async {
    ///     let l = readyloop::net::TcpListener::bind_current("127.0.0.1:0").unwrap();
    ///     assert!(l.local_addr().is_ok());
    /// });
    /// assert!(readyloop::net::TcpListener::bind_current("127.0.0.1:0").is_err());
    /// ```
    #[cfg(feature = "std")]
    pub fn bind_current(addr: impl ToSocketAddr) -> Result<TcpListener, Error> {
        Self::bind(&super::current_handle()?, addr)
    }

    fn wrap(handle: &Handle, fd: OwnedFd) -> TcpListener {
        TcpListener {
            socket: Socket::new(handle, fd),
            backoff: AcceptBackoff::new(handle),
        }
    }

    /// Adopts a listening TCP socket made elsewhere (say, inherited from a supervisor).
    /// It must be a TCP stream socket, already listening, and non-blocking; otherwise the
    /// error says which (`NotASocket`, `InvalidInput`, `Blocking`) and the fd is closed.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// use readyloop::net::TcpListener;
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let blocking = std_listener.try_clone().unwrap().into();
    /// let err = TcpListener::from_fd(&lp.handle(), blocking).unwrap_err();
    /// assert_eq!(err.kind(), readyloop::ErrorKind::Blocking);
    /// std_listener.set_nonblocking(true).unwrap();
    /// let l = TcpListener::from_fd(&lp.handle(), std_listener.into()).unwrap();
    /// assert!(l.local_addr().is_ok());
    /// ```
    pub fn from_fd(handle: &Handle, fd: OwnedFd) -> Result<TcpListener, Error> {
        sys::check_adopted(fd.as_fd(), Family::Inet, Kind::Stream)?;
        if !sys::is_listening(fd.as_fd())? {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "TcpListener::from_fd: the socket is not listening (call listen first, or \
                 adopt it as a TcpStream)",
            ));
        }
        Ok(Self::wrap(handle, fd))
    }

    /// Deregisters the listener and hands back its fd (still non-blocking).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let l = readyloop::net::TcpListener::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// let std_listener = std::net::TcpListener::from(l.into_fd());
    /// assert!(std_listener.local_addr().is_ok());
    /// ```
    pub fn into_fd(self) -> OwnedFd {
        let TcpListener { socket, backoff } = self;
        drop(backoff);
        socket.into_fd()
    }

    /// Accepts one connection (seed 003's `sock_accept`): the new stream and the peer's
    /// address. Out of fds, it waits and retries instead of failing; see [`Accept`].
    ///
    /// ```
    /// use readyloop::net::{TcpListener, TcpStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let listener = TcpListener::bind(&h, "[::1]:0").unwrap();
    /// let addr = listener.local_addr().unwrap();
    /// lp.block_on(async {
    ///     let _c = TcpStream::connect(&h, addr).await.unwrap();
    ///     let (_s, peer) = listener.accept().await.unwrap();
    ///     assert!(peer.is_ipv6());
    /// });
    /// ```
    pub fn accept(&self) -> Accept<'_, TcpListener> {
        Accept::new(self)
    }

    /// The poll form of [`accept`](Self::accept), using the listener's own wait (one task
    /// at a time). Both run the same code.
    ///
    /// ```
    /// use readyloop::net::{TcpListener, TcpStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    /// let addr = listener.local_addr().unwrap();
    /// lp.block_on(async {
    ///     let _c = TcpStream::connect(&h, addr).await.unwrap();
    ///     let (_s, _peer) = core::future::poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
    /// });
    /// ```
    pub fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(TcpStream, SocketAddr), Error>> {
        poll_accept_shared(self, cx)
    }

    /// The address the listener is bound to (with the real port when bound to port 0).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let l = readyloop::net::TcpListener::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// assert_eq!(l.local_addr().unwrap().ip().to_string(), "127.0.0.1");
    /// ```
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        inet_from_kernel(Some(sys::local_addr(self.socket.fd())?))
    }

    /// The loop this listener is registered with.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let l = readyloop::net::TcpListener::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// assert_eq!(l.handle().stats().tasks_alive, 0);
    /// ```
    pub fn handle(&self) -> &Handle {
        self.socket.handle()
    }
}

impl Accepts for TcpListener {
    type Stream = TcpStream;
    type Addr = SocketAddr;

    fn socket(&self) -> &Socket {
        &self.socket
    }

    fn backoff(&self) -> &AcceptBackoff {
        &self.backoff
    }

    fn wrap(
        handle: &Handle,
        fd: OwnedFd,
        addr: Option<rustix::net::SocketAddrAny>,
    ) -> Result<(TcpStream, SocketAddr), Error> {
        let stream = TcpStream::from_socket(Socket::new(handle, fd));
        Ok((stream, inet_from_kernel(addr)?))
    }
}

impl Listener for TcpListener {}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.fd().as_raw_fd()
    }
}
