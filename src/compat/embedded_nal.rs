//! embedded-nal-async's `TcpConnect` (and, with `std`, `Dns`) for [`Handle`], so
//! embedded HTTP and MQTT clients (reqwless, rust-mqtt) run on readyloop with the loop's
//! handle as their network stack: `HttpClient::new(&h, &h)`.
//!
//! `TcpConnect::connect` is [`TcpStream::connect`] (a non-blocking connect; the stream is
//! `embedded_io_async::Read + Write` through the `embedded-io-async` feature); `Dns` is
//! [`Handle::resolve`] (getaddrinfo on a helper thread). Reverse lookups are not offered:
//! `get_host_by_address` fails with `InvalidInput`. This file must never make a syscall
//! itself, and `TcpConnect` must build without `std`.

use crate::error::Error;
use crate::executor::Handle;
use crate::net::TcpStream;
use core::net::SocketAddr;

/// `h` is a TCP stack: each connection is a readyloop [`TcpStream`] on its loop.
///
/// ```
/// use embedded_io_async::{Read, Write};
/// use embedded_nal_async::TcpConnect;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let listener = readyloop::net::TcpListener::bind(&h, "127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// lp.block_on(async {
///     let mut conn = h.connect(addr).await.unwrap();
///     let (server, _) = listener.accept().await.unwrap();
///     conn.write_all(b"nal").await.unwrap();
///     let mut buf = [0u8; 3];
///     server.recv_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"nal");
/// });
/// ```
impl embedded_nal_async::TcpConnect for Handle {
    type Error = Error;
    type Connection<'a> = TcpStream;

    async fn connect(&self, remote: SocketAddr) -> Result<TcpStream, Error> {
        TcpStream::connect(self, remote).await
    }
}

/// `h` resolves names with [`Handle::resolve`] (the system resolver, on a helper thread).
///
/// ```
/// use embedded_nal_async::{AddrType, Dns};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let ip = lp.block_on(h.get_host_by_name("localhost", AddrType::IPv4)).unwrap();
/// assert!(ip.is_loopback());
/// ```
#[cfg(feature = "std")]
impl embedded_nal_async::Dns for Handle {
    type Error = Error;

    async fn get_host_by_name(
        &self,
        host: &str,
        addr_type: embedded_nal_async::AddrType,
    ) -> Result<core::net::IpAddr, Error> {
        use embedded_nal_async::AddrType;
        let addrs = self.resolve(host, 0).await?;
        addrs
            .iter()
            .map(|a| a.ip())
            .find(|ip| match addr_type {
                AddrType::IPv4 => ip.is_ipv4(),
                AddrType::IPv6 => ip.is_ipv6(),
                AddrType::Either => true,
            })
            .ok_or(Error::new(
                crate::ErrorKind::InvalidInput,
                "get_host_by_name: the name has no address of the asked family",
            ))
    }

    async fn get_host_by_address(
        &self,
        _addr: core::net::IpAddr,
        _result: &mut [u8],
    ) -> Result<usize, Error> {
        Err(Error::new(
            crate::ErrorKind::InvalidInput,
            "get_host_by_address: readyloop offers no reverse lookup",
        ))
    }
}
