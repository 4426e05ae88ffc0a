//! TCP on 127.0.0.1 and ::1: the echo server under 1,000 concurrent clients, a 64 MiB
//! transfer checked by hash, half-close, a peer reset mid-transfer, a refused connect, several
//! tasks on one socket, the poll methods, and cancellation of `recv`.

mod common;

use common::{serve_tcp_echo, within, Fnv, Pattern};
use readyloop::net::{Shutdown, TcpListener, TcpStream};
use readyloop::{ErrorKind, Loop};
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

const V4: &str = "127.0.0.1:0";
const V6: &str = "[::1]:0";

fn round_trip(bind: &str) {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, bind).unwrap();
    let addr = listener.local_addr().unwrap();
    let _server = serve_tcp_echo(&h, listener, 1024);
    lp.block_on(within(&h, Duration::from_secs(10), "round trip", async {
        let s = TcpStream::connect(&h, addr).await.unwrap();
        assert_eq!(s.peer_addr().unwrap(), addr);
        s.send_all(b"Hello\n").await.unwrap();
        let mut buf = [0u8; 6];
        s.recv_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"Hello\n");
    }));
}

#[test]
fn round_trip_v4() {
    round_trip(V4);
}

#[test]
fn round_trip_v6() {
    round_trip(V6);
}

