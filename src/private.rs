//! What the `#[readyloop::test]` and `#[readyloop::main]` attributes expand to.
//!
//! Not a public API: the macros call these functions so that the behaviour (a fresh loop, the
//! deadline, the report of a stuck test) lives here and can change without touching the
//! macros. Nothing here may be called by users, and nothing here may keep state between
//! calls: each test gets a loop of its own.

use crate::executor::{Handle, Loop};
use core::future::Future;
use core::time::Duration;

/// How long a `#[readyloop::test]` task may run without yielding before the hog watchdog
/// names it on stderr.
pub const TEST_HOG_THRESHOLD: Duration = Duration::from_secs(1);

/// Runs a test body on a fresh loop; panics if it has not finished after `timeout_ms`, with
/// the loop's report of what every pending task waits for.
///
/// ```
/// let n = readyloop::__private::run_test(1_000, "doc", |handle| async move {
///     handle.spawn(async { 2 }).await.unwrap()
/// });
/// assert_eq!(n, 2);
/// ```
///
/// `#[track_caller]`: the macro spans this call at the test's name, so a failure's location
/// (what the harness prints) is the test's own file and line, not this file.
#[track_caller]
pub fn run_test<F, Fut>(timeout_ms: u64, name: &'static str, body: F) -> Fut::Output
where
    F: FnOnce(Handle) -> Fut,
    Fut: Future,
{
    run_on(Loop::builder(), timeout_ms, name, body)
}

/// [`run_test`] with loop options: `virtual_clock` (`#[readyloop::test(virtual_clock)]`)
/// and `shuffle` seeds (`shuffle = N`: the body runs once per seed `0..N`, each on a fresh
/// loop, and a failure names its seed; `READYLOOP_SEED=s` in the environment runs only `s`).
///
/// ```
/// let n = readyloop::__private::run_test_with(1_000, true, 3, "doc", |handle| async move {
///     handle.sleep(core::time::Duration::from_secs(60)).await;
///     handle.spawn(async { 2 }).await.unwrap()
/// });
/// assert_eq!(n, 2);
/// ```
#[track_caller]
pub fn run_test_with<F, Fut>(
    timeout_ms: u64,
    virtual_clock: bool,
    shuffle: u64,
    name: &'static str,
    body: F,
) -> Fut::Output
where
    F: Fn(Handle) -> Fut,
    Fut: Future,
{
    let builder = || {
        let b = Loop::builder();
        if virtual_clock {
            b.virtual_clock()
        } else {
            b
        }
    };
    if shuffle == 0 {
        return run_on(builder(), timeout_ms, name, body);
    }
    let seeds = match seed_from_env() {
        Some(seed) => seed..seed.saturating_add(1),
        None => 0..shuffle,
    };
    let mut last = None;
    for seed in seeds {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_on(builder().shuffle(seed), timeout_ms, name, &body)
        }));
        match run {
            Ok(output) => last = Some(output),
            Err(payload) => {
                let why = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(a panic without a message)".to_owned());
                panic!(
                    "readyloop::test `{name}` failed with shuffle seed {seed}; rerun just \
                     that order with READYLOOP_SEED={seed}:\n{why}"
                );
            }
        }
    }
    match last {
        Some(output) => output,
        None => panic!("readyloop::test `{name}`: no shuffle seed ran"),
    }
}

/// The seed `READYLOOP_SEED` names, if set (a bad value is a loud error, not ignored).
#[track_caller]
fn seed_from_env() -> Option<u64> {
    let text = std::env::var("READYLOOP_SEED").ok()?;
    match text.trim().parse() {
        Ok(seed) => Some(seed),
        Err(_) => panic!("READYLOOP_SEED=`{text}` is not a seed: write a whole number"),
    }
}

/// One run of a test body on a loop built by `builder`, bounded by `timeout_ms`.
#[track_caller]
fn run_on<F, Fut>(
    builder: crate::Builder,
    timeout_ms: u64,
    name: &'static str,
    body: F,
) -> Fut::Output
where
    F: FnOnce(Handle) -> Fut,
    Fut: Future,
{
    // `match`, not `unwrap_or_else`: a closure would not carry the caller's location.
    // The hog watchdog names a test task that blocks the loop (a blocking call, a long
    // computation) while the test still runs, before its deadline's report.
    let lp = match new_loop(name, builder.hog_watchdog(TEST_HOG_THRESHOLD)) {
        Ok(lp) => lp,
        Err(e) => panic!("readyloop::test `{name}`: cannot create a loop: {e}"),
    };
    let timeout = Duration::from_millis(timeout_ms);
    let body = body(lp.handle());
    if lp.handle().core.clock.is_virtual() {
        // On a virtual clock the deadline is real time: a loop-clock deadline would be the
        // nearest timer, and the clock would jump straight to it.
        return match lp.block_on(RealDeadline::new(timeout, body)) {
            Some(output) => output,
            None => panic!(
                "readyloop::test `{name}` did not finish within {timeout:?} of real time (the \
                 test's deadline; raise it with #[readyloop::test(timeout = \"...\")] if it is \
                 legitimately slow)\npending then:\n{}",
                lp.handle().pending_report()
            ),
        };
    }
    match lp.block_on_timeout(timeout, body) {
        Ok(output) => output,
        Err(stuck) => panic!(
            "readyloop::test `{name}` did not finish within {timeout:?} (the test's deadline; \
             raise it with #[readyloop::test(timeout = \"...\")] if it is legitimately slow)\n\
             {stuck}"
        ),
    }
}

