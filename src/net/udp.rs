//! `UdpSocket`: datagrams over IPv4 or IPv6, unconnected (`send_to`/`recv_from`) or
//! connected (`send`/`recv`). The methods it shares with `UnixDatagram` are written in
//! `datagram_methods.rs`; this file holds their docs and what takes an IP address: binding,
//! `connect` and sending to an address. It never blocks and never hands out a blocking fd.

use super::addr::{inet_from_kernel, ToSocketAddr};
use super::bind_options::{bind_inet, BindOptions};
use super::datagram_io::SendTo;
use super::socket::{Slot, Socket};
use crate::error::Error;
use crate::executor::Handle;
use crate::sys::net::{self as sys, Kind};
use core::net::SocketAddr;
use core::task::{Context, Poll};

/// A UDP socket. Methods take `&self`, so several tasks may send and receive at once.
///
/// ```
/// use readyloop::net::UdpSocket;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let server = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
/// let client = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
/// client.connect(server.local_addr().unwrap()).unwrap();
/// lp.block_on(async {
///     client.send(b"ping").await.unwrap();
///     let mut buf = [0u8; 64];
///     let (n, from) = server.recv_from(&mut buf).await.unwrap();
///     server.send_to(&buf[..n], from).await.unwrap();
///     let n = client.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    /// The socket and its registration.
    socket: Socket,
}

impl UdpSocket {
    /// Binds to `addr` (port 0 picks a free port).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "[::1]:0").unwrap();
    /// assert!(s.local_addr().unwrap().is_ipv6());
    /// ```
    pub fn bind(handle: &Handle, addr: impl ToSocketAddr) -> Result<UdpSocket, Error> {
        Self::bind_with(handle, addr, &BindOptions::new())
    }

    /// Binds with [`BindOptions`]: `SO_REUSEPORT` (several sockets on one port, the kernel
    /// spreading datagrams over them by sender), `SO_REUSEADDR`, `IPV6_V6ONLY`.
    /// [`bind`](Self::bind) is this with `BindOptions::new()`; a backlog is `InvalidInput`
    /// (nothing listens).
    ///
    /// ```
    /// use readyloop::net::{BindOptions, UdpSocket};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let s = UdpSocket::bind_with(&h, "[::]:0", &BindOptions::new().only_v6(false)).unwrap();
    /// let bad = UdpSocket::bind_with(&h, "127.0.0.1:0", &BindOptions::new().backlog(5));
    /// assert_eq!(bad.unwrap_err().kind(), readyloop::ErrorKind::InvalidInput);
    /// ```
    pub fn bind_with(
        handle: &Handle,
        addr: impl ToSocketAddr,
        options: &BindOptions,
    ) -> Result<UdpSocket, Error> {
        let fd = bind_inet(&addr.to_socket_addr()?, Kind::Datagram, options)?;
        Ok(Self::wrap(handle, fd))
    }

    /// Sets the default peer: `send`/`recv` then talk to it, and datagrams from other
    /// addresses are dropped by the kernel. (Immediate for UDP: nothing is sent.)
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// s.connect("127.0.0.1:9").unwrap();
    /// assert_eq!(s.peer_addr().unwrap().port(), 9);
    /// ```
    pub fn connect(&self, addr: impl ToSocketAddr) -> Result<(), Error> {
        let addr = addr.to_socket_addr()?;
        Ok(sys::connect(self.socket.fd(), &addr)?)
    }

    /// Sends one datagram to `addr`. See [`SendTo`].
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// let bad = lp.block_on(s.send_to(b"x", "nowhere")).unwrap_err();
    /// assert_eq!(bad.kind(), readyloop::ErrorKind::InvalidInput);
    /// ```
    pub fn send_to<'a>(&'a self, buf: &'a [u8], addr: impl ToSocketAddr) -> SendTo<'a, SocketAddr> {
        SendTo::new(&self.socket, buf, addr.to_socket_addr())
    }

