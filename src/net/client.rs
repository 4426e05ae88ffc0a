//! `open_connection`: seed 004's client entry point (`asyncio.open_connection`).
//!
//! It takes an IP address, `IP:PORT` text, or (with `std`) `HOST:PORT` text whose host is
//! looked up with `Handle::resolve` on the loop's blocking pool;
//! then each address is tried in the resolver's order. This module never blocks the loop.

use super::addr::ToSocketAddr;
use super::tcp_stream::TcpStream;
use crate::error::{Error, ErrorKind};
use crate::executor::Handle;

/// Connects to `addr` and returns the stream, ready to write (`send_all`, which is
/// `write` + `drain`) and read (`recv`, `read_to_end`).
///
/// `addr` is a `SocketAddr`, an `(IpAddr, port)` pair, or text such as `"127.0.0.1:80"`,
/// `"[::1]:8080"` or, with `std`, `"localhost:8080"` (looked up on the loop's blocking pool,
/// then each address tried in turn; the last failure is returned). Text that is none of
/// these is an `InvalidInput` error; without `std`, so is a host name.
///
/// ```
/// use readyloop::net::{open_connection, TcpListener};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap().to_string();
/// lp.block_on(async {
///     let stream = open_connection(&h, addr.as_str()).await.unwrap();
///     stream.send_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
///     let (server_side, _) = listener.accept().await.unwrap();
///     let mut request = [0u8; 18];
///     server_side.recv_exact(&mut request).await.unwrap();
///     let bad = open_connection(&h, "not an address").await.unwrap_err();
///     assert_eq!(bad.kind(), readyloop::ErrorKind::InvalidInput);
///     let port = listener.local_addr().unwrap().port();
///     let by_name = open_connection(&h, format!("localhost:{port}")).await;
///     # drop(by_name); // ::1 may be tried first and refused; 127.0.0.1 then answers
/// });
/// ```
pub async fn open_connection(handle: &Handle, addr: impl ToSocketAddr) -> Result<TcpStream, Error> {
    match addr.to_socket_addr() {
        Ok(target) => TcpStream::connect(handle, target).await,
        Err(not_an_ip) => match addr.host_and_port() {
            Some((host, port)) => connect_by_name(handle, host, port).await,
            None => Err(not_an_ip),
        },
    }
}

/// Looks `host` up on the blocking pool and connects to the first address that answers.
#[cfg(feature = "std")]
async fn connect_by_name(handle: &Handle, host: &str, port: u16) -> Result<TcpStream, Error> {
    let mut last = Error::new(
        ErrorKind::AddrNotAvailable,
        "open_connection: the host name resolved to no address",
    );
    for target in handle.resolve(host, port).await? {
        match TcpStream::connect(handle, target).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Without `std` there is no resolver (no threads, no `getaddrinfo`).
#[cfg(not(feature = "std"))]
async fn connect_by_name(_: &Handle, _: &str, _: u16) -> Result<TcpStream, Error> {
    Err(Error::new(
        ErrorKind::InvalidInput,
        "open_connection: host names need the std feature (a resolver); give an IP address \
         such as 127.0.0.1:80 or [::1]:80",
    ))
}
