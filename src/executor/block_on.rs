//! `Loop::block_on`: poll the future it was given whenever it is woken, and run turns of
//! the loop in between (asyncio's `run_until_complete`). The turn itself is `turn.rs`.
//!
//! Reading path: this is step 1 of docs/TOUR.md. Everything else a `Loop` can do (build,
//! `run_forever`, `block_on_timeout`, `step`) lives in `mod.rs` and `run.rs`. Nothing here
//! may hold a borrow of the loop's tables while the future is polled.

use super::{Core, Loop};
use crate::task::Shared;
use crate::trace::WakeCause;
use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll};

impl Loop {
    /// Runs the loop until `future` completes and returns its output
    /// (`asyncio.run` / `run_until_complete`). Spawned tasks run meanwhile; the ones still
    /// pending when it returns stay on the loop for the next `block_on` or `run_forever`.
    ///
    /// # Panics
    /// If called while this loop is already running (from inside one of its tasks), if
    /// `future` itself panics, or if user code the loop calls during a turn panics: a waker's
    /// `wake` or `Drop` (a waker belongs to no task, so its panic cannot go into a
    /// `JoinError`), a trace sink, or the `Drop` of an output nobody awaits. The loop stays
    /// usable after such a panic: its tables were updated before the call, the wakers
    /// collected alongside a panicking one are called at the next turn, and a later
    /// `block_on` on the same loop carries on. (A spawned task's own panic, in its poll or in
    /// its future's `Drop`, is caught into its [`JoinError`](crate::JoinError) instead.)
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let answer = lp.block_on(async move {
    ///     h.sleep(Duration::from_millis(1)).await;
    ///     42
    /// });
    /// assert_eq!(answer, 42);
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let core = &self.handle.core;
        let _running = self.handle.enter();
        let waker = Shared::main_waker(&core.shared);
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        // A wake left from an earlier `block_on` is cleared now and on return; then the
        // future is woken for its first poll.
        let _clear = ClearMainWoken::new(core);
        core.waking_as(WakeCause::Spawn, || core.shared.wake_main());
        loop {
            if core.shared.take_main_woken() {
                if let Poll::Ready(output) = core.poll_main(future.as_mut(), &mut cx) {
                    return output;
                }
            }
            core.turn();
        }
    }
}

/// Clears the `block_on` future's wake flag when `block_on` returns (or unwinds): a wake
/// that lands after the future's last poll must not outlive it, or the flag would keep every
/// later wait (`run_forever`, `run_once`, `step`) from blocking.
pub(super) struct ClearMainWoken<'a>(&'a Core);

impl Drop for ClearMainWoken<'_> {
    fn drop(&mut self) {
        self.0.shared.take_main_woken();
    }
}

impl<'a> ClearMainWoken<'a> {
    /// Clears a wake left over from an earlier `block_on` now, and the new one's on drop.
    pub(super) fn new(core: &'a Core) -> Self {
        core.shared.take_main_woken();
        ClearMainWoken(core)
    }
}
