//! `Instant`: a point on the loop's monotonic clock, in nanoseconds.
//!
//! `core` has no clock, so readyloop carries its own: `CLOCK_MONOTONIC` read through the
//! syscall layer. Arithmetic saturates, so `Duration::MAX` means "never", not an overflow.

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
