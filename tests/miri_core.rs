//! The task, waker and wake-queue code without wall-clock timing, so it runs the same under
//! Miri (`.ci/checks/40-miri.sh`, epoll backend) as natively: every ordering here is forced
//! by `yield_now`, channels, or the virtual clock, never by how fast the machine is.

use core::future::poll_fn;
use core::task::{Poll, Waker};
use readyloop::{JoinError, Loop};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

/// Counts its drops.
struct CountDrops(Rc<Cell<u32>>);

impl Drop for CountDrops {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn dropping_the_loop_drops_pending_tasks_and_queued_wakes() {
    let drops = Rc::new(Cell::new(0));
    let (tx, rx) = mpsc::channel::<Waker>();
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let guard = CountDrops(drops.clone());
    let pending = h.spawn(poll_fn(move |cx| {
        let _keep = &guard;
        tx.send(cx.waker().clone()).unwrap();
        Poll::<()>::Pending
    }));
    lp.block_on(readyloop::yield_now());
    let waker = rx.recv().unwrap();
    waker.wake_by_ref(); // queued, never run
    drop(lp);
    assert_eq!(
        drops.get(),
        1,
        "the pending future was dropped with the loop"
    );
    assert!(pending.is_finished());
    // Wakes after the loop is gone, from this thread and another: no effect, no leak.
    waker.wake_by_ref();
    std::thread::spawn(move || waker.wake()).join().unwrap();
    assert!(
        h.spawn(async { 1 }).is_finished(),
        "spawn on a dropped loop is cancelled"
    );
}

#[test]
fn outputs_are_dropped_exactly_once() {
    let drops = Rc::new(Cell::new(0));
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let d = drops.clone();
    let taken = h.spawn(async move { CountDrops(d) });
    let out = lp.block_on(taken).unwrap();
    assert_eq!(drops.get(), 0);
    drop(out);
    assert_eq!(drops.get(), 1);
    let d = drops.clone();
    drop(h.spawn(async move { CountDrops(d) })); // detached: dropped when it finishes
    let d = drops.clone();
    let kept = h.spawn(async move { CountDrops(d) }); // finished, never taken
    lp.block_on(readyloop::yield_now());
    lp.block_on(readyloop::yield_now());
    assert_eq!(drops.get(), 2);
    drop(kept);
    assert_eq!(drops.get(), 3);
}

#[test]
fn abort_drops_the_future_and_wakes_the_joiner() {
    let drops = Rc::new(Cell::new(0));
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let guard = CountDrops(drops.clone());
    let h2 = h.clone();
    let t = h.spawn(async move {
        let _g = guard;
        h2.sleep(Duration::from_secs(3600)).await;
    });
    lp.block_on(readyloop::yield_now());
    assert_eq!(h.stats().timers_armed, 1);
    t.abort();
    assert!(matches!(lp.block_on(t), Err(JoinError::Cancelled)));
    assert_eq!(drops.get(), 1);
    assert_eq!(h.stats().timers_armed, 0);
}

#[test]
fn a_panicking_task_is_contained() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let bad = h.spawn(async { panic!("contained") });
    let good = h.spawn(async { 7 });
    assert!(lp.block_on(bad).unwrap_err().is_panic());
    assert_eq!(lp.block_on(good).unwrap(), 7);
}

#[test]
fn wakes_from_threads_are_not_lost() {
    const THREADS: usize = 3;
    const WAKES: usize = 20;
    let lp = Loop::new().unwrap();
    let (tx, rx) = mpsc::channel::<Waker>();
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (wtx, wrx) = mpsc::channel::<Waker>();
            let t = std::thread::spawn(move || {
                for _ in 0..WAKES {
                    wrx.recv().unwrap().wake();
                }
            });
            (wtx, t)
        })
        .collect();
    let senders: Vec<_> = workers.iter().map(|(s, _)| s.clone()).collect();
    // The main future counts its polls; each poll hands a waker to the next worker.
    let mut polls = 0;
    lp.block_on(poll_fn(|cx| {
        polls += 1;
        if polls > THREADS * WAKES {
            return Poll::Ready(());
        }
        senders[polls % THREADS].send(cx.waker().clone()).unwrap();
        Poll::Pending
    }));
    drop(senders);
    drop(tx);
    drop(rx);
    for (s, t) in workers {
        drop(s);
        t.join().unwrap();
    }
    assert_eq!(polls, THREADS * WAKES + 1);
}

#[test]
fn sleeps_fire_in_order_on_the_virtual_clock() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let order = Rc::new(std::cell::RefCell::new(Vec::new()));
    let base = h.now();
    for (i, secs) in [(0, 30u64), (1, 10), (2, 20), (3, 10)] {
        let (h2, order) = (h.clone(), order.clone());
        h.spawn(async move {
            h2.sleep_until(base + Duration::from_secs(secs)).await;
            order.borrow_mut().push(i);
        });
    }
    lp.block_on(h.sleep_until(base + Duration::from_secs(40)));
    assert_eq!(*order.borrow(), vec![1, 3, 2, 0]);
}
