//! Unit tests of the deadline heap (`timers.rs`).

use super::*;

fn fire_all(t: &mut Timers) -> Vec<u64> {
    let mut out = Vec::new();
    let mut wake = Vec::new();
    t.fire(u64::MAX - 1, &mut wake, |d| out.push(d));
    out
}

#[test]
fn stale_entries_are_compacted_away_and_the_live_ones_fire_in_order() {
    let noop = Waker::noop();
    let w = &mut NewWaker::new(noop, core::ptr::null());
    let mut t = Timers::new();
    // Deadlines in a scrambled order, ties among them.
    let keys: Vec<(u64, TimerKey)> = (0..2000u64)
        .map(|i| {
            let deadline = (i * 7919) % 1000;
            (deadline, t.insert(deadline, w, 0, None))
        })
        .collect();
    let mut kept = Vec::new();
    for (i, (deadline, key)) in keys.into_iter().enumerate() {
        if i % 20 == 0 {
            kept.push(deadline);
        } else {
            drop(t.cancel(key));
        }
    }
    // 100 live among 2000: the heap was compacted (more than 1024 entries, 4x live).
    assert!(t.heap.len() < 500, "{} entries", t.heap.len());
    assert_eq!(t.len(), 100);
    kept.sort();
    assert_eq!(fire_all(&mut t), kept);
}

#[test]
fn running_out_of_sequence_numbers_keeps_order_and_keys() {
    let noop = Waker::noop();
    let w = &mut NewWaker::new(noop, core::ptr::null());
    let mut t = Timers::new();
    t.sequence = u32::MAX - 3;
    let a = t.insert(50, w, 0, None);
    let b = t.insert(10, w, 0, None);
    let c = t.insert(50, w, 0, None);
    drop(t.cancel(b));
    // The next arming renumbers: the stale entry goes, a and c keep their order.
    let d = t.insert(50, w, 0, None);
    assert_eq!(t.heap.len(), 3);
    assert!(t.sequence < 10);
    assert!(t.is_armed(a) && t.is_armed(c) && t.is_armed(d) && !t.is_armed(b));
    let slots: Vec<u32> = {
        let mut v: Vec<Entry> = t.heap.iter().map(|r| r.0).collect();
        v.sort();
        v.iter().map(|e| e.slot()).collect()
    };
    assert_eq!(slots, [a.slot, c.slot, d.slot]);
    assert_eq!(fire_all(&mut t), [50, 50, 50]);
    assert_eq!(t.len(), 0);
}
