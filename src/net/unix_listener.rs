//! `UnixListener`: a listening Unix-domain stream socket on a filesystem path or an abstract
//! name. Its methods (shared with `TcpListener`) are written in `listener_methods.rs`; this
//! file holds their docs and what is Unix's own: making the bound socket. It never blocks,
//! never hands out a blocking fd, and never removes a socket file (binding over a stale one
//! fails with `AddrInUse`; remove it first if it is yours).

use super::addr::{ToUnixAddr, UnixSocketAddr};
use super::bind_options::BindOptions;
use super::socket::{AcceptBackoff, Socket};
use super::unix_stream::UnixStream;
use crate::error::Error;
use crate::sys::net::{self as sys, Kind};
use rustix::fd::{AsFd, OwnedFd};

/// A Unix-domain socket listening for stream connections.
///
/// ```
/// use readyloop::net::{UnixListener, UnixStream};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let path = std::env::temp_dir().join(format!("readyloop-doc-{}.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&h, &path).unwrap();
/// lp.block_on(async {
///     let client = UnixStream::connect(&h, &path).await.unwrap();
///     let (server, _peer) = listener.accept().await.unwrap();
///     client.send_all(b"hi").await.unwrap();
///     let mut buf = [0u8; 2];
///     server.recv_exact(&mut buf).await.unwrap();
/// });
/// std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixListener {
    /// The listening socket and its registration.
    socket: Socket,
    /// The timer `poll_accept` backs off on when fds run out.
    backoff: AcceptBackoff,
}

listener_methods! {
    UnixListener {
        stream: UnixStream,
        addr: UnixSocketAddr,
        family: Unix,
        bind: fn bound_socket(path: impl ToUnixAddr, options),
    }

    /// Binds to `path` (a `&str`, bytes, a [`UnixSocketAddr`], or with `std` a `Path`) and
    /// listens with a backlog of [`DEFAULT_BACKLOG`](crate::net::DEFAULT_BACKLOG). An
    /// existing file there is `AddrInUse`; a path longer than 107 bytes is `InvalidInput`.
    ///
    /// ```
    /// use readyloop::net::{UnixListener, UnixSocketAddr};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-{}", std::process::id());
    /// let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let l = UnixListener::bind(&lp.handle(), &addr).unwrap();
    /// assert_eq!(l.local_addr().unwrap(), addr);
    /// ```
    fn bind;

    /// Binds with [`BindOptions`]; only the backlog applies to a Unix-domain socket, and
    /// any other option set is `InvalidInput` (it would do nothing).
    ///
    /// ```
    /// use readyloop::net::{BindOptions, UnixListener, UnixSocketAddr};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-w-{}", std::process::id());
    /// let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let h = lp.handle();
    /// UnixListener::bind_with(&h, &addr, &BindOptions::new().backlog(8)).unwrap();
    /// let err = UnixListener::bind_with(&h, &addr, &BindOptions::new().reuse_port(true));
    /// assert_eq!(err.unwrap_err().kind(), readyloop::ErrorKind::InvalidInput);
    /// ```
    fn bind_with;

    /// Like [`bind`](Self::bind) with the listen backlog.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-b-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// readyloop::net::UnixListener::bind_with_backlog(&lp.handle(), &addr, 8).unwrap();
    /// ```
    fn bind_with_backlog;

    /// Adopts a listening Unix stream socket made elsewhere; it must be listening and
    /// non-blocking (`NotASocket`, `InvalidInput`, `Blocking` otherwise; the fd is then
    /// closed).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// # let name = format!("readyloop-doc-d-{}.sock", std::process::id());
    /// # let path = std::env::temp_dir().join(name);
    /// # let _ = std::fs::remove_file(&path);
    /// let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
    /// l.set_nonblocking(true).unwrap();
    /// let l = readyloop::net::UnixListener::from_fd(&lp.handle(), l.into()).unwrap();
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    fn from_fd;

    /// Deregisters the listener and hands back its fd (still non-blocking).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-e-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let l = readyloop::net::UnixListener::bind(&lp.handle(), &addr).unwrap();
    /// let _fd: std::os::fd::OwnedFd = l.into_fd();
    /// ```
    fn into_fd;

    /// Accepts one connection: the new stream and the peer's address (usually unnamed).
    /// Out of fds, it waits and retries instead of failing; see
    /// [`Accept`](crate::net::Accept).
    ///
    /// ```
    /// use readyloop::net::{UnixListener, UnixSocketAddr, UnixStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let name = format!("readyloop-doc-f-{}", std::process::id());
    /// let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let l = UnixListener::bind(&h, &addr).unwrap();
    /// lp.block_on(async {
    ///     let _c = UnixStream::connect(&h, &addr).await.unwrap();
    ///     let (_s, peer) = l.accept().await.unwrap();
    ///     assert!(peer.is_unnamed());
    /// });
    /// ```
    fn accept;

    /// The poll form of [`accept`](Self::accept), on the listener's own wait.
    ///
    /// ```
    /// use readyloop::net::{UnixListener, UnixSocketAddr, UnixStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let name = format!("readyloop-doc-g-{}", std::process::id());
    /// let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let l = UnixListener::bind(&h, &addr).unwrap();
    /// lp.block_on(async {
    ///     let _c = UnixStream::connect(&h, &addr).await.unwrap();
    ///     core::future::poll_fn(|cx| l.poll_accept(cx)).await.unwrap();
    /// });
    /// ```
    fn poll_accept;

    /// The address the listener is bound to.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-h-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let l = readyloop::net::UnixListener::bind(&lp.handle(), &addr).unwrap();
    /// assert_eq!(l.local_addr().unwrap(), addr);
    /// ```
    fn local_addr;

    /// The loop this listener is registered with.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-i-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let l = readyloop::net::UnixListener::bind(&lp.handle(), &addr).unwrap();
    /// let _h = l.handle();
    /// ```
    fn handle;
}

/// A Unix stream socket bound to `path`, not yet listening.
fn bound_socket(path: impl ToUnixAddr, options: &BindOptions) -> Result<OwnedFd, Error> {
    options.check_unix()?;
    let addr = path.to_unix_addr()?;
    let fd = sys::unix_socket(Kind::Stream)?;
    sys::bind_unix(fd.as_fd(), &addr.raw)?;
    Ok(fd)
}
