//! Sockets on the loop: TCP, UDP and Unix-domain, plus seed 003's echo handler and seed
//! 004's `open_connection`.
//!
//! Every socket here owns its fd, which is always non-blocking and close-on-exec (set when
//! the socket is made, not afterwards), and is registered with one loop through a
//! [`Registration`](crate::Registration) that is dropped before the fd closes. Addresses are
//! `core::net`'s, so all of this works without `std` (Unix paths then come as bytes).
//!
//! | seed 003 / 004 (Python) | readyloop |
//! |---|---|
//! | `loop.sock_accept(sock)` | [`TcpListener::accept`] |
//! | `loop.sock_recv(conn, 1024)` | [`TcpStream::recv`] |
//! | `loop.sock_sendall(conn, msg)` | [`TcpStream::send_all`] |
//! | `handler(loop, conn)` (the echo) | [`echo`] |
//! | `loop.create_server(EchoProtocol, host, port)` | [`create_server`], [`Protocol`], [`Transport`] |
//! | `asyncio.open_connection(host, port)` | [`open_connection`] |
//! | `writer.write(b); await writer.drain()` | [`TcpStream::send_all`] |
//! | `await reader.read()` | [`TcpStream::read_to_end`] |
//!
//! ## Two ways to use a socket: futures and polls
//!
//! Each operation is written once, as a poll on the socket's
//! [`Registration`](crate::Registration): try the syscall, and only on `EAGAIN` register a
//! wait and return `Pending`. The methods that return futures (`recv`, `send_all`,
//! `accept`, ...) give each future its own wait, so several tasks may use one socket at
//! once (one reading while another writes, or two accepting). The `poll_*` methods
//! (`poll_recv`, `poll_send`, `poll_accept`, ...) use the socket's own wait per direction,
//! one task at a time: the shape `futures-io` and `embedded-io-async` adapters need. Both
//! run the same code.
//!
//! ## One server for TCP and Unix
//!
//! The operations both transports share are the methods of two sealed traits:
//! [`StreamSocket`] (`recv`, `send_all`, `shutdown`, `local_addr`, `peer_addr`, ...) and
//! [`Listener`] (`accept`, `local_addr`, ...; its `Stream` and `Addr` types name what an
//! accept gives). On a concrete type they are also inherent methods, so no import is needed;
//! they run the same code. A server written once over `L: Listener` serves either transport
//! (`examples/generic_server.rs`):
//!
//! ```
//! use readyloop::net::{Listener, StreamSocket};
//!
//! async fn serve_one<L: Listener>(listener: &L) -> readyloop::Result<()> {
//!     let (stream, _peer) = listener.accept().await?;
//!     let mut buf = [0u8; 1024];
//!     let n = stream.recv(&mut buf).await?;
//!     stream.send_all(&buf[..n]).await
//! }
//! # let lp = readyloop::Loop::new().unwrap();
//! # let h = lp.handle();
//! # let l = readyloop::net::TcpListener::bind(&h, "127.0.0.1:0").unwrap();
//! # lp.block_on(async {
//! #     let c = readyloop::net::TcpStream::connect(&h, l.local_addr().unwrap()).await.unwrap();
//! #     c.send_all(b"x").await.unwrap();
//! #     serve_one(&l).await.unwrap();
//! # });
//! ```
//!
//! ## Reading lines
//!
//! [`LineReader`] buffers a stream and gives `read_line`, `read_until` and `next_line` (the
//! `lines()` of `std`), with a bound on a line's length so a peer cannot make it grow without
//! limit. With the `futures-io` feature, `futures_util::io::BufReader::new(&stream).lines()`
//! works too (the streams and references to them implement `AsyncRead`), without that bound.
//!
//! ```
//! use readyloop::net::{LineReader, UnixStream};
//! let lp = readyloop::Loop::new().unwrap();
//! let (a, b) = UnixStream::pair(&lp.handle()).unwrap();
//! lp.block_on(async {
//!     a.send_all(b"hello\nworld\n").await.unwrap();
//!     let mut reader = LineReader::new(&b);
//!     assert_eq!(reader.next_line().await.unwrap().as_deref(), Some("hello"));
//!     assert_eq!(reader.next_line().await.unwrap().as_deref(), Some("world"));
//! });
//! ```
//!
//! ## Cancellation
//!
//! Dropping a future withdraws its wait. What that means for the data is documented on each
//! future: `Recv`, `RecvFrom`, `SendOnce`, `SendTo`, `Accept`, `Connect` and `ReadToEnd`
//! lose nothing; `RecvExact` and `SendAll` may have moved a prefix the caller cannot
//! measure.
//!
//! ## Handles
//!
//! Constructors take the [`Handle`](crate::Handle) of the loop the socket belongs to; with
//! `std`, pass `&Handle::current()` for the loop running this thread (the crate docs' API
//! guide explains the one rule).
//!
//! This module never blocks the loop, never raises `SIGPIPE` (sends use `MSG_NOSIGNAL`),
//! and never panics on bad input: a non-socket or blocking fd, an address that does not
//! parse, a port in use, a send on a shut-down stream are all error values.

