//! `Socket`: an owned socket fd and its [`Registration`], with the poll-based operations
//! every socket type and every socket future is built from.
//!
//! Each operation is written once here, as `poll_*(cx, slot, ...)`. The `slot` says whose
//! wait to use: [`Slot::Shared`] is the registration's own wait for that direction (what a
//! `poll_recv(&self, cx, buf)` method uses: one task per direction, the `futures-io`
//! contract), [`Slot::Own`] a wait kept by a future (so several tasks may wait on one socket
//! at once). Either way the syscall is tried first and the wait is registered only on
//! `EAGAIN`, except right after a short stream recv or send: that one drained the queue, so
//! the next waits for readiness first (`Registration::set_drained`) instead of making a
//! syscall that would only say `EAGAIN`. This module must never block, allocate, or retry an operation on its own
//! beyond `EINTR` (and `ECONNABORTED` for accept, which names a connection already gone).

use crate::error::{Error, ErrorKind};
use crate::executor::Handle;
use crate::registration::Registration;
use crate::sys::net as sys;
use crate::sys::Interest;
use crate::timers::TimerKey;
use core::cell::Cell;
use core::mem::MaybeUninit;
use core::task::{Context, Poll};
use core::time::Duration;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::addr::SocketAddrArg;
use rustix::net::SocketAddrAny;

/// How long accept waits before retrying after the process or system ran out of fds (or
/// kernel memory). Waiting for readability instead would spin: the pending connection keeps
/// the listener readable while every accept fails.
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// Whose wait an operation registers when it would block.
#[derive(Debug)]
pub enum Slot<'a> {
    /// The registration's own wait for the direction (one waiter per direction).
    Shared,
    /// A wait kept by the caller, usually a future (any number of waiters).
    Own(&'a mut u64),
}

/// An owned, registered, non-blocking socket. Public only inside a private module, so the
/// sealed traits of `net` can name it; users never see it.
#[derive(Debug)]
pub struct Socket {
    /// Dropped first (fields drop in order): the loop forgets the fd before it closes.
    registration: Registration,
    /// The socket itself, closed when the `Socket` drops.
    fd: OwnedFd,
}

impl Socket {
    /// Registers an owned, non-blocking socket with the loop behind `handle`.
    pub(crate) fn new(handle: &Handle, fd: OwnedFd) -> Socket {
        Socket {
            registration: Registration::sealed(handle, fd.as_raw_fd()),
            fd,
        }
    }

    /// Deregisters the socket and hands its fd back.
    pub(crate) fn into_fd(self) -> OwnedFd {
        let Socket { registration, fd } = self;
        drop(registration);
        fd
    }

    /// The loop the socket is registered with.
    pub(crate) fn handle(&self) -> &Handle {
        self.registration.handle()
    }

