//! Unix-domain sockets on filesystem paths (and abstract names): echo under 1,000
//! concurrent clients, 64 MiB by hash, half-close, datagrams, pairs, refused connects.

mod common;

use common::{serve_unix_echo, socket_path, within, Fnv, Pattern};
use readyloop::net::{Shutdown, UnixDatagram, UnixListener, UnixSocketAddr, UnixStream};
use readyloop::{ErrorKind, Loop};
use std::rc::Rc;
use std::time::Duration;

#[test]
fn path_round_trip_and_addresses() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let path = socket_path("rt");
    let listener = UnixListener::bind(&h, &path).unwrap();
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    let _server = serve_unix_echo(&h, listener, 1024);
    lp.block_on(within(
        &h,
        Duration::from_secs(10),
        "unix round trip",
        async {
            let s = UnixStream::connect(&h, &path).await.unwrap();
            assert_eq!(s.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
            assert!(s.local_addr().unwrap().is_unnamed());
            s.send_all(b"Hello\n").await.unwrap();
            let mut buf = [0u8; 6];
            s.recv_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"Hello\n");
        },
    ));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn thousand_concurrent_clients_unix() {
    common::raise_fd_limit(8192);
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let path = socket_path("thousand");
    let listener = UnixListener::bind(&h, &path).unwrap();
    let (_server, outcomes) = serve_unix_echo(&h, listener, 1024);
    let clients = 1000;
    lp.block_on(within(
        &h,
        Duration::from_secs(60),
        "1000 unix clients",
        async {
            let tasks: Vec<_> = (0..clients)
                .map(|i| {
                    let (h2, path) = (h.clone(), path.clone());
                    h.spawn(async move {
                        let s = UnixStream::connect(&h2, &path).await.unwrap();
                        let msg = format!("unix client {i}");
                        s.send_all(msg.as_bytes()).await.unwrap();
                        s.shutdown(Shutdown::Write).unwrap();
                        let mut back = Vec::new();
                        s.read_to_end(&mut back).await.unwrap();
                        assert_eq!(back, msg.as_bytes());
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            while outcomes.borrow().len() < clients {
                h.sleep(Duration::from_millis(1)).await;
            }
        },
    ));
    assert!(outcomes.borrow().iter().all(|r| r.is_ok()));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn transfer_64mib_unix() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let path = socket_path("big");
    let listener = UnixListener::bind(&h, &path).unwrap();
    let _server = serve_unix_echo(&h, listener, 64 * 1024);
    // 8 MiB under valgrind (where 64 MiB take 20 s): still far more than the kernel buffers.
    let total: usize = common::sized(64 << 20, 8 << 20);
    let (sent, got) = lp.block_on(within(&h, Duration::from_secs(120), "unix 64 MiB", async {
        let s = Rc::new(UnixStream::connect(&h, &path).await.unwrap());
        let writer = h.spawn({
            let s = s.clone();
            async move {
                let (mut pattern, mut hash) = (Pattern::new(3), Fnv::default());
                let mut chunk = vec![0u8; 200_000];
                let mut left = total;
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
        let (mut hash, mut n_total) = (Fnv::default(), 0);
        let mut buf = vec![0u8; 128 * 1024];
        loop {
            let n = s.recv(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            n_total += n;
        }
        assert_eq!(n_total, total);
        (writer.await.unwrap(), hash)
    }));
    assert_eq!(sent, got);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn half_close_unix() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let path = socket_path("half");
    let listener = UnixListener::bind(&h, &path).unwrap();
    let _server = serve_unix_echo(&h, listener, 1024);
    lp.block_on(within(
        &h,
        Duration::from_secs(20),
        "unix half-close",
        async {
            let s = Rc::new(UnixStream::connect(&h, &path).await.unwrap());
            let mut data = vec![0u8; 1 << 20];
            Pattern::new(11).fill(&mut data);
            let data = Rc::new(data);
            let w = h.spawn({
                let (s, data) = (s.clone(), data.clone());
                async move {
                    s.send_all(&data).await.unwrap();
                    s.shutdown(Shutdown::Write).unwrap();
                }
            });
            let mut back = Vec::new();
            s.read_to_end(&mut back).await.unwrap();
            w.await.unwrap();
            assert!(back == *data);
        },
    ));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn abstract_names_and_refusal() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let name = format!("readyloop-test-abstract-{}", std::process::id());
    let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    lp.block_on(async {
        // Nothing bound there yet.
        let e = UnixStream::connect(&h, &addr).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
        let l = UnixListener::bind(&h, &addr).unwrap();
        let c = UnixStream::connect(&h, &addr).await.unwrap();
        let (s, peer) = l.accept().await.unwrap();
        assert!(peer.is_unnamed());
        c.send_all(b"abstract").await.unwrap();
        let mut buf = [0u8; 8];
        s.recv_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abstract");
    });
}

#[test]
fn datagram_round_trips() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let server_path = socket_path("dgram-server");
    let client_path = socket_path("dgram-client");
    let server = UnixDatagram::bind(&h, &server_path).unwrap();
    let client = UnixDatagram::bind(&h, &client_path).unwrap();
    lp.block_on(within(
        &h,
        Duration::from_secs(10),
        "unix datagrams",
        async {
            for i in 0..100u32 {
                let msg = i.to_le_bytes();
                client.send_to(&msg, &server_path).await.unwrap();
                let mut buf = [0u8; 16];
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], &msg);
                assert_eq!(from.as_pathname(), Some(client_path.as_path()));
                server.send_to(&buf[..n], &from).await.unwrap();
                let n = client.recv(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], &msg);
            }
            // Connected form.
            client.connect(&server_path).unwrap();
            client.send(b"connected").await.unwrap();
            let mut buf = [0u8; 16];
            let n = server.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"connected");
        },
    ));
    std::fs::remove_file(&server_path).unwrap();
    std::fs::remove_file(&client_path).unwrap();
}

#[test]
fn stream_pair_concurrent_directions() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (a, b) = UnixStream::pair(&h).unwrap();
    let (a, b) = (Rc::new(a), Rc::new(b));
    lp.block_on(within(&h, Duration::from_secs(10), "pair", async {
        // Both ends send 2 MiB to each other at once: neither may deadlock.
        let t1 = h.spawn({
            let a = a.clone();
            async move {
                a.send_all(&vec![1u8; 2 << 20]).await.unwrap();
                a.shutdown(Shutdown::Write).unwrap();
            }
        });
        let t2 = h.spawn({
            let b = b.clone();
            async move {
                b.send_all(&vec![2u8; 2 << 20]).await.unwrap();
                b.shutdown(Shutdown::Write).unwrap();
            }
        });
        let r1 = h.spawn({
            let a = a.clone();
            async move {
                let mut v = Vec::new();
                a.read_to_end(&mut v).await.unwrap();
                v
            }
        });
        let mut from_a = Vec::new();
        b.read_to_end(&mut from_a).await.unwrap();
        let from_b = r1.await.unwrap();
        t1.await.unwrap();
        t2.await.unwrap();
        assert!(from_a.len() == 2 << 20 && from_a.iter().all(|&x| x == 1));
        assert!(from_b.len() == 2 << 20 && from_b.iter().all(|&x| x == 2));
    }));
}

#[test]
fn recv_into_an_empty_buffer_returns_zero_at_once() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (a, _b) = UnixStream::pair(&h).unwrap();
    let n = lp
        .block_on(within(
            &h,
            Duration::from_secs(2),
            "empty recv",
            a.recv(&mut []),
        ))
        .unwrap();
    assert_eq!(n, 0);
}
