//! `FaultProxy`: a TCP proxy on loopback between a client and a server that misbehaves on
//! purpose, per direction: latency, a bandwidth limit, short writes of chosen or seeded
//! sizes, a stall, then a half-close, a reset or a dropped connection after N bytes.
//!
//! It runs on its own threads with blocking std sockets, outside any loop, so the loop under
//! test sees a real peer over real sockets. Each direction of a connection is a reader
//! thread (timestamps what arrives) and a writer thread (delivers it when the latency says,
//! paced and chunked as asked), so latency never throttles throughput. It never reorders,
//! duplicates or invents a byte: everything forwarded is a prefix of what was sent.

use crate::sys::faults::SplitMix;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Instant;

/// How a direction ends early, after its byte budget.
///
/// ```
/// use readyloop::testing::{Ending, Link};
/// let cut = Link::new().end_after(1_000, Ending::Drop); // an orderly close after 1,000 bytes
/// assert_ne!(cut, Link::new());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The receiving side sees end-of-stream (`shutdown(SHUT_WR)` toward it); the other
    /// direction goes on.
    HalfClose,
    /// Both sides see `ECONNRESET`: `SO_LINGER 0`, then the connection is torn down with a
    /// reset segment at once.
    Reset,
    /// Both sides see an orderly close (FIN both ways): the connection is dropped.
    Drop,
}

/// The faults of one direction of every proxied connection.
///
/// ```
/// use core::time::Duration;
/// use readyloop::testing::{Ending, Link};
/// let link = Link::new().latency(Duration::from_millis(5)).chunks(&[1, 3]).stall_after(10, Duration::from_millis(20));
/// assert_eq!(link, Link::new().chunks(&[1, 3]).latency(Duration::from_millis(5)).stall_after(10, Duration::from_millis(20)));
/// let _ = Link::new().end_after(100, Ending::Reset);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    latency: Duration,
    bytes_per_sec: Option<u64>,
    chunks: Vec<usize>,
    random_chunks: Option<(usize, usize)>,
    stall: Option<(u64, Duration)>,
    end: Option<(u64, Ending)>,
}

impl Link {
    /// A link that forwards everything at once.
    ///
    /// ```
    /// assert_eq!(readyloop::testing::Link::new(), Default::default());
    /// ```
    pub fn new() -> Link {
        Link::default()
    }

    /// Each byte arrives no sooner than `d` after the proxy read it.
    ///
    /// ```
    /// let _ = readyloop::testing::Link::new().latency(core::time::Duration::from_millis(10));
    /// ```
    pub fn latency(mut self, d: Duration) -> Link {
        self.latency = d;
        self
    }

    /// At most `bytes_per_sec` bytes a second (0 is taken as 1).
    ///
    /// ```
    /// let _ = readyloop::testing::Link::new().bandwidth(64 * 1024);
    /// ```
    pub fn bandwidth(mut self, bytes_per_sec: u64) -> Link {
        self.bytes_per_sec = Some(bytes_per_sec.max(1));
        self
    }

    /// Writes in pieces of these sizes, cycled (`[1]` sends byte by byte); a size of 0 is
    /// taken as 1. Each piece is its own `write` with `TCP_NODELAY`.
    ///
    /// ```
    /// let _ = readyloop::testing::Link::new().chunks(&[1, 2, 7]);
    /// ```
    pub fn chunks(mut self, sizes: &[usize]) -> Link {
        self.chunks = sizes.iter().map(|&s| s.max(1)).collect();
        self
    }

    /// Writes in pieces of sizes drawn from the proxy's seed in `min..=max`.
    ///
    /// ```
    /// let _ = readyloop::testing::Link::new().random_chunks(1, 16);
    /// ```
    pub fn random_chunks(mut self, min: usize, max: usize) -> Link {
        let min = min.max(1);
        self.random_chunks = Some((min, max.max(min)));
        self
    }

    /// Once `after` bytes have gone through, forwards nothing for `d` (once per
    /// connection), then goes on.
    ///
    /// ```
    /// let _ = readyloop::testing::Link::new().stall_after(0, core::time::Duration::from_millis(50));
    /// ```
    pub fn stall_after(mut self, after: u64, d: Duration) -> Link {
        self.stall = Some((after, d));
        self
    }

