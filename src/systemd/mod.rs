//! Speaking to systemd without libsystemd: socket activation, notifications and the
//! watchdog (feature `systemd`, works without `std`).
//!
//! - [`Activation`]: the sockets systemd opened for this process (`LISTEN_PID`,
//!   `LISTEN_FDS`, `LISTEN_FDNAMES`), taken by name or index as a [`TcpListener`],
//!   [`UnixListener`], [`UdpSocket`] or [`UnixDatagram`]; a fd of another kind is refused.
//! - [`Notifier`]: `READY=1`, `RELOADING=1` (with `MONOTONIC_USEC`), `STOPPING=1`,
//!   `STATUS=...` to `NOTIFY_SOCKET` (a path or an `@abstract` name).
//! - The watchdog: [`watchdog_period`] reads `WATCHDOG_USEC`/`WATCHDOG_PID`, and
//!   [`Notifier::spawn_watchdog`] pings from a task on the loop, so a wedged loop stops the
//!   pings and systemd restarts the service.
//!
//! A daemon's start reads:
//!
//! ```no_run
//! use readyloop::net::TcpListener;
//! use readyloop::systemd::{Activation, Notifier};
//! let lp = readyloop::Loop::new().unwrap();
//! let h = lp.handle();
//! let mut passed = Activation::from_env().unwrap();
//! let listener = if passed.is_empty() {
//!     TcpListener::bind(&h, "127.0.0.1:8080").unwrap()
//! } else {
//!     passed.take_tcp_listener(&h, "web").unwrap()
//! };
//! if let Some(notifier) = Notifier::from_env().unwrap() {
//!     let _watchdog = notifier.watchdog_from_env(&h).unwrap();
//!     notifier.ready().unwrap();
//! }
//! # drop(listener);
//! ```
//!
//! # The environment, and without `std`
//!
//! With `std` the variables come from `std::env`, and [`Activation::from_env`] removes
//! the `LISTEN_*` ones with `std::env::remove_var` (call it before starting threads: C
//! code reading the environment in another thread at that moment is a data race).
//! Without `std` no C library need be linked, so readyloop reads the environment the
//! program started with from `/proc/self/environ` and cannot remove anything (see
//! [`Activation::env_cleared`]). `NOTIFY_SOCKET` and `WATCHDOG_*` are left in place on
//! every build, as `sd_notify(0, ..)` leaves them: a child that inherits `WATCHDOG_USEC`
//! also inherits `WATCHDOG_PID`, which names the parent, so it does not ping.
//!
//! [`TcpListener`]: crate::net::TcpListener
//! [`UnixListener`]: crate::net::UnixListener
//! [`UdpSocket`]: crate::net::UdpSocket
//! [`UnixDatagram`]: crate::net::UnixDatagram

mod activation;
mod notify;
mod watchdog;

pub use activation::{Activation, Which};
pub use notify::Notifier;
pub use watchdog::watchdog_period;
