//! `Async<T>`: any pollable file descriptor on the loop (a pipe, a tty, an eventfd, a socket
//! made by another library).
//!
//! It owns an I/O object, switches its fd to non-blocking, and registers it with one loop
//! through a [`Registration`]. A terminal is never switched: its open file description is
//! shared with the shell and with stdout, so the loop reads and writes a private description
//! of the same terminal instead (see [`Async::new`]). Reading and writing are written once, as `poll_read` and
//! `poll_write` (try `read(2)`/`write(2)`; register a wait only on `EAGAIN`); the futures of
//! [`Async::read`] and [`Async::write`] and the `futures-io` trait impls all run that code.
//! This module must never block the loop, never set `O_NONBLOCK` on a terminal's shared
//! description, and never close the fd while the loop still has it registered (the
//! registration is dropped first).

use crate::error::Error;
use crate::executor::Handle;
use crate::registration::Registration;
use crate::sys::{fd as sys, Interest};
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::io::Errno;

/// An I/O object whose fd is non-blocking and registered with a loop (the shape of smol's
/// `Async<T>`).
///
/// Ports the idea behind seed 002's `AsyncRead` to an owned object: any fd `poll(2)` can
/// watch becomes awaitable. Reads use `read(2)` and writes `write(2)`, so this suits pipes,
/// ttys, character devices, eventfds and sockets alike (for sockets, the types in
/// [`net`](crate::net) add `MSG_NOSIGNAL`, addresses and shutdown; a `write` to a pipe or
/// socket whose reader is gone raises `SIGPIPE`, which Rust programs with `std` ignore).
/// Regular files are always "ready" to `poll(2)`, so they gain nothing here.
///
/// `poll_read` and `poll_write` use one wait per direction (one reading task and one writing
/// task at a time: the `futures-io` contract); the futures of [`read`](Async::read) and
/// [`write`](Async::write) each keep their own wait, so any number of tasks may await them.
///
/// ```
/// use readyloop::{Async, Loop};
/// use std::os::unix::net::UnixStream;
/// let lp = Loop::new().unwrap();
/// let (a, b) = UnixStream::pair().unwrap();
/// let (a, b) = (Async::new(&lp.handle(), a).unwrap(), Async::new(&lp.handle(), b).unwrap());
/// lp.block_on(async {
///     assert_eq!(a.write(b"ping").await.unwrap(), 4);
///     let mut buf = [0u8; 8];
///     let n = b.read(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
/// });
/// ```
pub struct Async<T: AsFd> {
    /// Dropped first (fields drop in declaration order): the loop forgets the fd before the
    /// I/O object can close it.
    registration: Registration,
    /// For a terminal: the private, non-blocking description the loop reads and writes
    /// (`io`'s own description keeps its mode). `None` for everything else.
    private: Option<OwnedFd>,
    /// The owned I/O object.
    io: T,
}

impl<T: AsFd> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async")
            .field("fd", &self.registration.fd())
            .finish()
    }
}

impl<T: AsFd> Async<T> {
    /// Switches `io`'s fd to non-blocking mode and registers it with the loop behind
    /// `handle`. The mode belongs to the open file description, so dups of the fd (and other
    /// processes sharing it) see it too.
    ///
    /// A terminal is the exception: its description is shared with the shell that started
    /// the program and, usually, with stdout and stderr, so `O_NONBLOCK` there would make a
    /// busy `println!` panic with "Resource temporarily unavailable" and leave the shell's
    /// next `cat` failing with `EAGAIN` after the program ends (even if it is killed). For a
    /// terminal, `Async` opens a second, private description of the same terminal
    /// (`/proc/self/fd/N`, non-blocking, close-on-exec, never a controlling terminal) and
    /// does its I/O there; `io`'s description is never changed. Input is the same either
    /// way: one queue and one termios per terminal. If that open fails (no `/proc`, or the
    /// device node refuses this user), `new` returns the error rather than touching the
    /// shared description. A pseudo-terminal's master is the program's own (reopening
    /// `/dev/ptmx` would make a new terminal), so it is switched like a pipe.
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// let lp = Loop::new().unwrap();
    /// let (r, _w) = std::io::pipe().unwrap();
    /// let r = Async::new(&lp.handle(), r).unwrap();
    /// # drop(r);
    /// // Safe on a terminal too: stdin stays blocking for the shell and for std's stdout.
    /// # use std::io::IsTerminal;
    /// if std::io::stdin().is_terminal() {
    ///     let stdin = Async::new(&lp.handle(), std::io::stdin()).unwrap();
    ///     # drop(stdin);
    /// }
    /// ```
    pub fn new(handle: &Handle, io: T) -> Result<Async<T>, Error> {
        let fd = io.as_fd().as_raw_fd();
        if sys::is_shared_terminal(io.as_fd()) {
            let private = sys::reopen_private_nonblocking(io.as_fd()).map_err(|e| {
                Error::from_errno(e).with_message(
                    "Async::new: the fd is a terminal, so readyloop opens a private \
                     non-blocking description of it through /proc/self/fd (the shell's stays \
                     blocking), and that open failed; read the terminal on a thread \
                     (spawn_blocking) instead",
                )
            })?;
            return Ok(Async {
                registration: Registration::sealed(handle, private.as_raw_fd()),
                private: Some(private),
                io,
            });
        }
        sys::set_nonblocking(io.as_fd())?;
        // SAFETY: `fd` is `io`'s, which the `Async` owns and drops only after the
        // registration (field order), so the number names `io`'s file for as long as the
        // registration exists.
        let registration = unsafe { Registration::new(handle, fd) };
        Ok(Async {
            registration,
            private: None,
            io,
        })
    }

