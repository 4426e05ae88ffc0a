//! Soak test for the echo_server example: a bounded run (default 60 s, 1,000 connections,
//! loopback only) of clients that misbehave the ways real peers do, against the release
//! build of `echo_server` started as a child process. The clients run on readyloop too.
//!
//! Connection kinds, picked at random: normal (random payload, random chunking, reading
//! while writing), slow readers (small reads with pauses, so the server's sends back up),
//! half-closes (send all, shut down writing, then read), resets (SO_LINGER 0 mid-transfer),
//! idle connections (send nothing), and peers that never read (until the server's sends
//! block, then close or reset).
//!
//! At the end: every byte of every connection that ran to completion came back intact and
//! in order; the server holds as many fds as after the warm-up (`/proc/PID/fd`) and its
//! resident memory is within 5 % of the warm-up level (`VmRSS`); it still answers a
//! round trip; and SIGTERM makes it exit 0. Exits 0 if all holds, 1 otherwise.
//!
//! Run:   cargo build --release --example echo_server --example soak
//!        target/release/examples/soak [--server PATH] [--seconds 60] [--connections 1000]
//!                                     [--seed N]
//! (PATH defaults to `echo_server` next to this program.)

use readyloop::net::{Shutdown, SocketAddr, TcpStream};
use readyloop::{Handle, JoinHandle, Loop};
use std::cell::RefCell;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::rc::Rc;
use std::time::Duration;

/// xorshift64*: small, fast, and the same stream on both ends of a connection.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// In `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
    /// Log-uniform in `1..=max`: many small sizes, some large.
    fn size(&mut self, max: u64) -> usize {
        let bits = self.range(0, 63 - u64::from(max.leading_zeros()));
        (self.range(1 << bits, (2 << bits) - 1).min(max)) as usize
    }
}

/// The payload of one connection as a byte stream: any chunking gives the same bytes.
struct Payload {
    rng: Rng,
    word: [u8; 8],
    used: usize,
}

impl Payload {
    fn new(seed: u64) -> Payload {
        Payload {
            rng: Rng::new(seed ^ 0xDA7A),
            word: [0; 8],
            used: 8,
        }
    }
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            if self.used == 8 {
                self.word = self.rng.next().to_le_bytes();
                self.used = 0;
            }
            *b = self.word[self.used];
            self.used += 1;
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Normal,
    SlowReader,
    HalfClose,
    Reset,
    Idle,
    NeverReads,
}

impl Kind {
    fn pick(rng: &mut Rng) -> Kind {
        match rng.range(0, 99) {
            0..=39 => Kind::Normal,
            40..=54 => Kind::SlowReader,
            55..=69 => Kind::HalfClose,
            70..=79 => Kind::Reset,
            80..=89 => Kind::Idle,
            _ => Kind::NeverReads,
        }
    }
}

/// What the run saw.
#[derive(Default)]
struct Tally {
    /// (kind, connections, bytes checked) per kind.
    by_kind: std::collections::BTreeMap<Kind, (u64, u64)>,
    failures: Vec<String>,
}

type Shared = Rc<RefCell<Tally>>;

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// Receives until end of file, checking every byte against the payload; returns the count.
/// `slow` reads in small pieces with pauses.
async fn read_and_check(
    h: &Handle,
    stream: &TcpStream,
    seed: u64,
    slow: bool,
    rng: &mut Rng,
) -> Result<u64, String> {
    let mut expect = Payload::new(seed);
    let mut buf = vec![0u8; 65536];
    let mut want = vec![0u8; 65536];
    let mut got = 0u64;
    loop {
        let cap = if slow {
            rng.range(1, 4096)
        } else {
            rng.range(1, 65536)
        } as usize;
        let n = stream
            .recv(&mut buf[..cap])
            .await
            .map_err(|e| err("recv", e))?;
        if n == 0 {
            return Ok(got);
        }
        expect.fill(&mut want[..n]);
        if buf[..n] != want[..n] {
            let at = buf[..n].iter().zip(&want[..n]).position(|(a, b)| a != b);
            return Err(format!(
                "corrupted echo at byte {}",
                got + at.unwrap_or(0) as u64
            ));
        }
        got += n as u64;
        if slow && rng.percent(60) {
            h.sleep(Duration::from_micros(rng.range(500, 4000))).await;
        }
    }
}

