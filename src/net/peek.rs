//! Peeking (`MSG_PEEK`): look at what the next receive will return without taking it, on
//! every socket type. A protocol sniffer reads the first bytes of a connection to choose a
//! handler, and a datagram server reads a sender's address before deciding to take the
//! datagram, both without disturbing the stream.
//!
//! The futures here are `Recv` and `RecvFrom` with the `MSG_PEEK` flag: they try first, wait
//! only on `EAGAIN`, keep their own wait, and lose nothing when dropped (a peek takes
//! nothing). The methods are stamped onto the socket types by the two macros below. A peek
//! must never consume bytes and never mark a socket drained.

use super::datagram_io::DatagramAddr;
use super::socket::{Slot, Socket};
use crate::error::Error;
use crate::sys::Interest;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Copies the front of the receive queue into `buf` without taking it; returned by `peek`
/// on every socket type. Resolves to the byte count: on a stream, up to `buf.len()` of the
/// bytes queued now (0 once the peer closed its writing half and nothing is queued); on a
/// datagram socket, the next datagram (cut to `buf.len()`). The next receive gets the same
/// bytes again.
///
/// Cancellation: safe; a peek takes nothing.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// lp.block_on(async {
///     a.send_all(b"hello").await.unwrap();
///     let mut head = [0u8; 2];
///     assert_eq!(b.peek(&mut head).await.unwrap(), 2);
///     assert_eq!(&head, b"he");
///     let mut all = [0u8; 8];
///     let n = b.recv(&mut all).await.unwrap();
///     assert_eq!(&all[..n], b"hello"); // the peeked bytes were still there
/// });
/// ```
#[derive(Debug)]
#[must_use = "a Peek does nothing unless awaited"]
pub struct Peek<'a> {
    socket: &'a Socket,
    buf: &'a mut [u8],
    token: u64,
}

impl<'a> Peek<'a> {
    pub(crate) fn new(socket: &'a Socket, buf: &'a mut [u8]) -> Self {
        Peek {
            socket,
            buf,
            token: 0,
        }
    }
}

impl Future for Peek<'_> {
    type Output = Result<usize, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.socket
            .poll_peek(cx, Slot::Own(&mut this.token), this.buf)
    }
}

impl Drop for Peek<'_> {
    fn drop(&mut self) {
        self.socket.cancel(Interest::Readable, &mut self.token);
    }
}

/// Copies the next datagram into `buf` without taking it, with its sender's address;
/// returned by `peek_from` on the datagram sockets. The next receive gets the same datagram.
///
/// Cancellation: safe; a peek takes nothing.
///
/// ```
/// use readyloop::net::UdpSocket;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let (a, b) = (UdpSocket::bind(&h, "127.0.0.1:0").unwrap(), UdpSocket::bind(&h, "127.0.0.1:0").unwrap());
/// lp.block_on(async {
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0u8; 16];
///     let (n, from) = b.peek_from(&mut buf).await.unwrap();
///     assert_eq!((n, from), (4, a.local_addr().unwrap()));
///     assert_eq!(b.recv_from(&mut buf).await.unwrap(), (4, from)); // still queued
/// });
/// ```
#[derive(Debug)]
#[must_use = "a PeekFrom does nothing unless awaited"]
pub struct PeekFrom<'a, A: DatagramAddr> {
    socket: &'a Socket,
    buf: &'a mut [u8],
    token: u64,
    addr: PhantomData<fn() -> A>,
}

impl<'a, A: DatagramAddr> PeekFrom<'a, A> {
    pub(crate) fn new(socket: &'a Socket, buf: &'a mut [u8]) -> Self {
        PeekFrom {
            socket,
            buf,
            token: 0,
            addr: PhantomData,
        }
    }
}

/// The shared code of `PeekFrom` and the sockets' `poll_peek_from`.
pub(crate) fn poll_peek_from<A: DatagramAddr>(
    socket: &Socket,
    cx: &mut Context<'_>,
    slot: Slot<'_>,
    buf: &mut [u8],
) -> Poll<Result<(usize, A), Error>> {
    match socket.poll_peek_from(cx, slot, buf) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Ready(Ok((n, addr))) => Poll::Ready(A::from_kernel(addr).map(|a| (n, a))),
    }
}

impl<A: DatagramAddr> Future for PeekFrom<'_, A> {
    type Output = Result<(usize, A), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        poll_peek_from(this.socket, cx, Slot::Own(&mut this.token), this.buf)
    }
}

impl<A: DatagramAddr> Drop for PeekFrom<'_, A> {
    fn drop(&mut self) {
        self.socket.cancel(Interest::Readable, &mut self.token);
    }
}

