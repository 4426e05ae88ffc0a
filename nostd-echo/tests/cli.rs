//! The no_std daemon from outside: the ADDR it takes (and the ones it refuses, with status
//! 2 and a message), and READY=1 / STOPPING=1 to a Unix datagram socket standing in as
//! systemd's NOTIFY_SOCKET, then exit 0 on SIGTERM.
//!
//! Run: `cd nostd-echo && cargo test --release` (.ci/checks/50-bench-build.sh does).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DAEMON: &str = env!("CARGO_BIN_EXE_nostd-echo");

/// Kills the daemon if a test fails half-way.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the daemon with `args` and reads its `listening on ...` line.
fn start(args: &[&str], notify: Option<&std::path::Path>) -> (Running, String) {
    let mut cmd = Command::new(DAEMON);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.env_remove("NOTIFY_SOCKET");
    if let Some(path) = notify {
        cmd.env("NOTIFY_SOCKET", path);
    }
    let mut child = Running(cmd.spawn().unwrap());
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("no listening line: {line:?}"))
        .trim_end()
        .to_string();
    (child, addr)
}

fn echo_once(addr: &str) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"no_std\n").unwrap();
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"no_std\n");
}

#[test]
fn takes_ipv4_and_ipv6_addresses_as_echo_server_does() {
    let (_d, addr) = start(&[], None);
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    echo_once(&addr);
    let (_d, addr) = start(&["127.0.0.1:0"], None);
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );
    echo_once(&addr);
    // IPv6 loopback, if this machine has it.
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        let (_d, addr) = start(&["[::1]:0"], None);
        assert!(addr.starts_with("[::1]:"), "{addr}");
        echo_once(&addr);
    }
}

#[test]
fn refuses_what_it_cannot_parse_with_a_message_and_status_2() {
    for bad in [
        "127.0.0.1", // no port
        "9527",      // a port alone
        "1.2.3:4",
        "256.0.0.1:80",
        "127.0.0.1:65536",
        "127.0.0.1:",
        "127.0.0.1:80x",
        "localhost:80",
        "[::1:80",
        "::1:80",
        "[1:2:3:4:5:6:7:8:9]:80",
        "[1::2::3]:80",
        "",
    ] {
        let out = Command::new(DAEMON).arg(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?} was not refused");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("expected one ADDR"), "{bad:?}: {err}");
    }
    let out = Command::new(DAEMON)
        .args(["127.0.0.1:0", "extra"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn says_ready_once_listening_and_stopping_on_sigterm() {
    let path = std::env::temp_dir().join(format!("nostd-echo-notify-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let manager = UnixDatagram::bind(&path).unwrap();
    manager
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (mut daemon, addr) = start(&["127.0.0.1:0"], Some(&path));
    let mut buf = [0u8; 64];
    let n = manager.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"READY=1");
    echo_once(&addr);
    // SAFETY: kill(2) on the child this test started.
    assert_eq!(unsafe { libc_kill(daemon.0.id() as i32, 15) }, 0);
    let n = manager.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"STOPPING=1");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = daemon.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_file(&path);
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
