//! The calling thread's kernel id, so traces can tell a wake from another thread.
//!
//! Only the tracing path calls this; it must stay a plain syscall with no side effect.

/// The calling thread's id (`gettid`).
pub(crate) fn current_id() -> i32 {
    rustix::thread::gettid().as_raw_nonzero().get()
}