/// `peek` and `poll_peek` for a stream type; `$setup` is `stream_methods!`'s.
macro_rules! peek_stream_methods {
    ($ty:ident, $setup:literal) => {
        impl $ty {
            /// Copies up to `buf.len()` of the bytes queued now into `buf` without taking
            /// them (`MSG_PEEK`): the next receive gets them again. Waits only while nothing
            /// is queued; 0 means the peer closed its writing half. See
            /// [`Peek`](crate::net::Peek).
            ///
            /// ```
            #[doc = $setup]
            /// a.send_all(b"GET /").await.unwrap();
            /// let mut head = [0u8; 3];
            /// let n = b.peek(&mut head).await.unwrap();
            /// assert_eq!(&head[..n], &b"GET"[..n]);
            /// let mut all = [0u8; 8];
            /// b.recv_exact(&mut all[..5]).await.unwrap();
            /// assert_eq!(&all[..5], b"GET /"); // the peeked bytes were still there
            /// # });
            /// ```
            pub fn peek<'a>(&'a self, buf: &'a mut [u8]) -> crate::net::Peek<'a> {
                crate::net::Peek::new(&self.socket, buf)
            }

            /// The poll form of [`peek`](Self::peek), using the socket's own read wait
            /// (shared with `poll_recv`: one task at a time).
            ///
            /// ```
            #[doc = $setup]
            /// a.send_all(b"x").await.unwrap();
            /// let mut buf = [0u8; 4];
            /// let n = core::future::poll_fn(|cx| b.poll_peek(cx, &mut buf)).await.unwrap();
            /// assert_eq!(n, 1);
            /// assert_eq!(b.recv(&mut buf).await.unwrap(), 1);
            /// # });
            /// ```
            pub fn poll_peek(
                &self,
                cx: &mut core::task::Context<'_>,
                buf: &mut [u8],
            ) -> core::task::Poll<Result<usize, crate::Error>> {
                self.socket
                    .poll_peek(cx, crate::net::socket::Slot::Shared, buf)
            }
        }
    };
}

/// `peek`, `peek_from` and `poll_peek_from` for a datagram type. `$setup` is the hidden
/// start of each example: it defines `lp`, `h` and two sockets `a` and `b` connected to each
/// other, inside an `async` block the examples end with `# });`.
macro_rules! peek_datagram_methods {
    ($ty:ident, $addr:ident, $setup:literal) => {
        impl $ty {
            /// Copies the next datagram from the connected peer into `buf` (cut to
            /// `buf.len()`) without taking it (`MSG_PEEK`); the next receive gets it
            /// again. See [`Peek`](crate::net::Peek).
            ///
            /// ```
            #[doc = $setup]
            /// a.send(b"hello").await.unwrap();
            /// let mut head = [0u8; 2];
            /// assert_eq!(b.peek(&mut head).await.unwrap(), 2);
            /// let mut all = [0u8; 8];
            /// let n = b.recv(&mut all).await.unwrap();
            /// assert_eq!(&all[..n], b"hello"); // the whole datagram is still there
            /// # });
            /// ```
            pub fn peek<'a>(&'a self, buf: &'a mut [u8]) -> crate::net::Peek<'a> {
                crate::net::Peek::new(&self.socket, buf)
            }

            /// Copies the next datagram into `buf` without taking it, with its sender's
            /// address. See [`PeekFrom`](crate::net::PeekFrom).
            ///
            /// ```
            #[doc = $setup]
            /// a.send(b"ping").await.unwrap();
            /// let mut buf = [0u8; 16];
            /// let (n, from) = b.peek_from(&mut buf).await.unwrap();
            /// assert_eq!((n, &from), (4, &a.local_addr().unwrap()));
            /// assert_eq!(b.recv_from(&mut buf).await.unwrap(), (4, from)); // still queued
            /// # });
            /// ```
            pub fn peek_from<'a>(&'a self, buf: &'a mut [u8]) -> crate::net::PeekFrom<'a, $addr> {
                crate::net::PeekFrom::new(&self.socket, buf)
            }

            /// The poll form of [`peek_from`](Self::peek_from), using the socket's own read
            /// wait (shared with `poll_recv_from`: one task at a time).
            ///
            /// ```
            #[doc = $setup]
            /// a.send(b"x").await.unwrap();
            /// let mut buf = [0u8; 4];
            /// let (n, _from) = core::future::poll_fn(|cx| b.poll_peek_from(cx, &mut buf))
            ///     .await
            ///     .unwrap();
            /// assert_eq!(n, 1);
            /// # });
            /// ```
            pub fn poll_peek_from(
                &self,
                cx: &mut core::task::Context<'_>,
                buf: &mut [u8],
            ) -> core::task::Poll<Result<(usize, $addr), crate::Error>> {
                crate::net::peek::poll_peek_from(
                    &self.socket,
                    cx,
                    crate::net::socket::Slot::Shared,
                    buf,
                )
            }
        }
    };
}
