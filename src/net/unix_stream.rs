//! `UnixStream`: a connected Unix-domain stream socket. Its receive and send methods (shared
//! with `TcpStream`) are in `stream_methods.rs`; this file holds connecting, pairs and
//! addresses. It never blocks and never hands out a blocking fd.

use super::addr::{ToUnixAddr, UnixSocketAddr};
use super::connect::{sealed::Connects, Connect, Connectable};
use super::socket::Socket;
use super::stream::{sealed::FromSocket, StreamSocket};
use crate::error::Error;
use crate::executor::Handle;
use crate::sys::net::{self as sys, Family, Kind};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;

/// A Unix-domain stream connection. Methods take `&self`, so one task may receive while
/// another sends.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// lp.block_on(async {
///     a.send_all(b"over the pair").await.unwrap();
///     let mut buf = [0u8; 13];
///     b.recv_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"over the pair");
/// });
/// ```
#[derive(Debug)]
pub struct UnixStream {
    /// The connected socket and its registration.
    socket: Socket,
}

stream_methods!(
    UnixStream,
    crate::net::UnixSocketAddr,
    "# let lp = readyloop::Loop::new().unwrap(); let h = lp.handle();\n\
     # lp.block_on(async {\n\
     # let (a, b) = readyloop::net::UnixStream::pair(&h).unwrap();"
);

impl UnixStream {
    /// Connects to the listener at `path`. A full listen queue (`EAGAIN` for Unix
    /// sockets) is retried after a short, growing wait; a path nobody listens on is
    /// `ConnectionRefused`. See [`Connect`].
    ///
    /// ```
    /// use readyloop::net::{UnixListener, UnixSocketAddr, UnixStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let name = format!("readyloop-doc-us-{}", std::process::id());
    /// let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let _l = UnixListener::bind(&h, &addr).unwrap();
    /// let s = lp.block_on(UnixStream::connect(&h, &addr)).unwrap();
    /// assert_eq!(s.peer_addr().unwrap(), addr);
    /// ```
    pub fn connect(handle: &Handle, path: impl ToUnixAddr) -> Connect<UnixStream> {
        Connect::new(Ok(handle.clone()), path.to_unix_addr())
    }

    /// [`connect`](Self::connect) on the loop running this thread (`std`); the future
    /// fails with `NoLoop` outside one.
    ///
    /// ```
    /// use readyloop::net::{UnixListener, UnixSocketAddr, UnixStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-usc-{}", std::process::id());
    /// let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let _l = UnixListener::bind(&lp.handle(), &addr).unwrap();
    /// lp.block_on(async { UnixStream::connect_current(&addr).await.unwrap() });
    /// ```
    #[cfg(feature = "std")]
    pub fn connect_current(path: impl ToUnixAddr) -> Connect<UnixStream> {
        Connect::new(super::current_handle(), path.to_unix_addr())
    }

    /// A connected pair (`socketpair`), both registered with the loop behind `handle`.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// # let _ = (a, b);
    /// ```
    pub fn pair(handle: &Handle) -> Result<(UnixStream, UnixStream), Error> {
        let (a, b) = sys::unix_pair(Kind::Stream)?;
        handle.core.clock.note_pair(a.as_fd(), b.as_fd());
        Ok((
            UnixStream::from_socket(Socket::new(handle, a)),
            UnixStream::from_socket(Socket::new(handle, b)),
        ))
    }

    /// Adopts a connected Unix stream socket made elsewhere; it must be non-blocking
    /// (`NotASocket`, `InvalidInput`, `Blocking` otherwise; the fd is then closed).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// let err = readyloop::net::UnixStream::from_fd(&lp.handle(), a.into()).unwrap_err();
    /// assert_eq!(err.kind(), readyloop::ErrorKind::Blocking);
    /// ```
    pub fn from_fd(handle: &Handle, fd: OwnedFd) -> Result<UnixStream, Error> {
        sys::check_adopted(fd.as_fd(), Family::Unix, Kind::Stream)?;
        Ok(UnixStream::from_socket(Socket::new(handle, fd)))
    }

    /// The peer's address (unnamed for most clients and for pairs).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// assert!(a.peer_addr().unwrap().is_unnamed());
    /// ```
    pub fn peer_addr(&self) -> Result<UnixSocketAddr, Error> {
        StreamSocket::peer_addr(self)
    }

    /// This end's address (unnamed unless it was bound).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// assert!(a.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn local_addr(&self) -> Result<UnixSocketAddr, Error> {
        StreamSocket::local_addr(self)
    }
}

impl Connects for UnixStream {
    type Addr = UnixSocketAddr;

    fn open(_addr: &UnixSocketAddr) -> Result<OwnedFd, Errno> {
        sys::unix_socket(Kind::Stream)
    }

    fn connect(fd: BorrowedFd<'_>, addr: &UnixSocketAddr) -> Result<(), Errno> {
        sys::connect(fd, &addr.raw)
    }

    fn wrap(socket: Socket) -> Self {
        UnixStream::from_socket(socket)
    }
}

impl Connectable for UnixStream {}
