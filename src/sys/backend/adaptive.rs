//! When the adaptive backend (the default) moves between poll(2) and epoll(7): the policy
//! alone, counts and thresholds. The reactor makes the move (it holds the interest table
//! the new backend is filled from); this file never touches the kernel.
//!
//! poll(2) costs every wait O(registered fds) in the kernel (a wait-queue entry set up and
//! torn down per fd) but nothing per change of interest; epoll(7) costs a wait O(ready
//! fds) but more per reported fd. So poll wins while most registered fds are ready at each
//! wait (every busy row of bench/), and epoll wins when many fds are registered and few are
//! ready (a daemon's idle keep-alive clients). The policy watches both numbers over a
//! window of waits: it asks for epoll once the set averages at least `epoll_at` fds
//! (default [`DEFAULT_EPOLL_AT`]) with at least [`SPARSE`] registered fds per ready one,
//! and for poll again once the set falls under a quarter of `epoll_at` or gets dense (fewer
//! than [`DENSE`] registered per ready fd). A window is 64 waits, fewer for a large set
//! (see [`WINDOW_FDS`]). The gaps between the two conditions are the
//! hysteresis: a loop near a threshold does not flap. It must never ask for a move on every
//! window; it may be wrong about the cheaper backend for one window at most.

use super::BackendKind;

/// Waits per decision window, at most.
pub(crate) const WINDOW: u32 = 64;

/// A window also ends once its waits have scanned this many registered fds in all (and
/// made at least [`MIN_WAITS`]): a large set is judged after a few waits, not 64 costly
/// ones (10,000 fds: 8 waits).
const WINDOW_FDS: u64 = 64 * 1024;

/// Waits per decision window, at least.
const MIN_WAITS: u32 = 8;

/// The registered-set size from which a sparse set moves to epoll, unless
/// `Builder::adaptive_threshold` says otherwise. Measured (bench/, issue 17): poll(2) costs
/// about 40-60 ns per registered fd per wait here, epoll about 0.2-3 us more than poll per
/// reported fd; under 1,000 fds poll's scan is cheaper than a few epoll reports.
pub(crate) const DEFAULT_EPOLL_AT: usize = 1024;

/// Registered fds per ready fd (summed over a window) above which the set is sparse.
/// Judged on poll, the ratio reads low: poll's waits over a large set are slow, so each
/// gathers more ready fds (100 busy connections beside 2,000-3,000 idle read 20-30 per
/// ready one while epoll already cost that row half of poll's CPU per round trip; bench/
/// `idle --rows churn`, issue 17). Busy-only sets read 1-3.
const SPARSE: u64 = 16;

/// Registered fds per ready fd under which the set is dense (back to poll): a quarter of
/// `SPARSE`, so a set near either line does not flap.
const DENSE: u64 = 4;

/// The adaptive policy's counters for the current window.
#[derive(Debug, Clone)]
pub(crate) struct Adapt {
    epoll_at: usize,
    /// Waits on fewer registered fds are not counted: `epoll_at` on poll (a small set never
    /// moves, and costs one comparison per wait), 0 on epoll.
    floor: usize,
    waits: u32,
    registered: u64,
    ready: u64,
}

impl Adapt {
    pub(crate) fn new(epoll_at: usize) -> Self {
        Adapt {
            epoll_at: epoll_at.max(4),
            floor: epoll_at.max(4),
            waits: 0,
            registered: 0,
            ready: 0,
        }
    }

    /// Counts one wait; true when the window is complete (then call [`decide`](Self::decide)).
    /// On poll, only waits on at least `epoll_at` fds count: the window measures how sparse
    /// the set is while it is large.
    #[inline]
    pub(crate) fn note(&mut self, registered: usize, ready: usize) -> bool {
        if registered < self.floor {
            return false;
        }
        self.waits += 1;
        self.registered += registered as u64;
        self.ready += ready as u64;
        self.waits >= WINDOW || self.waits >= MIN_WAITS && self.registered >= WINDOW_FDS
    }

    /// The backend the next window should use, if not `now`; starts a new window.
    pub(crate) fn decide(&mut self, now: BackendKind) -> Option<BackendKind> {
        let waits = u64::from(self.waits.max(1));
        let average = (self.registered / waits) as usize;
        let (registered, ready) = (self.registered, self.ready.max(1));
        self.waits = 0;
        self.registered = 0;
        self.ready = 0;
        let next = match now {
            BackendKind::Poll if average >= self.epoll_at && registered >= SPARSE * ready => {
                Some(BackendKind::Epoll)
            }
            BackendKind::Epoll if average < self.epoll_at / 4 || registered < DENSE * ready => {
                Some(BackendKind::Poll)
            }
            _ => None,
        };
        self.floor = match next.unwrap_or(now) {
            BackendKind::Epoll => 0,
            _ => self.epoll_at,
        };
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds one window; returns how many waits it took.
    fn window(a: &mut Adapt, registered: usize, ready: usize) -> u32 {
        let mut waits = 1;
        while !a.note(registered, ready) {
            waits += 1;
            assert!(waits <= WINDOW);
        }
        waits
    }

    #[test]
    fn large_sets_are_judged_after_fewer_waits() {
        let mut a = Adapt::new(1024);
        assert_eq!(window(&mut a, 1024, 1), WINDOW);
        assert_eq!(a.decide(BackendKind::Poll), Some(BackendKind::Epoll));
        assert_eq!(window(&mut a, 100, 1), WINDOW);
        assert_eq!(a.decide(BackendKind::Epoll), Some(BackendKind::Poll));
        assert_eq!(window(&mut a, 2048, 1), 32);
        a.decide(BackendKind::Epoll);
        assert_eq!(window(&mut a, 10_100, 1), MIN_WAITS);
    }

    #[test]
    fn sparse_large_sets_move_to_epoll_and_back_with_hysteresis() {
        let mut a = Adapt::new(1000);
        // Small: stays on poll however idle (such waits are not even counted).
        for _ in 0..1000 {
            assert!(!a.note(999, 0));
        }
        // Large and dense (every busy row): stays on poll.
        window(&mut a, 10_000, 2_000);
        assert_eq!(a.decide(BackendKind::Poll), None);
        // Large and sparse: epoll.
        window(&mut a, 10_100, 5);
        assert_eq!(a.decide(BackendKind::Poll), Some(BackendKind::Epoll));
        // Between the thresholds (size or density): stays where it is.
        window(&mut a, 600, 1);
        assert_eq!(a.decide(BackendKind::Epoll), None);
        window(&mut a, 10_000, 600);
        assert_eq!(a.decide(BackendKind::Epoll), None);
        // Dense again, or small again: poll.
        window(&mut a, 10_000, 4_000);
        assert_eq!(a.decide(BackendKind::Epoll), Some(BackendKind::Poll));
        // 100 busy beside 2,000 idle, judged on poll's slow waits (21 per ready one): epoll.
        window(&mut a, 2_100, 100);
        assert_eq!(a.decide(BackendKind::Poll), Some(BackendKind::Epoll));
        window(&mut a, 10_000, 4_000);
        assert_eq!(a.decide(BackendKind::Epoll), Some(BackendKind::Poll));
        window(&mut a, 10_100, 5);
        assert_eq!(a.decide(BackendKind::Poll), Some(BackendKind::Epoll));
        window(&mut a, 200, 0);
        assert_eq!(a.decide(BackendKind::Epoll), Some(BackendKind::Poll));
    }
}
