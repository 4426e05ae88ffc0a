//! wait(tasks, ReturnWhen, timeout) -> (done, pending), as seed 003 builds it.

use readyloop::{wait, Handle, JoinHandle, Loop, ReturnWhen};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

mod common;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Seed 003's slow_task: sleeps `n` units of 20 ms (stretched under valgrind, so the
/// finishing order is not left to how fast the tasks start), then records that it finished.
fn slow_task(h: &Handle, n: u64, log: &Rc<RefCell<Vec<u64>>>) -> JoinHandle<()> {
    let (h2, log) = (h.clone(), log.clone());
    h.spawn(async move {
        h2.sleep(common::scaled(ms(n * 20))).await;
        log.borrow_mut().push(n);
    })
}

#[test]
fn all_completed_like_seed_003() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(RefCell::new(Vec::new()));
    // Seed 003 sleeps 2 and 1 units; 6 here, so the 100 ms between the two finishes outlasts
    // a loaded machine's stall (within one turn `wait` sees them in input order).
    let tasks = vec![slow_task(&h, 6, &log), slow_task(&h, 1, &log)];
    let start = Instant::now();
    let (done, pending) = lp.block_on(lp.handle().wait(tasks, ReturnWhen::AllCompleted, None));
    assert!(start.elapsed() >= common::scaled(ms(120)));
    assert_eq!(*log.borrow(), vec![1, 6], "printed as they finish");
    assert!(pending.is_empty());
    // `done` is in finishing order and remembers the input position.
    let order: Vec<usize> = done.iter().map(|f| f.index()).collect();
    assert_eq!(order, vec![1, 0]);
    for f in done {
        assert!(f.result().is_ok());
    }
}

#[test]
fn first_completed_leaves_the_others_running() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(RefCell::new(Vec::new()));
    let tasks = vec![slow_task(&h, 1, &log), slow_task(&h, 3, &log)];
    let (done, pending) = lp.block_on(h.wait(tasks, ReturnWhen::FirstCompleted, None));
    assert_eq!((done.len(), pending.len()), (1, 1));
    assert_eq!(done[0].index(), 0);
    // The pending one is a live handle: it still finishes.
    let rest = pending.into_iter().next().unwrap();
    lp.block_on(rest).unwrap();
    assert_eq!(*log.borrow(), vec![1, 3]);
}

#[test]
fn first_error_returns_at_the_failure() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let spawn = |delay: u64, r: Result<u8, &'static str>| {
        let h2 = h.clone();
        h.spawn(async move {
            h2.sleep(ms(delay)).await;
            r
        })
    };
    let tasks = vec![
        spawn(5, Ok(1)),
        spawn(20, Err("broken")),
        spawn(5_000, Ok(3)),
    ];
    let start = Instant::now();
    let (done, pending) = lp.block_on(h.wait(tasks, ReturnWhen::FirstError, None));
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!((done.len(), pending.len()), (2, 1));
    let failed: Vec<_> = done
        .iter()
        .filter(|f| matches!(f.result(), Ok(Err(_))))
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].index(), 1);
    for t in pending {
        t.abort();
    }
    // Without a failure, FirstError waits for all.
    let tasks = vec![spawn(5, Ok(1)), spawn(10, Ok(2))];
    let (done, pending) = lp.block_on(h.wait(tasks, ReturnWhen::FirstError, None));
    assert_eq!((done.len(), pending.len()), (2, 0));
}

#[test]
fn first_error_counts_a_panicking_task() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let h2 = h.clone();
    let tasks: Vec<JoinHandle<()>> = vec![
        h.spawn(async move {
            h2.sleep(ms(5)).await;
            panic!("task blew up");
        }),
        {
            let h3 = h.clone();
            h.spawn(async move { h3.sleep(ms(5_000)).await })
        },
    ];
    let (done, pending) = lp.block_on(h.wait(tasks, ReturnWhen::FirstError, None));
    assert_eq!((done.len(), pending.len()), (1, 1));
    let err = done.into_iter().next().unwrap().into_result().unwrap_err();
    assert_eq!(err.panic_message(), Some("task blew up"));
    pending[0].abort();
}

#[test]
fn timeout_returns_pending_tasks_and_disarms_its_timer() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(RefCell::new(Vec::new()));
    let tasks = vec![slow_task(&h, 1, &log), slow_task(&h, 100, &log)];
    let start = Instant::now();
    let limit = common::scaled(ms(60));
    let (done, pending) = lp.block_on(h.wait(tasks, ReturnWhen::AllCompleted, Some(limit)));
    let el = start.elapsed();
    assert!(el >= limit, "never early: {el:?}");
    assert!(el < common::scaled(Duration::from_secs(1)), "{el:?}");
    assert_eq!((done.len(), pending.len()), (1, 1));
    // Only the pending task's own sleep is armed; the wait's timer is gone.
    assert_eq!(h.stats().timers_armed, 1);
    for t in pending {
        t.abort();
    }
    lp.block_on(readyloop::yield_now());
    lp.block_on(readyloop::yield_now());
    assert_eq!(h.stats().timers_armed, 0);
}

#[test]
fn empty_list_returns_at_once() {
    let lp = Loop::new().unwrap();
    let (done, pending) = lp.block_on(lp.handle().wait(
        Vec::<JoinHandle<()>>::new(),
        ReturnWhen::AllCompleted,
        Some(ms(5_000)),
    ));
    assert!(done.is_empty() && pending.is_empty());
}

#[test]
fn awaiting_a_finished_gives_the_output() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let tasks = vec![h.spawn(async { 7 }), h.spawn(async { 8 })];
    let total = lp.block_on(async {
        let (done, _) = wait(tasks, ReturnWhen::AllCompleted, None).await;
        let mut total = 0;
        for f in done {
            total += f.await.unwrap();
        }
        total
    });
    assert_eq!(total, 15);
}
