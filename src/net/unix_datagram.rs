//! `UnixDatagram`: a Unix-domain datagram socket, bound to a path or unbound, connected or
//! not. The methods it shares with `UdpSocket` are written in `datagram_methods.rs`; this
//! file holds their docs and what is Unix's own: binding, unbound sockets, pairs, `connect`
//! and sending to a path. It never blocks and never hands out a blocking fd.

use super::addr::{unix_from_kernel, ToUnixAddr, UnixSocketAddr};
use super::datagram_io::SendTo;
use super::socket::{Slot, Socket};
use crate::error::Error;
use crate::executor::Handle;
use crate::sys::net::{self as sys, Kind};
use core::task::{Context, Poll};
use rustix::fd::AsFd;

/// A Unix-domain datagram socket. Methods take `&self`.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
/// lp.block_on(async {
///     a.send(b"one datagram").await.unwrap();
///     let mut buf = [0u8; 64];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"one datagram");
/// });
/// ```
#[derive(Debug)]
pub struct UnixDatagram {
    /// The socket and its registration.
    socket: Socket,
}

impl UnixDatagram {
    /// A socket bound to `path` (others can `send_to` it).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let name = format!("readyloop-doc-ud-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let s = readyloop::net::UnixDatagram::bind(&lp.handle(), &addr).unwrap();
    /// assert_eq!(s.local_addr().unwrap(), addr);
    /// ```
    pub fn bind(handle: &Handle, path: impl ToUnixAddr) -> Result<UnixDatagram, Error> {
        let addr = path.to_unix_addr()?;
        let fd = sys::unix_socket(Kind::Datagram)?;
        sys::bind_unix(fd.as_fd(), &addr.raw)?;
        Ok(Self::wrap(handle, fd))
    }

    /// A socket bound to nothing (it can send; replies need a bound sender).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UnixDatagram::unbound(&lp.handle()).unwrap();
    /// assert!(s.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn unbound(handle: &Handle) -> Result<UnixDatagram, Error> {
        let fd = sys::unix_socket(Kind::Datagram)?;
        Ok(Self::wrap(handle, fd))
    }

    /// A connected pair (`socketpair`).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (_a, _b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// ```
    pub fn pair(handle: &Handle) -> Result<(UnixDatagram, UnixDatagram), Error> {
        let (a, b) = sys::unix_pair(Kind::Datagram)?;
        handle.core.clock.note_pair(a.as_fd(), b.as_fd());
        Ok((Self::wrap(handle, a), Self::wrap(handle, b)))
    }

    /// Sets the default peer for `send`/`recv`.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let name = format!("readyloop-doc-udc-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let server = readyloop::net::UnixDatagram::bind(&h, &addr).unwrap();
    /// let client = readyloop::net::UnixDatagram::unbound(&h).unwrap();
    /// client.connect(&addr).unwrap();
    /// assert_eq!(client.peer_addr().unwrap(), addr);
    /// # drop(server);
    /// ```
    pub fn connect(&self, path: impl ToUnixAddr) -> Result<(), Error> {
        let addr = path.to_unix_addr()?;
        Ok(sys::connect(self.socket.fd(), &addr.raw)?)
    }

    /// Sends one datagram to `path`. See [`SendTo`].
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let name = format!("readyloop-doc-uds-{}", std::process::id());
    /// let addr = readyloop::net::UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let server = readyloop::net::UnixDatagram::bind(&h, &addr).unwrap();
    /// let client = readyloop::net::UnixDatagram::unbound(&h).unwrap();
    /// lp.block_on(async {
    ///     client.send_to(b"hey", &addr).await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let (n, from) = server.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!((&buf[..n], from.is_unnamed()), (&b"hey"[..], true));
    /// });
    /// ```
    pub fn send_to<'a>(
        &'a self,
        buf: &'a [u8],
        path: impl ToUnixAddr,
    ) -> SendTo<'a, UnixSocketAddr> {
        SendTo::new(&self.socket, buf, path.to_unix_addr())
    }

    /// The poll form of [`send_to`](Self::send_to), on the socket's own write wait.
    ///
    /// ```
    /// use readyloop::net::{UnixDatagram, UnixSocketAddr};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let name = format!("readyloop-doc-udp-{}", std::process::id());
    /// let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let _server = UnixDatagram::bind(&h, &addr).unwrap();
    /// let client = UnixDatagram::unbound(&h).unwrap();
    /// let n = lp.block_on(core::future::poll_fn(|cx| client.poll_send_to(cx, b"x", &addr)));
    /// assert_eq!(n.unwrap(), 1);
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        addr: &UnixSocketAddr,
    ) -> Poll<Result<usize, Error>> {
        self.socket.poll_send_to(cx, Slot::Shared, buf, &addr.raw)
    }
}

peek_datagram_methods!(
    UnixDatagram,
    UnixSocketAddr,
    "# let lp = readyloop::Loop::new().unwrap(); let h = lp.handle();\n\
     # let (a, b) = readyloop::net::UnixDatagram::pair(&h).unwrap();\n\
     # lp.block_on(async {"
);

datagram_methods! {
    UnixDatagram {
        addr: UnixSocketAddr,
        family: Unix,
        from_kernel: unix_from_kernel,
    }

    /// Adopts a Unix datagram socket made elsewhere; it must be non-blocking
    /// (`NotASocket`, `InvalidInput`, `Blocking` otherwise; the fd is then closed).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = std::os::unix::net::UnixDatagram::pair().unwrap();
    /// a.set_nonblocking(true).unwrap();
    /// readyloop::net::UnixDatagram::from_fd(&lp.handle(), a.into()).unwrap();
    /// ```
    fn from_fd;

    /// Deregisters the socket and hands back its fd (still non-blocking).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UnixDatagram::unbound(&lp.handle()).unwrap();
    /// let _fd: std::os::fd::OwnedFd = s.into_fd();
    /// ```
    fn into_fd;

    /// Receives one datagram and its sender's address. See [`RecvFrom`](crate::net::RecvFrom).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send(b"x").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(b.recv_from(&mut buf).await.unwrap().0, 1);
    /// });
    /// ```
    fn recv_from;

    /// The poll form of [`recv_from`](Self::recv_from), on the socket's own read wait.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send(b"x").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     core::future::poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
    /// });
    /// ```
    fn poll_recv_from;

    /// Sends one datagram to the connected peer. See [`SendOnce`](crate::net::SendOnce).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// assert_eq!(lp.block_on(a.send(b"hi")).unwrap(), 2);
    /// ```
    fn send;

    /// Receives one datagram from the connected peer. See [`Recv`](crate::net::Recv).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send(b"hi").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 2);
    /// });
    /// ```
    fn recv;

    /// The poll form of [`recv`](Self::recv).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send(b"hi").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     core::future::poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
    /// });
    /// ```
    fn poll_recv;

    /// The poll form of [`send`](Self::send).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// lp.block_on(core::future::poll_fn(|cx| a.poll_send(cx, b"x"))).unwrap();
    /// ```
    fn poll_send;

    /// This socket's address (unnamed unless bound).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// assert!(a.local_addr().unwrap().is_unnamed());
    /// ```
    fn local_addr;

    /// The connected peer's address.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// assert!(a.peer_addr().unwrap().is_unnamed());
    /// ```
    fn peer_addr;

    /// The loop this socket is registered with.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UnixDatagram::unbound(&lp.handle()).unwrap();
    /// let _h = s.handle();
    /// ```
    fn handle;
}
