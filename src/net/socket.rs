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
use crate::trace::SyscallResult;
use core::cell::Cell;
use core::mem::MaybeUninit;
use core::task::{Context, Poll};
use core::time::Duration;
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;
use rustix::net::addr::SocketAddrArg;
use rustix::net::SocketAddrAny;

/// How long accept first waits before retrying after the process or system ran out of fds
/// (or kernel memory). Waiting for readability instead would spin: the pending connection
/// keeps the listener readable while every accept fails.
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// The longest accept back-off. Each retry that runs out of fds again doubles the wait up
/// to this (Go's `net/http` server does the same, 5 ms to 1 s): a process stuck at its fd
/// limit with thousands of connections wakes at most once a second, and a poll(2) over
/// every fd costs milliseconds each time (63 % of a CPU at 20 ms with 19,000 fds).
pub(crate) const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// An accept's back-off when out of fds: the timer while waiting, and how long the next
/// wait is. Every accept that does not run out of fds resets it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Backoff {
    /// The armed timer, while waiting.
    key: Option<TimerKey>,
    /// The next wait; zero until the first exhaustion (then [`ACCEPT_BACKOFF`]).
    next: Duration,
}

impl Backoff {
    /// Whether a back-off timer is armed (waiting).
    pub(crate) fn is_waiting(&self) -> bool {
        self.key.is_some()
    }

    /// Disarms the timer, if any (call from the owner's `Drop`).
    pub(crate) fn cancel(&mut self, handle: &Handle) {
        if let Some(key) = self.key.take() {
            handle.timer_cancel(key);
        }
    }

