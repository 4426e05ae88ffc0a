//! The "Testing with readyloop" chapter as a test file: a small line-protocol server
//! (`PING` -> `PONG`, `ECHO text` -> `text`, `SUM a b` -> the sum, anything else -> `ERR`,
//! and the connection closes after an idle timeout) tested with every tool of the kit:
//! the virtual clock with real sockets, seeded task orders, faults inside the loop, a fault
//! proxy on the wire, the seed that replays them, the stuck report that names sockets and
//! lines, and the hog watchdog. Copy it as the start of your own.
//!
//! Run:   cargo test --test testing_kit
//! Replay a fault seed:   READYLOOP_FAULT_SEED=<the seed it printed> cargo test --test testing_kit
//! Replay a task order:   READYLOOP_SEED=<the seed it printed> cargo test --test testing_kit

use readyloop::net::{LineReader, Shutdown, TcpListener, TcpStream};
use readyloop::testing::{Ending, FaultProxy, FaultRates, FaultSeed, Injection, Link};
use readyloop::{FdKind, Handle, HogReport, Loop, TimerKind, WaitReport};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---- the server under test ------------------------------------------------------------

/// One reply per request line.
fn answer(line: &str) -> String {
    let mut words = line.split_whitespace();
    match words.next() {
        Some("PING") => "PONG".into(),
        Some("ECHO") => line.trim_start()[4..].trim_start().into(),
        Some("SUM") => {
            let sum: Option<i64> = words.map(|w| w.parse::<i64>().ok()).sum();
            sum.map_or("ERR not a number".into(), |s| s.to_string())
        }
        _ => "ERR unknown command".into(),
    }
}

