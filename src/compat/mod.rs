//! Seams to the rest of the async ecosystem: the poll-based I/O traits other crates are
//! written against, implemented for readyloop's I/O types.
//!
//! One file per trait family, each behind its own cargo feature: `futures_io.rs`
//! (`futures-io`: `AsyncRead`/`AsyncWrite`) and `embedded_io.rs` (`embedded-io-async`:
//! `Read`/`Write`, `no_std`), `hyper/` (`hyper`: hyper's I/O, executor and timer),
//! `embedded_nal.rs` (`embedded-nal-async`: `TcpConnect` and `Dns` for `Handle`). Every impl forwards to the type's own `poll_*` method (or the
//! future built on it), so there is one I/O path per type. This module must never hold I/O
//! logic of its own: no syscalls, no waits, no buffering.

#[cfg(feature = "embedded-io-async")]
mod embedded_io;
#[cfg(feature = "embedded-nal-async")]
mod embedded_nal;
#[cfg(feature = "futures-io")]
mod futures_io;
#[cfg(feature = "hyper")]
pub mod hyper;
