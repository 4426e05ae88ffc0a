//! `Protocol` and `create_server`: seed 003's callback-style server (asyncio's
//! `loop.create_server(EchoProtocol, host, port)`).
//!
//! `create_server` binds a TCP listener and spawns an accept loop; each accepted connection
//! gets a fresh protocol from the factory and its own task (a
//! [`Transport`](super::Transport)'s connection task) that calls the protocol as bytes
//! arrive. The protocol writes back through the `Transport` it is handed in
//! `connection_made`. Flow control (the write buffer's water marks, what pauses and what
//! is refused) is described on [`Transport`].
//!
//! This module never blocks, never lets one connection's failure stop the server, and never
//! calls a protocol from outside its connection's task.

use super::addr::ToSocketAddr;
use super::tcp_listener::TcpListener;
use super::transport::{Connection, Transport};
use crate::error::Error;
use crate::executor::Handle;
use crate::task::JoinHandle;
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::net::SocketAddr;
use core::task::Poll;
use core::time::Duration;

/// How long the accept loop waits after an accept error other than running out of fds
/// (which `accept` itself waits out), so a persistent error cannot make it spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(10);

/// The callbacks of one connection (asyncio's `Protocol`). All run on the connection's
/// task, one at a time, in this order: `connection_made`, then any number of
/// `data_received` (and `pause_writing`/`resume_writing` pairs), then at most one
/// `eof_received`, then exactly one `connection_lost`.
///
/// Only `data_received` must be written; the others default to doing nothing (and
/// `eof_received` to closing).
///
/// ```
/// use readyloop::net::{Protocol, Transport};
/// // Seed 003's EchoProtocol.
/// struct EchoProtocol {
///     transport: Option<Transport>,
/// }
/// impl Protocol for EchoProtocol {
///     fn connection_made(&mut self, transport: &Transport) {
///         println!("Connection from {}", transport.peer_addr());
///         self.transport = Some(transport.clone());
///     }
///     fn data_received(&mut self, data: &[u8]) {
///         if let Some(t) = &self.transport {
///             let _ = t.write(data);
///         }
///     }
/// }
/// ```
pub trait Protocol {
    /// The connection is up; `transport` is its handle (clone it to keep it).
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Keep(Option<Transport>);
    /// impl Protocol for Keep {
    ///     fn connection_made(&mut self, t: &Transport) { self.0 = Some(t.clone()); }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    fn connection_made(&mut self, transport: &Transport) {
        let _ = transport;
    }

    /// Bytes arrived (at most 16 KiB per call; the slice is only valid during the call).
    ///
    /// ```
    /// # use readyloop::net::Protocol;
    /// struct Count(usize);
    /// impl Protocol for Count {
    ///     fn data_received(&mut self, data: &[u8]) { self.0 += data.len(); }
    /// }
    /// ```
    fn data_received(&mut self, data: &[u8]);

    /// The peer closed its writing half. Return `false` (the default) to close the
    /// transport (after flushing what is buffered), or `true` to keep it open for writing:
    /// the protocol must then call `close` itself when it is done.
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Summary(Option<Transport>, usize);
    /// impl Protocol for Summary {
    ///     fn connection_made(&mut self, t: &Transport) { self.0 = Some(t.clone()); }
    ///     fn data_received(&mut self, data: &[u8]) { self.1 += data.len(); }
    ///     fn eof_received(&mut self) -> bool {
    ///         let t = self.0.as_ref().unwrap();
    ///         let _ = t.write(format!("got {} bytes\n", self.1).as_bytes());
    ///         t.close();
    ///         true
    ///     }
    /// }
    /// ```
    fn eof_received(&mut self) -> bool {
        false
    }

    /// The connection ended: `None` after an orderly close (`close`, EOF, `abort`),
    /// `Some(error)` when it failed (`ConnectionReset` for a peer that reset,
    /// `BrokenPipe`, `Cancelled` if its task was cancelled or the loop dropped). The
    /// socket is closed by now (with a reset whenever `error` is `Some`, so the peer never
    /// takes a cut reply for a whole one); the transport refuses writes.
    ///
    /// ```
    /// # use readyloop::net::Protocol;
    /// struct Log;
    /// impl Protocol for Log {
    ///     fn data_received(&mut self, _: &[u8]) {}
    ///     fn connection_lost(&mut self, error: Option<readyloop::Error>) {
    ///         if let Some(e) = error { eprintln!("lost: {e}"); }
    ///     }
    /// }
    /// ```
    fn connection_lost(&mut self, error: Option<Error>) {
        let _ = error;
    }

    /// The transport's write buffer went above its high-water mark: stop producing data
    /// until [`resume_writing`](Self::resume_writing). (Reading is paused meanwhile too.)
    ///
    /// ```
    /// # use readyloop::net::Protocol;
    /// struct Producer { paused: bool }
    /// impl Protocol for Producer {
    ///     fn data_received(&mut self, _: &[u8]) {}
    ///     fn pause_writing(&mut self) { self.paused = true; }
    ///     fn resume_writing(&mut self) { self.paused = false; }
    /// }
    /// ```
    fn pause_writing(&mut self) {}

    /// The write buffer fell to its low-water mark after a pause: produce again.
    ///
    /// ```
    /// # use readyloop::net::Protocol;
    /// struct P;
    /// impl Protocol for P {
    ///     fn data_received(&mut self, _: &[u8]) {}
    ///     fn resume_writing(&mut self) {}
    /// }
    /// ```
    fn resume_writing(&mut self) {}
}

