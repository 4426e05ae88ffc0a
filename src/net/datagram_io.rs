//! The futures of datagram sockets ([`UdpSocket`](super::UdpSocket),
//! [`UnixDatagram`](super::UnixDatagram)): receive one datagram with its sender, send one
//! datagram to an address. (Connected sockets use the stream futures `Recv` and
//! `SendOnce`.)
//!
//! Like the stream futures, each wraps one `Socket::poll_*` call, keeps its own wait, and
//! never allocates. A datagram is delivered whole or not at all, so each is cancel-safe.

use super::addr::UnixSocketAddr;
use super::socket::{Slot, Socket};
use crate::error::Error;
use crate::sys::Interest;
use core::future::Future;
use core::marker::PhantomData;
use core::net::SocketAddr;
use core::pin::Pin;
use core::task::{Context, Poll};

mod sealed {
    use crate::error::Error;
    use crate::net::socket::{Slot, Socket};
    use core::task::{Context, Poll};

    /// How one kind of datagram address crosses the syscall layer.
    pub trait Kernel: crate::net::addr::sealed::FromKernel {
        /// `sendto` this address.
        fn poll_send_to(
            &self,
            socket: &Socket,
            cx: &mut Context<'_>,
            slot: Slot<'_>,
            buf: &[u8],
        ) -> Poll<Result<usize, Error>>;
    }
}

/// The address type of a datagram socket: `core::net::SocketAddr` for UDP,
/// [`UnixSocketAddr`] for Unix datagrams. Sealed: implemented only by readyloop.
///
/// ```
/// fn takes<A: readyloop::net::DatagramAddr>() {}
/// takes::<core::net::SocketAddr>();
/// takes::<readyloop::net::UnixSocketAddr>();
/// ```
pub trait DatagramAddr: sealed::Kernel {}

impl sealed::Kernel for SocketAddr {
    fn poll_send_to(
        &self,
        socket: &Socket,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, Error>> {
        socket.poll_send_to(cx, slot, buf, self)
    }
}

impl DatagramAddr for SocketAddr {}

impl sealed::Kernel for UnixSocketAddr {
    fn poll_send_to(
        &self,
        socket: &Socket,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, Error>> {
        socket.poll_send_to(cx, slot, buf, &self.raw)
    }
}

impl DatagramAddr for UnixSocketAddr {}

/// Receives one datagram into `buf` (the rest of a longer one is discarded, as `recvfrom`
/// does); returned by `recv_from`. Resolves to the byte count and the sender's address.
///
/// Cancellation: safe. A datagram leaves the kernel only inside the poll that returns it.
///
/// ```
/// use readyloop::net::UdpSocket;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let a = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
/// let b = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
/// lp.block_on(async {
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0u8; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// });
/// ```
#[derive(Debug)]
#[must_use = "a RecvFrom does nothing unless awaited"]
pub struct RecvFrom<'a, A: DatagramAddr> {
    socket: &'a Socket,
    buf: &'a mut [u8],
    token: u64,
    addr: PhantomData<fn() -> A>,
}

impl<'a, A: DatagramAddr> RecvFrom<'a, A> {
    pub(crate) fn new(socket: &'a Socket, buf: &'a mut [u8]) -> Self {
        RecvFrom {
            socket,
            buf,
            token: 0,
            addr: PhantomData,
        }
    }
}

/// The shared code of `RecvFrom` and the sockets' `poll_recv_from`.
pub(crate) fn poll_recv_from<A: DatagramAddr>(
    socket: &Socket,
    cx: &mut Context<'_>,
    slot: Slot<'_>,
    buf: &mut [u8],
) -> Poll<Result<(usize, A), Error>> {
    match socket.poll_recv_from(cx, slot, buf) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Ready(Ok((n, addr))) => Poll::Ready(A::from_kernel(addr).map(|a| (n, a))),
    }
}

impl<A: DatagramAddr> Future for RecvFrom<'_, A> {
    type Output = Result<(usize, A), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        poll_recv_from(this.socket, cx, Slot::Own(&mut this.token), this.buf)
    }
}

impl<A: DatagramAddr> Drop for RecvFrom<'_, A> {
    fn drop(&mut self) {
        self.socket.cancel(Interest::Readable, &mut self.token);
    }
}

/// Sends one datagram to an address; returned by `send_to`. Resolves to the byte count
/// (always the whole datagram; one too large for the socket is `EMSGSIZE`).
///
/// Cancellation: safe. If dropped before it completes, nothing was sent.
///
/// ```
/// use readyloop::net::UdpSocket;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let a = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
/// let n = lp.block_on(a.send_to(b"x", a.local_addr().unwrap())).unwrap();
/// assert_eq!(n, 1);
/// ```
#[derive(Debug)]
#[must_use = "a SendTo does nothing unless awaited"]
pub struct SendTo<'a, A: DatagramAddr> {
    socket: &'a Socket,
    buf: &'a [u8],
    addr: Result<A, Error>,
    token: u64,
}

impl<'a, A: DatagramAddr> SendTo<'a, A> {
    pub(crate) fn new(socket: &'a Socket, buf: &'a [u8], addr: Result<A, Error>) -> Self {
        SendTo {
            socket,
            buf,
            addr,
            token: 0,
        }
    }
}

// Nothing in a `SendTo` is pinned structurally: the address is only ever read in place.
impl<A: DatagramAddr> Unpin for SendTo<'_, A> {}

impl<A: DatagramAddr> Future for SendTo<'_, A> {
    type Output = Result<usize, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        match &this.addr {
            Err(e) => Poll::Ready(Err(*e)),
            Ok(addr) => addr.poll_send_to(this.socket, cx, Slot::Own(&mut this.token), this.buf),
        }
    }
}

impl<A: DatagramAddr> Drop for SendTo<'_, A> {
    fn drop(&mut self) {
        self.socket.cancel(Interest::Writable, &mut self.token);
    }
}
