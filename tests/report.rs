//! Introspection: `stats()` counters, `pending_report()`, and `block_on_timeout` returning
//! the report of what was stuck.

use core::future::poll_fn;
use core::task::{Poll, Waker};
use readyloop::{Interest, Loop, ReadFd, WaitReport};
use std::cell::RefCell;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::rc::Rc;
use std::time::{Duration, Instant};

mod common;

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK | rustix::pipe::PipeFlags::CLOEXEC)
        .unwrap()
}

#[test]
fn block_on_timeout_reports_task_stuck_on_pipe() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, _w) = pipe();
    let fd = r.as_raw_fd();
    let reader = h.spawn_named("reader", {
        let h = h.clone();
        async move {
            let mut buf = [0u8; 8];
            ReadFd::new(&h, r.as_fd(), &mut buf).await
        }
    });
    let start = Instant::now();
    let stuck = lp
        .block_on_timeout(Duration::from_millis(200), reader)
        .unwrap_err();
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(200), "never early: {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(stuck.timeout(), Duration::from_millis(200));
    let text = stuck.to_string();
    assert!(
        text.starts_with("block_on_timeout: not done after 0.200 s; pending then:\n"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("task 1 (reader) waiting READABLE on fd "))
        .unwrap_or_else(|| panic!("{text}"));
    let waited = secs_after(
        line,
        &format!("task 1 (reader) waiting READABLE on fd {fd} (pipe, 0 B queued in) for "),
    );
    assert!(waited >= 0.2, "{line}");
    assert!(
        text.contains("block_on future waiting on nothing the loop knows"),
        "the JoinHandle is not a loop wait: {text}"
    );
    // Debug shows the same report (what `.unwrap()` prints).
    assert_eq!(format!("{stuck:?}"), text);
    // The structured form.
    let task = stuck.report().task(1).unwrap();
    assert_eq!(task.name.as_deref(), Some("reader"));
    assert!(matches!(
        task.waits[..],
        [WaitReport::Fd { fd: f, interest: Interest::Readable, waited, .. }]
            if f == fd && waited >= Duration::from_millis(200)
    ));
    // The deadline's own timer is gone and is not in the report.
    assert_eq!(h.stats().timers_armed, 0);
}

/// The seconds written right after `prefix` in `line` (`... for 2.031 s`).
fn secs_after(line: &str, prefix: &str) -> f64 {
    let rest = line
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{line:?} does not start with {prefix:?}"));
    let secs = rest.split(" s").next().unwrap();
    secs.parse()
        .unwrap_or_else(|e| panic!("{line:?}: {secs:?}: {e}"))
}

#[test]
fn block_on_timeout_returns_output_in_time() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let out = lp.block_on_timeout(Duration::from_secs(10), async {
        h.sleep(Duration::from_millis(5)).await;
        7
    });
    assert_eq!(out.unwrap(), 7);
    assert_eq!(h.stats().timers_armed, 0);
}

#[test]
fn block_on_timeout_reports_the_main_futures_own_waits() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, _w) = pipe();
    let fd = r.as_raw_fd();
    let stuck = lp
        .block_on_timeout(Duration::from_millis(50), async {
            let mut buf = [0u8; 8];
            ReadFd::new(&h, r.as_fd(), &mut buf).await
        })
        .unwrap_err();
    let text = stuck.to_string();
    let expected =
        format!("block_on future waiting READABLE on fd {fd} (pipe, 0 B queued in) for 0.0");
    assert!(text.contains(&expected), "{text}");
}

