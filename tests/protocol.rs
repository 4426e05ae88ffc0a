//! `create_server` with a `Protocol` (seed 003): echo round trips with concurrent clients,
//! the example's "Connection from PEER" lines, flow control (pause/resume with a bounded
//! buffer), close after flushing, abort, `eof_received` keeping the write side open, a
//! peer reset, `Server::close`, and the `OutputBuffer`'s marks (its property test against a model
//! is integration/tests/protocol_props.rs). Loopback only;
//! every wait is bounded.

mod common;

use common::{within, Fnv, Pattern};
use readyloop::net::__fuzz::{Flow, OutputBuffer};
use readyloop::net::{create_server, Protocol, Shutdown, TcpStream, Transport};
use readyloop::{ErrorKind, Handle, Loop};
use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

/// The bound on each test's loopback work: 30 s, or 120 s under valgrind.
fn limit() -> Duration {
    common::sized(Duration::from_secs(30), Duration::from_secs(120))
}

/// Counts the allocations of each thread, to show the steady state allocates nothing.
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call forwards to the system allocator unchanged; the counter is a
// const-initialised thread-local without a destructor, so touching it never allocates.
unsafe impl std::alloc::GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: as above.
        unsafe { std::alloc::System.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

/// What a protocol was told, in order.
#[derive(Clone, Debug, PartialEq)]
enum Event {
    Made(SocketAddr),
    Data(usize),
    Eof,
    Pause,
    Resume,
    Lost(Option<ErrorKind>),
}

/// The events of every connection of a server, and the largest write buffer seen.
#[derive(Default)]
struct Log {
    events: RefCell<Vec<Event>>,
    max_buffered: Cell<usize>,
    transports: RefCell<Vec<Transport>>,
}

impl Log {
    fn push(&self, e: Event) {
        self.events.borrow_mut().push(e);
    }
    fn count(&self, f: impl Fn(&Event) -> bool) -> usize {
        self.events.borrow().iter().filter(|e| f(e)).count()
    }
    fn lost(&self) -> Vec<Option<ErrorKind>> {
        self.events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::Lost(k) => Some(*k),
                _ => None,
            })
            .collect()
    }
    fn note_buffer(&self, t: &Transport) {
        let n = t.get_write_buffer_size();
        if n > self.max_buffered.get() {
            self.max_buffered.set(n);
        }
    }
}

/// An echo that records everything; `keep_open` is what `eof_received` returns.
struct Echo {
    log: Rc<Log>,
    transport: Option<Transport>,
    echo: bool,
    keep_open: bool,
}

impl Echo {
    fn factory(log: &Rc<Log>, echo: bool, keep_open: bool) -> impl FnMut() -> Echo + 'static {
        let log = log.clone();
        move || Echo {
            log: log.clone(),
            transport: None,
            echo,
            keep_open,
        }
    }
}

impl Protocol for Echo {
    fn connection_made(&mut self, t: &Transport) {
        self.log.push(Event::Made(t.peer_addr()));
        self.log.transports.borrow_mut().push(t.clone());
        self.transport = Some(t.clone());
    }
    fn data_received(&mut self, data: &[u8]) {
        self.log.push(Event::Data(data.len()));
        let t = self.transport.as_ref().unwrap();
        if self.echo {
            t.write(data).expect("echo write");
            self.log.note_buffer(t);
        }
    }
    fn eof_received(&mut self) -> bool {
        self.log.push(Event::Eof);
        self.keep_open
    }
    fn pause_writing(&mut self) {
        self.log.push(Event::Pause);
    }
    fn resume_writing(&mut self) {
        self.log.push(Event::Resume);
    }
    fn connection_lost(&mut self, error: Option<readyloop::Error>) {
        self.log.push(Event::Lost(error.map(|e| e.kind())));
        let t = self.transport.as_ref().unwrap();
        assert!(t.is_closing());
        assert_eq!(
            t.write(b"late").unwrap_err().kind(),
            ErrorKind::Closed,
            "writes after the end must fail"
        );
    }
}

/// Reads until EOF or an error; returns the byte count, the hash, and the error if any.
async fn drain(c: &TcpStream) -> (u64, Fnv, Option<ErrorKind>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    let mut hash = Fnv::default();
    loop {
        match c.recv(&mut buf).await {
            Ok(0) => return (total, hash, None),
            Ok(n) => {
                hash.update(&buf[..n]);
                total += n as u64;
            }
            Err(e) => return (total, hash, Some(e.kind())),
        }
    }
}

