//! The reactor: which task waits on which fd, for reading or for writing.
//!
//! This is seed 002's `select` bookkeeping (a map fd -> waiting coroutine, readers and
//! writers apart) with Rust wakers in place of coroutines. A leaf that would block calls
//! [`Reactor::register`] with its fd, its interest and a token it keeps; the reactor keeps the
//! waker and tells the backend the fd's combined interest. When the backend reports the fd
//! ready, every matching waiter is removed and its waker collected for the loop to call.
//! Waiters are one-shot: a woken leaf retries its syscall and registers again if it must.
//!
//! `POLLERR`/`POLLHUP` wake both sides (the next syscall tells the task what happened);
//! `POLLNVAL` (fd closed under a waiter) also drops the fd's registration, so a closed fd can
//! never make the loop spin. The reactor never calls a waker itself (the loop does, after
//! releasing its borrow), and never allocates once its tables have grown, except when the
//! adaptive backend (the default) moves its interest table to a new backend between two
//! waits (`move_backend`; the policy is `sys/backend/adaptive.rs`).
//!
//! This file holds the path a wait takes (`register`, `flush_interest`, `poll`,
//! `dispatch`); the rarer parts are its children: `reactor/adaptive.rs` (moving backends),
//! `reactor/cancel.rs` (withdrawing a wait), `reactor/flush.rs` (deferred interest updates),
//! `reactor/owners.rs` (fds a `Registration` owns), `reactor/inspect.rs` (views for
//! stats, traces and reports).

mod adaptive;
mod cancel;
mod flush;
mod inspect;
mod owners;

use crate::error::Error;
use crate::sys::backend::adaptive::Adapt;
use crate::sys::backend::{Backend, BackendKind, ReadyFd, Wanted};
use crate::sys::{Interest, RawFd};
use crate::task::{same_waker, NewWaker};
use alloc::vec::Vec;
use core::task::Waker;

/// One task's wait on one fd in one direction.
#[derive(Debug)]
pub(crate) struct Waiter {
    /// Identifies the registration to its owner (0 means "not registered").
    pub(crate) token: u64,
    /// What to wake.
    pub(crate) waker: Waker,
    /// When the wait began (loop clock, ns), for stuck-task reports.
    pub(crate) since: u64,
}

/// The waiters of one fd.
#[derive(Debug, Default)]
struct FdWaiters {
    readers: Vec<Waiter>,
    writers: Vec<Waiter>,
    /// The interest the backend currently holds for this fd.
    wanted: Wanted,
    /// How many live `Registration`s own this fd (see `adopt`).
    owned: u32,
    /// How many of them belong to an owner that also holds the fd (see `adopt`).
    sealed: u32,
    /// The backend must be told this fd's interest at the next sync or flush even if it
    /// looks unchanged: a new owner may hold a reused number the kernel never saw.
    retell: bool,
    /// Flushes this kept fd has stayed armed with no waiter (see `reactor/flush.rs`).
    idle_turns: u8,
}

impl FdWaiters {
    fn list(&mut self, interest: Interest) -> &mut Vec<Waiter> {
        match interest {
            Interest::Readable => &mut self.readers,
            Interest::Writable => &mut self.writers,
        }
    }

    fn wanted_now(&self) -> Wanted {
        Wanted {
            read: !self.readers.is_empty(),
            write: !self.writers.is_empty(),
            keep: self.owned > 0,
            sealed: self.owned > 0 && self.sealed == self.owned,
        }
    }
}

/// Moves the wakers of `list` to `wake`, in registration order. The usual list holds one
/// waiter, which takes a plain pop instead of a drain (this runs once per ready fd).
#[inline]
fn take_wakers(list: &mut Vec<Waiter>, wake: &mut Vec<Waker>) {
    if list.len() == 1 {
        if let Some(w) = list.pop() {
            wake.push(w.waker);
        }
    } else {
        wake.extend(list.drain(..).map(|w| w.waker));
    }
}

