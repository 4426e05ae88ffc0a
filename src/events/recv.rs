//! `AsyncRecv`: recv on a non-blocking socket.

use crate::error::{Error, ErrorKind};
use crate::executor::Handle;
use crate::sys::{fd, Interest};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use rustix::fd::{AsRawFd, BorrowedFd};

/// Receives up to `buf.len()` bytes from a non-blocking socket (0 means the peer closed).
///
/// Ports seed 002's `AsyncRecv`, which asserts the socket is non-blocking, tries `recv`, and
/// on "would block" `yield`s itself so the loop selects the socket for reading. The first
/// poll here checks the fd is a socket (`ErrorKind::NotASocket`) and non-blocking
/// (`ErrorKind::Blocking`, the article's assert as an error value); then it tries `recv` and
/// on `EAGAIN` registers the socket with `Interest::Readable` and the task's waker in the
/// loop's reactor and returns `Pending`.
///
/// Cancellation: dropping it before it completes loses nothing; bytes stay in the kernel.
///
/// ```
/// use readyloop::{AsyncRecv, Loop};
/// use std::io::Write;
/// use std::os::fd::AsFd;
/// let lp = Loop::new().unwrap();
/// let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
/// a.set_nonblocking(true).unwrap();
/// b.write_all(b"ping").unwrap();
/// let mut buf = [0u8; 16];
/// let n = lp.block_on(AsyncRecv::new(&lp.handle(), a.as_fd(), &mut buf)).unwrap();
/// assert_eq!(&buf[..n], b"ping");
/// ```
#[derive(Debug)]
#[must_use = "an AsyncRecv does nothing unless awaited"]
pub struct AsyncRecv<'a> {
    handle: Handle,
    fd: BorrowedFd<'a>,
    buf: &'a mut [u8],
    checked: bool,
    token: u64,
}

impl<'a> AsyncRecv<'a> {
    /// Receives into `buf` from the socket `fd`.
    ///
    /// ```
    /// use readyloop::{AsyncRecv, ErrorKind, Loop};
    /// use std::os::fd::AsFd;
    /// let lp = Loop::new().unwrap();
    /// let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// // A blocking socket is refused with an error value (the article's assert).
    /// let mut buf = [0u8; 4];
    /// let err = lp.block_on(AsyncRecv::new(&lp.handle(), a.as_fd(), &mut buf)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Blocking);
    /// a.set_nonblocking(true).unwrap();
    /// drop(b); // the peer closes: recv gives 0
    /// assert_eq!(lp.block_on(AsyncRecv::new(&lp.handle(), a.as_fd(), &mut buf)).unwrap(), 0);
    /// ```
    pub fn new(handle: &Handle, fd: BorrowedFd<'a>, buf: &'a mut [u8]) -> Self {
        AsyncRecv {
            handle: handle.clone(),
            fd,
            buf,
            checked: false,
            token: 0,
        }
    }
}

impl Future for AsyncRecv<'_> {
    type Output = Result<usize, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let raw = this.fd.as_raw_fd();
        if !this.checked {
            if let Err(e) = this.handle.check_running() {
                return Poll::Ready(Err(e));
            }
            if let Err(e) = fd::check_socket(this.fd) {
                return Poll::Ready(Err(e));
            }
            match fd::is_nonblocking(this.fd) {
                Ok(true) => {}
                Ok(false) => {
                    return Poll::Ready(Err(Error::new(
                        ErrorKind::Blocking,
                        "AsyncRecv needs a non-blocking socket (the article asserts \
                         sock.getblocking() is False): set O_NONBLOCK first",
                    )))
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
            this.checked = true;
        }
        let borrowed = this.fd;
        let buf = &mut *this.buf;
        this.handle
            .poll_io(cx, raw, Interest::Readable, &mut this.token, || {
                fd::recv(borrowed, buf)
            })
    }
}

impl Drop for AsyncRecv<'_> {
    fn drop(&mut self) {
        let raw = self.fd.as_raw_fd();
        self.handle
            .cancel_io(raw, Interest::Readable, &mut self.token);
    }
}
