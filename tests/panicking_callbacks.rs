//! A waker (`wake` or `Drop`) or a trace sink that panics inside a turn. The panic is not
//! swallowed: it propagates out of `block_on` (a task's own panic is caught into its
//! `JoinError`, but a waker or sink belongs to no task). What must hold after it: the same
//! loop's tables are consistent, so the next `block_on` works, the tasks whose wakers were
//! collected alongside the panicking one still run, fds keep being served, and nothing is
//! registered twice. Runs under Miri too (`.ci/checks/40-miri.sh`): pipes and the virtual
//! clock only.

use core::pin::{pin, Pin};
use core::task::{Context, Waker};
use readyloop::{Loop, ReadFd};
use std::future::Future;
use std::os::fd::{AsFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Wake;
use std::time::Duration;

/// A foreign waker that panics when woken, or when its last clone is dropped.
struct Panics {
    in_wake: bool,
    in_drop: AtomicBool,
}

impl Wake for Panics {
    fn wake(self: Arc<Self>) {
        if self.in_wake {
            // Not again in `Drop` while this panic unwinds.
            self.in_drop.store(false, Ordering::SeqCst);
            panic!("waker panicked in wake");
        }
    }
}

impl Drop for Panics {
    fn drop(&mut self) {
        if self.in_drop.load(Ordering::SeqCst) && !std::thread::panicking() {
            panic!("waker panicked in drop");
        }
    }
}

fn panicking_waker(in_wake: bool, in_drop: bool) -> Waker {
    Waker::from(Arc::new(Panics {
        in_wake,
        in_drop: AtomicBool::new(in_drop),
    }))
}

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK | rustix::pipe::PipeFlags::CLOEXEC)
        .unwrap()
}

fn message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Two readers of one pipe: the first registered waker panics when the fd is ready. The
/// second, a task, still runs (its waker was collected in the same dispatch).
#[test]
fn a_waker_panicking_in_wake_leaves_the_others_to_run() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, w) = pipe();
    let bad = panicking_waker(true, false);
    let mut buf = [0u8; 8];
    let mut first = Box::pin(ReadFd::new(&h, r.as_fd(), &mut buf));
    let reader = h.spawn({
        let h = h.clone();
        let r = r.try_clone().unwrap();
        async move {
            let mut buf = [0u8; 8];
            ReadFd::new(&h, r.as_fd(), &mut buf).await.unwrap()
        }
    });
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        lp.block_on(async {
            // The bad waker registers first, then the task (spawned, polled after this).
            assert!(first
                .as_mut()
                .poll(&mut Context::from_waker(&bad))
                .is_pending());
            readyloop::yield_now().await;
            rustix::io::write(&w, b"x").unwrap();
            core::future::pending::<()>().await
        })
    }))
    .unwrap_err();
    assert_eq!(message(panicked), "waker panicked in wake");
    // The task's waker was collected with the bad one and not called yet: the next turn
    // calls it.
    let n = lp
        .block_on_timeout(Duration::from_secs(5), reader)
        .expect("the task woken alongside the panicking waker ran")
        .unwrap();
    assert_eq!(n, 1);
    drop(first);
    // The fd is still served, registered once.
    let registered = h.stats().fds_registered;
    rustix::io::write(&w, b"yz").unwrap();
    let n = lp.block_on(async {
        let mut buf = [0u8; 8];
        ReadFd::new(&h, r.as_fd(), &mut buf).await.unwrap()
    });
    assert_eq!(n, 2);
    assert_eq!(h.fd_waiters(), 0);
    assert!(h.stats().fds_registered <= registered.max(1));
}

/// A timer's waker panics when it fires; a task's sleep due at the same moment still ends.
#[test]
fn a_timer_waker_panicking_in_wake_leaves_the_others_to_run() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let bad = panicking_waker(true, false);
    // The same deadline: both wakers are collected by one firing.
    let at = h.now() + Duration::from_secs(10);
    let mut sleep = h.sleep_until(at);
    let sleeper = h.spawn({
        let h = h.clone();
        async move { h.sleep_until(at).await }
    });
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        lp.block_on(async {
            assert!(Pin::new(&mut sleep)
                .poll(&mut Context::from_waker(&bad))
                .is_pending());
            h.sleep(Duration::from_secs(20)).await;
        })
    }))
    .unwrap_err();
    assert_eq!(message(panicked), "waker panicked in wake");
    lp.block_on_timeout(Duration::from_secs(60), sleeper)
        .expect("the sleeper due with the panicking waker ran")
        .unwrap();
    assert!(sleep.is_elapsed());
    assert_eq!(h.stats().timers_armed, 0);
    // The loop goes on.
    lp.block_on(h.sleep(Duration::from_secs(1)));
}

/// A join waker panics when its task completes: the task is complete and unregistered,
/// and the loop goes on.
#[test]
fn a_join_waker_panicking_in_wake_leaves_the_task_complete() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let bad = panicking_waker(true, false);
    let mut task = h.spawn(async {
        readyloop::yield_now().await;
        5
    });
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        lp.block_on(async {
            assert!(Pin::new(&mut task)
                .poll(&mut Context::from_waker(&bad))
                .is_pending());
            core::future::pending::<()>().await
        })
    }))
    .unwrap_err();
    assert_eq!(message(panicked), "waker panicked in wake");
    assert!(task.is_finished());
    assert_eq!(h.stats().tasks_alive, 0);
    assert_eq!(lp.block_on(task).unwrap(), 5);
    assert_eq!(lp.block_on(h.spawn(async { 6 })).unwrap(), 6);
}