/// Serves one connection: a reply per line, until the client closes or is idle for `idle`.
async fn serve(h: Handle, conn: TcpStream, idle: Duration) {
    let conn = Rc::new(conn);
    let mut lines = LineReader::new(&*conn);
    loop {
        let line = match h.timeout(idle, lines.next_line()).await {
            Ok(Ok(Some(line))) => line,
            Ok(Ok(None)) | Ok(Err(_)) => return,
            Err(_elapsed) => {
                let _ = conn.send_all(b"BYE idle\n").await;
                return;
            }
        };
        let mut reply = answer(&line);
        reply.push('\n');
        if conn.send_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Starts the server on `h`: its address.
fn start_server(h: &Handle, idle: Duration) -> SocketAddr {
    let listener = TcpListener::bind(h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    h.spawn_named("acceptor", {
        let h = h.clone();
        async move {
            while let Ok((conn, _)) = listener.accept().await {
                h.spawn_named("connection", serve(h.clone(), conn, idle));
            }
        }
    });
    addr
}

// ---- a client ------------------------------------------------------------------------

/// The requests every test sends, and the replies they must get, in order.
fn script() -> (String, String) {
    let (mut requests, mut replies) = (String::new(), String::new());
    for i in 0..300 {
        let (q, a) = match i % 4 {
            0 => ("PING".to_string(), "PONG".to_string()),
            1 => (
                format!("ECHO line {i} with some text"),
                format!("line {i} with some text"),
            ),
            2 => (format!("SUM {i} {} -5", i * 3), (i + i * 3 - 5).to_string()),
            _ => ("HELLO".to_string(), "ERR unknown command".to_string()),
        };
        requests.push_str(&q);
        requests.push('\n');
        replies.push_str(&a);
        replies.push('\n');
    }
    (requests, replies)
}

/// Sends the whole script at once (pipelined) and reads every reply.
async fn run_script(h: &Handle, addr: SocketAddr) -> String {
    let (requests, _) = script();
    let conn = Rc::new(TcpStream::connect(h, addr).await.unwrap());
    let sender = h.spawn({
        let conn = conn.clone();
        async move {
            conn.send_all(requests.as_bytes()).await.unwrap();
            conn.shutdown(Shutdown::Write).unwrap();
        }
    });
    let mut replies = Vec::new();
    conn.read_to_end(&mut replies).await.unwrap();
    sender.await.unwrap();
    String::from_utf8(replies).unwrap()
}

// ---- the tests -------------------------------------------------------------------------

/// The plain case: every reply, in order.
#[readyloop::test(timeout = "10s")]
async fn answers_every_line(h: Handle) {
    let addr = start_server(&h, Duration::from_secs(30));
    assert_eq!(run_script(&h, addr).await, script().1);
}

/// Faults inside the loop on every socket (server and client): spurious EAGAIN and EINTR,
/// short reads and short writes. The seed comes from READYLOOP_FAULT_SEED when set, and is
/// printed if the test fails.
#[readyloop::test(timeout = "10s")]
async fn answers_every_line_under_partial_io(h: Handle) {
    let seed = FaultSeed::from_env();
    let addr = start_server(&h, Duration::from_secs(30));
    let faults = Injection::on_every_socket(seed.derive(0), FaultRates::all(0.25));
    assert_eq!(run_script(&h, addr).await, script().1);
    let c = faults.counts();
    assert!(
        c.eagain > 0 && c.eintr > 0 && c.short_reads > 0 && c.short_writes > 0,
        "{c:?}"
    );
}

/// On the wire: the requests arrive a few bytes at a time (seeded sizes), the replies with
/// 20 ms of latency and a 100 ms stall midway.
#[readyloop::test(timeout = "10s")]
async fn answers_every_line_through_a_bad_network(h: Handle) {
    let seed = FaultSeed::from_env();
    let addr = start_server(&h, Duration::from_secs(30));
    let proxy = FaultProxy::start(
        addr,
        Link::new().random_chunks(1, 7),
        Link::new()
            .latency(Duration::from_millis(20))
            .stall_after(1_000, Duration::from_millis(100)),
        seed.derive(1),
    )
    .unwrap();
    let start = Instant::now();
    assert_eq!(run_script(&h, proxy.local_addr()).await, script().1);
    assert!(start.elapsed() >= Duration::from_millis(120));
    let c = proxy.counts();
    // Every request byte went through in pieces of at most 7 bytes (about 4,000 bytes, so
    // 580 writes or more; the count itself depends on the seed).
    assert_eq!(c.to_server.bytes, script().0.len() as u64, "{c:?}");
    assert!(c.to_server.writes * 7 >= c.to_server.bytes, "{c:?}");
    assert_eq!(c.to_client.stalls, 1, "{c:?}");
}

/// A client whose connection is reset midway does not disturb the server: the next client
/// gets every answer.
#[readyloop::test(timeout = "10s")]
async fn survives_a_reset_client(h: Handle) {
    let addr = start_server(&h, Duration::from_secs(30));
    let proxy = FaultProxy::start(
        addr,
        Link::new().end_after(500, Ending::Reset),
        Link::new(),
        0,
    )
    .unwrap();
    let conn = TcpStream::connect(&h, proxy.local_addr()).await.unwrap();
    let _ = conn.send_all(script().0.as_bytes()).await;
    let mut sink = Vec::new();
    let _ = conn.read_to_end(&mut sink).await; // ECONNRESET, after some replies
    assert_eq!(proxy.counts().to_server.resets, 1);
    assert_eq!(run_script(&h, addr).await, script().1);
}

/// How much real time a virtual-clock test may take: half a second (memcheck, which
/// `READYLOOP_UNDER_VALGRIND` announces, runs the same work some 20 times slower).
fn real_time_bound() -> Duration {
    let slack = if std::env::var_os("READYLOOP_UNDER_VALGRIND").is_some() {
        20
    } else {
        1
    };
    Duration::from_millis(500) * slack
}

/// A silent client is closed after the production idle timeout of 30 s: on the virtual
/// clock the loop skips the quiet time (both ends of the connection are sockets of this
/// loop with nothing in flight), so the test takes milliseconds of real time.
#[readyloop::test(virtual_clock, timeout = "10s")]
async fn closes_an_idle_client_after_30_s(h: Handle) {
    let real = Instant::now();
    let addr = start_server(&h, Duration::from_secs(30));
    let conn = TcpStream::connect(&h, addr).await.unwrap();
    let start = h.now();
    let mut bye = Vec::new();
    conn.read_to_end(&mut bye).await.unwrap();
    assert_eq!(bye, b"BYE idle\n");
    let waited = h.now() - start;
    assert!(
        waited >= Duration::from_secs(30),
        "closed early: {waited:?}"
    );
    assert!(waited < Duration::from_secs(31), "closed late: {waited:?}");
    assert!(real.elapsed() < real_time_bound(), "{:?}", real.elapsed());
}

/// Activity restarts the idle timer: a client that speaks every 25 s keeps its connection,
/// and is closed 30 s after it falls silent. The client's own sleeps and the server's
/// timeout both run on the virtual clock; `h.advance` moves it by hand.
#[readyloop::test(virtual_clock, timeout = "10s")]
async fn activity_restarts_the_idle_timer(h: Handle) {
    let real = Instant::now();
    let addr = start_server(&h, Duration::from_secs(30));
    let conn = TcpStream::connect(&h, addr).await.unwrap();
    let mut lines = LineReader::new(&conn);
    let start = h.now();
    for _ in 0..3 {
        h.sleep(Duration::from_secs(25)).await;
        conn.send_all(b"PING\n").await.unwrap();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("PONG"));
    }
    h.advance(Duration::from_secs(29)).await; // 29 s of silence: still open
    conn.send_all(b"SUM 2 2\n").await.unwrap();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("4"));
    assert_eq!(
        lines.next_line().await.unwrap().as_deref(),
        Some("BYE idle")
    );
    assert_eq!(lines.next_line().await.unwrap(), None);
    let closed_at = h.now() - start;
    assert!(
        closed_at >= Duration::from_secs(75 + 29 + 30),
        "{closed_at:?}"
    );
    assert!(real.elapsed() < real_time_bound(), "{:?}", real.elapsed());
}

/// Several clients at once, under 32 task orders (`shuffle = 32`: the loop runs the tasks
/// woken in a turn in an order drawn from the seed, seeds 0..32). Each client's replies
/// must be its own, complete and in order, whatever the interleaving; a failure names the
/// seed, and `READYLOOP_SEED=<seed>` replays that order.
#[readyloop::test(shuffle = 32, timeout = "20s")]
async fn concurrent_clients_get_their_own_replies_in_any_order(h: Handle) {
    let addr = start_server(&h, Duration::from_secs(30));
    let finished = Rc::new(RefCell::new(Vec::new()));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (h2, finished) = (h.clone(), finished.clone());
            h.spawn(async move {
                let conn = TcpStream::connect(&h2, addr).await.unwrap();
                let mut lines = LineReader::new(&conn);
                for i in 0..20 {
                    let line = format!("ECHO client {client} line {i}\n");
                    conn.send_all(line.as_bytes()).await.unwrap();
                    let reply = lines.next_line().await.unwrap();
                    assert_eq!(reply, Some(format!("client {client} line {i}")));
                }
                finished.borrow_mut().push(client);
            })
        })
        .collect();
    for c in clients {
        c.await.unwrap();
    }
    assert_eq!(finished.borrow().len(), 4);
}

