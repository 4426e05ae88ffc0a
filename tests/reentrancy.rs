//! User code that the loop runs (a waker's `wake` and `Drop`, a done callback, a trace sink,
//! a future's `Drop`) may call back into the same loop: spawn, read stats, ask for a report,
//! set a promise. None of it may find the loop's tables borrowed (a `RefCell` panic) or a
//! `&mut` to a task's loop-thread state live (undefined behaviour, which Miri's Stacked
//! Borrows reports). `.ci/checks/40-miri.sh` runs this file under Miri on the epoll backend,
//! so every test here waits on pipes and the virtual clock only.

use core::pin::{pin, Pin};
use core::task::{Context, Poll, Waker};
use readyloop::sync::promise;
use readyloop::{Handle, Loop, ReadFd};
use std::cell::Cell;
use std::future::Future;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Wake;
use std::time::Duration;

/// A waker that is not readyloop's: `on_wake` runs when it is woken, `on_drop` when the last
/// clone is dropped. Both find the loop with `Handle::try_current` (a waker must be `Send`).
struct Hooked {
    on_wake: fn(),
    on_drop: fn(),
}

impl Wake for Hooked {
    fn wake(self: Arc<Self>) {
        (self.on_wake)();
    }
}

impl Drop for Hooked {
    fn drop(&mut self) {
        (self.on_drop)();
    }
}

fn hooked(on_wake: fn(), on_drop: fn()) -> Waker {
    Waker::from(Arc::new(Hooked { on_wake, on_drop }))
}

fn nothing() {}

static REENTERED: AtomicUsize = AtomicUsize::new(0);

/// Everything a callback may reasonably ask of its loop: a report, stats, a spawn.
fn use_the_loop() {
    if let Some(h) = Handle::try_current() {
        let report = h.pending_report().to_string();
        let stats = h.stats();
        assert!(stats.turns >= 1 || report.is_empty() || !report.is_empty());
        drop(h.spawn(async {}));
        REENTERED.fetch_add(1, Ordering::SeqCst);
    }
}

fn report_only() {
    if let Some(h) = Handle::try_current() {
        let _ = h.pending_report().to_string();
        REENTERED.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `fut` once with `waker`.
fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// A non-blocking pipe (Miri cannot make a socket non-blocking).
fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK | rustix::pipe::PipeFlags::CLOEXEC)
        .unwrap()
}

/// The reproduction: a JoinHandle is polled with one waker, then another; the first
/// is dropped while the handle stores the second, and its `Drop` asks for a report, which
/// reads the same task's loop-thread state.
#[test]
fn a_replaced_join_waker_may_report_on_its_own_task() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let before = REENTERED.load(Ordering::SeqCst);
    lp.block_on(async {
        let mut task = h.spawn_named("sleeper", core::future::pending::<()>());
        readyloop::yield_now().await;
        assert!(poll_with(&mut task, &hooked(nothing, report_only)).is_pending());
        // The stored clone of the first waker is the last one: replacing it drops it.
        assert!(poll_with(&mut task, &hooked(nothing, report_only)).is_pending());
        assert!(REENTERED.load(Ordering::SeqCst) > before);
        // Dropping the handle drops the second one the same way.
        drop(task);
    });
    assert!(REENTERED.load(Ordering::SeqCst) >= before + 2);
}

/// A join waker woken when its task completes (and then dropped) uses the loop.
#[test]
fn a_join_waker_woken_at_completion_may_use_the_loop() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let before = REENTERED.load(Ordering::SeqCst);
    let out = lp.block_on(async {
        let mut task = h.spawn(async {
            readyloop::yield_now().await;
            7
        });
        assert!(poll_with(&mut task, &hooked(use_the_loop, use_the_loop)).is_pending());
        task.await.unwrap()
    });
    assert_eq!(out, 7);
    assert!(REENTERED.load(Ordering::SeqCst) > before);
}

