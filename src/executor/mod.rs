//! The loop: `Loop` and its `Builder`. `block_on` is `block_on.rs`, one turn (seed 002's
//! `run()`) is `turn.rs`, the other ways to run turns are `run.rs`.
//!
//! ```text
//! loop {
//!     run callbacks from call_soon
//!     take the tasks woken since last turn (from this thread or others)
//!     run them (a bounded batch, so a task that wakes itself cannot starve I/O)
//!     timeout = 0 if work is ready, else the nearest deadline, else forever
//!     one wait in the backend (poll / select / epoll)
//!     wake the tasks whose fds are ready, then the sleepers whose deadline passed
//! }
//! ```
//!
//! The loop never calls a waker, a trace sink or any other user code while it holds a borrow
//! of its own tables, never blocks when work is ready, and allocates nothing per turn once
//! its buffers have grown.

mod block_on;
mod callbacks;
mod handle;
mod hooks;
mod leaf_io;
mod leaf_rules;
mod leaf_timers;
mod leftover_wakers;
mod loop_clock;
mod quiet;
mod report;
mod run;
mod shuffle;
mod stopper;
mod turn;
mod virtual_time;
#[cfg(feature = "std")]
mod watchdog;

pub use handle::Handle;
pub(crate) use handle::{Core, BUDGET};
pub use loop_clock::ClockHold;
pub use stopper::Stopper;
pub use virtual_time::Advance;
#[cfg(feature = "std")]
pub use watchdog::HogReport;

use crate::error::Error;
use crate::sys::backend::{Backend, BackendKind};
use crate::sys::clock;
use crate::task::TaskRef;
use crate::trace::TraceSink;
use alloc::boxed::Box;
use alloc::vec::Vec;

/// A single-threaded event loop over poll(2) (asyncio's event loop).
///
/// ```
/// use core::time::Duration;
/// use readyloop::Loop;
///
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let out = lp.block_on(async move {
///     h.sleep(Duration::from_millis(10)).await;
///     "woke up"
/// });
/// assert_eq!(out, "woke up");
/// ```
pub struct Loop {
    handle: Handle,
}

/// Chooses a loop's options before it is built.
///
/// ```
/// use readyloop::{BackendKind, Loop};
/// let lp = Loop::builder().backend(BackendKind::Poll).build().unwrap();
/// # drop(lp);
/// ```
pub struct Builder {
    backend: BackendKind,
    /// Makes the backend: only the build-time default unless `backend` was called, so a
    /// program that never picks one links only the default.
    make_backend: fn(BackendKind) -> Result<Backend, Error>,
    timer_slack_ns: Option<u64>,
    timer_spin_ns: u64,
    trace: Option<Box<dyn TraceSink>>,
    /// `Some(Core::traced_turn)` once `trace` or `stepping` was called (see `Core::turn`).
    traced_turn: Option<fn(&Core)>,
    /// `stepping` was called: the tracer keeps task names for `Loop::step`'s records.
    #[cfg_attr(not(feature = "trace"), allow(dead_code))]
    stepping: bool,
    /// `trace_syscalls` was called: the socket leaves trace their syscalls.
    syscalls: bool,
    virtual_clock: bool,
    epoll_at: usize,
    virtual_clock_grace: Option<u64>,
    shuffle: Option<u64>,
    /// The hog watchdog's threshold and sink, if asked for.
    #[cfg(feature = "std")]
    hog_watchdog: Option<(core::time::Duration, watchdog::HogSink)>,
}

impl core::fmt::Debug for Builder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Builder")
            .field("backend", &self.backend)
            .field("timer_slack_ns", &self.timer_slack_ns)
            .field("timer_spin_ns", &self.timer_spin_ns)
            .field("trace", &self.trace.is_some())
            .field("virtual_clock", &self.virtual_clock)
            .field("epoll_at", &self.epoll_at)
            .field("virtual_clock_grace", &self.virtual_clock_grace)
            .field("shuffle", &self.shuffle)
            .field("hog_watchdog", &self.hog_watchdog_threshold())
            .finish()
    }
}

