//! The fault proxy (feature `testing`) between a readyloop client and readyloop's own echo
//! and Protocol servers: each fault happens (counted) and the servers lose and reorder no
//! byte under latency, bandwidth limits, short writes and stalls; the early endings
//! (half-close, reset, drop) deliver a prefix and then the ending the client expects.

use readyloop::net::{create_server, echo, Protocol, Shutdown, TcpListener, TcpStream, Transport};
use readyloop::testing::{Ending, FaultProxy, FaultSeed, Link, ProxyCounts};
use readyloop::{ErrorKind, Handle, Loop};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

/// An echo server on `h` (`net::echo` per connection); its address.
fn echo_server(h: &Handle) -> SocketAddr {
    let listener = TcpListener::bind(h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    h.spawn({
        let h = h.clone();
        async move {
            loop {
                let (conn, _) = listener.accept().await.unwrap();
                h.spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = echo(&conn, &mut buf).await;
                });
            }
        }
    });
    addr
}

struct EchoProtocol(Option<Transport>);

impl Protocol for EchoProtocol {
    fn connection_made(&mut self, transport: &Transport) {
        self.0 = Some(transport.clone());
    }
    fn data_received(&mut self, data: &[u8]) {
        if let Some(t) = &self.0 {
            t.write(data).unwrap();
        }
    }
}

/// Sends `data` through the proxy at `addr` while reading what comes back; what came back
/// (or the error that ended the reading) and the time it took.
fn exchange(lp: &Loop, addr: SocketAddr, data: Vec<u8>) -> (Vec<u8>, Option<ErrorKind>, Duration) {
    let h = lp.handle();
    let start = Instant::now();
    let (back, err) = lp
        .block_on_timeout(Duration::from_secs(20), async move {
            let client = Rc::new(TcpStream::connect(&h, addr).await.unwrap());
            let sender = h.spawn({
                let client = client.clone();
                async move {
                    // A reset or drop may end the connection midway: not this side's failure.
                    if client.send_all(&data).await.is_ok() {
                        let _ = client.shutdown(Shutdown::Write);
                    }
                }
            });
            let mut back = Vec::new();
            let mut buf = [0u8; 8192];
            let err = loop {
                match client.recv(&mut buf).await {
                    Ok(0) => break None,
                    Ok(n) => back.extend_from_slice(&buf[..n]),
                    Err(e) => break Some(e.kind()),
                }
            };
            sender.await.unwrap();
            (back, err)
        })
        .unwrap();
    (back, err, start.elapsed())
}

/// One exchange of `size` bytes with the echo server (and then the Protocol server) behind
/// a proxy with these links; checks every byte came back and returns each run's counts.
fn survives(to_server: Link, to_client: Link, size: usize) -> Vec<(ProxyCounts, Duration)> {
    let seed = FaultSeed::from_env();
    let mut runs = Vec::new();
    for protocol in [false, true] {
        let lp = Loop::new().unwrap();
        let h = lp.handle();
        let (addr, _server) = if protocol {
            let s = create_server(&h, "127.0.0.1:0", || EchoProtocol(None)).unwrap();
            (s.local_addr(), Some(s))
        } else {
            (echo_server(&h), None)
        };
        let proxy = FaultProxy::start(
            addr,
            to_server.clone(),
            to_client.clone(),
            seed.derive(protocol as u64),
        )
        .unwrap();
        let (back, err, took) = exchange(&lp, proxy.local_addr(), pattern(size));
        assert_eq!(err, None);
        assert!(
            back == pattern(size),
            "lost or reordered bytes (protocol: {protocol}): got {} of {size}",
            back.len()
        );
        runs.push((proxy.counts(), took));
    }
    runs
}

#[test]
fn short_writes_of_chosen_sizes() {
    for (c, _) in survives(
        Link::new().chunks(&[1, 2, 3]),
        Link::new().chunks(&[5]),
        30_000,
    ) {
        assert_eq!(c.to_server.bytes, 30_000);
        assert!(c.to_server.writes >= 15_000, "{c:?}");
        assert!(c.to_client.writes >= 6_000, "{c:?}");
    }
}

#[test]
fn short_writes_of_seeded_sizes() {
    for (c, _) in survives(
        Link::new().random_chunks(1, 9),
        Link::new().random_chunks(1, 9),
        20_000,
    ) {
        assert!(c.to_server.writes >= 20_000 / 9, "{c:?}");
        assert!(c.to_client.writes >= 20_000 / 9, "{c:?}");
    }
}

