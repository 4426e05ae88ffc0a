//! Child processes on the loop: exit statuses through the pidfd, stdio as loop pipes (with
//! the crate's own reads and writes and with `futures-io`), `kill`, kill-on-drop, output
//! collected from both pipes at once, and reaping of children nobody awaits. Real `sh`,
//! `cat`, `sleep` and `true`; every wait is bounded.

mod common;

use futures_io::{AsyncRead, AsyncWrite};
use readyloop::Handle;
use std::future::poll_fn;
use std::os::unix::process::ExitStatusExt;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The state letter of `/proc/PID/stat` (`Z` for a zombie), `None` once the pid is gone.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.chars().next()
}

/// Runs the loop (sleeping in 5 ms steps) until `done`, for at most `limit`.
async fn until(h: &Handle, limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > common::scaled(limit) {
            return false;
        }
        h.sleep(Duration::from_millis(5)).await;
    }
    true
}

#[readyloop::test(timeout = "20s")]
async fn wait_reports_exit_code(h: Handle) {
    let mut child = h
        .spawn_process(Command::new("sh").args(["-c", "exit 7"]))
        .unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(7));
    // Later waits give the same status; the child is reaped once.
    assert_eq!(child.wait().await.unwrap().code(), Some(7));
    assert_eq!(child.try_wait().unwrap().unwrap().code(), Some(7));
    assert_eq!(proc_state(child.id()), None, "reaped: no /proc entry left");
}

#[readyloop::test(timeout = "20s")]
async fn kill_ends_a_running_child_with_sigkill(h: Handle) {
    let mut child = h.spawn_process(Command::new("sleep").arg("30")).unwrap();
    assert!(child.try_wait().unwrap().is_none(), "still running");
    let start = Instant::now();
    child.kill().unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(9));
    assert!(start.elapsed() < Duration::from_secs(5));
    child.kill().unwrap(); // reaped already: not an error
}

#[readyloop::test(timeout = "20s")]
async fn missing_program_is_a_clear_error(h: Handle) {
    let spawned = h.spawn_process(&mut Command::new("/no/such/program"));
    if common::under_valgrind() {
        // valgrind --trace-children starts every child as valgrind itself, which then
        // fails to run the program: the spawn succeeds and the child exits non-zero.
        let mut child = spawned.unwrap();
        assert!(!child.wait().await.unwrap().success());
        return;
    }
    assert_eq!(spawned.unwrap_err().kind(), std::io::ErrorKind::NotFound);
}

#[readyloop::test(timeout = "20s")]
async fn stdin_and_stdout_are_loop_pipes(h: Handle) {
    let mut child = h
        .spawn_process(
            Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        )
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    // 1 MiB through `cat`: far more than a pipe holds, so both sides must run at once on
    // the one loop thread (a blocking write would deadlock here).
    let data: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let expect = data.clone();
    let writer = h.spawn(async move {
        let mut off = 0;
        while off < data.len() {
            off += stdin.write(&data[off..]).await.unwrap();
        }
        // dropping stdin closes the pipe: cat sees end of file
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stdout.read(&mut buf).await.unwrap() {
            0 => break,
            n => got.extend_from_slice(&buf[..n]),
        }
    }
    writer.await.unwrap();
    assert_eq!(got.len(), expect.len());
    assert!(got == expect);
    assert!(child.wait().await.unwrap().success());
}

#[readyloop::test(timeout = "20s")]
async fn stdio_pipes_work_with_futures_io(h: Handle) {
    let mut child = h
        .spawn_process(
            Command::new("sh")
                .args(["-c", "tr a-z A-Z"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        )
        .unwrap();
    // Driven only through the futures-io traits, as generic code would.
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut rest: &[u8] = b"hello from futures-io\n";
    while !rest.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut stdin).poll_write(cx, rest))
            .await
            .unwrap();
        rest = &rest[n..];
    }
    poll_fn(|cx| Pin::new(&mut stdin).poll_close(cx))
        .await
        .unwrap();
    drop(stdin);
    let mut text = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match poll_fn(|cx| Pin::new(&mut stdout).poll_read(cx, &mut buf))
            .await
            .unwrap()
        {
            0 => break,
            n => text.extend_from_slice(&buf[..n]),
        }
    }
    assert_eq!(text, b"HELLO FROM FUTURES-IO\n");
    assert!(child.wait().await.unwrap().success());
}

