//! The monotonic clock, in nanoseconds since an arbitrary start (`CLOCK_MONOTONIC`).

use rustix::time::{clock_gettime, ClockId};

/// Nanoseconds on `CLOCK_MONOTONIC`; cannot fail and never goes backwards.
pub(crate) fn monotonic_nanos() -> u64 {
    let ts = clock_gettime(ClockId::Monotonic);
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// Lowers (or restores, with `None`) the calling thread's timer slack, in nanoseconds.
pub(crate) fn set_timer_slack(nanos: Option<u64>) -> Result<(), crate::Error> {
    let value = nanos.and_then(core::num::NonZeroU64::new);
    rustix::thread::set_current_timer_slack(value).map_err(Into::into)
}
