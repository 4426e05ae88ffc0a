//! `StreamSocket`: the sealed trait of the connected stream sockets, carrying every
//! operation a TCP and a Unix stream share, so code written once (a server, a protocol,
//! [`echo`](super::echo), [`LineReader`](super::LineReader)) runs on both.
//!
//! This is where those operations are written: each provided method forwards to the shared
//! `Socket` code or to a future of `stream_io`, and the types' inherent methods of the same
//! names (stamped by `stream_methods.rs`, so no import is needed) forward here. It must never
//! grow an implementation outside readyloop, nor a second code path for an operation.

use super::addr::sealed::FromKernel;
use super::socket::Socket;
use super::stream_io::{ReadToEnd, Recv, RecvExact, SendAll, SendOnce};
use super::Shutdown;
use crate::error::Error;
use crate::executor::Handle;
use alloc::vec::Vec;
use core::task::{Context, Poll};

pub(crate) mod sealed {
    /// Access to the shared socket core.
    pub trait HasSocket {
        /// The stream's socket.
        fn socket(&self) -> &crate::net::socket::Socket;
    }

    /// A stream type an accepted or connected socket becomes (the types themselves, not
    /// references to them).
    pub trait FromSocket {
        /// Wraps a connected socket.
        fn from_socket(socket: crate::net::socket::Socket) -> Self;
    }
}

/// A connected stream socket: [`TcpStream`](super::TcpStream),
/// [`UnixStream`](super::UnixStream), or a shared reference to either. Sealed: implemented
/// only by readyloop.
///
/// Its methods are the streams' own (`a.recv(..)` on a concrete type needs no import); the
/// trait is for code written once for both transports. `Addr` is the address type:
/// [`SocketAddr`](core::net::SocketAddr) for TCP, [`UnixSocketAddr`](super::UnixSocketAddr)
/// for Unix.
///
/// ```
/// use readyloop::net::StreamSocket;
///
/// // Sends a greeting and reads the answer, over TCP or Unix alike.
/// async fn hello<S: StreamSocket>(stream: &S) -> readyloop::Result<Vec<u8>> {
///     stream.send_all(b"hello").await?;
///     stream.shutdown(readyloop::net::Shutdown::Write)?;
///     let mut answer = Vec::new();
///     stream.read_to_end(&mut answer).await?;
///     Ok(answer)
/// }
///
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// lp.handle().spawn(async move { readyloop::net::echo(&b, &mut [0u8; 64]).await });
/// assert_eq!(lp.block_on(hello(&a)).unwrap(), b"hello");
/// ```
pub trait StreamSocket: sealed::HasSocket {
    /// The address type of this transport's ends.
    type Addr: FromKernel + core::fmt::Debug + Clone + PartialEq + Eq + 'static;

    /// Receives up to `buf.len()` bytes; 0 means the peer closed its writing half.
    /// Cancel-safe: see [`Recv`].
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// async fn first_bytes<S: readyloop::net::StreamSocket>(s: &S) -> Vec<u8> {
    ///     let mut buf = [0u8; 64];
    ///     let n = s.recv(&mut buf).await.unwrap();
    ///     buf[..n].to_vec()
    /// }
    /// lp.block_on(async {
    ///     a.send_all(b"ping").await.unwrap();
    ///     assert_eq!(first_bytes(&b).await, b"ping");
    /// });
    /// ```
    fn recv<'a>(&'a self, buf: &'a mut [u8]) -> Recv<'a> {
        Recv::new(self.socket(), buf)
    }

    /// The poll form of [`recv`](Self::recv), on the socket's own read wait (one task at a
    /// time; the shape of `futures-io`'s `poll_read`). Both run the same code.
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// use readyloop::net::StreamSocket;
    /// async fn one<S: StreamSocket>(s: &S, buf: &mut [u8]) -> usize {
    ///     core::future::poll_fn(|cx| s.poll_recv(cx, buf)).await.unwrap()
    /// }
    /// lp.block_on(async {
    ///     a.send_all(b"x").await.unwrap();
    ///     assert_eq!(one(&b, &mut [0u8; 4]).await, 1);
    /// });
    /// ```
    fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize, Error>> {
        self.socket()
            .poll_recv(cx, super::socket::Slot::Shared, buf)
    }

