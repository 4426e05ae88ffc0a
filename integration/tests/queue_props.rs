//! Queue under random interleavings of put, get, cancel and abort: nothing is lost or
//! duplicated, and no room leaks (proptest; a dev-dependency of this crate, so readyloop's
//! own examples never compile it).

use proptest::prelude::*;
use readyloop::sync::Queue;
use readyloop::{yield_now, JoinHandle, Loop};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// One turn of the loop: a `block_on` of a single yield.
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