    /// The socket's fd, borrowed.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Tries `op`; on `EAGAIN` registers the wait `slot` names and returns `Pending`.
    fn io<T>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        slot: Slot<'_>,
        op: impl FnMut() -> Result<T, Errno>,
    ) -> Poll<Result<T, Error>> {
        match slot {
            Slot::Shared => self.registration.poll_io(cx, interest, op),
            Slot::Own(token) => self.registration.poll_io_with(cx, interest, token, op),
        }
    }

    /// Withdraws a wait a future kept (call from its `Drop`).
    pub(crate) fn cancel(&self, interest: Interest, token: &mut u64) {
        self.registration.cancel(interest, token);
    }

    /// Receives up to `buf.len()` bytes; 0 means the peer closed its writing half (or `buf`
    /// is empty).
    pub(crate) fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, Error>> {
        let fd = self.fd();
        let len = buf.len();
        if len == 0 {
            // An empty buffer reads nothing at once (a Unix stream's recv would say EAGAIN).
            return Poll::Ready(Ok(0));
        }
        let polled = self.io(cx, Interest::Readable, slot, || sys::recv(fd, buf));
        if let Poll::Ready(Ok(n)) = polled {
            // A stream recv that returns less than asked emptied the receive queue: the
            // next one waits for readiness instead of a recv that would say EAGAIN.
            if n > 0 && n < len {
                self.registration.set_drained(Interest::Readable);
            }
        }
        polled
    }

    /// Sends some of `buf` (at least one byte unless `buf` is empty).
    pub(crate) fn poll_send(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, Error>> {
        let fd = self.fd();
        let len = buf.len();
        if len == 0 {
            // An empty buffer reads nothing at once (a Unix stream's recv would say EAGAIN).
            return Poll::Ready(Ok(0));
        }
        let polled = self.io(cx, Interest::Writable, slot, || sys::send(fd, buf));
        if let Poll::Ready(Ok(n)) = polled {
            // A short send filled the send buffer: the next one waits for POLLOUT first.
            if n < len {
                self.registration.set_drained(Interest::Writable);
            }
        }
        polled
    }

    /// [`poll_recv`](Self::poll_recv) into memory that need not be initialised: nothing is
    /// zeroed first. On `Ok(n)` the first `n` bytes of `buf` are initialised.
    pub(crate) fn poll_recv_uninit(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<Result<usize, Error>> {
        let fd = self.fd();
        let len = buf.len();
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let polled = self.io(cx, Interest::Readable, slot, || sys::recv_uninit(fd, buf));
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 && n < len {
                self.registration.set_drained(Interest::Readable);
            }
        }
        polled
    }

    #[cfg(feature = "std")]
    /// Sends from several buffers in one `sendmsg` (a gather write), in order; returns the
    /// byte count, which may end inside any buffer.
    pub(crate) fn poll_send_vectored(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<Result<usize, Error>> {
        let fd = self.fd();
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let polled = self.io(cx, Interest::Writable, slot, || {
            sys::send_vectored(fd, bufs)
        });
        if let Poll::Ready(Ok(n)) = polled {
            if n < len {
                self.registration.set_drained(Interest::Writable);
            }
        }
        polled
    }

    /// Receives one datagram and its sender's kernel address.
    pub(crate) fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<(usize, Option<SocketAddrAny>), Error>> {
        let fd = self.fd();
        self.io(cx, Interest::Readable, slot, || sys::recv_from(fd, buf))
    }

    /// Sends one datagram to `addr`.
    pub(crate) fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: &[u8],
        addr: &impl SocketAddrArg,
    ) -> Poll<Result<usize, Error>> {
        let fd = self.fd();
        self.io(cx, Interest::Writable, slot, || sys::send_to(fd, buf, addr))
    }

    /// Accepts one connection. When the process or system is out of fds (or buffers), waits
    /// [`ACCEPT_BACKOFF`] on the timer `backoff` and tries again, instead of returning an
    /// error a server loop would retry at once (a spin) or die of.
    pub(crate) fn poll_accept(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        backoff: &mut Option<TimerKey>,
    ) -> Poll<Result<(OwnedFd, Option<SocketAddrAny>), Error>> {
        let handle = self.handle();
        if let Some(key) = *backoff {
            if handle.timer_is_armed(key) {
                handle.timer_update(key, cx.waker());
                return Poll::Pending;
            }
            *backoff = None;
        }
        let fd = self.fd();
        let accepted = self.io(cx, Interest::Readable, slot, || loop {
            match sys::accept(fd) {
                // The peer reset before we took it: nothing to hand over, try the next.
                Err(Errno::CONNABORTED) => continue,
                other => return other,
            }
        });
        match accepted {
            Poll::Ready(Err(e)) if is_exhaustion(&e) => {
                let deadline = handle.now() + ACCEPT_BACKOFF;
                *backoff = Some(handle.timer_insert(deadline.as_nanos(), cx.waker()));
                Poll::Pending
            }
            other => other,
        }
    }

    /// Waits until the socket is writable (a non-blocking connect finished) and returns the
    /// connect's outcome from `SO_ERROR`.
    pub(crate) fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        match self.registration.poll_ready(cx, Interest::Writable) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => Poll::Ready(match sys::take_error(self.fd()) {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) | Err(e) => Err(Error::from_errno(e)),
            }),
        }
    }

    /// Shuts down one or both halves.
    pub(crate) fn shutdown(&self, how: crate::net::Shutdown) -> Result<(), Error> {
        let how = match how {
            crate::net::Shutdown::Read => sys::Shutdown::Read,
            crate::net::Shutdown::Write => sys::Shutdown::Write,
            crate::net::Shutdown::Both => sys::Shutdown::Both,
        };
        sys::shutdown(self.fd(), how).map_err(|e| match e {
            Errno::NOTCONN => Error::new(
                ErrorKind::InvalidInput,
                "shutdown: the socket is not connected",
            ),
            e => Error::from_errno(e),
        })
    }

    /// The pending socket error (`SO_ERROR`), if any, clearing it.
    pub(crate) fn take_error(&self) -> Result<Option<Error>, Error> {
        match sys::take_error(self.fd()) {
            Ok(Ok(())) => Ok(None),
            Ok(Err(e)) => Ok(Some(Error::from_errno(e))),
            Err(e) => Err(Error::from_errno(e)),
        }
    }
}

/// Whether an accept failed for want of fds or kernel memory (a wait helps; a retry doesn't).
fn is_exhaustion(e: &Error) -> bool {
    e.kind() == ErrorKind::TooManyOpenFiles
        || matches!(e.errno(), Some(Errno::NOBUFS) | Some(Errno::NOMEM))
}

/// The timer a listener's own `poll_accept` backs off on; cancelled when the listener drops.
#[derive(Debug)]
pub struct AcceptBackoff {
    handle: Handle,
    key: Cell<Option<TimerKey>>,
}

impl AcceptBackoff {
    pub(crate) fn new(handle: &Handle) -> Self {
        AcceptBackoff {
            handle: handle.clone(),
            key: Cell::new(None),
        }
    }

    /// Runs `f` with the backoff timer, storing back what it leaves.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Option<TimerKey>) -> T) -> T {
        let mut key = self.key.take();
        let out = f(&mut key);
        self.key.set(key);
        out
    }
}

impl Drop for AcceptBackoff {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.handle.timer_cancel(key);
        }
    }
}
