//! `Connect`: a non-blocking connect, the "few dozen lines of exception handling" seed 002
//! §4.3 leaves out.
//!
//! The socket is made and `connect` called on the first poll. `EINPROGRESS` (TCP) means
//! "wait until writable, then read `SO_ERROR`": a refused connection shows up there at once,
//! so `ConnectionRefused` comes promptly, not after a timeout. A Unix socket whose listener's
//! queue is full answers `EAGAIN` instead; then the connect waits on a short, growing timer
//! and tries again. This module never blocks and never retries without a wait in between.

use super::socket::Socket;
use crate::error::{Error, ErrorKind};
use crate::executor::Handle;
use crate::timers::TimerKey;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::io::Errno;

/// The first wait before a Unix connect retries after `EAGAIN`; it doubles up to the max.
const RETRY_FIRST: Duration = Duration::from_millis(1);
const RETRY_MAX: Duration = Duration::from_millis(64);

pub(crate) mod sealed {
    use super::*;

    /// How a stream type opens and connects its socket.
    pub trait Connects: Sized {
        /// The address type connected to.
        type Addr: core::fmt::Debug;
        /// A new non-blocking socket for `addr`.
        fn open(addr: &Self::Addr) -> Result<OwnedFd, Errno>;
        /// `connect(2)`.
        fn connect(fd: BorrowedFd<'_>, addr: &Self::Addr) -> Result<(), Errno>;
        /// The connected stream.
        fn wrap(socket: Socket) -> Self;
    }
}

/// A stream type that [`Connect`] can produce: [`TcpStream`](super::TcpStream) or
/// [`UnixStream`](super::UnixStream). Sealed.
///
/// ```
/// fn takes<S: readyloop::net::Connectable>() {}
/// takes::<readyloop::net::TcpStream>();
/// takes::<readyloop::net::UnixStream>();
/// ```
pub trait Connectable: sealed::Connects {}

#[derive(Debug)]
enum State {
    /// Not started: the socket is made on the first poll.
    Start,
    /// `connect` said `EINPROGRESS`: waiting until writable.
    Connecting(Socket),
    /// `connect` said `EAGAIN` (a Unix listener's queue is full): waiting to retry.
    Retrying(Socket, TimerKey),
    /// Finished (or failed).
    Done,
}

/// Connects a stream socket; returned by `connect` on the stream types and used by
/// [`open_connection`](super::open_connection). Resolves to the connected stream.
///
/// Errors: `ConnectionRefused` when nothing listens (promptly: the kernel's reset ends the
/// wait), `InvalidInput` for an address that did not parse, `TooManyOpenFiles`, and so on.
///
/// Cancellation: safe. Dropping it closes the half-made socket; no connection is left.
///
/// ```
/// use readyloop::net::{TcpListener, TcpStream};
/// use readyloop::ErrorKind;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
/// let addr = listener.local_addr().unwrap();
/// drop(listener); // now nothing listens there
/// let err = lp.block_on(TcpStream::connect(&h, addr)).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
/// ```
#[must_use = "a Connect does nothing unless awaited"]
pub struct Connect<S: Connectable> {
    handle: Handle,
    addr: Result<S::Addr, Error>,
    state: State,
    retry_delay: Duration,
}

impl<S: Connectable> Connect<S> {
    pub(crate) fn new(handle: Handle, addr: Result<S::Addr, Error>) -> Self {
        Connect {
            handle,
            addr,
            state: State::Start,
            retry_delay: RETRY_FIRST,
        }
    }
}

impl<S: Connectable> core::fmt::Debug for Connect<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connect")
            .field("addr", &self.addr)
            .field("state", &self.state)
            .finish()
    }
}

// Nothing in a `Connect` is pinned structurally (the socket and address move freely).
impl<S: Connectable> Unpin for Connect<S> {}

impl<S: Connectable> Future for Connect<S> {
    type Output = Result<S, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let handle = &this.handle;
        let addr = match &this.addr {
            Ok(a) => a,
            Err(e) => return Poll::Ready(Err(*e)),
        };
        let socket = match core::mem::replace(&mut this.state, State::Done) {
            State::Start => {
                if let Err(e) = handle.check_running() {
                    return Poll::Ready(Err(e));
                }
                match S::open(addr) {
                    Ok(fd) => Socket::new(handle, fd),
                    Err(e) => return Poll::Ready(Err(Error::from_errno(e))),
                }
            }
            State::Connecting(socket) => {
                return match socket.poll_connected(cx) {
                    Poll::Pending => {
                        this.state = State::Connecting(socket);
                        Poll::Pending
                    }
                    Poll::Ready(Ok(())) => Poll::Ready(Ok(S::wrap(socket))),
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                };
            }
            State::Retrying(socket, key) => {
                if handle.timer_is_armed(key) {
                    handle.timer_update(key, cx.waker());
                    this.state = State::Retrying(socket, key);
                    return Poll::Pending;
                }
                socket
            }
            State::Done => {
                return Poll::Ready(Err(Error::new(
                    ErrorKind::InvalidInput,
                    "Connect polled again after it completed",
                )))
            }
        };
        // Call connect (again) and move to the state its answer calls for.
        match S::connect(socket.fd(), addr) {
            Ok(()) | Err(Errno::ISCONN) => Poll::Ready(Ok(S::wrap(socket))),
            Err(Errno::INPROGRESS) | Err(Errno::INTR) | Err(Errno::ALREADY) => {
                // Register the writable wait now; a later poll finds it fired.
                match socket.poll_connected(cx) {
                    Poll::Pending => {
                        this.state = State::Connecting(socket);
                        Poll::Pending
                    }
                    Poll::Ready(Ok(())) => Poll::Ready(Ok(S::wrap(socket))),
                    Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                }
            }
            Err(Errno::AGAIN) => {
                let deadline = handle.now() + this.retry_delay;
                this.retry_delay = (this.retry_delay * 2).min(RETRY_MAX);
                let key = handle.timer_insert(deadline.as_nanos(), cx.waker(), None);
                this.state = State::Retrying(socket, key);
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(Error::from_errno(e))),
        }
    }
}

impl<S: Connectable> Drop for Connect<S> {
    fn drop(&mut self) {
        if let State::Retrying(socket, key) = &self.state {
            socket.handle().timer_cancel(*key);
        }
    }
}