fn thousand_clients(bind: &str) {
    common::raise_fd_limit(8192);
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, bind).unwrap();
    let addr = listener.local_addr().unwrap();
    let (_server, outcomes) = serve_tcp_echo(&h, listener, 1024);
    let clients = 1000;
    let start = Instant::now();
    lp.block_on(within(&h, Duration::from_secs(60), "1000 clients", async {
        let mut tasks = Vec::new();
        for i in 0..clients {
            let h2 = h.clone();
            tasks.push(h.spawn(async move {
                let s = TcpStream::connect(&h2, addr).await.unwrap();
                let msg = format!(
                    "client {i} says hello, and says it at some length {}",
                    "!".repeat(i % 200)
                );
                s.send_all(msg.as_bytes()).await.unwrap();
                s.shutdown(Shutdown::Write).unwrap();
                let mut back = Vec::new();
                s.read_to_end(&mut back).await.unwrap();
                assert_eq!(back, msg.as_bytes());
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // Every handler saw its EOF and finished cleanly.
        while outcomes.borrow().len() < clients {
            h.sleep(Duration::from_millis(1)).await;
        }
    }));
    assert!(outcomes.borrow().iter().all(|r| r.is_ok()));
    eprintln!(
        "{clients} concurrent echo clients on {bind}: {:?}",
        start.elapsed()
    );
}

#[test]
fn thousand_concurrent_clients_v4() {
    thousand_clients(V4);
}

#[test]
fn thousand_concurrent_clients_v6() {
    thousand_clients(V6);
}

/// 64 MiB; 8 MiB under valgrind (where 64 MiB take 20 s), still far more than the kernel
/// buffers and the 64 KiB echo buffer.
fn big() -> usize {
    common::sized(64 << 20, 8 << 20)
}

/// Sends 64 MiB through the echo server while reading the echo back, comparing hashes.
fn big_transfer(bind: &str) {
    let big = big();
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, bind).unwrap();
    let addr = listener.local_addr().unwrap();
    let _server = serve_tcp_echo(&h, listener, 64 * 1024);
    let start = Instant::now();
    let (sent, got) = lp.block_on(within(&h, Duration::from_secs(120), "64 MiB", async {
        let s = Rc::new(TcpStream::connect(&h, addr).await.unwrap());
        let writer = h.spawn({
            let s = s.clone();
            async move {
                let mut pattern = Pattern::new(42);
                let mut hash = Fnv::default();
                let mut chunk = vec![0u8; 256 * 1024];
                let mut left = big;
                while left > 0 {
                    let n = left.min(chunk.len());
                    pattern.fill(&mut chunk[..n]);
                    hash.update(&chunk[..n]);
                    s.send_all(&chunk[..n]).await.unwrap();
                    left -= n;
                }
                s.shutdown(Shutdown::Write).unwrap();
                hash
            }
        });
        let mut hash = Fnv::default();
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0;
        loop {
            let n = s.recv(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            total += n;
        }
        assert_eq!(total, big);
        (writer.await.unwrap(), hash)
    }));
    assert_eq!(sent, got);
    eprintln!(
        "{} MiB echoed on {bind} in {:?}",
        big >> 20,
        start.elapsed()
    );
}

#[test]
fn transfer_64mib_v4() {
    big_transfer(V4);
}

#[test]
fn transfer_64mib_v6() {
    big_transfer(V6);
}

/// The client shuts its writing half; the echo of everything still arrives, then EOF.
fn half_close(bind: &str) {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, bind).unwrap();
    let addr = listener.local_addr().unwrap();
    let (_server, outcomes) = serve_tcp_echo(&h, listener, 1024);
    lp.block_on(within(&h, Duration::from_secs(20), "half-close", async {
        let s = Rc::new(TcpStream::connect(&h, addr).await.unwrap());
        let mut data = vec![0u8; 3 << 20];
        Pattern::new(7).fill(&mut data);
        let data = Rc::new(data);
        let writer = h.spawn({
            let (s, data) = (s.clone(), data.clone());
            async move {
                s.send_all(&data).await.unwrap();
                s.shutdown(Shutdown::Write).unwrap();
            }
        });
        let mut back = Vec::new();
        s.read_to_end(&mut back).await.unwrap();
        writer.await.unwrap();
        assert!(back == *data, "echo differs after half-close");
        // A second read still says EOF.
        let mut buf = [0u8; 8];
        assert_eq!(s.recv(&mut buf).await.unwrap(), 0);
        while outcomes.borrow().is_empty() {
            h.sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(outcomes.borrow()[0].unwrap(), (3 << 20) as u64);
    }));
}

#[test]
fn half_close_v4() {
    half_close(V4);
}

#[test]
fn half_close_v6() {
    half_close(V6);
}

/// A client that sends a lot, never reads, then resets: its handler ends with
/// ConnectionReset, and the server goes on serving others.
fn reset_mid_transfer(bind: &str) {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, bind).unwrap();
    let addr = listener.local_addr().unwrap();
    let (_server, outcomes) = serve_tcp_echo(&h, listener, 1024);
    lp.block_on(within(&h, Duration::from_secs(20), "reset", async {
        let rude = Rc::new(TcpStream::connect(&h, addr).await.unwrap());
        // Fill both directions until the echo stalls on our unread data.
        let pusher = h.spawn({
            let rude = rude.clone();
            async move {
                let chunk = vec![1u8; 64 * 1024];
                loop {
                    if rude.send_all(&chunk).await.is_err() {
                        break;
                    }
                }
            }
        });
        h.sleep(Duration::from_millis(200)).await;
        pusher.abort();
        let _ = pusher.await;
        rude.set_linger(Some(Duration::ZERO)).unwrap();
        drop(Rc::try_unwrap(rude).expect("only owner"));
        while outcomes.borrow().is_empty() {
            h.sleep(Duration::from_millis(1)).await;
        }
        let first = outcomes.borrow()[0];
        assert_eq!(
            first.unwrap_err().kind(),
            ErrorKind::ConnectionReset,
            "{first:?}"
        );
        // The server still serves.
        let polite = TcpStream::connect(&h, addr).await.unwrap();
        polite.send_all(b"still there?").await.unwrap();
        let mut buf = [0u8; 12];
        polite.recv_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"still there?");
    }));
}

#[test]
fn reset_mid_transfer_v4() {
    reset_mid_transfer(V4);
}

#[test]
fn reset_mid_transfer_v6() {
    reset_mid_transfer(V6);
}

fn refused(bind: &str) {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let addr = TcpListener::bind(&h, bind).unwrap().local_addr().unwrap();
    // The listener is gone: nothing listens on that port now.
    let start = Instant::now();
    let err = lp
        .block_on(within(
            &h,
            Duration::from_secs(5),
            "refused",
            TcpStream::connect(&h, addr),
        ))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn connect_refused_promptly_v4() {
    refused(V4);
}

#[test]
fn connect_refused_promptly_v6() {
    refused(V6);
}

/// One task receives while another sends on the same stream, and two tasks accept on one
/// listener at once: each future keeps its own wait.
#[test]
fn several_tasks_on_one_socket() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = Rc::new(TcpListener::bind(&h, V4).unwrap());
    let addr = listener.local_addr().unwrap();
    lp.block_on(within(
        &h,
        Duration::from_secs(10),
        "shared socket",
        async {
            let acceptors: Vec<_> = (0..2)
                .map(|_| {
                    let l = listener.clone();
                    h.spawn(async move { l.accept().await.unwrap().0 })
                })
                .collect();
            let c1 = Rc::new(TcpStream::connect(&h, addr).await.unwrap());
            let c2 = TcpStream::connect(&h, addr).await.unwrap();
            let mut servers = Vec::new();
            for a in acceptors {
                servers.push(a.await.unwrap());
            }
            // Find which accepted stream is c1's peer.
            let c1_local = c1.local_addr().unwrap();
            let s1 = servers
                .into_iter()
                .find(|s| s.peer_addr().unwrap() == c1_local)
                .unwrap();
            let reader = h.spawn({
                let c1 = c1.clone();
                async move {
                    let mut got = Vec::new();
                    c1.read_to_end(&mut got).await.unwrap();
                    got
                }
            });
            let writer = h.spawn({
                let c1 = c1.clone();
                async move {
                    c1.send_all(&[9u8; 500_000]).await.unwrap();
                    c1.shutdown(Shutdown::Write).unwrap();
                }
            });
            let mut received = Vec::new();
            s1.read_to_end(&mut received).await.unwrap();
            assert_eq!(received.len(), 500_000);
            s1.send_all(b"bye").await.unwrap();
            drop(s1);
            writer.await.unwrap();
            assert_eq!(reader.await.unwrap(), b"bye");
            drop(c2);
        },
    ));
}

/// The poll methods and the futures share one code path: an echo written with poll_recv /
/// poll_send only.
#[test]
fn poll_methods_echo() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, V6).unwrap();
    let addr = listener.local_addr().unwrap();
    lp.block_on(within(&h, Duration::from_secs(10), "poll echo", async {
        let server = h.spawn(async move {
            let (s, _) = std::future::poll_fn(|cx| listener.poll_accept(cx))
                .await
                .unwrap();
            let mut buf = [0u8; 100];
            loop {
                let n = std::future::poll_fn(|cx| s.poll_recv(cx, &mut buf))
                    .await
                    .unwrap();
                if n == 0 {
                    break;
                }
                let mut sent = 0;
                while sent < n {
                    sent += std::future::poll_fn(|cx| s.poll_send(cx, &buf[sent..n]))
                        .await
                        .unwrap();
                }
            }
        });
        let c = TcpStream::connect(&h, addr).await.unwrap();
        let msg = vec![5u8; 200_000];
        let c = Rc::new(c);
        let w = h.spawn({
            let c = c.clone();
            async move {
                c.send_all(&msg).await.unwrap();
                c.shutdown(Shutdown::Write).unwrap();
            }
        });
        let mut back = Vec::new();
        c.read_to_end(&mut back).await.unwrap();
        w.await.unwrap();
        server.await.unwrap();
        assert_eq!(back.len(), 200_000);
        assert!(back.iter().all(|&b| b == 5));
    }));
}

