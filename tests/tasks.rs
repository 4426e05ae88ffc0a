//! Tasks: spawn, join, abort, detach, outputs dropped not leaked, run_forever/stop,
//! call_soon, and two loops on two threads.

use readyloop::{JoinError, Loop};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

mod common;

struct CountDrops(Rc<Cell<u32>>);
impl Drop for CountDrops {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn join_handle_returns_the_output() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let t = h.spawn(async { String::from("out") });
    assert_eq!(lp.block_on(t).unwrap(), "out");
    assert_eq!(h.stats().tasks_alive, 0);
}

#[test]
fn abort_cancels_a_sleeping_task_and_withdraws_its_timer() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let drops = Rc::new(Cell::new(0));
    let guard = CountDrops(drops.clone());
    let t = h.spawn({
        let h = h.clone();
        async move {
            let _guard = guard;
            h.sleep(Duration::from_secs(3600)).await;
        }
    });
    // Long enough that the task has run (and armed its timer) when this sleep ends.
    lp.block_on(h.sleep(common::scaled(Duration::from_millis(5))));
    assert_eq!(h.stats().timers_armed, 1);
    t.abort();
    let start = Instant::now();
    let r = lp.block_on(t);
    assert!(matches!(r, Err(JoinError::Cancelled)));
    assert!(start.elapsed() < common::scaled(Duration::from_millis(100)));
    assert_eq!(drops.get(), 1, "the future was dropped");
    assert_eq!(h.stats().timers_armed, 0);
    assert_eq!(h.stats().tasks_alive, 0);
}

#[test]
fn dropping_a_join_handle_detaches_and_the_output_is_dropped() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let drops = Rc::new(Cell::new(0));
    let ran = Rc::new(Cell::new(false));
    let (d, r, h2) = (drops.clone(), ran.clone(), h.clone());
    drop(h.spawn(async move {
        h2.sleep(Duration::from_millis(5)).await;
        r.set(true);
        CountDrops(d)
    }));
    // Both timers may fire in one turn on a slow machine; the yield lets the task run.
    lp.block_on(async {
        h.sleep(common::scaled(Duration::from_millis(30))).await;
        readyloop::yield_now().await;
    });
    assert!(ran.get(), "a detached task keeps running");
    assert_eq!(drops.get(), 1, "its output was dropped, not leaked");
}

#[test]
fn an_output_taken_late_or_never_is_dropped_exactly_once() {
    let drops = Rc::new(Cell::new(0));
    {
        let lp = Loop::new().unwrap();
        let h = lp.handle();
        let d = drops.clone();
        let t = h.spawn(async move { CountDrops(d) });
        // block_on polls its own future first: the sleep must outlast the spawned task's
        // first poll (longer under valgrind).
        lp.block_on(h.sleep(common::scaled(Duration::from_millis(1))));
        assert!(t.is_finished());
        assert_eq!(drops.get(), 0, "kept for the JoinHandle");
        drop(t);
        assert_eq!(drops.get(), 1);
        let d = drops.clone();
        let _kept = h.spawn(async move { CountDrops(d) });
        lp.block_on(h.sleep(common::scaled(Duration::from_millis(1))));
        // The loop is dropped while the JoinHandle still holds a finished output.
        drop(lp);
    }
    assert_eq!(drops.get(), 2);
}

#[test]
fn dropping_the_loop_cancels_pending_tasks() {
    let drops = Rc::new(Cell::new(0));
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let d = drops.clone();
    let h2 = h.clone();
    let t = h.spawn(async move {
        let _g = CountDrops(d);
        h2.sleep(Duration::from_secs(3600)).await;
    });
    lp.block_on(h.sleep(common::scaled(Duration::from_millis(1))));
    drop(lp);
    assert_eq!(drops.get(), 1);
    assert!(t.is_finished());
    // Spawning on a dropped loop gives a cancelled task, not a hang.
    let late = h.spawn(async { 1 });
    assert!(late.is_finished());
}

#[test]
fn abort_on_drop_cancels() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let h2 = h.clone();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let t = h
        .spawn(async move {
            h2.sleep(Duration::from_millis(5)).await;
            r.set(true);
        })
        .abort_on_drop();
    drop(t);
    lp.block_on(h.sleep(Duration::from_millis(20)));
    assert!(!ran.get());
    assert_eq!(h.stats().tasks_alive, 0);
}

#[test]
fn run_forever_until_stop_and_call_soon_in_order() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(RefCell::new(Vec::new()));
    for i in 0..3 {
        let log = log.clone();
        h.call_soon(move || log.borrow_mut().push(i));
    }
    let h2 = h.clone();
    h.spawn(async move {
        h2.sleep(Duration::from_millis(10)).await;
        h2.stop();
    });
    let start = Instant::now();
    lp.run_forever();
    assert!(start.elapsed() >= Duration::from_millis(10));
    assert_eq!(*log.borrow(), vec![0, 1, 2]);
    assert!(h.stats().callbacks >= 3);
}

#[test]
fn tasks_spawned_by_tasks_run() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let h2 = h.clone();
    let n = lp.block_on(async move {
        let mut sum = 0;
        for i in 0..100u64 {
            let h3 = h2.clone();
            sum += h2
                .spawn(async move { h3.spawn(async move { i }).await.unwrap() })
                .await
                .unwrap();
        }
        sum
    });
    assert_eq!(n, 4950);
    assert_eq!(h.stats().tasks_peak, 2);
}

#[test]
fn a_panicking_task_is_reported_and_the_loop_goes_on() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let bad = h.spawn(async { panic!("boom") });
    let good = h.spawn(async { 7 });
    let err = lp.block_on(bad).unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("boom"));
    assert_eq!(lp.block_on(good).unwrap(), 7);
}

#[test]
fn two_loops_in_two_threads_do_not_interfere() {
    let threads: Vec<_> = (0..2)
        .map(|k| {
            std::thread::spawn(move || {
                let lp = Loop::new().unwrap();
                let h = lp.handle();
                let start = Instant::now();
                let tasks: Vec<_> = (0..10)
                    .map(|i| {
                        let h2 = h.clone();
                        h.spawn(async move {
                            h2.sleep(Duration::from_millis(20 + 5 * k + i)).await;
                            i
                        })
                    })
                    .collect();
                let sum: u64 = lp.block_on(async {
                    let mut s = 0;
                    for t in tasks {
                        s += t.await.unwrap();
                    }
                    s
                });
                (sum, start.elapsed(), h.stats().tasks_peak)
            })
        })
        .collect();
    for t in threads {
        let (sum, took, peak) = t.join().unwrap();
        assert_eq!(sum, 45);
        assert_eq!(peak, 10, "each loop saw only its own tasks");
        assert!(took < Duration::from_millis(500));
    }
}
