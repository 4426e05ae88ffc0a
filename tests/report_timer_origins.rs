//! A timer wait in the stuck-task report says what armed it (sleep, timeout, interval) and
//! the source line that made it, through `Handle`'s methods and the free functions alike.

use readyloop::{Loop, TimerKind, WaitReport};
use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(60);

/// The origin of the one timer wait of task `id`, and the report's text.
fn origin_of(lp: &Loop, id: u64) -> (TimerKind, u32, String) {
    let h = lp.handle();
    lp.block_on(readyloop::yield_now());
    let report = h.pending_report();
    let waits = &report.task(id).expect("pending").waits;
    let origin = waits
        .iter()
        .find_map(|w| match w {
            WaitReport::Timer { origin, .. } => *origin,
            _ => None,
        })
        .expect("a timer wait with an origin");
    assert_eq!(origin.location.file(), file!());
    (origin.kind, origin.location.line(), report.to_string())
}

#[test]
fn sleep_timeout_and_interval_name_their_line() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();

    let (line, sleep) = (line!(), h.sleep(LONG));
    let t = h.spawn(sleep);
    let (kind, at, text) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Sleep, line));
    assert!(
        text.contains(&format!("(sleep at {}:{line}:", file!())),
        "{text}"
    );

    let (line, timeout) = (line!(), h.timeout(LONG, std::future::pending::<()>()));
    let t = h.spawn(timeout);
    let (kind, at, text) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Timeout, line));
    assert!(
        text.contains(&format!("(timeout at {}:{line}:", file!())),
        "{text}"
    );

    let (line, mut every) = (line!(), h.interval(LONG));
    let t = h.spawn(async move {
        every.tick().await;
        every.tick().await;
    });
    let (kind, at, _) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Interval, line));

    // Moving a sleep keeps its origin.
    let (line, sleep) = (line!(), h.sleep(LONG));
    let t = h.spawn({
        let h = h.clone();
        async move {
            let mut s = std::pin::pin!(sleep);
            std::future::poll_fn(|cx| {
                let _ = s.as_mut().poll(cx);
                std::task::Poll::Ready(())
            })
            .await;
            s.as_mut().reset(h.now() + 2 * LONG);
            s.await
        }
    });
    let (kind, at, _) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Sleep, line));
}

#[test]
fn free_functions_name_the_callers_line() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let line = Rc::new(Cell::new(0));

    let t = h.spawn({
        let line = line.clone();
        async move {
            let (at, sleep) = (line!(), readyloop::sleep(LONG));
            line.set(at);
            sleep.await
        }
    });
    let (kind, at, _) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Sleep, line.get()));

    let t = h.spawn({
        let line = line.clone();
        async move {
            let never = std::future::pending::<()>();
            let (at, timeout) = (line!(), readyloop::timeout(LONG, never));
            line.set(at);
            timeout.await
        }
    });
    let (kind, at, _) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Timeout, line.get()));

    let t = h.spawn({
        let line = line.clone();
        async move {
            let (at, mut every) = (line!(), readyloop::interval(LONG));
            line.set(at);
            every.tick().await;
            every.tick().await;
        }
    });
    let (kind, at, _) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Interval, line.get()));
}
