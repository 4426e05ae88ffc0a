//! promise(): hand-set futures (asyncio.Future) with several waiters, errors, cancel and
//! done callbacks.

use readyloop::sync::{promise, FutureError};
use readyloop::{gather, yield_now, Loop};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

#[test]
fn foo_awaits_what_bar_resolves() {
    // Seed 002, answer 3, "Futures": foo awaits a future that bar resolves after a while.
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let log = Rc::new(RefCell::new(Vec::new()));
    let (p, f) = promise::<&str, ()>();
    let start = Instant::now();
    let foo = {
        let log = log.clone();
        async move {
            log.borrow_mut().push("foo will await the future");
            let r = f.await.unwrap();
            log.borrow_mut().push("foo finds the future resolved");
            r
        }
    };
    let bar = {
        let (log, h) = (log.clone(), h.clone());
        async move {
            log.borrow_mut().push("bar will sleep");
            h.sleep(Duration::from_millis(30)).await;
            log.borrow_mut().push("bar resolving the future");
            p.set_result("future is resolved").unwrap();
        }
    };
    let (r, ()) = lp.block_on(gather((foo, bar)));
    assert_eq!(r, "future is resolved");
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(
        *log.borrow(),
        [
            "foo will await the future",
            "bar will sleep",
            "bar resolving the future",
            "foo finds the future resolved"
        ]
    );
}

#[test]
fn every_waiter_gets_the_result() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (p, f) = promise::<String, ()>();
    let waiters: Vec<_> = (0..5).map(|_| h.spawn(f.clone())).collect();
    lp.block_on(yield_now());
    p.set_result("shared".into()).unwrap();
    for w in waiters {
        assert_eq!(lp.block_on(w).unwrap(), Ok("shared".to_string()));
    }
    // A waiter arriving after the fact gets it at once.
    assert_eq!(lp.block_on(f), Ok("shared".to_string()));
}

#[test]
fn setting_twice_is_an_error_not_a_panic() {
    let (p, f) = promise::<u8, &str>();
    p.set_result(1).unwrap();
    let again = p.set_result(2).unwrap_err();
    assert_eq!(again.0, 2);
    assert!(again.to_string().contains("already"));
    assert_eq!(p.set_error("late").unwrap_err().0, "late");
    assert!(!p.cancel());
    assert_eq!(f.result(), Some(Ok(1)));
}

#[test]
fn set_error_reaches_every_waiter() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (p, f) = promise::<u8, &str>();
    let waiters: Vec<_> = (0..3).map(|_| h.spawn(f.clone())).collect();
    lp.block_on(yield_now());
    p.set_error("refused").unwrap();
    for w in waiters {
        assert_eq!(lp.block_on(w).unwrap(), Err(FutureError::Failed("refused")));
    }
    assert_eq!(
        FutureError::Failed("refused").to_string(),
        "the future failed: refused"
    );
}

#[test]
fn cancel_wakes_every_waiter_with_cancelled() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (p, f) = promise::<u8, ()>();
    let waiters: Vec<_> = (0..4).map(|_| h.spawn(f.clone())).collect();
    lp.block_on(yield_now());
    assert!(p.cancel());
    for w in waiters {
        let r = lp.block_on(w).unwrap();
        assert_eq!(r, Err(FutureError::Cancelled));
        assert!(r.unwrap_err().is_cancelled());
    }
    assert!(f.is_cancelled());
    assert_eq!(h.stats().tasks_alive, 0);
}

#[test]
fn a_dropped_promise_cancels_instead_of_hanging() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (p, f) = promise::<u8, ()>();
    let waiter = h.spawn(f);
    lp.block_on(yield_now());
    drop(p);
    assert_eq!(lp.block_on(waiter).unwrap(), Err(FutureError::Cancelled));
}

#[test]
fn done_callbacks_run_once_in_order_even_when_added_late() {
    let (p, f) = promise::<u8, ()>();
    let log = Rc::new(RefCell::new(Vec::new()));
    for name in ["first", "second"] {
        let log = log.clone();
        f.add_done_callback(move |r| log.borrow_mut().push(format!("{name}: {r:?}")));
    }
    p.set_result(5).unwrap();
    let late = log.clone();
    p.add_done_callback(move |_| late.borrow_mut().push("late".into()));
    let _ = p.set_result(6);
    assert_eq!(*log.borrow(), ["first: Ok(5)", "second: Ok(5)", "late"]);
}

#[test]
fn a_callback_may_settle_another_promise() {
    let lp = Loop::new().unwrap();
    let (p1, f1) = promise::<u8, ()>();
    let (p2, f2) = promise::<u8, ()>();
    // Chained like seed 003's Task._wakeup: the first result resolves the second future.
    f1.add_done_callback(move |r| {
        p2.set_result((*r).unwrap() + 1).unwrap();
    });
    p1.set_result(1).unwrap();
    assert_eq!(lp.block_on(f2), Ok(2));
    drop(f1);
}

#[test]
fn an_aborted_waiter_leaves_nothing_behind() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (p, f) = promise::<u8, ()>();
    let gone = h.spawn(f.clone());
    let kept = h.spawn(f.clone());
    lp.block_on(yield_now());
    gone.abort();
    lp.block_on(yield_now());
    p.set_result(3).unwrap();
    assert_eq!(lp.block_on(kept).unwrap(), Ok(3));
    assert!(lp.block_on(gone).unwrap_err().is_cancelled());
}
