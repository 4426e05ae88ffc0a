//! The HTTP rows of issue 21: hyper `GET /` on readyloop (`http-readyloop`, `Loop::new()`
//! defaults) against hyper on tokio current_thread (`http-tokio`), the same service on both
//! (`readyloop_bench::http_service`).
//!
//! Run: `cargo build --release -p readyloop-bench && target/release/http [--quick] [--reps N]
//! [--duration SECS] [--rows a,b] [--subjects a,b]`.
//!
//! Rows: `ka50` (50 keep-alive connections, each: request, whole response, next request)
//! and `b50i10000` (the same 50 busy beside 10,000 idle keep-alive connections, each of
//! which made one request first and then stays open and silent), 9 repetitions of 2 s after
//! 0.5 s of warm-up (about 2 minutes); `--quick`: one repetition of 0.4 s, `ka50` and
//! `b50i2000` (about 4 s). `--rows` takes `kaN` and `bNiM` for any N and M.
//! `HTTP_EXTRA=name=path,...` adds servers (another build's `http-readyloop`, say, for a
//! paired regression check). Idle connections come from 16 source addresses
//! (127.0.0.2-17), opened 100 at a time, each batch's requests answered before the next
//! batch (so the listen backlog never overflows).
//!
//! Every response is parsed (status 200, `content-length`, no `connection: close`) and its
//! body compared with `BODY`; a wrong answer, a closed or reset connection, an idle
//! connection the server writes to or closes, 5 s without any response, or a server that
//! died fails the measurement, and the driver exits 1 at the end.
//!
//! Per measurement, inside the timed window: requests/s, server CPU per request (schedstat),
//! p99 of the busy connections' request latency (send to whole response, taken here); then
//! the server's peak RSS (VmHWM). Placement, priority, pairing and `BENCH_ATTACH` as in
//! `bench` and `idle` (server on CPU 0, this load generator on CPU 1).

#[path = "bench/procs.rs"]
#[allow(dead_code)]
mod procs;

use procs::{Placement, Server};
use readyloop_bench::epoll::Epoll;
use readyloop_bench::http_service::{BODY, REQUEST};
use readyloop_bench::options::{bin_dir, Options};
use readyloop_bench::window::{Rates, Window, STALL};
use readyloop_bench::{connect_from, paired};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Idle connections opened (and answered) per batch.
const IDLE_BATCH: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq)]
struct Row {
    busy: usize,
    idle: usize,
}

impl Row {
    fn id(self) -> String {
        match self.idle {
            0 => format!("ka{}", self.busy),
            idle => format!("b{}i{idle}", self.busy),
        }
    }

    fn label(self) -> String {
        match self.idle {
            0 => format!("{} keep-alive", self.busy),
            idle => format!("{} busy + {} idle", self.busy, thousands(idle)),
        }
    }

    fn parse(id: &str) -> Option<Row> {
        if let Some(n) = id.strip_prefix("ka") {
            return Some(Row {
                busy: n.parse().ok()?,
                idle: 0,
            });
        }
        let (b, i) = id.strip_prefix('b')?.split_once('i')?;
        Some(Row {
            busy: b.parse().ok()?,
            idle: i.parse().ok()?,
        })
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A server under test: its name in the table and its binary.
type Subject = (String, PathBuf);

fn subjects(bin: &Path) -> Vec<Subject> {
    let mut v = vec![
        ("tokio".into(), bin.join("http-tokio")),
        ("readyloop".into(), bin.join("http-readyloop")),
    ];
    // HTTP_EXTRA="name=path[,name=path]": more servers, run with no arguments.
    for extra in std::env::var("HTTP_EXTRA").unwrap_or_default().split(',') {
        if let Some((name, path)) = extra.split_once('=') {
            v.push((name.into(), PathBuf::from(path)));
        }
    }
    v
}

/// Parses a response at the start of `buf`: `Ok(None)` while incomplete, `Ok(Some(len))`
/// once a whole `200` response with a `content-length` and the expected body is there.
fn check_response(buf: &[u8]) -> Result<Option<usize>, String> {
    let Some(head_len) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..head_len]).map_err(|_| "response head not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200 ") {
        return Err(format!("status line {status:?}"));
    }
    let mut length = None;
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("header line {line:?}"))?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| "bad content-length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(format!("transfer-encoding {value:?} (want content-length)"));
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            return Err("the server closes the keep-alive connection".into());
        }
    }
    let length = length.ok_or("no content-length")?;
    let total = head_len + 4 + length;
    if buf.len() < total {
        return Ok(None);
    }
    if &buf[head_len + 4..total] != BODY {
        return Err(format!(
            "body {:?}, expected {:?}",
            String::from_utf8_lossy(&buf[head_len + 4..total]),
            String::from_utf8_lossy(BODY)
        ));
    }
    Ok(Some(total))
}

