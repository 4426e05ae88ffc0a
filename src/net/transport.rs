//! `Transport`: the handle a [`Protocol`](super::Protocol)(super::Protocol) writes through (asyncio's
//! `Transport`); `Connection` (in `connection.rs`) is the task that drives one accepted TCP stream for its
//! protocol (asyncio's `_SelectorSocketTransport`: read, call `data_received`, flush the
//! write buffer, report the end).
//!
//! ## Flow control
//!
//! `write` tries to send at once when nothing is buffered; what the kernel does not take is
//! appended to an [`OutputBuffer`]. When the buffer goes above its high-water mark (64 KiB
//! by default) BOTH of these happen, and both undo when it falls to the low-water mark
//! (16 KiB by default):
//! - the transport stops reading the socket, so `data_received` is not called (a protocol
//!   that only answers what it receives, such as an echo, needs nothing more);
//! - the protocol's `pause_writing` is called (then `resume_writing`), for protocols that
//!   produce data on their own.
//!
//! A `write` that would take the buffer past its hard limit (16 x high water, 1 MiB by
//! default) fails with an error and writes nothing of that call: the buffer stays bounded
//! even when the peer never reads, and no byte is ever silently dropped.
//!
//! The callbacks run on the connection's task, never inside `write` or `close`: a pause
//! caused by a `write` in `data_received` is delivered right after `data_received` returns.
//!
//! ## How a connection ends
//!
//! `close` (or the peer's EOF) ends it in order: everything buffered is sent, then a FIN.
//! Every other end is abortive (a reset, through `TcpStream::abort`): `abort`, a send or
//! receive error, and the connection task being cancelled (its loop dropped, say at a
//! server's shutdown). A peer must never read a clean end after a cut reply.
//!
//! This module never blocks, never drops a byte it accepted (except on an abortive end,
//! which resets the peer), never reads while paused, and calls `connection_lost` exactly
//! once per connection that saw `connection_made`.

use super::output_buffer::{Flow, OutputBuffer};
use super::stream::sealed::HasSocket;
use super::tcp_stream::TcpStream;
use crate::error::{Error, ErrorKind};
use alloc::rc::Rc;
use core::cell::{Cell, RefCell};
use core::net::SocketAddr;
use core::task::Waker;
use rustix::io::Errno;

/// How much one read may take from the socket (the read buffer is allocated once per
/// connection and reused for every chunk).
pub(crate) const READ_CHUNK: usize = 16 * 1024;

/// The error of a write or other call on a transport that is closing or closed.
const CLOSED: Error = Error::new(
    ErrorKind::Closed,
    "Transport: the transport is closing or closed (close, abort or connection_lost)",
);

/// Where a transport is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Reading and writing.
    Open,
    /// `close` was called (or EOF with `eof_received` false): flushing, then closing.
    Closing,
    /// `abort` was called: buffer dropped, socket reset.
    Aborted,
    /// `connection_lost` has been called.
    Closed,
}

/// What the protocol's `Transport` handles and the connection task share.
#[derive(Debug)]
pub(super) struct Shared {
    /// The socket; taken out (and so closed) when the connection ends or is aborted.
    pub(super) stream: RefCell<Option<TcpStream>>,
    /// The bytes accepted by `write` and not yet sent.
    pub(super) out: RefCell<OutputBuffer>,
    /// The peer's address, known since accept.
    pub(super) peer: SocketAddr,
    /// Where the transport is in its life.
    pub(super) state: Cell<State>,
    /// A send error `write` met; the connection task reports it through `connection_lost`.
    pub(super) error: Cell<Option<Error>>,
    /// Whether the protocol asked to stop reading (`pause_reading`).
    pub(super) reading_paused: Cell<bool>,
    /// Whether a protocol callback is running (the task re-checks everything after each, so
    /// calls made inside one need no wake).
    pub(super) in_callback: Cell<bool>,
    /// The connection task's waker, for calls made from other tasks.
    pub(super) waker: RefCell<Option<Waker>>,
}

