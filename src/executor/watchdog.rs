//! The hog watchdog (`std`; `Builder::hog_watchdog`): a thread that names a task which has
//! run longer than a threshold without yielding, with the time it has run.
//!
//! The loop cannot report a hog itself: the hog holds the only thread that runs the loop.
//! So the loop only stores, around each poll, which task runs and since when (two relaxed
//! atomic stores and a clock read, and only when the watchdog is on); the watchdog thread
//! wakes a few times per threshold, and reports each over-long poll once. It never touches
//! the loop's tables, never wakes or cancels a task, and ends when the loop is dropped.

use crate::sys::clock;
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use core::time::Duration;
use std::sync::Mutex;
use std::thread::JoinHandle;

/// A task that ran longer than the watchdog's threshold without yielding.
///
/// `Display` gives one line: `readyloop hog watchdog: task 3 (cruncher) has run 1.250 s
/// without yielding (threshold 0.200 s); the loop and every other task wait for it`.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = seen.clone();
/// let lp = readyloop::Loop::builder()
///     .hog_watchdog_with(Duration::from_millis(50), move |r| sink.lock().unwrap().push(r.clone()))
///     .build()
///     .unwrap();
/// let h = lp.handle();
/// lp.block_on(h.spawn_named("cruncher", async { std::thread::sleep(Duration::from_millis(300)) })).unwrap();
/// let seen = seen.lock().unwrap();
/// assert_eq!((seen[0].task, seen[0].name.as_deref()), (1, Some("cruncher")));
/// assert!(seen[0].ran_for >= Duration::from_millis(50));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HogReport {
    /// The task's id (0 is the `block_on` future).
    pub task: u64,
    /// Its name, if it was spawned with one.
    pub name: Option<String>,
    /// How long the current poll had run when the watchdog looked.
    pub ran_for: Duration,
    /// The watchdog's threshold.
    pub threshold: Duration,
}

impl fmt::Display for HogReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = |d: Duration| alloc::format!("{}.{:03} s", d.as_secs(), d.subsec_millis());
        f.write_str("readyloop hog watchdog: ")?;
        if self.task == 0 {
            f.write_str("the block_on future")?;
        } else {
            write!(f, "task {}", self.task)?;
            if let Some(name) = &self.name {
                write!(f, " ({name})")?;
            }
        }
        write!(
            f,
            " has run {} without yielding (threshold {}); the loop and every other task wait for it",
            secs(self.ran_for),
            secs(self.threshold)
        )
    }
}

/// Where a hog report goes.
pub(crate) type HogSink = Box<dyn Fn(&HogReport) + Send + Sync>;

/// What the loop and the watchdog thread share.
struct Watched {
    /// The running task's id plus one; 0 while no task runs.
    running: AtomicU64,
    /// When the running poll began (`CLOCK_MONOTONIC` ns, real time even on a virtual clock).
    since: AtomicU64,
    /// Names of the named tasks alive, for the report.
    names: Mutex<BTreeMap<u64, String>>,
    stop: AtomicBool,
    threshold: Duration,
    sink: HogSink,
}

/// The watchdog of one loop: its thread and what it watches.
pub(crate) struct Watchdog {
    watched: Arc<Watched>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watchdog")
            .field("threshold", &self.watched.threshold)
            .finish()
    }
}

impl Watchdog {
    /// Starts the thread.
    pub(crate) fn start(threshold: Duration, sink: HogSink) -> Result<Watchdog, crate::Error> {
        let threshold = threshold.max(Duration::from_millis(1));
        let watched = Arc::new(Watched {
            running: AtomicU64::new(0),
            since: AtomicU64::new(0),
            names: Mutex::new(BTreeMap::new()),
            stop: AtomicBool::new(false),
            threshold,
            sink,
        });
        let thread = {
            let watched = watched.clone();
            std::thread::Builder::new()
                .name("readyloop-hog-watchdog".into())
                .spawn(move || watch(&watched))
                .map_err(|_| {
                    crate::Error::new(
                        crate::ErrorKind::Other,
                        "hog_watchdog: cannot start the watchdog thread",
                    )
                })?
        };
        Ok(Watchdog {
            watched,
            thread: Some(thread),
        })
    }

    /// A poll of `task` begins.
    #[inline]
    pub(crate) fn begin(&self, task: u64) {
        self.watched.since.store(clock::monotonic_nanos(), Relaxed);
        self.watched.running.store(task + 1, Relaxed);
    }

    /// The poll ended.
    #[inline]
    pub(crate) fn end(&self) {
        self.watched.running.store(0, Relaxed);
    }

    /// Remembers a named task's name (spawn) or forgets it (`None`: the task finished).
    pub(crate) fn name(&self, task: u64, name: Option<&str>) {
        let mut names = self.watched.names.lock().unwrap_or_else(|e| e.into_inner());
        match name {
            Some(n) => {
                names.insert(task, n.into());
            }
            None => {
                names.remove(&task);
            }
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.watched.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// The watchdog thread: looks a few times per threshold (at most every 100 ms, at least
/// every millisecond) and reports each over-long poll once.
fn watch(w: &Watched) {
    let tick = (w.threshold / 4).clamp(Duration::from_millis(1), Duration::from_millis(100));
    let mut reported: Option<(u64, u64)> = None;
    while !w.stop.load(Relaxed) {
        std::thread::park_timeout(tick);
        let running = w.running.load(Relaxed);
        let since = w.since.load(Relaxed);
        if running == 0 || reported == Some((running, since)) {
            continue;
        }
        let ran_for = Duration::from_nanos(clock::monotonic_nanos().saturating_sub(since));
        // The poll may have ended and another begun between the loads: check it is the same.
        if ran_for < w.threshold || w.running.load(Relaxed) != running {
            continue;
        }
        reported = Some((running, since));
        let task = running - 1;
        let name = w
            .names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&task)
            .cloned();
        let report = HogReport {
            task,
            name,
            ran_for,
            threshold: w.threshold,
        };
        // A panicking sink must not end the watchdog silently.
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (w.sink)(&report))).is_err() {
            std::eprintln!("{report} (the hog watchdog's sink panicked)");
        }
    }
}
