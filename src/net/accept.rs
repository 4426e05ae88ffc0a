//! `Accept`: the future of a listener's `accept` (seed 003's `sock_accept`).
//!
//! Like the Python function, it tries `accept` first and waits for the listener to become
//! readable only on `EAGAIN`. Unlike it, running out of file descriptors does not end the
//! server or make it spin: the accept waits a short timer and tries again. This module never
//! returns `EMFILE`/`ENFILE` to the caller and never retries without a wait in between.

use super::socket::{AcceptBackoff, Backoff, Slot, Socket};
use crate::error::Error;
use crate::executor::Handle;
use crate::sys::Interest;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use rustix::fd::OwnedFd;

pub(crate) mod sealed {
    use super::*;

    /// What a listener tells `Accept`: its socket, its backoff timer, and how to wrap an
    /// accepted fd.
    pub trait Accepts: Sized {
        /// The stream type an accepted connection becomes.
        type Stream;
        /// The peer address type.
        type Addr;
        /// The listening socket.
        fn socket(&self) -> &Socket;
        /// The backoff timer of the listener's own `poll_accept`.
        fn backoff(&self) -> &AcceptBackoff;
        /// Wraps an accepted fd and the peer's kernel address.
        fn wrap(
            handle: &Handle,
            fd: OwnedFd,
            addr: Option<rustix::net::SocketAddrAny>,
        ) -> Result<(Self::Stream, Self::Addr), Error>;
    }
}

/// A listening socket: [`TcpListener`](super::TcpListener) or
/// [`UnixListener`](super::UnixListener). Sealed: implemented only by readyloop.
///
/// ```
/// fn takes<L: readyloop::net::Listener>() {}
/// takes::<readyloop::net::TcpListener>();
/// takes::<readyloop::net::UnixListener>();
/// ```
pub trait Listener: sealed::Accepts {}

/// What an accept resolves to: the stream and the peer's address.
type Accepted<L> = Result<(<L as sealed::Accepts>::Stream, <L as sealed::Accepts>::Addr), Error>;

/// What the socket layer hands back: the new fd and the kernel's address for the peer.
type RawAccepted = Result<(OwnedFd, Option<rustix::net::SocketAddrAny>), Error>;

/// The listener's own poll: the registration's read wait and the listener's backoff timer.
pub(crate) fn poll_accept_shared<L: Listener>(
    listener: &L,
    cx: &mut Context<'_>,
) -> Poll<Accepted<L>> {
    let socket = listener.socket();
    let polled = listener
        .backoff()
        .with(|backoff| socket.poll_accept(cx, Slot::Shared, backoff));
    finish::<L>(socket, polled)
}

fn finish<L: Listener>(socket: &Socket, polled: Poll<RawAccepted>) -> Poll<Accepted<L>> {
    match polled {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Ready(Ok((fd, addr))) => Poll::Ready(L::wrap(socket.handle(), fd, addr)),
    }
}

/// Accepts one connection; returned by `accept` on the listeners. Resolves to the new
/// stream (non-blocking, close-on-exec, registered with the listener's loop) and the peer's
/// address.
///
/// When the process or the system is out of file descriptors (`EMFILE`/`ENFILE`, or the
/// kernel is out of buffers), it does not fail: it waits on a timer and tries again, so a
/// server keeps its other connections and recovers by itself once fds are freed, without
/// spinning. The wait starts at 20 ms and doubles while the fds stay exhausted, up to 1 s
/// (so a process stuck at its limit with thousands of connections stays idle, whatever the
/// backend), and starts at 20 ms again after any accept that did not run out. A connection reset before it was accepted is skipped.
///
/// Cancellation: safe. A connection is taken from the kernel's queue only inside the poll
/// that returns it; a dropped `Accept` leaves pending connections queued.
///
/// ```
/// use readyloop::net::{TcpListener, TcpStream};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// lp.block_on(async {
///     let client = TcpStream::connect(&h, addr).await.unwrap();
///     let (server_side, peer) = listener.accept().await.unwrap();
///     assert_eq!(peer, client.local_addr().unwrap());
///     assert_eq!(server_side.peer_addr().unwrap(), peer);
/// });
/// ```
#[must_use = "an Accept does nothing unless awaited"]
pub struct Accept<'a, L: Listener> {
    listener: &'a L,
    token: u64,
    backoff: Backoff,
}

impl<'a, L: Listener> Accept<'a, L> {
    pub(crate) fn new(listener: &'a L) -> Self {
        Accept {
            listener,
            token: 0,
            backoff: Backoff::default(),
        }
    }
}

impl<L: Listener> core::fmt::Debug for Accept<'_, L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Accept")
            .field("socket", self.listener.socket())
            .field("backing_off", &self.backoff.is_waiting())
            .finish()
    }
}

impl<L: Listener> Future for Accept<'_, L> {
    type Output = Result<(L::Stream, L::Addr), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let socket = this.listener.socket();
        let polled = socket.poll_accept(cx, Slot::Own(&mut this.token), &mut this.backoff);
        finish::<L>(socket, polled)
    }
}

impl<L: Listener> Drop for Accept<'_, L> {
    fn drop(&mut self) {
        let socket = self.listener.socket();
        socket.cancel(Interest::Readable, &mut self.token);
        self.backoff.cancel(socket.handle());
    }
}
