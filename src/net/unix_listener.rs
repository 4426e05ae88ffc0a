//! `UnixListener`: a listening Unix-domain stream socket on a filesystem path or an abstract
//! name. It never blocks, never hands out a blocking fd, and never removes a socket file
//! (binding over a stale one fails with `AddrInUse`; remove it first if it is yours).

use super::accept::{poll_accept_shared, sealed::Accepts, Accept, Listener};
use super::addr::{unix_from_kernel, ToUnixAddr, UnixSocketAddr};
use super::socket::{AcceptBackoff, Socket};
use super::unix_stream::UnixStream;
use super::DEFAULT_BACKLOG;
use crate::error::{Error, ErrorKind};
use crate::executor::Handle;
use crate::sys::net::{self as sys, Family, Kind};
use core::task::{Context, Poll};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

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

impl UnixListener {
    /// Binds to `path` (a `&str`, bytes, a [`UnixSocketAddr`], or with `std` a `Path`) and
    /// listens with a backlog of [`DEFAULT_BACKLOG`]. An existing file there is
    /// `AddrInUse`; a path longer than 107 bytes is `InvalidInput`.
    ///
    /// ```
    /// use readyloop::net::{UnixListener, UnixSocketAddr};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-{}", std::process::id());
    /// let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let l = UnixListener::bind(&lp.handle(), &addr).unwrap();
    /// assert_eq!(l.local_addr().unwrap(), addr);
    /// ```
    pub fn bind(handle: &Handle, path: impl ToUnixAddr) -> Result<UnixListener, Error> {
        Self::bind_with_backlog(handle, path, DEFAULT_BACKLOG)
    }

    /// Like [`bind`](Self::bind) with the listen backlog.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-b-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// readyloop::net::UnixListener::bind_with_backlog(&lp.handle(), &addr, 8).unwrap();
    /// ```
    pub fn bind_with_backlog(
        handle: &Handle,
        path: impl ToUnixAddr,
        backlog: u32,
    ) -> Result<UnixListener, Error> {
        let addr = path.to_unix_addr()?;
        let fd = sys::unix_socket(Kind::Stream)?;
        sys::bind_unix(fd.as_fd(), &addr.raw)?;
        sys::listen(fd.as_fd(), i32::try_from(backlog).unwrap_or(i32::MAX))?;
        Ok(Self::wrap(handle, fd))
    }

    /// [`bind`](Self::bind) on the loop running this thread (`std`); `NoLoop` outside one.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-c-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// lp.block_on(async { readyloop::net::UnixListener::bind_current(&addr).unwrap() });
    /// ```
    #[cfg(feature = "std")]
    pub fn bind_current(path: impl ToUnixAddr) -> Result<UnixListener, Error> {
        Self::bind(&super::current_handle()?, path)
    }

    fn wrap(handle: &Handle, fd: OwnedFd) -> UnixListener {
        UnixListener {
            socket: Socket::new(handle, fd),
            backoff: AcceptBackoff::new(handle),
        }
    }

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
    pub fn from_fd(handle: &Handle, fd: OwnedFd) -> Result<UnixListener, Error> {
        sys::check_adopted(fd.as_fd(), Family::Unix, Kind::Stream)?;
        if !sys::is_listening(fd.as_fd())? {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "UnixListener::from_fd: the socket is not listening (call listen first, or \
                 adopt it as a UnixStream)",
            ));
        }
        Ok(Self::wrap(handle, fd))
    }

    /// Deregisters the listener and hands back its fd (still non-blocking).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-e-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let l = readyloop::net::UnixListener::bind(&lp.handle(), &addr).unwrap();
    /// let _fd: std::os::fd::OwnedFd = l.into_fd();
    /// ```
    pub fn into_fd(self) -> OwnedFd {
        let UnixListener { socket, backoff } = self;
        drop(backoff);
        socket.into_fd()
    }

    /// Accepts one connection: the new stream and the peer's address (usually unnamed).
    /// Out of fds, it waits and retries instead of failing; see [`Accept`].
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
    pub fn accept(&self) -> Accept<'_, UnixListener> {
        Accept::new(self)
    }

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
    pub fn poll_accept(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(UnixStream, UnixSocketAddr), Error>> {
        poll_accept_shared(self, cx)
    }

    /// The address the listener is bound to.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-h-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let l = readyloop::net::UnixListener::bind(&lp.handle(), &addr).unwrap();
    /// assert_eq!(l.local_addr().unwrap(), addr);
    /// ```
    pub fn local_addr(&self) -> Result<UnixSocketAddr, Error> {
        unix_from_kernel(Some(sys::local_addr(self.socket.fd())?))
    }

    /// The loop this listener is registered with.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-i-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let l = readyloop::net::UnixListener::bind(&lp.handle(), &addr).unwrap();
    /// let _h = l.handle();
    /// ```
    pub fn handle(&self) -> &Handle {
        self.socket.handle()
    }
}

impl Accepts for UnixListener {
    type Stream = UnixStream;
    type Addr = UnixSocketAddr;

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
    ) -> Result<(UnixStream, UnixSocketAddr), Error> {
        let stream = UnixStream::from_socket(Socket::new(handle, fd));
        Ok((stream, unix_from_kernel(addr)?))
    }
}

impl Listener for UnixListener {}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.fd().as_raw_fd()
    }
}
