//! `Interval`: ticks at a fixed period (seed 001's `print_every_period`, without drift).
//!
//! Each tick's deadline is computed from the previous *deadline*, not from when the task
//! got round to it, so a periodic task does not drift. One [`Sleep`] is re-armed for every
//! tick with [`Sleep::reset`]; the loop reuses the timer's slot, so a running interval
//! allocates nothing. A tick that was missed (the task was busy past the next deadline) is
//! handled by the [`MissedTickBehavior`].

use crate::events::Sleep;
use crate::executor::Handle;
use crate::time::Instant;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;

/// What an [`Interval`] does when the task polls it after one or more ticks were due.
///
/// ```
/// use core::time::Duration;
/// use readyloop::{Loop, MissedTickBehavior};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// let mut every = h.interval(Duration::from_millis(10));
/// every.set_missed_tick_behavior(MissedTickBehavior::Burst);
/// lp.block_on(async {
///     every.tick().await; // at once
///     std::thread::sleep(Duration::from_millis(35)); // miss three ticks
///     let start = h.now();
///     for _ in 0..3 {
///         every.tick().await; // Burst: the missed ticks fire without waiting
///     }
///     assert!(h.now() - start < Duration::from_millis(10));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissedTickBehavior {
    /// Fire every missed tick at once, one per poll, until caught up; the schedule stays
    /// on the original grid. Right when each tick stands for work that must be done.
    Burst,
    /// Fire once now, then continue one full period after now: the grid shifts to the
    /// late tick. Right when ticks mean "at least this much time in between".
    Delay,
    /// Fire once now, then continue at the next tick of the original grid, dropping the
    /// missed ones. The default: a loop that fell behind does not burst to catch up, and
    /// the ticks stay in phase.
    #[default]
    Skip,
}

/// Ticks every `period`; the first tick completes at once (or at the start given).
///
/// ```
/// use core::time::Duration;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let start = h.now();
/// lp.block_on(async {
///     let mut every = h.interval(Duration::from_millis(10));
///     for _ in 0..3 {
///         every.tick().await; // at 0, 10 and 20 ms
///     }
/// });
/// assert!(h.now() - start >= Duration::from_millis(20));
/// ```
#[derive(Debug)]
pub struct Interval {
    handle: Handle,
    /// Sleeps until the next tick's deadline.
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    /// An interval on `handle`'s loop whose first tick is at `start` (what
    /// [`Handle::interval`] and [`Handle::interval_at`] make).
    #[track_caller]
    pub(crate) fn new_at(handle: &Handle, start: Instant, period: Duration) -> Self {
        let origin = crate::report::TimerOrigin::here(crate::report::TimerKind::Interval);
        Interval {
            handle: handle.clone(),
            sleep: Sleep::until(handle, start, origin),
            period,
            missed: MissedTickBehavior::default(),
        }
    }

    /// The period.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// assert_eq!(lp.handle().interval(Duration::from_millis(3)).period(), Duration::from_millis(3));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The policy for missed ticks.
    ///
    /// ```
    /// use readyloop::MissedTickBehavior;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let iv = lp.handle().interval(core::time::Duration::from_millis(3));
    /// assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Skip);
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the policy for missed ticks.
    ///
    /// ```
    /// use readyloop::MissedTickBehavior;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let mut iv = lp.handle().interval(core::time::Duration::from_millis(3));
    /// iv.set_missed_tick_behavior(MissedTickBehavior::Burst);
    /// assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// When the next tick is due.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let iv = h.interval(Duration::from_millis(3));
    /// assert!(iv.next_tick() <= h.now());
    /// ```
    pub fn next_tick(&self) -> Instant {
        self.sleep.deadline()
    }

    /// Moves the next tick to one period from now.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let mut iv = h.interval(Duration::from_millis(30));
    /// iv.reset();
    /// assert!(iv.next_tick() > h.now());
    /// ```
    pub fn reset(&mut self) {
        let next = self.handle.now() + self.period;
        self.sleep.reset(next);
    }

    /// Waits for the next tick; returns the instant it was scheduled for.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let mut iv = h.interval(Duration::from_millis(2));
    /// let first = lp.block_on(iv.tick());
    /// let second = lp.block_on(iv.tick());
    /// // One period later, or a whole number of periods if the loop was too slow for a
    /// // tick (missed ticks are skipped by default): ticks stay on the grid.
    /// let apart = (second - first).as_nanos();
    /// assert!(apart > 0 && apart % 2_000_000 == 0, "{apart}");
    /// ```
    pub fn tick(&mut self) -> Tick<'_> {
        Tick { interval: self }
    }

    /// The poll form of [`tick`](Interval::tick), for hand-written futures.
    ///
    /// ```
    /// use core::time::Duration;
    /// use readyloop::Loop;
    /// let lp = Loop::new().unwrap();
    /// let mut every = lp.handle().interval(Duration::from_millis(5));
    /// let first = lp.block_on(core::future::poll_fn(|cx| every.poll_tick(cx)));
    /// let second = lp.block_on(core::future::poll_fn(|cx| every.poll_tick(cx)));
    /// let apart = (second - first).as_nanos(); // one period (more only if ticks were missed)
    /// assert!(apart > 0 && apart % Duration::from_millis(5).as_nanos() == 0, "{apart}");
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        // A tick that is always due (zero period, or a burst) must not starve the loop.
        if self.handle.poll_budget(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.sleep.deadline();
        let now = self.handle.now();
        let on_grid = scheduled + self.period;
        let next = if now < on_grid {
            on_grid
        } else {
            match self.missed {
                MissedTickBehavior::Burst => on_grid,
                MissedTickBehavior::Delay => now + self.period,
                MissedTickBehavior::Skip => next_on_grid(scheduled, self.period, now),
            }
        };
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }
}

/// The first tick of the grid `start + k * period` that is later than `now`.
fn next_on_grid(start: Instant, period: Duration, now: Instant) -> Instant {
    let period_ns = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX);
    if period_ns == 0 {
        return now;
    }
    let behind = (now - start).as_nanos() as u64;
    let periods = behind / period_ns + 1;
    Instant(start.0.saturating_add(periods.saturating_mul(period_ns)))
}

/// The future of [`Interval::tick`].
///
/// ```
/// use core::time::Duration;
/// use readyloop::{combinators::Tick, Loop};
/// let lp = Loop::new().unwrap();
/// let mut every = lp.handle().interval(Duration::from_millis(1));
/// let tick: Tick<'_> = every.tick();
/// let _when: readyloop::Instant = lp.block_on(tick);
/// ```
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Tick<'a> {
    interval: &'a mut Interval,
}

impl Future for Tick<'_> {
    type Output = Instant;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        self.interval.poll_tick(cx)
    }
}

impl Handle {
    /// An [`Interval`] ticking every `period`, the first tick now.
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let mut iv = lp.handle().interval(Duration::from_millis(1));
    /// lp.block_on(iv.tick());
    /// ```
    #[track_caller]
    pub fn interval(&self, period: Duration) -> Interval {
        Interval::new_at(self, self.now(), period)
    }

    /// An [`Interval`] whose first tick is at `start`. A zero `period` ticks at every poll
    /// (still yielding to other tasks now and then through the task's budget).
    ///
    /// ```
    /// use core::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let start = h.now() + Duration::from_millis(5);
    /// let mut iv = h.interval_at(start, Duration::from_millis(5));
    /// assert_eq!(lp.block_on(iv.tick()), start);
    /// ```
    #[track_caller]
    pub fn interval_at(&self, start: Instant, period: Duration) -> Interval {
        Interval::new_at(self, start, period)
    }
}
