//! UDP on 127.0.0.1 and ::1: unconnected and connected round trips, many concurrent
//! senders, and two tasks receiving on one socket.

mod common;

use common::within;
use readyloop::net::UdpSocket;
use readyloop::Loop;
use std::rc::Rc;
use std::time::Duration;

fn round_trip(bind: &str) {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let server = Rc::new(UdpSocket::bind(&h, bind).unwrap());
    let addr = server.local_addr().unwrap();
    // Seed 003's echo, for datagrams.
    let _echo = h.spawn({
        let server = server.clone();
        async move {
            let mut buf = [0u8; 1500];
            loop {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        }
    });
    lp.block_on(within(&h, Duration::from_secs(10), "udp", async {
        let clients: Vec<_> = (0..50)
            .map(|i| {
                let h2 = h.clone();
                let bind = bind.to_string();
                h.spawn(async move {
                    let c = UdpSocket::bind(&h2, bind.as_str()).unwrap();
                    c.connect(addr).unwrap();
                    assert_eq!(c.peer_addr().unwrap(), addr);
                    for j in 0..20u32 {
                        let msg = format!("{i}:{j}");
                        c.send(msg.as_bytes()).await.unwrap();
                        let mut buf = [0u8; 64];
                        let n = c.recv(&mut buf).await.unwrap();
                        assert_eq!(&buf[..n], msg.as_bytes());
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
    }));
}

#[test]
fn udp_round_trip_v4() {
    round_trip("127.0.0.1:0");
}

#[test]
fn udp_round_trip_v6() {
    round_trip("[::1]:0");
}

#[test]
fn two_receivers_on_one_socket() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let sock = Rc::new(UdpSocket::bind(&h, "127.0.0.1:0").unwrap());
    let addr = sock.local_addr().unwrap();
    lp.block_on(within(
        &h,
        Duration::from_secs(10),
        "two receivers",
        async {
            let receivers: Vec<_> = (0..2)
                .map(|_| {
                    let s = sock.clone();
                    h.spawn(async move {
                        let mut buf = [0u8; 8];
                        let (n, _) = s.recv_from(&mut buf).await.unwrap();
                        buf[..n].to_vec()
                    })
                })
                .collect();
            h.sleep(Duration::from_millis(10)).await;
            let sender = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
            sender.send_to(b"one", addr).await.unwrap();
            sender.send_to(b"two", addr).await.unwrap();
            let mut got = Vec::new();
            for r in receivers {
                got.push(r.await.unwrap());
            }
            got.sort();
            assert_eq!(got, vec![b"one".to_vec(), b"two".to_vec()]);
        },
    ));
}

#[test]
fn v4_to_v6_mismatch_is_an_error() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let s = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
    let e = lp.block_on(s.send_to(b"x", "[::1]:9")).unwrap_err();
    // The kernel refuses an IPv6 destination on an IPv4 socket; no panic, no hang.
    assert!(e.errno().is_some(), "{e:?}");
}