/// Dropping a pending `recv` (as a timeout does) never loses bytes: a receiver that keeps
/// giving up after a short wait still gets every byte, in order.
#[test]
fn dropped_recv_loses_nothing() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, V4).unwrap();
    let addr = listener.local_addr().unwrap();
    lp.block_on(within(&h, Duration::from_secs(30), "cancel recv", async {
        let c = TcpStream::connect(&h, addr).await.unwrap();
        let (s, _) = listener.accept().await.unwrap();
        let total = 20_000usize;
        let sender = h.spawn({
            let h = h.clone();
            async move {
                let mut next = 0usize;
                let mut round = 0u64;
                while next < total {
                    let n = (1 + (round * 7919 % 97) as usize).min(total - next);
                    let chunk: Vec<u8> = (next..next + n).map(|i| (i % 251) as u8).collect();
                    s.send_all(&chunk).await.unwrap();
                    next += n;
                    round += 1;
                    // Vary the gaps so some land while the receiver waits, some after it
                    // gave up.
                    h.sleep(Duration::from_micros(round * 37 % 400)).await;
                }
            }
        });
        let mut got = Vec::with_capacity(total);
        let mut gave_up = 0;
        let mut buf = [0u8; 64];
        while got.len() < total {
            // recv with a deadline: whichever finishes first, the other is dropped.
            let n = {
                let mut recv = std::pin::pin!(c.recv(&mut buf));
                let mut timer = std::pin::pin!(h.sleep(Duration::from_micros(150)));
                std::future::poll_fn(|cx| {
                    if let std::task::Poll::Ready(r) = recv.as_mut().poll(cx) {
                        return std::task::Poll::Ready(Some(r.unwrap()));
                    }
                    if timer.as_mut().poll(cx).is_ready() {
                        return std::task::Poll::Ready(None);
                    }
                    std::task::Poll::Pending
                })
                .await
            };
            match n {
                Some(n) => {
                    assert!(n > 0);
                    got.extend_from_slice(&buf[..n]);
                }
                None => gave_up += 1,
            }
        }
        sender.await.unwrap();
        assert!(gave_up > 0, "the test never dropped a pending recv");
        let want: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
        assert!(got == want, "bytes lost or reordered");
        assert_eq!(h.fd_waiters(), 0);
    }));
}

