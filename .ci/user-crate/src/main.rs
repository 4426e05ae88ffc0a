//! A user's program on readyloop, built outside the workspace by `.ci/checks/15-user-crate.sh`:
//! each public type used the way the README and the crate docs show, with readyloop's own
//! types (works in every feature set) and, with `std`, with the standard library's fds.
//! It must never depend on rustix or libc directly (see Cargo.toml): it proves what a user's
//! crate compiles, so it has to see only readyloop's own features.

use std::time::Duration;

use readyloop::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixStream};
use readyloop::{Handle, Loop};

fn main() {
    let lp = Loop::new().expect("a loop");
    let h = lp.handle();
    lp.block_on(readyloop_types(&h));
    #[cfg(feature = "std-api")]
    lp.block_on(std_types::all(&h));
    println!("user crate: ok");
}

/// The API that works in every feature set: readyloop's own sockets, timers, tasks.
async fn readyloop_types(h: &Handle) {
    // Sleep and timeout through the handle.
    let before = h.now();
    h.sleep(Duration::from_millis(5)).await;
    assert!(h.now() >= before + Duration::from_millis(5));
    let late = h
        .timeout(Duration::from_millis(1), h.sleep(Duration::from_secs(60)))
        .await;
    assert!(late.is_err(), "the timeout fires first");
    let mut every = h.interval(Duration::from_millis(1));
    every.tick().await;
    every.tick().await;

    // TCP: a listener, a client task, accept, echo.
    let listener = TcpListener::bind(h, "127.0.0.1:0").expect("bind tcp");
    let addr = listener.local_addr().expect("local addr");
    let client = h.spawn({
        let h = h.clone();
        async move {
            let s = TcpStream::connect(&h, addr).await.expect("connect");
            s.send_all(b"ping").await.expect("send");
            let mut buf = [0u8; 4];
            s.recv_exact(&mut buf).await.expect("recv");
            buf
        }
    });
    let (conn, _peer) = listener.accept().await.expect("accept");
    let mut buf = [0u8; 4];
    conn.recv_exact(&mut buf).await.expect("server recv");
    conn.send_all(&buf).await.expect("server send");
    assert_eq!(&client.await.expect("client task"), b"ping");

    // into_fd and back: the fd leaves readyloop and comes back.
    let fd = listener.into_fd();
    let listener = TcpListener::from_fd(h, fd).expect("from_fd of its own fd");
    assert_eq!(listener.local_addr().expect("addr"), addr);

    // UDP.
    let a = UdpSocket::bind(h, "127.0.0.1:0").expect("bind udp");
    let b = UdpSocket::bind(h, "127.0.0.1:0").expect("bind udp");
    let b_addr = b.local_addr().expect("udp addr");
    a.send_to(b"dgram", b_addr).await.expect("send_to");
    let mut buf = [0u8; 16];
    let (n, from) = b.recv_from(&mut buf).await.expect("recv_from");
    assert_eq!(&buf[..n], b"dgram");
    assert_eq!(from, a.local_addr().expect("addr"));

    // Unix stream and datagram pairs.
    let (x, y) = UnixStream::pair(h).expect("unix pair");
    x.send_all(b"unix").await.expect("unix send");
    let mut buf = [0u8; 4];
    y.recv_exact(&mut buf).await.expect("unix recv");
    assert_eq!(&buf, b"unix");
    let (p, q) = UnixDatagram::pair(h).expect("unix datagram pair");
    p.send(b"d").await.expect("datagram send");
    let mut buf = [0u8; 4];
    assert_eq!(q.recv(&mut buf).await.expect("datagram recv"), 1);
}

/// With `std`: the standard library's sockets and pipes handed to readyloop (issue 15: these
/// failed to compile in a user's crate, `UnixStream: AsFd is not satisfied`).
#[cfg(feature = "std-api")]
mod std_types {
    use std::io::{Read, Write};
    use std::os::fd::{AsFd, AsRawFd, OwnedFd};
    use std::time::Duration;

    use readyloop::net::{
        TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream,
    };
    use readyloop::{Async, ReadFd, AsyncRecv, Errno, Handle, Interest, Registration};

    pub async fn all(h: &Handle) {
        async_with_std_unix_stream(h).await;
        from_fd_and_into_fd_with_std_sockets(h).await;
        async_read_on_a_std_fd(h).await;
        registration_on_a_std_fd(h).await;
        free_functions(h).await;
    }

    async fn async_with_std_unix_stream(h: &Handle) {
        let (a, b) = std::os::unix::net::UnixStream::pair().expect("std pair");
        let a = Async::new(h, a).expect("Async::new with a std UnixStream");
        let b = Async::new(h, b).expect("Async::new with a std UnixStream");
        assert_eq!(a.write(b"hello").await.expect("write"), 5);
        let mut buf = [0u8; 8];
        let n = b.read(&mut buf).await.expect("read");
        assert_eq!(&buf[..n], b"hello");
        let std_back: std::os::unix::net::UnixStream = b.into_inner();
        drop(std_back);
    }

