//! A terminal is never left broken: `Async::new` on a pseudo-terminal's slave does not set
//! `O_NONBLOCK` on the description the shell and stdout share, so after the program ends,
//! by end of input, by SIGINT or by SIGKILL, a blocking read on the terminal still blocks
//! and a busy `println!` meanwhile blocks instead of panicking. The child-process tests run
//! `examples/stdin_lines` with the slave as stdin, stdout and stderr, as a shell would
//! (`cargo test` builds it; alone, run `cargo build --example stdin_lines` first).

mod common;

use readyloop::{Async, Loop};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// A new pseudo-terminal: (master, slave), both close-on-exec.
fn openpty() -> (File, File) {
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two fds into the ints; the name, termios and winsize pointers
    // may be null (no name wanted, default settings).
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty succeeded, so both are open fds that nothing else owns.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    for fd in [&master, &slave] {
        rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC).unwrap();
    }
    (File::from(master), File::from(slave))
}

/// Whether the open file description behind `fd` is in non-blocking mode.
fn nonblocking(fd: impl AsFd) -> bool {
    rustix::fs::fcntl_getfl(fd)
        .unwrap()
        .contains(rustix::fs::OFlags::NONBLOCK)
}

/// How many of this process's fds name the same terminal as `tty` (other tests run beside
/// this one, so a plain fd count would race).
fn fds_on(tty: &File) -> usize {
    let path = |fd: String| std::fs::read_link(format!("/proc/self/fd/{fd}")).ok();
    let me = path(tty.as_fd().as_raw_fd().to_string()).unwrap();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| path(e.unwrap().file_name().into_string().unwrap()))
        .filter(|p| *p == me)
        .count()
}

/// A blocking read on the terminal gets a line written after it started: with O_NONBLOCK
/// left on the description, the read fails with EAGAIN instead (the shell's `cat` after a
/// broken program).
fn assert_blocking_read_works(master: &File, slave: &File) {
    let (tx, rx) = mpsc::channel();
    let mut reader = slave.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let _ = tx.send(reader.read(&mut buf).map(|n| buf[..n].to_vec()));
    });
    std::thread::sleep(Duration::from_millis(100));
    (&*master).write_all(b"after\n").unwrap();
    let got = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the blocking read never returned");
    assert_eq!(
        got.expect("a blocking read on the terminal failed"),
        b"after\n"
    );
}

#[test]
fn async_on_a_pty_reads_and_writes_without_touching_the_shared_description() {
    let (master, slave) = openpty();
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let fds_before = fds_on(&slave) + 1; // and the clone of the slave handed to Async
    let tty = Async::new(&h, slave.try_clone().unwrap()).unwrap();
    assert!(
        !nonblocking(&slave),
        "Async::new set O_NONBLOCK on the shared terminal"
    );
    assert_eq!(
        fds_on(&slave),
        fds_before + 1,
        "a private description of the terminal"
    );
    (&master).write_all(b"hello\n").unwrap();
    let (line, ticks) = lp.block_on(async {
        let ticker = h.spawn({
            let h = h.clone();
            async move {
                let mut every = h.interval(Duration::from_millis(5));
                let mut ticks = 0u32;
                loop {
                    every.tick().await;
                    ticks += 1;
                    if ticks == 10 {
                        return ticks;
                    }
                }
            }
        });
        let mut buf = [0u8; 64];
        let n = tty.read(&mut buf).await.unwrap();
        let ticks = ticker.await.unwrap();
        // Nothing more to read: the read waits (timers still run) instead of blocking.
        let waited = h
            .timeout(Duration::from_millis(50), tty.read(&mut [0u8; 8]))
            .await;
        assert!(waited.is_err(), "{waited:?}");
        assert_eq!(tty.write(b"out\n").await.unwrap(), 4);
        (buf[..n].to_vec(), ticks)
    });
    assert_eq!(line, b"hello\n");
    assert_eq!(ticks, 10);
    let mut echoed = Vec::new();
    let mut buf = [0u8; 64];
    while !String::from_utf8_lossy(&echoed).contains("out") {
        let n = (&master).read(&mut buf).unwrap();
        echoed.extend_from_slice(&buf[..n]);
    }
    assert!(!nonblocking(&slave));
    let slave_back: File = tty.into_inner();
    assert!(!nonblocking(&slave_back));
    drop(slave_back);
    assert_eq!(
        fds_on(&slave),
        fds_before - 1,
        "the private description was closed"
    );
    assert_blocking_read_works(&master, &slave);
}

