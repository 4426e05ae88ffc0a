//! Unix signals as something a task can await: any catchable signal (`SIGINT`, `SIGTERM`,
//! `SIGHUP`, `SIGCHLD`, `SIGWINCH`, `SIGPIPE`, real-time signals...).
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
//! which for most signals means the process dies. A library cannot make that
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
//! - **Another library's handler**: a handler function installed before the first `Signals`
//!   for a signal is chained, not replaced: readyloop's handler writes to its pipes, then
//!   calls the earlier one with the same arguments (its `siginfo_t` and context too, if it
//!   was installed with `SA_SIGINFO`; its own flags and mask are not kept). A disposition
//!   of `SIG_DFL` or `SIG_IGN` is not acted on while readyloop handles the signal (the
//!   default would often kill the process, which is what awaiting a signal replaces), and
//!   is put back at the end. One caveat: replacing `SIGCHLD`'s `SIG_IGN` ends the kernel's
//!   automatic reaping, so children must then be waited for.
//! - **Child processes**: the handler never calls `wait`, so a `Signals` for
//!   [`Signal::Chld`] coexists with any child watcher (a pidfd, `std::process::Child::wait`,
//!   another library's `waitpid`): each child's exit status stays for its owner.
//! - **Refused numbers**: `SIGKILL`, `SIGSTOP`, numbers out of range, glibc's internal
//!   real-time signals and the fault signals are errors from [`Signal::new`]; see there.
//! - **Real-time signals**: the kernel queues each one, but like standard signals a repeat
//!   not yet received is merged into one.
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
use crate::sys::signal::{self as sys_signal, SignalPipe};
use crate::sys::Interest;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// A signal that [`Signals`] can wait for: any signal a handler can catch.
///
/// The common ones are named constants (`Signal::Term`, `Signal::Chld`...; spelled like
/// the variants of the enum this type was, so `match` arms on them keep working); any other
/// catchable number, real-time signals included, comes from [`Signal::new`] or
/// [`Signal::realtime`]. A `Signal` always holds a number readyloop can handle.
///
/// ```
/// use readyloop::signal::Signal;
/// assert_eq!(Signal::Term.name(), "SIGTERM");
/// assert_eq!(Signal::Int.number(), 2);
/// assert_eq!(Signal::from_number(15), Some(Signal::Term));
/// assert_eq!(i32::from(Signal::Hup), 1);
/// assert_eq!(Signal::new(17).unwrap(), Signal::Chld);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signal(i32);

#[allow(non_upper_case_globals)]
impl Signal {
    /// `SIGINT`: interrupt from the terminal (Ctrl-C).
    pub const Int: Signal = Signal(libc::SIGINT);
    /// `SIGTERM`: a polite request to terminate (what `kill` and service managers send).
    pub const Term: Signal = Signal(libc::SIGTERM);
    /// `SIGHUP`: the terminal hung up; daemons use it as "reload your configuration".
    pub const Hup: Signal = Signal(libc::SIGHUP);
    /// `SIGUSR1`: user-defined.
    pub const Usr1: Signal = Signal(libc::SIGUSR1);
    /// `SIGUSR2`: user-defined.
    pub const Usr2: Signal = Signal(libc::SIGUSR2);
    /// `SIGQUIT`: quit from the terminal (Ctrl-\\).
    pub const Quit: Signal = Signal(libc::SIGQUIT);
    /// `SIGCHLD`: a child process stopped, continued or exited (readyloop does not reap it:
    /// its exit status stays for whoever waits for it).
    pub const Chld: Signal = Signal(libc::SIGCHLD);
    /// `SIGWINCH`: the terminal's window size changed.
    pub const Winch: Signal = Signal(libc::SIGWINCH);
    /// `SIGPIPE`: a write to a pipe or socket nobody reads any more (readyloop's own
    /// sends never raise it: they pass `MSG_NOSIGNAL`).
    pub const Pipe: Signal = Signal(libc::SIGPIPE);
    /// `SIGALRM`: a timer set with `alarm` or `setitimer` expired.
    pub const Alrm: Signal = Signal(libc::SIGALRM);
    /// `SIGCONT`: the process was continued after a stop.
    pub const Cont: Signal = Signal(libc::SIGCONT);
    /// `SIGTSTP`: stop from the terminal (Ctrl-Z); catching it means the process does not
    /// stop unless it stops itself.
    pub const Tstp: Signal = Signal(libc::SIGTSTP);

