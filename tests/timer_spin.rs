//! `Builder::timer_spin`: the wait ends early and the loop polls without blocking until the
//! deadline, so sleeps end close to their deadline and never before it.

use readyloop::Loop;
use std::time::Duration;

fn lateness_ns(spin: Duration, rounds: u32) -> Vec<i64> {
    let lp = Loop::builder()
        .timer_slack(Duration::from_nanos(1))
        .timer_spin(spin)
        .build()
        .unwrap();
    let h = lp.handle();
    lp.block_on(async {
        let mut late = Vec::new();
        for _ in 0..rounds {
            let deadline = h.now() + Duration::from_micros(250);
            h.sleep_until(deadline).await;
            late.push(h.now().as_nanos() as i64 - deadline.as_nanos() as i64);
        }
        late
    })
}

#[test]
fn spinning_sleeps_are_never_early_and_land_near_the_deadline() {
    let mut late = lateness_ns(Duration::from_micros(50), 200);
    late.sort_unstable();
    assert!(late[0] >= 0, "a sleep ended {} ns early", -late[0]);
    // Generous (a loaded two-CPU machine): the median is a turn late, not a kernel wake-up.
    let median = late[late.len() / 2];
    assert!(median < 200_000, "median lateness {median} ns");
}

#[test]
fn early_wake_ups_are_not_counted_as_spurious() {
    let lp = Loop::builder()
        .timer_spin(Duration::from_micros(100))
        .build()
        .unwrap();
    let h = lp.handle();
    lp.block_on(async {
        for _ in 0..20 {
            h.sleep(Duration::from_millis(1)).await;
        }
    });
    assert_eq!(h.stats().spurious_wakeups, 0);
}

#[test]
fn a_spin_longer_than_the_sleep_still_waits_for_the_deadline() {
    let mut late = lateness_ns(Duration::from_millis(5), 20);
    late.sort_unstable();
    assert!(late[0] >= 0, "a sleep ended {} ns early", -late[0]);
}
