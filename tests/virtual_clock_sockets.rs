//! The virtual clock with real sockets: time jumps over a wait on a socket whose peer is a
//! socket of the same loop and nothing is in flight, keeps real time while a peer outside
//! the loop may answer (or bytes sit unread), and jumps over an external peer only after
//! the quiet grace a test opted in to. Each test prints its real duration.

mod common;

use common::scaled;
use readyloop::net::{TcpListener, TcpStream, UdpSocket};
use readyloop::{Handle, Loop};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn virtual_loop() -> Loop {
    Loop::builder().virtual_clock().build().unwrap()
}

/// An echo server that closes a connection idle for `idle`: the code under test.
fn serve_with_idle_timeout(h: &Handle, listener: TcpListener, idle: Duration) {
    let h2 = h.clone();
    h.spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let h3 = h2.clone();
            h2.spawn(async move {
                let mut buf = [0u8; 512];
                loop {
                    match h3.timeout(idle, stream.recv(&mut buf)).await {
                        Err(_idle) => return, // drop: closes the connection
                        Ok(Ok(0)) | Ok(Err(_)) => return,
                        Ok(Ok(n)) => stream.send_all(&buf[..n]).await.unwrap(),
                    }
                }
            });
        }
    });
}

/// A server with a 30 s idle timeout and a real connected client (both in this loop): the
/// client sees the close after 30 s of virtual time, in well under half a second of real.
#[test]
fn idle_timeout_of_30_s_with_a_connected_client_in_real_milliseconds() {
    let lp = virtual_loop();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    serve_with_idle_timeout(&h, listener, Duration::from_secs(30));
    let real = Instant::now();
    let (echoed, idle) = lp.block_on(async {
        let client = TcpStream::connect(&h, addr).await.unwrap();
        client.send_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        client.recv_exact(&mut buf).await.unwrap();
        let quiet_from = h.now();
        // Now silent: the server must close after its idle timeout.
        let mut rest = [0u8; 16];
        let n = client.recv(&mut rest).await.unwrap();
        assert_eq!(n, 0, "the server closes an idle connection");
        (buf, h.now() - quiet_from)
    });
    let real = real.elapsed();
    eprintln!("idle timeout 30 s: real {real:?}, virtual {idle:?}");
    assert_eq!(&echoed, b"hello");
    assert!(idle >= Duration::from_secs(30), "closed early: {idle:?}");
    assert!(idle < Duration::from_secs(31), "{idle:?}");
    assert!(real < scaled(Duration::from_millis(500)), "{real:?}");
    assert!(h.stats().clock_jumps >= 1);
}

/// A listener alone (no connection pending) does not hold the clock.
#[test]
fn a_quiet_listener_does_not_hold_the_clock() {
    let lp = virtual_loop();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    h.spawn(async move {
        let _ = listener.accept().await;
    });
    let real = Instant::now();
    lp.block_on(h.sleep(Duration::from_secs(5)));
    let real = real.elapsed();
    eprintln!("listener + sleep(5 s): real {real:?}");
    assert!(real < scaled(Duration::from_millis(500)), "{real:?}");
}

/// A client with a 5 s read deadline against a silent server of this loop (it reads the
/// request and never answers): the deadline passes in virtual time, in real milliseconds.
#[test]
fn read_deadline_of_5_s_against_a_silent_server_in_real_milliseconds() {
    let lp = virtual_loop();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    h.spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 64];
        while stream.recv(&mut buf).await.unwrap() > 0 {}
    });
    let real = Instant::now();
    let waited = lp.block_on(async {
        let client = TcpStream::connect(&h, addr).await.unwrap();
        client.send_all(b"GET /\n").await.unwrap();
        let start = h.now();
        let mut buf = [0u8; 64];
        let answer = h
            .timeout(Duration::from_secs(5), client.recv(&mut buf))
            .await;
        assert!(answer.is_err(), "the silent server answered: {answer:?}");
        h.now() - start
    });
    let real = real.elapsed();
    eprintln!("read deadline 5 s, silent server: real {real:?}, virtual {waited:?}");
    assert!(waited >= Duration::from_secs(5), "{waited:?}");
    assert!(real < scaled(Duration::from_millis(500)), "{real:?}");
}

