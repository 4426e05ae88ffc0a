//! A peer never mistakes a cut connection for a complete one: dropping a stream closes it in
//! order (FIN), `abort` resets it (RST), and every place that ends a connection because of an
//! error or a deadline aborts it: the Protocol layer (errors, cancellation, the loop dropped
//! at shutdown), `examples/echo_server.rs` (a failed send, the end of the grace period) and
//! `examples/protocol_echo.rs` (shutdown). The servers are checked from outside with
//! `examples/echo_check.rs`, which classifies every connection as exact, reset or short
//! (a clean end before the whole echo): short must be zero.
//!
//! Under valgrind (`.ci/checks/60-valgrind.sh`) only the in-process tests run: the others
//! depend on timing a 20-50x slowdown breaks (the grace period must cut transfers that are
//! still running) or on strace, which cannot trace under valgrind; the release servers get
//! the same checks under fault injection in `.ci/checks/55-fault-injection.sh`.

use readyloop::net::{create_server, Protocol, TcpListener, Transport, UnixStream};
use readyloop::{ErrorKind, Loop};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

mod common;

use common::{example_path, wait_bounded};

/// Reads from a std stream until the end or an error: the bytes, and how it ended.
fn drain(s: &mut std::net::TcpStream) -> (usize, std::io::Result<()>) {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (got, Ok(())),
            Ok(n) => got += n,
            Err(e) => return (got, Err(e)),
        }
    }
}

#[test]
fn tcp_drop_is_an_orderly_close_and_abort_a_reset() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let l = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    for abortive in [false, true] {
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        let (server, _) = lp.block_on(l.accept()).unwrap();
        lp.block_on(server.send_all(b"partial reply")).unwrap();
        if abortive {
            server.abort();
        } else {
            drop(server);
        }
        let (got, end) = drain(&mut client);
        if abortive {
            let e = end.expect_err("abort must reset the peer");
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
        } else {
            assert_eq!((got, end.is_ok()), (13, true), "drop: the bytes, then EOF");
        }
    }
}

#[test]
fn unix_abort_resets_only_with_unread_bytes() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    lp.block_on(async {
        // Nothing unread: a Unix stream has no reset to send; the peer sees EOF.
        let (a, b) = UnixStream::pair(&h).unwrap();
        a.send_all(b"cut").await.unwrap();
        a.abort();
        let mut buf = [0u8; 8];
        assert_eq!(b.recv(&mut buf).await.unwrap(), 3);
        assert_eq!(
            b.recv(&mut buf).await.unwrap(),
            0,
            "EOF: nothing better exists"
        );
        // Bytes from the peer left unread: the peer's receive fails.
        let (a, b) = UnixStream::pair(&h).unwrap();
        b.send_all(b"unread").await.unwrap();
        a.abort();
        let err = b.recv(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    });
}

/// Writes `REPLY` bytes when the client sends anything: more than the socket buffers
/// hold, so a client that does not read leaves most of it in the transport's buffer.
struct BigReply(Option<Transport>);
const REPLY: usize = 8 << 20;

impl Protocol for BigReply {
    fn connection_made(&mut self, t: &Transport) {
        t.set_write_buffer_limits(2 * REPLY, 0).unwrap();
        self.0 = Some(t.clone());
    }
    fn data_received(&mut self, _data: &[u8]) {
        self.0.as_ref().unwrap().write(&vec![7u8; REPLY]).unwrap();
    }
}

#[test]
fn a_connection_cut_by_the_loops_end_resets_the_peer() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let server = create_server(&h, "127.0.0.1:0", || BigReply(None)).unwrap();
    let mut client = std::net::TcpStream::connect(server.local_addr()).unwrap();
    client.write_all(b"go").unwrap();
    // Let the server read the request (its receive queue is empty again) and fill the
    // socket buffers; the client reads nothing yet.
    lp.block_on(h.sleep(Duration::from_millis(200)));
    assert_eq!(server.connections(), 1);
    // A shutdown: the loop goes, cancelling the connection's task mid-reply.
    drop(server);
    drop(lp);
    let (got, end) = drain(&mut client);
    assert!(got < REPLY, "the whole reply arrived ({got})");
    let e = end.expect_err(&format!(
        "a cut reply ({got} of {REPLY} bytes) ended in a clean EOF"
    ));
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
}

/// The counts `echo_check` prints.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    exact: u64,
    reset: u64,
    short: u64,
    wrong: u64,
    failed: u64,
}

fn parse_counts(line: &str) -> Counts {
    let words: Vec<&str> = line.split_whitespace().collect();
    let get = |name: &str| -> u64 {
        let at = words.iter().position(|w| *w == name);
        at.and_then(|i| words.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} count in {line:?}"))
    };
    Counts {
        exact: get("exact"),
        reset: get("reset"),
        short: get("short"),
        wrong: get("wrong"),
        failed: get("failed"),
    }
}

