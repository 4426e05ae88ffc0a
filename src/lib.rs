//! # readyloop
//!
//! A single-threaded async event loop for Linux, built directly on `poll(2)` through
//! `rustix`: a faithful port of the `select` loop that the classic articles build in Python
//! to show how asyncio works. Sleepers wait in a time-ordered heap, a table maps each file
//! descriptor to the tasks waiting on it, and each turn makes one wait whose timeout is the
//! nearest deadline.
//!
//! | the articles' Python | readyloop |
//! |---|---|
//! | `AsyncSleep`, `AsyncTimer`, `asyncio.sleep` | [`Sleep`], [`Handle::sleep`], [`sleep`] |
//! | `AsyncRead` | [`ReadFd`] |
//! | `AsyncRecv` | [`AsyncRecv`] |
//! | `run(*coroutines)`, `loop.run_until_complete`, `asyncio.run` | [`Loop::block_on`] |
//! | `select.select` / `selectors` | the reactor; [`BackendKind`] |
//! | `loop.create_task` | [`Handle::spawn`] (`readyloop::spawn` inside the loop) → [`JoinHandle`] |
//! | `loop.run_forever`, `loop.stop` | [`Loop::run_forever`], [`Handle::stop`] |
//! | `loop.call_soon` | [`Handle::call_soon`] |
//! | `asyncio.gather`, `wait`, `wait_for` | [`gather`], [`try_gather`], [`Handle::wait`], [`Handle::timeout`] |
//! | `asyncio.Future`, `add_done_callback` | [`sync::promise`] |
//! | `asyncio.Queue`, `Event`, `Semaphore`, `Lock` | [`sync::Queue`], [`sync::Event`], [`sync::Semaphore`], [`sync::Mutex`] |
//! | `loop.run_in_executor`, `loop.getaddrinfo` | `spawn_blocking`, `resolve` (`std`) |
//! | `loop.sock_accept`, `sock_recv`, `sock_sendall`, the echo `handler` | [`net::TcpListener::accept`], [`net::TcpStream::recv`], [`net::TcpStream::send_all`], [`net::echo`] |
//! | `asyncio.open_connection` | [`net::open_connection`] |
//!
//! ## A short tour
//!
//! ```
//! use core::time::Duration;
//! use readyloop::Loop;
//!
//! let lp = Loop::new().unwrap();
//! let h = lp.handle();
//! let total = lp.block_on(async move {
//!     // Two tasks sleep at the same time: about 30 ms in all, not 50.
//!     let a = h.spawn({ let h = h.clone(); async move { h.sleep(Duration::from_millis(20)).await; 2 } });
//!     let b = h.spawn({ let h = h.clone(); async move { h.sleep(Duration::from_millis(30)).await; 3 } });
//!     a.await.unwrap() + b.await.unwrap()
//! });
//! assert_eq!(total, 5);
//! ```
//!
//! Seed 003's echo server and a client, on one loop: the server task accepts and echoes,
//! the client sends a line and reads it back, and a deadline bounds the whole exchange.
//!
//! ```
//! use core::time::Duration;
//! use readyloop::net::{Shutdown, TcpListener, TcpStream};
//! use readyloop::Loop;
//!
//! let lp = Loop::new().unwrap();
//! let h = lp.handle();
//! let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
//! let addr = listener.local_addr().unwrap();
//! h.spawn(async move {
//!     let (conn, _peer) = listener.accept().await.unwrap();
//!     let mut buf = [0u8; 1024];
//!     readyloop::net::echo(&conn, &mut buf).await // until the client closes
//! });
//! let reply = lp.block_on(h.timeout(Duration::from_secs(5), async {
//!     let conn = TcpStream::connect(&h, addr).await.unwrap();
//!     conn.send_all(b"hello, loop\n").await.unwrap();
//!     conn.shutdown(Shutdown::Write).unwrap();
//!     let mut reply = Vec::new();
//!     conn.read_to_end(&mut reply).await.unwrap();
//!     reply
//! }));
//! assert_eq!(reply.unwrap(), b"hello, loop\n");
//! ```
//!
//! ## Where things are
//!
//! - [`api_guide`]: the rules the API follows (where a future finds its loop, what happens
//!   outside one, why each name), read it first.
//! - [`testing_guide`]: testing with readyloop: deadlines, faults inside the loop and on
//!   the wire (feature `testing`), replay from one seed, reports that name the socket and
//!   the line, the hog watchdog.
//! - [`Loop`], [`Handle`], [`JoinHandle`]: the loop, spawning, and awaiting tasks.
//! - The leaves: [`Sleep`], [`ReadFd`], [`AsyncRecv`], [`yield_now`]; [`Async`] for any
//!   pollable fd you own; [`Registration`] to write your own leaf.
//! - [`net`]: TCP, UDP and Unix sockets, each with future methods (`recv`, `send_all`,
//!   `accept`...) and poll methods (`poll_recv`, `poll_send`...) on one code path, shared by
//!   both transports through [`net::StreamSocket`] and [`net::Listener`] (a server written
//!   once serves TCP and Unix); lines through [`net::LineReader`]; and asyncio's callback
//!   style, [`net::Protocol`] and [`net::Transport`] via [`net::create_server`].
//! - [`combinators`] (`gather`, `select`, `wait`, `timeout`, `Interval`) and [`sync`]
//!   (promises, queues, events, semaphores, a mutex), all single-threaded.
//! - [`multi`] (`std`): one loop per core, each on its own thread with its own
//!   `SO_REUSEPORT` listener ([`net::BindOptions`]), started and stopped together.
//! - `blocking` (`std`): [`Handle::spawn_blocking`] and [`Handle::resolve`], a small helper
//!   pool per loop.
//! - `signal` (feature `signal`): any catchable signal, awaitable (`SIGTERM`, `SIGHUP`,
//!   `SIGCHLD`, real-time signals...), chaining a handler another library installed first.
//! - `systemd` (feature `systemd`): socket activation, readiness notifications, the watchdog.
//! - `process` (feature `process`): child processes awaited through pidfds, their stdio as
//!   loop pipes, never a zombie; `fs_watch` (feature `fs-watch`): inotify events.
//! - Seeing inside: [`trace`] (every turn, as events or lines), [`Handle::stats`],
//!   [`Handle::pending_report`], and [`Loop::block_on_timeout`], which gives up with a
//!   [`Stuck`] report instead of hanging; [`Builder::virtual_clock`] for timer-heavy tests.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | [`Handle::current`] and the free functions (`readyloop::spawn`, `sleep`, `timeout`...), caught task panics, `spawn_blocking` |
//! | `signal` | yes | `readyloop::signal` (libc, for `sigaction` only) |
//! | `systemd` | no | `readyloop::systemd`: socket activation, `sd_notify`, the watchdog (no libc; works without `std`) |
//! | `process` | yes | `readyloop::process`: child processes awaited through pidfds, stdio as loop pipes (`std`) |
//! | `fs-watch` | yes | `readyloop::fs_watch`: inotify events as an async stream (`std`) |
//! | `macros` | no | `#[readyloop::test]` (a fresh loop per test, with a deadline) and `#[readyloop::main]` |
//! | `futures-io` | no | `futures_io::AsyncRead`/`AsyncWrite` for [`net::TcpStream`], [`net::UnixStream`], [`Async`] (and `&` of each) |
//! | `embedded-io-async` | no | `embedded_io_async::Read`/`Write` for the same types, without `std` |
//! | `testing` | no | `readyloop::testing`: a fault proxy, seeded syscall fault injection, `FaultSeed` (see [`testing_guide`]) |
//! | `embedded-nal-async` | no | `TcpConnect` (and `Dns` with `std`) for [`Handle`]: reqwless and other embedded clients, `no_std` |
//! | `hyper` | no | [`hyper`]: hyper 1.x's I/O, executor and timer on readyloop (needs `std`) |
//!
//! With `macros`, a test reads:
//!
//! ```
//! # #[cfg(feature = "macros")]
//! #[readyloop::test(timeout = "5s")]
//! async fn echoes(handle: readyloop::Handle) {
//!     let (a, b) = readyloop::net::UnixStream::pair(&handle).unwrap();
//!     a.send_all(b"ping").await.unwrap();
//!     let mut buf = [0u8; 4];
//!     b.recv_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"ping");
//! }
//! ```
//!
//! A test gets a fresh loop; it may take the loop's [`Handle`] as its one argument or call
//! [`Handle::current`]. One that has not finished by its deadline (30 s unless
//! `timeout = "..."` says otherwise, in `ms`, `s` or `min`) fails instead of hanging the test
//! run, with the report of what every pending task waits for (see [`Loop::block_on_timeout`]).
//!
//! ## Beside other runtimes
//!
//! Futures that need tokio's or smol's reactor (`tokio::net`, `tokio::time`, `async-io`)
//! do not run on readyloop, and readyloop's leaves do not run on theirs: polled outside a
//! running readyloop loop, I/O returns [`ErrorKind::NoLoop`] and `Sleep` or an unfinished
//! `JoinHandle` panics, each naming the fix. Runtime-agnostic futures (channels,
//! `futures-util`, code written against the I/O traits above) run anywhere. To use the
//! other runtime, run it on its own thread and send it requests over a channel, awaiting
//! the answer (a oneshot receiver) on readyloop, or block on it from
//! [`Handle::spawn_blocking`]; the README shows both.
//!
//! ## How a leaf reaches the loop
//!
//! A leaf future (`Sleep`, `ReadFd`, `AsyncRecv`) holds a [`Handle`] to its loop, taken
//! when it is made. When it cannot finish, it files its event (a deadline, or an fd with an
//! [`Interest`]) with the loop together with the task's `Waker`, and returns `Pending`; this
//! is the Rust form of the articles' `yield self`. With `std`, `readyloop::sleep(d)` is
//! exactly `Handle::current().sleep(d)`: it finds the loop running on this thread when it is
//! called, and panics outside one. The [`api_guide`] gives that rule for every operation,
//! and every naming decision.
//!
//! ## Without `std`
//!
//! The crate is `no_std` + `alloc` with `default-features = false`, and then uses rustix's
//! raw Linux syscalls (no libc). A task that panics then aborts the program (build with
//! `panic = "abort"`); with `std`, a panicking task is caught and reported through its
//! [`JoinHandle`] as [`JoinError::Panicked`] while the loop keeps running the others.
//!
//! Without `std` there is no `catch_unwind`: a panic in any task runs the program's
//! `#[panic_handler]`, which never returns, so the loop and every task stop with it and no
//! `JoinHandle` hears of it. Report failures as values instead: a task whose output is a
//! `Result` hands its `Err` to its `JoinHandle` (as `Ok(Err(e))`) on every build.
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![deny(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block
)]

