//! What a turn does when a waker it calls panics (a waker is user code): the wakers not yet
//! called are kept in `wake_buf` and called first by the next turn, since the tasks they
//! wake were already taken out of the fd table or the timer heap and would otherwise never
//! run again. `call_wakers` (in `turn.rs`) holds them in a `Leftovers` while it works.

use super::Core;
use alloc::vec::Vec;
use core::task::Waker;

impl Core {
    /// Calls the wakers a panicking waker left uncalled in an earlier turn (see
    /// `call_wakers`); one borrow check when there are none.
    #[inline(always)]
    pub(crate) fn call_leftover_wakers<const TRACED: bool>(&self) {
        if !self.wake_buf.borrow().is_empty() {
            let wake = core::mem::take(&mut *self.wake_buf.borrow_mut());
            self.call_wakers::<TRACED>(wake);
        }
    }
}

/// The wakers `call_wakers` has not called yet, in reverse order. Dropped normally it is
/// empty and hands its buffer back to `wake_buf` for reuse; dropped by a panicking waker it
/// hands the uncalled ones back, in collection order, for the next turn.
pub(super) struct Leftovers<'a> {
    pub(super) core: &'a Core,
    pub(super) wake: Vec<Waker>,
}

impl Drop for Leftovers<'_> {
    fn drop(&mut self) {
        let mut wake = core::mem::take(&mut self.wake);
        wake.reverse();
        if let Ok(mut buf) = self.core.wake_buf.try_borrow_mut() {
            if buf.is_empty() {
                *buf = wake;
            } else {
                buf.extend(wake);
            }
        }
    }
}
