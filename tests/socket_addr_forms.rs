//! Every form `ToSocketAddr` takes works where an address goes: binding, connecting,
//! sending a datagram, and `open_connection` (which resolves a host name in a pair).

use readyloop::net::{
    open_connection, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddr,
    UdpSocket,
};
use readyloop::{ErrorKind, Loop};

#[test]
fn every_form_names_the_address_std_would() {
    let v4: SocketAddr = "127.0.0.1:9527".parse().unwrap();
    let v6: SocketAddr = "[::1]:9527".parse().unwrap();
    let mut octets = [0u8; 16];
    octets[15] = 1;
    let forms: [(&dyn Fn() -> readyloop::Result<SocketAddr>, SocketAddr); 11] = [
        (&|| ([127, 0, 0, 1], 9527).to_socket_addr(), v4),
        (&|| (Ipv4Addr::LOCALHOST, 9527).to_socket_addr(), v4),
        (
            &|| (Ipv4Addr::new(127, 0, 0, 1), 9527u16).to_socket_addr(),
            v4,
        ),
        (
            &|| (std::net::IpAddr::from([127, 0, 0, 1]), 9527).to_socket_addr(),
            v4,
        ),
        (&|| ("127.0.0.1", 9527).to_socket_addr(), v4),
        (&|| (String::from(" 127.0.0.1 "), 9527).to_socket_addr(), v4),
        (&|| "127.0.0.1:9527".to_socket_addr(), v4),
        (&|| (Ipv6Addr::LOCALHOST, 9527).to_socket_addr(), v6),
        (&|| ([0u16, 0, 0, 0, 0, 0, 0, 1], 9527).to_socket_addr(), v6),
        (&|| (octets, 9527).to_socket_addr(), v6),
        (&|| ("::1", 9527).to_socket_addr(), v6),
    ];
    for (i, (form, want)) in forms.iter().enumerate() {
        assert_eq!(form().unwrap(), *want, "form {i}");
    }
    let err = ("localhost", 80).to_socket_addr().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("not an IP address"), "{err}");
    assert_eq!(("localhost", 80).host_and_port(), Some(("localhost", 80)));
    assert_eq!(("127.0.0.1", 80).host_and_port(), None);
    assert_eq!(("1.2.3", 80).host_and_port(), None, "a malformed address");
    assert!(
        ("[::1]", 80).to_socket_addr().is_err(),
        "no brackets in a pair"
    );
}

#[test]
fn sockets_bind_and_connect_with_tuple_forms() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    lp.block_on(async {
        let l1 = TcpListener::bind(&h, ([127, 0, 0, 1], 0)).unwrap();
        let l2 = TcpListener::bind(&h, (Ipv4Addr::LOCALHOST, 0)).unwrap();
        let l3 = TcpListener::bind(&h, ("127.0.0.1", 0)).unwrap();
        let port = l1.local_addr().unwrap().port();
        let c1 = TcpStream::connect(&h, ([127, 0, 0, 1], port))
            .await
            .unwrap();
        let c2 = TcpStream::connect(&h, (Ipv4Addr::LOCALHOST, l2.local_addr().unwrap().port()))
            .await
            .unwrap();
        let c3 = open_connection(&h, ("localhost", l3.local_addr().unwrap().port()))
            .await
            .unwrap();
        for (l, c) in [(&l1, &c1), (&l2, &c2), (&l3, &c3)] {
            let (_, peer) = l.accept().await.unwrap();
            assert_eq!(peer, c.local_addr().unwrap());
        }
        let u = UdpSocket::bind(&h, ([127, 0, 0, 1], 0)).unwrap();
        let v = UdpSocket::bind(&h, (Ipv4Addr::LOCALHOST, 0)).unwrap();
        let to = v.local_addr().unwrap().port();
        u.send_to(b"hi", ([127, 0, 0, 1], to)).await.unwrap();
        let mut buf = [0u8; 4];
        let (n, from) = v.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"hi"[..], u.local_addr().unwrap()));
    });
}
