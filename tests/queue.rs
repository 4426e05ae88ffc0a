//! Queue: FIFO, bounded waits, task_done/join, and cancellation that loses and duplicates
//! nothing (including a property test over random interleavings).

use proptest::prelude::*;
use readyloop::sync::Queue;
use readyloop::{yield_now, JoinHandle, Loop};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

fn turn(lp: &Loop) {
    lp.block_on(yield_now());
}

/// Runs turns until two in a row poll no task (every hand-off chain has played out; a turn
/// that only drops aborted tasks polls none but may wake others).
fn settle(lp: &Loop) {
    let h = lp.handle();
    let mut idle = 0;
    for _ in 0..10_000 {
        let before = (h.stats().task_polls, h.stats().tasks_alive);
        turn(lp);
        idle = if (h.stats().task_polls, h.stats().tasks_alive) == before {
            idle + 1
        } else {
            0
        };
        if idle == 2 {
            return;
        }
    }
    panic!("the loop never settled");
}

#[test]
fn fifo_and_nowait_errors() {
    let q = Queue::new(2);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let full = q.put_nowait(3).unwrap_err();
    assert_eq!(full.0, 3, "the item comes back");
    assert!(full.to_string().contains("full"));
    assert!(q.is_full());
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
    let empty = q.get_nowait().unwrap_err();
    assert!(empty.to_string().contains("empty"));
    assert_eq!(q.maxsize(), Some(2));
    assert_eq!(
        Queue::<u8>::new(0).maxsize(),
        None,
        "maxsize 0 is unbounded, as in asyncio"
    );
}

#[test]
fn bounded_put_waits_for_room() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let q = Queue::new(1);
    let producer = h.spawn({
        let q = q.clone();
        async move {
            for i in 0..5 {
                q.put(i).await;
            }
        }
    });
    let got = lp.block_on(async {
        let mut got = Vec::new();
        for _ in 0..5 {
            h.sleep(Duration::from_millis(1)).await;
            assert!(q.len() <= 1, "never above maxsize");
            got.push(q.get().await);
        }
        got
    });
    assert_eq!(got, vec![0, 1, 2, 3, 4]);
    lp.block_on(producer).unwrap();
}

#[test]
fn getters_are_served_in_arrival_order() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let q = Queue::unbounded();
    let getters: Vec<_> = (0..3)
        .map(|_| {
            let q = q.clone();
            h.spawn(async move { q.get().await })
        })
        .collect();
    turn(&lp);
    for i in 10..13 {
        q.put_nowait(i).unwrap();
    }
    let got: Vec<i32> = getters
        .into_iter()
        .map(|g| lp.block_on(g).unwrap())
        .collect();
    assert_eq!(got, vec![10, 11, 12]);
}

#[test]
fn task_done_and_join() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let q = Queue::unbounded();
    for i in 0..4 {
        q.put_nowait(i).unwrap();
    }
    let worker = h.spawn({
        let (q, h) = (q.clone(), h.clone());
        async move {
            loop {
                let _item = q.get().await;
                h.sleep(Duration::from_millis(2)).await;
                q.task_done().unwrap();
            }
        }
    });
    lp.block_on(q.join());
    assert_eq!(q.unfinished(), 0);
    assert!(
        q.task_done().is_err(),
        "one task_done too many is an error, not a panic"
    );
    worker.abort();
    turn(&lp);
}

#[test]
fn a_getter_cancelled_after_the_handoff_gives_the_item_back() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let q = Queue::unbounded();
    let getter = h.spawn({
        let q = q.clone();
        async move { q.get().await }
    });
    turn(&lp);
    q.put_nowait("precious").unwrap(); // handed to the waiting getter...
    getter.abort(); // ...which is cancelled before it runs
    turn(&lp);
    assert!(lp.block_on(getter).unwrap_err().is_cancelled());
    assert_eq!(
        q.get_nowait(),
        Ok("precious"),
        "the item went back to the queue"
    );
}

#[test]
fn a_cancelled_getter_passes_the_item_to_the_next_getter_in_order() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let q = Queue::unbounded();
    let spawn_getter = || {
        let q = q.clone();
        h.spawn(async move { q.get().await })
    };
    let (a, b) = (spawn_getter(), spawn_getter());
    turn(&lp);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap(); // a holds 1, b holds 2
    a.abort();
    let c = spawn_getter();
    // a's item goes to the next getter in line (c), while b keeps its own.
    assert_eq!(lp.block_on(b).unwrap(), 2);
    assert_eq!(lp.block_on(c).unwrap(), 1);
    assert!(q.is_empty());
}

