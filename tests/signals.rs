//! Real signals sent to this test process while tasks await them.
//!
//! The tests of one binary share a process, and signal dispositions are process-wide, so
//! every test here holds `SERIAL` and only sends a signal while a `Signals` for it exists
//! (or while the signal is ignored): no test can kill the test process.

use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use readyloop::signal::{Signal, Signals};
use readyloop::{ErrorKind, Handle, Loop};
use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends `signal` to the whole process, as `kill` from a shell would: any thread that does
/// not block it may run the handler, possibly after `kill` has returned.
fn send(signal: Signal) {
    // SAFETY: kill and getpid have no memory-safety preconditions.
    let rc = unsafe { libc::kill(libc::getpid(), signal.number()) };
    assert_eq!(rc, 0);
}

/// Sends `signal` to the calling thread: the handler has run when this returns, which makes
/// the order of several signals and their merging deterministic.
fn raise(signal: Signal) {
    // SAFETY: raise has no memory-safety preconditions.
    let rc = unsafe { libc::raise(signal.number()) };
    assert_eq!(rc, 0);
}

/// The current handler address of `signal` (SIG_DFL is 0, SIG_IGN is 1).
fn disposition(signal: Signal) -> libc::sighandler_t {
    // SAFETY: an all-zero sigaction is valid; a null new action only queries.
    unsafe {
        let mut old: libc::sigaction = core::mem::zeroed();
        assert_eq!(
            libc::sigaction(signal.number(), core::ptr::null(), &mut old),
            0
        );
        old.sa_sigaction
    }
}

