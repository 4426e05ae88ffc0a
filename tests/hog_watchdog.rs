//! The hog watchdog: a task that runs longer than the threshold without yielding is named
//! (id, name, time run) from the watchdog's thread, once per such poll; tasks that yield
//! are never named; `#[readyloop::test]` has it on.

use readyloop::{HogReport, Loop};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn watched(threshold: Duration) -> (Loop, Arc<Mutex<Vec<HogReport>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let lp = Loop::builder()
        .hog_watchdog_with(threshold, move |r| sink.lock().unwrap().push(r.clone()))
        .build()
        .unwrap();
    (lp, seen)
}

#[test]
fn a_blocking_task_is_named_once_with_its_time() {
    let (lp, seen) = watched(Duration::from_millis(50));
    let h = lp.handle();
    let quick = h.spawn_named("quick", async {});
    let hog = h.spawn_named("cruncher", async {
        std::thread::sleep(Duration::from_millis(300));
    });
    lp.block_on(async {
        quick.await.unwrap();
        hog.await.unwrap();
    });
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let r = &seen[0];
    assert_eq!((r.task, r.name.as_deref()), (2, Some("cruncher")));
    // Named while it ran: the watchdog looks every threshold / 4 (a loaded machine may
    // delay it, so only the lower bound is exact).
    assert!(r.ran_for >= Duration::from_millis(50), "{r:?}");
    assert_eq!(r.threshold, Duration::from_millis(50));
    let line = r.to_string();
    assert!(
        line.starts_with("readyloop hog watchdog: task 2 (cruncher) has run 0."),
        "{line}"
    );
}

#[test]
fn tasks_that_yield_are_never_named() {
    // 200 ms: far above each 1 ms slice, even when a loaded machine stretches it.
    let (lp, seen) = watched(Duration::from_millis(200));
    let h = lp.handle();
    lp.block_on(async {
        // 400 ms of work in 1 ms slices, each followed by a yield; then a 300 ms sleep.
        for _ in 0..400 {
            std::thread::sleep(Duration::from_millis(1));
            readyloop::yield_now().await;
        }
        h.sleep(Duration::from_millis(300)).await;
    });
    assert!(
        seen.lock().unwrap().is_empty(),
        "{:?}",
        seen.lock().unwrap()
    );
}

#[test]
fn the_block_on_future_is_named_too() {
    let (lp, seen) = watched(Duration::from_millis(20));
    lp.block_on(async { std::thread::sleep(Duration::from_millis(150)) });
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].task, 0);
    assert!(seen[0].to_string().contains("the block_on future has run"));
}

/// Run only by `readyloop_test_has_the_watchdog_on`, in a child process.
#[readyloop::test(timeout = "10s")]
#[ignore = "blocks on purpose: run by readyloop_test_has_the_watchdog_on"]
async fn blocks_on_purpose() {
    std::thread::sleep(readyloop::__private::TEST_HOG_THRESHOLD + Duration::from_millis(300));
}

#[test]
fn readyloop_test_has_the_watchdog_on() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "blocks_on_purpose",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("readyloop hog watchdog: the block_on future has run 1."),
        "{text}"
    );
}