impl Shared {
    /// Wakes the connection task, unless it is the one calling (it re-checks anyway).
    pub(super) fn wake(&self) {
        if self.in_callback.get() {
            return;
        }
        let waker = self.waker.borrow().clone();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The handle a [`Protocol`](super::Protocol) keeps to write to its connection (asyncio's `Transport`).
/// Cheap to clone (a reference count); every clone is the same connection.
///
/// ## Flow control
///
/// [`write`](Self::write) never blocks: it sends at once what the kernel takes (when
/// nothing is buffered) and appends the rest to the write buffer, which the connection's
/// task flushes as the peer reads. When the buffer goes above its high-water mark (64 KiB by
/// default; see [`set_write_buffer_limits`](Self::set_write_buffer_limits)) BOTH of these
/// happen, and both are undone once it falls to the low-water mark (16 KiB by default):
///
/// - the transport stops reading the socket, so `data_received` is not called (a protocol
///   that only answers what it receives, like an echo, needs to do nothing);
/// - the protocol's [`pause_writing`](super::Protocol::pause_writing) is called (later
///   [`resume_writing`](super::Protocol::resume_writing)), for protocols that produce on their own.
///
/// Callbacks never run inside `write`: a pause caused by a `write` in `data_received` is
/// delivered right after `data_received` returns. A `write` that would take the buffer
/// past its hard limit (16 x high water: 1 MiB by default) fails, writing nothing, so the
/// buffer stays bounded when the peer never reads; no accepted byte is ever dropped
/// (except by [`abort`](Self::abort), which says so).
///
/// ## How the connection ends
///
/// [`close`](Self::close), or the peer's EOF, ends it in order: everything buffered is
/// sent, then a FIN. Every other end resets the peer (the socket is closed with
/// [`TcpStream::abort`](super::TcpStream::abort)): [`abort`](Self::abort), a failed send or
/// receive, and the connection's task being cancelled (its loop dropped, as when a server
/// shuts down with connections still open). So the peer never reads a clean end after a
/// reply that was cut short.
///
/// ```
/// use readyloop::net::{create_server, Protocol, Transport};
/// struct Greeter;
/// impl Protocol for Greeter {
///     fn connection_made(&mut self, transport: &Transport) {
///         transport.write(b"hello\n").unwrap();
///         transport.close();
///     }
///     fn data_received(&mut self, _data: &[u8]) {}
/// }
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let server = create_server(&h, "127.0.0.1:0", || Greeter).unwrap();
/// let addr = server.local_addr();
/// let got = lp.block_on(async {
///     let client = readyloop::net::TcpStream::connect(&h, addr).await.unwrap();
///     let mut all = Vec::new();
///     client.read_to_end(&mut all).await.unwrap();
///     all
/// });
/// assert_eq!(got, b"hello\n");
/// ```
#[derive(Clone, Debug)]
pub struct Transport {
    pub(super) shared: Rc<Shared>,
}

impl Transport {
    /// Writes `data` without blocking: sends what the kernel takes now and buffers the
    /// rest, which the connection task flushes as the peer reads. All or nothing:
    ///
    /// - `Err` with kind `Closed` after `close`, `abort` or the end of the connection;
    /// - `Err` with kind `Other`, writing nothing, if the buffer would pass its hard limit
    ///   (16 x the high-water mark): wait for `resume_writing`;
    /// - `Err` with the socket's error (`BrokenPipe`, `ConnectionReset`...) if the send
    ///   fails; `connection_lost` then reports it too.
    ///
    /// Going above the high-water mark pauses reading and calls the protocol's
    /// `pause_writing` once the current callback returns.
    ///
    /// ```
    /// # use readyloop::net::{create_server, Protocol, Transport};
    /// struct Echo(Option<Transport>);
    /// impl Protocol for Echo {
    ///     fn connection_made(&mut self, t: &Transport) { self.0 = Some(t.clone()); }
    ///     fn data_received(&mut self, data: &[u8]) {
    ///         if let Some(t) = &self.0 {
    ///             t.write(data).unwrap();
    ///         }
    ///     }
    /// }
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let server = create_server(&lp.handle(), "127.0.0.1:0", || Echo(None)).unwrap();
    /// ```
    pub fn write(&self, data: &[u8]) -> Result<(), Error> {
        let s = &*self.shared;
        if let Some(e) = s.error.get() {
            return Err(e);
        }
        if s.state.get() != State::Open {
            return Err(CLOSED);
        }
        if data.is_empty() {
            return Ok(());
        }
        let mut out = s.out.borrow_mut();
        if data.len() > out.hard_limit().saturating_sub(out.len()) {
            // Refused before anything is sent, so the call stays all or nothing.
            return out.push(data).map(drop);
        }
        let mut rest = data;
        if out.is_empty() {
            if let Some(stream) = s.stream.borrow().as_ref() {
                match send_now(stream, rest) {
                    Ok(n) => rest = &rest[n..],
                    Err(e) => {
                        s.error.set(Some(e));
                        drop(out);
                        s.wake();
                        return Err(e);
                    }
                }
            }
        }
        if !rest.is_empty() {
            out.push(rest)?;
            drop(out);
            s.wake();
        }
        Ok(())
    }

    /// Closes the connection once everything buffered has been sent (then
    /// `connection_lost(None)`). Stops reading at once; later writes fail with `Closed`.
    /// Calling it again, or after `abort`, does nothing.
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct OneShot;
    /// impl Protocol for OneShot {
    ///     fn connection_made(&mut self, t: &Transport) {
    ///         t.write(b"bye\n").unwrap();
    ///         t.close();
    ///         assert!(t.is_closing());
    ///     }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    pub fn close(&self) {
        let s = &*self.shared;
        if s.state.get() == State::Open {
            s.state.set(State::Closing);
            s.wake();
        }
    }

    /// Closes the connection now: the buffer is discarded and the socket is closed with
    /// [`TcpStream::abort`](super::TcpStream::abort) (`SO_LINGER` 0), so the peer sees a reset (`ConnectionReset`) rather than an orderly
    /// end. `connection_lost(None)` follows on the connection's task.
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Rude;
    /// impl Protocol for Rude {
    ///     fn connection_made(&mut self, t: &Transport) {
    ///         t.write(b"never mind").unwrap();
    ///         t.abort();
    ///         assert_eq!(t.get_write_buffer_size(), 0);
    ///     }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    pub fn abort(&self) {
        let s = &*self.shared;
        if matches!(s.state.get(), State::Aborted | State::Closed) {
            return;
        }
        s.state.set(State::Aborted);
        s.out.borrow_mut().clear();
        // Taken out before the close, so no borrow is held while the socket deregisters.
        let stream = s.stream.borrow_mut().take();
        if let Some(stream) = stream {
            // A reset, not a FIN: the peer must not mistake the cut for a complete reply.
            stream.abort();
        }
        s.wake();
    }

    /// The peer's address (asyncio's `get_extra_info('peername')`).
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Hello;
    /// impl Protocol for Hello {
    ///     fn connection_made(&mut self, t: &Transport) {
    ///         println!("Connection from {}", t.peer_addr());
    ///     }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    pub fn peer_addr(&self) -> SocketAddr {
        self.shared.peer
    }