    /// Fills `buf` completely, or fails with `UnexpectedEof` if the peer closes first. See
    /// [`RecvExact`] for cancellation.
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// async fn header<S: readyloop::net::StreamSocket>(s: &S) -> [u8; 4] {
    ///     let mut head = [0u8; 4];
    ///     s.recv_exact(&mut head).await.unwrap();
    ///     head
    /// }
    /// lp.block_on(async {
    ///     a.send_all(b"0123456789").await.unwrap();
    ///     assert_eq!(&header(&b).await, b"0123");
    /// });
    /// ```
    fn recv_exact<'a>(&'a self, buf: &'a mut [u8]) -> RecvExact<'a> {
        RecvExact::new(self.socket(), buf)
    }

    /// Appends everything until the peer closes its writing half; resolves to the count
    /// appended. Cancel-safe: see [`ReadToEnd`].
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// async fn all<S: readyloop::net::StreamSocket>(s: &S) -> Vec<u8> {
    ///     let mut out = Vec::new();
    ///     s.read_to_end(&mut out).await.unwrap();
    ///     out
    /// }
    /// lp.block_on(async {
    ///     a.send_all(b"the end").await.unwrap();
    ///     drop(a);
    ///     assert_eq!(all(&b).await, b"the end");
    /// });
    /// ```
    fn read_to_end<'a>(&'a self, out: &'a mut Vec<u8>) -> ReadToEnd<'a> {
        ReadToEnd::new(self.socket(), out)
    }

    /// Sends some of `buf` (one `send`); resolves to the count sent. Cancel-safe: see
    /// [`SendOnce`].
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// use readyloop::net::StreamSocket;
    /// let n = lp.block_on(StreamSocket::send(&a, b"abc")).unwrap();
    /// assert!((1..=3).contains(&n));
    /// ```
    fn send<'a>(&'a self, buf: &'a [u8]) -> SendOnce<'a> {
        SendOnce::new(self.socket(), buf)
    }

    /// The poll form of [`send`](Self::send), on the socket's own write wait (the shape of
    /// `futures-io`'s `poll_write`). Both run the same code.
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// use readyloop::net::StreamSocket;
    /// let n = lp.block_on(core::future::poll_fn(|cx| StreamSocket::poll_send(&a, cx, b"hi")));
    /// assert_eq!(n.unwrap(), 2);
    /// ```
    fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize, Error>> {
        self.socket()
            .poll_send(cx, super::socket::Slot::Shared, buf)
    }

