//! Accept when the process is out of fds (EMFILE): the listener backs off on a timer
//! instead of spinning, keeps its other connections, and recovers once fds are freed.
//! One test in its own file (its own process): it lowers the fd limit and fills the table.
//!
//! Under valgrind the fd limit is valgrind's own: the kernel accepts the connection, then
//! valgrind sees the new fd is past the limit, closes it and returns EMFILE, so every
//! attempt while out of fds costs a waiting connection. There the test queues 150 clients
//! (each has sent its "hello" already): backing off, the loop spends about 15 of them in
//! the 300 ms; spinning, it would spend all 150, in as many polls. After the fds are freed
//! the first client left is served.

mod common;

use common::within;
use readyloop::net::TcpListener;
use readyloop::Loop;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::time::Duration;

#[test]
fn accept_backs_off_when_out_of_fds_and_recovers() {
    // A small table so filling it is quick whatever the machine's limit.
    common::set_fd_limit(256);

    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();

    // An established connection that keeps working throughout.
    let mut keeper = std::net::TcpStream::connect(addr).unwrap();
    let (kept, _) = lp.block_on(listener.accept()).unwrap();

    // A client whose connection waits in the backlog (made before the fds run out); under
    // valgrind, 150 of them, each with its "hello" sent.
    let mut queued: Vec<std::net::TcpStream> = (0..common::sized(1, 150))
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    if common::under_valgrind() {
        for c in &mut queued {
            c.write_all(b"hello").unwrap();
        }
    }

    // Fill the fd table.
    let null = std::fs::File::open("/dev/null").unwrap();
    let mut hoard: Vec<OwnedFd> = Vec::new();
    loop {
        match null.try_clone() {
            Ok(f) => hoard.push(f.into()),
            Err(e) if e.raw_os_error() == Some(24) => break,
            Err(e) => panic!("dup: {e}"),
        }
    }
    assert!(!hoard.is_empty());

    let accepting = h.spawn({
        let h = h.clone();
        async move {
            let (stream, _) = within(&h, Duration::from_secs(10), "accept", listener.accept())
                .await
                .unwrap();
            let mut buf = [0u8; 5];
            stream.recv_exact(&mut buf).await.unwrap();
            stream.send_all(&buf).await.unwrap();
            buf
        }
    });

    // For 300 ms the accept cannot succeed. Count the loop's polls meanwhile, while the
    // kept connection goes on working.
    let polls_before = h.stats().polls;
    lp.block_on(async {
        let start = std::time::Instant::now();
        keeper.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        kept.recv_exact(&mut buf).await.unwrap();
        kept.send_all(&buf).await.unwrap();
        let remaining = Duration::from_millis(300).saturating_sub(start.elapsed());
        h.sleep(remaining).await;
    });
    let mut echoed = [0u8; 4];
    keeper.read_exact(&mut echoed).unwrap();
    assert_eq!(&echoed, b"ping");
    let polls = h.stats().polls - polls_before;
    assert!(!accepting.is_finished());
    // A 20 ms backoff makes about 15 polls in 300 ms; spinning would make many thousands.
    assert!(
        polls < 100,
        "the loop spun while out of fds: {polls} polls in 300 ms"
    );
    eprintln!("out of fds: {polls} polls in 300 ms");

    // Free the fds: the pending connection is accepted and served.
    drop(hoard);
    if common::under_valgrind() {
        let got = lp.block_on(accepting).unwrap();
        assert_eq!(&got, b"hello");
        served_under_valgrind(queued);
        return;
    }
    let mut client = queued.pop().unwrap();
    client.write_all(b"hello").unwrap();
    let got = lp.block_on(accepting).unwrap();
    assert_eq!(&got, b"hello");
    let mut back = [0u8; 5];
    client.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"hello");
}

/// Under valgrind: the clients whose connection valgrind closed come first (each attempt
/// while out of fds took the oldest), then the one served (its "hello" echoed), then the
/// rest (reset when the listener closed with them still queued).
fn served_under_valgrind(queued: Vec<std::net::TcpStream>) {
    let mut states = String::new();
    for mut c in queued {
        c.set_nonblocking(true).unwrap();
        let mut back = [0u8; 5];
        states.push(match c.read(&mut back) {
            Ok(0) => 'c',
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 'c',
            Ok(5) if &back == b"hello" => 's',
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 'w',
            other => panic!("a queued client read {other:?}"),
        });
    }
    let spent = states.find('s').expect("no client was served");
    eprintln!("out of fds under valgrind: {spent} queued connections spent");
    assert!(
        states[..spent].chars().all(|s| s == 'c') && states.matches('s').count() == 1,
        "closed, served once, the rest: {states}"
    );
    // One spent per accept attempt: about as many as the polls (a spin would spend all).
    assert!((1..100).contains(&spent), "{spent} connections spent");
}
