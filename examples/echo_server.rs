//! Seed 003's echo server, as a small daemon: an accept loop that spawns one task per
//! connection, each receiving up to BYTES bytes and sending them all back until the client
//! closes. Accepted sockets get TCP_NODELAY.
//!
//! The daemon pattern for many idle clients: a connection's task waits for something to
//! receive with no buffer (`stream.readable().await`), then takes a BYTES buffer from a
//! pool the tasks share, receives and answers until the socket is drained, and gives the
//! buffer back (`readyloop::net::echo_pooled`). An idle connection costs its socket and
//! task (~0.5 KiB), not its buffer: with `--buf 16384`, ~1/30 of tokio's echo per idle
//! connection (bench/README.md).
//!
//! When ready it prints one line, `listening on IP:PORT` (the real port, so port 0 works),
//! to stdout. On SIGINT or SIGTERM it stops accepting, gives the connections still open up
//! to the grace period to finish (a second signal cuts that short), resets the rest, and
//! exits 0. A client that resets, half-closes, sends nothing or never reads only ever
//! affects its own task.
//!
//! A connection ends with a clean close (FIN) only when its echo is complete; one cut
//! short, by a failed send or by the end of the grace period, is reset
//! (`TcpStream::abort`), so a client never takes a truncated echo for a whole one.
//!
//! Run:   cargo run --release --example echo_server -- [--buf BYTES] [--grace SECS] [ADDR]
//!        (ADDR defaults to 127.0.0.1:9527, BYTES to 1024, SECS to 5)
//! Try:   nc 127.0.0.1 9527
//! Trace: READYLOOP_TRACE=trace.jsonl records every turn as JSON lines for
//!        `cargo run -p readyloop-trace-view -- svg trace.jsonl` (or `-- story trace.jsonl`)

use readyloop::net::{echo_pooled, BufferPool, TcpListener, TcpStream};
use readyloop::signal::{Signal, Signals};
use readyloop::{Handle, JoinHandle, Loop};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io::Write;
use std::pin::pin;
use std::process::ExitCode;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

const USAGE: &str = "usage: echo_server [--buf BYTES] [--grace SECS] [ADDR]
  ADDR          IP:PORT to listen on (default 127.0.0.1:9527; port 0 picks a free port)
  --buf BYTES   receive up to BYTES per recv (default 1024, as in the article)
  --grace SECS  after SIGINT/SIGTERM, how long open connections may take to finish (default 5)";

/// The command line.
struct Options {
    addr: String,
    buf: usize,
    grace: Duration,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:9527".to_string(),
        buf: 1024,
        grace: Duration::from_secs(5),
    };
    let mut addr_given = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--buf" => {
                let v = args.next().ok_or("--buf needs a value")?;
                options.buf = match v.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--buf: {v:?} is not a positive byte count")),
                };
            }
            "--grace" => {
                let v = args.next().ok_or("--grace needs a value")?;
                options.grace = parse_seconds(&v)
                    .ok_or_else(|| format!("--grace: {v:?} is not a number of seconds"))?;
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag:?}")),
            addr if !addr_given => {
                options.addr = addr.to_string();
                addr_given = true;
            }
            extra => return Err(format!("unexpected argument {extra:?}")),
        }
    }
    Ok(options)
}

/// "SECS" or "SECS.FRACTION" (digits only, up to nanoseconds) as a Duration. Parsed by
/// hand: `f64`'s parser alone would add ~16 KiB to this small daemon.
fn parse_seconds(v: &str) -> Option<Duration> {
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 9 {
        return None;
    }
    let secs = if whole.is_empty() {
        0
    } else {
        whole.parse::<u64>().ok()?
    };
    let nanos = frac.bytes().chain(core::iter::repeat(b'0')).take(9);
    let nanos = nanos.fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    Some(Duration::new(secs, nanos))
}

/// The loop; traced as JSON lines into the file READYLOOP_TRACE names, if it is set.
fn new_loop() -> Result<Loop, String> {
    let Some(path) = std::env::var_os("READYLOOP_TRACE") else {
        return Loop::new().map_err(|e| e.to_string());
    };
    let file = std::fs::File::create(&path)
        .map_err(|e| format!("READYLOOP_TRACE={}: {e}", path.to_string_lossy()))?;
    let sink = readyloop::trace::JsonLines::new(std::io::BufWriter::new(file));
    Loop::builder()
        .trace(sink)
        .build()
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("echo_server: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let lp = match new_loop() {
        Ok(lp) => lp,
        Err(e) => {
            eprintln!("echo_server: cannot start the loop: {e}");
            return ExitCode::FAILURE;
        }
    };
    let h = lp.handle();
    // Caught from before the listening line, so a signal sent right after it is not lost.
    let shutdown = match Signals::new(&h, &[Signal::Int, Signal::Term]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("echo_server: cannot catch SIGINT/SIGTERM: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(&h, options.addr.as_str()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("echo_server: cannot listen on {}: {e}", options.addr);
            return ExitCode::FAILURE;
        }
    };
    let local = listener
        .local_addr()
        .expect("a bound listener has an address");
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "listening on {local}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);
    lp.block_on(serve(h, listener, shutdown, options));
    ExitCode::SUCCESS
}