/// Bytes sitting unread in a socket of this loop are never overtaken: while the server
/// has not read the request, the client's deadline runs in real time.
#[test]
fn unread_bytes_keep_real_time() {
    let lp = virtual_loop();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts and holds the connection, never reading.
    h.spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
        drop(stream);
    });
    let real = Instant::now();
    lp.block_on(async {
        let client = TcpStream::connect(&h, addr).await.unwrap();
        client.send_all(b"unread").await.unwrap();
        let mut buf = [0u8; 8];
        let answer = h
            .timeout(Duration::from_millis(200), client.recv(&mut buf))
            .await;
        assert!(answer.is_err());
    });
    let real = real.elapsed();
    eprintln!("unread request, 200 ms deadline: real {real:?}");
    assert!(
        real >= Duration::from_millis(200),
        "jumped over unread bytes: {real:?}"
    );
}

/// A request/response exchange with a peer outside the loop (a thread answering after
/// 50 ms of real time) is never cut short, even with a short timer ticking alongside.
#[test]
fn a_peer_thread_answering_after_50_ms_is_never_cut_short() {
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = server.accept().unwrap();
        let mut req = [0u8; 4];
        s.read_exact(&mut req).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        s.write_all(b"pong").unwrap();
    });
    let lp = virtual_loop();
    let h = lp.handle();
    // A ticker: timers are always armed, so the loop is always tempted to jump.
    let h2 = h.clone();
    h.spawn(async move {
        loop {
            h2.sleep(Duration::from_millis(10)).await;
        }
    });
    let real = Instant::now();
    let (answer, virt) = lp.block_on(async {
        let client = TcpStream::connect(&h, addr).await.unwrap();
        client.send_all(b"ping").await.unwrap();
        let start = h.now();
        let mut buf = [0u8; 4];
        let got = h
            .timeout(Duration::from_secs(1), client.recv_exact(&mut buf))
            .await;
        (got.map(|r| r.map(|_| buf)), h.now() - start)
    });
    let real = real.elapsed();
    peer.join().unwrap();
    eprintln!("peer thread answering after 50 ms: real {real:?}, virtual {virt:?}");
    assert_eq!(answer.expect("cut short by a jump").unwrap(), *b"pong");
    assert!(real >= Duration::from_millis(50), "{real:?}");
}

/// With a quiet grace the clock jumps over an external server known to be idle (a thread
/// that never answers), after that much real quiet; without it, it would wait 5 s real.
#[test]
fn quiet_grace_jumps_over_an_idle_external_server() {
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = server.accept().unwrap();
        let mut req = [0u8; 4];
        s.read_exact(&mut req).unwrap();
        let _ = done_rx.recv(); // silent until the test ends
    });
    let lp = Loop::builder()
        .virtual_clock_grace(Duration::from_millis(30))
        .build()
        .unwrap();
    let h = lp.handle();
    let real = Instant::now();
    let virt = lp.block_on(async {
        let client = TcpStream::connect(&h, addr).await.unwrap();
        client.send_all(b"ping").await.unwrap();
        let start = h.now();
        let mut buf = [0u8; 4];
        let got = h
            .timeout(Duration::from_secs(5), client.recv(&mut buf))
            .await;
        assert!(got.is_err(), "{got:?}");
        h.now() - start
    });
    let real = real.elapsed();
    drop(done_tx);
    peer.join().unwrap();
    eprintln!("grace 30 ms, idle external server, 5 s deadline: real {real:?}, virtual {virt:?}");
    assert!(virt >= Duration::from_secs(5));
    assert!(real >= Duration::from_millis(30), "{real:?}");
    assert!(real < scaled(Duration::from_millis(500)), "{real:?}");
}

/// With a quiet grace longer than the peer's answer time, the answer still wins.
#[test]
fn quiet_grace_does_not_cut_short_a_peer_that_answers_within_it() {
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (mut s, _) = server.accept().unwrap();
        let mut req = [0u8; 4];
        s.read_exact(&mut req).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        s.write_all(b"pong").unwrap();
    });
    let lp = Loop::builder()
        .virtual_clock_grace(Duration::from_millis(300))
        .build()
        .unwrap();
    let h = lp.handle();
    let answer = lp.block_on(async {
        let client = TcpStream::connect(&h, addr).await.unwrap();
        client.send_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        h.timeout(Duration::from_secs(1), client.recv_exact(&mut buf))
            .await
            .map(|r| r.map(|_| buf))
    });
    peer.join().unwrap();
    assert_eq!(answer.expect("cut short").unwrap(), *b"pong");
}

