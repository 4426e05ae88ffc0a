//! `TcpStream`: a connected TCP socket. Its receive and send methods (shared with
//! `UnixStream`) are in `stream_methods.rs`; this file holds what is TCP's own: connecting,
//! addresses, and the TCP options. It never blocks and never hands out a blocking fd.

use super::addr::ToSocketAddr;
use super::connect::{sealed::Connects, Connect, Connectable};
use super::socket::Socket;
use super::stream::{sealed::FromSocket, StreamSocket};
use crate::error::Error;
use crate::executor::Handle;
use crate::sys::net::{self as sys, Family, Kind};
use core::net::SocketAddr;
use core::time::Duration;
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;

/// A TCP connection, IPv4 or IPv6. Methods take `&self`, so one task may receive while
/// another sends.
///
/// ```
/// use readyloop::net::{TcpListener, TcpStream};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// lp.block_on(async {
///     let client = TcpStream::connect(&h, addr).await.unwrap();
///     let (server, _) = listener.accept().await.unwrap();
///     client.send_all(b"Hello").await.unwrap();
///     let mut buf = [0u8; 1024];
///     let n = server.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"Hello");
/// });
/// ```
///
/// ## Closing: when the peer sees an end (FIN) and when a reset (RST)
///
/// - **Dropping** the stream closes it in order: the kernel sends what is still queued, then
///   a FIN, and the peer reads the bytes followed by a clean end of stream (0). The one
///   exception is the kernel's: if bytes the peer sent are still unread here, the close
///   sends a reset instead. A task that is cancelled (aborted, or its loop dropped) drops
///   the streams it holds, so this is an orderly close too.
/// - [`abort`](Self::abort) closes it with a reset: unsent bytes are thrown away and the
///   peer, once it has read what already reached it, gets `ConnectionReset`.
///
/// A clean end tells the peer "that was everything". When a connection ends because of an
/// error (a failed send) or a deadline (a shutdown's grace period) the reply is cut short,
/// and a clean end would make the peer take a truncated reply for a complete one: call
/// `abort` there. Shutting down the writing half ([`shutdown`](Self::shutdown)) sends the
/// FIN at once, whatever happens to the stream later.
#[derive(Debug)]
pub struct TcpStream {
    /// The connected socket and its registration.
    socket: Socket,
}

stream_methods!(
    TcpStream,
    core::net::SocketAddr,
    "# let lp = readyloop::Loop::new().unwrap(); let h = lp.handle();\n\
     # let listener = readyloop::net::TcpListener::bind(&h, \"127.0.0.1:0\").unwrap();\n\
     # let addr = listener.local_addr().unwrap();\n\
     # lp.block_on(async {\n\
     # let a = readyloop::net::TcpStream::connect(&h, addr).await.unwrap();\n\
     # let (b, _) = listener.accept().await.unwrap();"
);

impl TcpStream {
    /// Connects to `addr` without blocking the loop: `EINPROGRESS`, wait until writable,
    /// then `SO_ERROR` (seed 002 §4.3). A closed port gives `ConnectionRefused` at once;
    /// text that is not `IP:PORT` gives `InvalidInput` when awaited. See [`Connect`].
    ///
    /// ```
    /// use readyloop::net::{TcpListener, TcpStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let listener = TcpListener::bind(&h, "[::1]:0").unwrap();
    /// let addr = listener.local_addr().unwrap();
    /// let stream = lp.block_on(TcpStream::connect(&h, addr)).unwrap();
    /// assert_eq!(stream.peer_addr().unwrap(), addr);
    /// ```
    pub fn connect(handle: &Handle, addr: impl ToSocketAddr) -> Connect<TcpStream> {
        Connect::new(handle.clone(), addr.to_socket_addr())
    }

    /// Adopts a connected TCP socket made elsewhere. It must be a TCP stream socket in
    /// non-blocking mode; otherwise the error says which (`NotASocket`, `InvalidInput`,
    /// `Blocking`) and the fd is closed.
    ///
    /// ```
    /// use readyloop::ErrorKind;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let file = std::fs::File::open("/dev/null").unwrap();
    /// let err = readyloop::net::TcpStream::from_fd(&h, file.into()).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotASocket);
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// s.set_nonblocking(true).unwrap();
    /// let stream = readyloop::net::TcpStream::from_fd(&h, s.into()).unwrap();
    /// assert_eq!(stream.peer_addr().unwrap(), l.local_addr().unwrap());
    /// ```
    pub fn from_fd(handle: &Handle, fd: OwnedFd) -> Result<TcpStream, Error> {
        sys::check_adopted(fd.as_fd(), Family::Inet, Kind::Stream)?;
        Ok(TcpStream::from_socket(Socket::new(handle, fd)))
    }

