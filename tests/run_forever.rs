//! `run_forever`: it sleeps while idle (measured from /proc, not by timing), and
//! `Handle::stop` ends it promptly from a task, a callback or another thread (a signal:
//! `tests/signals.rs`), before and after a `block_on`, on every backend.
//!
//! Every run is bounded: the loop runs on its own thread and the test waits for it with a
//! deadline, so a loop that never returns fails the test instead of hanging it.

use readyloop::net::TcpListener;
use readyloop::{BackendKind, Handle, Loop};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

const BACKENDS: [BackendKind; 3] = [BackendKind::Poll, BackendKind::Select, BackendKind::Epoll];

/// Runs `f` on a new thread and returns its result, failing if it takes longer than
/// `limit` (the thread is then left behind, stuck; the test binary ends it).
fn bounded<T: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(common::scaled(limit)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the loop thread panicked"),
    }
}

/// CPU time (user + system) this thread has used, from /proc/thread-self/stat.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // Fields after the command name (which may hold spaces) start at field 3 (state);
    // utime and stime are fields 14 and 15, in USER_HZ ticks (100 per second on Linux).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|f| f.parse().unwrap())
        .collect();
    Duration::from_millis((fields[0] + fields[1]) * 10)
}

fn make(kind: BackendKind) -> Loop {
    Loop::builder().backend(kind).build().unwrap()
}

/// A daemon's idle state: a listener waiting for connections, a task waiting on it, and a
/// timer far away; nothing happens for two seconds, then a task stops the loop.
#[test]
fn an_idle_run_forever_uses_almost_no_cpu() {
    for kind in BACKENDS {
        for warm in [false, true] {
            let used = bounded("idle run_forever", Duration::from_secs(10), move || {
                let lp = make(kind);
                let h = lp.handle();
                if warm {
                    lp.block_on(readyloop::yield_now());
                }
                let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
                let _acceptor = h.spawn(async move {
                    let _ = listener.accept().await;
                });
                let _far = h.spawn({
                    let h = h.clone();
                    async move { h.sleep(Duration::from_secs(3600)).await }
                });
                let idle = Duration::from_secs(2);
                h.spawn({
                    let h = h.clone();
                    async move {
                        h.sleep(idle).await;
                        h.stop();
                    }
                });
                let before = thread_cpu();
                lp.run_forever();
                thread_cpu() - before
            });
            eprintln!("{kind:?} (after block_on: {warm}): {used:?} of CPU in 2 s idle");
            assert!(
                used < Duration::from_millis(100),
                "{kind:?} (after block_on: {warm}): {used:?} of CPU in 2 s idle"
            );
        }
    }
}

/// How `stop` is called.
#[derive(Clone, Copy, Debug)]
enum From {
    /// A task that wakes from a sleep.
    Task,
    /// A `call_soon` callback queued by such a task.
    Callback,
}

fn stop_ends_run_forever(from: From) {
    for kind in BACKENDS {
        for warm in [false, true] {
            let what = format!("stop from {from:?} on {kind:?} (after block_on: {warm})");
            let late = bounded(&what, Duration::from_secs(5), move || {
                let lp = make(kind);
                let h = lp.handle();
                if warm {
                    lp.block_on(readyloop::yield_now());
                }
                let asked = std::rc::Rc::new(std::cell::Cell::new(None));
                h.spawn({
                    let (h, asked) = (h.clone(), asked.clone());
                    async move {
                        h.sleep(Duration::from_millis(20)).await;
                        let stop = move |h: &Handle| {
                            asked.set(Some(Instant::now()));
                            h.stop();
                        };
                        match from {
                            From::Task => stop(&h),
                            From::Callback => h.call_soon({
                                let h = h.clone();
                                move || stop(&h)
                            }),
                        }
                    }
                });
                lp.run_forever();
                asked
                    .get()
                    .expect("run_forever returned before stop")
                    .elapsed()
            });
            assert!(
                late < common::scaled(Duration::from_millis(500)),
                "{what}: {late:?}"
            );
        }
    }
}

#[test]
fn stop_from_a_task_ends_run_forever() {
    stop_ends_run_forever(From::Task);
}

#[test]
fn stop_from_a_callback_ends_run_forever() {
    stop_ends_run_forever(From::Callback);
}

#[test]
fn stop_from_another_thread_ends_run_forever() {
    for kind in BACKENDS {
        for warm in [false, true] {
            let what = format!("stop from another thread on {kind:?} (after block_on: {warm})");
            let late = bounded(&what, Duration::from_secs(5), move || {
                let lp = make(kind);
                let h = lp.handle();
                if warm {
                    lp.block_on(readyloop::yield_now());
                }
                let stopper = h.stopper();
                let asker = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    stopper.stop();
                    Instant::now()
                });
                lp.run_forever();
                asker.join().unwrap().elapsed()
            });
            assert!(
                late < common::scaled(Duration::from_millis(500)),
                "{what}: {late:?}"
            );
        }
    }
}

/// asyncio's rule: a stop asked for before `run_forever` starts (a thread that raced
/// ahead of it) is not lost; `run_forever` runs one turn without blocking, then returns.
#[test]
fn a_stop_before_run_forever_ends_the_next_one_after_one_turn() {
    for kind in BACKENDS {
        let turns = bounded("early stop", Duration::from_secs(5), move || {
            let lp = make(kind);
            let h = lp.handle();
            let stopper = h.stopper();
            std::thread::spawn(move || stopper.stop()).join().unwrap();
            // A stop inside a block_on does not end it, nor make it spin.
            lp.block_on(h.sleep(Duration::from_millis(20)));
            let before = h.stats().turns;
            lp.run_forever();
            h.stats().turns - before
        });
        assert_eq!(turns, 1, "{kind:?}");
    }
}

/// A stop is taken by the `run_forever` it ended: the next one runs until its own stop.
#[test]
fn a_stop_ends_one_run_forever_only() {
    for kind in BACKENDS {
        let ran = bounded("second run_forever", Duration::from_secs(5), move || {
            let lp = make(kind);
            let h = lp.handle();
            h.stop();
            lp.run_forever();
            h.spawn({
                let h = h.clone();
                async move {
                    h.sleep(Duration::from_millis(50)).await;
                    h.stop();
                }
            });
            let start = Instant::now();
            lp.run_forever();
            start.elapsed()
        });
        assert!(ran >= Duration::from_millis(50), "{kind:?}: {ran:?}");
    }
}

/// A block_on that leaves a waker of its future behind (here in a task that outlives it):
/// waking it later, during `run_forever`, must not make the loop spin.
#[test]
fn a_stale_block_on_waker_does_not_make_run_forever_spin() {
    for kind in BACKENDS {
        let used = bounded("stale main waker", Duration::from_secs(10), move || {
            let lp = make(kind);
            let h = lp.handle();
            let kept = std::rc::Rc::new(std::cell::RefCell::new(None));
            lp.block_on(std::future::poll_fn(|cx| {
                *kept.borrow_mut() = Some(cx.waker().clone());
                std::task::Poll::Ready(())
            }));
            h.spawn({
                let h = h.clone();
                async move {
                    h.sleep(Duration::from_millis(10)).await;
                    kept.borrow_mut().take().unwrap().wake();
                    h.sleep(Duration::from_secs(1)).await;
                    h.stop();
                }
            });
            let before = thread_cpu();
            lp.run_forever();
            thread_cpu() - before
        });
        assert!(used < Duration::from_millis(100), "{kind:?}: {used:?}");
    }
}