#[test]
fn a_putter_cancelled_after_room_was_reserved_passes_the_room_on() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let spawn_putter = |v| {
        let q = q.clone();
        h.spawn(async move { q.put(v).await })
    };
    let (a, b) = (spawn_putter(1), spawn_putter(2));
    turn(&lp);
    assert_eq!(q.get_nowait(), Ok(0)); // room reserved for a...
    a.abort(); // ...which is cancelled: its item never enters
    lp.block_on(b).unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
    assert!(q.get_nowait().is_err());
    assert_eq!(q.unfinished(), 2, "items 0 and 2 were accepted, 1 was not");
}

#[derive(Clone, Debug)]
enum Op {
    SpawnGet,
    SpawnPut,
    PutNowait,
    GetNowait,
    AbortGetter(usize),
    AbortPutter(usize),
    Turn,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::SpawnGet),
        3 => Just(Op::SpawnPut),
        1 => Just(Op::PutNowait),
        1 => Just(Op::GetNowait),
        2 => any::<usize>().prop_map(Op::AbortGetter),
        2 => any::<usize>().prop_map(Op::AbortPutter),
        3 => Just(Op::Turn),
    ]
}

/// Runs `ops` against a queue with real tasks, then checks that the items accepted by the
/// queue are exactly the items received plus the items left, each once.
fn check(maxsize: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let q = Queue::<u32>::new(maxsize);
    let accepted = Rc::new(RefCell::new(Vec::new()));
    let received = Rc::new(RefCell::new(Vec::new()));
    let mut getters: Vec<JoinHandle<()>> = Vec::new();
    let mut putters: Vec<JoinHandle<()>> = Vec::new();
    let mut next = 0u32;
    for op in ops {
        match op {
            Op::SpawnGet => {
                let (q, received) = (q.clone(), received.clone());
                getters.push(h.spawn(async move {
                    let item = q.get().await;
                    received.borrow_mut().push(item);
                }));
            }
            Op::SpawnPut => {
                let (q, accepted, item) = (q.clone(), accepted.clone(), next);
                next += 1;
                putters.push(h.spawn(async move {
                    q.put(item).await;
                    accepted.borrow_mut().push(item);
                }));
            }
            Op::PutNowait => {
                if q.put_nowait(next).is_ok() {
                    accepted.borrow_mut().push(next);
                }
                next += 1;
            }
            Op::GetNowait => {
                if let Ok(item) = q.get_nowait() {
                    received.borrow_mut().push(item);
                }
            }
            Op::AbortGetter(i) if !getters.is_empty() => getters[i % getters.len()].abort(),
            Op::AbortPutter(i) if !putters.is_empty() => putters[i % putters.len()].abort(),
            Op::AbortGetter(_) | Op::AbortPutter(_) => {}
            Op::Turn => turn(&lp),
        }
    }
    // Let everything settle: then a putter may wait only if the queue is full, and a getter
    // only if it is empty (otherwise a hand-off was lost and a task is stuck).
    settle(&lp);
    let waiting_putters = putters.iter().filter(|t| !t.is_finished()).count();
    let waiting_getters = getters.iter().filter(|t| !t.is_finished()).count();
    if waiting_putters > 0 {
        prop_assert_eq!(
            Some(q.len()),
            q.maxsize(),
            "a putter is stuck while there is room"
        );
    }
    if waiting_getters > 0 {
        prop_assert!(q.is_empty(), "a getter is stuck while items wait");
    }
    // Cancel whatever still waits, and drain.
    for t in getters.iter().chain(&putters) {
        t.abort();
    }
    settle(&lp);
    prop_assert_eq!(h.stats().tasks_alive, 0);
    while let Ok(item) = q.get_nowait() {
        received.borrow_mut().push(item);
    }
    let received = received.borrow();
    let unique: BTreeSet<u32> = received.iter().copied().collect();
    prop_assert_eq!(
        unique.len(),
        received.len(),
        "an item was duplicated: {:?}",
        received
    );
    let accepted: BTreeSet<u32> = accepted.borrow().iter().copied().collect();
    prop_assert_eq!(unique, accepted, "an item was lost or made up");
    // No room was lost either: the empty queue takes exactly `maxsize` items again.
    if maxsize > 0 {
        for i in 0..maxsize {
            prop_assert!(q.put_nowait(i as u32).is_ok(), "room leaked");
        }
        prop_assert!(q.put_nowait(0).is_err());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_put_get_cancel_loses_and_duplicates_nothing(
        maxsize in 0usize..4,
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        check(maxsize, &ops)?;
    }
}
