//! Queue: FIFO, bounded waits, task_done/join, and cancellation that loses and duplicates
//! nothing (the property test over random interleavings is integration/tests/queue_props.rs).

use readyloop::sync::Queue;
use readyloop::{yield_now, Loop};
use std::time::Duration;

fn turn(lp: &Loop) {
    lp.block_on(yield_now());
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