    async fn from_fd_and_into_fd_with_std_sockets(h: &Handle) {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("std bind");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("addr");
        let listener =
            TcpListener::from_fd(h, OwnedFd::from(std_listener)).expect("from_fd std listener");
        let connect = TcpStream::connect(h, addr);
        let (accepted, client) = (listener.accept(), connect);
        let client = client.await.expect("connect");
        let (conn, _) = accepted.await.expect("accept");
        // into_fd hands back an fd std takes as its own.
        let mut std_conn = std::net::TcpStream::from(conn.into_fd());
        std_conn.set_nonblocking(false).expect("blocking again");
        client.send_all(b"to std").await.expect("send");
        let mut buf = [0u8; 6];
        std_conn.read_exact(&mut buf).expect("std read");
        assert_eq!(&buf, b"to std");
        // And back: a std stream adopted again.
        std_conn.set_nonblocking(true).expect("nonblocking");
        let again = TcpStream::from_fd(h, std_conn.into()).expect("from_fd std stream");
        again.send_all(b"back").await.expect("send back");
        let mut buf = [0u8; 4];
        client.recv_exact(&mut buf).await.expect("recv back");
        assert_eq!(&buf, b"back");

        let std_udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("std udp");
        std_udp.set_nonblocking(true).expect("nonblocking");
        let udp = UdpSocket::from_fd(h, std_udp.into()).expect("from_fd std udp");
        let std_udp = std::net::UdpSocket::from(udp.into_fd());
        assert!(std_udp.local_addr().is_ok());

        let (s, t) = std::os::unix::net::UnixStream::pair().expect("std unix pair");
        s.set_nonblocking(true).expect("nonblocking");
        let s = UnixStream::from_fd(h, s.into()).expect("from_fd std unix stream");
        s.send_all(b"u").await.expect("unix send");
        let mut t = t;
        let mut one = [0u8; 1];
        t.read_exact(&mut one).expect("std unix read");
        assert_eq!(&one, b"u");

        let dir = std::env::temp_dir().join(format!("readyloop-user-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("listener.sock");
        let _ = std::fs::remove_file(&path);
        let std_unix = std::os::unix::net::UnixListener::bind(&path).expect("std unix bind");
        std_unix.set_nonblocking(true).expect("nonblocking");
        let unix_listener = UnixListener::from_fd(h, std_unix.into()).expect("from_fd unix");
        let client = UnixStream::connect(h, &path).await.expect("unix connect");
        let (served, _) = unix_listener.accept().await.expect("unix accept");
        client.send_all(b"hi").await.expect("send");
        let mut two = [0u8; 2];
        served.recv_exact(&mut two).await.expect("recv");
        assert_eq!(&two, b"hi");
        let std_back = std::os::unix::net::UnixListener::from(unix_listener.into_fd());
        drop(std_back);
        std::fs::remove_dir_all(&dir).expect("remove temp dir");

        let (d1, d2) = std::os::unix::net::UnixDatagram::pair().expect("std datagram pair");
        d1.set_nonblocking(true).expect("nonblocking");
        let d1 = UnixDatagram::from_fd(h, d1.into()).expect("from_fd std datagram");
        d2.send(b"dg").expect("std send");
        let mut buf = [0u8; 4];
        assert_eq!(d1.recv(&mut buf).await.expect("datagram recv"), 2);
    }

    async fn async_read_on_a_std_fd(h: &Handle) {
        let (r, mut w) = std::os::unix::net::UnixStream::pair().expect("std pair");
        r.set_nonblocking(true).expect("nonblocking");
        w.write_all(b"abc").expect("std write");
        let mut buf = [0u8; 3];
        ReadFd::exact(h, r.as_fd(), &mut buf)
            .await
            .expect("AsyncRead::exact");
        assert_eq!(&buf, b"abc");
        w.write_all(b"d").expect("std write");
        let mut buf = [0u8; 8];
        let n = ReadFd::new(h, r.as_fd(), &mut buf)
            .await
            .expect("AsyncRead::new");
        assert_eq!(&buf[..n], b"d");
        w.write_all(b"e").expect("std write");
        let n = AsyncRecv::new(h, r.as_fd(), &mut buf)
            .await
            .expect("AsyncRecv::new");
        assert_eq!(&buf[..n], b"e");
    }

    async fn registration_on_a_std_fd(h: &Handle) {
        let (r, mut w) = std::os::unix::net::UnixStream::pair().expect("std pair");
        r.set_nonblocking(true).expect("nonblocking");
        // Registration::new's contract: `r` outlives `reg` (dropped first, below). Written as
        // an unsafe block so this reads the same whether or not `new` is an `unsafe fn`.
        #[allow(unused_unsafe)]
        let reg = unsafe { Registration::new(h, r.as_raw_fd()) };
        let writer = h.spawn({
            let h = h.clone();
            async move {
                h.sleep(Duration::from_millis(2)).await;
                w.write_all(b"late").expect("std write");
                w
            }
        });
        let mut buf = [0u8; 8];
        let n = core::future::poll_fn(|cx| {
            reg.poll_io(cx, Interest::Readable, || {
                (&r).read(&mut buf)
                    .map_err(|e| Errno::from_raw_os_error(e.raw_os_error().expect("an OS error")))
            })
        })
        .await
        .expect("poll_io");
        assert_eq!(&buf[..n], b"late");
        drop(reg);
        drop(writer.await.expect("writer task"));
    }

    async fn free_functions(h: &Handle) {
        // With std the free functions find the running loop.
        readyloop::sleep(Duration::from_millis(1)).await;
        let job = h.spawn(async { 7 });
        assert_eq!(job.await.expect("task"), 7);
        let sum = readyloop::spawn_blocking(|| 2 + 2).await;
        assert_eq!(sum.expect("blocking job"), 4);
    }
}
