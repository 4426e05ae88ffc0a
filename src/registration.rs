//! `Registration`: the poll-based layer every fd-owning type builds on.
//!
//! It pairs an fd with a loop and keeps one wait per direction, so an owner can write
//! `poll_read`-style methods (the shape `futures-io` and `embedded-io-async` expect) and the
//! future-returning methods on top of the same code. It never owns or closes the fd: the
//! owner must drop the `Registration` before closing it (if it does not, the waiters get
//! `ErrorKind::Closed`, at the next wait on poll and select, at the epoll backend's next
//! registration check on epoll; nothing hangs or spins). In exchange the reactor knows the
//! fd's lifetime, so the epoll backend keeps it armed between waits (no `epoll_ctl` per
//! wait; see `sys/backend/epoll.rs`).

use crate::error::Error;
use crate::executor::Handle;
use crate::sys::{Interest, RawFd};
use core::cell::Cell;
use core::task::{Context, Poll};
use rustix::io::Errno;

/// An fd registered with a loop, with one readiness wait per direction.
///
/// ```
/// use readyloop::{Interest, Loop, Registration};
/// use std::os::fd::AsRawFd;
/// use std::os::unix::net::UnixStream;
/// let lp = Loop::new().unwrap();
/// let (a, b) = UnixStream::pair().unwrap();
/// a.set_nonblocking(true).unwrap();
/// // SAFETY: the fd is open and outlives the registration (dropped first).
/// let reg = unsafe { Registration::new(&lp.handle(), a.as_raw_fd()) };
/// std::io::Write::write_all(&mut &b, b"x").unwrap();
/// let mut buf = [0u8; 1];
/// let n = lp.block_on(core::future::poll_fn(|cx| {
///     reg.poll_io(cx, Interest::Readable, || rustix::io::read(&a, &mut buf))
/// }));
/// assert_eq!(n.unwrap(), 1);
/// ```
#[derive(Debug)]
pub struct Registration {
    handle: Handle,
    fd: RawFd,
    read_token: Cell<u64>,
    write_token: Cell<u64>,
    /// Per direction: the last operation came back short, so the fd was drained then; the
    /// next operation waits for the kernel to report readiness instead of trying first.
    read_drained: Cell<bool>,
    write_drained: Cell<bool>,
    /// The owner holds the fd too and closes it only after this drops (see `sealed`).
    sealed: bool,
}

impl Registration {
    /// Registers `fd` (which should be non-blocking) with the loop behind `handle`.
    ///
    /// [`Async`](crate::Async) does this for an I/O object it owns, and needs no `unsafe`.
    ///
    /// # Safety
    /// `fd` must be open, and must stay open (not closed, not replaced with `dup2`) until
    /// this `Registration` is dropped: the loop hands the number to the kernel (poll,
    /// `epoll_ctl`) for that long, and a number closed early may by then name another
    /// file, one this code does not own. The same contract as `polling::Poller::add`.
    ///
    /// ```
    /// use readyloop::{Loop, Registration};
    /// use std::os::fd::AsRawFd;
    /// let lp = Loop::new().unwrap();
    /// let (r, _w) = std::io::pipe().unwrap();
    /// // SAFETY: `r` is open and outlives `reg` (dropped first, below).
    /// let reg = unsafe { Registration::new(&lp.handle(), r.as_raw_fd()) };
    /// assert_eq!(reg.fd(), r.as_raw_fd());
    /// drop(reg);
    /// drop(r);
    /// ```
    pub unsafe fn new(handle: &Handle, fd: RawFd) -> Self {
        Self::adopting(handle, fd, false)
    }

    /// Registers `fd` for an owner inside readyloop that holds the fd itself (as an
    /// `OwnedFd` dropped after this registration) and never lets it be closed otherwise:
    /// the backend may then skip its checks for an fd closed under a waiter.
    pub(crate) fn sealed(handle: &Handle, fd: RawFd) -> Self {
        Self::adopting(handle, fd, true)
    }

    fn adopting(handle: &Handle, fd: RawFd, sealed: bool) -> Self {
        if let Ok(mut reactor) = handle.core.reactor.try_borrow_mut() {
            reactor.adopt(fd, sealed);
        }
        Registration {
            handle: handle.clone(),
            fd,
            read_token: Cell::new(0),
            write_token: Cell::new(0),
            read_drained: Cell::new(false),
            write_drained: Cell::new(false),
            sealed,
        }
    }

    /// The loop this fd is registered with.
    ///
    /// ```
    /// use readyloop::{Loop, Registration};
    /// let lp = Loop::new().unwrap();
    /// let (r, _w) = std::io::pipe().unwrap();
    /// // SAFETY: the fd is open and outlives the registration (dropped first).
    /// let reg = unsafe { Registration::new(&lp.handle(), std::os::fd::AsRawFd::as_raw_fd(&r)) };
    /// assert_eq!(reg.handle().backend(), lp.handle().backend());
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The registered fd.
    ///
    /// ```
    /// use readyloop::{Loop, Registration};
    /// use std::os::fd::AsRawFd;
    /// let lp = Loop::new().unwrap();
    /// let (r, _w) = std::io::pipe().unwrap();
    /// // SAFETY: the fd is open and outlives the registration (dropped first).
    /// assert_eq!(unsafe { Registration::new(&lp.handle(), r.as_raw_fd()) }.fd(), r.as_raw_fd());
    /// ```
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    fn token(&self, interest: Interest) -> &Cell<u64> {
        match interest {
            Interest::Readable => &self.read_token,
            Interest::Writable => &self.write_token,
        }
    }

