//! Peeking (`MSG_PEEK`) on every socket type: a peek waits while nothing is queued (timers
//! run meanwhile), returns what the next receive will, takes nothing, and a dropped peek
//! leaves no wait behind.

use readyloop::net::{Shutdown, TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixStream};
use readyloop::Loop;
use std::time::Duration;

#[test]
fn tcp_peek_waits_for_data_then_leaves_it_for_recv() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    lp.block_on(async {
        let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
        let a = TcpStream::connect(&h, listener.local_addr().unwrap())
            .await
            .unwrap();
        let (b, _) = listener.accept().await.unwrap();
        let writer = h.spawn({
            let h = h.clone();
            async move {
                h.sleep(Duration::from_millis(30)).await;
                a.send_all(b"HELLO world").await.unwrap();
                a
            }
        });
        let start = h.now();
        let mut head = [0u8; 5];
        let n = b.peek(&mut head).await.unwrap();
        assert!(h.now() - start >= Duration::from_millis(30), "it waited");
        assert_eq!(&head[..n], &b"HELLO"[..n]);
        // Peeking twice sees the same bytes.
        let mut again = [0u8; 5];
        let m = b.peek(&mut again).await.unwrap();
        assert_eq!(&again[..m], &b"HELLO"[..m]);
        let mut all = [0u8; 11];
        b.recv_exact(&mut all).await.unwrap();
        assert_eq!(&all, b"HELLO world");
        let a = writer.await.unwrap();
        a.shutdown(Shutdown::Write).unwrap();
        assert_eq!(b.peek(&mut head).await.unwrap(), 0, "end of stream");
        assert_eq!(b.peek(&mut []).await.unwrap(), 0, "an empty buffer");
    });
}

#[test]
fn a_dropped_peek_leaves_no_wait_and_loses_nothing() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (a, b) = UnixStream::pair(&h).unwrap();
    lp.block_on(async {
        let mut buf = [0u8; 8];
        let waited = h.timeout(Duration::from_millis(20), b.peek(&mut buf)).await;
        assert!(waited.is_err(), "nothing queued: the peek waited");
        assert_eq!(h.fd_waiters(), 0, "the dropped peek withdrew its wait");
        a.send_all(b"kept").await.unwrap();
        let n = core::future::poll_fn(|cx| b.poll_peek(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"kept");
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"kept");
    });
}

#[test]
fn udp_peek_from_names_the_sender_and_leaves_the_datagram() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    lp.block_on(async {
        let server = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
        let one = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
        let two = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
        let to = server.local_addr().unwrap();
        one.send_to(b"first", to).await.unwrap();
        two.send_to(b"second!", to).await.unwrap();
        let mut buf = [0u8; 64];
        for _ in 0..2 {
            let (n, from) = server.peek_from(&mut buf).await.unwrap();
            assert_eq!(
                (&buf[..n], from),
                (&b"first"[..], one.local_addr().unwrap())
            );
        }
        let (n, from) = core::future::poll_fn(|cx| server.poll_peek_from(cx, &mut buf[..3]))
            .await
            .unwrap();
        assert_eq!((&buf[..n], from), (&b"fir"[..], one.local_addr().unwrap()));
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(
            (&buf[..n], from),
            (&b"first"[..], one.local_addr().unwrap())
        );
        let (n, from) = server.peek_from(&mut buf).await.unwrap();
        assert_eq!(
            (&buf[..n], from),
            (&b"second!"[..], two.local_addr().unwrap())
        );
        // A connected socket peeks its peer's datagrams.
        two.connect(to).unwrap();
        server.connect(two.local_addr().unwrap()).unwrap();
        let n = server.peek(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second!");
        let n = server.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second!");
        let waited = h
            .timeout(Duration::from_millis(20), server.peek(&mut buf))
            .await;
        assert!(waited.is_err(), "nothing queued: the peek waited");
    });
}

#[test]
fn unix_datagram_peek_from_leaves_the_datagram() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (a, b) = UnixDatagram::pair(&h).unwrap();
    lp.block_on(async {
        a.send(b"dgram").await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = b.peek_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"dgram");
        assert!(from.is_unnamed());
        let n = b.peek(&mut buf[..2]).await.unwrap();
        assert_eq!(&buf[..n], b"dg");
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"dgram");
    });
}
