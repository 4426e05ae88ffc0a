//! Unix signals as something a task can await: `SIGINT`, `SIGTERM`, `SIGHUP`, `SIGUSR1`,
//! `SIGUSR2`.
//!
//! This module turns a signal into readiness of an fd the loop already knows how to wait on.
//! It must never run a `Waker`, touch the loop, allocate or lock inside a signal handler: the
//! handler (in `sys::signal`) only does atomic operations and one `write(2)`.
//!
//! # How it works: a self-pipe
//!
//! [`Signals::new`] makes a non-blocking pipe, enters its write end in a fixed table of 64
//! slots, and installs (once per signal, for the whole process) a `sigaction` handler. When
//! a signal arrives, on whatever thread the kernel picks, the handler writes the signal's
//! number as one byte into the pipe of every `Signals` that asked for it. The loop's `poll`
//! then sees the read end readable and wakes the task in [`Signals::recv`], which reads the
//! byte back. The table is the only process-global state in readyloop, and it exists because
//! a handler gets no argument to find its receivers with.
//!
//! # Why not `signalfd`
//!
//! `signalfd` only receives signals that are blocked, and blocking has to be done in every
//! thread of the process: a thread started before (a blocking pool, the test harness, another
//! loop's thread) that has the signal unblocked gets it delivered the default way instead,
//! which for all five signals here means the process dies. A library cannot make that
//! promise for its user's threads; a `sigaction` handler is process-wide and works whatever
//! threads exist. (rustix also has no public `signalfd` or `sigprocmask`.)
//!
//! # What a receiver sees
//!
//! - **Several receivers**: every `Signals` that asked for a signal gets it, on any loop and
//!   any thread (fan-out); at most 64 `Signals` exist at once in a process, the next
//!   [`Signals::new`] is an error of kind [`ErrorKind::Other`].
//! - **Coalescing**: a signal that arrives again before the receiver has taken the previous
//!   one is merged with it (the kernel itself merges repeats of a standard signal that is
//!   still pending). Different signals are reported in the order the handler ran for them.
//!   A signal that arrives while nobody awaits is kept and returned by the next `recv`:
//!   nothing is lost between two receives. A signal sent to the whole process (`kill PID`)
//!   is handled by whichever thread the kernel picks, possibly a moment after `kill`
//!   returned; one sent to a thread (`raise`, `pthread_kill`) is handled before that returns.
//! - **Before and after**: until the first `Signals` for a signal exists the process keeps
//!   its previous disposition (for `SIGINT` and `SIGTERM`, the default kills the process).
//!   When the last `Signals` for a signal is dropped, the disposition found when the handler
//!   was installed is put back, so dropping a `Signals` for `SIGINT` makes Ctrl-C kill the
//!   process again. A handler someone else installed in between is overwritten by that.
//! - **Interrupted system calls**: the handler is installed with `SA_RESTART`, so blocking
//!   calls in other threads are restarted rather than failing with `EINTR` where the kernel
//!   allows it.
//!
//! # Without `std`
//!
//! This module needs the `signal` feature (on by default), which adds the `libc` crate for
//! `sigaction` alone (rustix has no public `sigaction`, and the raw system call needs a
//! signal-return trampoline only the C library provides). It works without `std`:
//! `default-features = false, features = ["signal"]`.

use crate::error::{Error, ErrorKind};
use crate::executor::Handle;
use crate::registration::Registration;
use crate::sys::signal::SignalPipe;
use crate::sys::Interest;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// A signal that [`Signals`] can wait for.
///
/// ```
/// use readyloop::signal::Signal;
/// assert_eq!(Signal::Term.name(), "SIGTERM");
/// assert_eq!(Signal::Int.number(), 2);
/// assert_eq!(Signal::from_number(15), Some(Signal::Term));
/// assert_eq!(i32::from(Signal::Hup), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// `SIGINT`: interrupt from the terminal (Ctrl-C).
    Int,
    /// `SIGTERM`: a polite request to terminate (what `kill` and service managers send).
    Term,
    /// `SIGHUP`: the terminal hung up; daemons use it as "reload your configuration".
    Hup,
    /// `SIGUSR1`: user-defined.
    Usr1,
    /// `SIGUSR2`: user-defined.
    Usr2,
}

impl Signal {
    /// Every signal readyloop handles.
    ///
    /// ```
    /// use readyloop::signal::Signal;
    /// let names: Vec<_> = Signal::ALL.iter().map(|s| s.name()).collect();
    /// assert_eq!(names, ["SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2"]);
    /// ```
    pub const ALL: [Signal; 5] = [
        Signal::Int,
        Signal::Term,
        Signal::Hup,
        Signal::Usr1,
        Signal::Usr2,
    ];

    /// The C name, such as `"SIGINT"`.
    ///
    /// ```
    /// assert_eq!(readyloop::signal::Signal::Usr1.name(), "SIGUSR1");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Hup => "SIGHUP",
            Signal::Usr1 => "SIGUSR1",
            Signal::Usr2 => "SIGUSR2",
        }
    }

    /// The signal's number on this platform (what `kill -N` takes).
    ///
    /// ```
    /// assert_eq!(readyloop::signal::Signal::Term.number(), 15);
    /// ```
    pub fn number(self) -> i32 {
        crate::sys::signal::HANDLED[self as usize]
    }

    /// The signal with this number, if readyloop handles it.
    ///
    /// ```
    /// use readyloop::signal::Signal;
    /// assert_eq!(Signal::from_number(2), Some(Signal::Int));
    /// assert_eq!(Signal::from_number(9), None); // SIGKILL cannot be caught
    /// ```
    pub fn from_number(signo: i32) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.number() == signo)
    }
}