    /// `SIGINT`, `SIGTERM`, `SIGHUP`, `SIGUSR1`, `SIGUSR2`: the signals a daemon usually
    /// wants (this was every signal readyloop handled before any catchable one could be).
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

    /// The signal with number `signo`, if a handler can catch it.
    ///
    /// Errors ([`ErrorKind::InvalidInput`], the message says which): 0, negative or above
    /// `SIGRTMAX` (64); `SIGKILL` (9) and `SIGSTOP` (19), which nobody can catch; 32 and 33,
    /// the real-time signals glibc keeps below `SIGRTMIN` for itself; and the fault signals
    /// `SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`, whose faulting instruction would run again
    /// each time the handler returns.
    ///
    /// ```
    /// use readyloop::{signal::Signal, ErrorKind};
    /// assert_eq!(Signal::new(28).unwrap(), Signal::Winch);
    /// let err = Signal::new(9).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// assert!(err.message().contains("SIGKILL"));
    /// assert!(Signal::new(0).is_err());
    /// assert!(Signal::new(65).is_err());
    /// ```
    pub fn new(signo: i32) -> Result<Signal, Error> {
        match sys_signal::refusal(signo) {
            Some(why) => Err(Error::new(ErrorKind::InvalidInput, why)),
            None => Ok(Signal(signo)),
        }
    }

    /// Real-time signal `SIGRTMIN + offset`. Unlike the standard signals, the kernel
    /// queues every one sent; readyloop still merges repeats a receiver has not taken yet.
    ///
    /// Errors: [`ErrorKind::InvalidInput`] when `SIGRTMIN + offset` is above `SIGRTMAX`
    /// (glibc leaves 31 real-time signals to programs, offsets 0 to 30).
    ///
    /// ```
    /// use readyloop::signal::Signal;
    /// let first = Signal::realtime(0).unwrap();
    /// assert_eq!(first.name(), "SIGRTMIN");
    /// assert_eq!(Signal::realtime(2).unwrap().name(), "SIGRTMIN+2");
    /// assert!(Signal::realtime(200).is_err());
    /// ```
    pub fn realtime(offset: u32) -> Result<Signal, Error> {
        let (min, max) = sys_signal::realtime_range();
        match i32::try_from(offset).ok().and_then(|o| min.checked_add(o)) {
            Some(signo) if signo <= max => Signal::new(signo),
            _ => Err(Error::new(
                ErrorKind::InvalidInput,
                "SIGRTMIN + offset is above SIGRTMAX",
            )),
        }
    }

    /// The C name, such as `"SIGINT"`, or `"SIGRTMIN+3"` for a real-time signal.
    ///
    /// ```
    /// assert_eq!(readyloop::signal::Signal::Usr1.name(), "SIGUSR1");
    /// assert_eq!(readyloop::signal::Signal::Chld.name(), "SIGCHLD");
    /// ```
    pub fn name(self) -> &'static str {
        let (rtmin, _) = sys_signal::realtime_range();
        if self.0 >= rtmin {
            return REALTIME_NAMES
                .get((self.0 - rtmin) as usize)
                .copied()
                .unwrap_or("SIGRT");
        }
        NAMES
            .iter()
            .find(|(n, _)| *n == self.0)
            .map_or("SIG?", |(_, name)| name)
    }

    /// The signal's number on this platform (what `kill -N` takes).
    ///
    /// ```
    /// assert_eq!(readyloop::signal::Signal::Term.number(), 15);
    /// ```
    pub fn number(self) -> i32 {
        self.0
    }

    /// The signal with this number, if readyloop can handle it ([`Signal::new`] says why
    /// not).
    ///
    /// ```
    /// use readyloop::signal::Signal;
    /// assert_eq!(Signal::from_number(2), Some(Signal::Int));
    /// assert_eq!(Signal::from_number(9), None); // SIGKILL cannot be caught
    /// ```
    pub fn from_number(signo: i32) -> Option<Signal> {
        Signal::new(signo).ok()
    }
}