/// The output of the child so far, gathered by a thread reading the master.
struct Output {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl Output {
    /// Reads the master on a thread, starting after `pause` (the child's output fills the
    /// terminal meanwhile, so its `println!` must block, not fail).
    fn gather(master: &File, pause: Duration) -> Output {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = bytes.clone();
        std::thread::spawn(move || {
            std::thread::sleep(pause);
            let mut buf = [0u8; 4096];
            // Ends with EIO once every slave fd is closed.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Output { bytes }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }

    /// Waits until the output holds `what`; panics with the output and the child's status
    /// after `limit`.
    fn wait_for(&self, what: &str, child: &mut Child, limit: Duration) {
        self.wait_for_after(0, what, child, limit)
    }

    /// Waits until the output after its first `mark` bytes holds `what`.
    fn wait_for_after(&self, mark: usize, what: &str, child: &mut Child, limit: Duration) {
        let start = Instant::now();
        while !self.text()[mark..].contains(what) {
            if start.elapsed() > limit {
                let status = child.try_wait().unwrap();
                let text = self.text();
                let tail = &text[text.len().saturating_sub(600)..];
                panic!(
                    "no {what:?} after {limit:?} (child status {status:?}); output ends: {tail}"
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The child's exit status; a child still running after `limit` is killed (SIGKILL) and
/// the test fails, so a signal that did not end it is a failure, not a hang.
fn wait_at_most(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child still ran {limit:?} after its signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// User plus system CPU time of process `pid`, in clock ticks (/proc/PID/stat fields 14
/// and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// Path of a built example: cargo builds examples next to the test binaries' `deps/`.
fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name)
}

/// Runs `stdin_lines` on the terminal as a shell would (one description for its stdin,
/// stdout and stderr), types two lines while it prints busily, ends it with `signal`, and
/// checks the terminal is as it was.
fn stdin_lines_on_a_pty_then(signal: i32) {
    let (master, slave) = openpty();
    let output = Output::gather(&master, common::scaled(Duration::from_millis(300)));
    let mut command = Command::new(example("stdin_lines"));
    command
        .args(["--tick-ms", "2", "--fill", "1000"])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave.try_clone().unwrap()));
    // A test run started in the background by a non-interactive shell inherits SIGINT
    // ignored (POSIX), and so would the child: it would outlive the Ctrl-C this test sends.
    // A program at a terminal gets Ctrl-C's default action, so the child starts with it.
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec only `signal(2)`, which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .expect("cannot run examples/stdin_lines: `cargo test` builds it, `cargo test --test tty` does not (cargo build --example stdin_lines)");
    let limit = common::scaled(Duration::from_secs(10));
    output.wait_for("tick 1", &mut child, limit);
    std::thread::sleep(common::scaled(Duration::from_millis(300))); // busy, unread output
    assert!(
        !nonblocking(&slave),
        "the child set O_NONBLOCK on the shared terminal"
    );
    (&master).write_all(b"one\n").unwrap();
    output.wait_for("line 1: one", &mut child, limit);
    (&master).write_all(b"two\n").unwrap();
    output.wait_for("line 2: two", &mut child, limit);
    // The ticker survived its busy `println!`s into a full terminal: it still ticks.
    let mark = output.text().len();
    output.wait_for_after(mark, "tick", &mut child, limit);
    // SAFETY: kill(2) on our own child, which has not been waited for, so its pid is ours.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let status = wait_at_most(&mut child, limit);
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(signal), "{status:?}");
    assert!(!output.text().contains("panicked"), "{}", output.text());
    assert!(!nonblocking(&slave), "the terminal was left non-blocking");
    assert_blocking_read_works(&master, &slave);
}

#[test]
fn a_terminal_is_as_it_was_after_sigint() {
    stdin_lines_on_a_pty_then(libc::SIGINT);
}

#[test]
fn a_terminal_is_as_it_was_after_sigkill() {
    stdin_lines_on_a_pty_then(libc::SIGKILL);
}

#[test]
fn stdin_lines_ends_at_end_of_input_on_a_terminal() {
    let (master, slave) = openpty();
    let output = Output::gather(&master, Duration::ZERO);
    let mut child = Command::new(example("stdin_lines"))
        .args(["--tick-ms", "20"])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave.try_clone().unwrap()))
        .spawn()
        .expect("cannot run examples/stdin_lines: `cargo test` builds it, `cargo test --test tty` does not (cargo build --example stdin_lines)");
    let limit = common::scaled(Duration::from_secs(10));
    output.wait_for("tick 2", &mut child, limit);
    // Waiting on the terminal costs no CPU: the loop sleeps in its wait between ticks.
    let before = cpu_ticks(child.id());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(child.id()) - before;
    assert!(
        used <= 5,
        "{used} clock ticks of CPU in 1 s of waiting on a terminal"
    );
    (&master).write_all(b"only\n\x04").unwrap(); // a line, then Ctrl-D (end of input)
    output.wait_for("end of input after 1 lines", &mut child, limit);
    assert!(wait_at_most(&mut child, limit).success());
    assert!(output.text().contains("line 1: only"));
    assert!(!nonblocking(&slave));
    assert_blocking_read_works(&master, &slave);
}

#[test]
fn async_on_a_pty_master_reads_what_the_slave_writes() {
    // A master is a terminal too (isatty), but it is the program's own: a private reopen
    // of /dev/ptmx would make a new, unrelated pseudo-terminal.
    let (master, slave) = openpty();
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let m = Async::new(&h, master).unwrap();
    (&slave).write_all(b"from the slave\n").unwrap();
    let got = lp.block_on(async {
        let mut buf = [0u8; 64];
        let n = h
            .timeout(Duration::from_secs(5), m.read(&mut buf))
            .await
            .expect("the master never saw the slave's output")
            .unwrap();
        buf[..n].to_vec()
    });
    assert!(got.starts_with(b"from the slave"), "{got:?}");
}
