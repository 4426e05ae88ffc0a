//! A checking client for the echo servers (`echo_server`, `protocol_echo`): it opens N
//! connections at once, sends M bytes on each (a pattern unique to the connection), shuts
//! down its writing half, reads everything back and classifies every connection:
//!
//! - `exact`: all M bytes came back, byte for byte, then a clean end of stream;
//! - `reset`: the receive or a send failed with `ECONNRESET` (or `EPIPE`): the peer said
//!   "cut", which is honest. (The kernel reports a reset once, to the first call: a send
//!   may take it and leave the receive an end of stream. The client sees the reset either
//!   way, so that counts as a reset.);
//! - `short`: a clean end of stream before M bytes: a cut reply that looks complete. This
//!   must never happen;
//! - `wrong`: a byte that differs from what was sent;
//! - `failed`: connecting failed, or no progress within the timeout (a hang).
//!
//! It prints one line, `exact E reset R short S wrong W failed F`, and exits 0 only if
//! `short`, `wrong` and `failed` are all 0 (resets are the server's right when it cuts a
//! connection; a caller that expects none checks the count). Plain std, blocking sockets
//! on threads: it shares no code with the loop it checks. Used by `tests/abortive_close.rs`
//! and the CI fault-injection check (`.ci/checks/55-fault-injection.sh`).
//!
//! Run:   cargo run --example echo_check -- ADDR [--conns N] [--bytes M] [--chunk C]
//!            [--read-chunk R] [--read-delay MS] [--timeout SECS]
//!        (N 50, M 4096, C 1024, R 65536, MS 0, SECS 20)
//! `--read-delay MS` makes each reader sleep MS ms after each read of at most R bytes (a slow
//! reader, to keep connections open for a shutdown to cut).

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: echo_check ADDR [--conns N] [--bytes M] [--chunk C] \
[--read-chunk R] [--read-delay MS] [--timeout SECS]";

/// The command line.
struct Options {
    addr: SocketAddr,
    conns: usize,
    bytes: usize,
    chunk: usize,
    read_chunk: usize,
    read_delay: Duration,
    timeout: Duration,
}

/// How one connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Exact,
    Reset,
    Short,
    Wrong,
    Failed,
}

fn parse_args() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut addr = None;
    let mut o = Options {
        addr: "127.0.0.1:0".parse().unwrap(),
        conns: 50,
        bytes: 4096,
        chunk: 1024,
        read_chunk: 64 * 1024,
        read_delay: Duration::ZERO,
        timeout: Duration::from_secs(20),
    };
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<usize, String> {
            let v = args.next().ok_or(format!("{name} needs a value"))?;
            v.parse::<usize>()
                .map_err(|_| format!("{name}: {v:?} is not a number"))
        };
        match arg.as_str() {
            "--conns" => o.conns = number("--conns")?,
            "--bytes" => o.bytes = number("--bytes")?,
            "--chunk" => o.chunk = number("--chunk")?.max(1),
            "--read-chunk" => o.read_chunk = number("--read-chunk")?.max(1),
            "--read-delay" => o.read_delay = Duration::from_millis(number("--read-delay")? as u64),
            "--timeout" => o.timeout = Duration::from_secs(number("--timeout")?.max(1) as u64),
            a if a.starts_with('-') => return Err(format!("unknown option {a:?}")),
            a if addr.is_none() => {
                addr = Some(a.parse().map_err(|_| format!("{a:?} is not IP:PORT"))?);
            }
            a => return Err(format!("unexpected argument {a:?}")),
        }
    }
    o.addr = addr.ok_or("ADDR is missing")?;
    Ok(o)
}

/// The byte at `offset` of connection `conn`'s payload: differs between connections and
/// does not repeat every 256 bytes, so a misplaced or foreign chunk shows.
fn pattern(conn: usize, offset: usize) -> u8 {
    (offset.wrapping_mul(31) ^ (offset >> 8) ^ conn.wrapping_mul(97)) as u8
}

/// Whether an error says the peer reset the connection.
fn is_reset(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe | ErrorKind::ConnectionAborted
    )
}

/// Sends the payload, then shuts down writing. True if a send saw the connection reset:
/// the kernel reports a reset once, to whichever call comes first, so a reader blocked
/// at the same time may then see only the end of stream.
fn send_all(mut stream: TcpStream, conn: usize, o: &Options) -> bool {
    let mut buf = vec![0u8; o.chunk];
    let mut sent = 0;
    while sent < o.bytes {
        let n = o.chunk.min(o.bytes - sent);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = pattern(conn, sent + i);
        }
        if let Err(e) = stream.write_all(&buf[..n]) {
            return is_reset(&e);
        }
        sent += n;
    }
    let _ = stream.shutdown(Shutdown::Write);
    false
}

/// Runs one connection and classifies it.
fn check_one(conn: usize, o: &Options) -> Outcome {
    let stream = match TcpStream::connect_timeout(&o.addr, o.timeout) {
        Ok(s) => s,
        Err(_) => return Outcome::Failed,
    };
    let timeouts = stream
        .set_read_timeout(Some(o.timeout))
        .and_then(|()| stream.set_write_timeout(Some(o.timeout)));
    let writer = match timeouts.and_then(|()| stream.try_clone()) {
        Ok(w) => w,
        Err(_) => return Outcome::Failed,
    };
    std::thread::scope(|scope| {
        let sender = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn_scoped(scope, || send_all(writer, conn, o));
        let Ok(sender) = sender else {
            return Outcome::Failed;
        };
        let outcome = read_back(stream, conn, o);
        let send_saw_reset = sender.join().unwrap_or(false);
        match outcome {
            Outcome::Short if send_saw_reset => Outcome::Reset,
            other => other,
        }
    })
}

/// Reads until the end of stream or an error, checking every byte.
fn read_back(mut stream: TcpStream, conn: usize, o: &Options) -> Outcome {
    let mut buf = vec![0u8; o.read_chunk];
    let mut got = 0usize;
    loop {
        match stream.read(&mut buf) {
            Ok(0) if got == o.bytes => return Outcome::Exact,
            Ok(0) => return Outcome::Short,
            Ok(n) => {
                if got + n > o.bytes
                    || buf[..n]
                        .iter()
                        .enumerate()
                        .any(|(i, &b)| b != pattern(conn, got + i))
                {
                    return Outcome::Wrong;
                }
                got += n;
                if !o.read_delay.is_zero() {
                    std::thread::sleep(o.read_delay);
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if is_reset(&e) => return Outcome::Reset,
            // WouldBlock/TimedOut: the read timeout passed with no progress.
            Err(_) => return Outcome::Failed,
        }
    }
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("echo_check: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // All connections at once, each on its own small thread (two with the sender).
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let o = &o;
        let workers: Vec<_> = (0..o.conns)
            .map(|conn| {
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(scope, move || check_one(conn, o))
                    .expect("spawn a client thread")
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or(Outcome::Failed))
            .collect()
    });
    let count = |k: Outcome| outcomes.iter().filter(|&&x| x == k).count();
    let (short, wrong, failed) = (
        count(Outcome::Short),
        count(Outcome::Wrong),
        count(Outcome::Failed),
    );
    println!(
        "exact {} reset {} short {short} wrong {wrong} failed {failed}",
        count(Outcome::Exact),
        count(Outcome::Reset),
    );
    if short + wrong + failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
