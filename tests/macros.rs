//! `#[readyloop::test]` and `#[readyloop::main]`: a fresh loop per test, the handle as an
//! argument or from `Handle::current()`, `Result` tests, and the deadline that turns a hang
//! into a failure.

use readyloop::{Handle, Loop};
use std::process::Command;
use std::time::{Duration, Instant};

#[readyloop::test]
async fn the_body_runs_on_a_loop_passed_as_an_argument(handle: Handle) {
    let start = handle.now();
    handle.sleep(Duration::from_millis(20)).await;
    assert!(handle.now() - start >= Duration::from_millis(20));
    let task = handle.spawn(async { 40 + 2 });
    assert_eq!(task.await.unwrap(), 42);
}

#[readyloop::test]
async fn the_body_finds_its_loop_with_current() {
    let handle = Handle::current();
    readyloop::sleep(Duration::from_millis(1)).await;
    assert_eq!(handle.stats().tasks_alive, 0);
}

#[readyloop::test]
async fn each_test_gets_a_fresh_loop(handle: Handle) {
    // Nothing left over from other tests: no tasks, only the loop's own notifier fd.
    let stats = handle.stats();
    assert_eq!(stats.tasks_alive, 0);
    assert_eq!(stats.fds_registered, 1);
}

#[readyloop::test(timeout = "5s")]
async fn a_test_may_return_a_result(handle: Handle) -> Result<(), readyloop::Error> {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    std::io::Write::write_all(&mut &b, b"hi").unwrap();
    let mut buf = [0u8; 2];
    let n = readyloop::ReadFd::new(&handle, std::os::fd::AsFd::as_fd(&a), &mut buf).await?;
    assert_eq!(&buf[..n], b"hi");
    Ok(())
}

#[readyloop::test(timeout = "150ms")]
#[should_panic(expected = "did not finish within 150ms")]
async fn a_hanging_test_fails_at_its_deadline(handle: Handle) {
    handle.sleep(Duration::from_secs(3600)).await;
}

#[readyloop::test(timeout = "2s")]
#[should_panic(expected = "the body's own panic")]
async fn a_panicking_body_fails_the_test() {
    panic!("the body's own panic");
}

#[test]
fn a_stuck_test_fails_in_time_rather_than_hanging() {
    // The deadline of `a_hanging_test_fails_at_its_deadline` is 150 ms: the failure must come
    // no earlier than that and long before the sleep (an hour) would end.
    let start = Instant::now();
    let result = std::panic::catch_unwind(|| {
        readyloop::__private::run_test(150, "stuck", |handle| async move {
            handle.sleep(Duration::from_secs(3600)).await;
        })
    });
    let elapsed = start.elapsed();
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.contains("`stuck` did not finish within 150ms"),
        "{message}"
    );
    assert!(
        message.contains("timeout = "),
        "the message names the fix: {message}"
    );
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn main_runs_the_body_and_returns_its_output() {
    #[readyloop::main]
    async fn main(handle: Handle) -> Result<u32, String> {
        let task = handle.spawn(async { 7 });
        Ok(task.await.map_err(|e| e.to_string())? * 6)
    }
    assert_eq!(main(), Ok(42));
    // A second "main" builds its own loop: nothing is left running on this thread.
    assert!(Handle::try_current().is_none());
    let lp = Loop::new().unwrap();
    assert_eq!(lp.block_on(async { 1 }), 1);
}