    /// How many bytes are buffered, not yet taken by the kernel.
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Quiet;
    /// impl Protocol for Quiet {
    ///     fn connection_made(&mut self, t: &Transport) {
    ///         assert_eq!(t.get_write_buffer_size(), 0);
    ///     }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    pub fn get_write_buffer_size(&self) -> usize {
        self.shared.out.borrow().len()
    }

    /// Sets the high- and low-water marks (the hard limit becomes 16 x `high`). Errors
    /// with `InvalidInput`, changing nothing, unless `1 <= high` and `low <= high`. If the
    /// buffer is now above `high` (or at most `low`), the pause (or resume) follows as for
    /// a write.
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Small;
    /// impl Protocol for Small {
    ///     fn connection_made(&mut self, t: &Transport) {
    ///         t.set_write_buffer_limits(4096, 1024).unwrap();
    ///         assert_eq!(t.get_write_buffer_limits(), (1024, 4096));
    ///         assert!(t.set_write_buffer_limits(1, 2).is_err());
    ///     }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    pub fn set_write_buffer_limits(&self, high: usize, low: usize) -> Result<(), Error> {
        let flow = self.shared.out.borrow_mut().set_limits(high, low)?;
        if flow != Flow::Unchanged {
            self.shared.wake();
        }
        Ok(())
    }

    /// The water marks as `(low, high)` (asyncio's order).
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Defaults;
    /// impl Protocol for Defaults {
    ///     fn connection_made(&mut self, t: &Transport) {
    ///         assert_eq!(t.get_write_buffer_limits(), (16 * 1024, 64 * 1024));
    ///     }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    pub fn get_write_buffer_limits(&self) -> (usize, usize) {
        let out = self.shared.out.borrow();
        (out.low_water(), out.high_water())
    }

    /// Whether the transport is closing or closed (`close`, `abort`, EOF with
    /// `eof_received` false, or the connection's end).
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Check;
    /// impl Protocol for Check {
    ///     fn connection_made(&mut self, t: &Transport) { assert!(!t.is_closing()); }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    pub fn is_closing(&self) -> bool {
        self.shared.state.get() != State::Open || self.shared.error.get().is_some()
    }

    /// Stops reading the socket (no `data_received`) until
    /// [`resume_reading`](Self::resume_reading). Independent of the pause the high-water
    /// mark causes: reading happens only when neither holds.
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Slow;
    /// impl Protocol for Slow {
    ///     fn connection_made(&mut self, t: &Transport) {
    ///         t.pause_reading();
    ///         assert!(!t.is_reading());
    ///         t.resume_reading();
    ///     }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    pub fn pause_reading(&self) {
        self.shared.reading_paused.set(true);
    }

    /// Undoes [`pause_reading`](Self::pause_reading).
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Again;
    /// impl Protocol for Again {
    ///     fn connection_made(&mut self, t: &Transport) { t.resume_reading(); }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    pub fn resume_reading(&self) {
        if self.shared.reading_paused.replace(false) {
            self.shared.wake();
        }
    }

    /// Whether the transport reads the socket now: open, not paused by
    /// [`pause_reading`](Self::pause_reading), and the write buffer not paused by its
    /// high-water mark.
    ///
    /// ```
    /// # use readyloop::net::{Protocol, Transport};
    /// struct Reads;
    /// impl Protocol for Reads {
    ///     fn connection_made(&mut self, t: &Transport) { assert!(t.is_reading()); }
    ///     fn data_received(&mut self, _: &[u8]) {}
    /// }
    /// ```
    pub fn is_reading(&self) -> bool {
        let s = &*self.shared;
        s.state.get() == State::Open
            && s.error.get().is_none()
            && !s.reading_paused.get()
            && !s.out.borrow().is_paused()
    }
}

/// One non-blocking send, `EINTR` retried; `EAGAIN` is 0 bytes.
fn send_now(stream: &TcpStream, data: &[u8]) -> Result<usize, Error> {
    let fd = stream.socket().fd();
    loop {
        match crate::sys::net::send(fd, data) {
            Ok(n) => return Ok(n),
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => return Ok(0),
            Err(e) => return Err(Error::from_errno(e)),
        }
    }
}
