//! timeout / timeout_at / sleep_until: Elapsed, dropping the inner future, and cancelled
//! timers when a timeout is dropped.

use readyloop::{select, sleep_until, Either, ErrorKind, Loop};
use std::cell::Cell;
use std::future::{pending, poll_fn, Future};
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

struct DropFlag(Rc<Cell<bool>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn finishes_in_time() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let r = lp.block_on(lp.handle().timeout(ms(500), async {
        h.sleep(ms(5)).await;
        "made it"
    }));
    assert_eq!(r, Ok("made it"));
    assert_eq!(h.stats().timers_armed, 0);
    // A ready future wins even with a zero timeout: the inner future is polled first.
    assert_eq!(
        lp.block_on(lp.handle().timeout(Duration::ZERO, async { 1 })),
        Ok(1)
    );
}

#[test]
fn elapses_never_early_and_drops_the_inner_future() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let dropped = Rc::new(Cell::new(false));
    let flag = DropFlag(dropped.clone());
    let start = Instant::now();
    let r = lp.block_on(async {
        let r = h
            .timeout(ms(30), async move {
                let _flag = flag;
                pending::<()>().await
            })
            .await;
        // Dropped at the deadline, not later when the Timeout goes.
        assert!(dropped.get());
        r
    });
    let el = start.elapsed();
    assert!(el >= ms(30), "never early: {el:?}");
    assert!(el < ms(500), "{el:?}");
    let e = r.unwrap_err();
    assert!(e.to_string().contains("timed out"), "{e}");
    let err: readyloop::Error = e.into();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    let io: std::io::Error = e.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(h.stats().timers_armed, 0);
}

#[test]
fn a_dropped_timeout_cancels_its_timer() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    lp.block_on(async {
        let mut t = Box::pin(h.timeout(Duration::from_secs(60), pending::<()>()));
        // One poll arms the timer.
        poll_fn(|cx| {
            assert!(t.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        assert_eq!(h.stats().timers_armed, 1);
        drop(t);
        assert_eq!(h.stats().timers_armed, 0);
    });
    // Also when it loses a race.
    let r = lp.block_on(select(
        h.timeout(Duration::from_secs(60), pending::<()>()),
        h.sleep(ms(2)),
    ));
    assert!(matches!(r, Either::Right(())));
    assert_eq!(h.stats().timers_armed, 0);
}

#[test]
fn aborting_a_task_in_a_timeout_disarms_everything() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let h2 = h.clone();
    let task = h.spawn(async move {
        h2.timeout(Duration::from_secs(60), h2.sleep(Duration::from_secs(30)))
            .await
    });
    lp.block_on(readyloop::yield_now());
    lp.block_on(readyloop::yield_now());
    assert_eq!(h.stats().timers_armed, 2);
    task.abort();
    lp.block_on(readyloop::yield_now());
    lp.block_on(readyloop::yield_now());
    assert_eq!(h.stats().timers_armed, 0);
    assert!(lp.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn timeout_at_and_sleep_until() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let when = h.now() + ms(15);
    let r = lp.block_on(h.timeout_at(when, pending::<()>()));
    assert_eq!(r.unwrap_err().deadline(), when);
    assert!(h.now() >= when);
    let when = h.now() + ms(15);
    lp.block_on(async { sleep_until(when).await });
    assert!(h.now() >= when);
    // A deadline in the past completes at once.
    let start = Instant::now();
    lp.block_on(async { sleep_until(h.now()).await });
    assert!(start.elapsed() < ms(100));
}