/// Starts an echo example (optionally under `wrap`, say strace), runs `echo_check` against
/// it with `check_args`, sends SIGTERM `term_after` into the run if asked, and returns the
/// counts and the server's stderr.
fn check_server(
    wrap: &[&str],
    example: &str,
    server_args: &[&str],
    check_args: &[&str],
    term_after: Option<Duration>,
) -> Option<(Counts, String)> {
    if common::under_valgrind() {
        eprintln!("SKIPPED under valgrind: timing and strace (see the header)");
        return None;
    }
    let program = example_path(example);
    let mut cmd = match wrap.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(&program);
            c
        }
        None => Command::new(&program),
    };
    let mut server = cmd
        .args(server_args)
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {example}: {e}"));
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{example} printed {line:?}"))
        .to_string();
    // The process to signal: the server itself, not the strace wrapping it.
    let pid = if wrap.is_empty() {
        server.id()
    } else {
        let children = format!("/proc/{0}/task/{0}/children", server.id());
        let children = std::fs::read_to_string(children).unwrap();
        children.split_whitespace().next().unwrap().parse().unwrap()
    };
    // Keep draining stdout (protocol_echo prints a line per connection).
    let drainer = std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let mut check = Command::new(example_path("echo_check"))
        .arg(&addr)
        .args(check_args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start echo_check");
    if let Some(after) = term_after {
        std::thread::sleep(after);
        // SAFETY: kill has no memory-safety preconditions; the pid is our live child.
        assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
    }
    wait_bounded(&mut check, Duration::from_secs(60)).expect("echo_check hung");
    let mut out = String::new();
    check
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    if term_after.is_none() {
        // SAFETY: as above.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    }
    wait_bounded(&mut server, Duration::from_secs(30)).expect("the server did not exit");
    let _ = drainer.join();
    let mut err = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    Some((parse_counts(&out), err))
}

/// Slow readers (64 KiB per 50 ms) with 6 MiB echoes, a little more than the socket
/// buffers hold: SIGTERM after 1 s, and the grace period's end cuts every connection, some
/// of them after the client sent everything and the server read it all (there a plain
/// close sends a FIN: before the fix 3 to 7 of 20 connections ended clean but short).
const SLOW_CLIENTS: &[&str] = &[
    "--conns",
    "20",
    "--bytes",
    "6291456",
    "--chunk",
    "65536",
    "--read-delay",
    "50",
];

#[test]
fn echo_server_resets_the_connections_its_grace_period_cuts() {
    let Some((counts, err)) = check_server(
        &[],
        "echo_server",
        &["--buf", "4194304", "--grace", "0.5"],
        SLOW_CLIENTS,
        Some(Duration::from_secs(1)),
    ) else {
        return;
    };
    assert_eq!(
        counts.short, 0,
        "clean-but-short connections: {counts:?}\n{err}"
    );
    assert_eq!(counts.failed + counts.wrong, 0, "{counts:?}\n{err}");
    assert!(counts.reset > 0, "nothing was cut: {counts:?}\n{err}");
}

#[test]
fn protocol_echo_resets_the_connections_its_shutdown_cuts() {
    let Some((counts, err)) = check_server(
        &[],
        "protocol_echo",
        &[],
        SLOW_CLIENTS,
        Some(Duration::from_secs(1)),
    ) else {
        return;
    };
    assert_eq!(
        counts.short, 0,
        "clean-but-short connections: {counts:?}\n{err}"
    );
    assert_eq!(counts.failed + counts.wrong, 0, "{counts:?}\n{err}");
    assert!(counts.reset > 0, "nothing was cut: {counts:?}\n{err}");
}

/// Runs `example` under strace injecting ENOBUFS into every 8th sendto from the 4th, with
/// 100 checked clients of 4 KiB (echo_server, with 1 KiB reads, sends each echo in 4
/// calls): the failed send is a connection's last, when its receive queue is empty, so a
/// plain close would send a FIN (before the fix: every failed connection ended clean but
/// short). The connections whose send failed must end in a reset.
fn check_under_enobufs(example: &str, server_args: &[&str]) {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("SKIPPED: strace is not installed (.ci/run installs it)");
        return;
    }
    let trace = std::env::temp_dir().join(format!(
        "readyloop-enobufs-{example}-{}",
        std::process::id()
    ));
    let trace_arg = trace.to_str().unwrap().to_string();
    let wrap = [
        "strace",
        "-f",
        "-qq",
        "-o",
        &trace_arg,
        "-e",
        "trace=sendto",
        "-e",
        "inject=sendto:error=ENOBUFS:when=4+8",
    ];
    let Some((counts, err)) = check_server(
        &wrap,
        example,
        server_args,
        &["--conns", "100", "--bytes", "4096", "--chunk", "4096"],
        None,
    ) else {
        return;
    };
    let injected = std::fs::read_to_string(&trace)
        .unwrap_or_default()
        .matches("(INJECTED)")
        .count();
    let _ = std::fs::remove_file(&trace);
    assert!(injected > 0, "strace injected nothing");
    assert_eq!(
        counts.short, 0,
        "clean-but-short connections: {counts:?}\n{err}"
    );
    assert_eq!(counts.failed + counts.wrong, 0, "{counts:?}\n{err}");
    assert!(
        counts.reset > 0,
        "no send failed: {counts:?} ({injected} injected)"
    );
    assert_eq!(counts.exact + counts.reset, 100);
}

#[test]
fn echo_server_resets_a_connection_whose_send_failed() {
    check_under_enobufs("echo_server", &["--buf", "1024"]);
}

#[test]
fn protocol_echo_resets_a_connection_whose_send_failed() {
    check_under_enobufs("protocol_echo", &[]);
}
