//! `Sleep::reset` (and `Interval::reset`) on a sleep another poll is waiting on: the waiter
//! is woken at the new deadline, whether it moved earlier, later or into the past, whoever
//! moved it, and however often; on every backend and on the virtual clock.

use readyloop::{BackendKind, Handle, Loop, Sleep};
use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

mod common;

/// A sleep two tasks share: one awaits it, the other resets it.
type Shared = Rc<RefCell<Pin<Box<Sleep>>>>;

/// Every loop to run a case on: each backend on the real clock, and the virtual clock.
fn loops() -> Vec<(String, Loop)> {
    let mut out = Vec::new();
    for kind in [BackendKind::Poll, BackendKind::Select, BackendKind::Epoll] {
        out.push((
            format!("{kind:?}"),
            Loop::builder().backend(kind).build().unwrap(),
        ));
    }
    out.push((
        "virtual clock".into(),
        Loop::builder().virtual_clock().build().unwrap(),
    ));
    out
}

/// Awaits the shared sleep (borrowing it only inside each poll); returns when it woke.
fn waiter(h: &Handle, sleep: &Shared) -> readyloop::JoinHandle<readyloop::Instant> {
    let (h2, sleep) = (h.clone(), sleep.clone());
    h.spawn(async move {
        poll_fn(|cx| sleep.borrow_mut().as_mut().poll(cx)).await;
        h2.now()
    })
}

fn shared(h: &Handle, d: Duration) -> Shared {
    Rc::new(RefCell::new(Box::pin(h.sleep(d))))
}

/// Runs `case` on every loop, bounded: a waiter that is never woken fails the test with
/// the stuck report instead of hanging it.
fn on_every_loop(case: impl Fn(&Handle) -> Box<dyn Future<Output = ()>>) {
    for (name, lp) in loops() {
        let h = lp.handle();
        // A task, not the block_on future: the bound's own timer wakes that one.
        let task = h.spawn(Box::into_pin(case(&h)));
        match lp.block_on_timeout(common::scaled(Duration::from_secs(5)), task) {
            Ok(r) => r.unwrap(),
            Err(stuck) => panic!("{name}: {stuck}"),
        }
        assert_eq!(h.stats().timers_armed, 0, "{name}: a timer was left armed");
    }
}

#[test]
fn reset_earlier_from_another_task_wakes_the_waiter_at_the_new_deadline() {
    on_every_loop(|h| {
        let h = h.clone();
        Box::new(async move {
            let sleep = shared(&h, Duration::from_secs(3600));
            let waiter = waiter(&h, &sleep);
            readyloop::yield_now().await; // the waiter is now pending on the hour
            let sooner = h.now() + Duration::from_millis(20);
            sleep.borrow_mut().as_mut().reset(sooner);
            let woke = waiter.await.unwrap();
            assert!(woke >= sooner, "woke before the new deadline");
        })
    });
}

#[test]
fn reset_later_from_another_task_wakes_the_waiter_at_the_new_deadline_not_before() {
    on_every_loop(|h| {
        let h = h.clone();
        Box::new(async move {
            let sleep = shared(&h, Duration::from_millis(10));
            let waiter = waiter(&h, &sleep);
            readyloop::yield_now().await;
            let later = h.now() + Duration::from_millis(60);
            sleep.borrow_mut().as_mut().reset(later);
            let woke = waiter.await.unwrap();
            assert!(woke >= later, "woke at the old deadline");
        })
    });
}

#[test]
fn reset_to_the_past_wakes_the_waiter_at_once() {
    on_every_loop(|h| {
        let h = h.clone();
        Box::new(async move {
            let sleep = shared(&h, Duration::from_secs(3600));
            let waiter = waiter(&h, &sleep);
            readyloop::yield_now().await;
            let start = h.now();
            sleep
                .borrow_mut()
                .as_mut()
                .reset(readyloop::Instant::from_nanos(1));
            let woke = waiter.await.unwrap();
            assert!(woke - start < common::scaled(Duration::from_secs(1)));
        })
    });
}

