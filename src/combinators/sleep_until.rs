//! `sleep_until`: the free-function form of [`Handle::sleep_until`] (`std`).

use crate::events::Sleep;
use crate::executor::Handle;
use crate::time::Instant;

/// A [`Sleep`] until `deadline` on the loop running this thread (`std`; see
/// [`Handle::current`]). A deadline in the past completes at once.
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let when = h.now() + Duration::from_millis(5);
/// lp.block_on(async move { readyloop::sleep_until(when).await });
/// assert!(h.now() >= when);
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Handle::current().sleep_until(deadline)
}
