//! Event, Semaphore and Mutex: waking, FIFO order, and hand-offs that survive cancellation.

use readyloop::sync::{Event, Mutex, Semaphore};
use readyloop::{yield_now, Loop};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

fn turn(lp: &Loop) {
    lp.block_on(yield_now());
}

#[test]
fn event_set_wakes_every_waiter() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let ev = Event::new();
    let woke = Rc::new(Cell::new(0));
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let (ev, woke) = (ev.clone(), woke.clone());
            h.spawn(async move {
                ev.wait().await;
                woke.set(woke.get() + 1);
            })
        })
        .collect();
    turn(&lp);
    assert_eq!(woke.get(), 0);
    ev.set();
    // Cleared before the waiters run: they were woken by the set and still return.
    ev.clear();
    for t in tasks {
        lp.block_on(t).unwrap();
    }
    assert_eq!(woke.get(), 3);
    assert!(!ev.is_set());
    // Once set, wait returns at once.
    ev.set();
    lp.block_on(ev.wait());
}

#[test]
fn event_waiter_can_be_dropped() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let ev = Event::new();
    let t = h.spawn({
        let ev = ev.clone();
        async move { ev.wait().await }
    });
    turn(&lp);
    t.abort();
    turn(&lp);
    ev.set();
    assert!(lp.block_on(t).unwrap_err().is_cancelled());
}

#[test]
fn semaphore_limits_and_serves_in_fifo_order() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let sem = Semaphore::new(2);
    let order = Rc::new(RefCell::new(Vec::new()));
    let (now, peak) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let (sem, order, now, peak, h2) = (
                sem.clone(),
                order.clone(),
                now.clone(),
                peak.clone(),
                h.clone(),
            );
            h.spawn(async move {
                let _permit = sem.acquire().await;
                order.borrow_mut().push(n);
                now.set(now.get() + 1);
                peak.set(peak.get().max(now.get()));
                h2.sleep(Duration::from_millis(3)).await;
                now.set(now.get() - 1);
            })
        })
        .collect();
    for t in tasks {
        lp.block_on(t).unwrap();
    }
    assert_eq!(peak.get(), 2);
    assert_eq!(*order.borrow(), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn semaphore_permit_handed_to_a_cancelled_waiter_passes_on() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let got = Rc::new(Cell::new(false));
    let first = h.spawn({
        let sem = sem.clone();
        async move {
            let _p = sem.acquire().await;
        }
    });
    let second = h.spawn({
        let (sem, got) = (sem.clone(), got.clone());
        async move {
            let _p = sem.acquire().await;
            got.set(true);
        }
    });
    turn(&lp);
    // The permit goes to `first`, which is cancelled before it runs.
    drop(held);
    first.abort();
    lp.block_on(second).unwrap();
    assert!(got.get(), "the permit reached the next waiter");
    assert_eq!(sem.available_permits(), 1, "no permit lost or made up");
    assert!(lp.block_on(first).unwrap_err().is_cancelled());
}

#[test]
fn semaphore_permit_returns_to_the_count_when_no_one_else_waits() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let waiter = h.spawn({
        let sem = sem.clone();
        async move {
            let _p = sem.acquire().await;
        }
    });
    turn(&lp);
    drop(held);
    waiter.abort();
    turn(&lp);
    turn(&lp);
    assert_eq!(sem.available_permits(), 1);
    assert!(!sem.locked());
}

#[test]
fn mutex_excludes_across_await_in_fifo_order() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let m = Rc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..4)
        .map(|n| {
            let (m, h2) = (m.clone(), h.clone());
            h.spawn(async move {
                let mut g = m.lock().await;
                g.push(n);
                h2.sleep(Duration::from_millis(2)).await;
                g.push(n);
            })
        })
        .collect();
    for t in tasks {
        lp.block_on(t).unwrap();
    }
    let m = Rc::try_unwrap(m).unwrap();
    assert!(!m.is_locked());
    assert_eq!(m.into_inner(), vec![0, 0, 1, 1, 2, 2, 3, 3]);
}

#[test]
fn mutex_handed_to_a_cancelled_waiter_passes_on() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let m = Rc::new(Mutex::new(0));
    let guard = m.try_lock().unwrap();
    let first = h.spawn({
        let m = m.clone();
        async move {
            *m.lock().await += 1;
        }
    });
    let second = h.spawn({
        let m = m.clone();
        async move {
            *m.lock().await += 10;
        }
    });
    turn(&lp);
    drop(guard);
    first.abort();
    lp.block_on(second).unwrap();
    assert!(!m.is_locked(), "the lock is not left held by nobody");
    assert_eq!(*m.try_lock().unwrap(), 10);
    // And with nobody else waiting, the lock is simply released.
    let guard = m.try_lock().unwrap();
    let lone = h.spawn({
        let m = m.clone();
        async move {
            *m.lock().await += 100;
        }
    });
    turn(&lp);
    drop(guard);
    lone.abort();
    turn(&lp);
    turn(&lp);
    assert!(!m.is_locked());
}

/// `Permit::forget` keeps the permit taken for good, and frees what the permit held: under
/// valgrind (.ci/checks/60-valgrind.sh) a leaked semaphore fails this test.
#[test]
fn a_forgotten_permit_stays_taken_and_leaks_nothing() {
    let sem = readyloop::sync::Semaphore::new(2);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
    let p = sem.try_acquire().unwrap();
    assert!(sem.try_acquire().is_none());
    drop(p);
    assert_eq!(sem.available_permits(), 1);
}
