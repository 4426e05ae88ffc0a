//! `incoming()`: a listener's accepted connections as a stream-shaped object, without the
//! futures crate: every connection arrives once, a dropped `next()` loses none, and the
//! `Incoming` leaves no wait behind when dropped.

use readyloop::net::{TcpListener, TcpStream, UnixListener, UnixSocketAddr, UnixStream};
use readyloop::Loop;
use std::time::Duration;

#[test]
fn a_tcp_server_loop_over_incoming_serves_every_client() {
    const CLIENTS: usize = 50;
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    lp.block_on(async {
        let server = h.spawn({
            let h = h.clone();
            async move {
                let mut incoming = listener.incoming();
                let mut served = 0;
                while let Some(conn) = incoming.next().await {
                    let conn = conn.unwrap();
                    h.spawn(async move {
                        let mut buf = [0u8; 64];
                        readyloop::net::echo(&conn, &mut buf).await.unwrap();
                    });
                    served += 1;
                    if served == CLIENTS {
                        break;
                    }
                }
                served
            }
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let h = h.clone();
                h.clone().spawn(async move {
                    let c = TcpStream::connect(&h, addr).await.unwrap();
                    let msg = format!("client {i}");
                    c.send_all(msg.as_bytes()).await.unwrap();
                    c.shutdown(readyloop::net::Shutdown::Write).unwrap();
                    let mut back = Vec::new();
                    c.read_to_end(&mut back).await.unwrap();
                    assert_eq!(back, msg.as_bytes());
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        assert_eq!(server.await.unwrap(), CLIENTS);
    });
    assert_eq!(h.fd_waiters(), 0);
}

#[test]
fn a_dropped_next_loses_no_connection_and_dropping_incoming_withdraws_its_wait() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let name = format!("readyloop-incoming-test-{}", std::process::id());
    let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let listener = UnixListener::bind(&h, addr.clone()).unwrap();
    lp.block_on(async {
        let mut incoming = listener.incoming();
        let waited = h.timeout(Duration::from_millis(20), incoming.next()).await;
        assert!(waited.is_err(), "no client yet: next() waited");
        let client = UnixStream::connect(&h, addr.clone()).await.unwrap();
        let conn = incoming.next().await.unwrap().unwrap();
        client.send_all(b"x").await.unwrap();
        let mut buf = [0u8; 1];
        conn.recv_exact(&mut buf).await.unwrap();
        // A pending next() registered a wait; dropping the Incoming withdraws it.
        let pending = core::future::poll_fn(|cx| {
            assert!(incoming.poll_next(cx).is_pending());
            std::task::Poll::Ready(())
        });
        pending.await;
        assert_eq!(h.fd_waiters(), 1);
        drop(incoming);
        assert_eq!(h.fd_waiters(), 0);
        // The listener still accepts after its Incoming is gone.
        let _second = UnixStream::connect(&h, addr).await.unwrap();
        listener.accept().await.unwrap();
    });
}