    /// [`poll_recv`](Self::poll_recv) into memory that need not be initialised (no zeroing
    /// before each receive: what a reader with its own buffer, such as hyper's, wants). On
    /// `Ok(n)` the first `n` bytes of `buf` are initialised and hold the data.
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// use core::mem::MaybeUninit;
    /// use readyloop::net::StreamSocket;
    /// lp.block_on(a.send_all(b"raw")).unwrap();
    /// let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    /// let n = lp.block_on(core::future::poll_fn(|cx| b.poll_recv_uninit(cx, &mut buf)));
    /// assert_eq!(n.unwrap(), 3);
    /// ```
    fn poll_recv_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [core::mem::MaybeUninit<u8>],
    ) -> Poll<Result<usize, Error>> {
        self.socket()
            .poll_recv_uninit(cx, super::socket::Slot::Shared, buf)
    }

    /// Sends from several buffers in one system call (`sendmsg(2)` with `MSG_NOSIGNAL`, a
    /// `writev(2)` that cannot raise `SIGPIPE`), on the socket's own write wait: a header
    /// and a body leave together without being copied into one buffer. Resolves to the byte
    /// count, which may end inside any buffer. With `std` (the buffers are std's `IoSlice`).
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// use readyloop::net::StreamSocket;
    /// use std::io::IoSlice;
    /// let bufs = [IoSlice::new(b"head "), IoSlice::new(b"body")];
    /// let n = lp.block_on(core::future::poll_fn(|cx| a.poll_send_vectored(cx, &bufs)));
    /// assert_eq!(n.unwrap(), 9);
    /// let mut got = [0u8; 9];
    /// lp.block_on(b.recv_exact(&mut got)).unwrap();
    /// assert_eq!(&got, b"head body");
    /// ```
    #[cfg(feature = "std")]
    fn poll_send_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<Result<usize, Error>> {
        self.socket()
            .poll_send_vectored(cx, super::socket::Slot::Shared, bufs)
    }

    /// Sends all of `buf` across partial sends. See [`SendAll`] for cancellation. Sending
    /// after `shutdown(Write)`, or to a peer that is gone, fails with `BrokenPipe` (never a
    /// `SIGPIPE`).
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// async fn greet<S: readyloop::net::StreamSocket>(s: &S) -> readyloop::Result<()> {
    ///     s.send_all(b"hello\n").await
    /// }
    /// lp.block_on(async {
    ///     greet(&a).await.unwrap();
    ///     let mut buf = [0u8; 6];
    ///     b.recv_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"hello\n");
    /// });
    /// ```
    fn send_all<'a>(&'a self, buf: &'a [u8]) -> SendAll<'a> {
        SendAll::new(self.socket(), buf)
    }

    /// Shuts down the reading half, the writing half (the peer then reads end of file) or
    /// both. The fd stays open until the stream drops.
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// use readyloop::net::{Shutdown, StreamSocket};
    /// fn done<S: StreamSocket>(s: &S) { s.shutdown(Shutdown::Write).unwrap() }
    /// done(&a);
    /// assert_eq!(lp.block_on(b.recv(&mut [0u8; 4])).unwrap(), 0);
    /// ```
    fn shutdown(&self, how: Shutdown) -> Result<(), Error> {
        self.socket().shutdown(how)
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// use readyloop::net::StreamSocket;
    /// assert!(StreamSocket::take_error(&a).unwrap().is_none());
    /// ```
    fn take_error(&self) -> Result<Option<Error>, Error> {
        self.socket().take_error()
    }

    /// The loop this stream is registered with.
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// use readyloop::net::StreamSocket;
    /// fn tasks<S: StreamSocket>(s: &S) -> u64 { s.handle().stats().tasks_alive }
    /// assert_eq!(tasks(&a), 0);
    /// ```
    fn handle(&self) -> &Handle {
        self.socket().handle()
    }

    /// This end's address (a Unix stream's is unnamed unless it was bound).
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// use readyloop::net::StreamSocket;
    /// fn show<S: StreamSocket>(s: &S) -> String { format!("{:?}", s.local_addr().unwrap()) }
    /// assert!(show(&a).contains("unnamed"));
    /// ```
    fn local_addr(&self) -> Result<Self::Addr, Error> {
        let addr = crate::sys::net::local_addr(self.socket().fd())?;
        <Self::Addr as FromKernel>::from_kernel(Some(addr))
    }

    /// The peer's address.
    ///
    /// ```
    /// use readyloop::net::{StreamSocket, TcpListener, TcpStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let l = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    /// let s = lp.block_on(TcpStream::connect(&h, l.local_addr().unwrap())).unwrap();
    /// fn peer<S: StreamSocket>(s: &S) -> S::Addr { s.peer_addr().unwrap() }
    /// assert_eq!(peer(&s), l.local_addr().unwrap());
    /// ```
    fn peer_addr(&self) -> Result<Self::Addr, Error> {
        let addr = crate::sys::net::peer_addr(self.socket().fd())?;
        <Self::Addr as FromKernel>::from_kernel(Some(addr))
    }
}

/// A shared reference is a stream too: several readers and writers may hold `&stream`
/// (every operation takes `&self`), and `LineReader::new(&stream)` leaves the stream free
/// for sending.
impl<S: StreamSocket> sealed::HasSocket for &S {
    fn socket(&self) -> &Socket {
        (**self).socket()
    }
}

impl<S: StreamSocket> StreamSocket for &S {
    type Addr = S::Addr;
}
