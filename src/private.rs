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
    // `match`, not `unwrap_or_else`: a closure would not carry the caller's location.
    // The hog watchdog names a test task that blocks the loop (a blocking call, a long
    // computation) while the test still runs, before its deadline's report.
    let lp = match Loop::builder().hog_watchdog(TEST_HOG_THRESHOLD).build() {
        Ok(lp) => lp,
        Err(e) => panic!("readyloop::test `{name}`: cannot create a loop: {e}"),
    };
    let timeout = Duration::from_millis(timeout_ms);
    let body = body(lp.handle());
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
    let lp = match Loop::new() {
        Ok(lp) => lp,
        Err(e) => panic!("readyloop::main: cannot create a loop: {e}"),
    };
    let body = body(lp.handle());
    lp.block_on(body)
}