/// A waker the fd table holds is replaced (the task polled with another waker): the old
/// one's `Drop` uses the loop, and so does the new one's `wake` when the fd is ready.
#[test]
fn an_fd_waker_replaced_or_woken_may_use_the_loop() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, w) = pipe();
    let before = REENTERED.load(Ordering::SeqCst);
    let n = lp.block_on(async {
        let mut buf = [0u8; 4];
        let mut read = pin!(ReadFd::new(&h, r.as_fd(), &mut buf));
        let first = hooked(nothing, use_the_loop);
        assert!(read
            .as_mut()
            .poll(&mut Context::from_waker(&first))
            .is_pending());
        drop(first);
        let second = hooked(use_the_loop, use_the_loop);
        assert!(read
            .as_mut()
            .poll(&mut Context::from_waker(&second))
            .is_pending());
        drop(second);
        assert_eq!(rustix::io::write(&w, b"hi").unwrap(), 2);
        // The hooked waker is woken by the loop's dispatch (it does not wake this future);
        // then the read completes when polled with the real waker.
        readyloop::yield_now().await;
        readyloop::yield_now().await;
        read.await.unwrap()
    });
    assert_eq!(n, 2);
    assert!(REENTERED.load(Ordering::SeqCst) >= before + 2);
    assert_eq!(h.fd_waiters(), 0);
}

/// A waker the timer heap holds is replaced, then the timer is cancelled with the new one
/// in it: each `Drop` uses the loop.
#[test]
fn a_timer_waker_replaced_or_cancelled_may_use_the_loop() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let before = REENTERED.load(Ordering::SeqCst);
    lp.block_on(async {
        let mut sleep = h.sleep(Duration::from_secs(3600));
        assert!(poll_with(&mut sleep, &hooked(nothing, use_the_loop)).is_pending());
        assert!(poll_with(&mut sleep, &hooked(nothing, use_the_loop)).is_pending());
        assert!(REENTERED.load(Ordering::SeqCst) > before);
        drop(sleep);
    });
    assert!(REENTERED.load(Ordering::SeqCst) >= before + 2);
    assert_eq!(h.stats().timers_armed, 0);
}

/// A timer fires and the loop wakes a waker whose `wake` uses the loop.
#[test]
fn a_timer_waker_woken_may_use_the_loop() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let before = REENTERED.load(Ordering::SeqCst);
    lp.block_on(async {
        let mut sleep = h.sleep(Duration::from_secs(1));
        assert!(poll_with(&mut sleep, &hooked(use_the_loop, use_the_loop)).is_pending());
        h.sleep(Duration::from_secs(2)).await;
        assert!(poll_with(&mut sleep, Waker::noop()).is_ready());
    });
    assert!(REENTERED.load(Ordering::SeqCst) > before);
}

/// A trace sink that uses the loop on every event: stats, a report, a spawn (whose own
/// event the sink does not see: it is busy).
#[cfg(feature = "trace")]
#[test]
fn a_trace_sink_may_use_the_loop() {
    let events = Rc::new(Cell::new(0u32));
    let seen = events.clone();
    let lp = Loop::builder()
        .virtual_clock()
        .trace(move |_, _: &readyloop::trace::TraceEvent<'_>| {
            seen.set(seen.get() + 1);
            if let Some(h) = Handle::try_current() {
                let _ = h.stats();
                let _ = h.pending_report().to_string();
                // A few spawns (each spawned task makes events of its own).
                if seen.get() < 20 {
                    drop(h.spawn(async {}));
                }
            }
        })
        .build()
        .unwrap();
    let h = lp.handle();
    let (r, w) = pipe();
    let n = lp.block_on(async {
        let sleeper = h.spawn({
            let h = h.clone();
            async move { h.sleep(Duration::from_millis(5)).await }
        });
        let reader = h.spawn({
            let h = h.clone();
            async move {
                let mut buf = [0u8; 4];
                ReadFd::new(&h, r.as_fd(), &mut buf).await.unwrap()
            }
        });
        readyloop::yield_now().await;
        rustix::io::write(&w, b"abc").unwrap();
        sleeper.await.unwrap();
        reader.await.unwrap()
    });
    assert_eq!(n, 3);
    assert!(events.get() > 10);
    assert_eq!(h.fd_waiters(), 0);
}

