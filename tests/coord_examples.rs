//! The articles' programs in examples/ (chain, queue, random_int, futures, tasks, wait,
//! two_loops) run with `--fast` and print what the seeds show, in the order they show it.
//! Under valgrind they run with `--scale 0.1` instead: ten times slower, so the time
//! valgrind adds (about a second to start and end each program, milliseconds where a plain
//! run takes microseconds) stays small next to their sleeps.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;
use std::time::{Duration, Instant};

/// The examples' directory next to this test binary (target/<profile>/examples).
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples")
}

/// Builds the examples once: `cargo test` builds them already, `cargo test --test
/// coord_examples` does not.
fn build_examples() {
    static BUILD: Once = Once::new();
    BUILD.call_once(|| {
        let profile_release = examples_dir().parent().unwrap().ends_with("release");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--quiet", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cannot run cargo");
        assert!(status.success(), "building the examples failed");
    });
}

/// Runs an example with `args` (plus `--fast`, or `--scale 0.1` under valgrind) and returns
/// its stdout lines.
fn run(name: &str, args: &[&str]) -> Vec<String> {
    run_with(
        name,
        args,
        common::sized(&["--fast"][..], &["--scale", "0.1"][..]),
    )
}

fn run_with(name: &str, args: &[&str], speed: &[&str]) -> Vec<String> {
    build_examples();
    let start = Instant::now();
    let out = Command::new(examples_dir().join(name))
        .args(args)
        .args(speed)
        .output()
        .unwrap_or_else(|e| panic!("cannot run example {name}: {e}"));
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        start.elapsed() < common::scaled(Duration::from_secs(20)),
        "{name} took too long"
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn position(lines: &[String], text: &str) -> usize {
    lines
        .iter()
        .position(|l| l == text)
        .unwrap_or_else(|| panic!("no line {text:?} in {lines:#?}"))
}

/// The number in "... (took 12.34 seconds)." or "... Time: 3.00 seconds."
fn seconds_in(line: &str) -> f64 {
    let words: Vec<&str> = line.split_whitespace().collect();
    let i = words.iter().position(|w| w.starts_with("seconds")).unwrap();
    words[i - 1].trim_start_matches('(').parse().unwrap()
}

/// "function1(1) is sleeping for 4 seconds." -> 4
fn sleeping_for(line: &str) -> u64 {
    let rest = line.split("sleeping for ").nth(1).unwrap();
    rest.split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn chain_runs_function1_then_function2_per_chain_concurrently() {
    let lines = run("chain", &["1", "2", "3"]);
    let mut longest = 0;
    for n in 1..=3 {
        let f1 = lines
            .iter()
            .position(|l| l.starts_with(&format!("function1({n}) is sleeping")))
            .unwrap();
        let r1 = position(&lines, &format!("Returning function1({n}) == result{n}-1."));
        let f2 = lines
            .iter()
            .position(|l| l.starts_with(&format!("function2({n}, 'result{n}-1') is sleeping")))
            .unwrap();
        let done = lines
            .iter()
            .position(|l| {
                l.starts_with(&format!(
                    "--> Chained result{n} => result{n}-2 derived from result{n}-1 (took"
                ))
            })
            .unwrap();
        assert!(f1 < r1 && r1 < f2 && f2 < done, "chain {n} out of order");
        let planned = sleeping_for(&lines[f1]) + sleeping_for(&lines[f2]);
        let took = seconds_in(&lines[done]);
        assert!(
            took >= planned as f64 - 0.01,
            "chain {n}: {took} < {planned}"
        );
        longest = longest.max(planned);
    }
    // All three started before any finished its first step.
    let first_return = lines
        .iter()
        .position(|l| l.starts_with("Returning"))
        .unwrap();
    assert_eq!(
        lines[..first_return]
            .iter()
            .filter(|l| l.starts_with("function1("))
            .count(),
        3
    );
    let total = seconds_in(lines.last().unwrap());
    assert!(lines.last().unwrap().starts_with("Program Execution Time"));
    assert!(total >= longest as f64 - 0.01);
    // Concurrent: well under the sum of every sleep (the sum is at least longest * 1).
    assert!(
        total < longest as f64 + 8.0,
        "total {total}, longest chain {longest}"
    );
    // Fixed seed: the same story every run.
    assert_eq!(lines[..3], run("chain", &["1", "2", "3"])[..3]);
}

#[test]
fn queue_every_item_is_consumed_once_and_consumers_are_cancelled() {
    let lines = run("queue", &["-p", "2", "-c", "4"]);
    let added: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("Producer") && l.contains(" added <"))
        .map(|l| l.split('<').nth(1).unwrap().split('>').next().unwrap())
        .collect();
    let mut got: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("Consumer") && l.contains(" got element <"))
        .map(|l| l.split('<').nth(1).unwrap().split('>').next().unwrap())
        .collect();
    assert!(!added.is_empty());
    let mut added_sorted = added.clone();
    added_sorted.sort();
    got.sort();
    assert_eq!(added_sorted, got, "each item consumed exactly once");
    assert!(lines.iter().any(|l| l.starts_with("Consumer 3 ")));
    assert!(!lines.iter().any(|l| l.starts_with("Producer 2 ")));
    assert!(lines.last().unwrap().starts_with("Program Execution Time"));
}

