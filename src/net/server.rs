//! `create_server` and `Server`: seed 003's callback-style server (asyncio's
//! `loop.create_server(EchoProtocol, host, port)`).
//!
//! `create_server` binds a TCP listener and spawns an accept loop; each accepted connection
//! gets a fresh [`Protocol`] from the factory and its own task (a `Connection`) that calls
//! the protocol as bytes arrive. This module never blocks, never lets one connection's
//! failure stop the server, and never calls a protocol from outside its connection's task.

use super::addr::ToSocketAddr;
use super::connection::Connection;
use super::protocol::Protocol;
use super::tcp_listener::TcpListener;
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
