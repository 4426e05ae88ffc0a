//! `TcpListener`: a listening TCP socket (seed 003's `socket(); setsockopt(SO_REUSEADDR);
//! setblocking(False); bind(); listen()` in one call). Its methods (shared with
//! `UnixListener`) are written in `listener_methods.rs`; this file holds their docs and what
//! is TCP's own: making the bound socket. It never blocks and never hands out a blocking or
//! inheritable fd.

use super::addr::ToSocketAddr;
use super::bind_options::{bind_inet, BindOptions};
use super::socket::{AcceptBackoff, Socket};
use super::tcp_stream::TcpStream;
use crate::error::Error;
use crate::sys::net::Kind;
use core::net::SocketAddr;
use rustix::fd::OwnedFd;

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

listener_methods! {
    TcpListener {
        stream: TcpStream,
        addr: SocketAddr,
        family: Inet,
        bind: fn bound_socket(addr: impl ToSocketAddr, options),
    }

    /// Binds to `addr` (`"127.0.0.1:9527"`, `"[::1]:0"`, a `SocketAddr`...) with
    /// `SO_REUSEADDR` and listens with a backlog of
    /// [`DEFAULT_BACKLOG`](crate::net::DEFAULT_BACKLOG). Port 0 picks a free port;
    /// [`local_addr`](Self::local_addr) tells which.
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
    fn bind;

    /// Binds with [`BindOptions`]: `SO_REUSEPORT` (several listeners, say one per loop and
    /// thread, on one port), `SO_REUSEADDR`, `IPV6_V6ONLY` and the backlog.
    /// [`bind`](Self::bind) is this with `BindOptions::new()`. An option that does not apply
    /// (`only_v6` with an IPv4 address) is `InvalidInput`.
    ///
    /// ```
    /// use readyloop::net::{BindOptions, TcpListener};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let opts = BindOptions::new().reuse_port(true);
    /// let first = TcpListener::bind_with(&h, "127.0.0.1:0", &opts).unwrap();
    /// let second = TcpListener::bind_with(&h, first.local_addr().unwrap(), &opts).unwrap();
    /// assert_eq!(first.local_addr().unwrap(), second.local_addr().unwrap());
    /// ```
    fn bind_with;

    /// Like [`bind`](Self::bind) with the listen backlog (`listen(10)` in seed 003); the
    /// kernel caps it at `net.core.somaxconn`.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// use readyloop::net::TcpListener;
    /// let l = TcpListener::bind_with_backlog(&lp.handle(), "[::1]:0", 10).unwrap();
    /// assert!(l.local_addr().unwrap().is_ipv6());
    /// ```
    fn bind_with_backlog;

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
    fn from_fd;

    /// Deregisters the listener and hands back its fd (still non-blocking).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let l = readyloop::net::TcpListener::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// let std_listener = std::net::TcpListener::from(l.into_fd());
    /// assert!(std_listener.local_addr().is_ok());
    /// ```
    fn into_fd;

    /// Accepts one connection (seed 003's `sock_accept`): the new stream and the peer's
    /// address. Out of fds, it waits and retries instead of failing; see
    /// [`Accept`](crate::net::Accept).
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
    fn accept;

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
    fn poll_accept;

    /// The address the listener is bound to (with the real port when bound to port 0).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let l = readyloop::net::TcpListener::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// assert_eq!(l.local_addr().unwrap().ip().to_string(), "127.0.0.1");
    /// ```
    fn local_addr;

    /// The loop this listener is registered with.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let l = readyloop::net::TcpListener::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// assert_eq!(l.handle().stats().tasks_alive, 0);
    /// ```
    fn handle;
}

/// A TCP socket bound to `addr` with `options` set, not yet listening.
fn bound_socket(addr: impl ToSocketAddr, options: &BindOptions) -> Result<OwnedFd, Error> {
    bind_inet(&addr.to_socket_addr()?, Kind::Stream, options)
}