/// Runs `main`'s body on a new loop and returns its output.
///
/// ```
/// let out = readyloop::__private::run_main(|handle| async move {
///     handle.sleep(core::time::Duration::from_millis(1)).await;
///     "done"
/// });
/// assert_eq!(out, "done");
/// ```
#[track_caller]
pub fn run_main<F, Fut>(body: F) -> Fut::Output
where
    F: FnOnce(Handle) -> Fut,
    Fut: Future,
{
    let lp = match new_loop("main", Loop::builder()) {
        Ok(lp) => lp,
        Err(e) => panic!("readyloop::main: cannot create a loop: {e}"),
    };
    let body = body(lp.handle());
    lp.block_on(body)
}

/// A future bounded by real time (not the loop clock): `None` once `timeout` of real time
/// has passed. A helper thread wakes it at the deadline and ends as soon as it is dropped.
struct RealDeadline<F> {
    future: core::pin::Pin<std::boxed::Box<F>>,
    at: std::time::Instant,
    waker: std::sync::Arc<std::sync::Mutex<Option<core::task::Waker>>>,
    /// Dropped with the future: tells the helper thread to end.
    _cancel: std::sync::mpsc::Sender<()>,
}

impl<F: Future> RealDeadline<F> {
    fn new(timeout: Duration, future: F) -> Self {
        let waker = std::sync::Arc::new(std::sync::Mutex::new(None::<core::task::Waker>));
        let (cancel, cancelled) = std::sync::mpsc::channel::<()>();
        let slot = waker.clone();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = cancelled.recv_timeout(timeout)
            {
                let taken = slot.lock().map(|mut w| w.take()).unwrap_or(None);
                if let Some(w) = taken {
                    w.wake();
                }
            }
        });
        RealDeadline {
            future: std::boxed::Box::pin(future),
            at: std::time::Instant::now() + timeout,
            waker,
            _cancel: cancel,
        }
    }
}

impl<F: Future> Future for RealDeadline<F> {
    type Output = Option<F::Output>;
    fn poll(
        mut self: core::pin::Pin<&mut Self>,
        cx: &mut core::task::Context<'_>,
    ) -> core::task::Poll<Self::Output> {
        if std::time::Instant::now() >= self.at {
            return core::task::Poll::Ready(None);
        }
        if let Ok(mut w) = self.waker.lock() {
            *w = Some(cx.waker().clone());
        }
        self.future.as_mut().poll(cx).map(Some)
    }
}

/// A loop from `builder`; with `READYLOOP_TRACE=path` in the environment (and the `trace` feature),
/// traced as JSON lines appended to that file, `{test}` in the path replaced by `name` (the
/// test's name, or `main`); `READYLOOP_TRACE_SYSCALLS=1` adds the socket leaves' syscalls
/// (`Builder::trace_syscalls`). A file that cannot be opened is reported and the run goes on
/// untraced. The file is flushed when the loop is dropped, a failed test's too.
fn new_loop(name: &str, builder: crate::Builder) -> Result<Loop, crate::Error> {
    #[cfg(feature = "trace")]
    if let Some(path) = std::env::var_os("READYLOOP_TRACE") {
        let path = path.to_string_lossy().replace("{test}", name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path);
        match file {
            Ok(file) => {
                let sink = crate::trace::JsonLines::new(std::io::BufWriter::new(file));
                let builder = builder.trace(sink);
                // READYLOOP_TRACE_SYSCALLS=1 adds the socket leaves' syscalls.
                let syscalls = std::env::var_os("READYLOOP_TRACE_SYSCALLS");
                let builder = match syscalls.as_deref().and_then(|v| v.to_str()) {
                    Some("1") => builder.trace_syscalls(),
                    _ => builder,
                };
                return builder.build();
            }
            Err(e) => std::eprintln!("readyloop: READYLOOP_TRACE={path}: {e}; not tracing"),
        }
    }
    let _ = name;
    builder.build()
}