/// One keep-alive client connection with at most one request in flight.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
    sent_at: Instant,
    /// A non-blocking connect not yet seen writable.
    connecting: bool,
}

impl Conn {
    fn new(stream: TcpStream, connecting: bool) -> Conn {
        Conn {
            stream,
            buf: vec![0; 1024],
            filled: 0,
            sent_at: Instant::now(),
            connecting,
        }
    }

    fn send(&mut self) -> Result<(), String> {
        match self.stream.write(REQUEST) {
            Ok(n) if n == REQUEST.len() => {
                self.sent_at = Instant::now();
                Ok(())
            }
            Ok(n) => Err(format!("short write of a request: {n} bytes")),
            Err(e) => Err(format!("send: {e}")),
        }
    }

    /// One read: `Ok(true)` once the whole response is in (and checked).
    fn read(&mut self) -> Result<bool, String> {
        if self.buf.is_empty() {
            return Err("an idle connection: the server wrote or closed".into());
        }
        if self.filled == self.buf.len() {
            return Err("response larger than 1 KiB".into());
        }
        match self.stream.read(&mut self.buf[self.filled..]) {
            Ok(0) => Err("the server closed a keep-alive connection".into()),
            Ok(k) => {
                self.filled += k;
                match check_response(&self.buf[..self.filled])? {
                    Some(len) if len == self.filled => {
                        self.filled = 0;
                        Ok(true)
                    }
                    Some(_) => Err("bytes after the response".into()),
                    None => Ok(false),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(format!("recv: {e}")),
        }
    }
}

/// Opens `n` idle connections to `addr`, registered in `ep` after `conns`' existing ones:
/// each makes one checked request and then stays registered for reading, so that anything
/// the server sends or a close later shows up as an event.
fn open_idle(ep: &Epoll, conns: &mut Vec<Conn>, addr: SocketAddr, n: usize) -> Result<(), String> {
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; IDLE_BATCH];
    let mut opened = 0;
    while opened < n {
        let batch = IDLE_BATCH.min(n - opened);
        let first = conns.len();
        for k in opened..opened + batch {
            let fd = connect_from(addr, 2 + (k % 16) as u8)
                .ok_or_else(|| format!("idle connect {k}: {}", std::io::Error::last_os_error()))?;
            let stream = TcpStream::from(fd);
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            ep.ctl(
                libc::EPOLL_CTL_ADD,
                stream.as_raw_fd(),
                libc::EPOLLOUT,
                conns.len(),
            )?;
            conns.push(Conn::new(stream, true));
        }
        let mut pending = batch;
        let mut last = Instant::now();
        while pending > 0 {
            if last.elapsed() > STALL {
                return Err(format!(
                    "idle connections: {pending} unanswered for {STALL:?}"
                ));
            }
            let ready = ep.wait(&mut events, 100)?;
            for ev in &events[..ready] {
                let i = ev.u64 as usize;
                if i < first {
                    return Err(format!("idle connection {i}: the server wrote or closed"));
                }
                let c = &mut conns[i];
                if c.connecting {
                    if let Some(e) = c.stream.take_error().map_err(|e| e.to_string())? {
                        return Err(format!("idle connect: {e}"));
                    }
                    c.connecting = false;
                    c.send()?;
                    ep.ctl(libc::EPOLL_CTL_MOD, c.stream.as_raw_fd(), libc::EPOLLIN, i)?;
                } else if c.read()? {
                    // Answered: from now on silent (an event fails the run).
                    c.buf = Vec::new();
                    pending -= 1;
                    last = Instant::now();
                }
            }
        }
        opened += batch;
    }
    Ok(())
}

struct Measured {
    rps: f64,
    cpu_us: f64,
    p99_us: f64,
    peak_mib: f64,
}

/// Busy connections `0..busy` of `conns` keep one request each in flight for warmup +
/// duration; an event on any other connection (an idle one) fails the run.
fn run_busy(
    ep: &Epoll,
    conns: &mut [Conn],
    busy: usize,
    pid: u32,
    warmup: Duration,
    duration: Duration,
) -> Result<Rates, String> {
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; busy.max(1)];
    for c in &mut conns[..busy] {
        c.send()?;
    }
    let mut window = Window::start(warmup, duration);
    let mut done = 0u64;
    let mut spin = 0u32;
    loop {
        // Polled without blocking (as `bench` and `idle` do): this process has its own CPU,
        // and sleeping in epoll_wait would add its wake-up to every request's latency.
        let ready = ep.wait(&mut events, 0)?;
        for ev in &events[..ready] {
            let i = ev.u64 as usize;
            if i >= busy {
                return Err(format!("idle connection {i}: the server wrote or closed"));
            }
            let c = &mut conns[i];
            if c.read()? {
                window.record(c.sent_at.elapsed());
                done += 1;
                c.send()?;
            }
        }
        spin += 1;
        if spin.is_multiple_of(16) {
            if let Some(rates) = window.check(done, || procs::cpu_ns(pid))? {
                return Ok(rates);
            }
        }
    }
}