    /// Forwards `after` bytes, then ends this direction as `how` says (after a half-close,
    /// what the sender still sends is read and discarded).
    ///
    /// ```
    /// use readyloop::testing::{Ending, Link};
    /// let _ = Link::new().end_after(0, Ending::HalfClose);
    /// ```
    pub fn end_after(mut self, after: u64, how: Ending) -> Link {
        self.end = Some((after, how));
        self
    }
}

/// What one direction of a proxy has done, over all its connections.
///
/// ```
/// use readyloop::testing::{FaultProxy, Link};
/// let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let proxy = FaultProxy::start(server.local_addr().unwrap(), Link::new(), Link::new(), 0).unwrap();
/// let to_server = proxy.counts().to_server;
/// assert_eq!((to_server.bytes, to_server.writes, to_server.resets), (0, 0, 0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkCounts {
    /// Bytes forwarded.
    pub bytes: u64,
    /// `write` calls made to forward them.
    pub writes: u64,
    /// Pieces held back for latency (delivered later than they arrived).
    pub delayed: u64,
    /// Writes paced by the bandwidth limit.
    pub throttled: u64,
    /// Stalls made.
    pub stalls: u64,
    /// Half-closes made.
    pub half_closes: u64,
    /// Resets made.
    pub resets: u64,
    /// Connections dropped.
    pub drops: u64,
}

/// Everything a proxy has done.
///
/// ```
/// use readyloop::testing::{FaultProxy, Link};
/// let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let proxy = FaultProxy::start(server.local_addr().unwrap(), Link::new(), Link::new(), 0).unwrap();
/// let _client = std::net::TcpStream::connect(proxy.local_addr()).unwrap();
/// let _ = server.accept().unwrap(); // the proxy's own connection upstream
/// assert_eq!(proxy.counts().connections, 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyCounts {
    /// Client connections accepted.
    pub connections: u64,
    /// Client to server.
    pub to_server: LinkCounts,
    /// Server to client.
    pub to_client: LinkCounts,
}

#[derive(Default)]
struct AtomicLink {
    bytes: AtomicU64,
    writes: AtomicU64,
    delayed: AtomicU64,
    throttled: AtomicU64,
    stalls: AtomicU64,
    half_closes: AtomicU64,
    resets: AtomicU64,
    drops: AtomicU64,
}

impl AtomicLink {
    fn snapshot(&self) -> LinkCounts {
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        LinkCounts {
            bytes: r(&self.bytes),
            writes: r(&self.writes),
            delayed: r(&self.delayed),
            throttled: r(&self.throttled),
            stalls: r(&self.stalls),
            half_closes: r(&self.half_closes),
            resets: r(&self.resets),
            drops: r(&self.drops),
        }
    }
}

fn bump(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    connections: AtomicU64,
    to_server: AtomicLink,
    to_client: AtomicLink,
    /// Every proxied socket, so dropping the proxy can shut them and end its threads.
    sockets: Mutex<Vec<TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// A TCP proxy on `127.0.0.1` in front of `upstream`, with faults per direction.
///
/// Point the client at [`local_addr`](Self::local_addr); each connection it makes is
/// forwarded to `upstream` on a new connection. Everything seeded (random chunk sizes)
/// draws from `seed`, one stream per connection in accept order. Dropping the proxy closes
/// every connection and joins its threads.
///
/// ```
/// use readyloop::testing::{FaultProxy, Link};
/// use std::io::{Read, Write};
/// let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let proxy = FaultProxy::start(server.local_addr().unwrap(), Link::new().chunks(&[1]), Link::new(), 1).unwrap();
/// let mut client = std::net::TcpStream::connect(proxy.local_addr()).unwrap();
/// client.write_all(b"abc").unwrap();
/// let (mut conn, _) = server.accept().unwrap();
/// let mut got = [0u8; 3];
/// conn.read_exact(&mut got).unwrap();
/// assert_eq!(&got, b"abc");
/// assert_eq!(proxy.counts().to_server.writes, 3);
/// ```
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl core::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("counts", &self.counts())
            .finish()
    }
}