/// A UDP client's retry/back-off schedule over 10 minutes against a server of this loop
/// that answers only after 10 minutes: done in well under a second of real time.
#[test]
fn ten_minute_udp_retry_schedule_in_under_a_second() {
    let lp = virtual_loop();
    let h = lp.handle();
    let server = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
    let server_addr = server.local_addr().unwrap();
    let start = h.now();
    let h2 = h.clone();
    h.spawn(async move {
        let mut buf = [0u8; 64];
        loop {
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            if h2.now() - start >= Duration::from_secs(600) {
                server.send_to(&buf[..n], from).await.unwrap();
            }
        }
    });
    let real = Instant::now();
    let (attempts, virt) = lp.block_on(async {
        let client = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
        client.connect(server_addr).unwrap();
        let mut backoff = Duration::from_millis(500);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            client.send(b"hello?").await.unwrap();
            let mut buf = [0u8; 64];
            if let Ok(reply) = h.timeout(backoff, client.recv(&mut buf)).await {
                assert_eq!(&buf[..reply.unwrap()], b"hello?");
                break;
            }
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
        (attempts, h.now() - start)
    });
    let real = real.elapsed();
    eprintln!("UDP retry over 10 min: {attempts} attempts, real {real:?}, virtual {virt:?}");
    assert!(virt >= Duration::from_secs(600), "{virt:?}");
    assert!(attempts > 10);
    assert!(real < scaled(Duration::from_secs(1)), "{real:?}");
}

/// `Handle::pause` on a loop built with a real clock turns the virtual clock on.
#[test]
fn pause_turns_the_virtual_clock_on_with_sockets() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    serve_with_idle_timeout(&h, listener, Duration::from_secs(20));
    h.pause();
    let real = Instant::now();
    lp.block_on(async {
        let client = TcpStream::connect(&h, addr).await.unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(client.recv(&mut buf).await.unwrap(), 0);
    });
    assert!(real.elapsed() < scaled(Duration::from_millis(500)));
}

/// `#[readyloop::test(virtual_clock)]`: the same 30 s idle timeout from the attribute.
#[readyloop::test(virtual_clock, timeout = "5s")]
async fn the_attribute_turns_the_virtual_clock_on(h: Handle) {
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    serve_with_idle_timeout(&h, listener, Duration::from_secs(30));
    let real = Instant::now();
    let client = TcpStream::connect(&h, addr).await.unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(client.recv(&mut buf).await.unwrap(), 0);
    assert!(real.elapsed() < scaled(Duration::from_millis(500)));
}

/// `start_paused`, tokio's name, is the same switch.
#[readyloop::test(start_paused = true)]
async fn start_paused_is_an_alias(h: Handle) {
    let real = Instant::now();
    h.sleep(Duration::from_secs(3600)).await;
    assert!(real.elapsed() < scaled(Duration::from_millis(500)));
}

/// On a virtual clock the test's deadline is real time: a test stuck on a pipe nobody
/// writes fails after its 200 ms, with the report, and the clock never jumps to the
/// deadline itself (which would end a test early that only sleeps past it).
#[readyloop::test(virtual_clock, timeout = "200ms")]
#[should_panic(expected = "of real time")]
async fn a_stuck_virtual_test_fails_at_its_real_deadline(h: Handle) {
    let (r, _w) = std::io::pipe().unwrap();
    let mut buf = [0u8; 1];
    let _ = readyloop::ReadFd::new(&h, std::os::fd::AsFd::as_fd(&r), &mut buf).await;
}

#[readyloop::test(virtual_clock, timeout = "1s")]
async fn a_virtual_test_may_sleep_past_its_real_deadline(h: Handle) {
    h.sleep(Duration::from_secs(7200)).await;
}

/// A socketpair made on this loop: both ends are its own, so a wait on one end jumps while
/// the other end's task sleeps; the bytes then written are read at the right virtual time.
#[test]
fn a_unix_pair_of_this_loop_lets_the_clock_jump() {
    let lp = virtual_loop();
    let h = lp.handle();
    let (a, b) = readyloop::net::UnixStream::pair(&h).unwrap();
    let h2 = h.clone();
    h.spawn(async move {
        h2.sleep(Duration::from_secs(10)).await;
        b.send_all(b"late").await.unwrap();
        h2.sleep(Duration::from_secs(3600)).await;
    });
    let real = Instant::now();
    let start = h.now();
    let got = lp.block_on(async {
        let mut buf = [0u8; 4];
        h.timeout(Duration::from_secs(30), a.recv_exact(&mut buf))
            .await
            .map(|r| r.map(|_| buf))
    });
    let virt = h.now() - start;
    let real = real.elapsed();
    eprintln!("unix pair, answer after 10 s virtual: real {real:?}, virtual {virt:?}");
    assert_eq!(got.expect("timed out").unwrap(), *b"late");
    assert!(
        virt >= Duration::from_secs(10) && virt < Duration::from_secs(11),
        "{virt:?}"
    );
    assert!(real < scaled(Duration::from_millis(500)), "{real:?}");
}

