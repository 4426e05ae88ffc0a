//! examples/daemon.rs end to end, as systemd would run it: under `systemd-socket-activate`
//! (the listener is passed in), with a Unix datagram socket standing in as NOTIFY_SOCKET
//! and WATCHDOG_USEC set. One run walks the whole life: READY, answers, watchdog pings,
//! reload on SIGHUP (and a bad config kept out), reload on a rewrite of the config file,
//! the supervised child killed and restarted, then SIGTERM with a connection in flight:
//! STOPPING, the connection finished, no new ones, exit 0.
//!
//! Run: `cargo test --features systemd --test daemon` (builds the example itself). Without
//! `systemd-socket-activate` (Debian's `systemd`) it says so and passes, except under CI.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The example, built with the features it needs (`cargo test --test daemon` builds no
/// examples; cargo makes this a no-op when it is fresh).
fn daemon_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let mut cmd = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    cmd.args([
        "build",
        "--example",
        "daemon",
        "--features",
        "systemd",
        "--target-dir",
    ])
    .arg(profile_dir.parent().unwrap())
    .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.file_name().unwrap() == "release" {
        cmd.arg("--release");
    }
    let mut child = cmd.spawn().expect("cannot run cargo");
    let status = wait_bounded(&mut child, Duration::from_secs(600)).expect("build over 10 min");
    assert!(status.success(), "cargo build --example daemon failed");
    profile_dir.join("examples").join("daemon")
}

fn wait_bounded(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn tool_installed() -> bool {
    let found = Command::new("systemd-socket-activate")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found || std::env::var_os("CI").is_none(),
        "systemd-socket-activate is missing under CI: .ci/checks/45-systemd.sh installs it"
    );
    if !found {
        eprintln!("SKIPPED: systemd-socket-activate not installed (apt-get install systemd)");
    }
    found
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn monotonic_usec() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000 + t.tv_nsec as u64 / 1000
}

/// The fake service manager: every notification the daemon sent, in order, with the
/// daemon's stderr to show when an expectation fails.
struct Manager {
    socket: UnixDatagram,
    seen: Vec<String>,
    pings: Vec<Instant>,
    stderr: PathBuf,
}

impl Manager {
    /// The next notification that is not a watchdog ping (those are timed in `pings`).
    fn next(&mut self, waiting_for: &str) -> String {
        let mut buf = [0u8; 512];
        loop {
            let n = match self.socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e) => self.fail(&format!("no {waiting_for} within 10 s ({e})")),
            };
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            self.seen.push(text.clone());
            if text == "WATCHDOG=1" {
                self.pings.push(Instant::now());
                continue;
            }
            return text;
        }
    }

    /// Skips notifications until one satisfies `want`, and returns it.
    fn until(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        loop {
            let text = self.next(what);
            if want(&text) {
                return text;
            }
        }
    }

    /// The next notification other than a STATUS= or ping, which must be `want`.
    fn expect(&mut self, want: &str) {
        let got = self.until(want, |t| !t.starts_with("STATUS="));
        if got != want {
            self.fail(&format!("expected {want:?}, got {got:?}"));
        }
    }

    fn fail(&self, why: &str) -> ! {
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        panic!(
            "{why}\nnotifications so far: {:?}\ndaemon stderr:\n{stderr}",
            self.seen
        );
    }
}

/// A connection to the daemon, line by line.
struct Client(BufReader<TcpStream>);

impl Client {
    /// Connects, retrying for up to 10 s while the tool starts and binds.
    fn connect(port: u16) -> Client {
        let start = Instant::now();
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(e) if start.elapsed() > Duration::from_secs(10) => panic!("connect: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Client(BufReader::new(stream))
    }

    fn ask(&mut self, line: &str) -> String {
        self.0
            .get_mut()
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
        let mut reply = String::new();
        self.0.read_line(&mut reply).unwrap();
        reply.trim_end_matches('\n').to_string()
    }
}

/// The pid after `pid ` in a STATUS line.
fn pid_in(status: &str) -> u32 {
    let after = status.rsplit("pid ").next().unwrap();
    after
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no pid in {status:?}"))
}

/// Whether `pid` is a live (not zombie) process.
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap()
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) with a pid this test started (or one its daemon reported as its child).
    assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
}

