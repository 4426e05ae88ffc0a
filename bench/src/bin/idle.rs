//! The idle-heavy rows of issue 17: a few busy ping-pong connections beside thousands of
//! idle ones, as a daemon with keep-alive clients sees them.
//!
//! Run: `cargo build --release -p readyloop-bench && cargo build --release --example
//! echo_server && target/release/idle [--quick] [--reps N] [--rows a,b] [--subjects a,b]`.
//!
//! Rows: `b100i10000` (100 busy + 10,000 idle), `b10i19000` (10 busy + 19,000 idle; the
//! hard RLIMIT_NOFILE here is 20,000), `churn` (100 busy, and idle connections opened at
//! 2,000 a second, each closed 1-3 s later, measured after a 3.5 s warm-up: its steady
//! state); `--rows` also takes `ppN` (N busy, none idle)
//! and `bNiM`. `IDLE_EXTRA=name=path,...` adds servers (another build's `echo-readyloop`,
//! for a paired regression check against it). Subjects: the raw poll and raw epoll loops,
//! tokio current_thread, smol, readyloop on poll, epoll and its default (adaptive), and
//! `examples/echo_server --buf 16384` (the default backend, with its buffer pool). Each
//! repetition runs every row with every subject, order rotated, so ratios are paired.
//!
//! Per measurement: round trips/s and server CPU per round trip inside the timed window
//! (schedstat), p99 of the busy connections' round-trip latency, the server's peak RSS
//! (VmHWM), and its RSS growth per idle connection (VmRSS before and after the idle
//! connections were accepted, divided by their count). Placement, priority and servers as in
//! `bench` (server on CPU 0, this load generator on CPU 1); `BENCH_ATTACH` as in `bench`.

#[path = "bench/procs.rs"]
#[allow(dead_code)]
mod procs;

use procs::{Placement, Server};
use readyloop_bench::epoll::Epoll;
use readyloop_bench::options::{bin_dir, Options};
use readyloop_bench::window::{Rates, Window};
use readyloop_bench::{connect_from, paired, pattern};
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const MSG: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Row {
    Idle { busy: usize, idle: usize },
    Churn { busy: usize, per_sec: u64 },
}

impl Row {
    fn id(self) -> String {
        match self {
            Row::Idle { busy, idle: 0 } => format!("pp{busy}"),
            Row::Idle { busy, idle } => format!("b{busy}i{idle}"),
            Row::Churn { .. } => "churn".into(),
        }
    }
    fn label(self) -> String {
        match self {
            Row::Idle { busy, idle: 0 } => format!("{busy} busy, none idle"),
            Row::Idle { busy, idle } => format!("{busy} busy + {idle} idle"),
            Row::Churn { busy, per_sec } => {
                format!("{busy} busy + idle churn {per_sec}/s (each idle 1-3 s)")
            }
        }
    }
}

fn subjects(bin: &std::path::Path) -> Vec<(String, PathBuf, Vec<String>)> {
    let b = |n: &str| bin.join(n);
    let any = "127.0.0.1:0".to_string();
    let mut v = vec![
        ("raw poll".into(), b("echo-raw"), vec![]),
        ("raw epoll".into(), b("echo-raw-epoll"), vec![]),
        ("tokio".into(), b("echo-tokio"), vec![]),
        ("smol".into(), b("echo-smol"), vec![]),
        (
            "readyloop poll".into(),
            b("echo-readyloop"),
            vec![any.clone(), "poll".into()],
        ),
        (
            "readyloop epoll".into(),
            b("echo-readyloop"),
            vec![any.clone(), "epoll".into()],
        ),
        (
            "readyloop default".into(),
            b("echo-readyloop"),
            vec![any.clone()],
        ),
    ];
    // IDLE_EXTRA="name=path[,name=path]": more servers (say, another build's echo-readyloop),
    // run with no arguments.
    for extra in std::env::var("IDLE_EXTRA").unwrap_or_default().split(',') {
        if let Some((name, path)) = extra.split_once('=') {
            v.push((name.into(), PathBuf::from(path), vec![]));
        }
    }
    let example = bin.join("examples").join("echo_server");
    if example.exists() {
        v.push((
            "readyloop example".into(),
            example,
            vec!["--buf".into(), "16384".into(), any],
        ));
    }
    v
}

fn vm_rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// The busy connections, each with one checked round trip done; non-blocking after.
fn connect_busy(addr: SocketAddr, n: usize) -> Result<Vec<TcpStream>, String> {
    let mut v = Vec::new();
    for i in 0..n {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .map_err(|e| format!("busy connect {i}: {e}"))?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        let msg = [i as u8; MSG];
        s.write_all(&msg).map_err(|e| e.to_string())?;
        let mut back = [0u8; MSG];
        s.read_exact(&mut back)
            .map_err(|e| format!("first echo {i}: {e}"))?;
        if back != msg {
            return Err("first echo differs".into());
        }
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
        v.push(s);
    }
    Ok(v)
}

struct Measured {
    rts: f64,
    cpu_us: f64,
    p99_us: f64,
    peak_mib: f64,
    per_idle_b: Option<f64>,
}