#[test]
fn queue_rejects_bad_arguments_with_usage() {
    build_examples();
    let out = Command::new(examples_dir().join("queue"))
        .args(["-p", "many"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}

#[test]
fn random_int_gathers_three_results_in_order() {
    let lines = run("random_int", &[]);
    for indx in 0..3 {
        let started = position(&lines, &format!("Initiated generate_random_int({indx})."));
        let finished = lines
            .iter()
            .position(|l| l.starts_with(&format!("---> Finished: generate_random_int({indx}) == ")))
            .unwrap();
        assert!(started < finished);
        let value: u64 = lines[finished].rsplit(' ').next().unwrap().parse().unwrap();
        assert!(
            value > 10 - indx - 1,
            "{value} must beat threshold {}",
            10 - indx - 1
        );
    }
    let summary = lines
        .iter()
        .find(|l| l.starts_with("Random INT 1: "))
        .unwrap();
    let finished: Vec<String> = (0..3)
        .map(|i| {
            let l = lines
                .iter()
                .find(|l| l.starts_with(&format!("---> Finished: generate_random_int({i})")))
                .unwrap();
            l.rsplit(' ').next().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        summary,
        &format!(
            "Random INT 1: {}, Random INT 2: {}, Random INT 3: {}",
            finished[0], finished[1], finished[2]
        )
    );
}

#[test]
fn futures_foo_awaits_what_bar_resolves_after_3_seconds() {
    let lines = run("futures", &[]);
    assert_eq!(
        lines[..4],
        [
            "foo will await the future",
            "bar will sleep for 3 seconds",
            "bar resolving the future",
            "foo finds the future resolved",
        ]
    );
    let t = seconds_in(&lines[4]);
    assert!((3.0..30.0).contains(&t), "{t}");
}

#[test]
fn tasks_bar_says_hello_before_foo() {
    assert_eq!(run("tasks", &[]), ["Hello Bar", "Hello Foo"]);
}

#[test]
fn wait_prints_tasks_as_they_finish_then_done_and_pending() {
    assert_eq!(
        run("wait", &[]),
        [
            "---> wait",
            "sleep \"1\" sec",
            "sleep \"2\" sec",
            "done: [1, 2], pending: 0 task(s)",
            "---> wait(FIRST_COMPLETED)",
            "sleep \"1\" sec",
            "done: [1], pending: 1 task(s)",
        ]
    );
}

#[test]
fn two_loops_run_at_the_same_time_in_two_threads() {
    // 10 times faster only (2 times under valgrind): the margin to tell "at once" from "one
    // after the other" is the shorter sleep, which must stay well above scheduling noise.
    let lines = run_with("two_loops", &[], &["--scale", common::sized("0.1", "0.5")]);
    assert!(lines.contains(&"Is event loop running in thread MainThread = false".to_string()));
    assert!(lines.contains(&"Is event loop running in thread Thread-1 = true".to_string()));
    assert!(lines.contains(&"Is event loop running in thread Thread-2 = true".to_string()));
    let slept: Vec<u64> = lines
        .iter()
        .filter(|l| l.contains(" slept for "))
        .map(|l| {
            l.split(" slept for ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(slept.len(), 2);
    let total = seconds_in(lines.last().unwrap());
    let (longest, sum) = (*slept.iter().max().unwrap(), slept.iter().sum::<u64>());
    assert!(total >= longest as f64 - 0.01);
    // Two loops at once: about the longer sleep, not the sum of both.
    let shorter = sum - longest;
    assert!(shorter >= 1);
    assert!(
        total < sum as f64 - shorter as f64 / 2.0,
        "total {total} for sleeps {slept:?}"
    );
}
