//! Task errors (seed 003's `_step` throwing into the coroutine): an error value reaches the
//! JoinHandle, and with std a panicking task is reported as JoinError::Panicked while the
//! loop keeps running the others.

use readyloop::{gather, JoinError, Loop, ReadFd};
use std::cell::Cell;
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

mod common;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn an_error_value_reaches_the_join_handle() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let task = h.spawn(async { Err::<u8, _>("could not parse") });
    assert_eq!(lp.block_on(task).unwrap(), Err("could not parse"));
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let literal = h.spawn(async {
        panic!("plain message");
    });
    let formatted = h.spawn(async {
        let n = 42;
        if n == 42 {
            panic!("formatted {n}");
        }
    });
    let e: JoinError = lp.block_on(literal).unwrap_err();
    assert!(e.is_panic() && !e.is_cancelled());
    assert_eq!(e.panic_message(), Some("plain message"));
    assert_eq!(e.to_string(), "task panicked: plain message");
    assert!(matches!(e, JoinError::Panicked(_)));
    let e = lp.block_on(formatted).unwrap_err();
    assert_eq!(e.panic_message(), Some("formatted 42"));
}

#[test]
fn the_loop_keeps_running_the_others_after_a_panic() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (reader, writer) = UnixStream::pair().unwrap();
    reader.set_nonblocking(true).unwrap();
    let ticks = Rc::new(Cell::new(0));

    // A ticker on a timer, a reader parked on a socket, and a task that panics midway.
    let ticker = h.spawn({
        let (h, ticks) = (h.clone(), ticks.clone());
        async move {
            for _ in 0..10 {
                h.sleep(ms(2)).await;
                ticks.set(ticks.get() + 1);
            }
        }
    });
    let read = h.spawn({
        let h = h.clone();
        async move {
            let mut buf = [0u8; 16];
            let n = ReadFd::new(&h, reader.as_fd(), &mut buf).await.unwrap();
            buf[..n].to_vec()
        }
    });
    let panicker = h.spawn({
        let h = h.clone();
        async move {
            h.sleep(ms(5)).await;
            panic!("midway");
        }
    });
    let (t, r, p) = lp.block_on(async {
        let out = gather((ticker, read, panicker, async {
            h.sleep(ms(15)).await;
            (&writer).write_all(b"after").unwrap();
        }))
        .await;
        (out.0, out.1, out.2)
    });
    t.unwrap();
    assert_eq!(ticks.get(), 10);
    assert_eq!(r.unwrap(), b"after");
    assert_eq!(p.unwrap_err().panic_message(), Some("midway"));
    // And a task spawned afterwards still runs.
    assert_eq!(lp.block_on(h.spawn(async { 5 })).unwrap(), 5);
    assert_eq!(h.stats().tasks_alive, 0);
}

#[test]
fn a_detached_panicking_task_does_not_disturb_the_loop() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    drop(h.spawn(async { panic!("nobody is listening") }));
    let out = lp.block_on(async {
        h.sleep(common::scaled(ms(5))).await;
        "still here"
    });
    assert_eq!(out, "still here");
    assert_eq!(h.stats().tasks_alive, 0);
}