    /// The wait to use now, doubling the next one (bounded).
    fn grow(&mut self) -> Duration {
        let now = if self.next.is_zero() {
            ACCEPT_BACKOFF
        } else {
            self.next
        };
        self.next = (now * 2).min(ACCEPT_BACKOFF_MAX);
        now
    }
}

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

    /// Closes the socket abortively: `SO_LINGER` 0, then close (deregistered first, as on
    /// drop). For TCP the kernel drops what is unsent and sends a reset; for a Unix stream
    /// the option is accepted but changes nothing (see `UnixStream::abort`). The one
    /// mechanism behind every abortive close in readyloop (the streams' `abort`,
    /// `Transport::abort`, a connection ending on an error or cancelled).
    pub(crate) fn abort(self) {
        // If setting the option fails (it cannot on a valid socket), the close below is an
        // orderly one: nothing better is possible, and the fd must be closed either way.
        let _ = sys::set_linger(self.fd(), Some(Duration::ZERO));
        drop(self);
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

    /// Ready once the socket has something to receive (see `Readable`). Unless the last
    /// receive drained it (the steady state of a request-reply loop: no syscall here), a
    /// first look peeks without waiting, so a connection that already has data or was
    /// already closed is answered in this turn, not the next.
    pub(crate) fn poll_readable(
        &self,
        cx: &mut Context<'_>,
        token: &mut u64,
    ) -> Poll<Result<(), Error>> {
        if *token == 0 && !self.registration.is_drained(Interest::Readable) {
            if sys::has_input(self.fd()) {
                return Poll::Ready(Ok(()));
            }
            self.registration.set_drained(Interest::Readable);
        }
        self.registration
            .poll_ready_with(cx, Interest::Readable, token)
    }

    /// Hands a syscall's outcome to the trace when the loop traces syscalls
    /// (`Builder::trace_syscalls`); otherwise one predictable branch. `ok` describes a
    /// success.
    #[inline(always)]
    fn traced<T>(
        &self,
        op: &'static str,
        result: Result<T, Errno>,
        ok: impl FnOnce(&T) -> SyscallResult,
    ) -> Result<T, Errno> {
        self.handle()
            .core
            .trace_syscall(self.fd.as_raw_fd(), op, || match &result {
                Ok(v) => ok(v),
                Err(e) => SyscallResult::Failed(e.raw_os_error()),
            });
        result
    }

    /// Withdraws a wait a future kept (call from its `Drop`).
    pub(crate) fn cancel(&self, interest: Interest, token: &mut u64) {
        self.registration.cancel(interest, token);
    }

    /// One stream transfer of up to `len` bytes in `interest`'s direction, traced as `op`.
    /// Nothing to move is `Ok(0)` at once (a Unix stream's recv of 0 bytes would say
    /// EAGAIN). A transfer shorter than asked emptied the receive queue or filled the send
    /// buffer, so the next one waits for readiness first instead of making a syscall that
    /// would say EAGAIN; a receive of 0 is the peer's close, not a short one.
    #[inline(always)]
    fn transfer(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        interest: Interest,
        len: usize,
        op: &'static str,
        mut syscall: impl FnMut() -> Result<usize, Errno>,
    ) -> Poll<Result<usize, Error>> {
        if len == 0 {
            return Poll::Ready(Ok(0));
        }
        let polled = self.io(cx, interest, slot, || {
            self.traced(op, syscall(), |n| SyscallResult::Bytes(*n))
        });
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 && n < len {
                self.registration.set_drained(interest);
            }
        }
        polled
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
        self.transfer(cx, slot, Interest::Readable, len, "recv", || {
            sys::recv(fd, buf)
        })
    }

    /// Sends some of `buf` (at least one byte unless `buf` is empty).
    pub(crate) fn poll_send(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, Error>> {
        let fd = self.fd();
        self.transfer(cx, slot, Interest::Writable, buf.len(), "send", || {
            sys::send(fd, buf)
        })
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
        self.transfer(cx, slot, Interest::Readable, len, "recv", || {
            sys::recv_uninit(fd, buf)
        })
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
        let len = bufs.iter().map(|b| b.len()).sum();
        self.transfer(cx, slot, Interest::Writable, len, "sendmsg", || {
            sys::send_vectored(fd, bufs)
        })
    }

    /// Receives one datagram and its sender's kernel address.
    pub(crate) fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<(usize, Option<SocketAddrAny>), Error>> {
        let fd = self.fd();
        self.io(cx, Interest::Readable, slot, || {
            self.traced("recvfrom", sys::recv_from(fd, buf), |r| {
                SyscallResult::Bytes(r.0)
            })
        })
    }

    /// Copies up to `buf.len()` bytes from the front of the receive queue without taking
    /// them (`MSG_PEEK`): the next receive gets them again. It never marks the socket
    /// drained (the bytes are still there), so it cannot delay the receive that follows.
    pub(crate) fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, Error>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let fd = self.fd();
        self.io(cx, Interest::Readable, slot, || {
            self.traced("peek", sys::peek(fd, buf), |n| SyscallResult::Bytes(*n))
        })
    }

    /// Like [`poll_peek`](Socket::poll_peek) with the sender's kernel address (datagrams).
    pub(crate) fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<(usize, Option<SocketAddrAny>), Error>> {
        let fd = self.fd();
        self.io(cx, Interest::Readable, slot, || {
            self.traced("peek", sys::peek_from(fd, buf), |r| {
                SyscallResult::Bytes(r.0)
            })
        })
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
        self.io(cx, Interest::Writable, slot, || {
            self.traced("sendto", sys::send_to(fd, buf, addr), |n| {
                SyscallResult::Bytes(*n)
            })
        })
    }

    /// Accepts one connection. When the process or system is out of fds (or buffers), waits
    /// on the timer in `backoff` and tries again, instead of returning an error a server
    /// loop would retry at once (a spin) or die of. The wait starts at [`ACCEPT_BACKOFF`]
    /// and doubles while the fds stay exhausted, up to [`ACCEPT_BACKOFF_MAX`]; any other
    /// outcome resets it.
    pub(crate) fn poll_accept(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        backoff: &mut Backoff,
    ) -> Poll<Result<(OwnedFd, Option<SocketAddrAny>), Error>> {
        let handle = self.handle();
        if let Some(key) = backoff.key {
            if handle.timer_is_armed(key) {
                handle.timer_update(key, cx.waker());
                return Poll::Pending;
            }
            backoff.key = None;
        }
        let fd = self.fd();
        let accepted = self.io(cx, Interest::Readable, slot, || loop {
            let accepted = self.traced("accept", sys::accept(fd), |(new, peer)| {
                SyscallResult::Accepted {
                    fd: new.as_raw_fd(),
                    peer: peer.clone().and_then(|a| sys::to_inet(a).ok()),
                }
            });
            match accepted {
                // The peer reset before we took it: nothing to hand over, try the next.
                Err(Errno::CONNABORTED) => continue,
                other => return other,
            }
        });
        match accepted {
            Poll::Ready(Err(e)) if is_exhaustion(&e) => {
                let deadline = handle.now() + backoff.grow();
                backoff.key = Some(handle.timer_insert(deadline.as_nanos(), cx.waker(), None));
                Poll::Pending
            }
            // Pending (EAGAIN) too: fds were there, so the next exhaustion starts afresh.
            other => {
                backoff.next = Duration::ZERO;
                other
            }
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
        // ENOTCONN keeps its number: futures-io's `poll_close` callers match `NotConnected`.
        sys::shutdown(self.fd(), how).map_err(Error::from_errno)
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

/// The back-off a listener's own `poll_accept` uses; its timer is cancelled when the
/// listener drops.
#[derive(Debug)]
pub struct AcceptBackoff {
    handle: Handle,
    state: Cell<Backoff>,
}

impl AcceptBackoff {
    pub(crate) fn new(handle: &Handle) -> Self {
        AcceptBackoff {
            handle: handle.clone(),
            state: Cell::new(Backoff::default()),
        }
    }

    /// Runs `f` with the back-off, storing back what it leaves.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Backoff) -> T) -> T {
        let mut state = self.state.take();
        let out = f(&mut state);
        self.state.set(state);
        out
    }
}

impl Drop for AcceptBackoff {
    fn drop(&mut self) {
        self.state.get_mut().cancel(&self.handle);
    }
}