impl Builder {
    #[cfg(feature = "std")]
    fn hog_watchdog_threshold(&self) -> Option<core::time::Duration> {
        self.hog_watchdog.as_ref().map(|(t, _)| *t)
    }

    #[cfg(not(feature = "std"))]
    fn hog_watchdog_threshold(&self) -> Option<core::time::Duration> {
        None
    }

    /// Which system call the loop waits with (default: [`BackendKind::default_kind`]).
    ///
    /// ```
    /// use readyloop::{BackendKind, Loop};
    /// let lp = Loop::builder().backend(BackendKind::Select).build().unwrap();
    /// assert_eq!(lp.handle().backend(), BackendKind::Select);
    /// ```
    pub fn backend(mut self, kind: BackendKind) -> Self {
        self.backend = kind;
        self.make_backend = Backend::new;
        self
    }

    /// For [`BackendKind::Adaptive`] (the default): the registered-set size from which a
    /// mostly idle set (at least 16 registered fds per ready one, over a window of 64
    /// waits) moves from poll(2) to epoll(7) (default 1,024). It moves back under a
    /// quarter of that, or once the set is dense (under 4 registered fds per ready one).
    /// Other backends ignore it.
    ///
    /// ```
    /// use readyloop::{BackendKind, Loop};
    /// let lp = Loop::builder().backend(BackendKind::Adaptive).adaptive_threshold(64).build().unwrap();
    /// assert_eq!(lp.handle().backend(), BackendKind::Adaptive);
    /// ```
    pub fn adaptive_threshold(mut self, fds: usize) -> Self {
        self.epoll_at = fds;
        self
    }

    /// Sets the kernel's timer slack for the thread that builds the loop (default: the
    /// kernel's 50 us). Lower slack makes short sleeps end closer to their deadline.
    ///
    /// ```
    /// let lp = readyloop::Loop::builder()
    ///     .timer_slack(core::time::Duration::from_micros(1))
    ///     .build()
    ///     .unwrap();
    /// # drop(lp);
    /// ```
    pub fn timer_slack(mut self, slack: core::time::Duration) -> Self {
        self.timer_slack_ns = Some(slack.as_nanos().min(u64::MAX as u128) as u64);
        self
    }

    /// Wakes `spin` before each timer deadline and from then on polls without blocking
    /// until the deadline passes (default: zero, off). A sleep then ends within a turn of
    /// its deadline instead of after the kernel's wake-up latency, which stays at tens of
    /// microseconds on a virtual machine even with [`timer_slack`](Builder::timer_slack)
    /// lowered; the price is up to `spin` of busy CPU per timer that fires, while fds keep
    /// being served. A few tens of microseconds is enough; it never makes a sleep early.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::builder()
    ///     .timer_slack(Duration::from_nanos(1))
    ///     .timer_spin(Duration::from_micros(30))
    ///     .build()
    ///     .unwrap();
    /// let h = lp.handle();
    /// let deadline = h.now() + Duration::from_micros(250);
    /// lp.block_on(h.sleep_until(deadline));
    /// assert!(h.now() >= deadline);
    /// ```
    pub fn timer_spin(mut self, spin: core::time::Duration) -> Self {
        self.timer_spin_ns = spin.as_nanos().min(u64::MAX as u128) as u64;
        self
    }

    /// Traces every turn into `sink`: a closure `FnMut(Instant, &TraceEvent)`,
    /// [`trace::Lines`](crate::trace::Lines) or [`trace::JsonLines`](crate::trace::JsonLines)
    /// (see the [`trace`](crate::trace) module). Without this call the loop carries no
    /// tracer and pays one predictable branch per hook.
    ///
    /// ```
    /// use readyloop::{trace::TraceEvent, Loop};
    /// let mut waits = 0;
    /// let lp = Loop::builder()
    ///     .trace(move |_, ev: &TraceEvent<'_>| {
    ///         if let TraceEvent::Wait { .. } = ev {
    ///             waits += 1;
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # drop(lp);
    /// ```
    #[cfg(feature = "trace")]
    pub fn trace(mut self, sink: impl TraceSink + 'static) -> Self {
        self.trace = Some(Box::new(sink));
        self.traced_turn = Some(Core::traced_turn);
        self
    }

