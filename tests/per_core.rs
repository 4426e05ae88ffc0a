//! One loop per core: `multi::serve_per_core` runs N loops on N threads, each with its own
//! `SO_REUSEPORT` listener on one port. The kernel spreads connections over the listeners
//! by a hash of the client's address and port, so with 200 connections every loop serves
//! some; `stop` then reaches every loop, every thread joins, and the process has exactly
//! the fds it had before. The tests share a lock: each counts the process's fds.

use readyloop::multi::{serve_per_core, Loops};
use readyloop::net::{echo, BindOptions, TcpListener};
use readyloop::ErrorKind;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::Duration;

const LOOPS: usize = 2;
const CONNECTIONS: usize = 200;

/// One test at a time: the fd counts are per process.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Joins `loops` on a helper thread, failing the test if that takes more than 10 s.
fn join_within(loops: Loops) {
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || done_tx.send(loops.join()).unwrap());
    done_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the loops did not all stop within 10 s")
        .expect("a loop thread panicked");
}

/// Echo servers on `LOOPS` loops sharing one port; `served[i]` counts loop i's connections.
/// Loop 0 binds port 0 and publishes the port; the setups run in index order, so the
/// others bind the same one.
fn start_echo_loops(served: Arc<Vec<AtomicUsize>>, pin: bool) -> (Loops, u16) {
    let port = Arc::new(AtomicU16::new(0));
    let shared_port = port.clone();
    let loops = serve_per_core(LOOPS, pin, move |h, index| {
        let opts = BindOptions::new().reuse_port(true);
        let listener =
            TcpListener::bind_with(h, ("127.0.0.1", shared_port.load(Ordering::SeqCst)), &opts)?;
        shared_port.store(listener.local_addr()?.port(), Ordering::SeqCst);
        let served = served.clone();
        let spawner = h.clone();
        h.spawn(async move {
            while let Ok((conn, _peer)) = listener.accept().await {
                served[index].fetch_add(1, Ordering::SeqCst);
                spawner.spawn(async move {
                    let mut buf = [0u8; 64];
                    let _ = echo(&conn, &mut buf).await;
                });
            }
        });
        Ok(())
    })
    .unwrap();
    let port = port.load(Ordering::SeqCst);
    assert_ne!(port, 0);
    (loops, port)
}

/// One round trip on a new connection, bounded by a 5 s timeout.
fn ping(port: u16) -> TcpStream {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(b"ping").unwrap();
    let mut reply = [0u8; 4];
    c.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"ping");
    c
}

#[test]
fn connections_spread_over_the_loops_and_stop_reaches_every_loop() {
    let _serial = serial();
    let before = open_fds();
    let served: Arc<Vec<AtomicUsize>> = Arc::new((0..LOOPS).map(|_| AtomicUsize::new(0)).collect());
    let (loops, port) = start_echo_loops(served.clone(), false);
    assert_eq!(loops.len(), LOOPS);

    // A client thread makes 200 connections, one round trip each, keeping the last 10 open.
    let client = std::thread::spawn(move || {
        let mut kept = Vec::new();
        for i in 0..CONNECTIONS {
            let c = ping(port);
            if i >= CONNECTIONS - 10 {
                kept.push(c);
            }
        }
        kept
    });
    let mut kept = client.join().unwrap();
    let counts: Vec<usize> = served.iter().map(|n| n.load(Ordering::SeqCst)).collect();
    eprintln!("connections per loop: {counts:?}");
    assert_eq!(counts.iter().sum::<usize>(), CONNECTIONS);
    assert!(
        counts.iter().all(|&n| n > 0),
        "a loop got no connection: {counts:?}"
    );

    // Stop with connections still open: every loop ends, and each drops its tasks, which
    // closes those connections (the clients read end of file or a reset, not a hang).
    loops.stop();
    join_within(loops);
    for c in &mut kept {
        let mut buf = [0u8; 1];
        match c.read(&mut buf) {
            Ok(0) | Err(_) => {}
            Ok(n) => panic!("read {n} bytes from a connection of a stopped loop"),
        }
    }
    drop(kept);
    assert_eq!(open_fds(), before, "fds leaked by the loops");
}

#[test]
fn pinned_loops_each_run_on_one_cpu_of_their_own() {
    let _serial = serial();
    let before = open_fds();
    let allowed = rustix::thread::sched_getaffinity(None).unwrap();
    let cpus: Vec<usize> = (0..rustix::thread::CpuSet::MAX_CPU)
        .filter(|&c| allowed.is_set(c))
        .collect();
    assert_eq!(readyloop::multi::cpu_count(), cpus.len());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let loops = serve_per_core(LOOPS, true, move |_h, index| {
        // Setup runs on the loop's own thread, after pinning.
        let set = rustix::thread::sched_getaffinity(None).unwrap();
        let mine: Vec<usize> = (0..rustix::thread::CpuSet::MAX_CPU)
            .filter(|&c| set.is_set(c))
            .collect();
        record.lock().unwrap().push((index, mine));
        Ok(())
    })
    .unwrap();
    loops.stop();
    join_within(loops);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), LOOPS);
    for (index, mine) in &seen {
        assert_eq!(mine, &vec![cpus[index % cpus.len()]], "loop {index}");
    }
    // The calling thread keeps its own mask.
    assert_eq!(
        rustix::thread::sched_getaffinity(None).unwrap().count(),
        cpus.len() as u32
    );
    assert_eq!(open_fds(), before);
}

#[test]
fn a_failed_setup_stops_the_loops_already_started() {
    let _serial = serial();
    let before = open_fds();
    let first_port = Arc::new(AtomicU16::new(0));
    let port = first_port.clone();
    // Loop 1 binds without SO_REUSEPORT: the port is taken, and the start fails as a whole.
    let failed = serve_per_core(LOOPS, false, move |h, index| {
        let opts = if index == 0 {
            BindOptions::new().reuse_port(true)
        } else {
            BindOptions::new()
        };
        let listener =
            TcpListener::bind_with(h, ("127.0.0.1", port.load(Ordering::SeqCst)), &opts)?;
        port.store(listener.local_addr()?.port(), Ordering::SeqCst);
        h.spawn(async move {
            let _ = listener.accept().await;
        });
        Ok(())
    });
    assert_eq!(failed.unwrap_err().kind(), ErrorKind::AddrInUse);
    // Loop 0's listener is gone with its loop: nothing accepts on the port any more.
    let refused = TcpStream::connect(("127.0.0.1", first_port.load(Ordering::SeqCst)));
    assert_eq!(
        refused.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    assert_eq!(open_fds(), before);

    let zero = serve_per_core(0, false, |_, _| Ok(()));
    assert_eq!(zero.unwrap_err().kind(), ErrorKind::InvalidInput);

    let panicked = serve_per_core(LOOPS, false, |_, index| {
        assert_ne!(index, 1, "setup of loop 1 panics (expected by the test)");
        Ok(())
    });
    assert_eq!(panicked.unwrap_err().kind(), ErrorKind::Other);
    assert_eq!(open_fds(), before);
}

#[test]
fn dropping_the_loops_stops_and_joins_them() {
    let _serial = serial();
    let before = open_fds();
    let served: Arc<Vec<AtomicUsize>> = Arc::new((0..LOOPS).map(|_| AtomicUsize::new(0)).collect());
    let (loops, port) = start_echo_loops(served, false);
    drop(ping(port));
    drop(loops); // stops every loop and waits for its thread
    let refused = TcpStream::connect(("127.0.0.1", port));
    assert_eq!(
        refused.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    assert_eq!(open_fds(), before);
}