impl From<Signal> for i32 {
    fn from(signal: Signal) -> i32 {
        signal.number()
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A receiver of some signals, registered with one loop.
///
/// Each signal that arrives after [`Signals::new`] returned is handed out by
/// [`recv`](Signals::recv) (repeats not yet received are merged; see the
/// [module docs](crate::signal)). Dropping the last `Signals` for a signal restores the
/// disposition the process had before.
///
/// ```
/// use readyloop::signal::{Signal, Signals};
/// use readyloop::Loop;
/// let lp = Loop::new().unwrap();
/// let mut signals = Signals::new(&lp.handle(), &[Signal::Usr2]).unwrap();
/// // As `kill -USR2 <pid>` would from outside.
/// // SAFETY: raise has no memory-safety preconditions.
/// unsafe { libc::raise(libc::SIGUSR2) };
/// let got = lp.block_on(signals.recv()).unwrap();
/// assert_eq!(got, Signal::Usr2);
/// ```
#[derive(Debug)]
pub struct Signals {
    /// The pipe's read end registered with the loop; dropped before the pipe closes it.
    registration: Registration,
    /// The pipe the handler writes into, and its entry in the handler's table.
    pipe: SignalPipe,
    /// The wait slot of the one pending receive.
    token: u64,
}

impl Signals {
    /// Starts catching `signals` for the loop behind `handle`.
    ///
    /// Errors: an empty list is [`ErrorKind::InvalidInput`];
    /// more than 64 `Signals` alive in the process is [`ErrorKind::Other`];
    /// running out of fds for the pipe is
    /// [`ErrorKind::TooManyOpenFiles`].
    ///
    /// ```
    /// use readyloop::signal::{Signal, Signals};
    /// use readyloop::{ErrorKind, Loop};
    /// let lp = Loop::new().unwrap();
    /// let err = Signals::new(&lp.handle(), &[]).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// let _shutdown = Signals::new(&lp.handle(), &[Signal::Int, Signal::Term]).unwrap();
    /// ```
    pub fn new(handle: &Handle, signals: &[Signal]) -> Result<Signals, Error> {
        let pipe = SignalPipe::new(signals.iter().map(|s| s.number()))?;
        Ok(Signals {
            registration: Registration::sealed(handle, pipe.read_fd()),
            pipe,
            token: 0,
        })
    }

    /// Waits for the next signal.
    ///
    /// Cancellation: dropping the future before it completes loses nothing; a signal that
    /// arrived stays queued for the next `recv`.
    ///
    /// ```
    /// use readyloop::signal::{Signal, Signals};
    /// use readyloop::Loop;
    /// let lp = Loop::new().unwrap();
    /// let mut signals = Signals::new(&lp.handle(), &[Signal::Usr1]).unwrap();
    /// // SAFETY: raise has no memory-safety preconditions.
    /// unsafe { libc::raise(libc::SIGUSR1) };
    /// assert_eq!(lp.block_on(signals.recv()).unwrap(), Signal::Usr1);
    /// ```
    pub fn recv(&mut self) -> RecvSignal<'_> {
        RecvSignal { signals: self }
    }

    /// Polls for the next signal: the poll-based form of [`recv`](Signals::recv), for one
    /// task at a time.
    ///
    /// ```
    /// use readyloop::signal::{Signal, Signals};
    /// use readyloop::Loop;
    /// let lp = Loop::new().unwrap();
    /// let mut signals = Signals::new(&lp.handle(), &[Signal::Hup]).unwrap();
    /// // SAFETY: raise has no memory-safety preconditions.
    /// unsafe { libc::raise(libc::SIGHUP) };
    /// let got = lp.block_on(core::future::poll_fn(|cx| signals.poll_recv(cx)));
    /// assert_eq!(got.unwrap(), Signal::Hup);
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Signal, Error>> {
        let pipe = &self.pipe;
        self.registration
            .poll_io_with(cx, Interest::Readable, &mut self.token, || pipe.take())
            .map(|r| {
                r.and_then(|signo| {
                    Signal::from_number(signo).ok_or(Error::new(
                        ErrorKind::Other,
                        "signal pipe carried a signal readyloop does not handle",
                    ))
                })
            })
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.registration
            .cancel(Interest::Readable, &mut self.token);
    }
}

/// The future returned by [`Signals::recv`]: the next signal, or an error from the loop.
///
/// It hands the loop the pipe's read end with `Interest::Readable` (like the articles'
/// `AsyncRead` on a socket) and, when woken, reads one signal number back.
///
/// ```
/// use readyloop::signal::{Signal, Signals};
/// use readyloop::Loop;
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let mut signals = Signals::new(&h, &[Signal::Term]).unwrap();
/// let got = lp.block_on(async {
///     // Another task sends it while this one waits.
///     let sender = h.spawn(async {
///         // SAFETY: raise has no memory-safety preconditions.
///         unsafe { libc::raise(libc::SIGTERM) };
///     });
///     let recv: readyloop::signal::RecvSignal<'_> = signals.recv();
///     let got = recv.await;
///     sender.await.unwrap();
///     got
/// });
/// assert_eq!(got.unwrap(), Signal::Term);
/// ```
#[derive(Debug)]
#[must_use = "a RecvSignal does nothing unless awaited"]
pub struct RecvSignal<'a> {
    signals: &'a mut Signals,
}

impl Future for RecvSignal<'_> {
    type Output = Result<Signal, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.signals.poll_recv(cx)
    }
}

impl Drop for RecvSignal<'_> {
    fn drop(&mut self) {
        let signals = &mut *self.signals;
        signals
            .registration
            .cancel(Interest::Readable, &mut signals.token);
    }
}