/// Kills the daemon if the test fails half-way.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Replaces `path` by renaming a new file over it, as editors and config managers do.
fn rewrite_by_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn the_reference_daemon_lives_its_whole_life_under_socket_activation() {
    if !tool_installed() {
        return;
    }
    let daemon = daemon_binary();
    let dir = std::env::temp_dir().join(format!("rl-daemon-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The config the daemon reads is a symlink in a watched directory to a file elsewhere:
    // editing the target is invisible to inotify, so only SIGHUP can pick it up.
    let (etc, store) = (dir.join("etc"), dir.join("store"));
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::create_dir_all(&store).unwrap();
    let target = store.join("v1.conf");
    std::fs::write(&target, "greeting = one:\nchild = sleep 1000\n").unwrap();
    let config = etc.join("daemon.conf");
    std::os::unix::fs::symlink(&target, &config).unwrap();

    let notify = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&notify).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let stderr = dir.join("stderr");
    let port = free_port();
    let child = Command::new("systemd-socket-activate")
        .arg(format!("--listen=127.0.0.1:{port}"))
        .arg(format!("--setenv=NOTIFY_SOCKET={}", notify.display()))
        // 400 ms: a ping every 200 ms.
        .arg("--setenv=WATCHDOG_USEC=400000")
        .arg(&daemon)
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    // The tool execs the daemon: same pid.
    let mut child = KillOnDrop(child);
    let pid = child.0.id();
    let mut manager = Manager {
        socket,
        seen: Vec::new(),
        pings: Vec::new(),
        stderr,
    };

    // systemd-socket-activate starts the daemon on the first connection, which waits in
    // the passed listener's backlog meanwhile. READY=1 is the daemon's first word, and the
    // waiting connection is answered.
    let mut a = Client::connect(port);
    a.0.get_mut().write_all(b"hello\n").unwrap();
    let first = manager.next("READY=1");
    if first != "READY=1" {
        manager.fail(&format!(
            "the first notification was {first:?}, not READY=1"
        ));
    }
    let mut reply = String::new();
    a.0.read_line(&mut reply).unwrap();
    assert_eq!(reply, "one:hello\n");
    let status = manager.until("the child's STATUS", |t| t.contains("child `sleep 1000`"));
    let first_child = pid_in(&status);
    assert!(running(first_child), "{status}");

    // The watchdog: about one ping per 200 ms (bounds loose enough for a loaded machine,
    // tight enough to tell pings from silence or a flood).
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        let _ = manager
            .socket
            .set_read_timeout(Some(Duration::from_millis(100)));
        let mut buf = [0u8; 512];
        if let Ok(n) = manager.socket.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if text == "WATCHDOG=1" {
                manager.pings.push(Instant::now());
            }
            manager.seen.push(text);
        }
    }
    manager
        .socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let recent = manager.pings.iter().filter(|t| **t >= start).count();
    if !(4..=10).contains(&recent) {
        manager.fail(&format!("{recent} watchdog pings in 1.5 s (want about 7)"));
    }

    // SIGHUP: RELOADING=1 with the monotonic time of the reload, the new config, READY=1.
    std::fs::write(&target, "greeting = two:\nchild = sleep 1000\n").unwrap();
    let before = monotonic_usec();
    signal(pid, libc::SIGHUP);
    let reloading = manager.until("RELOADING=1", |t| !t.starts_with("STATUS="));
    let after = monotonic_usec();
    let usec: u64 = reloading
        .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
        .unwrap_or_else(|| {
            manager.fail(&format!("not RELOADING=1 + MONOTONIC_USEC: {reloading:?}"))
        })
        .parse()
        .unwrap();
    assert!(
        (before..=after).contains(&usec),
        "{before} <= {usec} <= {after}"
    );
    manager.expect("READY=1");
    assert_eq!(a.ask("again"), "two:again");

    // A config that does not parse: still RELOADING/READY, the old config kept, and why.
    std::fs::write(&target, "greeting two\n").unwrap();
    signal(pid, libc::SIGHUP);
    manager.until("RELOADING=1", |t| t.starts_with("RELOADING=1\n"));
    let why = manager.until("the failed reload's STATUS", |t| t.contains("failed"));
    assert!(
        why.contains("keeping the old config") && why.contains("line 1"),
        "{why}"
    );
    manager.expect("READY=1");
    assert_eq!(a.ask("still"), "two:still");
    // The child's command did not change: the same child still runs.
    assert!(running(first_child));

    // A new file renamed over the config (no signal): inotify makes the same reload.
    rewrite_by_rename(&config, "greeting = three:\nchild = sleep 1000\n");
    manager.until("RELOADING=1", |t| t.starts_with("RELOADING=1\n"));
    manager.expect("READY=1");
    assert_eq!(a.ask("watched"), "three:watched");

    // The supervised child dies: it is started again (after the 100 ms back-off).
    let killed_at = Instant::now();
    signal(first_child, libc::SIGKILL);
    manager.until("the child's exit", |t| {
        t.contains("exited") && t.contains("100 ms")
    });
    let restarted = manager.until("the restart", |t| t.contains("restarted: pid"));
    let second_child = pid_in(&restarted);
    assert!(killed_at.elapsed() >= Duration::from_millis(100));
    assert_ne!(second_child, first_child);
    assert!(running(second_child), "{restarted}");

    // SIGTERM with `a` still open: STOPPING=1, no new connections, `a` answered to the end.
    signal(pid, libc::SIGTERM);
    manager.expect("STOPPING=1");
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting after STOPPING=1"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(a.ask("last"), "three:last");
    drop(a);
    let status = wait_bounded(&mut child.0, Duration::from_secs(10))
        .unwrap_or_else(|| manager.fail("the daemon did not exit within 10 s of SIGTERM"));
    if !status.success() {
        manager.fail(&format!("the daemon exited with {status}"));
    }
    // Its child went with it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(second_child) {
        assert!(
            Instant::now() < deadline,
            "the supervised child outlived the daemon"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
