//! The futures of stream sockets ([`TcpStream`](super::TcpStream),
//! [`UnixStream`](super::UnixStream)): receive, receive exactly, read to the end, send,
//! send everything.
//!
//! Each is a small hand-written state machine over one `Socket::poll_*` call (the same code
//! the sockets' `poll_recv`/`poll_send` methods run), keeping its own wait so several tasks
//! may use one socket. They never allocate (except `ReadToEnd`, which grows the caller's
//! `Vec`) and never make a syscall the operation does not need: the first poll tries the
//! syscall, and only an `EAGAIN` registers a wait. Each documents what dropping it midway
//! means.

use super::socket::{Slot, Socket};
use crate::error::{Error, ErrorKind};
use crate::sys::Interest;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Receives up to `buf.len()` bytes; returned by `recv` on the stream types. Resolves to the
/// byte count, 0 when the peer has closed its writing half.
///
/// Cancellation: safe. Bytes leave the kernel only inside a poll that then returns them, so
/// dropping a `Recv` that has not completed loses nothing; the next receive gets them.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// lp.block_on(async {
///     a.send_all(b"hi").await.unwrap();
///     let mut buf = [0u8; 8];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"hi");
/// });
/// ```
#[derive(Debug)]
#[must_use = "a Recv does nothing unless awaited"]
pub struct Recv<'a> {
    socket: &'a Socket,
    buf: &'a mut [u8],
    token: u64,
}

impl<'a> Recv<'a> {
    pub(crate) fn new(socket: &'a Socket, buf: &'a mut [u8]) -> Self {
        Recv {
            socket,
            buf,
            token: 0,
        }
    }
}

impl Future for Recv<'_> {
    type Output = Result<usize, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.socket
            .poll_recv(cx, Slot::Own(&mut this.token), this.buf)
    }
}

impl Drop for Recv<'_> {
    fn drop(&mut self) {
        self.socket.cancel(Interest::Readable, &mut self.token);
    }
}

/// Fills `buf` completely; returned by `recv_exact`. If the peer closes first, resolves to
/// `ErrorKind::UnexpectedEof`.
///
/// Cancellation: the bytes received before the drop are in `buf[..n]` for some `n` the
/// caller cannot learn, so after dropping one midway the stream's position is unknown;
/// only drop it when you are giving up on the stream.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// lp.block_on(async {
///     a.send_all(b"hello").await.unwrap();
///     let mut buf = [0u8; 5];
///     b.recv_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hello");
/// });
/// ```
#[derive(Debug)]
#[must_use = "a RecvExact does nothing unless awaited"]
pub struct RecvExact<'a> {
    socket: &'a Socket,
    buf: &'a mut [u8],
    filled: usize,
    token: u64,
}

impl<'a> RecvExact<'a> {
    pub(crate) fn new(socket: &'a Socket, buf: &'a mut [u8]) -> Self {
        RecvExact {
            socket,
            buf,
            filled: 0,
            token: 0,
        }
    }
}

impl Future for RecvExact<'_> {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        while this.filled < this.buf.len() {
            let rest = &mut this.buf[this.filled..];
            match this.socket.poll_recv(cx, Slot::Own(&mut this.token), rest) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(Error::new(
                        ErrorKind::UnexpectedEof,
                        "recv_exact: the peer closed the stream before the buffer was full",
                    )))
                }
                Poll::Ready(Ok(n)) => this.filled += n,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for RecvExact<'_> {
    fn drop(&mut self) {
        self.socket.cancel(Interest::Readable, &mut self.token);
    }
}

/// The most `ReadToEnd` zeroes and offers to one `recv` at a time.
const READ_WINDOW: usize = 64 * 1024;

/// The least spare capacity `ReadToEnd` offers before it grows the `Vec`.
const READ_MIN_SPARE: usize = 8 * 1024;

/// Appends everything until the peer closes its writing half; returned by `read_to_end`.
/// Resolves to the number of bytes appended.
///
/// Cancellation: safe. Every byte received is already appended to the `Vec` when the
/// future is dropped; only the count is lost (compare the `Vec`'s length).
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// lp.block_on(async {
///     a.send_all(b"all of it").await.unwrap();
///     drop(a);
///     let mut out = Vec::new();
///     assert_eq!(b.read_to_end(&mut out).await.unwrap(), 9);
///     assert_eq!(out, b"all of it");
/// });
/// ```
#[derive(Debug)]
#[must_use = "a ReadToEnd does nothing unless awaited"]
pub struct ReadToEnd<'a> {
    socket: &'a Socket,
    out: &'a mut Vec<u8>,
    start: usize,
    token: u64,
}

