//! `ReadFd`: read from any pollable fd (seed 002's `AsyncRead`, renamed: `AsyncRead` is futures-io's trait).

use crate::error::{Error, ErrorKind};
use crate::executor::Handle;
use crate::sys::{fd, Interest};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use rustix::fd::{AsRawFd, BorrowedFd};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Not yet checked (the first poll asks the kernel).
    Unknown,
    /// O_NONBLOCK: try the read, wait only on EAGAIN.
    NonBlocking,
    /// Blocking fd: wait for readiness first, then read once (as the article does).
    Blocking,
}

/// Reads up to `buf.len()` bytes (or exactly that many) from a pollable fd: a pipe, a tty,
/// a socket, an eventfd, `/dev/urandom`.
///
/// Ports seed 002's `AsyncRead`: the Python event `yield`s itself and the loop puts its file
/// in `select`'s read list, resuming the coroutine when it is readable. Here the leaf tries
/// the read (on a non-blocking fd), and on `EAGAIN` registers the fd with
/// `Interest::Readable` and the task's waker in the loop's reactor and returns `Pending`.
/// A blocking fd is handled the article's way: wait until the kernel says it is readable,
/// then read once (so one blocking fd shared by two readers can still block the loop; give
/// the loop non-blocking fds where you can). The result is the byte count (0 at end of
/// file), or with [`exact`](ReadFd::exact) the full count or `UnexpectedEof`.
///
/// Cancellation: dropping it before completion withdraws the wait; bytes already read in
/// `exact` mode stay in the buffer but the count is lost.
///
/// ```
/// use readyloop::{ReadFd, Loop};
/// use std::io::Write;
/// let lp = Loop::new().unwrap();
/// let (r, w) = std::io::pipe().unwrap();
/// (&w).write_all(b"hello").unwrap();
/// let mut buf = [0u8; 5];
/// let n = lp.block_on(ReadFd::exact(&lp.handle(), std::os::fd::AsFd::as_fd(&r), &mut buf));
/// assert_eq!(n.unwrap(), 5);
/// assert_eq!(&buf, b"hello");
/// ```
#[derive(Debug)]
#[must_use = "a ReadFd does nothing unless awaited"]
pub struct ReadFd<'a> {
    handle: Handle,
    fd: BorrowedFd<'a>,
    buf: &'a mut [u8],
    filled: usize,
    exact: bool,
    mode: Mode,
    token: u64,
}

impl<'a> ReadFd<'a> {
    /// Reads up to `buf.len()` bytes (one successful read).
    ///
    /// ```
    /// use readyloop::{ReadFd, Loop};
    /// use std::io::Write;
    /// use std::os::fd::AsFd;
    /// let lp = Loop::new().unwrap();
    /// let (r, mut w) = std::io::pipe().unwrap();
    /// w.write_all(b"abc").unwrap();
    /// let mut buf = [0u8; 16];
    /// let n = lp.block_on(ReadFd::new(&lp.handle(), r.as_fd(), &mut buf)).unwrap();
    /// assert_eq!(&buf[..n], b"abc");
    /// ```
    pub fn new(handle: &Handle, fd: BorrowedFd<'a>, buf: &'a mut [u8]) -> Self {
        Self::make(handle, fd, buf, false)
    }

    /// Reads exactly `buf.len()` bytes; fewer at end of file is `ErrorKind::UnexpectedEof`.
    ///
    /// ```
    /// use readyloop::{ReadFd, ErrorKind, Loop};
    /// use std::io::Write;
    /// use std::os::fd::AsFd;
    /// let lp = Loop::new().unwrap();
    /// let (r, mut w) = std::io::pipe().unwrap();
    /// w.write_all(b"short").unwrap();
    /// drop(w); // end of file after 5 bytes
    /// let mut buf = [0u8; 8];
    /// let err = lp.block_on(ReadFd::exact(&lp.handle(), r.as_fd(), &mut buf)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    /// ```
    pub fn exact(handle: &Handle, fd: BorrowedFd<'a>, buf: &'a mut [u8]) -> Self {
        Self::make(handle, fd, buf, true)
    }

    fn make(handle: &Handle, fd: BorrowedFd<'a>, buf: &'a mut [u8], exact: bool) -> Self {
        ReadFd {
            handle: handle.clone(),
            fd,
            buf,
            filled: 0,
            exact,
            mode: Mode::Unknown,
            token: 0,
        }
    }

    fn finish(&mut self, n: usize) -> Option<Result<usize, Error>> {
        if !self.exact {
            return Some(Ok(n));
        }
        self.filled += n;
        if self.filled == self.buf.len() {
            Some(Ok(self.filled))
        } else if n == 0 {
            Some(Err(Error::new(
                ErrorKind::UnexpectedEof,
                "end of file before the requested number of bytes",
            )))
        } else {
            None
        }
    }
}

impl Future for ReadFd<'_> {
    type Output = Result<usize, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let raw = this.fd.as_raw_fd();
        if this.mode == Mode::Unknown {
            if let Err(e) = this.handle.check_running() {
                return Poll::Ready(Err(e));
            }
            this.mode = match fd::is_nonblocking(this.fd) {
                Ok(true) => Mode::NonBlocking,
                Ok(false) => Mode::Blocking,
                Err(e) => return Poll::Ready(Err(e)),
            };
        }
        if this.exact && this.filled == this.buf.len() {
            return Poll::Ready(Ok(this.filled));
        }
        loop {
            let n = match this.mode {
                Mode::Blocking => {
                    match this
                        .handle
                        .poll_ready(cx, raw, Interest::Readable, &mut this.token)
                    {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Ready(Ok(())) => {}
                    }
                    let buf = &mut this.buf[this.filled..];
                    match fd::read(this.fd, buf) {
                        Ok(n) => n,
                        Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => continue,
                        Err(e) => return Poll::Ready(Err(e.into())),
                    }
                }
                _ => {
                    let borrowed = this.fd;
                    let buf = &mut this.buf[this.filled..];
                    match this
                        .handle
                        .poll_io(cx, raw, Interest::Readable, &mut this.token, || {
                            fd::read(borrowed, buf)
                        }) {
                        Poll::Ready(Ok(n)) => n,
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
            };
            if let Some(done) = this.finish(n) {
                return Poll::Ready(done);
            }
        }
    }
}

impl Drop for ReadFd<'_> {
    fn drop(&mut self) {
        let raw = self.fd.as_raw_fd();
        self.handle
            .cancel_io(raw, Interest::Readable, &mut self.token);
    }
}
