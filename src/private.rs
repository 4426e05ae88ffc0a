//! What the `#[readyloop::test]` and `#[readyloop::main]` attributes expand to.
//!
//! Not a public API: the macros call these functions so that the behaviour (a fresh loop, the
//! deadline, the report of a stuck test) lives here and can change without touching the
//! macros. Nothing here may be called by users, and nothing here may keep state between
//! calls: each test gets a loop of its own.

use crate::executor::{Handle, Loop};
use core::future::Future;
use core::time::Duration;

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
    let lp = match new_loop(name) {
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
///     readyloop::Sleep::new(&handle, core::time::Duration::from_millis(1)).await;
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
    let lp = match new_loop("main") {
        Ok(lp) => lp,
        Err(e) => panic!("readyloop::main: cannot create a loop: {e}"),
    };
    let body = body(lp.handle());
    lp.block_on(body)
}

/// A fresh loop; with `READYLOOP_TRACE=path` in the environment (and the `trace` feature),
/// traced as JSON lines appended to that file, `{test}` in the path replaced by `name` (the
/// test's name, or `main`). A file that cannot be opened is reported and the run goes on
/// untraced. The file is flushed when the loop is dropped, a failed test's too.
fn new_loop(name: &str) -> Result<Loop, crate::Error> {
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
                return Loop::builder().trace(sink).build();
            }
            Err(e) => std::eprintln!("readyloop: READYLOOP_TRACE={path}: {e}; not tracing"),
        }
    }
    let _ = name;
    Loop::new()
}
