//! The articles' programs (examples/) run as the articles show: order of output and timing.
//! Durations are shortened with READYLOOP_SCALE so the suite stays quick. Under valgrind
//! every duration, and every bound on them, is five times longer: valgrind adds about a
//! second and a half to start and end each program, more than the margins of a plain run.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// How much longer the programs' durations are here: 1, or 5 under valgrind.
fn stretch() -> u32 {
    common::sized(1, 5)
}

/// `n` milliseconds of the programs' time, stretched.
fn ms(n: u64) -> Duration {
    Duration::from_millis(n) * stretch()
}

/// Path of a built example: cargo builds examples next to the test binaries' `deps/`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("examples").join(name)
}

fn run(name: &str, scale: f64, args: &[&str]) -> (String, Duration) {
    let start = Instant::now();
    let out = Command::new(example(name))
        .args(args)
        .env(
            "READYLOOP_SCALE",
            (scale * f64::from(stretch())).to_string(),
        )
        .output()
        .unwrap_or_else(|e| panic!("cannot run example {name}: {e} (cargo test builds examples)"));
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8(out.stdout).unwrap(), took)
}

#[test]
fn sleeps_end_in_completion_order_in_the_longest_time() {
    let (out, took) = run("sleeps", 0.1, &[]);
    assert!(out.starts_with(r#"["Sleep 1 over", "Sleep 2 over", "Sleep 3 over", "Sleep 4 over"]"#));
    assert!(took >= ms(400), "{took:?}");
    assert!(took < ms(1400), "{took:?}: sleeps must overlap");
}

#[test]
fn print_every_period_interleaves_like_seed_001() {
    let (out, took) = run("print_every_period", 0.1, &[]);
    let lines: Vec<&str> = out.lines().collect();
    let dots_then_messages = [
        "...",
        "...",
        "...",
        "First message!",
        "Second message!",
        "...",
    ];
    assert_eq!(&lines[..6], &dots_then_messages, "{out}");
    assert_eq!(lines.iter().filter(|l| **l == "...").count(), 12);
    assert_eq!(lines.iter().filter(|l| **l == "First message!").count(), 3);
    assert!(lines.last().unwrap().contains("Print 1 over"));
    assert!(took >= ms(300) && took < ms(1300));
}

#[test]
fn sleepy_takes_half_a_second_not_two_and_a_half() {
    let (out, took) = run("sleepy", 1.0, &[]);
    let steps: Vec<&str> = out.lines().filter(|l| l.contains(" step ")).collect();
    assert_eq!(steps.len(), 25);
    // Round-robin: every coroutine does step k before any does step k+1.
    for (i, line) in steps.iter().enumerate() {
        assert!(
            line.starts_with(&format!("coroutine {} step {}", i % 5, i / 5 + 1)),
            "{line}"
        );
    }
    assert!(took >= ms(500) && took < ms(1500), "{took:?}");
}

#[test]
fn read_urandom_interleaves_with_the_background_sleeper() {
    let (out, took) = run("read_urandom", 1.0, &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("id background round 1"), "{out}");
    assert!(out.contains("got 32768 B"));
    let done = lines
        .iter()
        .position(|l| l.starts_with("done /dev/urandom"))
        .unwrap();
    let last_round = lines
        .iter()
        .position(|l| l.starts_with("id background round 5"))
        .unwrap();
    assert!(
        done < last_round,
        "the read finishes while the sleeper still sleeps: {out}"
    );
    assert!(took < ms(1500));
}

#[test]
fn send_updates_run_on_one_thread_in_the_longest_time() {
    let (out, took) = run("send_updates", 0.05, &[]);
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("Sending")).collect();
    assert_eq!(lines.len(), 19);
    assert!(out.contains("[1.0] Sending update 10/10."));
    assert!(out.contains("[3.0] Sending update 4/4."));
    // Updates come in time order: [1.0] 1/10 first, and [3.0] 4/4 (t=12) last.
    assert_eq!(lines[0], "[1.0] Sending update 1/10.");
    assert_eq!(*lines.last().unwrap(), "[3.0] Sending update 4/4.");
    assert!(took >= ms(600) && took < ms(2000), "{took:?}");
}

#[test]
fn count_prints_each_word_five_times_in_three_seconds() {
    let (out, took) = run("count", 0.1, &[]);
    assert!(
        out.starts_with("One One One One One Two Two Two Two Two Three Three Three Three Three \n")
    );
    assert!(took >= ms(300) && took < ms(1200), "{took:?}");
    let (sync_out, sync_took) = run("count", 0.02, &["--sync"]);
    assert!(sync_out.starts_with("One Two Three One Two Three"));
    assert!(sync_took >= ms(300), "synchronous takes 5x as long");
}
