//! `echo`: seed 003's connection handler, which receives up to a buffer's worth and sends it
//! all back until the peer closes. The accept loop that spawns it per connection lives in
//! `examples/echo_server.rs` (it owns the shutdown policy); this module never spawns,
//! closes or retries anything.

use super::stream::StreamSocket;
use crate::error::Error;

/// Echoes `stream` until the peer closes its writing half: receive up to `buf.len()` bytes,
/// send them all back, repeat (seed 003's `handler`). Resolves to the number of bytes
/// echoed; an error (a reset, say) ends it early. It does not close the stream: drop it
/// (as the article's `conn.close()`) or shut it down when this returns.
///
/// A peer that never reads only stalls its own echo (this task waits to send); a peer that
/// sends nothing only parks this task. Neither touches other connections.
///
/// ```
/// use readyloop::net::{echo, UnixStream};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let (client, server) = UnixStream::pair(&h).unwrap();
/// let handler = h.spawn(async move {
///     let mut buf = [0u8; 1024];
///     echo(&server, &mut buf).await
/// });
/// lp.block_on(async {
///     client.send_all(b"Hello\n").await.unwrap();
///     client.shutdown(readyloop::net::Shutdown::Write).unwrap();
///     let mut back = Vec::new();
///     client.read_to_end(&mut back).await.unwrap();
///     assert_eq!(back, b"Hello\n");
/// });
/// assert_eq!(lp.block_on(handler).unwrap().unwrap(), 6);
/// ```
pub async fn echo<S: StreamSocket>(stream: &S, buf: &mut [u8]) -> Result<u64, Error> {
    let mut total = 0u64;
    loop {
        let n = stream.recv(buf).await?;
        if n == 0 {
            return Ok(total);
        }
        stream.send_all(&buf[..n]).await?;
        total += n as u64;
    }
}
