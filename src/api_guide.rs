//! # API guide: one way to do each thing
//!
//! The rules the public API follows, each with the reason, so a new operation fits without
//! a meeting. This module holds documentation only.
//!
//! ## Every loop operation is a `Handle` method
//!
//! Spawning, time and blocking work are methods on [`Handle`]:
//! [`spawn`](crate::Handle::spawn), [`spawn_named`](crate::Handle::spawn_named),
//! [`call_soon`](crate::Handle::call_soon), [`stop`](crate::Handle::stop), [`sleep`](crate::Handle::sleep),
//! [`sleep_until`](crate::Handle::sleep_until), [`interval`](crate::Handle::interval),
//! [`interval_at`](crate::Handle::interval_at), [`timeout`](crate::Handle::timeout),
//! [`timeout_at`](crate::Handle::timeout_at), [`wait`](crate::Handle::wait), and with `std`
//! [`spawn_blocking`](crate::Handle::spawn_blocking) and [`resolve`](crate::Handle::resolve). Get the
//! handle from [`Loop::handle`] (cheap to clone, moves into tasks). This works without `std`
//! and under any combinator, because the loop is named, not guessed.
//!
//! [`Loop`] itself only runs: [`block_on`](crate::Loop::block_on),
//! [`block_on_timeout`](crate::Loop::block_on_timeout), [`run_forever`](crate::Loop::run_forever),
//! [`run_once`](crate::Loop::run_once), and hands out [`handle`](crate::Loop::handle). There is no
//! `Loop::spawn` or `Loop::stop`: they were copies of the handle's.
//!
//! ## A free function is exactly `Handle::current().method(..)`
//!
//! With `std`, [`spawn`](crate::spawn), [`sleep`](crate::sleep),
//! [`sleep_until`](crate::sleep_until), [`interval`](crate::interval),
//! [`timeout`](crate::timeout), [`timeout_at`](crate::timeout_at), [`wait`](crate::wait),
//! [`spawn_blocking`](crate::spawn_blocking) and [`resolve`](crate::resolve) are each the
//! method of the same name on [`Handle::current`], and nothing more:
//!
//! - **where the loop is found**: when the function is called, on this thread;
//! - **when the deadline is taken**: then, on that loop's clock (which may be virtual);
//! - **outside a running loop**: the call panics, naming the fix (run it inside
//!   `Loop::block_on` or a task, or call the method on a `Handle`).
//!
//! Before this rule some free functions looked the loop up at their first poll and took
//! their deadline from whichever clock they could find at the call: on a virtual clock that
//! had jumped an hour, `readyloop::timeout(10 s, ..)` made before `block_on` elapsed after
//! a couple of microseconds of loop time (tests/one_rule.rs). So build futures inside the
//! loop, or from a `Handle`:
//!
//! ```
//! use core::time::Duration;
//! let lp = readyloop::Loop::new().unwrap();
//! let h = lp.handle();
//! // From outside the loop: the Handle method.
//! let r = lp.block_on(h.timeout(Duration::from_millis(5), core::future::pending::<()>()));
//! assert!(r.is_err());
//! // Inside it: the free function, which is the same call on Handle::current().
//! let r = lp.block_on(async {
//!     readyloop::timeout(Duration::from_millis(5), core::future::pending::<()>()).await
//! });
//! assert!(r.is_err());
//! ```
//!
//! Objects that own an fd (sockets, [`Async`], [`Signals`](crate::signal::Signals)) and the
//! fd leaves ([`ReadFd`], [`AsyncRecv`]) are made by their type's constructor, which takes
//! `&Handle`: there are no `*_current` variants. Inside a loop, pass `&Handle::current()`.
//!
//! ## Polled while its loop is not running
//!
//! A readyloop future can only make progress while its own loop runs on this thread (in
//! `block_on`, `run_forever` or `run_once`). Polled at any other time (by another runtime,
//! by hand, or by another loop), it never hangs; the same rule holds for every leaf:
//!
//! - a future whose output is a `Result` (every I/O operation, `connect`, `accept`,
//!   [`ReadFd`], [`AsyncRecv`], the signal stream) returns [`ErrorKind::NoLoop`];
//! - a future with no error channel ([`Sleep`], an [`Interval`] tick, an unfinished
//!   [`JoinHandle`]) panics, with the message `NoLoop` carries.
//!
//! Combinators inherit the rule from what they poll (a [`Timeout`](crate::combinators::Timeout)
//! panics through its `Sleep`).
//!
//! ## Names say one thing
//!
//! | name | means | was |
//! |---|---|---|
//! | [`ReadFd`] | the leaf that reads a borrowed fd (seed 002's `AsyncRead`) | `AsyncRead`, which is also `futures_io::AsyncRead`, the trait [`Async`] implements |
//! | [`trace::Readiness`](crate::trace::Readiness) | poll(2)-style event bits (`events`/`revents`) | `Readiness`, beside [`sync::Event`](crate::sync::Event), asyncio's `Event` |
//! | [`signal::RecvSignal`](crate::signal::RecvSignal) | the future of `Signals::recv` | `signal::RecvSignal`, beside [`net::Recv`](crate::net::Recv), which keeps its name next to `RecvExact` and `RecvFrom` |
//! | [`trace::PendingOn`](crate::trace::PendingOn) | what a pending task filed with the loop (an fd or a timer) | `trace::PendingOn`, beside `TraceEvent::Wait` (the loop's blocking wait) and [`combinators::Wait`](crate::combinators::Wait) (`asyncio.wait`) |
//!
//! Inside the crate, "register" means filing interest and "wait" means blocking in the
//! kernel: `Reactor::register` (was `Reactor::wait`) never blocks, `Backend::wait` does;
//! the reactor's `Waiter` (one task waiting on one fd) keeps its name, and the trait behind
//! the boxed backends is `OtherBackend` (was a second `Waiter`); the backend's reported
//! `(fd, revents)` pair is `ReadyFd` (was `Event`) and the decoded flags are `FdStatus`.
//! `sync::Event` keeps asyncio's name, as `combinators::Wait` keeps `asyncio.wait`'s.
//!
//! ## The same operation has the same name everywhere
//!
//! [`Async<T>`](crate::Async) reads and writes like `std::io` (`read`, `write`, `read_exact`,
//! `write_all`, `read_to_end`); the stream sockets name the same operations after the
//! articles' socket calls (`recv`, `send`, `recv_exact`, `send_all`, `read_to_end`). Each
//! has the poll form beside it (`poll_read`, `poll_recv`, ...).
//!
//! ## A daemon with many idle connections waits buffer-less
//!
//! A connection task that waits in `recv(&mut buf)` holds its buffer while idle. A daemon
//! waits with `stream.readable().await` instead, then takes a buffer from a
//! `net::BufferPool` its tasks share, receives and answers until the socket is drained,
//! and gives the buffer back (`net::echo_pooled`, `examples/echo_server.rs`): an idle
//! connection then costs its socket and task, about half a KiB. The default backend
//! (`BackendKind::Adaptive`) moves such a large, mostly idle set to epoll by itself.
//!
//! ## Layers import downward
//!
//! `sys <- task <- reactor/timers <- executor <- leaves/net <- combinators/sync`, as
//! README's "How a turn goes" reads: a lower layer never calls up to learn something (a
//! `JoinHandle` asks its task's shared state whether the loop runs, not
//! `Handle::try_current`). `.ci/checks/12-layers.sh` fails on an upward import or a cycle
//! between files and prints the graph by layer.
//!
//! [`Handle`]: crate::Handle
//! [`Handle::current`]: crate::Handle::current
//! [`Loop`]: crate::Loop
//! [`Loop::handle`]: crate::Loop::handle
//! [`Async`]: crate::Async
//! [`ReadFd`]: crate::ReadFd
//! [`AsyncRecv`]: crate::AsyncRecv
//! [`Sleep`]: crate::Sleep
//! [`Interval`]: crate::Interval
//! [`JoinHandle`]: crate::JoinHandle
//! [`ErrorKind::NoLoop`]: crate::ErrorKind::NoLoop
