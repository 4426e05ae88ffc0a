//! Fuzzes `readyloop::sync::Queue` on a real loop: arbitrary sequences of put_nowait,
//! get_nowait, put and get (as tasks), cancellation (abort) of any of those tasks,
//! task_done, join and loop turns.
//!
//! Checked after every step: the queue never holds more than maxsize items, `unfinished`
//! matches the model (items accepted minus successful task_done), and task_done fails
//! exactly when nothing is unfinished. Checked at the end, once the loop has settled: no
//! getter waits while items are queued and no putter waits while there is room (no lost
//! wakeup), every item accepted is received exactly once or still queued (nothing lost or
//! duplicated, whatever was cancelled), and joiners finish once everything is done.
//! Leaks and use-after-free are the sanitizer's to find.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use readyloop::sync::Queue;
use readyloop::{yield_now, JoinHandle, Loop};
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Arbitrary, Debug)]
enum Op {
    PutNowait,
    GetNowait,
    Put,
    Get,
    Join,
    Cancel(u8),
    TaskDone,
    Turn,
}

#[derive(Arbitrary, Debug)]
struct Input {
    maxsize: u8,
    ops: Vec<Op>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Put,
    Get,
    Join,
}

#[derive(Default)]
struct Log {
    accepted: Vec<u32>,
    received: Vec<u32>,
}

fn turn(lp: &Loop) {
    lp.block_on(yield_now());
}

/// Runs turns until two in a row poll no task.
fn settle(lp: &Loop) {
    let h = lp.handle();
    let mut idle = 0;
    for _ in 0..100_000 {
        let before = (h.stats().task_polls, h.stats().tasks_alive);
        turn(lp);
        let after = (h.stats().task_polls, h.stats().tasks_alive);
        idle = if after == before { idle + 1 } else { 0 };
        if idle == 2 {
            return;
        }
    }
    panic!("the loop never settled");
}

fuzz_target!(|input: Input| {
    let maxsize = usize::from(input.maxsize % 5); // 0 = unbounded
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let q: Queue<u32> = Queue::new(maxsize);
    let log = Rc::new(RefCell::new(Log::default()));
    let mut tasks: Vec<(Kind, JoinHandle<()>)> = Vec::new();
    let mut next_item = 0u32;
    let mut done_ok = 0usize;

    for op in input.ops.iter().take(512) {
        match op {
            Op::PutNowait => {
                next_item += 1;
                match q.put_nowait(next_item) {
                    Ok(()) => log.borrow_mut().accepted.push(next_item),
                    Err(full) => assert_eq!(full.0, next_item, "the refused item comes back"),
                }
            }
            Op::GetNowait => {
                if let Ok(item) = q.get_nowait() {
                    log.borrow_mut().received.push(item);
                }
            }
            Op::Put => {
                next_item += 1;
                let (q, log, item) = (q.clone(), log.clone(), next_item);
                tasks.push((
                    Kind::Put,
                    h.spawn(async move {
                        q.put(item).await;
                        log.borrow_mut().accepted.push(item);
                    }),
                ));
            }
            Op::Get => {
                let (q, log) = (q.clone(), log.clone());
                tasks.push((
                    Kind::Get,
                    h.spawn(async move {
                        let item = q.get().await;
                        log.borrow_mut().received.push(item);
                    }),
                ));
            }
            Op::Join => {
                let q = q.clone();
                tasks.push((Kind::Join, h.spawn(async move { q.join().await })));
            }
            Op::Cancel(i) => {
                if !tasks.is_empty() {
                    let (_, task) = tasks.remove(usize::from(*i) % tasks.len());
                    task.abort();
                }
            }
            Op::TaskDone => {
                let unfinished = log.borrow().accepted.len() - done_ok;
                match q.task_done() {
                    Ok(()) => {
                        assert!(unfinished > 0, "task_done accepted with nothing unfinished");
                        done_ok += 1;
                    }
                    Err(_) => assert_eq!(unfinished, 0, "task_done refused with work unfinished"),
                }
            }
            Op::Turn => turn(&lp),
        }
        if maxsize > 0 {
            assert!(
                q.len() <= maxsize,
                "{} items in a queue of {maxsize}",
                q.len()
            );
        }
        assert_eq!(q.unfinished(), log.borrow().accepted.len() - done_ok);
    }

    // Let every hand-off play out, then no waiter may be stuck next to what it waits for.
    settle(&lp);
    tasks.retain(|(_, t)| !t.is_finished());
    let waiting = |kind| tasks.iter().filter(|(k, _)| *k == kind).count();
    if !q.is_empty() {
        assert_eq!(
            waiting(Kind::Get),
            0,
            "a getter waits while {} items are queued",
            q.len()
        );
    }
    if maxsize == 0 || q.len() < maxsize {
        assert_eq!(waiting(Kind::Put), 0, "a putter waits while there is room");
    }

    // Cancel whatever still waits, settle, and take what is left: each accepted item must be
    // received exactly once in all.
    for (_, t) in &tasks {
        t.abort();
    }
    settle(&lp);
    while let Ok(item) = q.get_nowait() {
        log.borrow_mut().received.push(item);
    }
    let log = log.borrow();
    let mut accepted = log.accepted.clone();
    let mut received = log.received.clone();
    accepted.sort_unstable();
    received.sort_unstable();
    assert_eq!(accepted, received, "items lost or duplicated");

    // Joiners finish once every accepted item is marked done.
    let joiners: Vec<_> = (0..2).map(|_| h.spawn(q.join())).collect();
    while q.task_done().is_ok() {}
    settle(&lp);
    assert!(
        joiners.iter().all(|j| j.is_finished()),
        "a joiner missed the last task_done"
    );
    assert_eq!(h.stats().tasks_alive, 0);
});
