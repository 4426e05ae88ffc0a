//! `echo`: seed 003's connection handler, which receives up to a buffer's worth and sends it
//! all back until the peer closes. The accept loop that spawns it per connection lives in
//! `examples/echo_server.rs` (it owns the shutdown policy); this module never spawns,
//! closes or retries anything.

use super::stream::StreamSocket;
use super::BufferPool;
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

/// [`echo`] for a daemon with many idle connections: waits for something to receive with no
/// buffer held ([`readable`](super::TcpStream::readable)), then takes one from `pool`,
/// receives and sends back until a receive comes back short (the socket is drained), and
/// gives the buffer back before waiting again. An idle connection then costs its socket
/// and task, not a buffer: with 16 KiB buffers, ~0.5 KiB instead of ~17 KiB (bench/).
///
/// ```
/// use readyloop::net::{echo_pooled, BufferPool, UnixStream};
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let pool = BufferPool::new(16 * 1024, 8);
/// let (client, server) = UnixStream::pair(&h).unwrap();
/// let handler = h.spawn({
///     let pool = pool.clone();
///     async move { echo_pooled(&server, &pool).await }
/// });
/// lp.block_on(async {
///     client.send_all(b"Hello\n").await.unwrap();
///     client.shutdown(readyloop::net::Shutdown::Write).unwrap();
///     let mut back = Vec::new();
///     client.read_to_end(&mut back).await.unwrap();
///     assert_eq!(back, b"Hello\n");
/// });
/// assert_eq!(lp.block_on(handler).unwrap().unwrap(), 6);
/// assert_eq!(pool.free(), 1); // the one buffer used is back
/// ```
pub async fn echo_pooled<S: StreamSocket>(stream: &S, pool: &BufferPool) -> Result<u64, Error> {
    let mut total = 0u64;
    loop {
        super::Readable::new(stream.socket()).await?;
        let mut buf = pool.take();
        loop {
            let n = stream.recv(&mut buf).await?;
            if n == 0 {
                return Ok(total);
            }
            stream.send_all(&buf[..n]).await?;
            total += n as u64;
            if n < buf.len() {
                break;
            }
        }
    }
}