#[macro_use]
mod fd_traits;
#[macro_use]
mod datagram_methods;
#[macro_use]
mod listener_methods;
#[macro_use]
mod stream_methods;
#[macro_use]
mod peek;
#[macro_use]
mod incoming;

mod accept;
mod addr;
mod bind_options;
mod buffer_pool;
mod client;
mod connect;
mod connection;
mod datagram_io;
mod echo;
mod line_reader;
mod output_buffer;
mod protocol;
mod readable;
mod server;
pub(crate) mod socket;
pub(crate) mod stream;
mod stream_io;
mod tcp_listener;
mod tcp_stream;
mod transport;
mod udp;
mod unix_datagram;
mod unix_listener;
mod unix_stream;

pub use accept::{Accept, Listener};
pub use addr::{ToSocketAddr, ToUnixAddr, UnixSocketAddr};
pub use bind_options::BindOptions;
pub use buffer_pool::{BufferPool, PooledBuffer};
pub use client::open_connection;
pub use connect::{Connect, Connectable};
pub use datagram_io::{DatagramAddr, RecvFrom, SendTo};
pub use echo::{echo, echo_pooled};
pub use incoming::Incoming;
pub use line_reader::{LineReader, Lines, DEFAULT_MAX_LINE};
pub use peek::{Peek, PeekFrom};
pub use protocol::Protocol;
pub use readable::Readable;
pub use server::{create_server, Server};
pub use stream::StreamSocket;
pub use stream_io::{ReadToEnd, Recv, RecvExact, SendAll, SendOnce};
pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use transport::Transport;
pub use udp::UdpSocket;
pub use unix_datagram::UnixDatagram;
pub use unix_listener::UnixListener;
pub use unix_stream::UnixStream;

/// The write buffer of [`Transport`], public only so a fuzz target can drive it; not part
/// of the stable API.
#[doc(hidden)]
pub mod __fuzz {
    pub use super::output_buffer::{
        Flow, OutputBuffer, DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER, HARD_LIMIT_FACTOR,
    };
}

pub use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Which half (or both) of a connection [`TcpStream::shutdown`] closes.
///
/// ```
/// use readyloop::net::{Shutdown, UnixStream};
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = UnixStream::pair(&lp.handle()).unwrap();
/// a.shutdown(Shutdown::Write).unwrap();
/// let mut buf = [0u8; 4];
/// assert_eq!(lp.block_on(b.recv(&mut buf)).unwrap(), 0); // end of file
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// No more receiving.
    Read,
    /// No more sending; the peer reads end of file once it has what was sent.
    Write,
    /// Both.
    Both,
}

/// The listen backlog [`TcpListener::bind`] and [`UnixListener::bind`] use (the kernel
/// caps it at `net.core.somaxconn`).
///
/// ```
/// assert!(readyloop::net::DEFAULT_BACKLOG >= 128);
/// ```
pub const DEFAULT_BACKLOG: u32 = 1024;