/// Ping-pong on `busy` (one message in flight each, every echo checked) for warmup +
/// duration; with `churn`, idle connections are opened at that rate and closed 1-3 s later.
fn run_busy(
    busy: &mut [TcpStream],
    server: &Server,
    warmup: Duration,
    duration: Duration,
    churn: Option<u64>,
) -> Result<Rates, String> {
    let pat = pattern();
    let n = busy.len();
    let mut sent_at = vec![Instant::now(); n];
    let mut got = vec![0usize; n];
    let mut seq = vec![0u64; n];
    let mut bufs = vec![[0u8; MSG]; n];
    let msg = |i: usize, s: u64| -> &[u8] {
        let off = (s as usize * MSG + i * 4099) % readyloop_bench::PATTERN_PERIOD;
        &pat[off..off + MSG]
    };
    for (i, s) in busy.iter_mut().enumerate() {
        s.write_all(msg(i, 0)).map_err(|e| e.to_string())?;
        sent_at[i] = Instant::now();
    }
    let start = Instant::now();
    let mut window = Window::start(warmup, duration);
    let mut rts = 0u64;
    // Churn state: a heap of (close deadline, fd).
    let mut heap: BinaryHeap<std::cmp::Reverse<(Instant, i32)>> = BinaryHeap::new();
    let mut owned: BTreeMap<i32, OwnedFd> = BTreeMap::new();
    let mut opened = 0u64;
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut spin = 0u32;
    // One level-triggered epoll set over the busy connections, polled without blocking (as
    // `bench` does): only the ones with an echo waiting are read.
    let ep = Epoll::new()?;
    for (i, s) in busy.iter().enumerate() {
        ep.ctl(libc::EPOLL_CTL_ADD, s.as_raw_fd(), libc::EPOLLIN, i)?;
    }
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; n.max(1)];
    loop {
        let ready = ep.wait(&mut events, 0)?;
        for event in &events[..ready] {
            let i = event.u64 as usize;
            match busy[i].read(&mut bufs[i][got[i]..]) {
                Ok(0) => return Err("busy connection closed".into()),
                Ok(k) => {
                    got[i] += k;
                    if got[i] == MSG {
                        if bufs[i] != *msg(i, seq[i]) {
                            return Err("echo differs".into());
                        }
                        got[i] = 0;
                        window.record(sent_at[i].elapsed());
                        rts += 1;
                        seq[i] += 1;
                        busy[i]
                            .write_all(msg(i, seq[i]))
                            .map_err(|e| e.to_string())?;
                        sent_at[i] = Instant::now();
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        spin += 1;
        if !spin.is_multiple_of(16) {
            continue;
        }
        let now = Instant::now();
        if let Some(rate) = churn {
            let due = (now.duration_since(start).as_secs_f64() * rate as f64) as u64;
            while opened < due {
                opened += 1;
                if let Some(fd) = connect_from(server.addr, 2 + (opened % 16) as u8) {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let life = Duration::from_millis(1000 + rng % 2000);
                    let raw = fd.as_raw_fd();
                    heap.push(std::cmp::Reverse((now + life, raw)));
                    owned.insert(raw, fd);
                }
            }
            while let Some(std::cmp::Reverse((t, fd))) = heap.peek().copied() {
                if t > now {
                    break;
                }
                heap.pop();
                owned.remove(&fd);
            }
        }
        if let Some(rates) = window.check(rts, || procs::cpu_ns(server.pid()))? {
            return Ok(rates);
        }
    }
}

fn measure(
    placement: &Placement,
    subject: &(String, PathBuf, Vec<String>),
    row: Row,
    warmup: Duration,
    duration: Duration,
) -> Result<Measured, String> {
    let server = Server::start(placement, &subject.1, &subject.2)?;
    let pid = server.pid();
    let (busy_n, idle_n, churn) = match row {
        Row::Idle { busy, idle } => (busy, idle, None),
        Row::Churn { busy, per_sec } => (busy, 0, Some(per_sec)),
    };
    let mut busy = connect_busy(server.addr, busy_n)?;
    std::thread::sleep(Duration::from_millis(100));
    let base_fds = fd_count(pid);
    let rss0 = vm_rss_kib(pid);
    let mut idle = Vec::with_capacity(idle_n);
    for i in 0..idle_n {
        let fd = connect_from(server.addr, 2 + (i % 16) as u8)
            .ok_or_else(|| format!("idle connect {i}: {}", std::io::Error::last_os_error()))?;
        idle.push(fd);
        if i % 100 == 99 {
            // In batches the server has accepted, so its listen backlog never overflows
            // (an overflowed SYN is retried only a second later).
            let t = Instant::now();
            while fd_count(pid) < base_fds + i + 1 && t.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
    let t = Instant::now();
    while fd_count(pid) < base_fds + idle_n && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(10));
    }
    if fd_count(pid) < base_fds + idle_n {
        return Err(format!(
            "server holds {} fds, expected {}",
            fd_count(pid),
            base_fds + idle_n
        ));
    }
    std::thread::sleep(Duration::from_millis(200));
    let rss1 = vm_rss_kib(pid);
    let per_idle_b = (idle_n > 0).then(|| (rss1 as f64 - rss0 as f64) * 1024.0 / idle_n as f64);
    let attached = procs::Attached::start(pid);
    // Churn is measured at its steady state: the warm-up lasts until the first idle
    // connections have reached their 3 s life (about 2 x 2,000 alive at 2,000 a second), so
    // the window neither starts on a small set nor watches it ramp up.
    let warmup = match churn {
        Some(_) if warmup >= Duration::from_millis(500) => warmup.max(Duration::from_millis(3500)),
        _ => warmup,
    };
    let rates = run_busy(&mut busy, &server, warmup, duration, churn)?;
    drop(attached);
    let peak_mib = procs::vm_hwm_kib(pid).unwrap_or(0) as f64 / 1024.0;
    drop(idle);
    Ok(Measured {
        rts: rates.per_sec,
        cpu_us: rates.cpu_us,
        p99_us: rates.p99_us,
        peak_mib,
        per_idle_b,
    })
}

fn main() {
    let opts = Options::from_args();
    let (mut reps, warmup, mut duration) = if opts.quick {
        (1, Duration::from_millis(100), Duration::from_millis(400))
    } else {
        (3, Duration::from_millis(500), Duration::from_secs(2))
    };
    reps = opts.reps.unwrap_or(reps);
    duration = opts.duration.unwrap_or(duration);
    let mut rows = if opts.quick {
        vec![
            Row::Idle {
                busy: 10,
                idle: 2_000,
            },
            Row::Churn {
                busy: 10,
                per_sec: 500,
            },
        ]
    } else {
        vec![
            Row::Idle {
                busy: 100,
                idle: 10_000,
            },
            Row::Idle {
                busy: 10,
                idle: 19_000,
            },
            Row::Churn {
                busy: 100,
                per_sec: 2000,
            },
        ]
    };
    if !opts.rows.is_empty() {
        // Any of the rows above, or ppN / bNiM for N busy and M idle connections.
        let all = rows.clone();
        rows = opts
            .rows
            .iter()
            .filter_map(|id| {
                if let Some(r) = all.iter().find(|r| r.id() == *id) {
                    return Some(*r);
                }
                if let Some(n) = id.strip_prefix("pp") {
                    return Some(Row::Idle {
                        busy: n.parse().ok()?,
                        idle: 0,
                    });
                }
                let (b, i) = id.strip_prefix('b')?.split_once('i')?;
                Some(Row::Idle {
                    busy: b.parse().ok()?,
                    idle: i.parse().ok()?,
                })
            })
            .collect();
    }
    let mut subj = subjects(&bin_dir());
    subj.retain(|s| opts.wants_subject(&s.0));
    procs::raise_nofile(20_000);
    let placement = Placement::apply();
    eprintln!(
        "idle: {reps} reps x {:?}, placement {placement:?}, load {}",
        duration,
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
                "{:.0} rt/s, {:.2} us CPU/rt, p99 {:.0} us, peak {:.1} MiB, {} B/idle",
                m.rts,
                m.cpu_us,
                m.p99_us,
                m.peak_mib,
                m.per_idle_b.map_or("-".into(), |b| format!("{b:.0}"))
            )
        },
        |ri, si| measure(&placement, &subj[si], rows[ri], warmup, duration),
    );
    let tokio = subj.iter().position(|s| s.0 == "tokio");
    println!("\n| row | server | round trips/s | CPU us/rt | p99 us | peak RSS MiB | B per idle conn | vs tokio (rt/s, CPU/rt, B/idle; paired medians) |");
    println!("|---|---|---:|---:|---:|---:|---:|---|");
    let per_idle = |m: &Measured| m.per_idle_b.unwrap_or(f64::NAN);
    for (ri, row) in rows.iter().enumerate() {
        for (si, s) in subj.iter().enumerate() {
            let Some(ms) = runs.get(ri, si) else {
                continue;
            };
            let has_idle = ms[0].1.per_idle_b.is_some();
            let med = |f: &dyn Fn(&Measured) -> f64| runs.median(ri, si, f).unwrap_or(f64::NAN);
            let mut ratio = String::new();
            if let Some(t) = tokio.filter(|&t| t != si) {
                let pair = |f: &dyn Fn(&Measured) -> f64| runs.paired(ri, si, t, f);
                if let (Some(r), Some(c)) = (pair(&|m| m.rts), pair(&|m| m.cpu_us)) {
                    ratio = format!("{r:.3}x, {c:.3}x");
                    if let Some(b) = pair(&per_idle).filter(|_| has_idle) {
                        ratio += &format!(", {b:.3}x");
                    }
                }
            }
            let per = if has_idle {
                format!("{:.0}", med(&per_idle))
            } else {
                "-".into()
            };
            println!(
                "| {} | {} | {:.0} | {:.2} | {:.0} | {:.1} | {} | {} |",
                row.label(),
                s.0,
                med(&|m| m.rts),
                med(&|m| m.cpu_us),
                med(&|m| m.p99_us),
                med(&|m| m.peak_mib),
                per,
                ratio
            );
        }
    }
    if runs.failed {
        std::process::exit(1);
    }
}