    /// The I/O object.
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// use std::os::unix::net::UnixStream;
    /// let lp = Loop::new().unwrap();
    /// let (a, _b) = UnixStream::pair().unwrap();
    /// let a = Async::new(&lp.handle(), a).unwrap();
    /// assert!(a.get_ref().peer_addr().is_ok());
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.io
    }

    /// Deregisters the fd and hands the I/O object back (its fd stays non-blocking, except
    /// a terminal's, which was never changed).
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// let lp = Loop::new().unwrap();
    /// let (r, _w) = std::io::pipe().unwrap();
    /// let r: std::io::PipeReader = Async::new(&lp.handle(), r).unwrap().into_inner();
    /// # drop(r);
    /// ```
    pub fn into_inner(self) -> T {
        let Async {
            registration,
            private,
            io,
        } = self;
        drop(registration);
        drop(private);
        io
    }

    /// The loop the fd is registered with.
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// let lp = Loop::new().unwrap();
    /// let (r, _w) = std::io::pipe().unwrap();
    /// let r = Async::new(&lp.handle(), r).unwrap();
    /// assert_eq!(r.handle().backend(), lp.handle().backend());
    /// ```
    pub fn handle(&self) -> &Handle {
        self.registration.handle()
    }

    /// Names the fd in the loop's trace: the trace's `FdNamed` line for it then reads
    /// `fd 7 is pipe "stdin"` (what the kernel says it is, then `label`). Does nothing on a
    /// loop that is not traced; the label goes with the fd's registration.
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// let lp = Loop::new().unwrap();
    /// let (r, _w) = std::io::pipe().unwrap();
    /// let r = Async::new(&lp.handle(), r).unwrap().label("config pipe");
    /// # drop(r);
    /// ```
    pub fn label(self, label: &'static str) -> Self {
        self.handle().core.label_fd(self.registration.fd(), label);
        self
    }

    /// Reads into `buf` with `read(2)`: the byte count, 0 at end of file. On `EAGAIN` waits
    /// with the fd's own read wait (one task at a time; `futures-io`'s `poll_read`).
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// use std::io::Write;
    /// let lp = Loop::new().unwrap();
    /// let (r, mut w) = std::io::pipe().unwrap();
    /// let r = Async::new(&lp.handle(), r).unwrap();
    /// w.write_all(b"data").unwrap();
    /// let mut buf = [0u8; 8];
    /// let n = lp.block_on(core::future::poll_fn(|cx| r.poll_read(cx, &mut buf))).unwrap();
    /// assert_eq!(&buf[..n], b"data");
    /// ```
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize, Error>> {
        self.poll_op(cx, Slot::Shared, Buf::Read(buf))
    }

    /// Writes some of `buf` with `write(2)`: the byte count. On `EAGAIN` waits with the
    /// fd's own write wait (`futures-io`'s `poll_write`).
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// let lp = Loop::new().unwrap();
    /// let (_r, w) = std::io::pipe().unwrap();
    /// let w = Async::new(&lp.handle(), w).unwrap();
    /// let n = lp.block_on(core::future::poll_fn(|cx| w.poll_write(cx, b"abc"))).unwrap();
    /// assert_eq!(n, 3);
    /// ```
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize, Error>> {
        self.poll_op(cx, Slot::Shared, Buf::Write(buf))
    }

    /// Shuts the writing half if the fd is a socket (the peer then reads end of file);
    /// anything else has no half to shut, and this does nothing. `futures-io`'s
    /// `poll_close` calls it.
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// use std::io::Read;
    /// use std::os::unix::net::UnixStream;
    /// let lp = Loop::new().unwrap();
    /// let (a, mut b) = UnixStream::pair().unwrap();
    /// let a = Async::new(&lp.handle(), a).unwrap();
    /// a.shutdown_write().unwrap();
    /// assert_eq!(b.read(&mut [0u8; 4]).unwrap(), 0); // end of file
    /// ```
    pub fn shutdown_write(&self) -> Result<(), Error> {
        sys::shutdown_write_if_socket(self.io.as_fd()).map_err(Error::from_errno)
    }

    /// Reads into `buf`: resolves to the byte count, 0 at end of file. The future keeps its
    /// own wait, so several tasks may read at once. Cancel-safe: bytes leave the kernel only
    /// in the poll that returns them.
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// use std::io::Write;
    /// let lp = Loop::new().unwrap();
    /// let (r, mut w) = std::io::pipe().unwrap();
    /// let r = Async::new(&lp.handle(), r).unwrap();
    /// let reader = lp.handle().spawn(async move {
    ///     let mut buf = [0u8; 16];
    ///     let n = r.read(&mut buf).await.unwrap();
    ///     buf[..n].to_vec()
    /// });
    /// w.write_all(b"later").unwrap();
    /// assert_eq!(lp.block_on(reader).unwrap(), b"later");
    /// ```
    pub fn read<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> impl Future<Output = Result<usize, Error>> + 'a {
        Op {
            fd: self,
            buf: Buf::Read(buf),
            token: 0,
        }
    }

    /// Writes some of `buf`: resolves to the byte count (at least 1 unless `buf` is empty).
    /// The future keeps its own wait. Cancel-safe: bytes enter the kernel only in the poll
    /// that reports them.
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// let lp = Loop::new().unwrap();
    /// let (_r, w) = std::io::pipe().unwrap();
    /// let w = Async::new(&lp.handle(), w).unwrap();
    /// assert_eq!(lp.block_on(w.write(b"hello")).unwrap(), 5);
    /// ```
    pub fn write<'a>(&'a self, buf: &'a [u8]) -> impl Future<Output = Result<usize, Error>> + 'a {
        Op {
            fd: self,
            buf: Buf::Write(buf),
            token: 0,
        }
    }

    /// Writes all of `buf` (`write` until everything is in the kernel): the sockets'
    /// [`send_all`](crate::net::TcpStream::send_all), named for `std::io::Write`. Cancelling
    /// it midway leaves a prefix of unknown length written: drop it only when giving up on
    /// the fd.
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// use std::io::Read;
    /// let lp = Loop::new().unwrap();
    /// let (mut r, w) = std::io::pipe().unwrap();
    /// let w = Async::new(&lp.handle(), w).unwrap();
    /// lp.block_on(w.write_all(b"every byte")).unwrap();
    /// drop(w);
    /// let mut got = String::new();
    /// r.read_to_string(&mut got).unwrap();
    /// assert_eq!(got, "every byte");
    /// ```
    pub async fn write_all(&self, buf: &[u8]) -> Result<(), Error> {
        let mut sent = 0;
        while sent < buf.len() {
            match self.write(&buf[sent..]).await? {
                0 => {
                    return Err(Error::new(
                        crate::ErrorKind::Other,
                        "write_all: the fd accepted no bytes",
                    ))
                }
                n => sent += n,
            }
        }
        Ok(())
    }

    /// Fills `buf` completely (`read` until it is full): the sockets'
    /// [`recv_exact`](crate::net::TcpStream::recv_exact), named for `std::io::Read`. End of
    /// file first is `ErrorKind::UnexpectedEof`. Cancelling it midway loses the count of
    /// bytes already read.
    ///
    /// ```
    /// use readyloop::{Async, ErrorKind, Loop};
    /// use std::io::Write;
    /// let lp = Loop::new().unwrap();
    /// let (r, mut w) = std::io::pipe().unwrap();
    /// let r = Async::new(&lp.handle(), r).unwrap();
    /// w.write_all(b"12345").unwrap();
    /// let mut four = [0u8; 4];
    /// lp.block_on(r.read_exact(&mut four)).unwrap();
    /// assert_eq!(&four, b"1234");
    /// drop(w); // one byte left, then end of file
    /// let err = lp.block_on(r.read_exact(&mut four)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    /// ```
    pub async fn read_exact(&self, buf: &mut [u8]) -> Result<(), Error> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.read(&mut buf[filled..]).await? {
                0 => {
                    return Err(Error::new(
                        crate::ErrorKind::UnexpectedEof,
                        "read_exact: end of file before the buffer was full",
                    ))
                }
                n => filled += n,
            }
        }
        Ok(())
    }

    /// Reads until end of file, appending to `out`: resolves to the number of bytes
    /// appended (the sockets' [`read_to_end`](crate::net::TcpStream::read_to_end)).
    /// Cancel-safe: what was read before a drop stays in `out`.
    ///
    /// ```
    /// use readyloop::{Async, Loop};
    /// use std::io::Write;
    /// let lp = Loop::new().unwrap();
    /// let (r, mut w) = std::io::pipe().unwrap();
    /// let r = Async::new(&lp.handle(), r).unwrap();
    /// w.write_all(b"all of it").unwrap();
    /// drop(w);
    /// let mut out = Vec::new();
    /// assert_eq!(lp.block_on(r.read_to_end(&mut out)).unwrap(), 9);
    /// assert_eq!(out, b"all of it");
    /// ```
    pub async fn read_to_end(&self, out: &mut alloc::vec::Vec<u8>) -> Result<usize, Error> {
        let start = out.len();
        let mut chunk = [0u8; 4096];
        loop {
            match self.read(&mut chunk).await? {
                0 => return Ok(out.len() - start),
                n => out.extend_from_slice(&chunk[..n]),
            }
        }
    }

    fn poll_op(
        &self,
        cx: &mut Context<'_>,
        slot: Slot<'_>,
        buf: Buf<'_>,
    ) -> Poll<Result<usize, Error>> {
        let fd = self.loop_fd();
        match buf {
            Buf::Read(b) => self.io(cx, Interest::Readable, slot, || sys::read(fd, b)),
            Buf::Write(b) => self.io(cx, Interest::Writable, slot, || sys::write(fd, b)),
        }
    }

    /// The description the loop reads and writes: a terminal's private one, else `io`'s.
    fn loop_fd(&self) -> BorrowedFd<'_> {
        match &self.private {
            Some(private) => private.as_fd(),
            None => self.io.as_fd(),
        }
    }

    fn io<R>(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        slot: Slot<'_>,
        op: impl FnMut() -> Result<R, Errno>,
    ) -> Poll<Result<R, Error>> {
        match slot {
            Slot::Shared => self.registration.poll_io(cx, interest, op),
            Slot::Own(token) => self.registration.poll_io_with(cx, interest, token, op),
        }
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

/// Whose wait an operation registers when it would block.
enum Slot<'a> {
    /// The registration's own wait for the direction.
    Shared,
    /// A wait kept by a future.
    Own(&'a mut u64),
}

/// The buffer of one operation, which also says its direction.
enum Buf<'a> {
    Read(&'a mut [u8]),
    Write(&'a [u8]),
}

impl Buf<'_> {
    fn interest(&self) -> Interest {
        match self {
            Buf::Read(_) => Interest::Readable,
            Buf::Write(_) => Interest::Writable,
        }
    }

    fn reborrow(&mut self) -> Buf<'_> {
        match self {
            Buf::Read(b) => Buf::Read(b),
            Buf::Write(b) => Buf::Write(b),
        }
    }
}

/// The future of [`Async::read`] and [`Async::write`]: one `poll_op` with its own wait.
struct Op<'a, T: AsFd> {
    fd: &'a Async<T>,
    buf: Buf<'a>,
    token: u64,
}

impl<T: AsFd> Future for Op<'_, T> {
    type Output = Result<usize, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.fd
            .poll_op(cx, Slot::Own(&mut this.token), this.buf.reborrow())
    }
}

impl<T: AsFd> Drop for Op<'_, T> {
    fn drop(&mut self) {
        let interest = self.buf.interest();
        self.fd.registration.cancel(interest, &mut self.token);
    }
}