extern crate alloc;

#[cfg(feature = "std")]
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
pub mod api_guide;
mod async_fd;
#[cfg(feature = "std")]
pub mod blocking;
pub mod combinators;
mod compat;
#[cfg(feature = "std")]
mod current;
mod error;
mod events;
mod executor;
#[cfg(feature = "fs-watch")]
pub mod fs_watch;
pub mod guide;
#[cfg(feature = "std")]
pub mod multi;
pub mod net;
#[cfg(feature = "process")]
pub mod process;
mod reactor;
mod registration;
mod report;
#[cfg(feature = "signal")]
pub mod signal;
mod stats;
pub mod sync;
mod sys;
#[cfg(feature = "systemd")]
pub mod systemd;
mod task;
#[cfg(feature = "testing")]
pub mod testing;
// The chapter links into `testing`, which exists only with the feature.
#[cfg_attr(not(feature = "testing"), allow(rustdoc::broken_intra_doc_links))]
pub mod testing_guide;
mod time;
mod timers;
pub mod trace;

pub use async_fd::Async;
#[cfg(feature = "std")]
pub use blocking::{Blocking, Resolve};
pub use combinators::{
    gather, join_all, select, select_all, try_gather, try_join_all, Either, Elapsed, Finished,
    Interval, MissedTickBehavior, ReturnWhen, TaskOutcome, Timeout,
};
#[cfg(feature = "hyper")]
pub use compat::hyper;
#[cfg(feature = "std")]
pub use current::{
    interval, resolve, sleep, sleep_until, spawn, spawn_blocking, timeout, timeout_at, wait,
};
pub use error::{Errno, Error, ErrorKind, Result};
pub use events::{yield_now, AsyncRecv, ReadFd, Sleep, YieldNow};
#[cfg(feature = "std")]
pub use executor::HogReport;
pub use executor::{Advance, Builder, ClockHold, Handle, Loop, Stopper};
pub use registration::Registration;
pub use report::{Report, Stuck, TaskReport, TimerKind, TimerOrigin, WaitReport};
pub use stats::Stats;
pub use sys::backend::BackendKind;
pub use sys::describe::{FdKind, FdObject, TcpState};
pub use sys::{Interest, RawFd};
pub use task::{JoinError, JoinHandle};
pub use time::Instant;

// The attributes of the `macros` feature: `#[readyloop::test]` and `#[readyloop::main]`.
#[cfg(feature = "macros")]
pub use readyloop_macros::{main, test};
