//! No fd leaks: after a workout of every socket type, success and failure paths alike, the
//! process has exactly the fds it started with. One test in its own file, so no other test
//! opens fds meanwhile.

mod common;

use common::{open_fds, serve_tcp_echo, serve_unix_echo, socket_path, within};
use readyloop::net::{
    open_connection, Shutdown, TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener,
    UnixStream,
};
use readyloop::Loop;
use std::future::Future;
use std::time::Duration;

#[test]
fn sockets_leak_no_fds() {
    let before = open_fds();
    {
        let lp = Loop::new().unwrap();
        let h = lp.handle();
        let tcp = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
        let tcp_addr = tcp.local_addr().unwrap();
        let _tcp_server = serve_tcp_echo(&h, tcp, 1024);
        let path = socket_path("leaks");
        let unix = UnixListener::bind(&h, &path).unwrap();
        let _unix_server = serve_unix_echo(&h, unix, 1024);
        lp.block_on(within(&h, Duration::from_secs(30), "workout", async {
            for i in 0..50 {
                let s = open_connection(&h, tcp_addr).await.unwrap();
                s.send_all(b"x").await.unwrap();
                s.shutdown(Shutdown::Write).unwrap();
                let mut v = Vec::new();
                s.read_to_end(&mut v).await.unwrap();
                if i % 2 == 0 {
                    s.set_linger(Some(Duration::ZERO)).unwrap();
                }
                let u = UnixStream::connect(&h, &path).await.unwrap();
                u.send_all(b"y").await.unwrap();
                let mut b = [0u8; 1];
                u.recv_exact(&mut b).await.unwrap();
            }
            // Failures: refused connects, a dropped half-made connect, bad addresses.
            let closed = TcpListener::bind(&h, "127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap();
            for _ in 0..20 {
                assert!(TcpStream::connect(&h, closed).await.is_err());
            }
            let pending = TcpStream::connect(&h, "192.0.2.1:80");
            drop(pending);
            assert!(TcpStream::connect(&h, "nope").await.is_err());
            assert!(UnixStream::connect(&h, "/nonexistent/readyloop.sock")
                .await
                .is_err());
            // from_fd failures close what they were given.
            for _ in 0..10 {
                let f = std::fs::File::open("/dev/null").unwrap();
                assert!(TcpStream::from_fd(&h, f.into()).is_err());
            }
            // into_fd hands the fd over (and std closes it).
            let u = UdpSocket::bind(&h, "[::1]:0").unwrap();
            drop(std::net::UdpSocket::from(u.into_fd()));
            let (a, b) = UnixDatagram::pair(&h).unwrap();
            a.send(b"d").await.unwrap();
            let mut buf = [0u8; 1];
            b.recv(&mut buf).await.unwrap();
            // A dropped accept and a dropped recv.
            let l = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
            {
                let mut acc = std::pin::pin!(l.accept());
                let _ =
                    std::future::poll_fn(|cx| std::task::Poll::Ready(acc.as_mut().poll(cx))).await;
            }
            let (p, q) = UnixStream::pair(&h).unwrap();
            {
                let mut buf = [0u8; 1];
                let mut r = std::pin::pin!(p.recv(&mut buf));
                let _ =
                    std::future::poll_fn(|cx| std::task::Poll::Ready(r.as_mut().poll(cx))).await;
            }
            drop((p, q));
        }));
        let _ = std::fs::remove_file(&path);
        assert_eq!(h.fd_waiters(), 2, "only the two accept loops still wait");
    }
    let after = open_fds();
    assert_eq!(before, after, "fds leaked: {before} before, {after} after");
}
