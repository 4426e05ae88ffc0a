//! Graceful shutdown under load: SIGTERM reaches `examples/echo_server` while 100 clients
//! are mid-transfer. Every in-flight echo completes intact, new connections are refused,
//! and the server exits 0 within its grace period (soon after the last client is done, not
//! at the end of the grace period). Every wait is bounded. Under valgrind (which runs the
//! server too) 20 clients do the same.

use readyloop::net::{Shutdown, SocketAddr, TcpStream};
use readyloop::{Handle, Loop};
use std::cell::Cell;
use std::io::BufRead;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

mod common;

use common::{example_path, wait_bounded, within};

/// How many clients: 100, or 20 under valgrind.
fn clients() -> usize {
    common::sized(100, 20)
}

const PAYLOAD: usize = 256 << 10;
const CHUNK: usize = 16 << 10;
const GRACE_SECS: u64 = 10;

/// Byte `i` of client `c`'s payload: depends on both, so a mix-up or a shift shows.
fn byte(c: usize, i: usize) -> u8 {
    ((i.wrapping_mul(2_654_435_761) >> 13) ^ (c * 7)) as u8
}

/// Sends the payload in chunks with pauses, reading the echo meanwhile; returns the bytes
/// that came back, all checked. `echoed` counts the clients that have had some echo.
async fn client(h: Handle, addr: SocketAddr, c: usize, echoed: Rc<Cell<usize>>) -> usize {
    let stream = Rc::new(TcpStream::connect(&h, addr).await.expect("connect"));
    let writer = h.spawn({
        let (h, stream) = (h.clone(), stream.clone());
        async move {
            let payload: Vec<u8> = (0..PAYLOAD).map(|i| byte(c, i)).collect();
            for chunk in payload.chunks(CHUNK) {
                stream.send_all(chunk).await.expect("send");
                h.sleep(Duration::from_millis(40)).await;
            }
            stream.shutdown(Shutdown::Write).expect("shutdown");
        }
    });
    let mut got = 0;
    let mut buf = vec![0u8; 8192];
    loop {
        let n = stream.recv(&mut buf).await.expect("recv");
        if n == 0 {
            break;
        }
        for (k, b) in buf[..n].iter().enumerate() {
            assert_eq!(
                *b,
                byte(c, got + k),
                "client {c}: corrupted at byte {}",
                got + k
            );
        }
        if got == 0 {
            echoed.set(echoed.get() + 1);
        }
        got += n;
    }
    writer.await.unwrap();
    got
}

#[test]
fn sigterm_with_a_hundred_clients_mid_transfer() {
    let clients = clients();
    common::raise_fd_limit(4 * clients as u64 + 256);
    let grace = GRACE_SECS.to_string();
    let mut server = Command::new(example_path("echo_server"))
        .args(["127.0.0.1:0", "--grace", &grace])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start echo_server");
    let stdout = server.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    let addr: SocketAddr = match line.trim().strip_prefix("listening on ").map(str::parse) {
        Some(Ok(addr)) => addr,
        _ => {
            let _ = server.kill();
            panic!("echo_server's first line was {line:?}");
        }
    };
    let pid = server.id() as i32;

    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let echoed = Rc::new(Cell::new(0));
    let (signalled_at, last_done_at, refused) =
        lp.block_on(within(&h, Duration::from_secs(60), "the clients", async {
            let tasks: Vec<_> = (0..clients)
                .map(|c| h.spawn(client(h.clone(), addr, c, echoed.clone())))
                .collect();
            // Mid-transfer: every client has had some of its echo, none is near the end.
            while echoed.get() < clients {
                h.sleep(Duration::from_millis(5)).await;
            }
            // SAFETY: kill(2) has no memory-safety preconditions; the pid is our child.
            assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
            let signalled_at = Instant::now();
            // The listener closes: new connections are refused (bounded wait).
            let mut refused = false;
            for _ in 0..200 {
                match TcpStream::connect(&h, addr).await {
                    Err(e) if e.kind() == readyloop::ErrorKind::ConnectionRefused => {
                        refused = true;
                        break;
                    }
                    _ => h.sleep(Duration::from_millis(10)).await,
                }
            }
            let mut unfinished = 0;
            for (c, t) in tasks.into_iter().enumerate() {
                let got = t.await.unwrap_or_else(|e| panic!("client {c}: {e}"));
                if got != PAYLOAD {
                    unfinished += 1;
                }
            }
            assert_eq!(unfinished, 0, "clients whose echo was cut short");
            (signalled_at, Instant::now(), refused)
        }));
    assert!(refused, "still accepting connections after SIGTERM");
    let status = wait_bounded(&mut server, Duration::from_secs(GRACE_SECS + 10))
        .expect("echo_server did not exit");
    let exited_at = Instant::now();
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut stderr);
    assert!(
        status.success(),
        "exit status {status:?}; stderr:\n{stderr}"
    );
    let took = exited_at - signalled_at;
    assert!(
        took < Duration::from_secs(GRACE_SECS),
        "exited {took:?} after SIGTERM, past the {GRACE_SECS} s grace period"
    );
    // Under valgrind the server's exit includes valgrind's leak check.
    let soon = common::sized(Duration::from_secs(3), Duration::from_secs(6));
    assert!(
        exited_at.saturating_duration_since(last_done_at) < soon,
        "exited {:?} after the last client was done: it waited for nothing",
        exited_at - last_done_at
    );
    println!(
        "shutdown: {clients} clients x {PAYLOAD} bytes echoed intact; exit 0 {took:?} after \
         SIGTERM, {:?} after the last client finished",
        exited_at.saturating_duration_since(last_done_at)
    );
}
