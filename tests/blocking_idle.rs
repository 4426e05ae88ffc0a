//! The spawn_blocking pool's helper threads exit after IDLE_TIMEOUT without work.
//! (Its own test binary: it counts the process's helper threads.)

use readyloop::blocking::IDLE_TIMEOUT;
use readyloop::Loop;
use std::time::{Duration, Instant};

/// Threads of this process named like the pool's helpers.
fn helper_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "readyloop-pool")
        .count()
}

#[test]
fn idle_helpers_exit() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let jobs: Vec<_> = (0..3)
        .map(|_| h.spawn_blocking(|| std::thread::sleep(Duration::from_millis(50))))
        .collect();
    lp.block_on(readyloop::join_all(jobs));
    let busy = helper_threads();
    assert!(
        (1..=readyloop::blocking::MAX_THREADS).contains(&busy),
        "{busy} helpers"
    );
    // The loop is still alive: only idleness makes its helpers go.
    let deadline = Instant::now() + IDLE_TIMEOUT + Duration::from_secs(5);
    while helper_threads() > 0 {
        assert!(
            Instant::now() < deadline,
            "helpers still alive after the idle timeout"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // And the pool starts threads again when needed.
    assert_eq!(lp.block_on(h.spawn_blocking(|| 1)).unwrap(), 1);
}