#[readyloop::test(timeout = "30s")]
async fn output_reads_both_pipes_at_once(h: Handle) {
    // 1 MiB to each stream, interleaved in 4 KiB pieces: reading one pipe to its end before
    // the other would deadlock once the other fills (64 KiB).
    let script = "i=0; while [ $i -lt 256 ]; do \
                  head -c 4096 /dev/zero | tr '\\0' o; \
                  head -c 4096 /dev/zero | tr '\\0' e >&2; \
                  i=$((i+1)); done; exit 3";
    let out = h
        .command_output(Command::new("sh").args(["-c", script]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(out.stdout.len(), 1 << 20);
    assert_eq!(out.stderr.len(), 1 << 20);
    assert!(out.stdout.iter().all(|&b| b == b'o'));
    assert!(out.stderr.iter().all(|&b| b == b'e'));
}

#[readyloop::test(timeout = "20s")]
async fn free_functions_use_the_running_loop(_h: Handle) {
    let mut child = readyloop::process::spawn_process(&mut Command::new("true")).unwrap();
    assert!(child.wait().await.unwrap().success());
    let out = readyloop::process::command_output(Command::new("echo").arg("x"))
        .await
        .unwrap();
    assert_eq!(out.stdout, b"x\n");
}

#[readyloop::test(timeout = "20s")]
async fn kill_on_drop_kills_and_reaps(h: Handle) {
    let mut child = h.spawn_process(Command::new("sleep").arg("30")).unwrap();
    child.set_kill_on_drop(true);
    let pid = child.id();
    assert!(proc_state(pid).is_some());
    drop(child);
    // Killed at once and reaped by the loop: the pid leaves /proc (never lingers as 'Z').
    let gone = until(&h, Duration::from_secs(5), || proc_state(pid).is_none()).await;
    assert!(gone, "pid {pid} still in /proc: {:?}", proc_state(pid));
}

#[readyloop::test(timeout = "20s")]
async fn dropped_child_runs_on_and_is_reaped_when_it_exits(h: Handle) {
    let child = h.spawn_process(Command::new("sleep").arg("0.3")).unwrap();
    let pid = child.id();
    drop(child); // without kill-on-drop: the child keeps running, as with std
    h.sleep(Duration::from_millis(100)).await;
    let state = proc_state(pid);
    assert!(
        matches!(state, Some('S' | 'R')),
        "still running after the drop: {state:?}"
    );
    let gone = until(&h, Duration::from_secs(5), || proc_state(pid).is_none()).await;
    assert!(gone, "pid {pid} not reaped: {:?}", proc_state(pid));
}

/// CPU ticks (utime + stime, in 1/100 s) this thread has used, from /proc/thread-self/stat.
fn thread_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // After the comm: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[readyloop::test(timeout = "20s")]
async fn waiting_for_a_child_uses_no_cpu(h: Handle) {
    let mut child = h.spawn_process(Command::new("sleep").arg("0.5")).unwrap();
    let before = thread_cpu_ticks();
    let start = Instant::now();
    assert!(child.wait().await.unwrap().success());
    let used = thread_cpu_ticks() - before;
    assert!(start.elapsed() >= Duration::from_millis(400));
    // The loop sleeps in poll(2) until the pidfd turns readable: no polling of waitid.
    assert!(
        used <= 2 * u64::from(common::slack()),
        "{used} CPU ticks (10 ms each) while waiting 0.5 s"
    );
}
