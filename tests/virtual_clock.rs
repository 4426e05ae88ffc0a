//! The virtual clock: timers fire in virtual time that jumps ahead when every task waits
//! only on timers, while fds keep real time.

use core::future::poll_fn;
use core::task::{Poll, Waker};
use readyloop::{AsyncRecv, Loop};
use std::cell::RefCell;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

mod common;

/// An hour of timeouts runs in well under a second, never early in virtual time, while a
/// real socket round trip (with a peer that answers after 50 ms of real time) still works.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket non-blocking (ioctl)")]
fn an_hour_of_timeouts_in_milliseconds_with_a_real_socket() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let start_virtual = h.now();
    let start_real = Instant::now();

    // 60 tickers, each sleeping a minute sixty times: an hour of virtual time.
    let tickers: Vec<_> = (0..60)
        .map(|i| {
            let h2 = h.clone();
            h.spawn(async move {
                let mut late = Duration::ZERO;
                for _ in 0..60 {
                    let before = h2.now();
                    h2.sleep(Duration::from_secs(60) + Duration::from_millis(i))
                        .await;
                    let slept = h2.now() - before;
                    assert!(slept >= Duration::from_secs(60), "early: {slept:?}");
                    late = late.max(slept);
                }
                late
            })
        })
        .collect();

    // Meanwhile a real round trip: the peer thread answers after 50 ms of real time.
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let peer = std::thread::spawn(move || {
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        b.write_all(b"pong").unwrap();
    });
    let echo = h.spawn({
        let h = h.clone();
        async move {
            (&a).write_all(b"ping").unwrap();
            let real = Instant::now();
            let mut buf = [0u8; 4];
            let n = AsyncRecv::new(&h, a.as_fd(), &mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"pong");
            real.elapsed()
        }
    });

    let (round_trip, latest) = lp.block_on(async {
        let rt = echo.await.unwrap();
        let mut latest = Duration::ZERO;
        for t in tickers {
            latest = latest.max(t.await.unwrap());
        }
        (rt, latest)
    });
    peer.join().unwrap();
    let virtual_elapsed = h.now() - start_virtual;
    let real_elapsed = start_real.elapsed();
    assert!(round_trip >= Duration::from_millis(50), "{round_trip:?}");
    assert!(
        virtual_elapsed >= Duration::from_secs(3600),
        "{virtual_elapsed:?}"
    );
    assert!(latest >= Duration::from_secs(60));
    assert!(
        real_elapsed < common::scaled(Duration::from_secs(1)),
        "{real_elapsed:?}"
    );
    let s = h.stats();
    assert!(s.clock_jumps >= 60, "{s:?}");
    assert!(s.time_skipped >= Duration::from_secs(3599), "{s:?}");
}

/// One task, 3600 sleeps of one second: one virtual hour.
#[test]
#[cfg_attr(miri, ignore = "3600 turns take minutes under Miri")]
fn one_virtual_hour() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let real = Instant::now();
    let start = h.now();
    lp.block_on(async {
        for _ in 0..3600 {
            h.sleep(Duration::from_secs(1)).await;
        }
    });
    let elapsed = h.now() - start;
    assert!(elapsed >= Duration::from_secs(3600), "{elapsed:?}");
    // Past the hour by the real time the turns took.
    assert!(
        elapsed < Duration::from_secs(3600) + common::scaled(Duration::from_secs(1)),
        "{elapsed:?}"
    );
    assert!(
        real.elapsed() < common::scaled(Duration::from_secs(1)),
        "{:?}",
        real.elapsed()
    );
}

/// Timers fire in deadline order in virtual time, FIFO among equal deadlines.
#[test]
fn order_is_kept() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let order = Rc::new(RefCell::new(Vec::new()));
    let base = h.now();
    for (i, secs) in [(0, 30u64), (1, 10), (2, 20), (3, 10), (4, 5)] {
        let h2 = h.clone();
        let order = order.clone();
        h.spawn(async move {
            h2.sleep_until(base + Duration::from_secs(secs)).await;
            order.borrow_mut().push(i);
        });
    }
    lp.block_on(h.sleep(Duration::from_secs(31)));
    assert_eq!(*order.borrow(), vec![4, 1, 3, 2, 0]);
}

/// No jump while any task waits on an fd: a sleep then takes real time.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket non-blocking (ioctl)")]
fn fd_wait_keeps_real_time() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let (a, _b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let _waiter = h.spawn({
        let h = h.clone();
        async move {
            let mut buf = [0u8; 1];
            let _ = AsyncRecv::new(&h, a.as_fd(), &mut buf).await;
        }
    });
    let real = Instant::now();
    lp.block_on(h.sleep(Duration::from_millis(100)));
    assert!(real.elapsed() >= Duration::from_millis(100));
    assert_eq!(h.stats().clock_jumps, 0);
}