/// Dropping a recv future after its fd became ready but before it ran again: the bytes
/// stay in the kernel for the next recv.
#[test]
fn recv_dropped_after_wakeup_keeps_bytes() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (a, b) = readyloop::net::UnixStream::pair(&h).unwrap();
    lp.block_on(async {
        let mut buf = [0u8; 16];
        {
            let mut recv = std::pin::pin!(b.recv(&mut buf));
            let first =
                std::future::poll_fn(|cx| std::task::Poll::Ready(recv.as_mut().poll(cx))).await;
            assert!(first.is_pending());
            a.send_all(b"kept").await.unwrap();
            // Let the loop see the fd ready and wake us, then drop the future unpolled.
            readyloop::yield_now().await;
            h.sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(h.fd_waiters(), 0);
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"kept");
    });
}

/// recv_exact reports a short stream as UnexpectedEof.
#[test]
fn recv_exact_short_stream() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, V4).unwrap();
    let addr = listener.local_addr().unwrap();
    lp.block_on(async {
        let c = TcpStream::connect(&h, addr).await.unwrap();
        let (s, _) = listener.accept().await.unwrap();
        c.send_all(b"abc").await.unwrap();
        drop(c);
        let mut buf = [0u8; 10];
        let e = s.recv_exact(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
    });
}

/// from_fd / into_fd round trip, and nodelay.
#[test]
fn adopt_and_release() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let std_listener = std::net::TcpListener::bind(V4).unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let listener = TcpListener::from_fd(&h, std_listener.into()).unwrap();
    let addr = listener.local_addr().unwrap();
    lp.block_on(async {
        let c = TcpStream::connect(&h, addr).await.unwrap();
        let (s, _) = listener.accept().await.unwrap();
        s.set_nodelay(true).unwrap();
        assert!(s.nodelay().unwrap());
        // Hand the client to std and back.
        let std_client = std::net::TcpStream::from(c.into_fd());
        let c = TcpStream::from_fd(&h, std_client.into()).unwrap();
        c.send_all(b"again").await.unwrap();
        let mut buf = [0u8; 5];
        s.recv_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"again");
    });
    assert_eq!(h.fd_waiters(), 0);
}

/// open_connection with a host name: looked up on the blocking pool, each address tried
/// (localhost may give ::1 first, where nothing listens; 127.0.0.1 then answers).
#[test]
fn open_connection_by_host_name() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, V4).unwrap();
    let port = listener.local_addr().unwrap().port();
    lp.block_on(within(&h, Duration::from_secs(30), "by name", async {
        let c = readyloop::net::open_connection(&h, format!("localhost:{port}"))
            .await
            .unwrap();
        let (s, _) = listener.accept().await.unwrap();
        c.send_all(b"named").await.unwrap();
        let mut buf = [0u8; 5];
        s.recv_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"named");
    }));
}