/// A done callback runs when a promise is set: it may use the loop and set another
/// promise, whose own callback runs too.
#[test]
fn a_done_callback_may_use_the_loop() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let before = REENTERED.load(Ordering::SeqCst);
    let out = lp.block_on(async {
        let (first, first_done) = promise::<u32, ()>();
        let (second, second_done) = promise::<u32, ()>();
        first_done.add_done_callback(move |r| {
            use_the_loop();
            let n = match r {
                Ok(n) => *n,
                Err(_) => 0,
            };
            let _ = second.set_result(n + 1);
        });
        second_done.add_done_callback(|_| use_the_loop());
        let waiter = h.spawn(second_done);
        let _ = first.set_result(1);
        waiter.await.unwrap()
    });
    assert_eq!(out.unwrap(), 2);
    assert!(REENTERED.load(Ordering::SeqCst) >= before + 2);
}

/// Dropping the loop drops pending futures and join wakers: their `Drop`s may use the
/// handle (a spawn then is cancelled at once, a report is empty or partial).
#[test]
fn drops_during_the_loops_drop_may_use_the_handle() {
    struct UsesHandle(Handle);
    impl Drop for UsesHandle {
        fn drop(&mut self) {
            let _ = self.0.pending_report().to_string();
            let _ = self.0.stats();
            assert!(self.0.spawn(async {}).is_finished());
        }
    }
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let guard = UsesHandle(h.clone());
    let mut task = h.spawn(async move {
        let _g = guard;
        core::future::pending::<()>().await
    });
    lp.block_on(readyloop::yield_now());
    let keeper = UsesHandle(h.clone());
    let joined = lp.block_on(async {
        let w = hooked(nothing, nothing);
        poll_with(&mut task, &w).is_pending()
    });
    assert!(joined);
    drop(lp);
    drop(keeper);
    assert!(task.is_finished());
}

std::thread_local! {
    static EVENT: std::cell::RefCell<Option<readyloop::sync::Event>> =
        const { std::cell::RefCell::new(None) };
}

fn look_at_the_event() {
    EVENT.with(|e| {
        if let Some(e) = e.borrow().as_ref() {
            let _ = e.is_set();
            REENTERED.fetch_add(1, Ordering::SeqCst);
        }
    });
}

/// A waiter of a sync primitive is polled with one waker, then another, then dropped: each
/// replaced or withdrawn waker's `Drop` looks at the same primitive.
#[test]
fn a_sync_waiters_replaced_waker_may_use_the_primitive() {
    let lp = Loop::new().unwrap();
    let event = readyloop::sync::Event::new();
    EVENT.with(|e| *e.borrow_mut() = Some(event.clone()));
    let before = REENTERED.load(Ordering::SeqCst);
    lp.block_on(async {
        let mut wait = Box::pin(event.wait());
        let first = hooked(nothing, look_at_the_event);
        assert!(wait
            .as_mut()
            .poll(&mut Context::from_waker(&first))
            .is_pending());
        drop(first);
        let second = hooked(nothing, look_at_the_event);
        assert!(wait
            .as_mut()
            .poll(&mut Context::from_waker(&second))
            .is_pending());
        drop(second);
        drop(wait);
    });
    EVENT.with(|e| *e.borrow_mut() = None);
    assert_eq!(REENTERED.load(Ordering::SeqCst), before + 2);
}

/// A waker (not readyloop's) whose `clone` uses the loop: the fd table and the timer heap
/// clone a waker they keep, and must not be borrowed while they do.
#[test]
fn a_foreign_wakers_clone_may_use_the_loop() {
    use core::task::{RawWaker, RawWakerVTable};
    static VTABLE: RawWakerVTable = RawWakerVTable::new(
        |data| {
            use_the_loop();
            RawWaker::new(data, &VTABLE)
        },
        |_| {},
        |_| {},
        |_| {},
    );
    // SAFETY: the vtable's functions ignore the data pointer and are all no-ops but clone.
    let waker = unsafe { Waker::from_raw(RawWaker::new(core::ptr::null(), &VTABLE)) };
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    let (r, _w) = pipe();
    let before = REENTERED.load(Ordering::SeqCst);
    lp.block_on(async {
        let mut buf = [0u8; 4];
        let mut read = pin!(ReadFd::new(&h, r.as_fd(), &mut buf));
        assert!(read
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        let mut sleep = h.sleep(Duration::from_secs(5));
        assert!(poll_with(&mut sleep, &waker).is_pending());
        assert!(poll_with(&mut sleep, Waker::noop()).is_pending());
        assert!(poll_with(&mut sleep, &waker).is_pending());
    });
    assert!(REENTERED.load(Ordering::SeqCst) >= before + 3);
}
