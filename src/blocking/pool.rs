//! The helper threads of one loop: a small pool that runs closures off the loop's thread.
//!
//! It knows nothing of tasks, futures or the loop: it takes boxed jobs and runs each on one
//! of at most [`MAX_THREADS`] threads, started only when every existing one is busy; further
//! jobs queue in FIFO order; a thread idle for [`IDLE_TIMEOUT`] exits. The loop owns one
//! (made at the first `spawn_blocking`) and drops it with itself: queued jobs are dropped
//! then and the threads exit after their current job. This file must never block the loop's
//! thread: the only lock the loop takes is held for a push.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;
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

/// A closure for a helper thread.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// Locks, ignoring poisoning: jobs run outside every lock and catch their own panics, so a
/// poisoned lock can only mean a panic between two plain field updates.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
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
    pub(crate) fn submit(&self, job: Job) {
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