    fn drained_flag(&self, interest: Interest) -> &Cell<bool> {
        match interest {
            Interest::Readable => &self.read_drained,
            Interest::Writable => &self.write_drained,
        }
    }

    /// Records that the last `interest` operation came back short (a stream read returned
    /// less than asked, a write took less than offered): the fd was drained at that moment,
    /// so the next [`poll_io`](Registration::poll_io) waits for the kernel to report it
    /// ready before trying, instead of making a syscall that would only say `EAGAIN`. Only
    /// a hint: poll(2) is level-triggered, so data that arrived in between is reported by
    /// the very next wait.
    ///
    /// ```
    /// use readyloop::{Interest, Loop, Registration};
    /// use std::os::fd::AsRawFd;
    /// use std::os::unix::net::UnixStream;
    /// let lp = Loop::new().unwrap();
    /// let (a, b) = UnixStream::pair().unwrap();
    /// a.set_nonblocking(true).unwrap();
    /// // SAFETY: the fd is open and outlives the registration (dropped first).
    /// let reg = unsafe { Registration::new(&lp.handle(), a.as_raw_fd()) };
    /// reg.set_drained(Interest::Readable);
    /// std::io::Write::write_all(&mut &b, b"x").unwrap();
    /// let mut buf = [0u8; 1];
    /// let n = lp.block_on(core::future::poll_fn(|cx| {
    ///     reg.poll_io(cx, Interest::Readable, || rustix::io::read(&a, &mut buf))
    /// }));
    /// assert_eq!(n.unwrap(), 1);
    /// ```
    pub fn set_drained(&self, interest: Interest) {
        self.drained_flag(interest).set(true);
    }

    /// Whether the direction is marked drained (see `set_drained`).
    pub(crate) fn is_drained(&self, interest: Interest) -> bool {
        self.drained_flag(interest).get()
    }