#[test]
fn reset_many_times_in_a_row_keeps_the_last_deadline() {
    on_every_loop(|h| {
        let h = h.clone();
        Box::new(async move {
            let sleep = shared(&h, Duration::from_secs(3600));
            let waiter = waiter(&h, &sleep);
            readyloop::yield_now().await;
            let base = h.now();
            // Earlier, later, earlier...: 1000 resets, some between the waiter's polls.
            for i in 0..1000u64 {
                let d = if i % 2 == 0 { 3_600_000 - i } else { 1 + i % 7 };
                sleep
                    .borrow_mut()
                    .as_mut()
                    .reset(base + Duration::from_millis(d));
                if i % 100 == 0 {
                    readyloop::yield_now().await;
                }
            }
            let last = h.now() + Duration::from_millis(30);
            sleep.borrow_mut().as_mut().reset(last);
            let woke = waiter.await.unwrap();
            assert!(woke >= last, "woke before the last deadline");
            assert!(woke - last < common::scaled(Duration::from_secs(2)));
        })
    });
}

#[test]
fn reset_by_the_waiting_task_itself_through_a_shared_handle() {
    on_every_loop(|h| {
        let h = h.clone();
        Box::new(async move {
            let sleep = shared(&h, Duration::from_secs(3600));
            let other = sleep.clone();
            let mut polls = 0;
            let start = h.now();
            // The same task: it registers, then (through the other handle) moves the
            // deadline, then returns Pending without polling again.
            poll_fn(|cx| {
                polls += 1;
                let r = sleep.borrow_mut().as_mut().poll(cx);
                if polls == 1 {
                    assert!(r.is_pending());
                    other
                        .borrow_mut()
                        .as_mut()
                        .reset(start + Duration::from_millis(20));
                }
                r
            })
            .await;
            assert!(h.now() >= start + Duration::from_millis(20));
        })
    });
}

#[test]
fn interval_reset_from_another_task_wakes_the_ticker_one_period_later() {
    on_every_loop(|h| {
        let h = h.clone();
        Box::new(async move {
            // Scaled: under valgrind the 10 ms before the reset can outlast a 30 ms period,
            // and the ticker then rightly ticks on the old schedule.
            let period = common::scaled(Duration::from_millis(30));
            let every = Rc::new(RefCell::new(h.interval(period)));
            // The first tick is at once; the ticker then waits for the second.
            poll_fn(|cx| every.borrow_mut().poll_tick(cx)).await;
            let ticker = {
                let (every, h2) = (every.clone(), h.clone());
                h.spawn(async move {
                    poll_fn(|cx| every.borrow_mut().poll_tick(cx)).await;
                    h2.now()
                })
            };
            h.sleep(common::scaled(Duration::from_millis(10))).await;
            let reset_at = h.now();
            every.borrow_mut().reset();
            let woke = ticker.await.unwrap();
            assert!(woke >= reset_at + period, "ticked on the old schedule");
        })
    });
}

#[test]
fn timeout_reset_from_another_task_moves_the_deadline_for_its_waiter() {
    on_every_loop(|h| {
        let h = h.clone();
        Box::new(async move {
            // Earlier: an hour becomes 20 ms, and the waiter gets Elapsed at the new deadline.
            let t = Rc::new(RefCell::new(Box::pin(
                h.timeout(Duration::from_secs(3600), std::future::pending::<()>()),
            )));
            let waiter = {
                let (t, h2) = (t.clone(), h.clone());
                h.spawn(async move {
                    let r = poll_fn(|cx| t.borrow_mut().as_mut().poll(cx)).await;
                    (r, h2.now())
                })
            };
            readyloop::yield_now().await;
            let sooner = h.now() + Duration::from_millis(20);
            t.borrow_mut().as_mut().reset(sooner);
            let (r, woke) = waiter.await.unwrap();
            assert_eq!(r.unwrap_err().deadline(), sooner);
            assert!(woke >= sooner);
            // Later: a 10 ms timeout on a 40 ms job, moved to 1 s, lets the job finish.
            let job = {
                let h = h.clone();
                async move {
                    h.sleep(Duration::from_millis(40)).await;
                    7
                }
            };
            let t = Rc::new(RefCell::new(Box::pin(
                h.timeout(Duration::from_millis(10), job),
            )));
            let waiter = {
                let t = t.clone();
                h.spawn(async move { poll_fn(|cx| t.borrow_mut().as_mut().poll(cx)).await })
            };
            readyloop::yield_now().await;
            t.borrow_mut()
                .as_mut()
                .reset(h.now() + Duration::from_secs(1));
            assert_eq!(waiter.await.unwrap(), Ok(7));
        })
    });
}