/// A `ClockHold` (another thread may wake a task) keeps real time; when it is dropped the
/// loop notices and jumps.
#[test]
fn hold_keeps_real_time_until_dropped() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let hold = h.hold_virtual_clock();
    // Started before the worker: the worker may run its 80 ms before spawn returns.
    let real = Instant::now();
    let worker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(80));
        drop(hold);
    });
    lp.block_on(h.sleep(Duration::from_secs(3600)));
    let took = real.elapsed();
    worker.join().unwrap();
    assert!(took >= Duration::from_millis(80), "{took:?}");
    assert!(took < common::scaled(Duration::from_secs(5)), "{took:?}");
    assert_eq!(h.stats().clock_jumps, 1);
}

/// A task woken from another thread (with a hold while the thread has its waker) is seen
/// in time, and virtual time does not run past it.
#[test]
fn cross_thread_wake_with_hold() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let hold = h.hold_virtual_clock();
    let (tx, rx) = std::sync::mpsc::channel::<Waker>();
    let t = std::thread::spawn(move || {
        let w = rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        w.wake();
        drop(hold);
    });
    let h2 = h.clone();
    let ticker = h.spawn(async move {
        let start = h2.now();
        h2.sleep(Duration::from_secs(10)).await;
        h2.now() - start
    });
    let mut sent = Some(tx);
    let base = h.now();
    let woke_at = lp.block_on(poll_fn(|cx| match sent.take() {
        Some(tx) => {
            tx.send(cx.waker().clone()).unwrap();
            Poll::Pending
        }
        None => Poll::Ready(h.now()),
    }));
    t.join().unwrap();
    let slept = lp.block_on(ticker).unwrap();
    assert!(slept >= Duration::from_secs(10));
    // The wake came after ~20 ms of real time: virtual time had not jumped to the ticker's
    // 10 s meanwhile (valgrind may take a few real seconds to get there).
    assert!(
        woke_at - base < common::sized(Duration::from_secs(1), Duration::from_secs(5)),
        "{:?}",
        woke_at - base
    );
    assert_eq!(h.stats().clock_jumps, 1);
}

/// `block_on_timeout` with a virtual clock: a future stuck on something only timers could
/// end reaches its (virtual) deadline at once and reports what was pending.
#[test]
fn block_on_timeout_in_virtual_time() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let _slow = h.spawn_named("slow", {
        let h = h.clone();
        async move { h.sleep(Duration::from_secs(7200)).await }
    });
    let real = Instant::now();
    let stuck = lp
        .block_on_timeout(Duration::from_secs(3600), core::future::pending::<()>())
        .unwrap_err();
    assert!(real.elapsed() < common::scaled(Duration::from_secs(1)));
    let text = stuck.to_string();
    // The hour left of the two, give or take the real time between arming the timeout and
    // the sleep: under a millisecond (it shows as 3600.000), up to 0.1 s under valgrind.
    let due: f64 = text
        .split("task 1 (slow) waiting on timer due in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|secs| secs.parse().ok())
        .unwrap_or_else(|| panic!("no due time for task 1 in {text}"));
    let late = common::sized(0.0005, 0.1);
    assert!((3599.9..3600.0 + late).contains(&due), "{text}");
}

/// `Handle::now` follows the virtual clock and never goes backwards.
#[test]
fn now_follows_virtual_clock() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let a = h.now();
    lp.block_on(h.sleep(Duration::from_secs(86_400)));
    let b = h.now();
    assert!(b - a >= Duration::from_secs(86_400));
    let c = h.now();
    assert!(c >= b);
}

/// `spawn_blocking` holds the virtual clock while its job runs: a sleep racing a blocking job
/// does not jump ahead of it.
#[test]
fn spawn_blocking_holds_the_clock() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let start = h.now();
    let (job_done_at, sleep_done_at) = lp.block_on(async {
        let sleeper = h.spawn({
            let h = h.clone();
            async move {
                h.sleep(Duration::from_secs(3600)).await;
                h.now()
            }
        });
        h.spawn_blocking(|| std::thread::sleep(Duration::from_millis(50)))
            .await
            .unwrap();
        let job_done_at = h.now();
        (job_done_at, sleeper.await.unwrap())
    });
    // The job ended after ~50 ms of real (and virtual) time, long before the hour.
    assert!(
        job_done_at - start < Duration::from_secs(60),
        "{:?}",
        job_done_at - start
    );
    assert!(sleep_done_at - start >= Duration::from_secs(3600));
}

/// `timeout` and `wait` made inside a virtual-clock loop take their deadlines from that
/// clock: after an hour of skipped time, a 10 s timeout around a 1 s sleep still succeeds.
#[test]
fn free_timeout_and_wait_follow_the_virtual_clock() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    lp.block_on(h.sleep(Duration::from_secs(3600)));
    let out = lp.block_on(async {
        readyloop::timeout(Duration::from_secs(10), h.sleep(Duration::from_secs(1))).await
    });
    assert!(out.is_ok(), "the timeout must not fire at once");
    let (done, pending) = lp.block_on(async {
        let t = h.spawn({
            let h = h.clone();
            async move { h.sleep(Duration::from_secs(1)).await }
        });
        readyloop::wait(
            vec![t],
            readyloop::ReturnWhen::AllCompleted,
            Some(Duration::from_secs(10)),
        )
        .await
    });
    assert_eq!((done.len(), pending.len()), (1, 0));
}
