//! `open_connection`: seed 004's client entry point (`asyncio.open_connection`).
//!
//! Today it takes an IP address (or `IP:PORT` text). Host names need a lookup, which blocks,
//! so it will run on the blocking pool; the one place that lookup slots in is marked below.
//! This module never blocks the loop.

use super::addr::ToSocketAddr;
use super::tcp_stream::TcpStream;
use crate::error::{Error, ErrorKind};
use crate::executor::Handle;

/// Connects to `addr` and returns the stream, ready to write (`send_all`, which is
/// `write` + `drain`) and read (`recv`, `read_to_end`).
///
/// `addr` is a `SocketAddr`, an `(IpAddr, port)` pair, or text such as `"127.0.0.1:80"`
/// or `"[::1]:8080"`. Text that does not parse is an `InvalidInput` error. Host names
/// (`"example.com:80"`) are not resolved yet and are refused with `InvalidInput` too.
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
/// });
/// ```
pub async fn open_connection(handle: &Handle, addr: impl ToSocketAddr) -> Result<TcpStream, Error> {
    let target = match addr.to_socket_addr() {
        Ok(target) => target,
        Err(not_an_ip) => {
            if addr.host_and_port().is_some() {
                // Host-name resolution (on the blocking pool) slots in here: look the host
                // up, then try each address in turn with `TcpStream::connect`.
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    "open_connection: host names are not resolved yet; give an IP address \
                     such as 127.0.0.1:80 or [::1]:80",
                ));
            }
            return Err(not_an_ip);
        }
    };
    TcpStream::connect(handle, target).await
}

/// [`open_connection`] on the loop running this thread (`std`), as `asyncio.open_connection`
/// needs no loop argument; `NoLoop` outside a running loop.
///
/// ```
/// use readyloop::net::{open_connection_current, TcpListener};
/// let lp = readyloop::Loop::new().unwrap();
/// let listener = TcpListener::bind(&lp.handle(), "127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// lp.block_on(async { open_connection_current(addr).await.unwrap() });
/// ```
#[cfg(feature = "std")]
pub async fn open_connection_current(addr: impl ToSocketAddr) -> Result<TcpStream, Error> {
    open_connection(&super::current_handle()?, addr).await
}