/// Waits (bounded) until `cond` holds, polling every millisecond of loop time.
async fn until(h: &Handle, what: &str, cond: impl Fn() -> bool) {
    within(h, limit(), what, async {
        while !cond() {
            h.sleep(Duration::from_millis(1)).await;
        }
    })
    .await
}

#[test]
fn echo_round_trips_with_concurrent_clients() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(Log::default());
    let server = create_server(&h, "127.0.0.1:0", Echo::factory(&log, true, false)).unwrap();
    let addr = server.local_addr();
    const CLIENTS: usize = 20;
    let peers = lp.block_on(within(&h, limit(), "echo clients", async {
        let mut tasks = Vec::new();
        for id in 0..CLIENTS {
            let h2 = h.clone();
            tasks.push(h.spawn(async move {
                let c = Rc::new(TcpStream::connect(&h2, addr).await.unwrap());
                // Small messages one at a time...
                for round in 0..20 {
                    let msg = format!("client {id} round {round}\n");
                    c.send_all(msg.as_bytes()).await.unwrap();
                    let mut back = vec![0u8; msg.len()];
                    c.recv_exact(&mut back).await.unwrap();
                    assert_eq!(back, msg.as_bytes());
                }
                // ...then 256 KiB sent while reading, checked by hash, then half-close.
                let total = 256 * 1024;
                let writer = {
                    let c = c.clone();
                    h2.spawn(async move {
                        let mut pattern = Pattern::new(id as u64 + 1);
                        let mut hash = Fnv::default();
                        let mut chunk = vec![0u8; 8192];
                        for _ in 0..total / chunk.len() {
                            pattern.fill(&mut chunk);
                            hash.update(&chunk);
                            c.send_all(&chunk).await.unwrap();
                        }
                        c.shutdown(Shutdown::Write).unwrap();
                        hash
                    })
                };
                let (n, hash, err) = drain(&c).await;
                assert_eq!(err, None);
                assert_eq!(n, total as u64);
                assert_eq!(hash, writer.await.unwrap());
                c.local_addr().unwrap()
            }));
        }
        let mut peers = Vec::new();
        for t in tasks {
            peers.push(t.await.unwrap());
        }
        until(&h, "all connections lost", || server.connections() == 0).await;
        peers
    }));
    let made: Vec<SocketAddr> = log
        .events
        .borrow()
        .iter()
        .filter_map(|e| match e {
            Event::Made(p) => Some(*p),
            _ => None,
        })
        .collect();
    assert_eq!(made.len(), CLIENTS);
    for p in &peers {
        assert!(made.contains(p), "no connection_made for {p}");
    }
    assert_eq!(log.count(|e| *e == Event::Eof), CLIENTS);
    assert_eq!(log.lost(), vec![None; CLIENTS]);
    let echoed: usize = log
        .events
        .borrow()
        .iter()
        .map(|e| if let Event::Data(n) = e { *n } else { 0 })
        .sum();
    assert!(echoed >= CLIENTS * 256 * 1024);
    // The reader kept up, so an echo never paused; and the buffer stayed small.
    assert!(log.max_buffered.get() <= 64 * 1024 + 16 * 1024);
}

#[test]
fn steady_echo_allocates_nothing_per_chunk() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(Log::default());
    let server = create_server(&h, "127.0.0.1:0", Echo::factory(&log, true, false)).unwrap();
    let (during, rounds) = lp.block_on(async {
        let c = TcpStream::connect(&h, server.local_addr()).await.unwrap();
        let msg = [5u8; 1000];
        let mut back = [0u8; 1000];
        let mut round_trip = async || {
            c.send_all(&msg).await.unwrap();
            c.recv_exact(&mut back).await.unwrap();
        };
        for _ in 0..100 {
            round_trip().await;
        }
        let before = allocations();
        let rounds = 2000u64;
        for _ in 0..rounds {
            round_trip().await;
        }
        (allocations() - before, rounds)
    });
    println!("{during} allocations in {rounds} echo round trips");
    assert!(
        during < rounds / 20,
        "{during} allocations in {rounds} round trips"
    );
}

