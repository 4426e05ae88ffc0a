//! Sleepers: deadline order, FIFO among equal deadlines, never early, odd deadlines.

use readyloop::Loop;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

mod common;

#[test]
fn timers_fire_in_deadline_order_fifo_among_equals_and_never_early() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    // Every timer must be armed before the first deadline (valgrind arms them slowly).
    let base = h.now() + common::scaled(Duration::from_millis(20));
    let fired = Rc::new(RefCell::new(Vec::new()));
    // Deadlines with many ties: (i * 7) % 5 ms after base.
    let mut tasks = Vec::new();
    for i in 0..60u64 {
        let deadline = base + Duration::from_millis((i * 7) % 5);
        let (h2, fired) = (h.clone(), fired.clone());
        tasks.push(h.spawn(async move {
            h2.sleep_until(deadline).await;
            let woke = h2.now();
            assert!(woke >= deadline, "timer {i} fired early");
            fired.borrow_mut().push((deadline, i));
        }));
    }
    lp.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    let fired = fired.borrow();
    let mut sorted = fired.clone();
    sorted.sort(); // by deadline, then by spawn (= registration) order
    assert_eq!(*fired, sorted);
    assert_eq!(h.stats().timers_armed, 0);
}

#[test]
fn a_deadline_in_the_past_completes_at_once() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let past = readyloop::Instant::from_nanos(1);
    let start = std::time::Instant::now();
    lp.block_on(h.sleep_until(past));
    lp.block_on(h.sleep(Duration::ZERO));
    assert!(start.elapsed() < common::scaled(Duration::from_millis(50)));
    assert_eq!(h.stats().timers_armed, 0);
}

#[test]
fn duration_max_does_not_overflow_and_never_fires() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let forever = h.spawn({
        let h = h.clone();
        async move { h.sleep(Duration::MAX).await }
    });
    let far = h.spawn({
        let h = h.clone();
        async move { h.sleep(Duration::from_secs(u64::MAX)).await }
    });
    // Long enough that both tasks have run (and armed their timers) when it ends.
    lp.block_on(h.sleep(common::scaled(Duration::from_millis(10))));
    assert!(!forever.is_finished() && !far.is_finished());
    assert_eq!(h.stats().timers_armed, 2);
    forever.abort();
    far.abort();
    assert!(lp.block_on(forever).unwrap_err().is_cancelled());
    assert!(lp.block_on(far).unwrap_err().is_cancelled());
    assert_eq!(h.stats().timers_armed, 0);
}

#[test]
fn the_wait_is_as_long_as_the_nearest_deadline_with_nanosecond_timeouts() {
    // A 1.5 ms sleep must not be rounded up to 2 ms (millisecond poll timeouts) nor end early.
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut late = Vec::new();
    for _ in 0..50 {
        let start = std::time::Instant::now();
        lp.block_on(h.sleep(Duration::from_micros(1500)));
        let took = start.elapsed();
        assert!(took >= Duration::from_micros(1500), "early: {took:?}");
        late.push(took - Duration::from_micros(1500));
    }
    late.sort();
    // A loop that rounds 1.5 ms up to 2 ms is always at least 0.5 ms late; this one is not.
    // (The fastest of 50 is used so a loaded machine's scheduling noise cannot fail it.)
    assert!(
        late[0] < Duration::from_micros(450),
        "fastest lateness {:?}",
        late[0]
    );
    assert!(
        late[25] < Duration::from_millis(5),
        "median lateness {:?}",
        late[25]
    );
    // One poll per sleep: nothing busy-waits.
    assert!(h.stats().polls <= 50 * 3, "{:?}", h.stats());
}

#[test]
fn a_dropped_sleep_cancels_its_timer_and_reset_reuses_it() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    lp.block_on(async {
        let mut s = Box::pin(h.sleep(Duration::from_secs(60)));
        // Poll once so it registers.
        let _ = futures_poll_once(s.as_mut()).await;
        assert_eq!(h.stats().timers_armed, 1);
        s.as_mut().reset(h.now() + Duration::from_millis(5));
        s.as_mut().await;
        assert_eq!(h.stats().timers_armed, 0);
        let s2 = h.sleep(Duration::from_secs(60));
        let mut s2 = Box::pin(s2);
        let _ = futures_poll_once(s2.as_mut()).await;
        assert_eq!(h.stats().timers_armed, 1);
        drop(s2);
        assert_eq!(h.stats().timers_armed, 0);
    });
}

/// Polls a future once, returning whether it was ready.
async fn futures_poll_once<F: std::future::Future + Unpin>(mut f: F) -> bool {
    std::future::poll_fn(move |cx| {
        std::task::Poll::Ready(std::pin::Pin::new(&mut f).poll(cx).is_ready())
    })
    .await
}
