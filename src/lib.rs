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
//! | `AsyncRead` | [`AsyncRead`] |
//! | `AsyncRecv` | [`AsyncRecv`] |
//! | `run(*coroutines)`, `loop.run_until_complete`, `asyncio.run` | [`Loop::block_on`] |
//! | `select.select` / `selectors` | the reactor; [`BackendKind`] |
//! | `loop.create_task` | [`Handle::spawn`] → [`JoinHandle`] |
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
//! ## How a leaf reaches the loop
//!
//! A leaf future (`Sleep`, `AsyncRead`, `AsyncRecv`) holds a [`Handle`] to its loop, taken
//! when it is made. When it cannot finish, it files its event (a deadline, or an fd with an
//! [`Interest`]) with the loop together with the task's `Waker`, and returns `Pending`; this
//! is the Rust form of the articles' `yield self`. With `std`, [`Handle::current`] finds the
//! loop running on this thread, so `readyloop::sleep(d)` needs no handle.
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

extern crate alloc;

#[cfg(feature = "std")]
pub mod blocking;
pub mod combinators;
mod error;
mod events;
mod executor;
pub mod net;
mod reactor;
mod registration;
mod report;
#[cfg(feature = "signal")]
pub mod signal;
mod slab;
mod stats;
pub mod sync;
mod sys;
mod task;
mod time;
mod timers;
pub mod trace;

#[cfg(feature = "std")]
pub use blocking::{resolve, spawn_blocking, Blocking, Resolve};
pub use combinators::{
    gather, join_all, select, select_all, try_gather, try_join_all, Either, Elapsed, Finished,
    Interval, MissedTickBehavior, ReturnWhen, TaskOutcome, Timeout,
};
#[cfg(feature = "std")]
pub use combinators::{interval, sleep_until, timeout, timeout_at, wait};
pub use error::{Errno, Error, ErrorKind, Result};
#[cfg(feature = "std")]
pub use events::sleep;
pub use events::{yield_now, AsyncRead, AsyncRecv, Sleep, YieldNow};
pub use executor::{Builder, ClockHold, Handle, Loop};
pub use registration::Registration;
pub use report::{Report, Stuck, TaskReport, WaitReport};
pub use stats::Stats;
pub use sys::backend::BackendKind;
pub use sys::{Interest, RawFd};
pub use task::{JoinError, JoinHandle};
pub use time::Instant;
