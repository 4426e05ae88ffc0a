//! A timer wait in the stuck-task report says what armed it (sleep, timeout, interval) and
//! the source line that made it, through `Handle`'s methods and the free functions alike.

use readyloop::{Loop, TimerKind, WaitReport};
use std::future::Future;
use std::time::Duration;

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

    let t = h.spawn({
        let h = h.clone();
        async move { h.sleep(Duration::from_secs(60)).await }
    });
    let line = line!() - 2;
    let (kind, at, text) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Sleep, line));
    assert!(
        text.contains(&format!("(sleep at {}:{line}:", file!())),
        "{text}"
    );

    let t = h.spawn({
        let h = h.clone();
        async move {
            h.timeout(Duration::from_secs(60), std::future::pending::<()>())
                .await
        }
    });
    let line = line!() - 2;
    let (kind, at, text) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Timeout, line));
    assert!(
        text.contains(&format!("(timeout at {}:{line}:", file!())),
        "{text}"
    );

    let t = h.spawn({
        let h = h.clone();
        async move {
            let mut every = h.interval(Duration::from_secs(60));
            every.tick().await;
            every.tick().await;
        }
    });
    let line = line!() - 5;
    let (kind, at, _) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Interval, line));

    // Moving a sleep keeps its origin.
    let t = h.spawn({
        let h = h.clone();
        async move {
            let mut s = std::pin::pin!(h.sleep(Duration::from_secs(60)));
            std::future::poll_fn(|cx| {
                let _ = s.as_mut().poll(cx);
                std::task::Poll::Ready(())
            })
            .await;
            let far = h.now() + Duration::from_secs(120);
            s.as_mut().reset(far);
            s.await
        }
    });
    let line = line!() - 11;
    let (kind, at, _) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Sleep, line));
}

#[test]
fn free_functions_name_the_callers_line() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let t = h.spawn(async { readyloop::sleep(Duration::from_secs(60)).await });
    let line = line!() - 1;
    assert_eq!(origin_of(&lp, t.id()).1, line);
    let t = h.spawn(async {
        readyloop::timeout(Duration::from_secs(60), std::future::pending::<()>()).await
    });
    let line = line!() - 1;
    let (kind, at, _) = origin_of(&lp, t.id());
    assert_eq!((kind, at), (TimerKind::Timeout, line));
    let t = h.spawn(async {
        let mut every = readyloop::interval(Duration::from_secs(60));
        every.tick().await;
        every.tick().await;
    });
    let line = line!() - 4;
    assert_eq!(origin_of(&lp, t.id()).1, line);
}
