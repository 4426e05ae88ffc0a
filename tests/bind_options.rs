//! `BindOptions`: each option reaches the kernel (read back with getsockopt, or seen in
//! what bind then allows), plain `bind` is the default case, and an option that has no
//! meaning for the socket is an `InvalidInput` error rather than ignored.

use readyloop::net::{BindOptions, TcpListener, UdpSocket, UnixListener, UnixSocketAddr};
use readyloop::{ErrorKind, Loop};
use rustix::net::sockopt;

#[test]
fn plain_bind_is_the_default_options() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let tcp = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    assert!(
        sockopt::socket_reuseaddr(&tcp).unwrap(),
        "a TCP listener reuses the address"
    );
    assert!(!sockopt::socket_reuseport(&tcp).unwrap());
    let udp = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
    assert!(
        !sockopt::socket_reuseaddr(&udp).unwrap(),
        "UDP sets nothing by default"
    );
    assert!(!sockopt::socket_reuseport(&udp).unwrap());
}

#[test]
fn each_option_is_set() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let opts = BindOptions::new().reuse_port(true).reuse_addr(false);
    let tcp = TcpListener::bind_with(&h, "127.0.0.1:0", &opts).unwrap();
    assert!(sockopt::socket_reuseport(&tcp).unwrap());
    assert!(!sockopt::socket_reuseaddr(&tcp).unwrap());
    let udp =
        UdpSocket::bind_with(&h, "127.0.0.1:0", &BindOptions::new().reuse_addr(true)).unwrap();
    assert!(sockopt::socket_reuseaddr(&udp).unwrap());
    for on in [true, false] {
        let v6 = TcpListener::bind_with(&h, "[::]:0", &BindOptions::new().only_v6(on)).unwrap();
        assert_eq!(sockopt::ipv6_v6only(&v6).unwrap(), on);
    }
}

#[test]
fn reuse_port_shares_a_port_only_among_sockets_that_set_it() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let reuse = BindOptions::new().reuse_port(true);
    let a = TcpListener::bind_with(&h, "127.0.0.1:0", &reuse).unwrap();
    let addr = a.local_addr().unwrap();
    let b = TcpListener::bind_with(&h, addr, &reuse).unwrap();
    assert_eq!(b.local_addr().unwrap(), addr);
    assert_eq!(
        TcpListener::bind(&h, addr).unwrap_err().kind(),
        ErrorKind::AddrInUse
    );

    let u = UdpSocket::bind_with(&h, "127.0.0.1:0", &reuse).unwrap();
    let uaddr = u.local_addr().unwrap();
    UdpSocket::bind_with(&h, uaddr, &reuse).unwrap();
    assert_eq!(
        UdpSocket::bind(&h, uaddr).unwrap_err().kind(),
        ErrorKind::AddrInUse
    );
}

#[test]
fn only_v6_decides_whether_ipv4_may_share_the_port() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    // Dual-stack [::] holds the IPv4 port too.
    let dual = TcpListener::bind_with(&h, "[::]:0", &BindOptions::new().only_v6(false)).unwrap();
    let port = dual.local_addr().unwrap().port();
    let taken = TcpListener::bind(&h, ("0.0.0.0", port)).unwrap_err();
    assert_eq!(taken.kind(), ErrorKind::AddrInUse);
    drop(dual);
    // IPv6 only: an IPv4 listener may take the same port beside it.
    let v6 = TcpListener::bind_with(&h, "[::]:0", &BindOptions::new().only_v6(true)).unwrap();
    let port = v6.local_addr().unwrap().port();
    TcpListener::bind(&h, ("0.0.0.0", port)).unwrap();
}

#[test]
fn options_without_meaning_are_refused_by_name() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let v4 =
        TcpListener::bind_with(&h, "127.0.0.1:0", &BindOptions::new().only_v6(true)).unwrap_err();
    assert_eq!(v4.kind(), ErrorKind::InvalidInput);
    assert!(v4.to_string().contains("only_v6"), "{v4}");
    let udp = UdpSocket::bind_with(&h, "127.0.0.1:0", &BindOptions::new().backlog(8)).unwrap_err();
    assert_eq!(udp.kind(), ErrorKind::InvalidInput);
    assert!(udp.to_string().contains("backlog"), "{udp}");
    let name = format!("readyloop-bind-options-{}", std::process::id());
    let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    for opts in [
        BindOptions::new().reuse_port(true),
        BindOptions::new().reuse_addr(true),
        BindOptions::new().only_v6(true),
    ] {
        let err = UnixListener::bind_with(&h, &addr, &opts).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    UnixListener::bind_with(&h, &addr, &BindOptions::new().backlog(4)).unwrap();
}

#[test]
fn the_backlog_reaches_listen() {
    // Linux queues up to backlog + 1 finished handshakes that nobody accepted, and drops
    // further SYNs while the queue is full: with a backlog of 1 a third connect stays
    // pending; with the default backlog it completes.
    for (backlog, third_completes) in [(Some(1), false), (None, true)] {
        let lp = Loop::new().unwrap();
        let h = lp.handle();
        let opts = match backlog {
            Some(b) => BindOptions::new().backlog(b),
            None => BindOptions::new(),
        };
        let l = TcpListener::bind_with(&h, "127.0.0.1:0", &opts).unwrap();
        let addr = l.local_addr().unwrap();
        let _queued: Vec<_> = (0..2)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        assert_eq!(
            connects_within_300ms(addr),
            third_completes,
            "backlog {backlog:?}"
        );
    }
}

/// Starts a non-blocking connect and reports whether it completed within 300 ms.
fn connects_within_300ms(addr: std::net::SocketAddr) -> bool {
    use rustix::event::{PollFd, PollFlags};
    use rustix::net::{AddressFamily, SocketFlags, SocketType};
    let fd = rustix::net::socket_with(
        AddressFamily::INET,
        SocketType::STREAM,
        SocketFlags::NONBLOCK,
        None,
    )
    .unwrap();
    let _ = rustix::net::connect(&fd, &addr); // EINPROGRESS
    let mut pfd = [PollFd::new(&fd, PollFlags::OUT)];
    let limit = rustix::time::Timespec {
        tv_sec: 0,
        tv_nsec: 300_000_000,
    };
    let ready = rustix::event::poll(&mut pfd, Some(&limit)).unwrap();
    ready == 1 && sockopt::socket_error(&fd).unwrap().is_ok()
}
