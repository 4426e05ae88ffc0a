//! Blocking work off the loop's thread: `spawn_blocking` and `resolve` (`std` only).
//!
//! Some work cannot be made non-blocking: `getaddrinfo` (seed 003's
//! `loop.getaddrinfo`), a CPU-heavy computation, a library that only blocks. Such a closure
//! runs on a helper thread, and when it is done the helper wakes the awaiting task through
//! its ordinary `Waker` (wakers are `Send + Sync` and interrupt the loop's `poll`), exactly
//! as any wake from another thread does.
//!
//! Each loop has its own small pool, made at the first `spawn_blocking`: at most
//! [`MAX_THREADS`] threads, started only when every existing one is busy; further jobs
//! queue in FIFO order; a thread idle for [`IDLE_TIMEOUT`] exits. The threads are named
//! `readyloop-pool`. Two loops on two threads
//! never share a pool or a queue. When the loop is dropped, jobs that had not started are
//! dropped (their futures would get `JoinError::Cancelled`) and the threads exit after
//! their current job. This module must never block the loop's thread: the only lock the
//! loop takes is held for a push or a pop.

use crate::error::{Error, ErrorKind};
use crate::executor::Handle;
use crate::task::JoinError;
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The most helper threads one loop's pool runs at once.
///
/// ```
/// // Eight jobs of 20 ms on at most MAX_THREADS (4) threads: at least two rounds.
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let start = std::time::Instant::now();
/// let jobs: Vec<_> = (0..8)
///     .map(|_| h.spawn_blocking(|| std::thread::sleep(Duration::from_millis(20))))
///     .collect();
/// for job in jobs {
///     lp.block_on(job).unwrap();
/// }
/// assert_eq!(readyloop::blocking::MAX_THREADS, 4);
/// assert!(start.elapsed() >= Duration::from_millis(40));
/// ```
pub const MAX_THREADS: usize = 4;

/// How long a helper thread waits for a job before it exits.
///
/// ```
/// assert!(readyloop::blocking::IDLE_TIMEOUT >= core::time::Duration::from_secs(1));
/// ```
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5);

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Locks, ignoring poisoning: jobs run outside every lock and catch their own panics, so a
/// poisoned lock can only mean a panic between two plain field updates.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One loop's helper threads and their job queue.
#[derive(Debug)]
pub(crate) struct Pool {
    shared: Arc<PoolShared>,
}

#[derive(Debug)]
struct PoolShared {
    state: Mutex<PoolState>,
    /// Signalled when a job is queued for an idle thread, or at shutdown.
    work: Condvar,
}

struct PoolState {
    /// Jobs not yet started, oldest first.
    queue: VecDeque<Job>,
    /// Threads alive.
    threads: usize,
    /// Threads waiting for a job.
    idle: usize,
    /// Signals sent to idle threads and not yet consumed (so two jobs queued back to back
    /// never count the same idle thread twice).
    signals: usize,
    /// The loop is gone: run nothing more.
    shutdown: bool,
}

impl fmt::Debug for PoolState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolState")
            .field("queued", &self.queue.len())
            .field("threads", &self.threads)
            .field("idle", &self.idle)
            .finish()
    }
}

impl Pool {
    pub(crate) fn new() -> Pool {
        Pool {
            shared: Arc::new(PoolShared {
                state: Mutex::new(PoolState {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    signals: 0,
                    shutdown: false,
                }),
                work: Condvar::new(),
            }),
        }
    }

