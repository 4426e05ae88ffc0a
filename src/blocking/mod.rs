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

pub(crate) mod pool;

use crate::error::{Error, ErrorKind};
use crate::executor::Handle;
use crate::task::JoinError;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use pool::{lock, Job};
pub use pool::{IDLE_TIMEOUT, MAX_THREADS};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Mutex;

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

/// The future of [`Handle::spawn_blocking`]: the closure's value, or `JoinError::Panicked` if it
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
        self.core.blocking.get_or_init(pool::Pool::new).submit(job);
        Blocking { slot }
    }

    /// Looks up `host` (a name or an IP address) for `port` without blocking the loop: the
    /// system resolver (`getaddrinfo`, through `std::net::ToSocketAddrs`) runs on a helper
    /// thread. An IP address is parsed on the spot, with no thread. See [`resolve`](crate::resolve).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let addrs = lp.block_on(h.resolve("127.0.0.1", 80)).unwrap();
    /// assert_eq!(addrs, vec!["127.0.0.1:80".parse().unwrap()]);
    /// ```
    pub fn resolve(&self, host: &str, port: u16) -> Resolve {
        Resolve::new(self.clone(), host, port)
    }
}

enum ResolveState {
    /// Answered without a lookup (an IP address, or bad input).
    Ready(Result<Vec<SocketAddr>, Error>),
    /// Waiting for the first poll to start the lookup.
    Start {
        handle: Handle,
        host: String,
        port: u16,
    },
    /// The lookup runs on a helper thread.
    Running(Blocking<std::io::Result<Vec<SocketAddr>>>),
    /// The result was returned.
    Done,
}

/// The future of [`Handle::resolve`].
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
    fn new(handle: Handle, host: &str, port: u16) -> Resolve {
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