    /// The peer's address.
    ///
    /// ```
    /// # use readyloop::net::{TcpListener, TcpStream};
    /// # let lp = readyloop::Loop::new().unwrap(); let h = lp.handle();
    /// let l = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    /// let s = lp.block_on(TcpStream::connect(&h, l.local_addr().unwrap())).unwrap();
    /// assert_eq!(s.peer_addr().unwrap(), l.local_addr().unwrap());
    /// ```
    pub fn peer_addr(&self) -> Result<SocketAddr, Error> {
        StreamSocket::peer_addr(self)
    }

    /// This end's address.
    ///
    /// ```
    /// # use readyloop::net::{TcpListener, TcpStream};
    /// # let lp = readyloop::Loop::new().unwrap(); let h = lp.handle();
    /// let l = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    /// let s = lp.block_on(TcpStream::connect(&h, l.local_addr().unwrap())).unwrap();
    /// assert!(s.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        StreamSocket::local_addr(self)
    }

    /// Turns Nagle's algorithm off (`true`) or on: with `TCP_NODELAY` small writes leave at
    /// once instead of waiting for the previous segment's acknowledgement.
    ///
    /// ```
    /// # use readyloop::net::{TcpListener, TcpStream};
    /// # let lp = readyloop::Loop::new().unwrap(); let h = lp.handle();
    /// let l = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    /// let s = lp.block_on(TcpStream::connect(&h, l.local_addr().unwrap())).unwrap();
    /// s.set_nodelay(true).unwrap();
    /// assert!(s.nodelay().unwrap());
    /// ```
    pub fn set_nodelay(&self, on: bool) -> Result<(), Error> {
        Ok(sys::set_nodelay(self.socket.fd(), on)?)
    }

    /// Whether `TCP_NODELAY` is on.
    ///
    /// ```
    /// # use readyloop::net::{TcpListener, TcpStream};
    /// # let lp = readyloop::Loop::new().unwrap(); let h = lp.handle();
    /// let l = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    /// let s = lp.block_on(TcpStream::connect(&h, l.local_addr().unwrap())).unwrap();
    /// assert!(!s.nodelay().unwrap());
    /// ```
    pub fn nodelay(&self) -> Result<bool, Error> {
        Ok(sys::nodelay(self.socket.fd())?)
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes dropping the stream send a reset
    /// (the peer then gets `ConnectionReset`) instead of an orderly close.
    ///
    /// ```
    /// # use readyloop::net::{TcpListener, TcpStream};
    /// # let lp = readyloop::Loop::new().unwrap(); let h = lp.handle();
    /// let l = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    /// let s = lp.block_on(TcpStream::connect(&h, l.local_addr().unwrap())).unwrap();
    /// s.set_linger(Some(core::time::Duration::ZERO)).unwrap();
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> Result<(), Error> {
        Ok(sys::set_linger(self.socket.fd(), linger)?)
    }

    /// Closes the connection abortively: `SO_LINGER` 0, then close. Whatever is still unsent
    /// here is dropped and the kernel sends a reset: the peer may read what had already
    /// reached it, then its receive fails with `ConnectionReset` instead of reading a clean
    /// end. Use it when the connection ends because of an error or a deadline, so the peer
    /// cannot mistake a cut reply for a complete one; drop the stream for an orderly close.
    /// See [Closing](Self#closing-when-the-peer-sees-an-end-fin-and-when-a-reset-rst).
    ///
    /// ```
    /// use readyloop::net::{TcpListener, TcpStream};
    /// use readyloop::ErrorKind;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let l = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    /// lp.block_on(async {
    ///     let client = TcpStream::connect(&h, l.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = l.accept().await.unwrap();
    ///     server.send_all(b"half a rep").await.unwrap();
    ///     server.abort(); // a failed step: the peer must not see a clean end
    ///     let mut buf = [0u8; 64];
    ///     let err = loop {
    ///         match client.recv(&mut buf).await {
    ///             Ok(n) => assert!(n > 0, "a clean end after a cut reply"),
    ///             Err(e) => break e,
    ///         }
    ///     };
    ///     assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    /// });
    /// ```
    pub fn abort(self) {
        self.socket.abort();
    }
}

impl Connects for TcpStream {
    type Addr = SocketAddr;

    fn open(addr: &SocketAddr) -> Result<OwnedFd, Errno> {
        sys::inet_socket(addr, Kind::Stream)
    }

    fn connect(fd: BorrowedFd<'_>, addr: &SocketAddr) -> Result<(), Errno> {
        sys::connect(fd, addr)
    }

    fn wrap(socket: Socket) -> Self {
        TcpStream::from_socket(socket)
    }
}

impl Connectable for TcpStream {}
