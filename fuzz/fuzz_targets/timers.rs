//! Fuzzes the timer heap through the public `Sleep` API on a real loop with a virtual clock
//! (time jumps to the next deadline when only timers are pending, so an input runs in
//! microseconds): arbitrary sequences of arming sleeps (deadlines on a 1 ms grid, so many
//! tie), dropping them (cancel), moving their deadline (`reset`, then re-arming), spurious
//! polls, and letting time pass.
//!
//! Each arming gets its own waker, so a wake is traced to the exact (sleep, arming) it
//! belongs to. Checked: a sleep never completes before its deadline; a timer never fires
//! after it was cancelled, reset or dropped, and never twice; after time passes, every
//! armed sleep whose deadline is behind the loop clock has fired (no lost timer); timers
//! fire in (deadline, arming) order; at the end no timer is left armed.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use readyloop::{Handle, Instant, Loop, Sleep};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// Deadlines and advances are multiples of this.
const GRID: Duration = Duration::from_millis(1);

#[derive(Arbitrary, Debug)]
enum Op {
    /// A new sleep until `base + n * GRID`, polled once (armed if not yet due).
    Arm(u8),
    /// Drop sleep `i` (cancels its timer).
    Drop(u8),
    /// `reset` sleep `i` to `base + n * GRID`, then poll it (re-arms).
    Reset(u8, u8),
    /// Poll sleep `i` (spurious: must not disturb its timer).
    Poll(u8),
    /// Let the loop run until `n * GRID` from now has passed.
    Advance(u8),
}

/// One arming of one sleep.
#[derive(Clone, Copy, Debug)]
struct Arming {
    sleep: usize,
    deadline: Instant,
    /// Order of arming (the heap's tie-break).
    seq: u64,
    /// Cancelled, reset or dropped: must never fire from now on.
    withdrawn: bool,
    fired: bool,
    /// When it fired, on the same counter as `seq`.
    fired_seq: u64,
}

/// Records which arming a wake belongs to.
struct Tracer {
    arming: usize,
    fired: Arc<Mutex<Vec<usize>>>,
}

impl Wake for Tracer {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.lock().unwrap().push(self.arming);
    }
}

struct Slot {
    sleep: Pin<Box<Sleep>>,
    /// The arming its timer belongs to, while armed.
    arming: Option<usize>,
    done: bool,
}

struct World {
    h: Handle,
    base: Instant,
    slots: Vec<Option<Slot>>,
    armings: Vec<Arming>,
    fired: Arc<Mutex<Vec<usize>>>,
    /// Fire order, as armings.
    order: Vec<usize>,
    seq: u64,
}

impl World {
    /// Polls slot `i` inside the loop with a fresh traced waker; records a new arming if the
    /// poll armed a timer.
    fn poll(&mut self, lp: &Loop, i: usize) {
        let Some(slot) = self.slots[i].as_mut() else {
            return;
        };
        if slot.done {
            return;
        }
        let arming = self.armings.len();
        let waker = Waker::from(Arc::new(Tracer {
            arming: slot.arming.unwrap_or(arming),
            fired: self.fired.clone(),
        }));
        let r = lp.block_on(poll_fn(|_| {
            Poll::Ready(slot.sleep.as_mut().poll(&mut Context::from_waker(&waker)))
        }));
        let deadline = slot.sleep.deadline();
        match r {
            Poll::Ready(()) => {
                assert!(self.h.now() >= deadline, "a sleep completed early");
                slot.done = true;
                slot.arming = None;
            }
            Poll::Pending if slot.arming.is_none() => {
                self.seq += 1;
                self.armings.push(Arming {
                    sleep: i,
                    deadline,
                    seq: self.seq,
                    withdrawn: false,
                    fired: false,
                    fired_seq: 0,
                });
                slot.arming = Some(arming);
            }
            Poll::Pending => {}
        }
    }

    fn withdraw(&mut self, i: usize) {
        if let Some(a) = self.slots[i].as_mut().and_then(|s| s.arming.take()) {
            self.armings[a].withdrawn = true;
        }
    }

    /// Takes the wakes recorded since the last call, checking each.
    fn collect(&mut self) {
        let fired: Vec<usize> = std::mem::take(&mut *self.fired.lock().unwrap());
        for a in fired {
            let arming = &mut self.armings[a];
            assert!(
                !arming.withdrawn,
                "sleep {}: a cancelled or reset timer fired",
                arming.sleep
            );
            assert!(!arming.fired, "a timer fired twice");
            assert!(self.h.now() >= arming.deadline, "a timer fired early");
            arming.fired = true;
            self.seq += 1;
            arming.fired_seq = self.seq;
            self.order.push(a);
        }
    }

    fn pick(&self, i: u8) -> Option<usize> {
        (!self.slots.is_empty()).then(|| usize::from(i) % self.slots.len())
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let base = h.now() + Duration::from_millis(1);
    let mut w = World {
        h: h.clone(),
        base,
        slots: Vec::new(),
        armings: Vec::new(),
        fired: Arc::default(),
        order: Vec::new(),
        seq: 0,
    };
    for op in ops.iter().take(256) {
        match *op {
            Op::Arm(n) => {
                let sleep = Box::pin(h.sleep_until(w.base + GRID * u32::from(n)));
                w.slots.push(Some(Slot {
                    sleep,
                    arming: None,
                    done: false,
                }));
                let i = w.slots.len() - 1;
                w.poll(&lp, i);
            }
            Op::Drop(i) => {
                if let Some(i) = w.pick(i) {
                    w.withdraw(i);
                    w.slots[i] = None;
                }
            }
            Op::Reset(i, n) => {
                if let Some(i) = w.pick(i) {
                    w.withdraw(i);
                    if let Some(slot) = w.slots[i].as_mut() {
                        slot.sleep.as_mut().reset(w.base + GRID * u32::from(n));
                        slot.done = false;
                    }
                    w.poll(&lp, i);
                }
            }
            Op::Poll(i) => {
                if let Some(i) = w.pick(i) {
                    w.poll(&lp, i);
                }
            }
            Op::Advance(n) => {
                let d = GRID * u32::from(n);
                let sleep = h.sleep(d);
                let until = sleep.deadline();
                let turns = h.stats().turns;
                lp.block_on(sleep);
                w.collect();
                if h.stats().turns > turns {
                    // The advance's own timer fired in a turn whose clock was at or past
                    // `until`, and that turn fired everything due by then.
                    for a in &w.armings {
                        assert!(
                            a.withdrawn || a.fired || a.deadline > until,
                            "a timer due {:?} before the clock was not fired",
                            until - a.deadline
                        );
                    }
                }
            }
        }
        w.collect();
    }

    // Fire order: when a timer fires, no timer armed before that with a smaller
    // (deadline, arming order) may fire after it.
    for (k, &x) in w.order.iter().enumerate() {
        let ax = w.armings[x];
        for &y in &w.order[k + 1..] {
            let ay = w.armings[y];
            assert!(
                !(ay.seq < ax.fired_seq && (ay.deadline, ay.seq) < (ax.deadline, ax.seq)),
                "timers fired out of (deadline, arming) order"
            );
        }
    }
    drop(w.slots);
    assert_eq!(h.stats().timers_armed, 0, "a timer outlived its sleep");
});
