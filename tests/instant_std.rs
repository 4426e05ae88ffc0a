//! Converting between `std::time::Instant` and readyloop's `Instant` (hyper hands its
//! deadlines as std's): both are `CLOCK_MONOTONIC`, so a conversion is a fixed offset, read
//! once. Checked: durations survive a conversion exactly (no fresh clock pairing per call,
//! whose gap would jitter them), a round trip comes back within a microsecond, and a
//! converted deadline never fires early.

use readyloop::{Instant, Loop};
use std::time::Duration;

#[test]
fn durations_survive_conversion_exactly() {
    let base = std::time::Instant::now();
    for k in 0..200u64 {
        let d = Duration::from_nanos(k * 7_919 + 1);
        let a = Instant::from_std(base);
        let b = Instant::from_std(base + d);
        assert_eq!(b - a, d, "conversion {k}");
        assert_eq!(b.to_std() - a.to_std(), d, "back, {k}");
    }
}

#[test]
fn round_trips_within_a_microsecond() {
    let now = std::time::Instant::now();
    for x in [
        now,
        now + Duration::from_secs(3600),
        now - Duration::from_millis(1),
    ] {
        let back = Instant::from_std(x).to_std();
        let error = if back > x { back - x } else { x - back };
        assert!(error < Duration::from_micros(1), "{error:?}");
    }
}

#[test]
fn a_converted_deadline_never_fires_early() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    for ms in [0u64, 1, 3] {
        let deadline = std::time::Instant::now() + Duration::from_millis(ms);
        lp.block_on(h.sleep_until(Instant::from_std(deadline)));
        assert!(std::time::Instant::now() >= deadline, "{ms} ms");
    }
}