    /// Queues `job`, waking an idle thread or starting a new one if none is idle.
    fn submit(&self, job: Job) {
        let mut st = lock(&self.shared.state);
        st.queue.push_back(job);
        if st.idle > st.signals {
            st.signals += 1;
            self.shared.work.notify_one();
            return;
        }
        if st.threads >= MAX_THREADS {
            return; // a busy thread takes it when it finishes
        }
        st.threads += 1;
        drop(st);
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name("readyloop-pool".into())
            .spawn(move || worker(shared));
        if spawned.is_err() {
            let orphans = {
                let mut st = lock(&self.shared.state);
                st.threads -= 1;
                if st.threads == 0 {
                    core::mem::take(&mut st.queue)
                } else {
                    VecDeque::new()
                }
            };
            // Nobody will run these: dropping them tells their futures (Cancelled).
            drop(orphans);
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let orphans = {
            let mut st = lock(&self.shared.state);
            st.shutdown = true;
            core::mem::take(&mut st.queue)
        };
        self.shared.work.notify_all();
        drop(orphans);
    }
}

/// A helper thread: runs queued jobs until the pool shuts down or it idles too long.
fn worker(shared: Arc<PoolShared>) {
    let mut st = lock(&shared.state);
    loop {
        if let Some(job) = st.queue.pop_front() {
            drop(st);
            job();
            st = lock(&shared.state);
            continue;
        }
        if st.shutdown {
            break;
        }
        st.idle += 1;
        let (guard, wait) = shared
            .work
            .wait_timeout(st, IDLE_TIMEOUT)
            .unwrap_or_else(PoisonError::into_inner);
        st = guard;
        st.idle -= 1;
        if st.signals > 0 {
            st.signals -= 1;
            continue;
        }
        if wait.timed_out() && st.queue.is_empty() {
            break;
        }
    }
    st.threads -= 1;
}

/// Where a job leaves its result for the future.
struct Slot<T> {
    state: Mutex<SlotState<T>>,
}

struct SlotState<T> {
    result: Option<Result<T, JoinError>>,
    waker: Option<Waker>,
    /// The job was dropped without running (loop gone, or no thread could start).
    abandoned: bool,
}

/// Owned by the job: delivers the result, or reports abandonment if dropped unused.
struct Completion<T> {
    slot: Option<Arc<Slot<T>>>,
}

impl<T> Completion<T> {
    fn finish(mut self, result: Option<Result<T, JoinError>>) {
        let slot = self.slot.take().expect("finished once");
        let waker = {
            let mut s = lock(&slot.state);
            match result {
                Some(r) => s.result = Some(r),
                None => s.abandoned = true,
            }
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Completion<T> {
    fn drop(&mut self) {
        if self.slot.is_some() {
            Completion {
                slot: self.slot.take(),
            }
            .finish(None);
        }
    }
}

/// The future of [`spawn_blocking`]: the closure's value, or `JoinError::Panicked` if it
/// panicked, or `JoinError::Cancelled` if it never ran (the loop was dropped first, or no
/// helper thread could be started).
///
/// Dropping it does not stop the closure (a thread cannot be interrupted): the closure runs
/// to the end and its value is dropped on the helper thread.
///
/// ```
/// use readyloop::{blocking::Blocking, Loop};
/// let lp = Loop::new().unwrap();
/// let work: Blocking<u64> = lp.handle().spawn_blocking(|| (1..=10u64).product());
/// assert_eq!(lp.block_on(work).unwrap(), 3_628_800);
/// ```
#[must_use = "the closure runs anyway; await this to get its value"]
pub struct Blocking<T> {
    slot: Arc<Slot<T>>,
}

impl<T> fmt::Debug for Blocking<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocking").finish_non_exhaustive()
    }
}

impl<T> Future for Blocking<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut s = lock(&self.slot.state);
        if let Some(result) = s.result.take() {
            return Poll::Ready(result);
        }
        if s.abandoned {
            return Poll::Ready(Err(JoinError::Cancelled));
        }
        match &s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => s.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Handle {
    /// Runs `work` on one of this loop's helper threads and returns a future of its value
    /// (`loop.run_in_executor(None, ...)`). The loop keeps serving its tasks meanwhile; the
    /// helper wakes the awaiting task when `work` returns. See the [module docs](self) for
    /// the pool's limits.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let sum = lp.block_on(h.spawn_blocking(|| (1..=100u64).sum::<u64>()));
    /// assert_eq!(sum.unwrap(), 5050);
    /// ```
    pub fn spawn_blocking<F, T>(&self, work: F) -> Blocking<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot = Arc::new(Slot {
            state: Mutex::new(SlotState {
                result: None,
                waker: None,
                abandoned: false,
            }),
        });
        let completion = Completion {
            slot: Some(slot.clone()),
        };
        // A virtual clock must not skip ahead while this job may still wake the loop.
        let hold = self.hold_virtual_clock();
        let job: Job = Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                .map_err(JoinError::panicked);
            completion.finish(Some(result));
            drop(hold);
        });
        self.core.blocking.get_or_init(Pool::new).submit(job);
        Blocking { slot }
    }

    /// Looks up `host` (a name or an IP address) for `port` without blocking the loop: the
    /// system resolver (`getaddrinfo`, through `std::net::ToSocketAddrs`) runs on a helper
    /// thread. An IP address is parsed on the spot, with no thread. See [`resolve`].
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let addrs = lp.block_on(h.resolve("127.0.0.1", 80)).unwrap();
    /// assert_eq!(addrs, vec!["127.0.0.1:80".parse().unwrap()]);
    /// ```
    pub fn resolve(&self, host: &str, port: u16) -> Resolve {
        Resolve::new(Some(self.clone()), host, port)
    }
}

