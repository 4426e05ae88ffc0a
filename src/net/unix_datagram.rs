//! `UnixDatagram`: a Unix-domain datagram socket, bound to a path or unbound, connected or
//! not. It never blocks and never hands out a blocking fd.

use super::addr::{unix_from_kernel, ToUnixAddr, UnixSocketAddr};
use super::datagram_io::{poll_recv_from, RecvFrom, SendTo};
use super::socket::{Slot, Socket};
use super::stream_io::{Recv, SendOnce};
use crate::error::Error;
use crate::executor::Handle;
use crate::sys::net::{self as sys, Family, Kind};
use core::task::{Context, Poll};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

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
        Ok(UnixDatagram {
            socket: Socket::new(handle, fd),
        })
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
        Ok(UnixDatagram {
            socket: Socket::new(handle, fd),
        })
    }

    /// A connected pair (`socketpair`).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (_a, _b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// ```
    pub fn pair(handle: &Handle) -> Result<(UnixDatagram, UnixDatagram), Error> {
        let (a, b) = sys::unix_pair(Kind::Datagram)?;
        Ok((
            UnixDatagram {
                socket: Socket::new(handle, a),
            },
            UnixDatagram {
                socket: Socket::new(handle, b),
            },
        ))
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
    pub fn from_fd(handle: &Handle, fd: OwnedFd) -> Result<UnixDatagram, Error> {
        sys::check_adopted(fd.as_fd(), Family::Unix, Kind::Datagram)?;
        Ok(UnixDatagram {
            socket: Socket::new(handle, fd),
        })
    }

    /// Deregisters the socket and hands back its fd (still non-blocking).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UnixDatagram::unbound(&lp.handle()).unwrap();
    /// let _fd: std::os::fd::OwnedFd = s.into_fd();
    /// ```
    pub fn into_fd(self) -> OwnedFd {
        self.socket.into_fd()
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

    /// Receives one datagram and its sender's address. See [`RecvFrom`].
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
    pub fn recv_from<'a>(&'a self, buf: &'a mut [u8]) -> RecvFrom<'a, UnixSocketAddr> {
        RecvFrom::new(&self.socket, buf)
    }

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
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<(usize, UnixSocketAddr), Error>> {
        poll_recv_from(&self.socket, cx, Slot::Shared, buf)
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

    /// Sends one datagram to the connected peer. See [`SendOnce`].
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// assert_eq!(lp.block_on(a.send(b"hi")).unwrap(), 2);
    /// ```
    pub fn send<'a>(&'a self, buf: &'a [u8]) -> SendOnce<'a> {
        SendOnce::new(&self.socket, buf)
    }

    /// Receives one datagram from the connected peer. See [`Recv`].
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
    pub fn recv<'a>(&'a self, buf: &'a mut [u8]) -> Recv<'a> {
        Recv::new(&self.socket, buf)
    }

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
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize, Error>> {
        self.socket.poll_recv(cx, Slot::Shared, buf)
    }

    /// The poll form of [`send`](Self::send).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// lp.block_on(core::future::poll_fn(|cx| a.poll_send(cx, b"x"))).unwrap();
    /// ```
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize, Error>> {
        self.socket.poll_send(cx, Slot::Shared, buf)
    }

    /// This socket's address (unnamed unless bound).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// assert!(a.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn local_addr(&self) -> Result<UnixSocketAddr, Error> {
        unix_from_kernel(Some(sys::local_addr(self.socket.fd())?))
    }

    /// The connected peer's address.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixDatagram::pair(&lp.handle()).unwrap();
    /// assert!(a.peer_addr().unwrap().is_unnamed());
    /// ```
    pub fn peer_addr(&self) -> Result<UnixSocketAddr, Error> {
        unix_from_kernel(Some(sys::peer_addr(self.socket.fd())?))
    }

    /// The loop this socket is registered with.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let s = readyloop::net::UnixDatagram::unbound(&lp.handle()).unwrap();
    /// let _h = s.handle();
    /// ```
    pub fn handle(&self) -> &Handle {
        self.socket.handle()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.fd().as_raw_fd()
    }
}
