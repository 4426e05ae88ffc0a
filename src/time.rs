//! `Instant`: a point on the loop's monotonic clock, in nanoseconds.
//!
//! `core` has no clock, so readyloop carries its own: `CLOCK_MONOTONIC` read through the
//! syscall layer. Arithmetic saturates, so `Duration::MAX` means "never", not an overflow.
//! With `std`, `from_std`/`to_std` convert from and to `std::time::Instant` (same clock).

use core::ops::{Add, Sub};
use core::time::Duration;

/// A point in time on a loop's clock (monotonic, nanosecond resolution).
///
/// ```
/// use core::time::Duration;
/// use readyloop::Loop;
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let start = h.now();
/// lp.block_on(h.sleep(Duration::from_millis(5)));
/// assert!(h.now() - start >= Duration::from_millis(5));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub(crate) u64);

impl Instant {
    /// The far future: a deadline that never comes.
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::Instant;
    /// assert_eq!(Instant::from_nanos(5) + Duration::MAX, Instant::NEVER);
    /// ```
    pub const NEVER: Instant = Instant(u64::MAX);

    /// Nanoseconds since the clock's (arbitrary) zero.
    ///
    /// ```
    /// use readyloop::Instant;
    /// assert_eq!(Instant::from_nanos(1_500).as_nanos(), 1_500);
    /// ```
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// Makes an instant from nanoseconds since the clock's zero.
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::Instant;
    /// let t = Instant::from_nanos(2_000_000_000);
    /// assert_eq!(t - Instant::from_nanos(0), Duration::from_secs(2));
    /// ```
    pub fn from_nanos(nanos: u64) -> Self {
        Instant(nanos)
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::Instant;
    /// let (early, late) = (Instant::from_nanos(10), Instant::from_nanos(30));
    /// assert_eq!(late.saturating_duration_since(early), Duration::from_nanos(20));
    /// assert_eq!(early.saturating_duration_since(late), Duration::ZERO);
    /// ```
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at [`Instant::NEVER`].
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::Instant;
    /// let t = Instant::from_nanos(100);
    /// assert_eq!(t.saturating_add(Duration::from_nanos(1)).as_nanos(), 101);
    /// assert_eq!(t.saturating_add(Duration::MAX), Instant::NEVER);
    /// ```
    pub fn saturating_add(self, d: Duration) -> Instant {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(nanos))
    }
}

#[cfg(feature = "std")]
impl Instant {
    /// The instant on readyloop's clock that a `std::time::Instant` names.
    ///
    /// Both are `CLOCK_MONOTONIC` on Linux, but std's is opaque, so the two are paired once
    /// per process (a std reading bracketed by two of readyloop's, the tightest of a few
    /// tries) and the offset carried over: a conversion reads no clock, and durations
    /// survive it exactly. The pairing takes the later bracket, so the result is never
    /// earlier than the true instant (a deadline converted here never fires early); it may
    /// be later by the bracket's width (tens of nanoseconds). It names the real clock: a
    /// loop built with [`virtual_clock`](crate::Builder::virtual_clock) runs on its own.
    ///
    /// ```
    /// use core::time::Duration;
    /// let deadline = std::time::Instant::now() + Duration::from_millis(20);
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// lp.block_on(h.sleep_until(readyloop::Instant::from_std(deadline)));
    /// assert!(std::time::Instant::now() >= deadline);
    /// ```
    pub fn from_std(instant: std::time::Instant) -> Instant {
        let (std_base, base) = std_pairing();
        match instant.checked_duration_since(std_base) {
            Some(ahead) => base.saturating_add(ahead),
            None => Instant(base.0.saturating_sub(nanos_of(std_base - instant))),
        }
    }

    /// The `std::time::Instant` this instant of readyloop's clock names (the inverse of
    /// [`from_std`](Self::from_std), through the same pairing; [`Instant::NEVER`] and
    /// instants std cannot hold saturate to about 30 years past the pairing, or to the
    /// pairing itself for instants before the ones std can hold).
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let soon = lp.handle().now() + Duration::from_secs(1);
    /// let std_soon = soon.to_std();
    /// let left = std_soon - std::time::Instant::now();
    /// assert!(left <= Duration::from_secs(1) && left > Duration::from_millis(900));
    /// ```
    pub fn to_std(self) -> std::time::Instant {
        let (std_base, base) = std_pairing();
        if self.0 >= base.0 {
            std_base + Duration::from_nanos(self.0 - base.0).min(FAR_AHEAD)
        } else {
            let behind = Duration::from_nanos(base.0 - self.0);
            std_base.checked_sub(behind).unwrap_or(std_base)
        }
    }
}

/// The process's pairing of std's clock with readyloop's (see `Instant::from_std`): a std
/// reading and the readyloop reading just after it, taken once, from the tightest of a few
/// brackets (so a preemption between two reads does not skew every conversion after it).
#[cfg(feature = "std")]
fn std_pairing() -> (std::time::Instant, Instant) {
    static PAIRING: std::sync::OnceLock<(std::time::Instant, Instant)> = std::sync::OnceLock::new();
    *PAIRING.get_or_init(|| {
        let bracket = || {
            let before = crate::sys::clock::monotonic_nanos();
            let std_now = std::time::Instant::now();
            let after = crate::sys::clock::monotonic_nanos();
            (after.saturating_sub(before), std_now, after)
        };
        let mut best = bracket();
        for _ in 0..3 {
            let next = bracket();
            if next.0 < best.0 {
                best = next;
            }
        }
        (best.1, Instant(best.2))
    })
}

/// The furthest ahead `to_std` goes (std's `Instant` panics on overflow).
#[cfg(feature = "std")]
const FAR_AHEAD: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

#[cfg(feature = "std")]
fn nanos_of(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}