/// The standard signals' names (Linux numbering, as libc gives it).
const NAMES: [(i32, &str); 29] = [
    (libc::SIGHUP, "SIGHUP"),
    (libc::SIGINT, "SIGINT"),
    (libc::SIGQUIT, "SIGQUIT"),
    (libc::SIGILL, "SIGILL"),
    (libc::SIGTRAP, "SIGTRAP"),
    (libc::SIGABRT, "SIGABRT"),
    (libc::SIGBUS, "SIGBUS"),
    (libc::SIGFPE, "SIGFPE"),
    (libc::SIGKILL, "SIGKILL"),
    (libc::SIGUSR1, "SIGUSR1"),
    (libc::SIGSEGV, "SIGSEGV"),
    (libc::SIGUSR2, "SIGUSR2"),
    (libc::SIGPIPE, "SIGPIPE"),
    (libc::SIGALRM, "SIGALRM"),
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGSTKFLT, "SIGSTKFLT"),
    (libc::SIGCHLD, "SIGCHLD"),
    (libc::SIGCONT, "SIGCONT"),
    (libc::SIGSTOP, "SIGSTOP"),
    (libc::SIGTSTP, "SIGTSTP"),
    (libc::SIGTTIN, "SIGTTIN"),
    (libc::SIGTTOU, "SIGTTOU"),
    (libc::SIGURG, "SIGURG"),
    (libc::SIGXCPU, "SIGXCPU"),
    (libc::SIGXFSZ, "SIGXFSZ"),
    (libc::SIGVTALRM, "SIGVTALRM"),
    (libc::SIGPROF, "SIGPROF"),
    (libc::SIGWINCH, "SIGWINCH"),
    (libc::SIGIO, "SIGIO"),
];

/// The real-time signals' names, from `SIGRTMIN` up (as `kill -l` counts them from below).
const REALTIME_NAMES: [&str; 31] = [
    "SIGRTMIN",
    "SIGRTMIN+1",
    "SIGRTMIN+2",
    "SIGRTMIN+3",
    "SIGRTMIN+4",
    "SIGRTMIN+5",
    "SIGRTMIN+6",
    "SIGRTMIN+7",
    "SIGRTMIN+8",
    "SIGRTMIN+9",
    "SIGRTMIN+10",
    "SIGRTMIN+11",
    "SIGRTMIN+12",
    "SIGRTMIN+13",
    "SIGRTMIN+14",
    "SIGRTMIN+15",
    "SIGRTMIN+16",
    "SIGRTMIN+17",
    "SIGRTMIN+18",
    "SIGRTMIN+19",
    "SIGRTMIN+20",
    "SIGRTMIN+21",
    "SIGRTMIN+22",
    "SIGRTMIN+23",
    "SIGRTMIN+24",
    "SIGRTMIN+25",
    "SIGRTMIN+26",
    "SIGRTMIN+27",
    "SIGRTMIN+28",
    "SIGRTMIN+29",
    "SIGRTMIN+30",
];

impl From<Signal> for i32 {
    fn from(signal: Signal) -> i32 {
        signal.number()
    }
}

impl TryFrom<i32> for Signal {
    type Error = Error;

    /// [`Signal::new`].
    fn try_from(signo: i32) -> Result<Signal, Error> {
        Signal::new(signo)
    }
}

/// The C name, as `Display` (`SIGTERM`): what the enum's variant names showed before.
impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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
    /// Errors: an empty list is [`ErrorKind::InvalidInput`] (every [`Signal`] is one
    /// readyloop can catch, so a signal itself is never refused here);
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
