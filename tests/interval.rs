//! Interval: no drift, the three missed-tick policies, and re-arming without allocating.

use readyloop::{Loop, MissedTickBehavior};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

mod common;

/// Counts allocations made by the current thread (tests run on several threads at once).
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counter is a const-initialised
// thread-local without a destructor, so touching it never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// `n` time units of the grid tests: milliseconds, stretched under valgrind so the work
/// around the ticks (slow there) stays well inside their 10-unit margins.
fn units(n: u64) -> Duration {
    common::scaled(ms(n))
}

#[test]
fn ticks_stay_on_the_grid() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    // In units: a tick taken a period late would be skipped (the default), off the count.
    let mut iv = h.interval(units(10));
    let ticks: Vec<_> = lp.block_on(async {
        let mut v = Vec::new();
        for _ in 0..6 {
            v.push(iv.tick().await);
        }
        v
    });
    let t0 = ticks[0];
    for (k, t) in ticks.iter().enumerate() {
        assert_eq!(*t - t0, units(10 * k as u64), "tick {k} is on the grid");
    }
    assert!(h.now() >= t0 + units(50), "never early");
}

#[test]
fn rearming_allocates_nothing() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut iv = h.interval(Duration::from_micros(200));
    let counted = lp.block_on(async {
        for _ in 0..20 {
            iv.tick().await; // warm up: buffers grow to their working size
        }
        let before = allocations();
        for _ in 0..100 {
            iv.tick().await;
        }
        allocations() - before
    });
    assert_eq!(counted, 0, "100 ticks allocated {counted} times");
}

/// Takes the first tick, then blocks the thread for 70 units so the ticks at 20, 40 and 60
/// are missed, then takes three more ticks. Returns the ticks relative to the first, and
/// the time each was taken.
fn missed(behavior: MissedTickBehavior) -> Vec<(Duration, Duration)> {
    // The virtual clock jumps over the waits, so only the deliberate 70-unit block takes
    // real time and a loaded machine's scheduling delays cannot shift the grid.
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let mut iv = h.interval(units(20));
    iv.set_missed_tick_behavior(behavior);
    lp.block_on(async {
        let t0 = iv.tick().await;
        std::thread::sleep(units(70));
        let mut out = Vec::new();
        for _ in 0..3 {
            let t = iv.tick().await;
            out.push((t - t0, h.now() - t0));
        }
        out
    })
}

#[test]
fn burst_fires_every_missed_tick_then_keeps_the_grid() {
    let out = missed(MissedTickBehavior::Burst);
    let scheduled: Vec<_> = out.iter().map(|o| o.0).collect();
    assert_eq!(scheduled, vec![units(20), units(40), units(60)]);
    // All three were late: taken at once, after the 70-unit block.
    assert!(out.iter().all(|o| o.1 >= units(70)));
}

#[test]
fn delay_restarts_the_period_from_the_late_tick() {
    let out = missed(MissedTickBehavior::Delay);
    assert_eq!(out[0].0, units(20));
    // The next tick is one period after the late one was taken (70 + 20 units or later).
    assert!(out[1].0 >= units(90), "{out:?}");
    assert!(out[1].0 <= out[0].1 + units(20), "{out:?}");
    assert_eq!(out[2].0 - out[1].0, units(20));
}

#[test]
fn skip_drops_missed_ticks_and_keeps_the_phase() {
    let out = missed(MissedTickBehavior::Skip);
    assert_eq!(out[0].0, units(20));
    assert_eq!(out[1].0, units(80), "{out:?}");
    assert_eq!(out[2].0, units(100));
    assert!(out[1].1 >= units(80), "never early");
}

#[test]
fn zero_period_still_lets_other_tasks_run() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let ran = Rc::new(Cell::new(0u32));
    let r2 = ran.clone();
    let other = h.spawn(async move {
        loop {
            r2.set(r2.get() + 1);
            readyloop::yield_now().await;
        }
    });
    let mut iv = h.interval(Duration::ZERO);
    lp.block_on(async {
        for _ in 0..2_000 {
            iv.tick().await;
        }
    });
    assert!(ran.get() >= 5, "the other task ran {} times", ran.get());
    other.abort();
}

#[test]
fn reset_moves_the_next_tick() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut iv = h.interval(ms(30));
    lp.block_on(iv.tick());
    lp.block_on(h.sleep(ms(10)));
    iv.reset();
    let before = h.now();
    lp.block_on(iv.tick());
    assert!(h.now() - before >= ms(29), "{:?}", h.now() - before);
}