/// The connections' tasks, and counts for the goodbye line.
#[derive(Default)]
struct Connections {
    tasks: RefCell<Vec<JoinHandle<()>>>,
    served: Cell<u64>,
    failed: Cell<u64>,
}

async fn serve(h: Handle, listener: TcpListener, mut shutdown: Signals, options: Options) {
    let connections = Rc::new(Connections::default());
    let acceptor = h.spawn(accept_loop(
        h.clone(),
        listener,
        options.buf,
        connections.clone(),
    ));
    // An error here (the loop failing to wait) is also a reason to stop.
    let signal = match shutdown.recv().await {
        Ok(signal) => signal.name(),
        Err(_) => "signal wait failed",
    };

    // Stop accepting: the accept loop owns the listener, which closes when it is dropped.
    acceptor.abort();
    let _ = acceptor.await;
    let open: Vec<JoinHandle<()>> = connections.tasks.borrow_mut().drain(..).collect();
    let open: Vec<_> = open.into_iter().filter(|t| !t.is_finished()).collect();
    if !open.is_empty() {
        eprintln!(
            "echo_server: {signal}: not accepting; {} connection(s) have {}.{:03} s to finish",
            open.len(),
            options.grace.as_secs(),
            options.grace.subsec_millis()
        );
    }

    // Wait for them until the grace period ends or another signal comes, then close the rest.
    let deadline = h.now() + options.grace;
    let mut second = pin!(shutdown.recv());
    let mut remaining = open.into_iter().peekable();
    while let Some(task) = remaining.peek_mut() {
        let mut timer = pin!(h.sleep_until(deadline));
        let finished = std::future::poll_fn(|cx| {
            if pin!(&mut *task).poll(cx).is_ready() {
                return Poll::Ready(true);
            }
            if timer.as_mut().poll(cx).is_ready() || second.as_mut().poll(cx).is_ready() {
                return Poll::Ready(false);
            }
            Poll::Pending
        })
        .await;
        if !finished {
            break;
        }
        remaining.next();
    }
    let cut: Vec<_> = remaining.collect();
    if !cut.is_empty() {
        eprintln!(
            "echo_server: closing {} connection(s) still open (reset)",
            cut.len()
        );
    }
    for task in cut {
        task.abort();
    }
    eprintln!(
        "echo_server: served {} connection(s), {} ended with an error; bye",
        connections.served.get(),
        connections.failed.get()
    );
}

/// Seed 003's `server`: accept forever, one echo task per connection.
async fn accept_loop(h: Handle, listener: TcpListener, buf: usize, connections: Rc<Connections>) {
    // Buffers are held only while a connection has something to receive; up to 64 free
    // ones are kept for the next busy connections.
    let pool = BufferPool::new(buf, 64);
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                // Guarded from here: a task cancelled before its first poll still resets.
                let stream = ResetUnlessFinished(Some(stream));
                let task = h.spawn(handle_connection(stream, pool.clone(), connections.clone()));
                let mut tasks = connections.tasks.borrow_mut();
                // Forget finished connections now and then, so the list stays short.
                if tasks.len() >= 64 && tasks.len().is_power_of_two() {
                    tasks.retain(|t| !t.is_finished());
                }
                tasks.push(task);
            }
            // Running out of fds is retried inside accept; anything else is reported and
            // retried after a pause, never allowed to stop the server or make it spin.
            Err(e) => {
                eprintln!("echo_server: accept failed: {e}");
                h.sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Seed 003's `handler`: echo until the client closes, then close; reset on an error.
async fn handle_connection(
    mut stream: ResetUnlessFinished,
    pool: BufferPool,
    connections: Rc<Connections>,
) {
    let Some(tcp) = stream.0.as_ref() else {
        return;
    };
    // Small echoes go out at once instead of waiting for the previous ACK.
    let _ = tcp.set_nodelay(true);
    let result = echo_pooled(tcp, &pool).await;
    connections.served.set(connections.served.get() + 1);
    if result.is_err() {
        connections.failed.set(connections.failed.get() + 1);
        // Dropped by the guard: a reset, since the echo was cut.
        return;
    }
    // The whole echo went out: an orderly close (FIN).
    drop(stream.0.take());
}

/// Owns a connection's stream and resets it when dropped, unless it was taken out for an
/// orderly close: the task's end on an error, or its cancellation at the end of the grace
/// period, must not look like a complete echo to the client.
struct ResetUnlessFinished(Option<TcpStream>);

impl Drop for ResetUnlessFinished {
    fn drop(&mut self) {
        if let Some(stream) = self.0.take() {
            stream.abort();
        }
    }
}