/// A running server from [`create_server`] (asyncio's `Server`). Dropping it closes it
/// (like [`close`](Self::close)).
///
/// ```
/// # use readyloop::net::{create_server, Protocol};
/// # struct Null;
/// # impl Protocol for Null { fn data_received(&mut self, _: &[u8]) {} }
/// let lp = readyloop::Loop::new().unwrap();
/// let server = create_server(&lp.handle(), "127.0.0.1:0", || Null).unwrap();
/// assert!(server.is_serving());
/// server.close();
/// assert!(!server.is_serving());
/// ```
#[derive(Debug)]
pub struct Server {
    /// The bound address (with the real port).
    local: SocketAddr,
    /// The listener, shared with the accept loop; taken out (closed) by `close`.
    listener: Rc<RefCell<Option<TcpListener>>>,
    /// The accept loop's task.
    acceptor: JoinHandle<()>,
    /// How many connections are open.
    open: Rc<Cell<usize>>,
}

impl Server {
    /// The address the server listens on (the real port when bound to port 0).
    ///
    /// ```
    /// # use readyloop::net::{create_server, Protocol};
    /// # struct Null;
    /// # impl Protocol for Null { fn data_received(&mut self, _: &[u8]) {} }
    /// let lp = readyloop::Loop::new().unwrap();
    /// let server = create_server(&lp.handle(), "[::1]:0", || Null).unwrap();
    /// assert_ne!(server.local_addr().port(), 0);
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Stops accepting now: the listening socket is closed, so new clients are refused.
    /// Open connections go on until they end; those still open when the loop is dropped
    /// (a daemon's exit) are cancelled, which resets them (see
    /// [`Transport`](super::Transport#how-the-connection-ends)). Calling it again does
    /// nothing.
    ///
    /// ```
    /// # use readyloop::net::{create_server, Protocol};
    /// # struct Null;
    /// # impl Protocol for Null { fn data_received(&mut self, _: &[u8]) {} }
    /// let lp = readyloop::Loop::new().unwrap();
    /// let server = create_server(&lp.handle(), "127.0.0.1:0", || Null).unwrap();
    /// let addr = server.local_addr();
    /// server.close();
    /// assert!(std::net::TcpStream::connect(addr).is_err());
    /// ```
    pub fn close(&self) {
        drop(self.listener.borrow_mut().take());
        self.acceptor.abort();
    }

