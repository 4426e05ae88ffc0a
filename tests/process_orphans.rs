//! A child still running when its loop is dropped: its pidfd is parked, it turns zombie when
//! it exits, and `reap_orphans` (or the next spawn) reaps it. Each test waits for its child
//! to exit, sweeps, and checks the pid is gone from /proc (a leaked pidfd would leave it a
//! zombie forever).

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
    // Until it exits; the other test's sweep may reap it first (then it is gone already).
    while !matches!(proc_state(pid), Some('Z') | None) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    readyloop::process::reap_orphans();
    assert_eq!(proc_state(pid), None, "reap_orphans reaped it");
}

#[test]
fn child_held_by_a_task_when_the_loop_drops_is_reaped_by_reap_orphans() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let child = h.spawn_process(Command::new("sleep").arg("0.2")).unwrap();
    let pid = child.id();
    // The task owns the child and never finishes: the loop's teardown drops both, and the
    // child's drop runs while the loop is going away.
    drop(h.spawn(async move {
        let _child = child;
        core::future::pending::<()>().await
    }));
    lp.block_on(readyloop::yield_now());
    drop(h);
    drop(lp);
    let start = Instant::now();
    // Until it exits; the other test's sweep may reap it first (then it is gone already).
    while !matches!(proc_state(pid), Some('Z') | None) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    readyloop::process::reap_orphans();
    assert_eq!(proc_state(pid), None, "reap_orphans reaped it");
}