/// A waker whose `Drop` panics, replaced in the fd table: the new waker is in place, and
/// the wait is withdrawn when its future goes.
#[test]
fn a_waker_panicking_in_drop_leaves_the_fd_table_consistent() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, w) = pipe();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        lp.block_on(async {
            let mut buf = [0u8; 8];
            let mut read = pin!(ReadFd::new(&h, r.as_fd(), &mut buf));
            let bad = panicking_waker(false, true);
            assert!(read
                .as_mut()
                .poll(&mut Context::from_waker(&bad))
                .is_pending());
            drop(bad); // the table holds the last clone
            let _ = read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            unreachable!("replacing the waker drops the panicking one");
        })
    }))
    .unwrap_err();
    assert_eq!(message(panicked), "waker panicked in drop");
    assert_eq!(h.fd_waiters(), 0, "the dropped future withdrew its wait");
    rustix::io::write(&w, b"ok").unwrap();
    let n = lp.block_on(async {
        let mut buf = [0u8; 8];
        ReadFd::new(&h, r.as_fd(), &mut buf).await.unwrap()
    });
    assert_eq!(n, 2);
}

/// A trace sink that panics on the first `TimerFired` event: the panic propagates, and the
/// sleeper whose timer fired still wakes in the next `block_on`.
#[cfg(feature = "trace")]
#[test]
fn a_panicking_trace_sink_leaves_the_loop_usable() {
    use readyloop::trace::TraceEvent;
    use std::cell::Cell;
    use std::rc::Rc;
    let armed = Rc::new(Cell::new(true));
    let sink_armed = armed.clone();
    let lp = Loop::builder()
        .virtual_clock()
        .trace(move |_, ev: &TraceEvent<'_>| {
            if matches!(ev, TraceEvent::TimerFired { .. } | TraceEvent::Ready { .. })
                && sink_armed.replace(false)
            {
                panic!("sink panicked");
            }
        })
        .build()
        .unwrap();
    let h = lp.handle();
    let sleeper = h.spawn({
        let h = h.clone();
        async move { h.sleep(Duration::from_secs(5)).await }
    });
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        lp.block_on(h.sleep(Duration::from_secs(60)));
    }))
    .unwrap_err();
    assert_eq!(message(panicked), "sink panicked");
    assert!(!armed.get());
    lp.block_on_timeout(Duration::from_secs(1), sleeper)
        .expect("the sleeper whose timer fired as the sink panicked ran")
        .unwrap();
    // An fd is still served after a sink panic on its Ready event.
    let (r, w) = pipe();
    let mut reader = h.spawn({
        let h = h.clone();
        async move {
            let mut buf = [0u8; 8];
            ReadFd::new(&h, r.as_fd(), &mut buf).await.unwrap()
        }
    });
    lp.block_on(readyloop::yield_now());
    assert_eq!(h.fd_waiters(), 1);
    armed.set(true);
    rustix::io::write(&w, b"a").unwrap();
    let panicked = catch_unwind(AssertUnwindSafe(|| lp.block_on(&mut reader))).unwrap_err();
    assert_eq!(message(panicked), "sink panicked");
    let n = lp
        .block_on_timeout(Duration::from_secs(5), &mut reader)
        .expect("the reader whose fd was ready as the sink panicked ran")
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(h.fd_waiters(), 0);
    assert_eq!(h.stats().timers_armed, 0);
}

/// Panics when dropped.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("future panicked in drop");
    }
}

/// A task's future that panics in `Drop`, once finished or when aborted: the task ends as
/// panicked (its `JoinHandle` says so), it leaves the registry, and the loop goes on.
#[test]
fn a_future_panicking_in_drop_ends_its_task_as_panicked() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let finished = h.spawn(async {
        let _bomb = PanicsOnDrop;
        readyloop::yield_now().await;
        // The bomb goes off as the future's state is dropped, after this returns.
        1
    });
    let aborted = h.spawn(async {
        let _bomb = PanicsOnDrop;
        core::future::pending::<()>().await
    });
    lp.block_on(readyloop::yield_now());
    aborted.abort();
    let err = lp.block_on(finished).unwrap_err();
    assert_eq!(err.panic_message(), Some("future panicked in drop"));
    let err = lp.block_on(aborted).unwrap_err();
    assert!(err.is_panic() || err.is_cancelled(), "{err:?}");
    assert_eq!(h.stats().tasks_alive, 0);
    assert_eq!(lp.block_on(h.spawn(async { 2 })).unwrap(), 2);
}

/// An output nobody takes (its JoinHandle was dropped) panics in `Drop`: the panic
/// propagates, and the task has left the registry first.
#[test]
fn an_output_panicking_in_drop_leaves_the_registry_consistent() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    drop(h.spawn(async { PanicsOnDrop }));
    let panicked = catch_unwind(AssertUnwindSafe(|| lp.block_on(readyloop::yield_now())));
    assert_eq!(message(panicked.unwrap_err()), "future panicked in drop");
    assert_eq!(h.stats().tasks_alive, 0);
    assert_eq!(lp.block_on(h.spawn(async { 3 })).unwrap(), 3);
}