#[cfg(feature = "signal")]
#[test]
fn example_prints_connection_from_each_client() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = std::process::Command::new(common::example_path("protocol_echo"))
        .arg("127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start protocol_echo");
    let stdout = child.stdout.take().unwrap();
    // Lines arrive on a thread so a silent child cannot hang the test.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let next_line = || {
        rx.recv_timeout(Duration::from_secs(20))
            .expect("protocol_echo printed no line in time")
    };
    let first = next_line();
    let addr: SocketAddr = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line is {first:?}"))
        .parse()
        .unwrap();
    assert_ne!(addr.port(), 0);
    let mut clients = Vec::new();
    for msg in ["Hello\n", "asyncio\n"] {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(msg.as_bytes()).unwrap();
        let mut back = vec![0u8; msg.len()];
        c.read_exact(&mut back).unwrap();
        assert_eq!(back, msg.as_bytes());
        assert_eq!(
            next_line(),
            format!("Connection from {}", c.local_addr().unwrap())
        );
        clients.push(c);
    }
    drop(clients);
    // SAFETY: kill has no memory-safety preconditions; the pid is our live child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = common::wait_bounded(&mut child, Duration::from_secs(10))
        .expect("protocol_echo did not exit after SIGTERM");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(
        rx.recv_timeout(Duration::from_secs(5)).is_err(),
        "extra stdout"
    );
}

#[test]
fn echo_to_a_peer_that_never_reads_pauses_then_resumes() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(Log::default());
    let server = create_server(&h, "127.0.0.1:0", Echo::factory(&log, true, false)).unwrap();
    let addr = server.local_addr();
    lp.block_on(within(&h, limit(), "backpressure", async {
        let c = Rc::new(TcpStream::connect(&h, addr).await.unwrap());
        // Send 32 MiB without reading: far more than the kernel buffers plus the 1 MiB hard
        // limit, so the server must stop reading or fail. (8 MiB under valgrind, where
        // 32 MiB take 20 s: still more than the buffers the kernel gives a peer that never
        // reads.)
        let total: u64 = common::sized(32 << 20, 8 << 20);
        let sender = {
            let c = c.clone();
            h.spawn(async move {
                let mut pattern = Pattern::new(7);
                let mut hash = Fnv::default();
                let mut chunk = vec![0u8; 64 * 1024];
                for _ in 0..total / chunk.len() as u64 {
                    pattern.fill(&mut chunk);
                    hash.update(&chunk);
                    c.send_all(&chunk).await.unwrap();
                }
                c.shutdown(Shutdown::Write).unwrap();
                hash
            })
        };
        until(&h, "pause_writing", || {
            log.count(|e| *e == Event::Pause) > 0
        })
        .await;
        // Stalled while nobody reads; above high water the transport must not read.
        for _ in 0..30 {
            h.sleep(Duration::from_millis(10)).await;
            let t = log.transports.borrow()[0].clone();
            if t.get_write_buffer_size() > 64 * 1024 {
                assert!(!t.is_reading(), "reading must pause above high water");
            }
            log.note_buffer(&t);
        }
        // Now drain: everything comes back, in order.
        let (n, hash, err) = drain(&c).await;
        assert_eq!(err, None);
        assert_eq!(n, total);
        assert_eq!(hash, sender.await.unwrap());
        until(&h, "connection_lost", || !log.lost().is_empty()).await;
    }));
    let pauses = log.count(|e| *e == Event::Pause);
    let resumes = log.count(|e| *e == Event::Resume);
    assert!(
        pauses >= 1 && resumes >= 1,
        "{pauses} pauses, {resumes} resumes"
    );
    assert!(pauses - resumes <= 1);
    // Above high water reading stops, so at most one more read chunk (16 KiB) lands.
    assert!(
        log.max_buffered.get() <= 64 * 1024 + 16 * 1024,
        "buffer grew to {}",
        log.max_buffered.get()
    );
    assert_eq!(log.lost(), vec![None]);
}

/// Writes `total` bytes of a pattern from its own task whenever not paused, then closes.
struct Producer {
    log: Rc<Log>,
    paused: Rc<Cell<bool>>,
    handle: Handle,
    total: usize,
}