/// The fd -> waiters table over a backend.
#[derive(Debug)]
pub(crate) struct Reactor {
    pub(crate) backend: Backend,
    /// Indexed by fd number.
    fds: Vec<FdWaiters>,
    /// The last wait's results, reused every turn.
    pub(crate) events: Vec<ReadyFd>,
    /// The loop's notifier fd (reported as "notified", never handed to waiters).
    notifier_fd: RawFd,
    next_token: u64,
    /// Number of live waiters, all fds together.
    waiters: usize,
    /// Fds whose waiters the last dispatch woke: their interest is brought up to date just
    /// before the next wait, not at once, so a task that waits again in between (the usual
    /// read-reply-read loop) costs the backend nothing.
    dirty: Vec<usize>,
    /// Fds whose interest the backend refused in `flush_interest`, reported as invalid.
    refused: Vec<RawFd>,
    /// The backend's `disarms_on_report` and `keeps_armed`, fixed for its life: asked once
    /// here, not through the boxed backend's vtable at every flush (two indirect calls,
    /// ~40 instructions per round trip on epoll in callgrind).
    disarms: bool,
    keeps: bool,
    /// The backend the loop was built with (`Adaptive`, or the one `backend` is).
    configured: BackendKind,
    /// The adaptive backend's policy (None: the backend never moves).
    adapt: Option<Adapt>,
    /// The backend the policy asked for, moved to just before the next wait.
    move_to: Option<BackendKind>,
    /// Moves made so far.
    pub(crate) moves: u64,
    /// The last wait was interrupted by a signal (EINTR), for the trace.
    pub(crate) interrupted: bool,
}

impl Reactor {
    pub(crate) fn new(mut backend: Backend, notifier_fd: RawFd) -> Result<Self, Error> {
        backend.add_notifier(notifier_fd)?;
        Ok(Reactor {
            disarms: backend.disarms_on_report(),
            keeps: backend.keeps_armed(),
            configured: backend.kind(),
            adapt: None,
            move_to: None,
            moves: 0,
            backend,
            fds: Vec::new(),
            events: Vec::new(),
            notifier_fd,
            next_token: 1,
            waiters: 0,
            dirty: Vec::new(),
            refused: Vec::new(),
            interrupted: false,
        })
    }

    /// Registers (or refreshes) the interest identified by `*token` in `fd`: the task's
    /// waker is kept until the backend reports `fd` ready for `interest`.
    /// A waker this replaces (or the new one, if the backend refuses the fd) is moved to
    /// `retired`, for the caller to drop once its borrow of the reactor has ended: a
    /// waker's `Drop` is user code and may re-enter the loop.
    pub(crate) fn register(
        &mut self,
        fd: RawFd,
        interest: Interest,
        token: &mut u64,
        waker: &mut NewWaker<'_>,
        now: u64,
        retired: &mut Option<Waker>,
    ) -> Result<(), Error> {
        let Ok(index) = usize::try_from(fd) else {
            return Err(Error::from_errno(rustix::io::Errno::BADF));
        };
        if fd == self.notifier_fd {
            return Err(Error::new(
                crate::ErrorKind::InvalidInput,
                "that fd is the loop's own notifier",
            ));
        }
        if index >= self.fds.len() {
            self.fds.resize_with(index + 1, FdWaiters::default);
        }
        let entry = &mut self.fds[index];
        let list = entry.list(interest);
        if *token != 0 {
            if let Some(w) = list.iter_mut().find(|w| w.token == *token) {
                if !same_waker(&w.waker, waker.get()) {
                    *retired = Some(core::mem::replace(&mut w.waker, waker.take()));
                }
                return Ok(());
            }
        }
        *token = self.next_token;
        self.next_token += 1;
        if list.capacity() == 0 {
            // Most fds have one waiter per direction: room for one, not Vec's default four
            // (a connection's table entry then costs 48 bytes of heap, not 128).
            list.reserve_exact(1);
        }
        list.push(Waiter {
            token: *token,
            waker: waker.take(),
            since: now,
        });
        self.waiters += 1;
        if let Err(e) = self.sync_interest(index) {
            let list = self.fds[index].list(interest);
            *retired = list.pop().map(|w| w.waker);
            self.waiters -= 1;
            *token = 0;
            return Err(e);
        }
        Ok(())
    }

    /// Tells the backend the fd's interest if it changed (or must be told again).
    #[inline]
    fn sync_interest(&mut self, index: usize) -> Result<(), Error> {
        let entry = &mut self.fds[index];
        let now = entry.wanted_now();
        if !now.is_empty() {
            entry.idle_turns = 0;
        }
        if now != entry.wanted || entry.retell && !now.is_empty() {
            return self.tell_backend(index, now);
        }
        Ok(())
    }

