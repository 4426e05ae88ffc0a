//! Bad input to the sockets (issue 6 point 8): each is an error value with a clear
//! message, never a panic or a hang.

use readyloop::net::{
    open_connection, Shutdown, TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener,
    UnixStream,
};
use readyloop::{ErrorKind, Loop};
use std::os::fd::OwnedFd;
use std::time::Duration;

#[test]
fn non_socket_fd_is_refused() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let file = || -> OwnedFd { std::fs::File::open("/dev/null").unwrap().into() };
    let (r, _w) = std::io::pipe().unwrap();
    for e in [
        TcpStream::from_fd(&h, file()).unwrap_err(),
        TcpListener::from_fd(&h, file()).unwrap_err(),
        UdpSocket::from_fd(&h, file()).unwrap_err(),
        UnixStream::from_fd(&h, file()).unwrap_err(),
        UnixListener::from_fd(&h, file()).unwrap_err(),
        UnixDatagram::from_fd(&h, OwnedFd::from(r)).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::NotASocket);
        assert!(e.to_string().contains("not a socket"), "{e}");
    }
}

#[test]
fn blocking_fd_is_refused() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let e = TcpStream::from_fd(&h, c.into()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Blocking);
    assert!(e.to_string().contains("O_NONBLOCK"), "{e}");
    let e = TcpListener::from_fd(&h, l.into()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Blocking);
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    assert_eq!(
        UnixStream::from_fd(&h, a.into()).unwrap_err().kind(),
        ErrorKind::Blocking
    );
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        UdpSocket::from_fd(&h, u.into()).unwrap_err().kind(),
        ErrorKind::Blocking
    );
}

#[test]
fn wrong_kind_of_socket_is_refused() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    // A UDP socket where a TCP stream is expected.
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    u.set_nonblocking(true).unwrap();
    let e = TcpStream::from_fd(&h, u.into()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("stream"), "{e}");
    // A Unix stream where a TCP stream is expected.
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let e = TcpStream::from_fd(&h, a.into()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("IPv4 or IPv6"), "{e}");
    // A connected stream where a listener is expected.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    c.set_nonblocking(true).unwrap();
    let e = TcpListener::from_fd(&h, c.into()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("not listening"), "{e}");
}

#[test]
fn address_strings_that_do_not_parse() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    for bad in [
        "",
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:99999",
        ":80",
        "::1:80",
        "1.2.3:4",
        "garbage",
        "localhost:nope",
    ] {
        let e = TcpListener::bind(&h, bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
        assert!(e.to_string().contains("IP:PORT"), "{e}");
        let e = UdpSocket::bind(&h, bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
        let e = lp.block_on(TcpStream::connect(&h, bad)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
        let e = lp.block_on(open_connection(&h, bad)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    // A host name the resolver does not know is an error value, not a panic or a hang.
    let lookup = open_connection(&h, "no-such-host.invalid:80");
    let e = lp
        .block_on(h.timeout(Duration::from_secs(30), lookup))
        .expect("the lookup of an .invalid name finishes")
        .unwrap_err();
    assert!(!e.to_string().is_empty(), "{e:?}");
    // Unix paths: empty, NUL, too long.
    for bad in ["", "a\0b"] {
        assert_eq!(
            UnixListener::bind(&h, bad).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
    let long = "/tmp/".to_string() + &"x".repeat(200);
    let e = lp
        .block_on(UnixStream::connect(&h, long.as_str()))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("too long"), "{e}");
}

#[test]
fn port_in_use() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    for bind in ["127.0.0.1:0", "[::1]:0"] {
        let first = TcpListener::bind(&h, bind).unwrap();
        let e = TcpListener::bind(&h, first.local_addr().unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AddrInUse);
        assert!(e.to_string().contains("already in use"), "{e}");
        let u = UdpSocket::bind(&h, bind).unwrap();
        let e = UdpSocket::bind(&h, u.local_addr().unwrap()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AddrInUse);
    }
    let path = std::env::temp_dir().join(format!("readyloop-inuse-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let _l = UnixListener::bind(&h, &path).unwrap();
    assert_eq!(
        UnixListener::bind(&h, &path).unwrap_err().kind(),
        ErrorKind::AddrInUse
    );
    std::fs::remove_file(&path).unwrap();
    // An address not on this machine.
    let e = TcpListener::bind(&h, "192.0.2.1:0").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AddrNotAvailable);
}

#[test]
fn send_on_shut_down_stream() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let l = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    lp.block_on(async {
        let c = TcpStream::connect(&h, addr).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let e = c.send_all(b"too late").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BrokenPipe);
        assert!(e.to_string().contains("broken pipe"), "{e}");
        let e = c.send(b"x").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BrokenPipe);
        // A peer that is gone: sending eventually fails with reset or broken pipe, never
        // SIGPIPE (which would kill this test process).
        drop(s);
        h.sleep(Duration::from_millis(20)).await;
        let (c2, s2) = UnixStream::pair(&h).unwrap();
        drop(s2);
        let e = c2.send_all(b"nobody home").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BrokenPipe);
    });
    // The Unix pair side too.
    let (a, _b) = UnixStream::pair(&h).unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    let e = lp.block_on(a.send_all(b"x")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BrokenPipe);
}

#[test]
fn shutdown_of_unconnected_socket() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let s = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
    // Not a stream method on UDP; use a stream adopted before connecting.
    let raw = rustix::net::socket_with(
        rustix::net::AddressFamily::INET,
        rustix::net::SocketType::STREAM,
        rustix::net::SocketFlags::NONBLOCK,
        None,
    )
    .unwrap();
    let t = TcpStream::from_fd(&h, raw).unwrap();
    let e = t.shutdown(Shutdown::Write).unwrap_err();
    // ENOTCONN keeps its number and std's kind (issue 16.5), as futures-io callers expect.
    assert_eq!(e.kind(), ErrorKind::NotConnected);
    assert_eq!(e.errno(), Some(readyloop::Errno::NOTCONN));
    assert!(e.to_string().contains("not connected"), "{e}");
    let mut buf = [0u8; 4];
    // recv on it is an error, not a hang.
    let e = lp.block_on(t.recv(&mut buf)).unwrap_err();
    assert!(e.errno().is_some(), "{e:?}");
    drop(s);
}

#[test]
fn futures_polled_outside_the_loop_fail_cleanly() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (a, _b) = UnixStream::pair(&h).unwrap();
    // Poll a recv with a no-op waker and no running loop: a clear NoLoop error.
    let mut buf = [0u8; 4];
    let mut fut = std::pin::pin!(a.recv(&mut buf));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::future::Future::poll(fut.as_mut(), &mut cx) {
        std::task::Poll::Ready(Err(e)) => assert_eq!(e.kind(), ErrorKind::NoLoop),
        other => panic!("expected NoLoop, got {other:?}"),
    }
    let mut connect = std::pin::pin!(TcpStream::connect(&h, "127.0.0.1:9"));
    match std::future::Future::poll(connect.as_mut(), &mut cx) {
        std::task::Poll::Ready(Err(e)) => assert_eq!(e.kind(), ErrorKind::NoLoop),
        other => panic!("expected NoLoop, got {other:?}"),
    }
    let e = lp.block_on(async { 0 });
    assert_eq!(e, 0);
}