impl Protocol for Producer {
    fn connection_made(&mut self, t: &Transport) {
        self.log.push(Event::Made(t.peer_addr()));
        let (t, log, paused, h2) = (
            t.clone(),
            self.log.clone(),
            self.paused.clone(),
            self.handle.clone(),
        );
        let total = self.total;
        self.handle.spawn(async move {
            let mut pattern = Pattern::new(3);
            let mut chunk = vec![0u8; 16 * 1024];
            let mut sent = 0;
            while sent < total {
                if paused.get() {
                    h2.sleep(Duration::from_millis(1)).await;
                    continue;
                }
                pattern.fill(&mut chunk);
                t.write(&chunk).expect("write below the hard limit");
                log.note_buffer(&t);
                sent += chunk.len();
                readyloop::yield_now().await;
            }
            t.close();
        });
    }
    fn data_received(&mut self, _: &[u8]) {}
    fn pause_writing(&mut self) {
        self.paused.set(true);
        self.log.push(Event::Pause);
    }
    fn resume_writing(&mut self) {
        self.paused.set(false);
        self.log.push(Event::Resume);
    }
    fn connection_lost(&mut self, error: Option<readyloop::Error>) {
        self.log.push(Event::Lost(error.map(|e| e.kind())));
    }
}

#[test]
fn producer_pauses_on_high_water_and_close_flushes_everything() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(Log::default());
    // 8 MiB under valgrind (where 16 MiB take 20 s): still more than the kernel buffers
    // (up to 4 MiB to send, and what a peer that does not read takes), so the producer
    // must pause.
    let total = common::sized(16 << 20, 8 << 20);
    let (log2, h2) = (log.clone(), h.clone());
    let server = create_server(&h, "127.0.0.1:0", move || Producer {
        log: log2.clone(),
        paused: Rc::default(),
        handle: h2.clone(),
        total,
    })
    .unwrap();
    let addr = server.local_addr();
    lp.block_on(within(&h, limit(), "producer", async {
        let c = TcpStream::connect(&h, addr).await.unwrap();
        until(&h, "pause_writing", || {
            log.count(|e| *e == Event::Pause) > 0
        })
        .await;
        // Stalled for a while (the kernel may still take some as its buffers grow, which
        // can resume and re-pause the producer; the buffer stays bounded throughout).
        h.sleep(Duration::from_millis(200)).await;
        assert!(log.lost().is_empty());
        let (n, hash, err) = drain(&c).await;
        assert_eq!(err, None, "close must end with EOF after every byte");
        assert_eq!(n, total as u64);
        let mut expected = Fnv::default();
        let mut pattern = Pattern::new(3);
        let mut chunk = vec![0u8; 16 * 1024];
        for _ in 0..total / chunk.len() {
            pattern.fill(&mut chunk);
            expected.update(&chunk);
        }
        assert_eq!(hash, expected);
        until(&h, "connection_lost", || !log.lost().is_empty()).await;
    }));
    assert!(log.count(|e| *e == Event::Resume) >= 1);
    // The producer stops at the first pause: at most one chunk past high water.
    assert!(
        log.max_buffered.get() <= 64 * 1024 + 16 * 1024,
        "buffer grew to {}",
        log.max_buffered.get()
    );
    assert_eq!(log.lost(), vec![None]);
}

/// Runs `f` in `connection_made` and records the end.
struct OnConnect<F: FnMut(&Transport)> {
    log: Rc<Log>,
    f: F,
}

impl<F: FnMut(&Transport)> Protocol for OnConnect<F> {
    fn connection_made(&mut self, t: &Transport) {
        self.log.transports.borrow_mut().push(t.clone());
        (self.f)(t);
    }
    fn data_received(&mut self, data: &[u8]) {
        self.log.push(Event::Data(data.len()));
    }
    fn connection_lost(&mut self, error: Option<readyloop::Error>) {
        self.log.push(Event::Lost(error.map(|e| e.kind())));
    }
}