#[test]
fn bad_attribute_arguments_are_compile_errors() {
    // Each case is compiled by rustc as a tiny crate using the attribute crate this test was
    // built with; every case fails inside the macro, so readyloop itself is not needed.
    let Some(macros) = proc_macro_library() else {
        eprintln!("skipped: cannot find the readyloop-macros library next to this test");
        return;
    };
    let cases: &[(&str, &str)] = &[
        (
            "#[m::test(timeout = \"5 parsecs\")] async fn t() {}",
            "unknown unit in the timeout",
        ),
        (
            "#[m::test(timeout = \"0s\")] async fn t() {}",
            "longer than zero",
        ),
        (
            "#[m::test(timeout = 5)] async fn t() {}",
            "expected `#[readyloop::test]`",
        ),
        (
            "#[m::test(deadline = \"5s\")] async fn t() {}",
            "unknown argument `deadline`",
        ),
        (
            "#[m::test(virtual_clok)] async fn t() {}",
            "unknown argument `virtual_clok`",
        ),
        (
            "#[m::test(shuffle = 0)] async fn t() {}",
            "a whole number above zero",
        ),
        (
            "#[m::test(start_paused = maybe)] async fn t() {}",
            "is `true` or `false`",
        ),
        ("#[m::test] fn t() {}", "goes on an `async fn`"),
        (
            "#[m::test] async fn t(a: u8, b: u8) {}",
            "at most one argument",
        ),
        (
            "#[m::test] async fn t<T>() {}",
            "does not support generic parameters",
        ),
        (
            "#[m::test] async fn t() where u8: Copy {}",
            "`where` clauses",
        ),
        ("#[m::main(x)] async fn main() {}", "takes no arguments"),
    ];
    let dir = std::env::temp_dir().join(format!("readyloop-macro-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (source, expected)) in cases.iter().enumerate() {
        let file = dir.join(format!("case{i}.rs"));
        std::fs::write(
            &file,
            format!("extern crate m;\n{source}\nfn main() {{}}\n"),
        )
        .unwrap();
        let out = Command::new("rustc")
            .args(["--edition", "2021", "--crate-type", "bin", "--test", "-o"])
            .arg(dir.join(format!("case{i}")))
            .arg("--extern")
            .arg(format!("m={}", macros.display()))
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("incompatible version of rustc") {
            eprintln!("skipped: rustc on PATH is not the one that built the macros");
            break;
        }
        assert!(!out.status.success(), "case {i} compiled: {source}");
        assert!(
            stderr.contains(expected),
            "case {i} ({source}): expected {expected:?} in\n{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The newest `libreadyloop_macros-*.so` in target/<profile>/deps, next to this test binary.
fn proc_macro_library() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    let mut found: Vec<_> = std::fs::read_dir(deps)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("libreadyloop_macros-") && name.ends_with(".so")
        })
        .collect();
    found.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    found.pop()
}

#[test]
fn the_failure_reports_what_each_pending_task_waits_for() {
    let result = std::panic::catch_unwind(|| {
        readyloop::__private::run_test(100, "report", |handle| async move {
            let (a, _b) = readyloop::net::UnixStream::pair(&handle).unwrap();
            let h = handle.clone();
            handle.spawn_named("hour-sleeper", async move {
                h.sleep(Duration::from_secs(3600)).await;
            });
            let mut buf = [0u8; 4];
            let _ = a.recv(&mut buf).await; // nobody writes
        })
    });
    let message = *result.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("`report` did not finish"), "{message}");
    assert!(message.contains("waiting READABLE on fd"), "{message}");
    assert!(
        message.contains("(hour-sleeper) waiting on timer"),
        "{message}"
    );
}

/// Run only by `a_stuck_test_reports_its_own_file_and_line`, in a child process.
#[readyloop::test(timeout = "100ms")]
#[ignore = "hangs on purpose: run by a_stuck_test_reports_its_own_file_and_line"]
async fn stuck_on_purpose(handle: Handle) {
    handle.sleep(Duration::from_secs(3600)).await;
}

/// The panic of a stuck test points at the test (the line of its name in this file), not at
/// readyloop's `src/private.rs`: the location the test harness prints is where to look.
#[test]
fn a_stuck_test_reports_its_own_file_and_line() {
    let line = include_str!("macros.rs")
        .lines()
        .position(|l| l.contains("async fn stuck_on_purpose("))
        .expect("the stuck test is in this file")
        + 1;
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "stuck_on_purpose",
            "--test-threads=1",
        ])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    // The harness prints a failed test's captured panic message on stdout.
    let text = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the stuck test must fail:\n{text}");
    assert!(text.contains("did not finish within 100ms"), "{text}");
    assert!(
        text.contains(&format!("panicked at tests/macros.rs:{line}:")),
        "want the panic at tests/macros.rs:{line}, got:\n{text}"
    ); // ... and its report names the sleep it is stuck on by its own line.
    assert!(
        text.contains(&format!("(sleep at tests/macros.rs:{}:", line + 1)),
        "want the sleep's line in the report, got:\n{text}"
    );
}
