//! readyloop::systemd against the real thing: `systemd-socket-activate` passes TCP, Unix and UDP
//! listeners to this test binary (re-executed as a helper), and a Unix datagram socket
//! stands in as `NOTIFY_SOCKET` to check the exact notifications and the watchdog's timing.
//!
//! Run: `cargo test --features systemd --test systemd`. Without `systemd-socket-activate`
//! (Debian's `systemd` package) the activation tests say so and pass, except under CI
//! (`CI` set), where they fail: `.ci/checks/45-systemd.sh` installs the tool.

use readyloop::net::{TcpStream, UnixStream};
use readyloop::systemd::{watchdog_period, Activation, Notifier};
use readyloop::{ErrorKind, Loop};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{SocketAddr as StdUnixAddr, UnixDatagram as StdDatagram};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Tests that read or change this process's environment hold this.
static ENV: Mutex<()> = Mutex::new(());

fn env_lock() -> MutexGuard<'static, ()> {
    ENV.lock().unwrap_or_else(|e| e.into_inner())
}

/// The variable that makes this binary, re-executed, act as the activated daemon.
const HELPER: &str = "RL_SYSTEMD_HELPER";

/// A fresh path under the temp dir, removed first.
fn temp_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("rl-sd-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// `systemd-socket-activate`, or `None` (and a message) when it is not installed; under CI
/// a missing tool is a failure.
fn socket_activate_tool() -> Option<&'static str> {
    let found = Command::new("systemd-socket-activate")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    if found {
        return Some("systemd-socket-activate");
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "systemd-socket-activate is missing under CI: .ci/checks/45-systemd.sh installs it \
         (apt-get install systemd)"
    );
    eprintln!("SKIPPED: systemd-socket-activate not installed (apt-get install systemd)");
    None
}

