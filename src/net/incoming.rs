//! `Incoming`: the connections a listener accepts, one after another, as a stream-shaped
//! object (`poll_next` and an async `next`) that needs no futures crate.
//!
//! It is `Accept` kept across connections: one wait and one backoff timer for all of them,
//! so a server loop `while let Some(conn) = incoming.next().await` registers nothing per
//! connection that it has to withdraw. Like `Accept`, it never returns `EMFILE`/`ENFILE`
//! (it waits on its timer and tries again) and never takes a connection from the kernel's
//! queue unless the poll that took it returns it.

use super::accept::Listener;
use super::socket::Backoff;
use super::socket::Slot;
use crate::error::Error;
use crate::sys::Interest;
use core::future::Future;
use core::task::{Context, Poll};

/// The connections a listener accepts; returned by `incoming` on the listeners.
///
/// [`poll_next`](Incoming::poll_next) has the shape of `futures::Stream::poll_next`, so an
/// adapter to any stream trait is three lines; [`next`](Incoming::next) is the async form.
/// Each item is the accepted stream (its peer's address is `stream.peer_addr()`); the
/// sequence never ends (`None` never comes), and an error item (a connection the kernel
/// could not hand over) does not end it either: the next call accepts the next connection.
///
/// Cancellation: safe; dropping a pending `next()`, or the `Incoming`, leaves queued
/// connections in the kernel for the next accept.
///
/// ```
/// use readyloop::net::{TcpListener, TcpStream};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// lp.block_on(async {
///     let server = h.spawn(async move {
///         let mut served = 0;
///         let mut incoming = listener.incoming();
///         while let Some(conn) = incoming.next().await {
///             let conn = conn.unwrap();
///             conn.send_all(b"hi").await.unwrap();
///             served += 1;
///             if served == 3 {
///                 break;
///             }
///         }
///         served
///     });
///     for _ in 0..3 {
///         let client = TcpStream::connect(&h, addr).await.unwrap();
///         let mut buf = [0u8; 2];
///         client.recv_exact(&mut buf).await.unwrap();
///     }
///     assert_eq!(server.await.unwrap(), 3);
/// });
/// ```
#[must_use = "an Incoming does nothing unless polled"]
pub struct Incoming<'a, L: Listener> {
    listener: &'a L,
    token: u64,
    backoff: Backoff,
}

impl<'a, L: Listener> Incoming<'a, L> {
    pub(crate) fn new(listener: &'a L) -> Self {
        Incoming {
            listener,
            token: 0,
            backoff: Backoff::default(),
        }
    }

    /// The next accepted connection: `Ready(Some(..))` with it (or the error of this
    /// accept), `Pending` while none is queued. Never `Ready(None)`.
    ///
    /// ```
    /// use readyloop::net::{TcpListener, TcpStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    /// let mut incoming = listener.incoming();
    /// lp.block_on(async {
    ///     let client = TcpStream::connect(&h, listener.local_addr().unwrap()).await.unwrap();
    ///     let conn = core::future::poll_fn(|cx| incoming.poll_next(cx)).await.unwrap().unwrap();
    ///     assert_eq!(conn.peer_addr().unwrap(), client.local_addr().unwrap());
    /// });
    /// ```
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<L::Stream, Error>>> {
        let socket = self.listener.socket();
        let polled = socket.poll_accept(cx, Slot::Own(&mut self.token), &mut self.backoff);
        super::accept::finish::<L>(socket, polled)
            .map(|accepted| Some(accepted.map(|(stream, _peer)| stream)))
    }

    /// Resolves to the next accepted connection (never to `None`; see the type's docs).
    ///
    /// ```
    /// use readyloop::net::{UnixListener, UnixSocketAddr, UnixStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let name = format!("readyloop-incoming-doc-{}", std::process::id());
    /// let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let listener = UnixListener::bind(&h, addr.clone()).unwrap();
    /// let mut incoming = listener.incoming();
    /// lp.block_on(async {
    ///     let _client = UnixStream::connect(&h, addr).await.unwrap();
    ///     let conn = incoming.next().await.unwrap().unwrap();
    ///     assert!(conn.peer_addr().unwrap().is_unnamed());
    /// });
    /// ```
    // The name `StreamExt::next` has, so the usual server loop reads the same here; it
    // returns a future, so it is not `Iterator::next`.
    #[allow(clippy::should_implement_trait)]
    pub fn next(
        &mut self,
    ) -> impl Future<Output = Option<Result<L::Stream, Error>>> + use<'_, 'a, L> {
        core::future::poll_fn(move |cx| self.poll_next(cx))
    }
}

impl<L: Listener> core::fmt::Debug for Incoming<'_, L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Incoming")
            .field("socket", self.listener.socket())
            .field("backing_off", &self.backoff.is_waiting())
            .finish()
    }
}

impl<L: Listener> Drop for Incoming<'_, L> {
    fn drop(&mut self) {
        let socket = self.listener.socket();
        socket.cancel(Interest::Readable, &mut self.token);
        self.backoff.cancel(socket.handle());
    }
}

/// `incoming` for a listener type.
macro_rules! incoming_method {
    ($ty:ident) => {
        impl $ty {
            /// The connections this listener accepts, one after another (see
            /// [`Incoming`](crate::net::Incoming)): `while let Some(conn) =
            /// incoming.next().await`, or `poll_next` for a stream adapter.
            ///
            /// ```
            #[doc = concat!("fn takes(l: &readyloop::net::", stringify!($ty), ") {")]
            ///     let _connections = l.incoming();
            /// }
            /// ```
            pub fn incoming(&self) -> crate::net::Incoming<'_, $ty> {
                crate::net::Incoming::new(self)
            }
        }
    };
}
