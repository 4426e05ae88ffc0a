//! A child still running when its loop is dropped: its pidfd is parked, it turns zombie when
//! it exits, and `reap_orphans` (or the next spawn) reaps it. Alone in its binary so that no
//! other test's spawn sweeps the parked pidfd first.

use readyloop::Loop;
use std::process::Command;
use std::time::{Duration, Instant};

/// The state letter of `/proc/PID/stat` (`Z` for a zombie), `None` once the pid is gone.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.chars().next()
}

#[test]
fn child_outliving_its_loop_is_reaped_by_reap_orphans() {
    let lp = Loop::new().unwrap();
    let child = lp
        .handle()
        .spawn_process(Command::new("sleep").arg("0.2"))
        .unwrap();
    let pid = child.id();
    drop(child);
    drop(lp); // the reaping task goes with the loop; the pidfd is parked
    let start = Instant::now();
    while proc_state(pid) != Some('Z') && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(proc_state(pid), Some('Z'), "exited, not yet reaped");
    readyloop::process::reap_orphans();
    assert_eq!(proc_state(pid), None, "reap_orphans reaped it");
}