    /// Lets [`Loop::step`] record turns: the loop runs the traced turn (the one
    /// [`trace`](Builder::trace) selects) with no sink of its own, so a program that never
    /// steps pays nothing. With a sink from `trace` as well, both see every event.
    ///
    /// ```
    /// let lp = readyloop::Loop::builder().stepping().build().unwrap();
    /// let turn = lp.step().unwrap();
    /// assert_eq!(turn.turn, 1);
    /// ```
    #[cfg(feature = "trace")]
    pub fn stepping(mut self) -> Self {
        if self.trace.is_none() {
            self.trace = Some(Box::new(
                |_: crate::Instant, _: &crate::trace::TraceEvent<'_>| {},
            ));
        }
        self.traced_turn = Some(Core::traced_turn);
        self.stepping = true;
        self
    }

    /// Adds the socket leaves' own syscalls to the trace ([`TraceEvent::Syscall`]): every
    /// `recv`, `send`, `sendmsg`, `recvfrom`, `sendto`, `peek` and `accept` a readiness
    /// leaf makes, with its result (`recv fd 8 -> 64 B`, `recv fd 8 -> EAGAIN`,
    /// `accept fd 5 -> fd 7 from 127.0.0.1:50312`). Needs a sink from
    /// [`trace`](Builder::trace) (call either first); without one it does nothing.
    ///
    /// [`TraceEvent::Syscall`]: crate::trace::TraceEvent::Syscall
    ///
    /// ```
    /// let lp = readyloop::Loop::builder().trace_stderr().trace_syscalls().build().unwrap();
    /// # drop(lp);
    /// ```
    #[cfg(feature = "trace")]
    pub fn trace_syscalls(mut self) -> Self {
        self.syscalls = true;
        self
    }

    /// Traces every turn as readable lines on standard error (`std`).
    ///
    /// ```
    /// let lp = readyloop::Loop::builder().trace_stderr().build().unwrap();
    /// # drop(lp);
    /// ```
    #[cfg(feature = "std")]
    #[cfg(feature = "trace")]
    pub fn trace_stderr(self) -> Self {
        self.trace(crate::trace::Lines::stderr())
    }

    /// Runs the loop on a virtual clock (for tests): time jumps straight to the nearest
    /// deadline whenever every task waits on a timer or on a provably quiet fd, so an hour
    /// of timeouts takes milliseconds, also with real sockets. An fd is quiet when a
    /// zero-timeout poll shows nothing ready and: it is a listener; or a connected socket
    /// whose peer is a socket of this loop, with nothing queued in the kernel on either end
    /// (SIOCINQ and SIOCOUTQ are 0); or an unconnected datagram socket with an empty
    /// receive queue. An fd whose other end is outside the loop (another thread or process,
    /// a pipe, a socketpair, whose unnamed ends cannot be matched) keeps real time, unless
    /// [`virtual_clock_grace`](Builder::virtual_clock_grace) says otherwise; so does a live
    /// [`ClockHold`]. Bytes in flight are never overtaken by a jump. [`Handle::now`] and
    /// every `Sleep` follow this clock; [`Handle::advance`] moves it by hand, and
    /// [`Handle::pause`] turns it on for a loop already built.
    ///
    /// Needs `std`: without it the loop always keeps real time and the virtual clock's code
    /// is left out by the optimizer (the no_std daemon in nostd-echo/ stays under 32 KiB).
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::Loop;
    /// let lp = Loop::builder().virtual_clock().build().unwrap();
    /// let h = lp.handle();
    /// let start = h.now();
    /// let real = std::time::Instant::now();
    /// lp.block_on(h.sleep(Duration::from_secs(3600)));
    /// assert!(h.now() - start >= Duration::from_secs(3600));
    /// assert!(real.elapsed() < Duration::from_secs(5));
    /// ```
    pub fn virtual_clock(mut self) -> Self {
        self.virtual_clock = true;
        self
    }

