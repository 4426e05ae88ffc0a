//! `Protocol`: the callbacks of one connection in seed 003's callback-style server
//! (asyncio's `Protocol`); [`create_server`](super::create_server) (in `server.rs`) runs them.
//!
//! The protocol writes back through the [`Transport`] it is handed in `connection_made`.
//! Flow control (the write buffer's water marks, what pauses and what is refused) is
//! described on [`Transport`]. This file holds only the trait: it must never import the
//! server or the connection task that drive it.

use super::transport::Transport;
use crate::error::Error;

/// The callbacks of one connection (asyncio's `Protocol`). All run on the connection's
/// task, one at a time, in this order: `connection_made`, then any number of
/// `data_received` (and `pause_writing`/`resume_writing` pairs), then at most one
/// `eof_received`, then exactly one `connection_lost`.
///
/// Only `data_received` must be written; the others default to doing nothing (and
/// `eof_received` to closing).
///
/// ```
/// use readyloop::net::{Protocol, Transport};
/// // Seed 003's EchoProtocol.
/// struct EchoProtocol {
///     transport: Option<Transport>,
/// }
/// impl Protocol for EchoProtocol {
///     fn connection_made(&mut self, transport: &Transport) {
///         println!("Connection from {}", transport.peer_addr());
///         self.transport = Some(transport.clone());
///     }
///     fn data_received(&mut self, data: &[u8]) {
///         if let Some(t) = &self.transport {
///             let _ = t.write(data);
///         }
///     }
/// }
/// ```
pub trait Protocol {
    /// The connection is up; `transport` is its handle (clone it to keep it).
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Keep(Option<Transport>);
    /// impl Protocol for Keep {
    ///     fn connection_made(&mut self, t: &Transport) { self.0 = Some(t.clone()); }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    fn connection_made(&mut self, transport: &Transport) {
        let _ = transport;
    }

    /// Bytes arrived (at most 16 KiB per call; the slice is only valid during the call).
    ///
    /// ```
    /// # use readyloop::net::Protocol;
    /// struct Count(usize);
    /// impl Protocol for Count {
    ///     fn data_received(&mut self, data: &[u8]) { self.0 += data.len(); }
    /// }
    /// ```
    fn data_received(&mut self, data: &[u8]);

    /// The peer closed its writing half. Return `false` (the default) to close the
    /// transport (after flushing what is buffered), or `true` to keep it open for writing:
    /// the protocol must then call `close` itself when it is done.
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Summary(Option<Transport>, usize);
    /// impl Protocol for Summary {
    ///     fn connection_made(&mut self, t: &Transport) { self.0 = Some(t.clone()); }
    ///     fn data_received(&mut self, data: &[u8]) { self.1 += data.len(); }
    ///     fn eof_received(&mut self) -> bool {
    ///         let t = self.0.as_ref().unwrap();
    ///         let _ = t.write(format!("got {} bytes\n", self.1).as_bytes());
    ///         t.close();
    ///         true
    ///     }
    /// }
    /// ```
    fn eof_received(&mut self) -> bool {
        false
    }

    /// The connection ended: `None` after an orderly close (`close`, EOF, `abort`),
    /// `Some(error)` when it failed (`ConnectionReset` for a peer that reset,
    /// `BrokenPipe`, `Cancelled` if its task was cancelled or the loop dropped). The
    /// socket is closed by now (with a reset whenever `error` is `Some`, so the peer never
    /// takes a cut reply for a whole one); the transport refuses writes.
    ///
    /// ```
    /// # use readyloop::net::Protocol;
    /// struct Log;
    /// impl Protocol for Log {
    ///     fn data_received(&mut self, _: &[u8]) {}
    ///     fn connection_lost(&mut self, error: Option<readyloop::Error>) {
    ///         if let Some(e) = error { eprintln!("lost: {e}"); }
    ///     }
    /// }
    /// ```
    fn connection_lost(&mut self, error: Option<Error>) {
        let _ = error;
    }

    /// The transport's write buffer went above its high-water mark: stop producing data
    /// until [`resume_writing`](Self::resume_writing). (Reading is paused meanwhile too.)
    ///
    /// ```
    /// # use readyloop::net::Protocol;
    /// struct Producer { paused: bool }
    /// impl Protocol for Producer {
    ///     fn data_received(&mut self, _: &[u8]) {}
    ///     fn pause_writing(&mut self) { self.paused = true; }
    ///     fn resume_writing(&mut self) { self.paused = false; }
    /// }
    /// ```
    fn pause_writing(&mut self) {}

    /// The write buffer fell to its low-water mark after a pause: produce again.
    ///
    /// ```
    /// # use readyloop::net::Protocol;
    /// struct P;
    /// impl Protocol for P {
    ///     fn data_received(&mut self, _: &[u8]) {}
    ///     fn resume_writing(&mut self) {}
    /// }
    /// ```
    fn resume_writing(&mut self) {}
}
