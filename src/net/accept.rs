//! `Accept`: the future of a listener's `accept` (seed 003's `sock_accept`).
//!
//! Like the Python function, it tries `accept` first and waits for the listener to become
//! readable only on `EAGAIN`. Unlike it, running out of file descriptors does not end the
//! server or make it spin: the accept waits a short timer and tries again. This module never
//! returns `EMFILE`/`ENFILE` to the caller and never retries without a wait in between.

use super::addr::sealed::FromKernel;
use super::socket::{AcceptBackoff, Backoff, Slot, Socket};
use super::stream::{sealed::FromSocket, StreamSocket};
use crate::error::Error;
use crate::executor::Handle;
use crate::sys::Interest;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use rustix::fd::OwnedFd;

pub(crate) mod sealed {
    use super::*;

    /// What a listener tells `Accept`: its socket and its backoff timer.
    pub trait Accepts {
        /// The listening socket.
        fn socket(&self) -> &Socket;
        /// The backoff timer of the listener's own `poll_accept`.
        fn backoff(&self) -> &AcceptBackoff;
    }
}

/// A listening socket: [`TcpListener`](super::TcpListener) or
/// [`UnixListener`](super::UnixListener). Sealed: implemented only by readyloop.
///
/// Its methods are the listeners' own (no import needed on a concrete type); the trait is
/// for a server written once for both transports. `Stream` is what an accept makes and
/// `Addr` the address type of both ends.
///
/// ```
/// use readyloop::net::{Listener, StreamSocket, TcpListener, UnixListener, UnixSocketAddr};
///
/// // Greets one client, whatever the transport.
/// async fn greet_one<L: Listener>(listener: &L) -> readyloop::Result<L::Addr> {
///     let (stream, peer) = listener.accept().await?;
///     stream.send_all(b"hello\n").await?;
///     Ok(peer)
/// }
///
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let tcp = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
/// let name = format!("readyloop-doc-listener-{}", std::process::id());
/// let unix = UnixListener::bind(&h, UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap())
///     .unwrap();
/// lp.block_on(async {
///     let c = readyloop::net::TcpStream::connect(&h, tcp.local_addr().unwrap()).await.unwrap();
///     assert_eq!(greet_one(&tcp).await.unwrap(), c.local_addr().unwrap());
///     let _c = readyloop::net::UnixStream::connect(&h, unix.local_addr().unwrap()).await.unwrap();
///     assert!(greet_one(&unix).await.unwrap().is_unnamed());
/// });
/// ```
pub trait Listener: sealed::Accepts + Sized {
    /// The stream an accepted connection becomes (it owns its socket: `'static`, so a
    /// task spawned per connection may take it).
    type Stream: StreamSocket<Addr = Self::Addr> + FromSocket + 'static;
    /// The address type of the listener and of its peers.
    type Addr: FromKernel + core::fmt::Debug + Clone + PartialEq + Eq + 'static;

    /// Accepts one connection: the new stream and the peer's address. Out of fds, it waits
    /// and retries instead of failing; see [`Accept`].
    ///
    /// ```
    /// use readyloop::net::{Listener, TcpListener, TcpStream};
    /// async fn one<L: Listener>(l: &L) -> L::Stream { l.accept().await.unwrap().0 }
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let l = TcpListener::bind(&h, "[::1]:0").unwrap();
    /// lp.block_on(async {
    ///     let _c = TcpStream::connect(&h, l.local_addr().unwrap()).await.unwrap();
    ///     let s: TcpStream = one(&l).await;
    ///     assert_eq!(s.local_addr().unwrap(), l.local_addr().unwrap());
    /// });
    /// ```
    fn accept(&self) -> Accept<'_, Self> {
        Accept::new(self)
    }

    /// The poll form of [`accept`](Self::accept), on the listener's own wait (one task at
    /// a time). Both run the same code.
    ///
    /// ```
    /// use readyloop::net::{Listener, TcpListener, TcpStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let l = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    /// lp.block_on(async {
    ///     let _c = TcpStream::connect(&h, l.local_addr().unwrap()).await.unwrap();
    ///     core::future::poll_fn(|cx| Listener::poll_accept(&l, cx)).await.unwrap();
    /// });
    /// ```
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<Accepted<Self>> {
        let socket = self.socket();
        let polled = self
            .backoff()
            .with(|backoff| socket.poll_accept(cx, Slot::Shared, backoff));
        finish::<Self>(socket, polled)
    }

    /// The address the listener is bound to.
    ///
    /// ```
    /// use readyloop::net::{Listener, TcpListener};
    /// fn addr<L: Listener>(l: &L) -> L::Addr { l.local_addr().unwrap() }
    /// let lp = readyloop::Loop::new().unwrap();
    /// let l = TcpListener::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// assert!(addr(&l).ip().is_loopback());
    /// ```
    fn local_addr(&self) -> Result<Self::Addr, Error> {
        let addr = crate::sys::net::local_addr(self.socket().fd())?;
        Self::Addr::from_kernel(Some(addr))
    }

    /// The loop this listener is registered with.
    ///
    /// ```
    /// use readyloop::net::{Listener, TcpListener};
    /// fn handle_of<L: Listener>(l: &L) -> readyloop::Handle { l.handle().clone() }
    /// let lp = readyloop::Loop::new().unwrap();
    /// let l = TcpListener::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// handle_of(&l).spawn(async {});
    /// ```
    fn handle(&self) -> &Handle {
        self.socket().handle()
    }
}

/// What an accept resolves to: the stream and the peer's address.
type Accepted<L> = Result<(<L as Listener>::Stream, <L as Listener>::Addr), Error>;

/// What the socket layer hands back: the new fd and the kernel's address for the peer.
type RawAccepted = Result<(OwnedFd, Option<rustix::net::SocketAddrAny>), Error>;

pub(super) fn finish<L: Listener>(socket: &Socket, polled: Poll<RawAccepted>) -> Poll<Accepted<L>> {
    match polled {
        Poll::Pending => Poll::Pending,
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Ready(Ok((fd, addr))) => {
            let stream = L::Stream::from_socket(Socket::new(socket.handle(), fd));
            Poll::Ready(L::Addr::from_kernel(addr).map(|peer| (stream, peer)))
        }
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
    type Output = Accepted<L>;

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
