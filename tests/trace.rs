//! The trace of every turn: what each event says, the three sinks, and its cost when off.

use core::future::poll_fn;
use core::task::{Poll, Waker};
use readyloop::trace::{Lines, PendingOn, Readiness, TraceEvent, WakeCause};
use readyloop::{BackendKind, Instant, Interest, Loop, RawFd, ReadFd};
use std::cell::RefCell;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::rc::Rc;
use std::time::Duration;

mod common;
#[path = "common/trace_story.rs"]
mod trace_story;

use trace_story::{sleeper_and_reader, Buf};

/// An owned copy of a trace event, to look at after the run.
#[derive(Clone, Debug, PartialEq)]
enum Ev {
    Turn(u64),
    Callback,
    Spawned(u64, Option<String>),
    Woken(u64, WakeCause),
    Polled(u64),
    Pending(u64, Vec<PendingOn>),
    Completed(u64),
    Aborted(u64),
    Panicked(u64),
    Wait(BackendKind, Vec<(RawFd, Readiness)>, Option<Duration>),
    Waited(Duration, usize),
    Ready(RawFd, Readiness, usize),
    Notified,
    TimerFired(Duration),
    Jump(Duration),
    Named(RawFd, String),
    Interrupted(Option<i32>),
}

fn own(ev: &TraceEvent<'_>) -> Ev {
    match *ev {
        TraceEvent::TurnStart { turn } => Ev::Turn(turn),
        TraceEvent::Callback => Ev::Callback,
        TraceEvent::Spawned { task, name } => Ev::Spawned(task, name.map(String::from)),
        TraceEvent::Woken { task, by } => Ev::Woken(task, by),
        TraceEvent::Polled { task } => Ev::Polled(task),
        TraceEvent::Pending { task, waits } => Ev::Pending(task, waits.to_vec()),
        TraceEvent::Completed { task } => Ev::Completed(task),
        TraceEvent::Aborted { task } => Ev::Aborted(task),
        TraceEvent::Panicked { task } => Ev::Panicked(task),
        TraceEvent::Wait {
            backend,
            fds,
            timeout,
        } => Ev::Wait(backend, fds.to_vec(), timeout),
        TraceEvent::Waited { blocked, ready, .. } => Ev::Waited(blocked, ready),
        TraceEvent::Ready { fd, revents, woken } => Ev::Ready(fd, revents, woken),
        TraceEvent::Notified => Ev::Notified,
        TraceEvent::TimerFired { late, .. } => Ev::TimerFired(late),
        TraceEvent::ClockJump { from, to } => Ev::Jump(to - from),
        TraceEvent::FdNamed { fd, what } => Ev::Named(fd, String::from(what)),
        TraceEvent::Interrupted { signal } => Ev::Interrupted(signal),
        _ => panic!("new event kind: {ev:?}"),
    }
}

type Log = Rc<RefCell<Vec<(Instant, Ev)>>>;

fn traced(kind: BackendKind) -> (Loop, Log) {
    let log: Log = Rc::default();
    let sink = log.clone();
    let lp = Loop::builder()
        .backend(kind)
        .trace(move |at, ev: &TraceEvent<'_>| sink.borrow_mut().push((at, own(ev))))
        .build()
        .unwrap();
    (lp, log)
}

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK | rustix::pipe::PipeFlags::CLOEXEC)
        .unwrap()
}

fn position(log: &[(Instant, Ev)], what: impl Fn(&Ev) -> bool) -> usize {
    log.iter()
        .position(|(_, e)| what(e))
        .unwrap_or_else(|| panic!("not in trace: {:#?}", log))
}

