//! The test kit (feature `testing`): faults on real fds, seeded and replayable.
//!
//! - [`FaultProxy`]: a TCP proxy on loopback between a client and a server, with faults per
//!   direction ([`Link`]): latency, a bandwidth limit, short writes, a stall, and a
//!   half-close, reset or dropped connection after N bytes ([`Ending`]).
//! - [`Injection`]: faults inside the loop at the socket syscalls of one socket (or every
//!   socket of the thread): spurious `EAGAIN` and `EINTR`, short reads and short writes at
//!   seeded [`FaultRates`], counted ([`FaultCounts`]) and logged ([`Fault`]).
//! - [`FaultSeed`]: the one seed they draw from, read from `READYLOOP_FAULT_SEED` to replay a
//!   failure, and printed when the test fails.
//!
//! The [`testing_guide`](crate::testing_guide) chapter shows them together. Without the
//! feature none of this is compiled, and the socket syscalls carry no hook.
//!
//! ```
//! use readyloop::testing::{FaultRates, FaultSeed, Injection};
//! let seed = FaultSeed::new(5);
//! let lp = readyloop::Loop::new().unwrap();
//! let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
//! let faults = Injection::on(&a, seed.derive(0), FaultRates::all(0.2));
//! lp.block_on(async {
//!     a.send_all(&[7u8; 10_000]).await.unwrap();
//!     let mut got = [0u8; 10_000];
//!     b.recv_exact(&mut got).await.unwrap();
//!     assert!(got.iter().all(|&x| x == 7));
//! });
//! assert!(faults.counts().send_calls > 1);
//! ```

mod inject;
mod proxy;
mod seed;

pub use crate::sys::faults::{Fault, FaultCounts, FaultRates};
pub use inject::Injection;
pub use proxy::{Ending, FaultProxy, Link, LinkCounts, ProxyCounts};
pub use seed::{FaultSeed, SEED_ENV};
