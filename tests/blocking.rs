//! spawn_blocking and resolve: work on helper threads that wake the loop when done, a
//! bounded per-loop pool, panics reported, and host lookups that never block the loop.

use readyloop::{spawn_blocking, ErrorKind, Loop};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn runs_off_the_loop_thread_while_the_loop_keeps_serving() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let ticks = Rc::new(Cell::new(0));
    let ticker = h.spawn({
        let (h, ticks) = (h.clone(), ticks.clone());
        async move {
            loop {
                h.sleep(ms(5)).await;
                ticks.set(ticks.get() + 1);
            }
        }
    });
    let loop_thread = std::thread::current().id();
    let (thread, name) = lp
        .block_on(h.spawn_blocking(|| {
            // Long enough for 5 ticks of 5 ms however slowly the loop runs (valgrind).
            std::thread::sleep(common::scaled(ms(100)));
            let me = std::thread::current();
            (me.id(), me.name().map(String::from))
        }))
        .unwrap();
    assert_ne!(thread, loop_thread);
    assert_eq!(name.as_deref(), Some("readyloop-pool"));
    assert!(
        ticks.get() >= 5,
        "the loop served its timers meanwhile: {} ticks",
        ticks.get()
    );
    ticker.abort();
}

#[test]
fn a_panicking_closure_is_reported_not_fatal() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let e = lp
        .block_on(h.spawn_blocking(|| -> u8 { panic!("helper gave up") }))
        .unwrap_err();
    assert_eq!(e.panic_message(), Some("helper gave up"));
    // The helper thread survived: the pool still works.
    assert_eq!(lp.block_on(h.spawn_blocking(|| 7)).unwrap(), 7);
}

#[test]
fn the_pool_is_bounded_and_queues_the_rest() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let jobs: Vec<_> = (0..10)
        .map(|i| {
            let (running, peak) = (running.clone(), peak.clone());
            h.spawn_blocking(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(ms(60));
                running.fetch_sub(1, Ordering::SeqCst);
                i
            })
        })
        .collect();
    let out: Vec<usize> = lp
        .block_on(readyloop::join_all(jobs))
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, (0..10).collect::<Vec<_>>());
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= readyloop::blocking::MAX_THREADS, "peak {peak}");
    assert!(peak >= 2, "jobs ran in parallel: peak {peak}");
    // 10 jobs of 60 ms on at most 4 threads: at least 3 rounds.
    assert!(start.elapsed() >= ms(180), "{:?}", start.elapsed());
}

#[test]
fn two_loops_in_two_threads_have_their_own_pools() {
    let run = || {
        std::thread::spawn(|| {
            let lp = Loop::new().unwrap();
            let h = lp.handle();
            let jobs: Vec<_> = (0..4)
                .map(|_| {
                    h.spawn_blocking(|| {
                        std::thread::sleep(ms(30));
                        format!("{:?}", std::thread::current().id())
                    })
                })
                .collect();
            lp.block_on(readyloop::join_all(jobs))
                .into_iter()
                .map(Result::unwrap)
                .collect::<BTreeSet<String>>()
        })
    };
    let (a, b) = (run(), run());
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert!(
        a.is_disjoint(&b),
        "the loops shared helper threads: {a:?} {b:?}"
    );
}

#[test]
fn dropping_the_loop_does_not_wait_for_helpers() {
    let lp = Loop::new().unwrap();
    let job = lp.handle().spawn_blocking(|| std::thread::sleep(ms(300)));
    drop(job);
    let start = Instant::now();
    drop(lp);
    assert!(start.elapsed() < ms(200));
}

#[test]
fn free_function_uses_the_current_loop() {
    let lp = Loop::new().unwrap();
    let n = lp.block_on(async { spawn_blocking(|| 40 + 2).await.unwrap() });
    assert_eq!(n, 42);
}

#[test]
fn resolve_localhost_and_literals() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let addrs = lp.block_on(h.resolve("localhost", 9527)).unwrap();
    assert!(!addrs.is_empty());
    assert!(
        addrs
            .iter()
            .all(|a| a.ip().is_loopback() && a.port() == 9527),
        "{addrs:?}"
    );
    let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
    assert_eq!(
        lp.block_on(lp.handle().resolve("127.0.0.1", 80)).unwrap(),
        vec![v4]
    );
    let v6: SocketAddr = "[::1]:443".parse().unwrap();
    assert_eq!(
        lp.block_on(lp.handle().resolve("::1", 443)).unwrap(),
        vec![v6]
    );
    assert_eq!(
        lp.block_on(lp.handle().resolve("[::1]", 443)).unwrap(),
        vec![v6]
    );
}

#[test]
fn bad_host_names_are_errors_not_panics() {
    let lp = Loop::new().unwrap();
    let e = lp.block_on(lp.handle().resolve("", 80)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = lp
        .block_on(lp.handle().resolve("bad\0name", 80))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    let e = lp
        .block_on(lp.handle().resolve(&"x".repeat(5000), 80))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

#[test]
fn an_unknown_name_is_an_error_and_the_loop_keeps_serving() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let ticks = Rc::new(Cell::new(0));
    let ticker = h.spawn({
        let (h, ticks) = (h.clone(), ticks.clone());
        async move {
            loop {
                h.sleep(ms(2)).await;
                ticks.set(ticks.get() + 1);
            }
        }
    });
    // `.invalid` never resolves (RFC 6761). Without DNS the resolver may take its own time:
    // a timeout is then an acceptable answer too; a hang or a panic is not.
    let r = lp.block_on(lp.handle().timeout(
        Duration::from_secs(30),
        lp.handle().resolve("no-such-host.invalid", 80),
    ));
    match r {
        Ok(Ok(addrs)) => panic!("resolved a .invalid name: {addrs:?}"),
        Ok(Err(e)) => assert!(!e.message().is_empty()),
        Err(_elapsed) => {}
    }
    lp.block_on(h.sleep(ms(10)));
    assert!(ticks.get() >= 1);
    ticker.abort();
}