/// The article's story, traced: a sleeper that writes to a pipe, a reader of that pipe.
#[test]
#[cfg_attr(miri, ignore = "timing: Miri runs slower than the 20 ms sleep")]
fn trace_tells_the_story_of_each_turn() {
    for kind in BackendKind::ALL {
        if cfg!(miri) && kind != BackendKind::Epoll {
            continue; // Miri has no poll(2) or select(2)
        }
        let (lp, log) = traced(kind);
        let h = lp.handle();
        let (r, w) = pipe();
        let rfd = r.as_raw_fd();
        // 20 ms; 200 ms under valgrind, so the sleep is not over by its first poll (and
        // still under the 250 ms after which the epoll backend ends a wait to re-check its
        // registrations: the wait below must last its whole timeout).
        let pause = common::sized(Duration::from_millis(20), Duration::from_millis(200));
        let sleeper = h.spawn_named("sleeper", {
            let h = h.clone();
            async move {
                h.sleep(pause).await;
                rustix::io::write(&w, b"hi").unwrap();
            }
        });
        let reader = h.spawn_named("reader", {
            let h = h.clone();
            async move {
                let mut buf = [0u8; 8];
                ReadFd::new(&h, r.as_fd(), &mut buf).await.unwrap()
            }
        });
        let n = lp.block_on(async move {
            let n = reader.await.unwrap();
            sleeper.await.unwrap();
            n
        });
        assert_eq!(n, 2);
        let log = log.borrow();
        let at = |what: &dyn Fn(&Ev) -> bool| position(&log, what);

        // Spawns, and the wakes that queued them.
        let spawned_1 = at(&|e| *e == Ev::Spawned(1, Some("sleeper".into())));
        let spawned_2 = at(&|e| *e == Ev::Spawned(2, Some("reader".into())));
        assert!(spawned_1 < spawned_2);
        at(&|e| *e == Ev::Woken(1, WakeCause::Spawn));
        at(&|e| *e == Ev::Woken(2, WakeCause::Spawn));
        // What each one filed when it went pending.
        let sleeper_pending = at(&|e| {
            matches!(e, Ev::Pending(1, w) if matches!(w[..],
                [PendingOn::Timer { due_in, .. }] if due_in <= pause))
        });
        let reader_pending = at(&|e| {
            *e == Ev::Pending(
                2,
                vec![PendingOn::Fd {
                    fd: rfd,
                    interest: Interest::Readable,
                }],
            )
        });
        // The wait: the pipe with IN among the fds handed to the kernel, and a timeout of
        // at most the sleeper's 20 ms.
        let first_block = at(&|e| {
            matches!(e, Ev::Wait(b, fds, Some(t))
                if *b == h.backend_in_use() && fds.contains(&(rfd, Readiness::IN))
                    && *t > Duration::ZERO && *t <= pause)
        });
        assert!(first_block > sleeper_pending && first_block > reader_pending);
        let Ev::Wait(_, _, Some(asked)) = &log[first_block].1 else {
            unreachable!()
        };
        let Ev::Waited(blocked, 0) = &log[first_block + 1].1 else {
            panic!("{:?}", log[first_block + 1]);
        };
        // Nothing was ready: the wait lasted its whole timeout (the kernel's own promise).
        assert!(blocked >= asked, "{blocked:?} < {asked:?}");
        // The timer fires, wakes the sleeper, which writes; the pipe is reported readable
        // and wakes the reader, which completes.
        let fired = at(&|e| matches!(e, Ev::TimerFired(_)));
        let woken_by_timer = at(&|e| *e == Ev::Woken(1, WakeCause::Timer));
        let completed_1 = at(&|e| *e == Ev::Completed(1));
        // (The sleeper's end drops its write end: HUP may come with IN.)
        let ready =
            at(&|e| matches!(e, Ev::Ready(fd, ev, 1) if *fd == rfd && ev.contains(Readiness::IN)));
        let woken_by_fd = at(&|e| {
            matches!(e, Ev::Woken(2, WakeCause::Fd { fd, revents })
                if *fd == rfd && revents.contains(Readiness::IN))
        });
        let completed_2 = at(&|e| *e == Ev::Completed(2));
        assert!(first_block < fired && fired < woken_by_timer, "{kind}");
        assert!(
            woken_by_timer < completed_1 && completed_1 < ready,
            "{kind}"
        );
        assert!(ready < woken_by_fd && woken_by_fd < completed_2, "{kind}");
        // The reader's completion woke block_on's future (task 0).
        let main_woken = at(&|e| *e == Ev::Woken(0, WakeCause::Task(2)));
        assert!(main_woken > completed_2);
        // Turns are numbered from 1 and each wait is followed by its result.
        assert_eq!(log[0].1, Ev::Spawned(1, Some("sleeper".into())));
        assert!(log.iter().any(|(_, e)| *e == Ev::Turn(1)));
        for (i, (_, e)) in log.iter().enumerate() {
            if let Ev::Wait(..) = e {
                assert!(
                    matches!(log[i + 1].1, Ev::Waited(..)),
                    "{kind}: {:?}",
                    log[i + 1]
                );
            }
        }
        // Times never go backwards.
        assert!(log.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "timing: needs the loop blocked when another thread wakes it"
)]
fn trace_names_every_wake_cause_and_end() {
    let (lp, log) = traced(BackendKind::default_kind());
    let h = lp.handle();
    // Cross-thread: a thread wakes task 1.
    let (tx, rx) = std::sync::mpsc::channel::<Waker>();
    let remote = std::thread::spawn(move || {
        let w = rx.recv().unwrap();
        // Long enough for the loop to be blocked in its wait by then.
        std::thread::sleep(Duration::from_millis(200));
        w.wake();
    });
    let mut tx = Some(tx);
    let t1 = h.spawn(poll_fn(move |cx| match tx.take() {
        Some(tx) => {
            tx.send(cx.waker().clone()).unwrap();
            Poll::Pending
        }
        None => Poll::Ready(()),
    }));
    // call_soon: a callback wakes task 2.
    let parked: Rc<RefCell<Option<Waker>>> = Rc::default();
    let mut first = true;
    let t2 = h.spawn({
        let parked = parked.clone();
        poll_fn(move |cx| {
            if std::mem::take(&mut first) {
                *parked.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
    });
    // Task to task: task 4 wakes task 3; task 4 yields (woken by itself).
    let parked3: Rc<RefCell<Option<Waker>>> = Rc::default();
    let mut first3 = true;
    let t3 = h.spawn({
        let parked3 = parked3.clone();
        poll_fn(move |cx| {
            if std::mem::take(&mut first3) {
                *parked3.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
    });
    let t4 = h.spawn({
        let parked3 = parked3.clone();
        async move {
            readyloop::yield_now().await;
            parked3.borrow_mut().take().unwrap().wake();
        }
    });
    // Abort and panic.
    let t5 = h.spawn({
        let h = h.clone();
        async move { h.sleep(Duration::from_secs(60)).await }
    });
    let t6 = h.spawn(async { panic!("on purpose, traced") });
    lp.block_on(readyloop::yield_now());
    h.call_soon(move || parked.borrow_mut().take().unwrap().wake());
    t5.abort();
    lp.block_on(async {
        t1.await.unwrap();
        t2.await.unwrap();
        t3.await.unwrap();
        t4.await.unwrap();
        assert!(t5.await.unwrap_err().is_cancelled());
        assert!(t6.await.unwrap_err().is_panic());
    });
    remote.join().unwrap();
    let log = log.borrow();
    let has = |want: Ev| {
        assert!(
            log.iter().any(|(_, e)| *e == want),
            "missing {want:?} in {log:#?}"
        )
    };
    has(Ev::Woken(1, WakeCause::CrossThread));
    // The notifier is written only if the loop was blocked when the other thread woke it.
    if h.stats().wakeups_remote > 0 {
        has(Ev::Notified);
    }
    has(Ev::Callback);
    has(Ev::Woken(2, WakeCause::CallSoon));
    has(Ev::Woken(3, WakeCause::Task(4)));
    has(Ev::Woken(4, WakeCause::Task(4)));
    has(Ev::Aborted(5));
    has(Ev::Panicked(6));
    for t in 1..=4 {
        has(Ev::Completed(t));
    }
    // Task 2 and 3 waited on nothing the loop knows.
    has(Ev::Pending(2, vec![]));
    has(Ev::Pending(3, vec![]));
}

#[test]
fn lines_sink_reads_like_the_story() {
    let out = Buf::default();
    let lp = Loop::builder()
        .trace(Lines::new(out.clone()))
        .build()
        .unwrap();
    let rfd = sleeper_and_reader(&lp);
    let text = out.text();
    for want in [
        "spawn task 1 (sleeper)".to_string(),
        "poll task 1 (sleeper)".to_string(),
        format!(
            "task 1 (sleeper) pending: timer due in {}",
            common::sized("0.00", "0.")
        ),
        format!("task 2 (reader) pending: READABLE on fd {rfd}"),
        format!("{rfd} IN"),
        "timer fired".to_string(),
        "task 1 (sleeper) woken by its timer".to_string(),
        format!("fd {rfd} revents IN, woke 1"),
        format!("task 2 (reader) woken by fd {rfd} (IN)"),
        "task 2 (reader) completed".to_string(),
        "block_on woken by task 2".to_string(),
        "--- turn 1 ---".to_string(),
    ] {
        assert!(text.contains(&want), "missing {want:?} in:\n{text}");
    }
    // Every line starts with seconds since the first event and the turn.
    for line in text.lines() {
        let (secs, rest) = line.trim_start().split_once(" s  turn ").unwrap();
        secs.parse::<f64>().unwrap();
        assert!(rest.chars().next().unwrap().is_ascii_digit(), "{line}");
    }
}

#[test]
fn virtual_clock_jumps_are_traced() {
    let log: Log = Rc::default();
    let sink = log.clone();
    let lp = Loop::builder()
        .virtual_clock()
        .trace(move |at, ev: &TraceEvent<'_>| sink.borrow_mut().push((at, own(ev))))
        .build()
        .unwrap();
    let h = lp.handle();
    // The jump is the sleep less the real time before it: 10 s less milliseconds, or
    // 100 s less up to 20 s under valgrind.
    let (sleep, before_jump) = common::sized((10, 1), (100, 20));
    let armed = h.now();
    lp.block_on(h.sleep(Duration::from_secs(sleep)));
    let log = log.borrow();
    let least = Duration::from_secs(sleep - before_jump);
    assert!(log
        .iter()
        .any(|(_, e)| matches!(e, Ev::Jump(d) if *d > least)));
    // Trace times follow the virtual clock: the last event is past the sleep's deadline.
    let span = log.last().unwrap().0 - armed;
    assert!(span >= Duration::from_secs(sleep), "{span:?}");
}

/// A sink that calls back into the loop does not deadlock or recurse: the events it causes
/// are dropped.
#[test]
fn reentrant_sink_is_safe() {
    let handle: Rc<RefCell<Option<readyloop::Handle>>> = Rc::default();
    let inner = handle.clone();
    let count = Rc::new(RefCell::new(0u32));
    let c = count.clone();
    let lp = Loop::builder()
        .trace(move |_, ev: &TraceEvent<'_>| {
            *c.borrow_mut() += 1;
            if let (TraceEvent::Polled { task: 1 }, Some(h)) = (ev, inner.borrow().as_ref()) {
                let _ = h.stats();
                let _ = h.pending_report();
                drop(h.spawn(async {}));
            }
        })
        .build()
        .unwrap();
    *handle.borrow_mut() = Some(lp.handle());
    let t = lp.handle().spawn(async { 1 });
    assert_eq!(lp.block_on(t).unwrap(), 1);
    lp.block_on(readyloop::yield_now());
    assert!(*count.borrow() > 5);
    handle.borrow_mut().take();
}

/// What the trace costs when off: one branch per hook. Run with
/// `cargo test --release --test trace -- --ignored --nocapture overhead`; the numbers go in
/// the README. Compare the same workload on a build without the hooks (main before the
/// trace work) for the "off" cost; the "on" column shows what a no-op sink costs.
#[test]
#[ignore = "benchmark; run by hand in release mode"]
fn overhead() {
    fn yields(lp: &Loop, n: u32) -> Duration {
        let h = lp.handle();
        let start = std::time::Instant::now();
        lp.block_on(async {
            let a = h.spawn(async move {
                for _ in 0..n {
                    readyloop::yield_now().await;
                }
            });
            let b = h.spawn(async move {
                for _ in 0..n {
                    readyloop::yield_now().await;
                }
            });
            a.await.unwrap();
            b.await.unwrap();
        });
        start.elapsed()
    }
    fn pipes(lp: &Loop, n: u32) -> Duration {
        let h = lp.handle();
        let (r1, w1) = pipe();
        let (r2, w2) = pipe();
        let start = std::time::Instant::now();
        lp.block_on(async {
            let h2 = h.clone();
            let pong = h.spawn(async move {
                let mut b = [0u8; 1];
                for _ in 0..n {
                    ReadFd::new(&h2, r1.as_fd(), &mut b).await.unwrap();
                    rustix::io::write(&w2, &b).unwrap();
                }
            });
            let mut b = [0u8; 1];
            for _ in 0..n {
                rustix::io::write(&w1, b"p").unwrap();
                ReadFd::new(&h, r2.as_fd(), &mut b).await.unwrap();
            }
            pong.await.unwrap();
        });
        start.elapsed()
    }
    fn timers(lp: &Loop, n: u32) -> Duration {
        let h = lp.handle();
        let start = std::time::Instant::now();
        lp.block_on(async {
            let tasks: Vec<_> = (0..n)
                .map(|i| {
                    let h2 = h.clone();
                    h.spawn(
                        async move { h2.sleep(Duration::from_micros(u64::from(i % 1000))).await },
                    )
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        start.elapsed()
    }
    let off = || Loop::new().unwrap();
    let on = || {
        Loop::builder()
            .trace(|_: Instant, _: &TraceEvent<'_>| {})
            .build()
            .unwrap()
    };
    let mut rows: Vec<(&str, u32, Vec<f64>, Vec<f64>)> = vec![
        ("yield turn (2 tasks)", 200_000, vec![], vec![]),
        ("pipe round trip", 50_000, vec![], vec![]),
        ("spawn+sleep+join", 100_000, vec![], vec![]),
    ];
    for _ in 0..7 {
        for (name, n, offs, ons) in rows.iter_mut() {
            let run = |lp: &Loop| match *name {
                "yield turn (2 tasks)" => yields(lp, *n),
                "pipe round trip" => pipes(lp, *n),
                _ => timers(lp, *n),
            };
            offs.push(run(&off()).as_nanos() as f64 / f64::from(*n));
            ons.push(run(&on()).as_nanos() as f64 / f64::from(*n));
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    println!("| work | trace off ns/op | trace on (no-op sink) ns/op |");
    println!("|---|---|---|");
    for (name, _, offs, ons) in rows.iter_mut() {
        println!("| {name} | {:.1} | {:.1} |", median(offs), median(ons));
    }
}
