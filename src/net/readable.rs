//! `Readable`: waits until a stream socket has something to read (or the peer closed or
//! failed), without a buffer. The daemon pattern for many idle connections: a task that
//! waits here holds no receive buffer, and takes one (from a pool, or one the loop's tasks
//! share) only once there is something to receive. It never reads or consumes anything.

use super::socket::Socket;
use crate::error::Error;
use crate::sys::Interest;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Waits until the socket is readable; returned by `readable` on the stream types. Resolves
/// once there is something to receive (data, the peer's close, or an error for the next
/// `recv` to return): a `recv` right after it finds it without waiting (barring another
/// reader). After a receive that drained the socket it waits for the kernel's report
/// directly; otherwise it first peeks (one `MSG_PEEK | MSG_DONTWAIT` byte), so data or a
/// close that is already there is seen at once.
///
/// Cancellation: safe; nothing is consumed.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// lp.block_on(async {
///     a.send_all(b"hi").await.unwrap();
///     b.readable().await.unwrap(); // no buffer held while waiting
///     let mut buf = [0u8; 8];
///     assert_eq!(b.recv(&mut buf).await.unwrap(), 2);
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Readable<'a> {
    socket: &'a Socket,
    token: u64,
}

impl<'a> Readable<'a> {
    pub(crate) fn new(socket: &'a Socket) -> Self {
        Readable { socket, token: 0 }
    }
}

impl Future for Readable<'_> {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.socket.poll_readable(cx, &mut this.token)
    }
}

impl Drop for Readable<'_> {
    fn drop(&mut self) {
        self.socket.cancel(Interest::Readable, &mut self.token);
    }
}