    /// Turns the virtual clock on (as [`virtual_clock`](Builder::virtual_clock)) and lets it
    /// jump over an fd whose other end is outside the loop once nothing has happened in the
    /// loop (no task polled, no fd ready) for `grace` of real time: for a test against an
    /// external server it knows to be idle. Each jump waits its own `grace`.
    ///
    /// ```
    /// use core::time::Duration;
    /// use std::os::fd::AsFd;
    /// let lp = readyloop::Loop::builder()
    ///     .virtual_clock_grace(Duration::from_millis(20))
    ///     .build()
    ///     .unwrap();
    /// let h = lp.handle();
    /// // A pipe whose writer is (as far as the loop knows) outside: silent for 10 minutes.
    /// let (r, _w) = std::io::pipe().unwrap();
    /// let mut buf = [0u8; 1];
    /// let real = std::time::Instant::now();
    /// let read = readyloop::ReadFd::new(&h, r.as_fd(), &mut buf);
    /// assert!(lp.block_on(h.timeout(Duration::from_secs(600), read)).is_err());
    /// assert!(real.elapsed() < Duration::from_secs(5));
    /// ```
    pub fn virtual_clock_grace(mut self, grace: core::time::Duration) -> Self {
        self.virtual_clock = true;
        self.virtual_clock_grace = Some(grace.as_nanos().min(u64::MAX as u128) as u64);
        self
    }

    /// Runs the tasks woken for a turn in an order drawn from `seed` instead of wake order
    /// (for tests): the same test run under many seeds meets many interleavings, and a
    /// failing seed replays its order exactly (given the same wakes). Still fair: each task
    /// woken for a turn runs exactly once in it. `#[readyloop::test(shuffle = N)]` runs a
    /// test under seeds `0..N` and names the seed that fails.
    ///
    /// Needs `std`: without it tasks always run in wake order (and the shuffle's code is left out).
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// let order = |seed| {
    ///     let lp = readyloop::Loop::builder().shuffle(seed).build().unwrap();
    ///     let h = lp.handle();
    ///     let seen = Rc::new(RefCell::new(Vec::new()));
    ///     let tasks: Vec<_> = (0..8)
    ///         .map(|i| {
    ///             let seen = seen.clone();
    ///             h.spawn(async move { seen.borrow_mut().push(i) })
    ///         })
    ///         .collect();
    ///     lp.block_on(async { for t in tasks { t.await.unwrap() } });
    ///     let v = seen.borrow().clone();
    ///     v
    /// };
    /// assert_eq!(order(7), order(7));
    /// assert!((0..20).any(|s| order(s) != (0..8).collect::<Vec<_>>()));
    /// ```
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle = Some(seed);
        self
    }

    /// Starts a hog watchdog (`std`): a thread that prints to stderr a [`HogReport`]
    /// naming any task whose poll has run longer than `threshold` without yielding (a
    /// blocking call, a long computation), once per such poll. The loop pays a clock read
    /// and two atomic stores per poll while it is on; `#[readyloop::test]` turns it on with
    /// a 1 s threshold.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lp = readyloop::Loop::builder().hog_watchdog(Duration::from_secs(1)).build().unwrap();
    /// lp.block_on(async {}); // a quick poll: no report
    /// ```
    #[cfg(feature = "std")]
    pub fn hog_watchdog(self, threshold: core::time::Duration) -> Self {
        self.hog_watchdog_with(threshold, |report| std::eprintln!("{report}"))
    }

    /// Like [`hog_watchdog`](Self::hog_watchdog), handing each report to `sink` (on the
    /// watchdog's thread) instead of printing it.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// let hogs = Arc::new(AtomicU32::new(0));
    /// let seen = hogs.clone();
    /// let lp = readyloop::Loop::builder()
    ///     .hog_watchdog_with(Duration::from_millis(20), move |_| { seen.fetch_add(1, Ordering::Relaxed); })
    ///     .build()
    ///     .unwrap();
    /// lp.block_on(async { std::thread::sleep(Duration::from_millis(200)) });
    /// assert_eq!(hogs.load(Ordering::Relaxed), 1);
    /// ```
    #[cfg(feature = "std")]
    pub fn hog_watchdog_with(
        mut self,
        threshold: core::time::Duration,
        sink: impl Fn(&HogReport) + Send + Sync + 'static,
    ) -> Self {
        self.hog_watchdog = Some((threshold, Box::new(sink)));
        self
    }

    /// Builds the loop.
    ///
    /// ```
    /// let lp = readyloop::Loop::builder().build().unwrap();
    /// assert_eq!(lp.block_on(async { 1 + 1 }), 2);
    /// ```
    pub fn build(self) -> Result<Loop, Error> {
        if let Some(ns) = self.timer_slack_ns {
            clock::set_timer_slack(Some(ns.max(1)))?;
        }
        let backend = (self.make_backend)(self.backend)?;
        let handle = Handle::new(backend, self.trace, self.traced_turn, self.virtual_clock)?;
        handle.core.timer_spin_ns.set(self.timer_spin_ns);
        if self.backend == BackendKind::Adaptive {
            handle
                .core
                .reactor
                .borrow_mut()
                .make_adaptive(self.epoll_at);
        }
        handle.core.clock.grace.set(self.virtual_clock_grace);
        handle
            .core
            .shuffle
            .set(self.shuffle.map(|seed| seed ^ 0x9e37_79b9_7f4a_7c15));
        #[cfg(feature = "std")]
        if let Some((threshold, sink)) = self.hog_watchdog {
            let _ = handle
                .core
                .watchdog
                .set(watchdog::Watchdog::start(threshold, sink)?);
        }
        #[cfg(feature = "trace")]
        if let (true, Some(tracer)) = (self.stepping, handle.core.trace.as_deref()) {
            tracer.keep_names();
        }
        if let (true, Some(tracer)) = (self.syscalls, handle.core.trace.as_deref()) {
            tracer.syscalls.set(true);
        }
        Ok(Loop { handle })
    }
}