    /// The poll form of [`send_to`](Self::send_to), on the socket's own write wait.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// let me = s.local_addr().unwrap();
    /// let n = lp.block_on(core::future::poll_fn(|cx| s.poll_send_to(cx, b"x", me))).unwrap();
    /// assert_eq!(n, 1);
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        addr: SocketAddr,
    ) -> Poll<Result<usize, Error>> {
        self.socket.poll_send_to(cx, Slot::Shared, buf, &addr)
    }
}

peek_datagram_methods!(
    UdpSocket,
    SocketAddr,
    "# let lp = readyloop::Loop::new().unwrap(); let h = lp.handle();\n\
     # let a = readyloop::net::UdpSocket::bind(&h, \"127.0.0.1:0\").unwrap();\n\
     # let b = readyloop::net::UdpSocket::bind(&h, \"127.0.0.1:0\").unwrap();\n\
     # a.connect(b.local_addr().unwrap()).unwrap();\n\
     # b.connect(a.local_addr().unwrap()).unwrap();\n\
     # lp.block_on(async {"
);

datagram_methods! {
    UdpSocket {
        addr: SocketAddr,
        family: Inet,
        from_kernel: inet_from_kernel,
    }

    /// Adopts a UDP socket made elsewhere; it must be an IP datagram socket in
    /// non-blocking mode (`NotASocket`, `InvalidInput`, `Blocking` otherwise; the fd is
    /// then closed).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// s.set_nonblocking(true).unwrap();
    /// let s = readyloop::net::UdpSocket::from_fd(&lp.handle(), s.into()).unwrap();
    /// ```
    fn from_fd;

    /// Deregisters the socket and hands back its fd (still non-blocking).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// let s = std::net::UdpSocket::from(s.into_fd());
    /// ```
    fn into_fd;

    /// Receives one datagram and its sender. See [`RecvFrom`](crate::net::RecvFrom).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// let me = s.local_addr().unwrap();
    /// lp.block_on(async {
    ///     s.send_to(b"self", me).await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(s.recv_from(&mut buf).await.unwrap(), (4, me));
    /// });
    /// ```
    fn recv_from;

    /// The poll form of [`recv_from`](Self::recv_from), on the socket's own read wait.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// let me = s.local_addr().unwrap();
    /// lp.block_on(async {
    ///     s.send_to(b"x", me).await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     let (n, _) = core::future::poll_fn(|cx| s.poll_recv_from(cx, &mut buf)).await.unwrap();
    ///     assert_eq!(n, 1);
    /// });
    /// ```
    fn poll_recv_from;

    /// Sends one datagram to the connected peer. See [`SendOnce`](crate::net::SendOnce).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// s.connect(s.local_addr().unwrap()).unwrap();
    /// assert_eq!(lp.block_on(s.send(b"hi")).unwrap(), 2);
    /// ```
    fn send;

    /// Receives one datagram from the connected peer. See [`Recv`](crate::net::Recv).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// s.connect(s.local_addr().unwrap()).unwrap();
    /// lp.block_on(async {
    ///     s.send(b"hi").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(s.recv(&mut buf).await.unwrap(), 2);
    /// });
    /// ```
    fn recv;

    /// The poll form of [`recv`](Self::recv).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// s.connect(s.local_addr().unwrap()).unwrap();
    /// lp.block_on(async {
    ///     s.send(b"hi").await.unwrap();
    ///     let mut buf = [0u8; 8];
    ///     assert_eq!(core::future::poll_fn(|cx| s.poll_recv(cx, &mut buf)).await.unwrap(), 2);
    /// });
    /// ```
    fn poll_recv;

    /// The poll form of [`send`](Self::send).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// s.connect(s.local_addr().unwrap()).unwrap();
    /// assert_eq!(lp.block_on(core::future::poll_fn(|cx| s.poll_send(cx, b"x"))).unwrap(), 1);
    /// ```
    fn poll_send;

    /// The address this socket is bound to.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// assert_ne!(s.local_addr().unwrap().port(), 0);
    /// ```
    fn local_addr;

    /// The connected peer's address (`ENOTCONN` if not connected).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// assert!(s.peer_addr().is_err());
    /// ```
    fn peer_addr;

    /// The loop this socket is registered with.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UdpSocket::bind(&lp.handle(), "127.0.0.1:0").unwrap();
    /// let _h = s.handle();
    /// ```
    fn handle;
}