/// Sends `size` payload bytes in random chunks, with an occasional pause.
async fn send_payload(
    h: &Handle,
    stream: &TcpStream,
    seed: u64,
    size: usize,
    mut rng: Rng,
) -> Result<(), String> {
    let mut payload = Payload::new(seed);
    let mut buf = vec![0u8; 65536];
    let mut sent = 0;
    while sent < size {
        let n = rng.size(65536).min(size - sent);
        payload.fill(&mut buf[..n]);
        stream
            .send_all(&buf[..n])
            .await
            .map_err(|e| err("send", e))?;
        sent += n;
        if rng.percent(10) {
            h.sleep(Duration::from_micros(rng.range(0, 2000))).await;
        }
    }
    Ok(())
}

/// One connection of `kind`; Ok(bytes checked) or what went wrong.
async fn connection(h: Handle, addr: SocketAddr, kind: Kind, seed: u64) -> Result<u64, String> {
    let mut rng = Rng::new(seed);
    let stream = Rc::new(
        TcpStream::connect(&h, addr)
            .await
            .map_err(|e| err("connect", e))?,
    );
    match kind {
        Kind::Normal | Kind::SlowReader => {
            let size = if kind == Kind::SlowReader {
                rng.range(256 << 10, 1 << 20) as usize
            } else {
                rng.size(256 << 10)
            };
            let writer = h.spawn({
                let (h, stream, rng) = (h.clone(), stream.clone(), Rng::new(rng.next()));
                async move {
                    send_payload(&h, &stream, seed, size, rng).await?;
                    stream
                        .shutdown(Shutdown::Write)
                        .map_err(|e| err("shutdown", e))
                }
            });
            let got = read_and_check(&h, &stream, seed, kind == Kind::SlowReader, &mut rng).await;
            writer.await.map_err(|e| err("writer", e))??;
            let got = got?;
            if got != size as u64 {
                return Err(format!("sent {size} bytes, {got} came back"));
            }
            Ok(got)
        }
        Kind::HalfClose => {
            // Small enough to sit in the socket buffers while nobody reads.
            let size = rng.size(32 << 10);
            send_payload(&h, &stream, seed, size, Rng::new(rng.next())).await?;
            stream
                .shutdown(Shutdown::Write)
                .map_err(|e| err("shutdown", e))?;
            let got = read_and_check(&h, &stream, seed, false, &mut rng).await?;
            if got != size as u64 {
                return Err(format!("sent {size} bytes, {got} came back"));
            }
            Ok(got)
        }
        Kind::Reset => {
            let size = rng.size(64 << 10);
            send_payload(&h, &stream, seed, size, Rng::new(rng.next())).await?;
            if rng.percent(50) {
                // Read a little of the echo first; it must be a true prefix.
                let mut expect = Payload::new(seed);
                let mut buf = vec![0u8; rng.range(1, size as u64) as usize];
                let n = stream.recv(&mut buf).await.map_err(|e| err("recv", e))?;
                let mut want = vec![0u8; n];
                expect.fill(&mut want);
                if buf[..n] != want[..] {
                    return Err("corrupted echo before the reset".into());
                }
            }
            stream
                .set_linger(Some(Duration::ZERO))
                .map_err(|e| err("linger", e))?;
            Ok(0)
        }
        Kind::Idle => {
            h.sleep(Duration::from_millis(rng.range(20, 500))).await;
            if rng.percent(50) {
                stream
                    .shutdown(Shutdown::Write)
                    .map_err(|e| err("shutdown", e))?;
                let mut buf = [0u8; 16];
                let n = stream.recv(&mut buf).await.map_err(|e| err("recv", e))?;
                if n != 0 {
                    return Err(format!("an idle connection got {n} bytes"));
                }
            }
            Ok(0)
        }
        Kind::NeverReads => {
            // Send until the server's echo backs up into us and our sends block.
            let mut payload = Payload::new(seed);
            let mut buf = vec![0u8; 65536];
            for _ in 0..256 {
                payload.fill(&mut buf);
                let send = h.timeout(Duration::from_millis(200), stream.send_all(&buf));
                match send.await {
                    Ok(r) => r.map_err(|e| err("send", e))?,
                    Err(_elapsed) => break,
                }
            }
            if rng.percent(50) {
                stream
                    .set_linger(Some(Duration::ZERO))
                    .map_err(|e| err("linger", e))?;
            }
            Ok(0)
        }
    }
}