/// The same for a datagram socketpair.
#[test]
fn a_unix_datagram_pair_of_this_loop_lets_the_clock_jump() {
    let lp = virtual_loop();
    let h = lp.handle();
    let (a, b) = readyloop::net::UnixDatagram::pair(&h).unwrap();
    let h2 = h.clone();
    h.spawn(async move {
        h2.sleep(Duration::from_secs(10)).await;
        b.send(b"late").await.unwrap();
    });
    let real = Instant::now();
    let got = lp.block_on(async {
        let mut buf = [0u8; 8];
        h.timeout(Duration::from_secs(30), a.recv(&mut buf))
            .await
            .map(|r| r.map(|n| buf[..n].to_vec()))
    });
    assert_eq!(got.expect("timed out").unwrap(), b"late");
    assert!(real.elapsed() < scaled(Duration::from_millis(500)));
}

/// A UDP client connected to a socket of another thread keeps real time: that peer may
/// be about to answer.
#[test]
fn a_udp_peer_outside_the_loop_keeps_real_time() {
    let outside = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let lp = virtual_loop();
    let h = lp.handle();
    let real = Instant::now();
    lp.block_on(async {
        let client = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
        client.connect(outside.local_addr().unwrap()).unwrap();
        let mut buf = [0u8; 8];
        let got = h
            .timeout(Duration::from_millis(200), client.recv(&mut buf))
            .await;
        assert!(got.is_err());
    });
    let real = real.elapsed();
    assert!(
        real >= Duration::from_millis(200),
        "jumped over an outside peer: {real:?}"
    );
}

/// A datagram socketpair made elsewhere (its other end in another thread): connected to an
/// unnamed peer outside the loop, so it keeps real time (it is not an unconnected socket).
#[test]
fn a_foreign_unix_datagram_pair_keeps_real_time() {
    let (mine, theirs) = std::os::unix::net::UnixDatagram::pair().unwrap();
    mine.set_nonblocking(true).unwrap();
    let lp = virtual_loop();
    let h = lp.handle();
    let mine = readyloop::net::UnixDatagram::from_fd(&h, mine.into()).unwrap();
    let real = Instant::now();
    lp.block_on(async {
        let mut buf = [0u8; 8];
        let got = h
            .timeout(Duration::from_millis(200), mine.recv(&mut buf))
            .await;
        assert!(got.is_err());
    });
    drop(theirs);
    let real = real.elapsed();
    assert!(
        real >= Duration::from_millis(200),
        "jumped over an outside peer: {real:?}"
    );
}

/// A writer blocked on a full socket whose reader (in this loop) sleeps: the bytes are
/// unread, so the clock keeps real time, and the loop blocks rather than polling every
/// millisecond meanwhile.
#[test]
fn a_full_socket_keeps_real_time_without_spinning() {
    let lp = virtual_loop();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h2 = h.clone();
    let reader = h.spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        h2.sleep(Duration::from_millis(200)).await;
        let mut total = 0usize;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match stream.recv(&mut buf).await.unwrap() {
                0 => return total,
                n => total += n,
            }
        }
    });
    let real = Instant::now();
    let sent = 8 << 20;
    lp.block_on(async {
        let client = TcpStream::connect(&h, addr).await.unwrap();
        client.send_all(&vec![7u8; sent]).await.unwrap();
        client.shutdown(readyloop::net::Shutdown::Write).unwrap();
        assert_eq!(reader.await.unwrap(), sent);
    });
    let real = real.elapsed();
    let turns = h.stats().turns;
    eprintln!("8 MiB through a sleeping reader: real {real:?}, {turns} turns");
    assert!(
        real >= Duration::from_millis(200),
        "jumped over unread bytes: {real:?}"
    );
    // Under valgrind each recv and send is slow enough that the transfer after the reader
    // wakes takes more turns; the wait before it is what must not spin.
    let bound = if common::under_valgrind() { 500 } else { 50 };
    assert!(
        turns < bound,
        "the loop polled while it waited: {turns} turns"
    );
}