/// A free TCP port on 127.0.0.1 (bound and released; nothing else here takes ports).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Connects to `connect` until it succeeds (the tool binds before it execs, but give it
/// time to start), at most 10 s.
fn retry<T>(mut connect: impl FnMut() -> std::io::Result<T>) -> T {
    let start = Instant::now();
    loop {
        match connect() {
            Ok(x) => return x,
            Err(e) if start.elapsed() > Duration::from_secs(10) => panic!("never connected: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Sends `line` and reads the echoed line back.
fn echo_through(stream: impl std::io::Read + Write) -> String {
    let mut reader = BufReader::new(stream);
    reader.get_mut().write_all(b"ping\n").unwrap();
    let mut reply = String::new();
    reader.read_line(&mut reply).unwrap();
    reply
}

/// A Unix datagram socket standing in for systemd's notification socket.
fn manager_socket(path: &Path) -> StdDatagram {
    let socket = StdDatagram::bind(path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket
}

fn recv_text(socket: &StdDatagram) -> String {
    let mut buf = [0u8; 256];
    let n = socket.recv(&mut buf).expect("no notification within 10 s");
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

#[test]
fn tcp_and_unix_listeners_from_systemd_socket_activate() {
    let Some(tool) = socket_activate_tool() else {
        return;
    };
    let port = free_port();
    let unix_path = temp_path("activated.sock");
    let notify_path = temp_path("notify.sock");
    let manager = manager_socket(&notify_path);
    let child = Command::new(tool)
        .arg(format!("--listen=127.0.0.1:{port}"))
        .arg(format!("--listen={}", unix_path.display()))
        .arg("--fdname=web:ctl")
        .arg(format!("--setenv={HELPER}=activated"))
        .arg(format!("--setenv=NOTIFY_SOCKET={}", notify_path.display()))
        .arg(std::env::current_exe().unwrap())
        .args([
            "activated_helper",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(Some(child));
    // A notification, or the helper's own story of why it never came.
    let mut expect = |manager: &StdDatagram, want: &str| {
        let mut buf = [0u8; 256];
        match manager.recv(&mut buf) {
            Ok(n) => assert_eq!(String::from_utf8_lossy(&buf[..n]), want),
            Err(e) => {
                let mut helper = child.0.take().unwrap();
                let _ = helper.kill();
                let out = helper.wait_with_output().unwrap();
                panic!(
                    "no {want:?} within 10 s ({e}); the helper said:\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    };
    // The tool execs the daemon when the first connection comes (like systemd itself).
    let tcp = retry(|| std::net::TcpStream::connect(("127.0.0.1", port)));
    // Started, listeners adopted, the variables gone, and READY sent.
    expect(&manager, "STATUS=2 listeners: web ctl");
    expect(&manager, "READY=1");
    assert_eq!(echo_through(tcp), "ping\n");
    let unix = retry(|| std::os::unix::net::UnixStream::connect(&unix_path));
    assert_eq!(echo_through(unix), "ping\n");
    expect(&manager, "STOPPING=1");
    let out = child.0.take().unwrap().wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the helper failed: {stdout}{stderr}");
    assert!(
        stdout.contains("helper: child env has no LISTEN_"),
        "the helper did not check its child's environment: {stdout}"
    );
    let _ = std::fs::remove_file(&unix_path);
    let _ = std::fs::remove_file(&notify_path);
}

#[test]
fn udp_socket_from_systemd_socket_activate() {
    let Some(tool) = socket_activate_tool() else {
        return;
    };
    let port = {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let child = Command::new(tool)
        .arg("--datagram")
        .arg(format!("--listen=127.0.0.1:{port}"))
        .arg("--fdname=dns")
        .arg(format!("--setenv={HELPER}=udp"))
        .arg(std::env::current_exe().unwrap())
        .args([
            "activated_udp_helper",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(Some(child));
    let client = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // The tool execs the daemon when the first datagram is queued (it stays for the
    // daemon); one sent before the tool has bound the port is lost, so send until a reply.
    let mut buf = [0u8; 16];
    let start = Instant::now();
    let got = loop {
        client.send_to(b"ping", ("127.0.0.1", port)).unwrap();
        match client.recv(&mut buf) {
            Err(_) if start.elapsed() < Duration::from_secs(10) => continue,
            other => break other,
        }
    };
    let mut helper = child.0.take().unwrap();
    if got.is_err() {
        let _ = helper.kill();
    }
    let out = helper.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let n = got.unwrap_or_else(|e| panic!("no reply ({e}); the helper said:\n{said}"));
    assert_eq!(&buf[..n], b"ping");
    assert!(out.status.success(), "the helper failed: {said}");
}

/// The activated UDP daemon: runs only when re-executed by the test above.
#[test]
fn activated_udp_helper() {
    if std::env::var(HELPER).as_deref() != Ok("udp") {
        return;
    }
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    // SAFETY: this test binary runs as its own process under systemd-socket-activate, its
    // only test; nothing else took the passed fds and the environment is not read meanwhile.
    let mut passed = unsafe { Activation::from_env() }.unwrap();
    assert_eq!(passed.names().collect::<Vec<_>>(), ["dns"]);
    let err = passed.take_tcp_listener(&h, "dns").unwrap_err();
    assert!(
        err.message().contains("not a listening TCP socket"),
        "{err}"
    );
    let err = passed.take_unix_datagram(&h, "dns").unwrap_err();
    assert!(err.message().contains("not a Unix datagram"), "{err}");
    let udp = passed.take_udp_socket(&h, "dns").unwrap();
    lp.block_on(async {
        let mut buf = [0u8; 16];
        let (n, from) = udp.recv_from(&mut buf).await.unwrap();
        udp.send_to(&buf[..n], from).await.unwrap();
    });
}

/// Kills and reaps the tool (and the helper it became) if the test fails half-way.
struct KillOnDrop(Option<std::process::Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The activated daemon: runs only when re-executed by the test above.
#[test]
fn activated_helper() {
    if std::env::var(HELPER).as_deref() != Ok("activated") {
        return;
    }
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    // SAFETY: this test binary runs as its own process under systemd-socket-activate, its
    // only test; nothing else took the passed fds and the environment is not read meanwhile.
    let mut passed = unsafe { Activation::from_env() }.unwrap();
    assert!(passed.env_cleared());
    let names: Vec<_> = passed.names().collect();
    assert_eq!(names, ["web", "ctl"]);
    for variable in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        assert!(std::env::var_os(variable).is_none(), "{variable} still set");
    }
    // A child process inherits neither the variables nor the fds (close-on-exec).
    let env = Command::new("env").output().unwrap();
    let env = String::from_utf8(env.stdout).unwrap();
    assert!(!env.contains("LISTEN_"), "a child saw: {env}");
    println!("helper: child env has no LISTEN_");
    // `ls` opens the directory as fd 3: anything above was inherited.
    let fds = Command::new("ls").arg("/proc/self/fd").output().unwrap();
    let fds = String::from_utf8(fds.stdout).unwrap();
    let fds: Vec<_> = fds.split_whitespace().collect();
    assert_eq!(fds, ["0", "1", "2", "3"], "a child inherited passed fds");

    // The wrong kind is refused and the fd stays to be taken as what it is.
    let err = passed.take_tcp_listener(&h, "ctl").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message().contains("not a listening TCP socket"),
        "{err}"
    );
    let err = passed.take_udp_socket(&h, 0).unwrap_err();
    assert!(err.message().contains("not a UDP socket"), "{err}");
    let unix = passed.take_unix_listener(&h, "ctl").unwrap();
    let tcp = passed.take_tcp_listener(&h, 0).unwrap();
    // Taken once only.
    let again = passed.take_tcp_listener(&h, "web").unwrap_err();
    assert!(again.message().contains("taken already"), "{again}");

    let notifier = Notifier::from_env().unwrap().expect("NOTIFY_SOCKET is set");
    notifier.status("2 listeners: web ctl").unwrap();
    notifier.ready().unwrap();
    lp.block_on(async {
        let (conn, _) = tcp.accept().await.unwrap();
        echo_line(&conn).await;
        let (conn, _) = unix.accept().await.unwrap();
        echo_line_unix(&conn).await;
    });
    notifier.stopping().unwrap();
}

async fn echo_line(conn: &TcpStream) {
    let mut buf = [0u8; 5];
    conn.recv_exact(&mut buf).await.unwrap();
    conn.send_all(&buf).await.unwrap();
}

async fn echo_line_unix(conn: &UnixStream) {
    let mut buf = [0u8; 5];
    conn.recv_exact(&mut buf).await.unwrap();
    conn.send_all(&buf).await.unwrap();
}

#[test]
fn not_activated_is_empty_and_another_pid_is_ignored() {
    let _env = env_lock();
    // SAFETY (each call below): the environment lock keeps this file's other tests off
    // the environment, and no call adopts an fd (not activated, another LISTEN_PID, or a
    // number that does not parse).
    assert!(unsafe { Activation::from_env() }.unwrap().is_empty());
    // What a child that inherited the variables sees: LISTEN_PID is its parent's.
    std::env::set_var("LISTEN_PID", "1");
    std::env::set_var("LISTEN_FDS", "2");
    let passed = unsafe { Activation::from_env() }.unwrap();
    assert!(passed.is_empty());
    assert_eq!(
        std::env::var("LISTEN_FDS").as_deref(),
        Ok("2"),
        "left alone"
    );
    std::env::set_var("LISTEN_PID", "12x");
    let err = unsafe { Activation::from_env() }.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    std::env::set_var("LISTEN_PID", std::process::id().to_string());
    std::env::set_var("LISTEN_FDS", "lots");
    let err = unsafe { Activation::from_env() }.unwrap_err();
    assert!(err.message().contains("LISTEN_FDS"), "{err}");
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDS");
}

#[test]
fn notifications_are_the_exact_datagrams() {
    let path = temp_path("exact.sock");
    let manager = manager_socket(&path);
    let notifier = Notifier::to_socket(path.to_str().unwrap()).unwrap();
    notifier.ready().unwrap();
    assert_eq!(recv_text(&manager), "READY=1");
    let before = monotonic_micros();
    notifier.reloading().unwrap();
    let after = monotonic_micros();
    let reloading = recv_text(&manager);
    let usec: u64 = reloading
        .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
        .unwrap_or_else(|| panic!("{reloading:?}"))
        .parse()
        .unwrap();
    assert!(before <= usec && usec <= after, "{before} {usec} {after}");
    notifier.status("serving 3 clients").unwrap();
    assert_eq!(recv_text(&manager), "STATUS=serving 3 clients");
    let err = notifier.status("two\nlines").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    notifier.stopping().unwrap();
    assert_eq!(recv_text(&manager), "STOPPING=1");
    notifier.watchdog_ping().unwrap();
    assert_eq!(recv_text(&manager), "WATCHDOG=1");
    // Nothing else was sent (the refused status included).
    manager.set_nonblocking(true).unwrap();
    assert!(manager.recv(&mut [0u8; 64]).is_err());
    let _ = std::fs::remove_file(&path);
}

#[test]
fn notify_socket_with_an_abstract_name() {
    use std::os::linux::net::SocketAddrExt;
    let name = format!("readyloop-test-{}", std::process::id());
    let addr = StdUnixAddr::from_abstract_name(name.as_bytes()).unwrap();
    let manager = StdDatagram::bind_addr(&addr).unwrap();
    manager
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _env = env_lock();
    std::env::set_var("NOTIFY_SOCKET", format!("@{name}"));
    let notifier = Notifier::from_env().unwrap().expect("set");
    std::env::remove_var("NOTIFY_SOCKET");
    notifier.ready().unwrap();
    assert_eq!(recv_text(&manager), "READY=1");
    for bad in ["relative.sock", "@", ""] {
        let err = Notifier::to_socket(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
}

#[test]
fn notify_socket_paths_must_fit_sun_path_and_hold_no_nul() {
    // 108 bytes is sun_path's size: the longest path a Unix socket address holds.
    let longest = format!("/{}", "a".repeat(107));
    assert!(Notifier::to_socket(&longest).is_ok());
    for bad in [
        format!("/{}", "a".repeat(108)),
        format!("/{}", "a".repeat(300)),
        "/run/a\0b".to_string(),
    ] {
        let err = Notifier::to_socket(&bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{} bytes", bad.len());
    }
}

#[test]
fn watchdog_period_follows_watchdog_usec_and_pid() {
    let _env = env_lock();
    assert_eq!(watchdog_period().unwrap(), None);
    std::env::set_var("WATCHDOG_USEC", "250000");
    assert_eq!(watchdog_period().unwrap(), Some(Duration::from_millis(250)));
    std::env::set_var("WATCHDOG_PID", std::process::id().to_string());
    assert_eq!(watchdog_period().unwrap(), Some(Duration::from_millis(250)));
    std::env::set_var("WATCHDOG_PID", "1");
    assert_eq!(
        watchdog_period().unwrap(),
        None,
        "meant for another process"
    );
    std::env::remove_var("WATCHDOG_PID");
    std::env::set_var("WATCHDOG_USEC", "0");
    assert_eq!(
        watchdog_period().unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    std::env::remove_var("WATCHDOG_USEC");
}

/// The watchdog pings every half period while the loop turns, none while a task wedges it,
/// and again once it turns.
#[test]
fn watchdog_pings_on_time_and_stops_while_the_loop_is_wedged() {
    const PERIOD: Duration = Duration::from_millis(100);
    const WEDGE: Duration = Duration::from_millis(400);
    let path = temp_path("watchdog.sock");
    let manager = manager_socket(&path);
    // The manager's side records when each ping arrives, on its own thread.
    let listener = std::thread::spawn(move || {
        manager
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut pings = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(n) = manager.recv(&mut buf) {
            assert_eq!(&buf[..n], b"WATCHDOG=1");
            pings.push(Instant::now());
        }
        pings
    });
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let notifier = Notifier::to_socket(path.to_str().unwrap()).unwrap();
    let start = Instant::now();
    let cpu_before = thread_cpu_ticks();
    let watchdog = notifier.spawn_watchdog(&h, PERIOD);
    let (wedge_start, wedge_end) = lp.block_on(async {
        h.sleep(Duration::from_millis(320)).await;
        // A task that blocks the loop: no turn, so no ping, for WEDGE.
        let wedged = h.spawn(async {
            let from = Instant::now();
            std::thread::sleep(WEDGE);
            (from, Instant::now())
        });
        let span = wedged.await.unwrap();
        h.sleep(Duration::from_millis(320)).await;
        span
    });
    // The loop sleeps between pings: about a second of wall time costs next to no CPU on
    // this thread (the wedge is a sleep too). 1 tick is 10 ms.
    let cpu = thread_cpu_ticks() - cpu_before;
    eprintln!("loop thread CPU: {cpu} ticks over {:?}", start.elapsed());
    assert!(cpu <= 10, "{cpu} ticks of CPU");
    watchdog.abort();
    drop(lp);
    let pings = listener.join().unwrap();
    let offsets: Vec<_> = pings.iter().map(|p| p.duration_since(start)).collect();
    eprintln!("pings at {offsets:?}");
    let before = pings.iter().filter(|&&p| p < wedge_start).count();
    let during = pings
        .iter()
        .filter(|&&p| p > wedge_start + Duration::from_millis(5) && p < wedge_end)
        .count();
    let after = pings.iter().filter(|&&p| p >= wedge_end).count();
    // Every 50 ms (each after the last one ran, so drift only delays): at most 6 in the
    // first 320 ms, at most 7 in the last (one due during the wedge fires at once when the
    // loop turns again); fewer on a loaded machine, but some.
    assert!((3..=7).contains(&before), "before the wedge: {offsets:?}");
    assert_eq!(during, 0, "pinged while the loop was wedged: {offsets:?}");
    assert!((3..=8).contains(&after), "after the wedge: {offsets:?}");
    for pair in pings.windows(2) {
        let gap = pair[1] - pair[0];
        let spans_wedge = pair[0] <= wedge_start + Duration::from_millis(5) && pair[1] >= wedge_end;
        if !spans_wedge {
            assert!(
                gap >= Duration::from_millis(10) && gap <= Duration::from_millis(200),
                "an on-time loop pings every 50 ms: {offsets:?}"
            );
        } else {
            assert!(gap >= WEDGE - Duration::from_millis(60), "{offsets:?}");
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// `CLOCK_MONOTONIC` in microseconds, as systemd reads it.
fn monotonic_micros() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000
}

/// This thread's user + system CPU time in clock ticks, from /proc/thread-self/stat.
fn thread_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // Fields after the command name (which ends with the last ')'): utime is the 12th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}