    /// If the direction is marked drained, waits for readiness: `Some(Pending)` while it
    /// waits, `None` once the kernel reported it (the mark is then cleared).
    fn wait_if_drained<T>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        token: &mut u64,
    ) -> Option<Poll<Result<T, Error>>> {
        let flag = self.drained_flag(interest);
        if !flag.get() {
            return None;
        }
        match self.handle.poll_ready(cx, self.fd, interest, token) {
            Poll::Pending => Some(Poll::Pending),
            Poll::Ready(Ok(())) => {
                flag.set(false);
                None
            }
            Poll::Ready(Err(e)) => {
                flag.set(false);
                Some(Poll::Ready(Err(e)))
            }
        }
    }

    /// Tries `op`; if it returns `EAGAIN`, waits for `interest` with the task's waker and
    /// returns `Pending`. The registration's own wait slot for that direction is used, so
    /// one task per direction at a time (the `poll_read`/`poll_write` contract).
    ///
    /// ```
    /// use readyloop::{Interest, Loop, Registration};
    /// use std::io::Write;
    /// use std::os::fd::AsRawFd;
    /// let lp = Loop::new().unwrap();
    /// let (r, mut w) = std::io::pipe().unwrap();
    /// rustix::fs::fcntl_setfl(&r, rustix::fs::OFlags::NONBLOCK).unwrap();
    /// // SAFETY: the fd is open and outlives the registration (dropped first).
    /// let reg = unsafe { Registration::new(&lp.handle(), r.as_raw_fd()) };
    /// let writer = lp.handle().spawn(async move { w.write_all(b"late").unwrap() });
    /// let mut buf = [0u8; 8];
    /// // EAGAIN at first: the task waits until the writer task has run.
    /// let n = lp
    ///     .block_on(core::future::poll_fn(|cx| {
    ///         reg.poll_io(cx, Interest::Readable, || rustix::io::read(&r, &mut buf))
    ///     }))
    ///     .unwrap();
    /// assert_eq!(&buf[..n], b"late");
    /// lp.block_on(writer).unwrap();
    /// ```
    pub fn poll_io<T>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        op: impl FnMut() -> Result<T, Errno>,
    ) -> Poll<Result<T, Error>> {
        let cell = self.token(interest);
        let mut token = cell.get();
        let r = match self.wait_if_drained(cx, interest, &mut token) {
            Some(r) => r,
            None => self.handle.poll_io(cx, self.fd, interest, &mut token, op),
        };
        cell.set(token);
        r
    }

    /// Like [`poll_io`](Registration::poll_io) with a wait slot the caller keeps (a future
    /// per operation), so several tasks may wait on the same fd and direction at once.
    ///
    /// ```
    /// use readyloop::{Interest, Loop, Registration};
    /// use std::os::fd::AsRawFd;
    /// use std::rc::Rc;
    /// let lp = Loop::new().unwrap();
    /// let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// a.set_nonblocking(true).unwrap();
    /// let a = Rc::new(a);
    /// // SAFETY: the fd is open and outlives the registration (dropped first).
    /// let reg = Rc::new(unsafe { Registration::new(&lp.handle(), a.as_raw_fd()) });
    /// // Two readers wait at once, each with its own token.
    /// let readers: Vec<_> = (0..2)
    ///     .map(|_| {
    ///         let (a, reg) = (a.clone(), reg.clone());
    ///         lp.handle().spawn(async move {
    ///             let mut token = 0;
    ///             let mut buf = [0u8; 1];
    ///             core::future::poll_fn(|cx| {
    ///                 reg.poll_io_with(cx, Interest::Readable, &mut token, || {
    ///                     rustix::io::read(&*a, &mut buf)
    ///                 })
    ///             })
    ///             .await
    ///         })
    ///     })
    ///     .collect();
    /// lp.block_on(readyloop::yield_now());
    /// assert_eq!(lp.handle().fd_waiters(), 2);
    /// std::io::Write::write_all(&mut &b, b"xy").unwrap();
    /// for r in readers {
    ///     assert_eq!(lp.block_on(r).unwrap().unwrap(), 1);
    /// }
    /// ```
    pub fn poll_io_with<T>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        token: &mut u64,
        op: impl FnMut() -> Result<T, Errno>,
    ) -> Poll<Result<T, Error>> {
        if let Some(r) = self.wait_if_drained(cx, interest, token) {
            return r;
        }
        self.handle.poll_io(cx, self.fd, interest, token, op)
    }

    /// Ready once the kernel has reported the fd ready for `interest` since this wait was
    /// registered (the first call registers and returns `Pending`).
    ///
    /// ```
    /// use readyloop::{Interest, Loop, Registration};
    /// use std::os::fd::AsRawFd;
    /// let lp = Loop::new().unwrap();
    /// let (r, w) = std::io::pipe().unwrap();
    /// // SAFETY: the fd is open and outlives the registration (dropped first).
    /// let reg = unsafe { Registration::new(&lp.handle(), r.as_raw_fd()) };
    /// lp.handle().spawn(async move { std::io::Write::write_all(&mut &w, b"!").unwrap() });
    /// lp.block_on(core::future::poll_fn(|cx| reg.poll_ready(cx, Interest::Readable))).unwrap();
    /// ```
    pub fn poll_ready(&self, cx: &mut Context<'_>, interest: Interest) -> Poll<Result<(), Error>> {
        let cell = self.token(interest);
        let mut token = cell.get();
        let r = self.handle.poll_ready(cx, self.fd, interest, &mut token);
        cell.set(token);
        r
    }

    /// Like [`poll_ready`](Registration::poll_ready) with a wait slot the caller keeps; once
    /// ready, the direction is no longer marked drained (see `set_drained`), so the
    /// operation that follows tries its syscall at once.
    pub(crate) fn poll_ready_with(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        token: &mut u64,
    ) -> Poll<Result<(), Error>> {
        let r = self.handle.poll_ready(cx, self.fd, interest, token);
        if r.is_ready() {
            self.drained_flag(interest).set(false);
        }
        r
    }

    /// Withdraws a wait kept by the caller (see [`poll_io_with`](Registration::poll_io_with)).
    ///
    /// ```
    /// use core::task::{Context, Poll, Waker};
    /// use readyloop::{Interest, Loop, Registration};
    /// use std::os::fd::AsRawFd;
    /// let lp = Loop::new().unwrap();
    /// let (r, _w) = std::io::pipe().unwrap();
    /// rustix::fs::fcntl_setfl(&r, rustix::fs::OFlags::NONBLOCK).unwrap();
    /// // SAFETY: the fd is open and outlives the registration (dropped first).
    /// let reg = unsafe { Registration::new(&lp.handle(), r.as_raw_fd()) };
    /// let mut token = 0;
    /// let mut buf = [0u8; 1];
    /// lp.block_on(core::future::poll_fn(|cx| {
    ///     let first = reg.poll_io_with(cx, Interest::Readable, &mut token, || {
    ///         rustix::io::read(&r, &mut buf)
    ///     });
    ///     assert!(first.is_pending()); // nothing to read: a wait is registered
    ///     Poll::Ready(())
    /// }));
    /// assert_eq!(lp.handle().fd_waiters(), 1);
    /// reg.cancel(Interest::Readable, &mut token); // what a future's Drop does
    /// assert_eq!(lp.handle().fd_waiters(), 0);
    /// ```
    pub fn cancel(&self, interest: Interest, token: &mut u64) {
        self.handle.cancel_io(self.fd, interest, token);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let fd = self.fd;
        for interest in [Interest::Readable, Interest::Writable] {
            let mut token = self.token(interest).get();
            self.handle.cancel_io(fd, interest, &mut token);
        }
        if let Ok(mut reactor) = self.handle.core.reactor.try_borrow_mut() {
            reactor.release(fd, self.sealed);
        }
        self.handle.core.forget_fd_name(fd);
    }
}