fn measure(
    placement: &Placement,
    subject: &Subject,
    row: Row,
    warmup: Duration,
    duration: Duration,
) -> Result<Measured, String> {
    let mut server = Server::start(placement, &subject.1, &[])?;
    let pid = server.pid();
    let ep = Epoll::new()?;
    let mut conns = Vec::with_capacity(row.busy + row.idle);
    open_idle(&ep, &mut conns, server.addr, row.idle)?;
    let busy_from = conns.len();
    for i in 0..row.busy {
        let s = TcpStream::connect_timeout(&server.addr, Duration::from_secs(5))
            .map_err(|e| format!("busy connect {i}: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
        conns.push(Conn::new(s, false));
    }
    // Busy connections are tokens 0..busy, idle ones busy..: re-register with new tokens.
    conns.rotate_left(busy_from);
    for (i, c) in conns.iter().enumerate() {
        let op = if i < row.busy {
            libc::EPOLL_CTL_ADD
        } else {
            libc::EPOLL_CTL_MOD
        };
        ep.ctl(op, c.stream.as_raw_fd(), libc::EPOLLIN, i)?;
    }
    std::thread::sleep(Duration::from_millis(100));
    let attached = procs::Attached::start(pid);
    let result = run_busy(&ep, &mut conns, row.busy, pid, warmup, duration);
    drop(attached);
    let peak_mib = procs::vm_hwm_kib(pid).unwrap_or(0) as f64 / 1024.0;
    if !server.alive() {
        return Err(format!("{} died", subject.0));
    }
    let rates = result?;
    Ok(Measured {
        rps: rates.per_sec,
        cpu_us: rates.cpu_us,
        p99_us: rates.p99_us,
        peak_mib,
    })
}

fn main() {
    let opts = Options::from_args();
    let (mut reps, warmup, mut duration, idle) = if opts.quick {
        (
            1,
            Duration::from_millis(100),
            Duration::from_millis(400),
            2_000,
        )
    } else {
        (
            9,
            Duration::from_millis(500),
            Duration::from_secs(2),
            10_000,
        )
    };
    reps = opts.reps.unwrap_or(reps);
    duration = opts.duration.unwrap_or(duration);
    let mut rows = vec![Row { busy: 50, idle: 0 }, Row { busy: 50, idle }];
    if !opts.rows.is_empty() {
        rows = opts
            .rows
            .iter()
            .map(|id| Row::parse(id).unwrap_or_else(|| panic!("unknown row {id}")))
            .collect();
    }
    let mut subj = subjects(&bin_dir());
    subj.retain(|s| opts.wants_subject(&s.0));
    for (name, path) in &subj {
        if !path.exists() {
            eprintln!("http: {name}: {} not built", path.display());
            std::process::exit(1);
        }
    }
    procs::raise_nofile(20_000);
    let placement = Placement::apply();
    eprintln!(
        "http: {reps} reps x {duration:?}, placement {placement:?}, load {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let runs = paired::run(
        reps,
        rows.len(),
        subj.len(),
        |ri, si| format!("{} {}", rows[ri].id(), subj[si].0),
        |m: &Measured| {
            format!(
                "{:.0} req/s, {:.2} us CPU/req, p99 {:.0} us, peak {:.1} MiB",
                m.rps, m.cpu_us, m.p99_us, m.peak_mib
            )
        },
        |ri, si| measure(&placement, &subj[si], rows[ri], warmup, duration),
    );
    let tokio = subj.iter().position(|s| s.0 == "tokio");
    println!("\n| row | server | requests/s | CPU us/req | p99 us | peak RSS MiB | vs tokio (req/s, CPU/req; paired medians) | goal: >= 1.0x, <= 0.97x |");
    println!("|---|---|---:|---:|---:|---:|---|---|");
    for (ri, row) in rows.iter().enumerate() {
        for (si, s) in subj.iter().enumerate() {
            let med = |f: &dyn Fn(&Measured) -> f64| runs.median(ri, si, f);
            let Some(rps) = med(&|m| m.rps) else {
                continue;
            };
            let (mut ratio, mut goal) = (String::new(), String::new());
            if let Some(t) = tokio.filter(|&t| t != si) {
                let pair = |f: &dyn Fn(&Measured) -> f64| runs.paired(ri, si, t, f);
                if let (Some(r), Some(c)) = (pair(&|m| m.rps), pair(&|m| m.cpu_us)) {
                    ratio = format!("{r:.3}x, {c:.3}x");
                    goal = if r >= 1.0 && c <= 0.97 {
                        "met"
                    } else {
                        "not met"
                    }
                    .into();
                }
            }
            println!(
                "| {} | {} | {:.0} | {:.2} | {:.0} | {:.1} | {} | {} |",
                row.label(),
                s.0,
                rps,
                med(&|m| m.cpu_us).unwrap_or(f64::NAN),
                med(&|m| m.p99_us).unwrap_or(f64::NAN),
                med(&|m| m.peak_mib).unwrap_or(f64::NAN),
                ratio,
                goal
            );
        }
    }
    if runs.failed {
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::check_response;

    const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 6\r\ndate: Fri, 04 Dec 2026 21:00:00 GMT\r\n\r\nhello\n";

    #[test]
    fn a_whole_response_is_its_length() {
        assert_eq!(check_response(OK.as_bytes()), Ok(Some(OK.len())));
    }

    #[test]
    fn a_partial_head_or_body_asks_for_more() {
        for cut in [10, OK.len() - 7, OK.len() - 1] {
            assert_eq!(
                check_response(&OK.as_bytes()[..cut]),
                Ok(None),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_wrong_answer_is_an_error() {
        let wrong = [
            OK.replace("hello\n", "hellO\n"),
            OK.replace("200 OK", "404 Not Found"),
            OK.replace("content-length: 6", "transfer-encoding: chunked"),
            OK.replace("content-length: 6\r\n", ""),
            OK.replace("date:", "connection: close\r\ndate:"),
            "GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
        ];
        for w in wrong {
            assert!(check_response(w.as_bytes()).is_err(), "accepted {w:?}");
        }
    }
}