/// The server as the soak sees it from outside.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(path: &PathBuf) -> Result<Server, String> {
        let mut child = Command::new(path)
            .args(["127.0.0.1:0", "--grace", "5"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_default();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok());
        match addr {
            Some(addr) => Ok(Server { child, addr }),
            None => {
                let _ = child.kill();
                Err(format!("echo_server's first line was {line:?}"))
            }
        }
    }

    fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    }

    /// Waits (bounded) until the server holds `want` fds; returns what it holds.
    async fn settle_fds(&self, h: &Handle, want: usize) -> usize {
        for _ in 0..500 {
            if self.fds() == want {
                break;
            }
            h.sleep(Duration::from_millis(20)).await;
        }
        self.fds()
    }
}

struct Options {
    server: PathBuf,
    seconds: f64,
    connections: usize,
    seed: u64,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        server: std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("echo_server"),
        seconds: 60.0,
        connections: 1000,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--server" => o.server = value()?.into(),
            "--seconds" => o.seconds = value()?.parse().map_err(|_| "--seconds: a number")?,
            "--connections" => {
                o.connections = value()?.parse().map_err(|_| "--connections: a count")?
            }
            "--seed" => o.seed = value()?.parse().map_err(|_| "--seed: a number")?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.connections < 10 || o.seconds <= 0.0 {
        return Err("need at least 10 connections and a positive duration".into());
    }
    Ok(o)
}