#[test]
fn latency_both_ways() {
    let d = Duration::from_millis(40);
    for (c, took) in survives(Link::new().latency(d), Link::new().latency(d), 1_000) {
        assert!(took >= 2 * d, "{took:?}");
        assert!(
            c.to_server.delayed >= 1 && c.to_client.delayed >= 1,
            "{c:?}"
        );
    }
}

#[test]
fn bandwidth_limit() {
    // 40,000 bytes at 200,000 bytes/s: at least 0.2 s.
    for (c, took) in survives(
        Link::new().bandwidth(200_000).chunks(&[1000]),
        Link::new(),
        40_000,
    ) {
        assert!(took >= Duration::from_millis(190), "{took:?}");
        assert!(c.to_server.throttled >= 40, "{c:?}");
    }
}

#[test]
fn stall_midway() {
    let d = Duration::from_millis(150);
    for (c, took) in survives(Link::new().stall_after(5_000, d), Link::new(), 20_000) {
        assert!(took >= d, "{took:?}");
        assert_eq!(c.to_server.stalls, 1, "{c:?}");
    }
}

/// The echo server behind a proxy whose links end early; what the client got back.
fn ended(
    to_server: Link,
    to_client: Link,
    size: usize,
) -> (Vec<u8>, Option<ErrorKind>, ProxyCounts) {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let addr = echo_server(&h);
    let proxy =
        FaultProxy::start(addr, to_server, to_client, FaultSeed::from_env().value()).unwrap();
    let (back, err, _) = exchange(&lp, proxy.local_addr(), pattern(size));
    assert!(
        pattern(size).starts_with(&back),
        "not a prefix of what was sent"
    );
    (back, err, proxy.counts())
}

#[test]
fn half_close_after_n_bytes() {
    // The server sees end-of-stream after 4,000 bytes, echoes them, and closes: the client
    // gets exactly those bytes, then end-of-stream.
    // The client sends 4 MB, far past the socket buffers: the proxy reads and discards
    // what comes after the half-close, so the client is never blocked.
    let (back, err, c) = ended(
        Link::new().end_after(4_000, Ending::HalfClose),
        Link::new(),
        4_000_000,
    );
    assert_eq!((back.len(), err), (4_000, None));
    assert_eq!(c.to_server.half_closes, 1);
}

#[test]
fn reset_after_n_bytes() {
    let (back, err, c) = ended(
        Link::new(),
        Link::new().chunks(&[100]).end_after(3_000, Ending::Reset),
        10_000,
    );
    assert_eq!(back.len(), 3_000);
    assert_eq!(err, Some(ErrorKind::ConnectionReset));
    assert_eq!(c.to_client.resets, 1);
}

#[test]
fn drop_after_n_bytes() {
    let (back, err, c) = ended(
        Link::new(),
        Link::new().chunks(&[100]).end_after(2_500, Ending::Drop),
        10_000,
    );
    assert_eq!((back.len(), err), (2_500, None));
    assert_eq!(c.to_client.drops, 1);
}

/// Counts the process's fds and threads, so it runs alone in a child process (the other
/// tests of this file open fds and threads in parallel): see the test below.
#[test]
#[ignore = "counts process-wide fds: run alone by dropping_the_proxy_ends_its_threads_and_fds"]
fn proxy_fds_and_threads_alone() {
    let threads = || std::fs::read_dir("/proc/self/task").unwrap().count();
    let threads_before = threads();
    let fds = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    let lp = Loop::new().unwrap();
    let addr = echo_server(&lp.handle());
    let before = fds();
    {
        let proxy = FaultProxy::start(
            addr,
            Link::new().latency(Duration::from_millis(5)),
            Link::new(),
            1,
        )
        .unwrap();
        let (back, _, _) = exchange(&lp, proxy.local_addr(), pattern(5_000));
        assert_eq!(back.len(), 5_000);
        assert_eq!(proxy.counts().connections, 1);
    }
    // The loop's server side closes once it sees the end; give it a turn or two.
    lp.block_on(lp.handle().sleep(Duration::from_millis(20)));
    assert!(fds() <= before + 1, "fds before {before}, after {}", fds());
    assert_eq!(threads(), threads_before, "the proxy's threads were joined");
}

#[test]
fn dropping_the_proxy_ends_its_threads_and_fds() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "proxy_fds_and_threads_alone",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("1 passed"), "{text}");
}
