//! hyper 1.x on readyloop with no glue (feature `hyper`): what hyper-util's `rt::tokio` is
//! for tokio.
//!
//! - [`HyperIo`]: a readyloop stream as hyper's I/O (reads into hyper's buffer without
//!   zeroing it, writes head and body with one `sendmsg`); [`FuturesIo`] the other way, a
//!   hyper stream (an upgraded connection) as futures-io, for async-tungstenite and others;
//! - [`Handle`](crate::Handle) is hyper's `rt::Executor`: pass `h.clone()`;
//! - [`HyperTimer`]: hyper's `rt::Timer` (header read timeouts, keep-alive pings).
//!
//! A server is these lines, with hyper's `server`/`http1` features:
//!
//! ```text
//! let (stream, _) = listener.accept().await?;
//! h.spawn(http1::Builder::new().timer(HyperTimer::new())
//!     .serve_connection(HyperIo::new(stream), service_fn(hello)));
//! ```
//!
//! ## Threads
//!
//! hyper wants its timer's sleeps and an upgraded connection to be `Send`, and readyloop's
//! sockets and sleeps are `!Send` (they hold the loop through an `Rc`). The types here are
//! `Send` with a runtime rule, never undefined behaviour: the readyloop value inside is used
//! only on the thread that made it (a sleep: the thread of its first poll). Polled on
//! another thread, it panics, naming the mistake. Dropped on another thread, it is leaked
//! (its fd stays open, its timer entry fires into nothing) with a line on stderr, because
//! its destructor would touch the loop from the wrong thread. On readyloop everything hyper
//! does runs on the loop's thread, so neither happens unless the value is sent away.
//!
//! `HyperTimer` uses the loop's real clock: on a loop built with
//! [`virtual_clock`](crate::Builder::virtual_clock), hyper's deadlines are real time.
//!
//! This module must never hold I/O logic: it forwards to the sockets' poll methods and the
//! loop's `Sleep`.

mod executor;
mod io;
mod thread_bound;
mod timer;

pub use io::{FuturesIo, HyperIo};
pub use timer::{HyperSleep, HyperTimer};