#[test]
fn write_past_the_hard_limit_fails_and_writes_nothing() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(Log::default());
    let log2 = log.clone();
    let server = create_server(&h, "127.0.0.1:0", move || OnConnect {
        log: log2.clone(),
        f: |t: &Transport| {
            t.set_write_buffer_limits(1024, 256).unwrap(); // hard limit 16 KiB
            let e = t.write(&vec![b'x'; 16 * 1024 + 1]).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Other);
            assert!(e.message().contains("hard limit"), "{e}");
            assert_eq!(t.get_write_buffer_size(), 0);
            t.write(b"small").unwrap();
            t.close();
            assert_eq!(t.write(b"after").unwrap_err().kind(), ErrorKind::Closed);
        },
    })
    .unwrap();
    let got = lp.block_on(within(&h, limit(), "hard limit", async {
        let c = TcpStream::connect(&h, server.local_addr()).await.unwrap();
        let mut all = Vec::new();
        c.read_to_end(&mut all).await.unwrap();
        until(&h, "connection_lost", || !log.lost().is_empty()).await;
        all
    }));
    assert_eq!(got, b"small");
    assert_eq!(log.lost(), vec![None]);
}

#[test]
fn abort_discards_the_buffer_and_resets_the_peer() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(Log::default());
    let log2 = log.clone();
    let total: usize = 24 << 20;
    let server = create_server(&h, "127.0.0.1:0", move || OnConnect {
        log: log2.clone(),
        f: move |t: &Transport| {
            t.set_write_buffer_limits(total, 0).unwrap();
            t.write(&vec![b'a'; total]).unwrap();
            assert!(
                t.get_write_buffer_size() > 0,
                "the kernel took 24 MiB at once?"
            );
            t.abort();
            assert_eq!(t.get_write_buffer_size(), 0);
            assert!(t.is_closing());
        },
    })
    .unwrap();
    lp.block_on(within(&h, limit(), "abort", async {
        let c = TcpStream::connect(&h, server.local_addr()).await.unwrap();
        until(&h, "connection_lost", || !log.lost().is_empty()).await;
        let (n, _, err) = drain(&c).await;
        assert!(
            matches!(err, None | Some(ErrorKind::ConnectionReset)),
            "{err:?}"
        );
        assert!(n < total as u64, "abort delivered everything ({n})");
    }));
    assert_eq!(log.lost(), vec![None]);
}

/// Counts what arrives; at EOF keeps the connection open, answers 50 ms later, closes.
struct Summary {
    log: Rc<Log>,
    handle: Handle,
    transport: Option<Transport>,
    received: usize,
}

impl Protocol for Summary {
    fn connection_made(&mut self, t: &Transport) {
        self.transport = Some(t.clone());
    }
    fn data_received(&mut self, data: &[u8]) {
        self.received += data.len();
    }
    fn eof_received(&mut self) -> bool {
        self.log.push(Event::Eof);
        let t = self.transport.clone().unwrap();
        assert!(!t.is_closing());
        let (h, n) = (self.handle.clone(), self.received);
        self.handle.spawn(async move {
            h.sleep(Duration::from_millis(50)).await;
            t.write(format!("got {n} bytes\n").as_bytes()).unwrap();
            t.close();
        });
        true
    }
    fn connection_lost(&mut self, error: Option<readyloop::Error>) {
        self.log.push(Event::Lost(error.map(|e| e.kind())));
    }
}

#[test]
fn eof_received_true_keeps_the_write_side_open() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(Log::default());
    let (log2, h2) = (log.clone(), h.clone());
    let server = create_server(&h, "127.0.0.1:0", move || Summary {
        log: log2.clone(),
        handle: h2.clone(),
        transport: None,
        received: 0,
    })
    .unwrap();
    let got = lp.block_on(within(&h, limit(), "eof kept open", async {
        let c = TcpStream::connect(&h, server.local_addr()).await.unwrap();
        c.send_all(&[7u8; 100_000]).await.unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut all = Vec::new();
        c.read_to_end(&mut all).await.unwrap();
        until(&h, "connection_lost", || !log.lost().is_empty()).await;
        String::from_utf8(all).unwrap()
    }));
    assert_eq!(got, "got 100000 bytes\n");
    assert_eq!(*log.events.borrow(), vec![Event::Eof, Event::Lost(None)]);
}