/// When a test is stuck, the report says which socket each task waits on (kind, addresses,
/// bytes queued, TCP state) and which line armed each timer.
#[test]
fn a_stuck_exchange_names_the_socket_and_the_line() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let addr = start_server(&h, Duration::from_secs(30));
    let stuck = lp
        .block_on_timeout(Duration::from_millis(100), {
            let h = h.clone();
            async move {
                let conn = TcpStream::connect(&h, addr).await.unwrap();
                // The bug: waits for a reply to a request it never sent.
                let mut buf = [0u8; 16];
                conn.recv(&mut buf).await
            }
        })
        .unwrap_err();
    let text = stuck.to_string();
    let report = stuck.report();
    let connection = report
        .tasks()
        .iter()
        .find(|t| t.name.as_deref() == Some("connection"))
        .unwrap();
    // The server's connection task: reading its socket, with its idle timeout's line.
    let fd_wait = connection.waits.iter().find_map(|w| match w {
        WaitReport::Fd { object, .. } => Some(object),
        _ => None,
    });
    assert_eq!(fd_wait.unwrap().kind, FdKind::TcpSocket, "{text}");
    assert_eq!(fd_wait.unwrap().local, Some(addr.to_string()), "{text}");
    let timer = connection.waits.iter().find_map(|w| match w {
        WaitReport::Timer { origin, .. } => *origin,
        _ => None,
    });
    assert_eq!(timer.unwrap().kind, TimerKind::Timeout, "{text}");
    assert!(text.contains("(timeout at tests/testing_kit.rs:"), "{text}");
    assert!(
        text.contains("block_on future waiting READABLE on fd"),
        "{text}"
    );
    assert!(text.contains(&format!("-> {addr}")), "{text}");
}

/// A handler that blocks the loop (here a blocking sleep standing in for blocking I/O or a
/// long computation) is named by the hog watchdog while it runs.
#[test]
fn the_watchdog_names_a_handler_that_blocks() {
    let seen: Arc<Mutex<Vec<HogReport>>> = Arc::default();
    let sink = seen.clone();
    let lp = Loop::builder()
        .hog_watchdog_with(Duration::from_millis(50), move |r| {
            sink.lock().unwrap().push(r.clone())
        })
        .build()
        .unwrap();
    let h = lp.handle();
    lp.block_on(h.spawn_named("slow handler", async {
        std::thread::sleep(Duration::from_millis(200));
    }))
    .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].name.as_deref(), Some("slow handler"));
}
