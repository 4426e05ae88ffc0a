//! `Connection`: the task that drives one accepted TCP stream for its [`Protocol`] (asyncio's
//! `_SelectorSocketTransport`): read, call `data_received`, flush the [`Transport`]'s write
//! buffer, report the end. `create_server` spawns one per connection.
//!
//! Its own file so the two ideas it joins import downward: `protocol.rs` (the trait, which
//! names `Transport`) and `transport.rs` (the handle and its state) never import each other.
//! It never calls the protocol from inside `Transport::write` or `close`, and calls
//! `connection_lost` exactly once per connection that saw `connection_made`.

use super::output_buffer::OutputBuffer;
use super::protocol::Protocol;
use super::socket::Slot;
use super::stream::sealed::HasSocket;
use super::tcp_stream::TcpStream;
use super::transport::{Shared, State, Transport, READ_CHUNK};
use crate::error::Error;
use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::net::SocketAddr;
use core::pin::Pin;
use core::task::{Context, Poll};

/// The task that drives one connection for its protocol. Public only inside a private
/// module (the server spawns it).
pub(crate) struct Connection<P: Protocol> {
    /// The user's protocol.
    protocol: P,
    /// The handle given to the protocol.
    transport: Transport,
    /// Reused for every read: no allocation per chunk.
    read_buf: Vec<u8>,
    /// Whether `connection_made` has been called.
    made: bool,
    /// Whether the peer's EOF has been seen.
    eof: bool,
    /// Whether the protocol was last told `pause_writing` (and not yet `resume_writing`).
    told_paused: bool,
    /// Whether `connection_lost` has been called.
    done: bool,
    /// The server's count of open connections, decremented at the end.
    open: Rc<Cell<usize>>,
}

// The protocol is only ever used through `&mut`, never pinned: moving the connection is fine.
impl<P: Protocol> Unpin for Connection<P> {}

impl<P: Protocol> Connection<P> {
    /// A connection for `stream` from `peer`, counted in `open` until it ends.
    pub(crate) fn new(
        stream: TcpStream,
        peer: SocketAddr,
        protocol: P,
        open: Rc<Cell<usize>>,
    ) -> Self {
        open.set(open.get() + 1);
        let shared = Rc::new(Shared {
            stream: RefCell::new(Some(stream)),
            out: RefCell::new(OutputBuffer::new()),
            peer,
            state: Cell::new(State::Open),
            error: Cell::new(None),
            reading_paused: Cell::new(false),
            in_callback: Cell::new(false),
            waker: RefCell::new(None),
        });
        Connection {
            protocol,
            transport: Transport { shared },
            read_buf: vec![0; READ_CHUNK],
            made: false,
            eof: false,
            told_paused: false,
            done: false,
            open,
        }
    }

    fn shared(&self) -> &Shared {
        &self.transport.shared
    }

    /// Runs a protocol callback, marking that the task will re-check after it.
    fn callback<T>(&mut self, f: impl FnOnce(&mut P, &Transport) -> T) -> T {
        self.transport.shared.in_callback.set(true);
        let out = f(&mut self.protocol, &self.transport);
        self.transport.shared.in_callback.set(false);
        out
    }

    /// Tells the protocol about a pause or resume it has not heard of yet. True if it
    /// called the protocol (which may have written or closed: re-check).
    fn sync_flow(&mut self) -> bool {
        let paused = self.shared().out.borrow().is_paused();
        if paused == self.told_paused || self.shared().state.get() != State::Open {
            return false;
        }
        self.told_paused = paused;
        if paused {
            self.callback(|p, _| p.pause_writing());
        } else {
            self.callback(|p, _| p.resume_writing());
        }
        true
    }

    /// Sends buffered bytes until the buffer is empty or the kernel's is full.
    fn flush(&mut self, cx: &mut Context<'_>) -> Result<(), Error> {
        let shared = self.shared();
        loop {
            let mut out = shared.out.borrow_mut();
            if out.is_empty() {
                return Ok(());
            }
            let stream = shared.stream.borrow();
            let Some(stream) = stream.as_ref() else {
                return Ok(());
            };
            match stream.socket().poll_send(cx, Slot::Shared, out.front()) {
                Poll::Ready(Ok(n)) => {
                    out.consume(n);
                }
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => return Ok(()),
            }
        }
    }

    /// Whether the task should read the socket now.
    fn wants_read(&self) -> bool {
        !self.eof && self.transport.is_reading()
    }

    /// Ends the connection: closes the socket, drops the buffer, tells the protocol. An
    /// orderly end (`error` is `None`) closes with a FIN after everything was sent; an end
    /// caused by an error or a cancellation resets the peer, so it cannot mistake what it
    /// got for the complete reply.
    fn finish(&mut self, error: Option<Error>) -> Poll<()> {
        let shared = self.shared();
        shared.state.set(State::Closed);
        shared.out.borrow_mut().clear();
        let stream = shared.stream.borrow_mut().take();
        match stream {
            Some(stream) if error.is_some() => stream.abort(),
            other => drop(other),
        }
        shared.waker.borrow_mut().take();
        self.done = true;
        self.open.set(self.open.get().saturating_sub(1));
        self.callback(|p, _| p.connection_lost(error));
        Poll::Ready(())
    }
}

impl<P: Protocol> Future for Connection<P> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(());
        }
        {
            let mut waker = this.shared().waker.borrow_mut();
            match &*waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *waker = Some(cx.waker().clone()),
            }
        }
        if !this.made {
            this.made = true;
            this.callback(|p, t| p.connection_made(t));
        }
        loop {
            if this.sync_flow() {
                continue;
            }
            if let Some(e) = this.shared().error.get() {
                return this.finish(Some(e));
            }
            match this.shared().state.get() {
                State::Aborted => return this.finish(None),
                State::Closed => return Poll::Ready(()),
                State::Open | State::Closing => {}
            }
            if let Err(e) = this.flush(cx) {
                return this.finish(Some(e));
            }
            if this.sync_flow() {
                continue;
            }
            if this.shared().state.get() == State::Closing && this.shared().out.borrow().is_empty()
            {
                return this.finish(None);
            }
            if !this.wants_read() {
                return Poll::Pending;
            }
            let polled = {
                let stream = this.transport.shared.stream.borrow();
                match stream.as_ref() {
                    Some(s) => s.socket().poll_recv(cx, Slot::Shared, &mut this.read_buf),
                    None => return Poll::Pending,
                }
            };
            match polled {
                Poll::Ready(Ok(0)) => {
                    this.eof = true;
                    if !this.callback(|p, _| p.eof_received()) {
                        this.transport.close();
                    }
                }
                Poll::Ready(Ok(n)) => {
                    let Connection {
                        protocol,
                        transport,
                        read_buf,
                        ..
                    } = &mut *this;
                    transport.shared.in_callback.set(true);
                    protocol.data_received(&read_buf[..n]);
                    transport.shared.in_callback.set(false);
                }
                Poll::Ready(Err(e)) => return this.finish(Some(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<P: Protocol> Drop for Connection<P> {
    fn drop(&mut self) {
        // Cancelled (the task aborted or the loop dropped) after the protocol saw the
        // connection: it still hears of the end, exactly once.
        if self.done {
            return;
        }
        if self.made {
            let _ = self.finish(Some(Error::cancelled()));
        } else {
            self.open.set(self.open.get().saturating_sub(1));
        }
    }
}

impl<P: Protocol> core::fmt::Debug for Connection<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("transport", &self.transport)
            .field("eof", &self.eof)
            .field("done", &self.done)
            .finish()
    }
}
