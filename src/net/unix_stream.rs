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
///
/// ## Closing: what the peer sees
///
/// A Unix stream has no reset on the wire. Dropping the stream closes it; the peer then
/// reads what was sent followed by a clean end of stream (0), unless bytes the peer sent
/// are still unread here: then the peer's next receive fails with `ConnectionReset`.
/// [`abort`](Self::abort) is the same close (the kernel ignores `SO_LINGER` for Unix
/// sockets), so **a Unix stream cannot tell its peer that a reply was cut** when nothing
/// is left unread. A protocol over Unix streams that must tell a cut reply from a
/// complete one has to say so itself (a length prefix, or a final marker).
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
        Connect::new(handle.clone(), path.to_unix_addr())
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

    /// Closes the stream the way [`TcpStream::abort`](super::TcpStream::abort) does (one
    /// mechanism for both: `SO_LINGER` 0, then close), for code written for any stream.
    /// For a Unix stream that is an ordinary close: the peer sees `ConnectionReset` only if
    /// bytes it sent are still unread here, and otherwise a clean end of stream, which a
    /// Unix stream cannot avoid. See [Closing](Self#closing-what-the-peer-sees).
    ///
    /// ```
    /// use readyloop::ErrorKind;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     b.send_all(b"never read").await.unwrap();
    ///     a.abort(); // unread bytes here: the peer sees a reset
    ///     let mut buf = [0u8; 16];
    ///     let err = b.recv(&mut buf).await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    /// });
    /// ```
    pub fn abort(self) {
        self.socket.abort();
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