#[test]
fn report_names_timers_fds_ready_and_unknown_waits() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, _w) = pipe();
    let fd = r.as_raw_fd();
    let _sleeper = h.spawn_named("sleeper", {
        let h = h.clone();
        async move { h.sleep(Duration::from_millis(1500)).await }
    });
    let _handler = h.spawn_named("handler", {
        let h = h.clone();
        async move {
            let mut buf = [0u8; 8];
            ReadFd::new(&h, r.as_fd(), &mut buf).await
        }
    });
    // A task waiting on nothing the loop knows: its waker is kept in a cell.
    let parked: Rc<RefCell<Option<Waker>>> = Rc::default();
    let _lost = h.spawn({
        let parked = parked.clone();
        poll_fn(move |cx| {
            *parked.borrow_mut() = Some(cx.waker().clone());
            Poll::<()>::Pending
        })
    });
    // Let them all run once, and some time pass.
    lp.block_on(h.sleep(Duration::from_millis(100)));
    let report = h.pending_report();
    let text = report.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let due = secs_after(lines[0], "task 1 (sleeper) waiting on timer due in ");
    // The sleeper armed its 1.5 s a little after the 100 ms sleep began (more under valgrind).
    assert!(due > 0.5 && due <= 1.45, "{text}");
    let waited = secs_after(
        lines[1],
        &format!("task 2 (handler) waiting READABLE on fd {fd} (pipe, 0 B queued in) for "),
    );
    assert!(waited >= 0.1, "{text}");
    let idle = secs_after(lines[2], "task 3 waiting on nothing the loop knows for ");
    assert!(idle >= 0.1, "{text}");
    // Wake the third: it is reported ready until the loop polls it.
    parked.borrow_mut().take().unwrap().wake();
    let text = h.pending_report().to_string();
    assert!(
        text.contains("task 3 ready to run (woken, not yet polled)"),
        "{text}"
    );
}

#[test]
fn report_of_idle_loop() {
    let lp = Loop::new().unwrap();
    assert_eq!(
        lp.handle().pending_report().to_string(),
        "no pending tasks\n"
    );
    assert!(lp.handle().pending_report().tasks().is_empty());
}

// ---- stats: each counter -------------------------------------------------------------

#[test]
fn stats_turns_polls_and_time_blocked() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    assert_eq!(h.stats().turns, 0);
    // Something for the turn's wait to end at (with nothing armed it would wait for a wake).
    h.spawn({
        let h = h.clone();
        async move { h.sleep(Duration::from_millis(1)).await }
    });
    lp.run_once();
    let s = h.stats();
    assert_eq!((s.turns, s.polls), (1, 1));
    lp.block_on(h.sleep(Duration::from_millis(30)));
    let s = h.stats();
    assert!(s.turns >= 2 && s.polls == s.turns, "{s:?}");
    assert!(s.time_blocked >= Duration::from_millis(25), "{s:?}");
    assert!(s.time_blocked < Duration::from_secs(5), "{s:?}");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "timing: Miri runs slower than the 2 ms and 4 ms sleeps"
)]
fn stats_wakeups_by_kind() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    // Two timers (far enough apart that the second is still pending when the first
    // fires, however slowly the loop runs).
    lp.block_on(async {
        let a = h.sleep(common::scaled(Duration::from_millis(2)));
        let b = h.sleep(common::scaled(Duration::from_millis(4)));
        a.await;
        b.await;
    });
    let s = h.stats();
    assert_eq!(s.wakeups_timer, 2, "{s:?}");
    assert_eq!(s.wakeups_fd, 0, "{s:?}");
    // Three fd wakeups: three readers of three pipes.
    let pipes: Vec<_> = (0..3).map(|_| pipe()).collect();
    lp.block_on(async {
        let mut tasks = Vec::new();
        for (r, _) in &pipes {
            let h2 = h.clone();
            let r = r.try_clone().unwrap();
            tasks.push(h.spawn(async move {
                let mut buf = [0u8; 1];
                ReadFd::new(&h2, r.as_fd(), &mut buf).await.unwrap()
            }));
        }
        readyloop::yield_now().await;
        for (_, w) in &pipes {
            rustix::io::write(w, b"x").unwrap();
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(h.stats().wakeups_fd, 3);
    // One remote wakeup: another thread wakes the blocked loop. (If the loop was not yet
    // blocked when the wake came, no notifier write was needed: try again, up to 5 times.)
    let mut counted = false;
    for _ in 0..5 {
        let before = h.stats().wakeups_remote;
        let (tx, rx) = std::sync::mpsc::channel::<Waker>();
        let t = std::thread::spawn(move || {
            let w = rx.recv().unwrap();
            std::thread::sleep(Duration::from_millis(50));
            w.wake();
        });
        let mut sent = Some(tx);
        lp.block_on(poll_fn(|cx| match sent.take() {
            Some(tx) => {
                tx.send(cx.waker().clone()).unwrap();
                Poll::Pending
            }
            None => Poll::Ready(()),
        }));
        t.join().unwrap();
        let after = h.stats().wakeups_remote;
        assert!(after <= before + 1, "one wake, at most one notifier wakeup");
        if after == before + 1 {
            counted = true;
            break;
        }
    }
    assert!(counted, "{:?}", h.stats());
    // call_soon callbacks.
    for _ in 0..4 {
        h.call_soon(|| {});
    }
    lp.block_on(readyloop::yield_now());
    assert_eq!(h.stats().callbacks, 4);
    assert_eq!(h.stats().spurious_wakeups, 0);
}

#[test]
fn stats_tasks_alive_peak_polls_and_budget() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let h = h.clone();
            h.clone().spawn(async move {
                h.sleep(Duration::from_millis(5)).await;
            })
        })
        .collect();
    assert_eq!(h.stats().tasks_alive, 5);
    lp.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    let s = h.stats();
    assert_eq!((s.tasks_alive, s.tasks_peak), (0, 5), "{s:?}");
    assert_eq!(s.task_polls, 10, "each task polled twice: {s:?}");
    // An always-ready pipe read in a loop uses up its budget and yields.
    let (r, w) = pipe();
    rustix::io::write(&w, &[1u8; 4096]).unwrap();
    lp.block_on(h.spawn({
        let h = h.clone();
        async move {
            for _ in 0..300 {
                let mut buf = [0u8; 1];
                ReadFd::new(&h, r.as_fd(), &mut buf).await.unwrap();
            }
        }
    }))
    .unwrap();
    assert!(h.stats().budget_yields >= 2, "{:?}", h.stats());
}