/// Runs `work` on a helper thread of the loop running this thread; see
/// [`Handle::spawn_blocking`].
///
/// # Panics
/// Outside a running loop (see [`Handle::current`]).
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let out = lp.block_on(async {
///     readyloop::spawn_blocking(|| std::thread::current().name().map(String::from)).await
/// });
/// assert_eq!(out.unwrap().as_deref(), Some("readyloop-pool"));
/// ```
pub fn spawn_blocking<F, T>(work: F) -> Blocking<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Handle::current().spawn_blocking(work)
}

/// Looks up `host` for `port` on the loop that polls the future (seed 003's
/// `loop.getaddrinfo`): every address the system resolver gives, in its order.
///
/// `host` may be a name (`"localhost"`), an IPv4 or IPv6 address, or an IPv6 address in
/// brackets (`"[::1]"`). An empty or malformed host, or a name the resolver does not know,
/// gives an [`Error`], never a panic. The loop is found at the first poll, so this may be
/// made before `block_on`. The lookup itself cannot be cancelled (it finishes on its helper
/// thread); wrap it in [`timeout`](crate::timeout) to stop waiting for it.
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let addrs = lp.block_on(readyloop::resolve("localhost", 8080)).unwrap();
/// assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
/// let bad = lp.block_on(readyloop::resolve("", 80));
/// assert_eq!(bad.unwrap_err().kind(), readyloop::ErrorKind::InvalidInput);
/// ```
pub fn resolve(host: &str, port: u16) -> Resolve {
    Resolve::new(None, host, port)
}

enum ResolveState {
    /// Answered without a lookup (an IP address, or bad input).
    Ready(Result<Vec<SocketAddr>, Error>),
    /// Waiting for the first poll to start the lookup.
    Start {
        handle: Option<Handle>,
        host: String,
        port: u16,
    },
    /// The lookup runs on a helper thread.
    Running(Blocking<std::io::Result<Vec<SocketAddr>>>),
    /// The result was returned.
    Done,
}

/// The future of [`resolve`] and [`Handle::resolve`].
///
/// ```
/// use readyloop::{blocking::Resolve, Loop};
/// let lp = Loop::new().unwrap();
/// let lookup: Resolve = lp.handle().resolve("::1", 443);
/// assert_eq!(lp.block_on(lookup).unwrap(), vec!["[::1]:443".parse().unwrap()]);
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Resolve {
    state: ResolveState,
}

impl fmt::Debug for Resolve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            ResolveState::Ready(_) => "ready",
            ResolveState::Start { .. } => "not started",
            ResolveState::Running(_) => "running",
            ResolveState::Done => "done",
        };
        f.debug_struct("Resolve").field("state", &state).finish()
    }
}

const EMPTY_HOST: Error = Error::new(ErrorKind::InvalidInput, "empty host name");
const BAD_HOST: Error = Error::new(
    ErrorKind::InvalidInput,
    "host name contains a NUL byte or is too long to look up",
);
const NOT_FOUND: Error = Error::new(
    ErrorKind::Other,
    "could not resolve the host name (getaddrinfo failed: unknown name, or no DNS)",
);
const NO_ADDRESSES: Error = Error::new(ErrorKind::Other, "the host name has no addresses");
const LOOKUP_LOST: Error = Error::new(
    ErrorKind::Cancelled,
    "the host name lookup did not finish (its loop was dropped, or no helper thread could start)",
);

impl Resolve {
    fn new(handle: Option<Handle>, host: &str, port: u16) -> Resolve {
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let state = if host.is_empty() {
            ResolveState::Ready(Err(EMPTY_HOST))
        } else if host.contains('\0') || host.len() > 1024 {
            ResolveState::Ready(Err(BAD_HOST))
        } else if let Ok(ip) = literal.parse::<IpAddr>() {
            ResolveState::Ready(Ok(alloc::vec![SocketAddr::new(ip, port)]))
        } else {
            ResolveState::Start {
                handle,
                host: host.into(),
                port,
            }
        };
        Resolve { state }
    }
}

fn lookup_error(e: &std::io::Error) -> Error {
    match e.raw_os_error() {
        Some(code) => Error::from_errno(crate::Errno::from_raw_os_error(code)),
        None if e.kind() == std::io::ErrorKind::InvalidInput => BAD_HOST,
        None => NOT_FOUND,
    }
}

impl Future for Resolve {
    type Output = Result<Vec<SocketAddr>, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                ResolveState::Ready(_) => {
                    let ResolveState::Ready(r) =
                        core::mem::replace(&mut this.state, ResolveState::Done)
                    else {
                        unreachable!()
                    };
                    return Poll::Ready(r);
                }
                ResolveState::Start { handle, host, port } => {
                    let handle = handle.take().unwrap_or_else(Handle::current);
                    let (host, port) = (core::mem::take(host), *port);
                    let job = handle.spawn_blocking(move || {
                        (host.as_str(), port)
                            .to_socket_addrs()
                            .map(|addrs| addrs.collect::<Vec<_>>())
                    });
                    this.state = ResolveState::Running(job);
                }
                ResolveState::Running(job) => {
                    let Poll::Ready(out) = Pin::new(job).poll(cx) else {
                        return Poll::Pending;
                    };
                    this.state = ResolveState::Done;
                    return Poll::Ready(match out {
                        Ok(Ok(addrs)) if addrs.is_empty() => Err(NO_ADDRESSES),
                        Ok(Ok(addrs)) => Ok(addrs),
                        Ok(Err(e)) => Err(lookup_error(&e)),
                        Err(_) => Err(LOOKUP_LOST),
                    });
                }
                ResolveState::Done => panic!("readyloop: Resolve polled after it completed"),
            }
        }
    }
}