/// The next signal, or `None` if none comes within `limit`.
async fn recv_within(h: &Handle, signals: &mut Signals, limit: Duration) -> Option<Signal> {
    let mut sleep = pin!(h.sleep(limit));
    poll_fn(|cx| {
        if let Poll::Ready(r) = signals.poll_recv(cx) {
            return Poll::Ready(Some(r.expect("recv failed")));
        }
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

const LONG: Duration = Duration::from_secs(5);
const SHORT: Duration = Duration::from_millis(100);

#[test]
fn awaiting_task_gets_usr1_while_other_tasks_run() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut signals = Signals::new(&h, &[Signal::Usr1]).unwrap();
    let ticks = Rc::new(Cell::new(0u32));
    let start = Instant::now();
    let (got, ticks_at_signal, ticks_total) = lp.block_on({
        let h = h.clone();
        let ticks = ticks.clone();
        async move {
            let ticker = h.spawn({
                let h = h.clone();
                let ticks = ticks.clone();
                async move {
                    for _ in 0..10 {
                        h.sleep(Duration::from_millis(10)).await;
                        ticks.set(ticks.get() + 1);
                    }
                }
            });
            // Dropping the JoinHandle detaches the task.
            drop(h.spawn({
                let h = h.clone();
                async move {
                    h.sleep(Duration::from_millis(50)).await;
                    raise(Signal::Usr1);
                }
            }));
            let got = recv_within(&h, &mut signals, LONG).await;
            let at_signal = ticks.get();
            ticker.await.unwrap();
            (got, at_signal, ticks.get())
        }
    });
    assert_eq!(got, Some(Signal::Usr1));
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(
        ticks_at_signal >= 1,
        "the ticker ran while the signal was awaited"
    );
    assert_eq!(ticks_total, 10, "the ticker kept running after the signal");
}

#[test]
fn signal_before_recv_is_kept_and_repeats_coalesce() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut signals = Signals::new(&h, &[Signal::Hup]).unwrap();
    // Sent before anything polls: the handler queues them in the pipe.
    for _ in 0..3 {
        raise(Signal::Hup);
    }
    let (first, second, dropped_then) = lp.block_on(async {
        let first = recv_within(&h, &mut signals, LONG).await;
        let second = recv_within(&h, &mut signals, SHORT).await;
        // A receive dropped mid-wait loses nothing: the signal waits for the next one.
        {
            let mut recv = signals.recv();
            let mut recv = core::pin::Pin::new(&mut recv);
            poll_fn(|cx| {
                assert!(recv.as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            raise(Signal::Hup);
        }
        let dropped_then = recv_within(&h, &mut signals, LONG).await;
        (first, second, dropped_then)
    });
    assert_eq!(first, Some(Signal::Hup));
    assert_eq!(second, None, "three HUPs before a receive are one");
    assert_eq!(dropped_then, Some(Signal::Hup));
}

#[test]
fn term_and_int_come_in_arrival_order_and_drop_restores_default() {
    let _serial = serial();
    let before = [disposition(Signal::Int), disposition(Signal::Term)];
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut signals = Signals::new(&h, &[Signal::Int, Signal::Term]).unwrap();
    assert_ne!(disposition(Signal::Term), before[1]);
    raise(Signal::Term);
    raise(Signal::Int);
    raise(Signal::Term); // merged with the TERM not yet received
    let got = lp.block_on(async {
        let mut got = Vec::new();
        while let Some(s) = recv_within(&h, &mut signals, SHORT).await {
            got.push(s);
        }
        got
    });
    assert_eq!(got, vec![Signal::Term, Signal::Int]);
    drop(signals);
    assert_eq!(
        [disposition(Signal::Int), disposition(Signal::Term)],
        before
    );
}

#[test]
fn two_loops_on_two_threads_both_get_usr2() {
    let _serial = serial();
    let ready = Arc::new(Barrier::new(3));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let ready = ready.clone();
            std::thread::spawn(move || {
                let lp = Loop::new().unwrap();
                let h = lp.handle();
                let mut signals = Signals::new(&h, &[Signal::Usr2]).unwrap();
                ready.wait();
                lp.block_on(async { recv_within(&h, &mut signals, LONG).await })
            })
        })
        .collect();
    ready.wait();
    send(Signal::Usr2);
    for t in threads {
        assert_eq!(t.join().unwrap(), Some(Signal::Usr2));
    }
}

#[test]
fn every_receiver_of_a_signal_gets_it_and_no_other() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut a = Signals::new(&h, &[Signal::Usr1]).unwrap();
    let mut b = Signals::new(&h, &[Signal::Usr1, Signal::Usr1, Signal::Hup]).unwrap();
    let mut hup_only = Signals::new(&h, &[Signal::Hup]).unwrap();
    raise(Signal::Usr1);
    let got = lp.block_on(async {
        (
            recv_within(&h, &mut a, LONG).await,
            recv_within(&h, &mut b, LONG).await,
            recv_within(&h, &mut hup_only, SHORT).await,
        )
    });
    assert_eq!(got, (Some(Signal::Usr1), Some(Signal::Usr1), None));
}

#[test]
fn dropping_the_last_receiver_restores_an_ignored_disposition() {
    let _serial = serial();
    let original = disposition(Signal::Hup);
    // SAFETY: SIG_IGN is a valid disposition for SIGHUP.
    unsafe { libc::signal(libc::SIGHUP, libc::SIG_IGN) };
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut signals = Signals::new(&h, &[Signal::Hup]).unwrap();
    raise(Signal::Hup);
    let got = lp.block_on(recv_within(&h, &mut signals, LONG));
    assert_eq!(got, Some(Signal::Hup));
    drop(signals);
    assert_eq!(disposition(Signal::Hup), libc::SIG_IGN);
    raise(Signal::Hup); // ignored again: the process lives on
                        // SAFETY: putting back the disposition read above.
    unsafe { libc::signal(libc::SIGHUP, original) };
}

#[test]
fn bad_input_and_limits_are_clear_errors() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let err = Signals::new(&h, &[]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    // Polled with no loop running: an error, not a hang.
    let mut signals = Signals::new(&h, &[Signal::Usr2]).unwrap();
    {
        let mut recv = pin!(signals.recv());
        match recv.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Err(e)) => assert_eq!(e.kind(), ErrorKind::NoLoop),
            other => panic!("expected NoLoop, got {other:?}"),
        }
    }
    drop(signals);

    // The table holds 64 receivers; the next is refused and freeing one makes room.
    let fds_before = std::fs::read_dir("/proc/self/fd").unwrap().count();
    let mut all = Vec::new();
    let err = loop {
        match Signals::new(&h, &[Signal::Usr2]) {
            Ok(s) => all.push(s),
            Err(e) => break e,
        }
        assert!(all.len() <= 64, "no limit reached");
    };
    assert_eq!(all.len(), 64);
    assert_eq!(err.kind(), ErrorKind::Other);
    assert!(err.message().contains("at most 64"), "{err}");
    all.pop();
    all.push(Signals::new(&h, &[Signal::Usr2]).unwrap());
    drop(all);
    let fds_after = std::fs::read_dir("/proc/self/fd").unwrap().count();
    // `<=`: a loop thread of an earlier test may still be closing its fds (it only closes
    // them by now); 64 leaked receivers would leave 128 more.
    assert!(
        fds_after <= fds_before,
        "every pipe was closed: {fds_before} fds before, {fds_after} after"
    );
}