#[test]
fn stats_fds_registered_and_waiters() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    assert_eq!(h.stats().fds_registered, 1, "the notifier");
    let (r, w) = pipe();
    let r = Rc::new(r);
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let h2 = h.clone();
            let r = r.clone();
            h.spawn(async move {
                let mut buf = [0u8; 1];
                ReadFd::new(&h2, r.as_fd(), &mut buf).await.unwrap()
            })
        })
        .collect();
    lp.block_on(readyloop::yield_now());
    let s = h.stats();
    assert_eq!((s.fds_registered, s.fd_waiters), (2, 2), "{s:?}");
    rustix::io::write(&w, b"ab").unwrap();
    lp.block_on(async {
        for t in readers {
            t.await.unwrap();
        }
    });
    let s = h.stats();
    assert_eq!((s.fds_registered, s.fd_waiters), (1, 0), "{s:?}");
    // A timer armed, then cancelled by drop.
    let sleep = h.sleep(Duration::from_secs(60));
    let mut sleep = Box::pin(sleep);
    lp.block_on(poll_fn(|cx| {
        let _ = sleep.as_mut().poll(cx);
        Poll::Ready(())
    }));
    assert_eq!(h.stats().timers_armed, 1);
    drop(sleep);
    assert_eq!(h.stats().timers_armed, 0);
}

use core::future::Future;

extern "C" fn ignore(_: libc::c_int) {}

/// A signal interrupts a blocking wait (EINTR) with nothing ready: a spurious wakeup.
#[test]
#[cfg_attr(miri, ignore = "Miri has no signal handlers")]
fn stats_spurious_wakeup_from_signal() {
    // SAFETY: installs a handler that does nothing, for SIGUSR2, in this test binary.
    unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = ignore as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR2, &sa, core::ptr::null_mut()),
            0
        );
    }
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    // SAFETY: pthread_self of this thread, signalled while it exists (joined below).
    let me = unsafe { libc::pthread_self() } as usize;
    let t = std::thread::spawn(move || {
        // Three signals, in case the loop was not yet blocked when the first one came.
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(50));
            // SAFETY: the target thread lives until this thread is joined below.
            unsafe { libc::pthread_kill(me as libc::pthread_t, libc::SIGUSR2) };
        }
    });
    let start = Instant::now();
    lp.block_on(h.sleep(Duration::from_millis(300)));
    t.join().unwrap();
    assert!(start.elapsed() >= Duration::from_millis(300));
    let s = h.stats();
    assert!((1..=3).contains(&s.spurious_wakeups), "{s:?}");
    assert_eq!(s.wakeups_timer, 1, "{s:?}");
}