impl Loop {
    /// A loop with the default backend.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// assert_eq!(lp.handle().backend(), readyloop::BackendKind::default_kind());
    /// ```
    pub fn new() -> Result<Loop, Error> {
        Self::builder().build()
    }

    /// A builder for a loop with options.
    ///
    /// ```
    /// use readyloop::{BackendKind, Loop};
    /// let lp = Loop::builder().backend(BackendKind::Poll).build().unwrap();
    /// assert_eq!(lp.handle().backend(), BackendKind::Poll);
    /// ```
    pub fn builder() -> Builder {
        Builder {
            backend: BackendKind::default_kind(),
            make_backend: Backend::default_backend,
            timer_slack_ns: None,
            timer_spin_ns: 0,
            trace: None,
            traced_turn: None,
            stepping: false,
            syscalls: false,
            virtual_clock: false,
            epoll_at: crate::sys::backend::adaptive::DEFAULT_EPOLL_AT,
            virtual_clock_grace: None,
            shuffle: None,
            #[cfg(feature = "std")]
            hog_watchdog: None,
        }
    }

    /// A handle to this loop, for spawning and making leaves from inside tasks.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle(); // cheap to clone; moves into tasks
    /// let task = h.spawn({ let h = h.clone(); async move { h.now() } });
    /// assert!(lp.block_on(task).is_ok());
    /// ```
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }
}

impl core::fmt::Debug for Loop {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Loop")
            .field("handle", &self.handle)
            .finish()
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let core = &self.handle.core;
        core.closed.set(true);
        // Cancel every task; dropping a future may spawn or wake others, so repeat.
        loop {
            let tasks: Vec<TaskRef> = core.tasks.borrow_mut().drain();
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                if !task.is_complete() {
                    task.cancel();
                    task.set_complete();
                }
                let join_waker = task.take_join_waker();
                if !task.join_alive() {
                    task.drop_stage();
                }
                drop(join_waker);
            }
        }
        // Taken out whole (not drained) and dropped after the borrow ends.
        let queued = core::mem::take(&mut *core.run_queue.borrow_mut());
        drop(queued);
        let fresh = core::mem::take(&mut *core.fresh.borrow_mut());
        drop(fresh);
        core.shared.close(|task| {
            // SAFETY: each queued task carries the reference its wake counted.
            drop(unsafe { TaskRef::from_raw(task) });
        });
        let callbacks = core::mem::take(&mut *core.callbacks.borrow_mut());
        drop(callbacks);
    }
}
