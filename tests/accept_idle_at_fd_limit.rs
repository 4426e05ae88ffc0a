//! A server stuck at its fd limit with thousands of connections open stays idle, on every
//! backend: the accept back-off (the listener stays readable while every accept fails
//! with EMFILE) grows while the fds stay exhausted, so the loop does not wake every 20 ms
//! for a poll over every fd (63 % of a CPU with 19,000 fds on poll(2) before the fix).
//!
//! Each test runs the server in a child process (this test binary again, with
//! `READYLOOP_FD_LIMIT_CHILD=BACKEND:LIMIT`), whose soft fd limit is lowered to LIMIT; the
//! parent opens more connections than that, waits until the child holds LIMIT fds, lets the
//! back-off grow, then reads the child's CPU time from /proc/PID/stat over 2 s. select(2)
//! refuses fds of 1024 and more, so its child gets a limit of 1000.
//!
//! Skipped under valgrind: it enforces its own fd limit (closing what the kernel accepted,
//! see `accept_emfile.rs`) and a memcheck'd child's CPU time measures valgrind.

use readyloop::net::TcpListener;
use readyloop::{BackendKind, Loop};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

const CHILD_ENV: &str = "READYLOOP_FD_LIMIT_CHILD";

/// The server, when this binary runs as the child: accept forever, each connection parked
/// in a receive (so it stays registered with the backend).
#[test]
fn child_server_when_asked() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (backend, limit) = spec.split_once(':').unwrap();
    let kind = match backend {
        "poll" => BackendKind::Poll,
        "select" => BackendKind::Select,
        "adaptive" => BackendKind::Adaptive,
        _ => BackendKind::Epoll,
    };
    common::set_fd_limit(limit.parse().unwrap());
    let lp = Loop::builder().backend(kind).build().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    println!("listening on {}", listener.local_addr().unwrap());
    lp.block_on(async {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            drop(h.spawn(async move {
                let mut buf = [0u8; 16];
                let _ = stream.recv(&mut buf).await;
            }));
        }
    });
}

/// CPU time (user + system) of a process, from /proc/PID/stat, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn open_fds_of(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Runs the child server at `limit` fds on `backend`; returns its CPU use at the limit, in
/// percent of one CPU.
fn cpu_at_fd_limit(backend: &str, limit: usize) -> f64 {
    if common::under_valgrind() {
        eprintln!("SKIPPED under valgrind (see the header)");
        return 0.0;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_server_when_asked", "--nocapture"])
        .env(CHILD_ENV, format!("{backend}:{limit}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the child exited");
        if let Some(addr) = line.trim().strip_prefix("listening on ") {
            break addr.parse::<std::net::SocketAddr>().unwrap();
        }
    };
    // More clients than the child has fds: the rest wait in its backlog, keeping the
    // listener readable while every accept fails.
    let clients: Vec<_> = (0..limit + 20)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    let start = Instant::now();
    while open_fds_of(pid) < limit {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the child reached only {} of {limit} fds",
            open_fds_of(pid)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the back-off grow to its longest (20 + 40 + ... + 640 ms), then measure.
    std::thread::sleep(Duration::from_millis(1600));
    let window = Duration::from_secs(2);
    let before = cpu_ticks(pid);
    std::thread::sleep(window);
    let used = cpu_ticks(pid) - before;
    assert_eq!(
        open_fds_of(pid),
        limit,
        "the child is no longer at its limit"
    );
    let _ = child.kill();
    let _ = child.wait();
    drop(clients);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let percent = used as f64 / hz / window.as_secs_f64() * 100.0;
    eprintln!("{backend}: {limit} fds at the limit, CPU {percent:.1} % over {window:?}");
    percent
}

/// Fds the parent needs: its own clients for every child running at once.
fn raise_limit() {
    common::raise_fd_limit(12_000);
}

#[test]
fn poll_backend_stays_idle_at_the_fd_limit() {
    raise_limit();
    let cpu = cpu_at_fd_limit("poll", 4000);
    assert!(cpu < 3.0, "poll at the fd limit uses {cpu:.1} % of a CPU");
}

#[test]
fn epoll_backend_stays_idle_at_the_fd_limit() {
    raise_limit();
    let cpu = cpu_at_fd_limit("epoll", 4000);
    assert!(cpu < 3.0, "epoll at the fd limit uses {cpu:.1} % of a CPU");
}

/// The default: 4,000 idle fds would move it to epoll, but at the limit there is no fd for
/// an epoll instance; it stays on poll (and idle) and tries again a window later.
#[test]
fn adaptive_backend_stays_idle_at_the_fd_limit() {
    raise_limit();
    let cpu = cpu_at_fd_limit("adaptive", 4000);
    assert!(
        cpu < 3.0,
        "adaptive at the fd limit uses {cpu:.1} % of a CPU"
    );
}

#[test]
fn select_backend_stays_idle_at_the_fd_limit() {
    raise_limit();
    let cpu = cpu_at_fd_limit("select", 1000);
    assert!(cpu < 3.0, "select at the fd limit uses {cpu:.1} % of a CPU");
}