    /// Whether the server still accepts connections.
    ///
    /// ```
    /// # use readyloop::net::{create_server, Protocol};
    /// # struct Null;
    /// # impl Protocol for Null { fn data_received(&mut self, _: &[u8]) {} }
    /// let lp = readyloop::Loop::new().unwrap();
    /// let server = create_server(&lp.handle(), "127.0.0.1:0", || Null).unwrap();
    /// assert!(server.is_serving());
    /// ```
    pub fn is_serving(&self) -> bool {
        self.listener.borrow().is_some()
    }

    /// How many connections are open now (accepted, `connection_lost` not yet called).
    ///
    /// ```
    /// # use readyloop::net::{create_server, Protocol};
    /// # struct Null;
    /// # impl Protocol for Null { fn data_received(&mut self, _: &[u8]) {} }
    /// let lp = readyloop::Loop::new().unwrap();
    /// let server = create_server(&lp.handle(), "127.0.0.1:0", || Null).unwrap();
    /// assert_eq!(server.connections(), 0);
    /// ```
    pub fn connections(&self) -> usize {
        self.open.get()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close();
    }
}

/// Listens on `addr` and serves each connection with a new protocol from `factory`
/// (seed 003's `create_server`). Accepted sockets get `TCP_NODELAY`, as asyncio's
/// transports do. Each connection runs on its own task: a protocol that misbehaves, a peer
/// that resets or never reads, only affects its own connection.
///
/// Errors are the bind's: `InvalidInput` for text that is not `IP:PORT`, `AddrInUse`...
/// Serving happens while the loop runs; keep the [`Server`] (dropping it stops accepting).
///
/// ```
/// use readyloop::net::{create_server, Protocol, TcpStream, Transport};
/// struct Echo(Option<Transport>);
/// impl Protocol for Echo {
///     fn connection_made(&mut self, t: &Transport) { self.0 = Some(t.clone()); }
///     fn data_received(&mut self, data: &[u8]) {
///         let _ = self.0.as_ref().unwrap().write(data);
///     }
/// }
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let server = create_server(&h, "127.0.0.1:0", || Echo(None)).unwrap();
/// let back = lp.block_on(async {
///     let c = TcpStream::connect(&h, server.local_addr()).await.unwrap();
///     c.send_all(b"Hello").await.unwrap();
///     let mut buf = [0u8; 5];
///     c.recv_exact(&mut buf).await.unwrap();
///     buf
/// });
/// assert_eq!(&back, b"Hello");
/// ```
pub fn create_server<P, F>(
    handle: &Handle,
    addr: impl ToSocketAddr,
    mut factory: F,
) -> Result<Server, Error>
where
    P: Protocol + 'static,
    F: FnMut() -> P + 'static,
{
    let listener = TcpListener::bind(handle, addr)?;
    let local = listener.local_addr()?;
    let listener = Rc::new(RefCell::new(Some(listener)));
    let open = Rc::new(Cell::new(0));
    let acceptor = {
        let listener = listener.clone();
        let open = open.clone();
        let h = handle.clone();
        handle.spawn(async move {
            loop {
                let accepted = core::future::poll_fn(|cx| match listener.borrow().as_ref() {
                    Some(l) => l.poll_accept(cx).map(Some),
                    None => Poll::Ready(None),
                })
                .await;
                match accepted {
                    None => return,
                    Some(Ok((stream, peer))) => {
                        // Small replies leave at once; failing to set it changes only timing.
                        let _ = stream.set_nodelay(true);
                        let connection = Connection::new(stream, peer, factory(), open.clone());
                        drop(h.spawn(connection));
                    }
                    Some(Err(_)) => h.sleep(ACCEPT_ERROR_PAUSE).await,
                }
            }
        })
    };
    Ok(Server {
        local,
        listener,
        acceptor,
        open,
    })
}
