//! The flagship example, run as a child process: `examples/echo_server.rs` prints exactly
//! `listening on IP:PORT`, echoes, survives misbehaving peers, and exits 0 on SIGTERM or
//! SIGINT after its grace period. Every wait here is bounded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{example_path, wait_bounded};

/// A running server: the child, its address, and its stdout (to check nothing else is
/// printed).
struct Server {
    child: Child,
    addr: SocketAddr,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(example_path("echo_server"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start echo_server");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // Read the first line on a helper thread so a silent server cannot hang the test.
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut line = String::new();
            let r = stdout.read_line(&mut line);
            let _ = tx.send((r.map(|_| line), ()));
            stdout
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok((Ok(line), ())) => line,
            other => {
                let _ = child.kill();
                panic!("echo_server printed no first line: {other:?}");
            }
        };
        let stdout = reader.join().unwrap();
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.strip_suffix('\n'))
            .unwrap_or_else(|| panic!("first line is {line:?}"))
            .parse::<SocketAddr>()
            .unwrap_or_else(|_| panic!("no IP:PORT in {line:?}"));
        assert_ne!(addr.port(), 0, "the line must show the real port");
        Server {
            child,
            addr,
            stdout,
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill has no memory-safety preconditions; the pid is our live child.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    /// Waits for the exit (bounded) and returns the status, the time it took, and stderr.
    fn finish(mut self, limit: Duration) -> (ExitStatus, Duration, String) {
        let start = Instant::now();
        let status = wait_bounded(&mut self.child, limit)
            .unwrap_or_else(|| panic!("echo_server did not exit within {limit:?}"));
        let took = start.elapsed();
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "", "stdout must hold only the listening line");
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status, took, err)
    }
}

fn echo_round_trip(s: &mut TcpStream, msg: &[u8]) {
    s.write_all(msg).unwrap();
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back).unwrap();
    assert_eq!(back, msg);
}

#[test]
fn prints_listening_line_echoes_and_exits_0_on_sigterm() {
    let server = Server::start(&["127.0.0.1:0"]);
    assert_eq!(server.addr.ip().to_string(), "127.0.0.1");
    let mut c = server.connect();
    echo_round_trip(&mut c, b"Hello\n");
    echo_round_trip(&mut c, b"asyncio\n");
    drop(c);
    server.signal(libc::SIGTERM);
    let (status, took, err) = server.finish(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(
        took < Duration::from_secs(3),
        "no open connections, yet exit took {took:?}"
    );
}

#[test]
fn ipv6_small_buffer_and_sigint() {
    let server = Server::start(&["--buf", "7", "[::1]:0"]);
    assert!(server.addr.is_ipv6());
    let mut c = server.connect();
    let msg: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
    let mut writer = c.try_clone().unwrap();
    let sent = msg.clone();
    let t = std::thread::spawn(move || {
        writer.write_all(&sent).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut back = Vec::new();
    c.read_to_end(&mut back).unwrap();
    t.join().unwrap();
    assert!(back == msg, "echo through a 7-byte buffer differs");
    server.signal(libc::SIGINT);
    let (status, _, err) = server.finish(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "stderr: {err}");
}

/// After SIGTERM the server stops accepting but an open connection keeps being served
/// until it closes; then the server exits, well before the grace period ends.
#[test]
fn in_flight_connection_finishes_during_grace() {
    let server = Server::start(&["--grace", "20", "127.0.0.1:0"]);
    let mut c = server.connect();
    echo_round_trip(&mut c, b"before");
    server.signal(libc::SIGTERM);
    // Soon no longer accepting: the listener is closed, so connects are refused.
    let start = Instant::now();
    while TcpStream::connect_timeout(&server.addr, Duration::from_secs(1)).is_ok() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still accepting 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The open one still echoes.
    echo_round_trip(&mut c, b"during grace");
    drop(c);
    let (status, took, err) = server.finish(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(
        took < Duration::from_secs(5),
        "exit took {took:?} though the last client left"
    );
    assert!(err.contains("1 connection(s) have"), "{err}");
}

/// Peers that reset, half-close, send nothing or never read do not disturb a good client
/// or the daemon, and the grace period bounds the exit.
#[test]
fn misbehaving_peers_do_not_disturb_others() {
    let server = Server::start(&["--grace", "0.5", "127.0.0.1:0"]);

    // Resets mid-transfer.
    let reset = server.connect();
    (&reset).write_all(&[1u8; 100_000]).unwrap();
    let r2 = socket2_linger_zero(reset);
    drop(r2);

    // Half-closes and then reads its echo.
    let mut half = server.connect();
    half.write_all(b"half-close").unwrap();
    half.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    half.read_to_end(&mut back).unwrap();
    assert_eq!(back, b"half-close");

    // Sends nothing.
    let _silent = server.connect();

    // Never reads: floods until its buffers fill, then just sits there.
    let flooder = server.connect();
    flooder
        .set_write_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let mut flooded = 0usize;
    while flooded < (64 << 20) {
        match (&flooder).write(&chunk) {
            Ok(n) => flooded += n,
            Err(_) => break,
        }
    }

    // Meanwhile a good client is served promptly, many times.
    let mut good = server.connect();
    let start = Instant::now();
    for i in 0..200 {
        echo_round_trip(&mut good, format!("round {i}").as_bytes());
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "good client slowed: {:?}",
        start.elapsed()
    );
    drop(good);

    server.signal(libc::SIGTERM);
    let (status, took, err) = server.finish(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(
        took >= Duration::from_millis(400),
        "the grace period was not given: {took:?}"
    );
    assert!(
        took < Duration::from_secs(4),
        "the grace period was not bounded: {took:?}"
    );
    assert!(err.contains("closing"), "{err}");
}

/// SO_LINGER 0 on a std stream, so dropping it sends a reset.
fn socket2_linger_zero(s: TcpStream) -> TcpStream {
    rustix::net::sockopt::set_socket_linger(&s, Some(Duration::ZERO)).unwrap();
    s
}

#[test]
fn bad_arguments_and_port_in_use() {
    let out = Command::new(example_path("echo_server"))
        .arg("--buf")
        .arg("zero")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
    let out = Command::new(example_path("echo_server"))
        .arg("not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("IP:PORT"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let out = Command::new(example_path("echo_server"))
        .arg(taken.local_addr().unwrap().to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already in use"));
    assert!(out.stdout.is_empty());
}

/// A second signal during the grace period ends it at once.
#[test]
fn second_signal_cuts_the_grace_period_short() {
    let server = Server::start(&["--grace", "30", "127.0.0.1:0"]);
    let mut idle = server.connect();
    echo_round_trip(&mut idle, b"then silence");
    server.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    server.signal(libc::SIGINT);
    let (status, took, err) = server.finish(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(
        took < Duration::from_secs(5),
        "the second signal was ignored: {took:?}"
    );
    assert!(err.contains("closing 1 connection"), "{err}");
}