impl FaultProxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream`: `to_server` applies to what the
    /// client sends, `to_client` to what the server answers.
    ///
    /// ```
    /// use readyloop::testing::{FaultProxy, Link};
    /// let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let proxy = FaultProxy::start(server.local_addr().unwrap(), Link::new(), Link::new(), 0).unwrap();
    /// assert!(proxy.local_addr().ip().is_loopback());
    /// ```
    pub fn start(
        upstream: SocketAddr,
        to_server: Link,
        to_client: Link,
        seed: u64,
    ) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("readyloop-fault-proxy".into())
                .spawn(move || {
                    accept_loop(listener, upstream, to_server, to_client, seed, shared)
                })?
        };
        Ok(FaultProxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// Where clients connect.
    ///
    /// ```
    /// # use readyloop::testing::{FaultProxy, Link};
    /// # let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let proxy = FaultProxy::start(server.local_addr().unwrap(), Link::new(), Link::new(), 0).unwrap();
    /// assert_ne!(proxy.local_addr().port(), 0);
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// What it has done so far.
    ///
    /// ```
    /// # use readyloop::testing::{FaultProxy, Link};
    /// # let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let proxy = FaultProxy::start(server.local_addr().unwrap(), Link::new(), Link::new(), 0).unwrap();
    /// assert_eq!(proxy.counts().connections, 0);
    /// ```
    pub fn counts(&self) -> ProxyCounts {
        ProxyCounts {
            connections: self.shared.connections.load(Ordering::Relaxed),
            to_server: self.shared.to_server.snapshot(),
            to_client: self.shared.to_client.snapshot(),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the blocking accept; it sees `stop` and returns.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
        for s in lock(&self.shared.sockets).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        let threads: Vec<_> = lock(&self.shared.threads).drain(..).collect();
        for t in threads {
            let _ = t.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    to_server: Link,
    to_client: Link,
    seed: u64,
    shared: Arc<Shared>,
) {
    let mut nth = 0u64;
    for client in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        // Counted on accept, before the upstream connect: a test that has seen the server
        // accept the proxy's connection must already see it counted.
        bump(&shared.connections, 1);
        let Ok(server) = TcpStream::connect(upstream) else {
            // Nothing upstream: the client sees its connection closed.
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let conn_seed = SplitMix::new(seed ^ nth.wrapping_mul(0x9E37_79B9)).next_u64();
        nth += 1;
        let ends = [client, server];
        {
            let mut socks = lock(&shared.sockets);
            for s in &ends {
                if let Ok(c) = s.try_clone() {
                    socks.push(c);
                }
            }
        }
        let [client, server] = ends;
        let started = pump(
            &client,
            &server,
            to_server.clone(),
            conn_seed,
            true,
            &shared,
        )
        .and_then(|()| {
            pump(
                &server,
                &client,
                to_client.clone(),
                !conn_seed,
                false,
                &shared,
            )
        });
        if started.is_err() {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }
}

/// What a reader thread hands its writer.
enum Piece {
    Data(Instant, Vec<u8>),
    End,
}

/// Starts the two threads of one direction, `from` to `to`.
fn pump(
    from: &TcpStream,
    to: &TcpStream,
    link: Link,
    seed: u64,
    upstream: bool,
    shared: &Arc<Shared>,
) -> std::io::Result<()> {
    let (tx, rx) = mpsc::channel::<Piece>();
    let mut reader = from.try_clone()?;
    let read_thread = std::thread::Builder::new()
        .name("readyloop-fault-proxy-read".into())
        .spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(Piece::End);
                        return;
                    }
                    Ok(n) => {
                        if tx
                            .send(Piece::Data(Instant::now(), buf[..n].to_vec()))
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            }
        })?;
    let writer = Writer {
        from: from.try_clone()?,
        to: to.try_clone()?,
        link,
        rng: SplitMix::new(seed),
        shared: shared.clone(),
        upstream,
        sent: 0,
        next_chunk: 0,
        stalled: false,
    };
    let write_thread = std::thread::Builder::new()
        .name("readyloop-fault-proxy-write".into())
        .spawn(move || writer.run(rx))?;
    let mut threads = lock(&shared.threads);
    threads.push(read_thread);
    threads.push(write_thread);
    Ok(())
}

/// The writing half of one direction: applies the link's faults in order.
struct Writer {
    from: TcpStream,
    to: TcpStream,
    link: Link,
    rng: SplitMix,
    shared: Arc<Shared>,
    upstream: bool,
    sent: u64,
    next_chunk: usize,
    stalled: bool,
}

impl Writer {
    fn counts(&self) -> &AtomicLink {
        if self.upstream {
            &self.shared.to_server
        } else {
            &self.shared.to_client
        }
    }

    fn run(mut self, rx: mpsc::Receiver<Piece>) {
        if self.try_end() {
            return self.discard(rx);
        }
        while let Ok(piece) = rx.recv() {
            let Piece::Data(arrived, data) = piece else {
                // End of stream (or an error) upstream of this direction: pass it on.
                let _ = self.to.shutdown(Shutdown::Write);
                return;
            };
            let due = arrived + self.link.latency;
            let now = Instant::now();
            if due > now {
                bump(&self.counts().delayed, 1);
                std::thread::sleep(due - now);
            }
            let mut rest = &data[..];
            while !rest.is_empty() {
                if self.try_end() {
                    return self.discard(rx);
                }
                self.maybe_stall();
                let mut n = self.chunk_size().min(rest.len());
                if let Some((limit, _)) = self.link.end {
                    n = n.min((limit - self.sent) as usize);
                }
                if let Some((at, _)) = self.link.stall.filter(|_| !self.stalled) {
                    if at > self.sent {
                        n = n.min((at - self.sent) as usize);
                    }
                }
                // Counted before the write, so a peer that has read these bytes sees them
                // counted; a failed write takes its count back.
                bump(&self.counts().bytes, n as u64);
                bump(&self.counts().writes, 1);
                if self.to.write_all(&rest[..n]).is_err() {
                    self.counts().bytes.fetch_sub(n as u64, Ordering::Relaxed);
                    self.counts().writes.fetch_sub(1, Ordering::Relaxed);
                    let _ = self.from.shutdown(Shutdown::Read);
                    return;
                }
                self.sent += n as u64;
                rest = &rest[n..];
                if let Some(bps) = self.link.bytes_per_sec {
                    bump(&self.counts().throttled, 1);
                    std::thread::sleep(Duration::from_nanos(
                        (n as u64).saturating_mul(1_000_000_000) / bps,
                    ));
                }
            }
            if self.try_end() {
                return self.discard(rx);
            }
        }
    }

    /// After a half-close, reads on and discards what the sender still sends, so it is
    /// never blocked on a full buffer; returns at its end of stream. After a reset or a
    /// drop the reader has already ended.
    fn discard(&self, rx: mpsc::Receiver<Piece>) {
        if matches!(self.link.end, Some((_, Ending::HalfClose))) {
            while let Ok(Piece::Data(..)) = rx.recv() {}
        }
    }

    fn chunk_size(&mut self) -> usize {
        if let Some((lo, hi)) = self.link.random_chunks {
            return self.rng.between(lo, hi);
        }
        if self.link.chunks.is_empty() {
            return usize::MAX;
        }
        let n = self.link.chunks[self.next_chunk % self.link.chunks.len()];
        self.next_chunk += 1;
        n
    }

    fn maybe_stall(&mut self) {
        if let Some((at, d)) = self.link.stall {
            if !self.stalled && self.sent >= at {
                self.stalled = true;
                bump(&self.counts().stalls, 1);
                std::thread::sleep(d);
            }
        }
    }

    /// Ends the direction if its budget is spent; whether it did.
    fn try_end(&mut self) -> bool {
        let Some((limit, how)) = self.link.end else {
            return false;
        };
        if self.sent < limit {
            return false;
        }
        match how {
            Ending::HalfClose => {
                bump(&self.counts().half_closes, 1);
                let _ = self.to.shutdown(Shutdown::Write);
            }
            Ending::Reset => {
                bump(&self.counts().resets, 1);
                for s in [&self.from, &self.to] {
                    reset(s);
                }
            }
            Ending::Drop => {
                bump(&self.counts().drops, 1);
                let _ = self.from.shutdown(Shutdown::Both);
                let _ = self.to.shutdown(Shutdown::Both);
            }
        }
        true
    }
}

/// Resets the connection now: `SO_LINGER 0` (what a close with the last fd would send), then
/// a disconnect (`connect(AF_UNSPEC)`), which sends the reset at once even though the
/// proxy's other threads still hold copies of the fd.
fn reset(s: &TcpStream) {
    use rustix::fd::AsFd;
    let _ = crate::sys::net::set_linger(s.as_fd(), Some(Duration::ZERO));
    let _ = crate::sys::net::disconnect(s.as_fd());
    let _ = s.shutdown(Shutdown::Both);
}