    /// The backend's half of `sync_interest` (rare on the hot path: a task waiting again on an fd
    /// usually finds its interest unchanged).
    #[inline(never)]
    fn tell_backend(&mut self, index: usize, now: Wanted) -> Result<(), Error> {
        self.backend.set(index as RawFd, now)?;
        let entry = &mut self.fds[index];
        entry.wanted = now;
        entry.retell &= now.is_empty();
        Ok(())
    }

    /// Polls the backend (blocking up to `timeout_ns`); results land in `self.events`. Returns how many fds are ready.
    /// The caller has just called [`flush_interest`](Reactor::flush_interest). `notifier`:
    /// whether the wait includes the notifier (always, for a backend that cannot leave it
    /// out: see `Backend::can_leave_out_notifier`).
    pub(crate) fn poll(&mut self, timeout_ns: Option<u64>, notifier: bool) -> Result<usize, Error> {
        self.events.clear();
        self.interrupted = self.backend.poll(timeout_ns, &mut self.events, notifier)?;
        // Without the epoll backend the policy is never made (`make_adaptive`): `cfg!`
        // tells the optimizer so, and the policy and `move_backend` are not linked.
        if cfg!(feature = "epoll") {
            if let Some(adapt) = &mut self.adapt {
                if adapt.note(self.backend.len(), self.events.len()) {
                    self.move_to = adapt.decide(self.backend.kind());
                }
            }
        }
        if !self.refused.is_empty() {
            for fd in self.refused.drain(..) {
                self.events.push(ReadyFd {
                    fd,
                    revents: crate::sys::backend::Readiness::NVAL,
                });
            }
        }
        Ok(self.events.len())
    }

    /// Brings the interest of the fds the last dispatch woke up to date: dropped if no task
    /// waits on them any more (so a level-triggered wait does not keep reporting an fd
    /// nobody waits for; a socket's readers on poll and select are left to `dispatch`),
    /// re-told to the backend if it changed, or even when unchanged to a backend that
    /// disarms an fd once it reports it (epoll's `EPOLLONESHOT`). An fd the backend refuses
    /// now (closed under its waiters) is reported by the next wait as invalid, so its
    /// waiters wake and get the error from their own syscall.
    /// A move the adaptive policy asked for is made here, after the flush, so the trace of
    /// the wait that follows shows the backend it uses.
    #[inline]
    pub(crate) fn flush_interest(&mut self) {
        if !self.dirty.is_empty() {
            self.flush_dirty();
        }
        if cfg!(feature = "epoll") {
            if let Some(kind) = self.move_to.take() {
                self.move_backend(kind);
            }
        }
    }

    /// Hands the wakers of every waiter the last wait satisfied to `wake`; returns whether
    /// the notifier fired. `on_event` sees each event with the number of wakers it released
    /// (traces); it must not run user code (it is called with the reactor borrowed).
    pub(crate) fn dispatch(
        &mut self,
        wake: &mut Vec<Waker>,
        mut on_event: impl FnMut(&ReadyFd, usize),
    ) -> bool {
        let mut notified = false;
        let events = core::mem::take(&mut self.events);
        for event in &events {
            if event.fd == self.notifier_fd {
                notified = true;
                on_event(event, 0);
                continue;
            }
            let index = event.fd as usize;
            let Some(entry) = self.fds.get_mut(index) else {
                continue;
            };
            let r = event.revents.fd_status();
            let both = r.error_or_hangup || r.invalid;
            let before = wake.len();
            if r.readable || both {
                take_wakers(&mut entry.readers, wake);
            }
            if r.writable || both {
                take_wakers(&mut entry.writers, wake);
            }
            let woken = wake.len() - before;
            self.waiters -= woken;
            if r.invalid {
                // The fd is closed: drop it from the kernel's set (both lists are empty now).
                let _ = self.backend.set(event.fd, Wanted::default());
                entry.wanted = Wanted::default();
                entry.retell = true;
            } else if !(self.disarms || self.keeps) && entry.owned > 0 && !(r.writable || both) {
                // A backend that holds the interest it was last told, level-triggered (poll,
                // select), an fd its owner keeps registered, only readers woken: they
                // usually wait again within the turn, so the interest is left as it is and
                // not checked before the next wait. If no reader comes back, the fd's next
                // report finds nobody waiting and the reader interest is dropped then: one
                // early wake-up at most, never a spin.
                if woken == 0 {
                    let _ = self.sync_interest(index);
                }
            } else if entry.idle_turns == 0 {
                // (An fd in its idle grace is in the list already.)
                self.dirty.push(index);
            }
            on_event(event, woken);
        }
        self.events = events;
        notified
    }
}
