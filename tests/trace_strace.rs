//! The trace's syscall level lines up with `strace -f`: this test runs a small echo program
//! (its own binary, in child mode) under strace and compares the counts of waits (`ppoll`),
//! receives (`recvfrom`), sends (`sendto`) and accepts (`accept4`) in the trace and in
//! strace's output. They must be equal: every socket syscall a readiness leaf makes is
//! traced, and nothing else in the program makes these four calls.
//!
//! Skipped (with a message) when `strace` is not installed; CI installs it.

use readyloop::net::{TcpListener, TcpStream};
use readyloop::trace::JsonLines;
use readyloop::{Handle, Loop};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const CHILD: &str = "READYLOOP_STRACE_CHILD_TRACE";
const ROUNDS: usize = 20;

/// The program strace watches: a listener and a client in one loop, `ROUNDS` echoes of 64 B.
async fn echo_rounds(h: Handle) {
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = h.spawn(async move {
        let (conn, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 64];
        loop {
            let n = conn.recv(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            conn.send_all(&buf[..n]).await.unwrap();
        }
    });
    h.sleep(Duration::from_millis(5)).await;
    let client = TcpStream::connect(&h, addr).await.unwrap();
    let mut buf = [0u8; 64];
    for _ in 0..ROUNDS {
        client.send_all(&[7u8; 64]).await.unwrap();
        client.recv_exact(&mut buf).await.unwrap();
    }
    drop(client);
    server.await.unwrap();
}

#[test]
fn child_echo_program() {
    let Some(path) = std::env::var_os(CHILD) else {
        return; // Only run as the child of `trace_and_strace_count_the_same_syscalls`.
    };
    let file = std::fs::File::create(path).unwrap();
    // poll(2) whatever the build's default backend: the comparison counts `ppoll` calls.
    let lp = Loop::builder()
        .backend(readyloop::BackendKind::Poll)
        .trace(JsonLines::new(std::io::BufWriter::new(file)))
        .trace_syscalls()
        .build()
        .unwrap();
    let h = lp.handle();
    lp.block_on(echo_rounds(h.clone()));
}

fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn trace_and_strace_count_the_same_syscalls() {
    if Command::new("strace").arg("-V").output().is_err() {
        eprintln!("SKIPPED: strace is not installed (CI installs it)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("readyloop-strace-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace_path = dir.join("trace.jsonl");
    let strace_path = dir.join("strace.txt");
    let status = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=ppoll,recvfrom,sendto,accept4",
            "-o",
        ])
        .arg(&strace_path)
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "child_echo_program", "--test-threads=1"])
        .env(CHILD, &trace_path)
        .status()
        .unwrap();
    assert!(status.success(), "the traced child failed: {status}");
    let trace = read(&trace_path);
    let strace = read(&strace_path);
    // A syscall strace saw interrupted appears as "<unfinished ...>" then "<... resumed>":
    // count the calls (lines naming the call with its open parenthesis), not the halves.
    let kernel = |call: &str| count(&strace, &format!("{call}("));
    let traced = |op: &str| count(&trace, &format!(r#""op":"{op}""#));
    let waits = count(&trace, r#""event":"wait""#);
    let summary = format!(
        "trace: {waits} waits, {} recv, {} send, {} accept; strace: {} ppoll, {} recvfrom, \
         {} sendto, {} accept4",
        traced("recv"),
        traced("send"),
        traced("accept"),
        kernel("ppoll"),
        kernel("recvfrom"),
        kernel("sendto"),
        kernel("accept4"),
    );
    eprintln!("{summary}");
    assert!(
        waits > 0 && traced("recv") >= 2 * ROUNDS,
        "{summary}\n{trace}"
    );
    assert_eq!(waits, kernel("ppoll"), "{summary}");
    assert_eq!(
        traced("recv") + traced("recvfrom") + traced("peek"),
        kernel("recvfrom"),
        "{summary}"
    );
    assert_eq!(
        traced("send") + traced("sendto"),
        kernel("sendto"),
        "{summary}"
    );
    assert_eq!(traced("accept"), kernel("accept4"), "{summary}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
