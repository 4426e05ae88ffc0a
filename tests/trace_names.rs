//! The trace names every fd the first time it appears in a wait (listener, connection with
//! its peer, the loop's notifier, the signal pipe), and says why a wait was interrupted.

use readyloop::net::{TcpListener, TcpStream};
use readyloop::signal::{Signal, Signals};
use readyloop::trace::TraceEvent;
use readyloop::Loop;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// A loop whose trace lines land in the returned list.
fn traced_loop() -> (Loop, Rc<RefCell<Vec<String>>>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let lp = Loop::builder()
        .trace(move |_at, ev: &TraceEvent<'_>| log.borrow_mut().push(ev.to_string()))
        .build()
        .unwrap();
    (lp, seen)
}

#[test]
fn each_fd_is_named_once_with_its_peer_address() {
    let (lp, seen) = traced_loop();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client_addr = lp.block_on({
        let h = h.clone();
        async move {
            let server = h.spawn(async move {
                let (conn, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 64];
                for _ in 0..3 {
                    let n = conn.recv(&mut buf).await.unwrap();
                    conn.send(&buf[..n]).await.unwrap();
                }
            });
            // The server waits on the listener before anyone connects.
            h.sleep(Duration::from_millis(20)).await;
            let client = TcpStream::connect(&h, addr).await.unwrap();
            let mine = client.local_addr().unwrap();
            let mut buf = [0u8; 64];
            for _ in 0..3 {
                client.send(b"ping").await.unwrap();
                client.recv(&mut buf).await.unwrap();
            }
            server.await.unwrap();
            mine
        }
    });
    let seen = seen.borrow();
    let names: Vec<&String> = seen.iter().filter(|l| l.contains(" is ")).collect();
    let listener_line = format!("is TCP listener {addr}");
    let peer_line = format!("is TCP socket {addr} -> {client_addr}");
    assert_eq!(
        names.iter().filter(|l| l.ends_with(&listener_line)).count(),
        1,
        "{seen:#?}"
    );
    assert_eq!(
        names.iter().filter(|l| l.ends_with(&peer_line)).count(),
        1,
        "{seen:#?}"
    );
    // Every fd of every wait was named before (or in) the first wait it appears in, once.
    let mut named = std::collections::BTreeSet::new();
    for line in seen.iter() {
        if let Some(rest) = line.strip_prefix("fd ") {
            if let Some((fd, _)) = rest.split_once(" is ") {
                assert!(
                    named.insert(fd.to_string()),
                    "fd {fd} named twice: {seen:#?}"
                );
            }
        }
    }
    assert!(!named.is_empty(), "{seen:#?}");
}

#[test]
fn a_wait_interrupted_by_sigusr1_says_so() {
    let (lp, seen) = traced_loop();
    let h = lp.handle();
    let mut signals = Signals::new(&h, &[Signal::Usr1]).unwrap();
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() };
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        // SAFETY: the loop thread is alive (joined below, after the loop returned) and a
        // `Signals` for SIGUSR1 exists, so the signal runs readyloop's handler.
        unsafe { libc::pthread_kill(me, libc::SIGUSR1) };
    });
    let got = lp.block_on(h.timeout(Duration::from_secs(5), signals.recv()));
    sender.join().unwrap();
    assert!(got.is_ok(), "no signal within 5 s");
    let seen = seen.borrow();
    assert!(
        seen.iter()
            .any(|l| l == "wait interrupted (EINTR) by signal 10 (SIGUSR1)"),
        "{seen:#?}"
    );
    assert!(
        seen.iter().any(|l| l.ends_with(" is signal pipe")),
        "{seen:#?}"
    );
}

#[test]
fn the_syscall_level_shows_accept_recv_send_and_eagain() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let lp = Loop::builder()
        .trace(move |_at, ev: &TraceEvent<'_>| log.borrow_mut().push(ev.to_string()))
        .trace_syscalls()
        .build()
        .unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client_addr = lp.block_on({
        let h = h.clone();
        async move {
            let server = h.spawn(async move {
                let (conn, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 64];
                let n = conn.recv(&mut buf).await.unwrap();
                conn.send(&buf[..n]).await.unwrap();
            });
            h.sleep(Duration::from_millis(20)).await;
            let client = TcpStream::connect(&h, addr).await.unwrap();
            let mine = client.local_addr().unwrap();
            client.send(&[1u8; 64]).await.unwrap();
            let mut buf = [0u8; 64];
            client.recv_exact(&mut buf).await.unwrap();
            server.await.unwrap();
            mine
        }
    });
    let seen = seen.borrow();
    let has = |pred: &dyn Fn(&str) -> bool| seen.iter().any(|l| pred(l));
    assert!(
        has(&|l| l.starts_with("accept fd ") && l.ends_with("-> EAGAIN")),
        "{seen:#?}"
    );
    let from = format!(" from {client_addr}");
    assert!(
        has(&|l| l.starts_with("accept fd ") && l.ends_with(&from)),
        "{seen:#?}"
    );
    assert!(
        has(&|l| l.starts_with("recv fd ") && l.ends_with("-> 64 B")),
        "{seen:#?}"
    );
    assert!(
        has(&|l| l.starts_with("recv fd ") && l.ends_with("-> EAGAIN")),
        "{seen:#?}"
    );
    assert!(
        has(&|l| l.starts_with("send fd ") && l.ends_with("-> 64 B")),
        "{seen:#?}"
    );
}

#[test]
fn without_the_syscall_level_no_syscall_is_traced() {
    let (lp, seen) = traced_loop();
    let h = lp.handle();
    let (a, b) = readyloop::net::UnixStream::pair(&h).unwrap();
    lp.block_on(async move {
        a.send(b"x").await.unwrap();
        let mut buf = [0u8; 1];
        b.recv(&mut buf).await.unwrap();
    });
    let seen = seen.borrow();
    assert!(
        !seen
            .iter()
            .any(|l| l.contains(" -> ") && l.starts_with("send")),
        "{seen:#?}"
    );
    assert!(!seen.iter().any(|l| l.starts_with("recv fd")), "{seen:#?}");
}

#[test]
fn an_async_pipe_is_named_with_its_label() {
    let (lp, seen) = traced_loop();
    let h = lp.handle();
    let (r, mut w) = std::io::pipe().unwrap();
    let r = readyloop::Async::new(&h, r).unwrap().label("config pipe");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        std::io::Write::write_all(&mut w, b"x").unwrap();
    });
    lp.block_on(async {
        let mut buf = [0u8; 1];
        r.read(&mut buf).await.unwrap();
    });
    writer.join().unwrap();
    let seen = seen.borrow();
    assert_eq!(
        seen.iter()
            .filter(|l| l.ends_with(" is pipe \"config pipe\""))
            .count(),
        1,
        "{seen:#?}"
    );
}

#[test]
fn the_loops_notifier_is_named_when_a_wait_includes_it() {
    let (lp, seen) = traced_loop();
    let h = lp.handle();
    // A blocking job's completion comes from another thread: the wait watches the notifier.
    lp.block_on(h.spawn_blocking(|| std::thread::sleep(Duration::from_millis(20))))
        .unwrap();
    let seen = seen.borrow();
    let notifier = seen
        .iter()
        .filter(|l| l.ends_with(" is the loop's notifier (eventfd)"))
        .count();
    assert_eq!(notifier, 1, "{seen:#?}");
}