/// Starts `count` connections from number `first`, evenly over `span`, and waits for all.
async fn run_phase(
    h: &Handle,
    addr: SocketAddr,
    o: &Options,
    first: usize,
    count: usize,
    span: Duration,
    tally: &Shared,
) {
    let start = h.now();
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    for i in first..first + count {
        h.sleep_until(start + span * ((i - first) as u32) / count as u32)
            .await;
        let seed = o.seed ^ (i as u64).wrapping_mul(0x1000_0000_01B3);
        let kind = Kind::pick(&mut Rng::new(seed));
        let (h2, tally) = (h.clone(), tally.clone());
        tasks.push(h.spawn(async move {
            let limit = Duration::from_secs(30);
            let r = match h2
                .timeout(limit, connection(h2.clone(), addr, kind, seed))
                .await
            {
                Ok(r) => r,
                Err(_) => Err(format!("still not done after {limit:?}")),
            };
            let mut t = tally.borrow_mut();
            match r {
                Ok(bytes) => {
                    let e = t.by_kind.entry(kind).or_default();
                    e.0 += 1;
                    e.1 += bytes;
                }
                Err(e) => t
                    .failures
                    .push(format!("connection {i} ({kind:?}, seed {seed}): {e}")),
            }
        }));
        tasks.retain(|t| !t.is_finished());
    }
    for t in tasks {
        let _ = t.await;
    }
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::from(2);
        }
    };
    let mut server = match Server::start(&o.server) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("soak: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "soak: echo_server pid {} on {}, {} connections over {} s, seed {}",
        server.child.id(),
        server.addr,
        o.connections,
        o.seconds,
        o.seed
    );
    let lp = Loop::new().expect("a loop");
    let h = lp.handle();
    let tally: Shared = Rc::default();
    let mut failures: Vec<String> = Vec::new();
    let fds_start = server.fds();

    // Warm-up: the first 15 % of the connections (the same mix), then let the server idle.
    let warm = o.connections * 15 / 100;
    let total = Duration::from_secs_f64(o.seconds);
    let begin = std::time::Instant::now();
    lp.block_on(run_phase(
        &h,
        server.addr,
        &o,
        0,
        warm,
        total * 15 / 100,
        &tally,
    ));
    let fds_warm = lp.block_on(server.settle_fds(&h, fds_start));
    lp.block_on(h.sleep(Duration::from_millis(200)));
    let rss_warm = server.rss();
    println!(
        "soak: warm-up: {warm} connections; server fds {fds_start} at start, {fds_warm} after; \
         VmRSS {} KiB",
        rss_warm / 1024
    );

    // The rest, in what remains of the run.
    let left = total.saturating_sub(begin.elapsed());
    lp.block_on(run_phase(
        &h,
        server.addr,
        &o,
        warm,
        o.connections - warm,
        left,
        &tally,
    ));
    let fds_end = lp.block_on(server.settle_fds(&h, fds_warm));
    lp.block_on(h.sleep(Duration::from_millis(200)));
    let rss_end = server.rss();
    let elapsed = begin.elapsed();

    // Still serving: one more round trip.
    let final_trip = lp.block_on(h.timeout(Duration::from_secs(10), async {
        let s = TcpStream::connect(&h, server.addr).await?;
        s.send_all(b"still there?").await?;
        let mut back = [0u8; 12];
        s.recv_exact(&mut back).await?;
        Ok::<_, readyloop::Error>(&back == b"still there?")
    }));
    if !matches!(final_trip, Ok(Ok(true))) {
        failures.push(format!("final round trip failed: {final_trip:?}"));
    }

    let t = tally.borrow();
    let mut done = 0;
    let mut bytes = 0;
    for (kind, (n, b)) in &t.by_kind {
        println!("soak: {kind:?}: {n} connections, {b} bytes checked");
        done += n;
        bytes += b;
    }
    let growth = rss_end as f64 / rss_warm.max(1) as f64 - 1.0;
    println!(
        "soak: {done} of {} connections ok, {bytes} bytes echoed and checked in {:.1} s; \
         server fds {fds_warm} after warm-up, {fds_end} at the end; VmRSS {} KiB after \
         warm-up, {} KiB at the end ({:+.2} %)",
        o.connections,
        elapsed.as_secs_f64(),
        rss_warm / 1024,
        rss_end / 1024,
        growth * 100.0
    );
    failures.extend(t.failures.iter().cloned());
    if fds_warm != fds_start {
        failures.push(format!(
            "server fds: {fds_start} at start, {fds_warm} after warm-up"
        ));
    }
    if fds_end != fds_warm {
        failures.push(format!(
            "server fds: {fds_warm} after warm-up, {fds_end} at the end"
        ));
    }
    if growth > 0.05 {
        failures.push(format!(
            "server VmRSS grew {:.2} % after warm-up",
            growth * 100.0
        ));
    }

    // SIGTERM with nothing in flight: exit 0 at once.
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is our live child.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    let mut status = None;
    for _ in 0..300 {
        if let Ok(Some(s)) = server.child.try_wait() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    match status {
        Some(s) if s.success() => println!("soak: echo_server exited 0 on SIGTERM"),
        other => {
            let _ = server.child.kill();
            failures.push(format!("echo_server after SIGTERM: {other:?}"));
        }
    }

    if failures.is_empty() {
        println!("soak: all checks passed");
        ExitCode::SUCCESS
    } else {
        for f in failures.iter().take(50) {
            eprintln!("soak: FAILED: {f}");
        }
        eprintln!("soak: {} failure(s)", failures.len());
        ExitCode::FAILURE
    }
}
