//! # Testing with readyloop
//!
//! Integration tests against real sockets on localhost, with time you control, faults you
//! choose, and failures that say what was stuck and where. This module holds documentation
//! only; `tests/testing_kit.rs` is the same chapter as a runnable test file (a small
//! line-protocol server tested with every tool below).
//!
//! ## 1. A test is a loop with a deadline
//!
//! `#[readyloop::test]` (feature `macros`) runs the body on a fresh loop and fails it, rather
//! than hanging, when its deadline passes (30 s unless `timeout = "..."`):
//!
//! ```
//! # #[cfg(feature = "macros")]
//! #[readyloop::test(timeout = "5s")]
//! async fn ping(h: readyloop::Handle) {
//!     let (a, b) = readyloop::net::UnixStream::pair(&h).unwrap();
//!     a.send_all(b"PING\n").await.unwrap();
//!     let mut line = String::new();
//!     readyloop::net::LineReader::new(&b).read_line(&mut line).await.unwrap();
//!     assert_eq!(line, "PING\n");
//! }
//! ```
//!
//! A stuck test panics at the test's own file and line, with the report of every pending
//! task (section 5). Without the macro, [`Loop::block_on_timeout`](crate::Loop::block_on_timeout)
//! does the same and returns the [`Stuck`](crate::Stuck) report as a value.
//!
//! ## 2. Time: the virtual clock that understands sockets
//!
//! With the virtual clock the loop's time jumps to the next deadline when every task waits
//! on a timer or on an fd that is provably quiet: nothing ready, and for a connected socket
//! whose other end is a socket of this loop, nothing in flight in the kernel on either end
//! (`SIOCINQ` and `SIOCOUTQ` are 0); a listener with no pending connection; an unconnected
//! datagram socket with an empty queue. Bytes in flight are never overtaken by a jump. A
//! 30 s idle timeout is then tested in milliseconds, against a real connected client:
//!
//! ```
//! use core::time::Duration;
//! use readyloop::net::{TcpListener, TcpStream};
//! let lp = readyloop::Loop::builder().virtual_clock().build().unwrap();
//! let h = lp.handle();
//! // The server: closes a connection that says nothing for 30 s.
//! let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
//! let addr = listener.local_addr().unwrap();
//! h.spawn({
//!     let h = h.clone();
//!     async move {
//!         let (conn, _) = listener.accept().await.unwrap();
//!         let mut buf = [0u8; 64];
//!         if h.timeout(Duration::from_secs(30), conn.recv(&mut buf)).await.is_err() {
//!             conn.send_all(b"BYE idle\n").await.unwrap();
//!         }
//!     }
//! });
//! let real = std::time::Instant::now();
//! let (bye, waited) = lp.block_on(async {
//!     let start = h.now(); // before connecting: the server's 30 s start at its accept
//!     let conn = TcpStream::connect(&h, addr).await.unwrap();
//!     let mut bye = Vec::new();
//!     conn.read_to_end(&mut bye).await.unwrap();
//!     (bye, h.now() - start)
//! });
//! assert_eq!(bye, b"BYE idle\n");
//! assert!(waited >= Duration::from_secs(30));
//! assert!(real.elapsed() < Duration::from_secs(5)); // milliseconds, in practice
//! ```
//!
//! In a test file, `#[readyloop::test(virtual_clock)]` (or tokio's name, `start_paused`)
//! builds the loop that way; `tests/testing_kit.rs` has this test in that form:
//!
//! ```
//! # #[cfg(feature = "macros")]
//! #[readyloop::test(virtual_clock, timeout = "10s")]
//! async fn an_hour_of_retries_in_no_time(h: readyloop::Handle) {
//!     let start = h.now();
//!     for _ in 0..60 {
//!         h.sleep(core::time::Duration::from_secs(60)).await;
//!     }
//!     assert!(h.now() - start >= core::time::Duration::from_secs(3600));
//! }
//! ```
//!
//! The clock is never frozen: while a task waits on an fd whose other end is outside the
//! loop (a thread, another process, a pipe), it runs at the real rate, because that peer may
//! be about to answer; a reply that takes 50 ms of real time is never cut short by a jump.
//! For an external server the test knows to be idle,
//! [`Builder::virtual_clock_grace`](crate::Builder::virtual_clock_grace) lets the clock jump
//! after that much real quiet. The deadline of `#[readyloop::test]` stays real time, so a
//! test stuck on such an fd still fails.
//!
//! For explicit control, [`Handle::advance`](crate::Handle::advance) moves the clock
//! forward by a duration and fires what falls due before it returns, and
//! [`Handle::pause`](crate::Handle::pause) turns the virtual clock on for a loop built with
//! the real one:
//!
//! ```
//! use core::time::Duration;
//! use std::{cell::Cell, rc::Rc};
//! let lp = readyloop::Loop::new().unwrap();
//! let h = lp.handle();
//! h.pause();
//! let gave_up = Rc::new(Cell::new(false));
//! lp.block_on(async {
//!     let (h2, g) = (h.clone(), gave_up.clone());
//!     h.spawn(async move {
//!         // A reply that never comes, under a 30 s deadline.
//!         let never = core::future::pending::<()>();
//!         if h2.timeout(Duration::from_secs(30), never).await.is_err() {
//!             g.set(true);
//!         }
//!     });
//!     readyloop::yield_now().await; // the task runs and arms its deadline
//!     h.advance(Duration::from_secs(29)).await;
//!     assert!(!gave_up.get());
//!     h.advance(Duration::from_secs(1)).await;
//!     assert!(gave_up.get()); // woken and run before `advance` returned
//! });
//! ```
//!
//! ## 3. Faults inside the loop: partial I/O on purpose
//!
//! On a quiet loopback every `recv` returns all that was sent and every `send` takes it all,
//! so code that assumes so passes its tests and fails in production. An
//! [`Injection`](crate::testing::Injection) (feature `testing`) makes the socket syscalls of
//! one socket, or of every socket on the thread, return spurious `EAGAIN` and `EINTR`, and
//! short reads and short writes, at seeded rates, and counts them:
//!
//! ```
//! # #[cfg(feature = "testing")] {
//! use readyloop::testing::{FaultRates, FaultSeed, Injection};
//! let seed = FaultSeed::from_env(); // READYLOOP_FAULT_SEED, or fresh; printed on failure
//! let lp = readyloop::Loop::new().unwrap();
//! let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
//! let faults = Injection::on_every_socket(seed.derive(0), FaultRates::all(0.25));
//! lp.block_on(async {
//!     for round in 0..200u8 {
//!         a.send_all(&[round; 500]).await.unwrap(); // send_all retries short writes
//!         let mut got = [0u8; 500];
//!         b.recv_exact(&mut got).await.unwrap();    // recv_exact gathers short reads
//!         assert!(got.iter().all(|&x| x == round));
//!     }
//! });
//! let counts = faults.counts();
//! assert!(counts.short_writes > 0 && counts.short_reads > 0 && counts.eintr > 0);
//! # }
//! ```
//!
//! The hook sits in the one place the stream sockets and the Protocol transport call
//! `recv(2)` and `send(2)`; without the feature it is not compiled. An injected `EAGAIN` or
//! `EINTR` skips the syscall, so no byte is lost; the k-th call of an injection always draws
//! the same fault for the same seed, and [`Injection::log`](crate::testing::Injection::log)
//! lists them, so a failing run replays.
//!
//! ## 4. Faults on the wire: the fault proxy
//!
//! A [`FaultProxy`](crate::testing::FaultProxy) sits on `127.0.0.1` between a client and a
//! server and misbehaves per direction ([`Link`](crate::testing::Link)): latency, a bandwidth
//! limit, short writes of chosen or seeded sizes, a stall, and after N bytes a half-close, a
//! reset (`SO_LINGER 0`) or a dropped connection ([`Ending`](crate::testing::Ending)). It runs
//! on its own threads with blocking sockets, so the loop under test sees a real peer:
//!
//! ```
//! # #[cfg(feature = "testing")] {
//! use core::time::Duration;
//! use readyloop::testing::{Ending, FaultProxy, Link};
//! let lp = readyloop::Loop::new().unwrap();
//! let h = lp.handle();
//! let listener = readyloop::net::TcpListener::bind(&h, "127.0.0.1:0").unwrap();
//! let server = listener.local_addr().unwrap();
//! h.spawn(async move {
//!     let (conn, _) = listener.accept().await.unwrap();
//!     let mut buf = [0u8; 1024];
//!     readyloop::net::echo(&conn, &mut buf).await
//! });
//! let proxy = FaultProxy::start(
//!     server,
//!     Link::new().chunks(&[1, 2, 3]),                       // client -> server
//!     Link::new().latency(Duration::from_millis(10)).end_after(6, Ending::Reset), // back
//!     7,
//! ).unwrap();
//! let (got, err) = lp.block_on(async {
//!     let c = readyloop::net::TcpStream::connect(&h, proxy.local_addr()).await.unwrap();
//!     c.send_all(b"hello, proxy").await.unwrap();
//!     let mut got = Vec::new();
//!     let err = c.read_to_end(&mut got).await.unwrap_err();
//!     (got, err)
//! });
//! assert_eq!(got, b"hello,");
//! assert_eq!(err.kind(), readyloop::ErrorKind::ConnectionReset);
//! assert_eq!(proxy.counts().to_client.resets, 1);
//! # }
//! ```
//!
//! ## 5. When a test is stuck: the report names the socket and the line
//!
//! [`Handle::pending_report`](crate::Handle::pending_report) (and the [`Stuck`](crate::Stuck)
//! of a test past its deadline) gives one line per pending task. An fd wait says what the
//! kernel knows of the fd ([`FdObject`](crate::FdObject)): its kind (TCP, UDP or Unix socket,
//! listener, pipe, eventfd, signal pipe, tty), its local and peer address, the bytes queued
//! in the kernel (`SIOCINQ`, `SIOCOUTQ`) and a TCP socket's state (`TCP_INFO`). A timer wait
//! says what armed it and where ([`TimerOrigin`](crate::TimerOrigin)):
//!
//! ```text
//! task 3 (connection) waiting READABLE on fd 9 (TCP socket 127.0.0.1:40211 -> 127.0.0.1:52314,
//!   ESTABLISHED, 0 B queued in, 0 B out) for 0.100 s and on timer due in 29.899 s
//!   (timeout at tests/testing_kit.rs:43:26)
//! block_on future waiting READABLE on fd 10 (TCP socket 127.0.0.1:52314 -> 127.0.0.1:40211,
//!   ESTABLISHED, 0 B queued in, 0 B out) for 0.100 s
//! ```
//!
//! Two reads, both ends idle with nothing queued: each side waits for the other.
//!
//! ## 6. A task that never yields: the hog watchdog
//!
//! A task that blocks (a blocking call, a long loop without `.await`) stalls the whole loop,
//! and the loop cannot report while it is held. The hog watchdog is a thread that names such
//! a task, with the time it has run, while it still runs:
//! [`Builder::hog_watchdog`](crate::Builder::hog_watchdog) (stderr) or
//! [`hog_watchdog_with`](crate::Builder::hog_watchdog_with) (your sink). `#[readyloop::test]`
//! turns it on with a 1 s threshold:
//!
//! ```text
//! readyloop hog watchdog: task 4 (connection) has run 1.250 s without yielding
//!   (threshold 1.000 s); the loop and every other task wait for it
//! ```
//!
//! ## 7. Replaying a failure
//!
//! Every fault is drawn from one seed, a [`FaultSeed`](crate::testing::FaultSeed): taken from
//! `READYLOOP_FAULT_SEED` when set, fresh otherwise, and printed when the test fails:
//!
//! ```text
//! readyloop::testing: the test failed under fault seed 1234 (replay: READYLOOP_FAULT_SEED=1234)
//! $ READYLOOP_FAULT_SEED=1234 cargo test --test testing_kit answers_every_line_under_partial_io
//! ```
//!
//! Give each injection or proxy its own stream (`seed.derive(n)`), so adding one does not
//! change what the others draw. A task order replays the same way from its own seed,
//! `READYLOOP_SEED` (section 8).
//!
//! ## 8. Task orders from a seed
//!
//! Tasks woken in the same turn normally run in wake order, so a test meets one
//! interleaving only. [`Builder::shuffle(seed)`](crate::Builder::shuffle) runs them in an
//! order drawn from the seed (each still runs once per turn: none is starved), and
//! `#[readyloop::test(shuffle = N)]` runs the test under seeds `0..N`, names the seed that
//! fails, and with `READYLOOP_SEED=s` in the environment runs just seed `s`. By hand:
//!
//! ```
//! use std::{cell::RefCell, rc::Rc};
//! // Order-dependent on purpose: the "reply" is whatever the last writer left.
//! let last_writer = |seed| {
//!     let lp = readyloop::Loop::builder().shuffle(seed).build().unwrap();
//!     let h = lp.handle();
//!     let slot = Rc::new(RefCell::new(0));
//!     let tasks: Vec<_> = (1..=4)
//!         .map(|i| {
//!             let slot = slot.clone();
//!             h.spawn(async move { *slot.borrow_mut() = i })
//!         })
//!         .collect();
//!     lp.block_on(async { for t in tasks { t.await.unwrap() } });
//!     let v = *slot.borrow();
//!     v
//! };
//! // Some seed within 100 exposes the bug (the last writer is not task 4)...
//! let seed = (0..100).find(|&s| last_writer(s) != 4).expect("some order differs");
//! // ...and that seed replays it.
//! assert_eq!(last_writer(seed), last_writer(seed));
//! ```
//!
//! ## What each tool is for
//!
//! | you want to test | use |
//! |---|---|
//! | timeouts, retries, back-off, idle limits | the virtual clock: `#[readyloop::test(virtual_clock)]`, `Handle::advance` |
//! | code that must handle partial reads and writes, `EINTR`, `EAGAIN` | [`Injection`](crate::testing::Injection) |
//! | a slow, chunky, stalling or failing network | [`FaultProxy`](crate::testing::FaultProxy) |
//! | races between tasks | `#[readyloop::test(shuffle = N)]`, `Builder::shuffle`, `READYLOOP_SEED` |
//! | why a test hangs | the report of `#[readyloop::test]` / `block_on_timeout` |
//! | why a test is slow | the hog watchdog |