#[test]
fn peer_reset_gives_connection_reset_and_the_server_keeps_serving() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(Log::default());
    let server = create_server(&h, "127.0.0.1:0", Echo::factory(&log, true, false)).unwrap();
    let addr = server.local_addr();
    lp.block_on(within(&h, limit(), "reset", async {
        let c = TcpStream::connect(&h, addr).await.unwrap();
        c.send_all(b"ping").await.unwrap();
        let mut back = [0u8; 4];
        c.recv_exact(&mut back).await.unwrap();
        c.set_linger(Some(Duration::ZERO)).unwrap();
        drop(c);
        until(&h, "connection_lost", || !log.lost().is_empty()).await;
        assert_eq!(log.lost(), vec![Some(ErrorKind::ConnectionReset)]);
        // Another client is served as before.
        let d = TcpStream::connect(&h, addr).await.unwrap();
        d.send_all(b"still here").await.unwrap();
        let mut back = [0u8; 10];
        d.recv_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"still here");
    }));
}

#[test]
fn server_close_stops_accepting_but_open_connections_go_on() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(Log::default());
    let server = create_server(&h, "127.0.0.1:0", Echo::factory(&log, true, false)).unwrap();
    let addr = server.local_addr();
    lp.block_on(within(&h, limit(), "server close", async {
        let c = TcpStream::connect(&h, addr).await.unwrap();
        c.send_all(b"one").await.unwrap();
        let mut back = [0u8; 3];
        c.recv_exact(&mut back).await.unwrap();
        assert_eq!(server.connections(), 1);
        server.close();
        assert!(!server.is_serving());
        let refused = TcpStream::connect(&h, addr).await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
        c.send_all(b"two").await.unwrap();
        c.recv_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"two");
        c.shutdown(Shutdown::Write).unwrap();
        assert_eq!(drain(&c).await.0, 0);
        until(&h, "connection_lost", || server.connections() == 0).await;
    }));
    assert_eq!(log.lost(), vec![None]);
}

#[test]
fn dropping_the_loop_tells_open_connections_they_are_cancelled() {
    let log = Rc::new(Log::default());
    {
        let lp = Loop::new().unwrap();
        let h = lp.handle();
        let server = create_server(&h, "127.0.0.1:0", Echo::factory(&log, true, false)).unwrap();
        let _c = lp.block_on(async {
            let c = TcpStream::connect(&h, server.local_addr()).await.unwrap();
            until(&h, "connection_made", || {
                !log.transports.borrow().is_empty()
            })
            .await;
            c
        });
        drop(server);
    }
    assert_eq!(log.lost(), vec![Some(ErrorKind::Cancelled)]);
}

#[test]
fn bad_address_is_an_error_value() {
    let lp = Loop::new().unwrap();
    let log = Rc::new(Log::default());
    let e = create_server(&lp.handle(), "nonsense", Echo::factory(&log, true, false)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

// ---- OutputBuffer ----

#[test]
fn output_buffer_water_marks_have_hysteresis() {
    let mut b = OutputBuffer::new();
    b.set_limits(10, 4).unwrap();
    assert_eq!(b.push(&[1; 10]).unwrap(), Flow::Unchanged); // at high: not above
    assert_eq!(b.push(&[2]).unwrap(), Flow::Pause);
    assert_eq!(b.consume(3), (3, Flow::Unchanged)); // 8 left: still paused
    assert!(b.is_paused());
    assert_eq!(b.consume(4), (4, Flow::Resume)); // 4 left: at low
    assert_eq!(b.push(&[3; 6]).unwrap(), Flow::Unchanged); // 10: not above high
    assert_eq!(b.front(), &[1, 1, 1, 2, 3, 3, 3, 3, 3, 3][..]);
    assert_eq!(b.clear(), Flow::Unchanged);
    assert!(b.set_limits(0, 0).is_err());
    assert!(b.set_limits(3, 4).is_err());
    assert!(b.set_limits(usize::MAX / 2, 0).is_err());
}

#[test]
fn output_buffer_reuses_its_storage() {
    let mut b = OutputBuffer::new();
    let chunk = [9u8; 1000];
    b.push(&chunk[..500]).unwrap();
    for _ in 0..1000 {
        b.push(&chunk).unwrap();
        assert_eq!(b.consume(1000).0, 1000);
    }
    // 500 bytes left after every round: the consumed front is reclaimed, not grown past.
    assert_eq!(b.len(), 500);
    assert!(b.capacity() <= 8192, "capacity {}", b.capacity());
}