#[test]
fn five_hundred_signals_from_another_thread_each_received() {
    let _serial = serial();
    const ROUNDS: u32 = 500;
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut signals = Signals::new(&h, &[Signal::Usr1]).unwrap();
    let (ack_tx, ack_rx) = std::sync::mpsc::channel::<()>();
    let sender = std::thread::spawn(move || {
        for _ in 0..ROUNDS {
            send(Signal::Usr1);
            // The next signal only after this one was received, so none may coalesce.
            ack_rx
                .recv_timeout(LONG)
                .expect("signal not received in time");
        }
    });
    let start = Instant::now();
    let received = lp.block_on(async {
        let mut n = 0;
        while n < ROUNDS {
            match recv_within(&h, &mut signals, LONG).await {
                Some(Signal::Usr1) => n += 1,
                other => panic!("after {n}: {other:?}"),
            }
            ack_tx.send(()).unwrap();
        }
        n
    });
    sender.join().unwrap();
    assert_eq!(received, ROUNDS);
    eprintln!("{ROUNDS} signal round trips in {:?}", start.elapsed());
}

/// A daemon's shutdown: a task awaits SIGUSR1 and stops `run_forever`, which returns
/// promptly, on every backend, before and after a `block_on` (issue 16.3). Bounded: the loop
/// runs on its own thread, and the test waits for it with a deadline.
#[test]
fn a_signal_awaited_by_a_task_stops_run_forever() {
    let _serial = serial();
    for kind in [
        readyloop::BackendKind::Poll,
        readyloop::BackendKind::Select,
        readyloop::BackendKind::Epoll,
    ] {
        for warm in [false, true] {
            let what = format!("SIGUSR1 then stop on {kind:?} (after block_on: {warm})");
            let (ready_tx, ready_rx) = std::sync::mpsc::channel();
            let (done_tx, done_rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let lp = Loop::builder().backend(kind).build().unwrap();
                let h = lp.handle();
                if warm {
                    lp.block_on(readyloop::yield_now());
                }
                let mut signals = Signals::new(&h, &[Signal::Usr1]).unwrap();
                h.spawn({
                    let h = h.clone();
                    async move {
                        assert_eq!(signals.recv().await.unwrap(), Signal::Usr1);
                        h.stop();
                    }
                });
                ready_tx.send(()).unwrap();
                lp.run_forever();
                let _ = done_tx.send(Instant::now());
            });
            ready_rx.recv().unwrap();
            // Let the loop reach its blocking wait first.
            std::thread::sleep(Duration::from_millis(50));
            let sent = Instant::now();
            send(Signal::Usr1);
            match done_rx.recv_timeout(Duration::from_secs(5)) {
                Ok(returned) => assert!(
                    returned - sent < Duration::from_millis(500),
                    "{what}: {:?}",
                    returned - sent
                ),
                Err(_) => panic!("{what}: run_forever still running 5 s after the signal"),
            }
        }
    }
}