impl<'a> ReadToEnd<'a> {
    pub(crate) fn new(socket: &'a Socket, out: &'a mut Vec<u8>) -> Self {
        let start = out.len();
        ReadToEnd {
            socket,
            out,
            start,
            token: 0,
        }
    }
}

impl Future for ReadToEnd<'_> {
    type Output = Result<usize, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            let len = this.out.len();
            if this.out.capacity() - len < READ_MIN_SPARE {
                this.out.reserve(READ_MIN_SPARE);
            }
            let window = (this.out.capacity() - len).min(READ_WINDOW);
            this.out.resize(len + window, 0);
            let polled =
                this.socket
                    .poll_recv(cx, Slot::Own(&mut this.token), &mut this.out[len..]);
            let got = match polled {
                Poll::Ready(Ok(n)) => n,
                _ => 0,
            };
            this.out.truncate(len + got);
            match polled {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(len - this.start)),
                Poll::Ready(Ok(_)) => {}
            }
        }
    }
}

impl Drop for ReadToEnd<'_> {
    fn drop(&mut self) {
        self.socket.cancel(Interest::Readable, &mut self.token);
    }
}

/// One `send(2)`: sends some of `buf` (at least one byte unless `buf` is empty; a whole
/// datagram on datagram sockets); returned by `send`. Resolves to the byte count.
///
/// Cancellation: safe. If it is dropped before it completes, nothing was sent.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// let n = lp.block_on(a.send(b"abc")).unwrap();
/// assert_eq!(n, 3);
/// ```
#[derive(Debug)]
#[must_use = "a SendOnce does nothing unless awaited"]
pub struct SendOnce<'a> {
    socket: &'a Socket,
    buf: &'a [u8],
    token: u64,
}

impl<'a> SendOnce<'a> {
    pub(crate) fn new(socket: &'a Socket, buf: &'a [u8]) -> Self {
        SendOnce {
            socket,
            buf,
            token: 0,
        }
    }
}

impl Future for SendOnce<'_> {
    type Output = Result<usize, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.socket
            .poll_send(cx, Slot::Own(&mut this.token), this.buf)
    }
}

impl Drop for SendOnce<'_> {
    fn drop(&mut self) {
        self.socket.cancel(Interest::Writable, &mut self.token);
    }
}

/// Sends all of `buf`, across as many partial sends as the kernel makes; returned by
/// `send_all` (seed 003's `sock_sendall`).
///
/// Cancellation: if it is dropped midway, some prefix of `buf` has been sent and the caller
/// cannot learn how long; only drop it when you are giving up on the stream.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// lp.block_on(async {
///     a.send_all(&[7u8; 100_000]).await.unwrap();
///     drop(a);
///     let mut out = Vec::new();
///     b.read_to_end(&mut out).await.unwrap();
///     assert_eq!(out.len(), 100_000);
/// });
/// ```
#[derive(Debug)]
#[must_use = "a SendAll does nothing unless awaited"]
pub struct SendAll<'a> {
    socket: &'a Socket,
    buf: &'a [u8],
    token: u64,
}

impl<'a> SendAll<'a> {
    pub(crate) fn new(socket: &'a Socket, buf: &'a [u8]) -> Self {
        SendAll {
            socket,
            buf,
            token: 0,
        }
    }
}

impl Future for SendAll<'_> {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        while !this.buf.is_empty() {
            match this
                .socket
                .poll_send(cx, Slot::Own(&mut this.token), this.buf)
            {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(Error::new(
                        ErrorKind::Other,
                        "send_all: the kernel accepted no bytes of a non-empty buffer",
                    )))
                }
                Poll::Ready(Ok(n)) => this.buf = &this.buf[n..],
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for SendAll<'_> {
    fn drop(&mut self) {
        self.socket.cancel(Interest::Writable, &mut self.token);
    }
}
