//! The benchmark driver: in one run, readyloop (each backend) against tokio current_thread,
//! the smol stack and a hand-written poll(2) loop, on issue 7's rows.
//!
//! Run: `cargo build --release -p readyloop-bench && target/release/bench [--quick]
//! [--reps N] [--duration SECS] [--warmup SECS] [--scaling] [--rows a,b] [--subjects a,b]`.
//!
//! To profile a server, set `BENCH_ATTACH` to a command run against it for each echo
//! measurement, `{pid}` replaced by the server's pid, e.g.
//! `BENCH_ATTACH='perf stat -e task-clock,context-switches -p {pid}'` or
//! `BENCH_ATTACH='strace -c -f -p {pid}'`; it gets SIGINT when the measurement ends.
//! `BENCH_SERVER_WRAP='valgrind --tool=callgrind'` runs every server under that command
//! (build with `RUSTFLAGS="--cfg rustix_use_libc"` for valgrind).
//!
//! Every server is a separate process pinned to CPU 0; this process is the load generator,
//! pinned to CPU 1; both get `nice -20` when permitted. Each repetition runs every row with
//! every subject (servers interleaved, order rotated per repetition), so ratios are taken
//! within a repetition (paired) and the table shows medians of those paired ratios.

mod loadgen;
mod per_core;
mod procs;
mod table;

use procs::{Placement, Server};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use table::{Measurements, Metrics};

/// One column of the table: a server or runtime under test.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    Raw,
    Tokio,
    Smol,
    /// readyloop with this backend (`BackendKind::name`).
    Readyloop(String),
    /// readyloop with this backend and the lowest timer slack (lone-timer row only).
    ReadyloopSlack(String),
    /// readyloop with this backend, the lowest timer slack and a 30 us timer spin (lone
    /// timer row only).
    ReadyloopSpin(String),
    /// The crate's own `examples/echo_server`, run as built (default backend).
    ReadyloopExample,
    /// `echo-readyloop --loops N` (`--pin`: each loop pinned to a CPU): N loops on N threads,
    /// one `SO_REUSEPORT` listener each (`--per-core` mode only).
    ReadyloopLoops {
        loops: usize,
        pin: bool,
        /// CPU the server spends per received chunk (`--work-us`).
        work_us: u64,
    },
}

impl Subject {
    pub fn name(&self) -> String {
        match self {
            Subject::Raw => "raw poll".into(),
            Subject::Tokio => "tokio".into(),
            Subject::Smol => "smol".into(),
            Subject::Readyloop(b) => format!("readyloop {b}"),
            Subject::ReadyloopSlack(b) => format!("readyloop {b} slack 1ns"),
            Subject::ReadyloopSpin(b) => format!("readyloop {b} slack 1ns spin 30us"),
            Subject::ReadyloopExample => "readyloop example".into(),
            Subject::ReadyloopLoops {
                loops,
                pin,
                work_us,
            } => format!(
                "readyloop {loops} loop{}{}{}",
                if *loops == 1 { "" } else { "s" },
                if *pin { " pinned" } else { "" },
                if *work_us > 0 {
                    format!(", {work_us} us work")
                } else {
                    String::new()
                }
            ),
        }
    }

    fn is_readyloop(&self) -> bool {
        matches!(
            self,
            Subject::Readyloop(_)
                | Subject::ReadyloopSlack(_)
                | Subject::ReadyloopSpin(_)
                | Subject::ReadyloopExample
                | Subject::ReadyloopLoops { .. }
        )
    }
}

/// A measured workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Row {
    PingPong(usize),
    Stream(usize),
    Timers,
    Spawn,
    Lone,
}

impl Row {
    fn id(self) -> String {
        match self {
            Row::PingPong(n) => format!("pp{n}"),
            Row::Stream(n) => format!("stream{n}"),
            Row::Timers => "timers".into(),
            Row::Spawn => "spawn".into(),
            Row::Lone => "lone".into(),
        }
    }

    fn subjects(self, all: &[Subject]) -> Vec<Subject> {
        all.iter()
            .filter(|s| match (self, s) {
                // select(2) cannot take fds above FD_SETSIZE (1024).
                (Row::PingPong(n) | Row::Stream(n), Subject::Readyloop(b)) if b == "select" => {
                    n <= 1000
                }
                (Row::PingPong(_) | Row::Stream(_), s) => {
                    !matches!(s, Subject::ReadyloopSlack(_) | Subject::ReadyloopSpin(_))
                }
                (Row::Lone, s) => !matches!(
                    s,
                    Subject::Raw | Subject::ReadyloopExample | Subject::ReadyloopLoops { .. }
                ),
                (_, s) => !matches!(
                    s,
                    Subject::Raw
                        | Subject::ReadyloopSlack(_)
                        | Subject::ReadyloopSpin(_)
                        | Subject::ReadyloopExample
                        | Subject::ReadyloopLoops { .. }
                ),
            })
            .cloned()
            .collect()
    }
}

/// Settings of one run.
#[derive(Clone, Debug)]
pub struct Config {
    pub reps: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub window: u64,
    pub timers_n: u64,
    pub timers_max_ms: u64,
    pub spawn_n: u64,
    pub lone_n: u64,
    pub quick: bool,
    /// `--per-core`: 1 loop against 2 loops (one per core), nothing pinned by the driver.
    pub per_core: bool,
    pub rows: Vec<Row>,
    pub subjects: Vec<Subject>,
    pub bin_dir: PathBuf,
}

fn parse_args() -> Config {
    let bin_dir = std::env::current_exe()
        .expect("current_exe")
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let mut subjects = vec![Subject::Raw, Subject::Tokio, Subject::Smol];
    for kind in readyloop_bench::readyloop_backends() {
        subjects.push(Subject::Readyloop(kind.name().into()));
    }
    let mut slack = Vec::new();
    for kind in readyloop_bench::readyloop_backends() {
        slack.push(Subject::ReadyloopSlack(kind.name().into()));
        slack.push(Subject::ReadyloopSpin(kind.name().into()));
    }
    subjects.extend(slack);
    if bin_dir.join("examples").join("echo_server").exists() {
        subjects.push(Subject::ReadyloopExample);
    }
    let mut cfg = Config {
        reps: 3,
        duration: Duration::from_secs(2),
        warmup: Duration::from_millis(300),
        window: 256 * 1024,
        timers_n: 100_000,
        timers_max_ms: 100,
        spawn_n: 1_000_000,
        lone_n: 2000,
        quick: false,
        per_core: false,
        rows: vec![
            Row::PingPong(1),
            Row::PingPong(100),
            Row::PingPong(1000),
            Row::Stream(1),
            Row::Stream(100),
            Row::Timers,
            Row::Spawn,
            Row::Lone,
        ],
        subjects,
        bin_dir,
    };
    let mut row_filter: Option<Vec<String>> = None;
    let mut subject_filter: Option<Vec<String>> = None;
    let mut scaling = false;
    let mut sweep = false;
    let mut args = std::env::args().skip(1);
    let secs = |v: Option<String>| {
        Duration::from_secs_f64(v.and_then(|v| v.parse().ok()).expect("seconds"))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => {
                cfg.quick = true;
                cfg.reps = 1;
                cfg.duration = Duration::from_millis(200);
                cfg.warmup = Duration::from_millis(50);
                cfg.timers_n = 5_000;
                cfg.timers_max_ms = 20;
                cfg.spawn_n = 20_000;
                cfg.lone_n = 100;
            }
            "--reps" => cfg.reps = args.next().and_then(|v| v.parse().ok()).expect("--reps N"),
            "--duration" => cfg.duration = secs(args.next()),
            "--warmup" => cfg.warmup = secs(args.next()),
            "--scaling" => scaling = true,
            "--per-core" => cfg.per_core = true,
            "--sweep" => sweep = true,
            "--rows" => {
                row_filter = args
                    .next()
                    .map(|v| v.split(',').map(String::from).collect())
            }
            "--subjects" => {
                subject_filter = args
                    .next()
                    .map(|v| v.split(',').map(String::from).collect())
            }
            "-h" | "--help" => {
                println!(
                    "bench [--quick] [--reps N] [--duration S] [--warmup S] [--scaling] \
                     [--sweep] [--per-core] \
                     [--rows pp1,pp100,pp1000,pp10000,stream1,stream100,timers,spawn,lone] \
                     [--subjects raw,tokio,smol,readyloop]"
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument {other} (try --help)"),
        }
    }
    if scaling {
        cfg.rows.insert(3, Row::PingPong(10_000));
    }
    if sweep {
        row_filter = Some(
            [1, 10, 30, 100, 300, 1000, 3000, 10_000]
                .iter()
                .map(|n| format!("pp{n}"))
                .collect(),
        );
    }
    if cfg.per_core {
        // One loop against one per core, on the same binary and code (serve_per_core).
        cfg.rows = vec![Row::PingPong(1), Row::PingPong(100), Row::PingPong(1000)];
        // With 20 us of handler work per message the server, not the load generator, is
        // the bottleneck: what a second loop buys when there is work to spread.
        cfg.subjects = [
            (1, false, 0),
            (2, false, 0),
            (2, true, 0),
            (1, false, 20),
            (2, false, 20),
        ]
        .iter()
        .map(|&(loops, pin, work_us)| Subject::ReadyloopLoops {
            loops,
            pin,
            work_us,
        })
        .collect();
    }
    if let Some(f) = row_filter {
        // Listed rows run in the order given; ppN and streamN take any N.
        let all = cfg.rows.clone();
        cfg.rows = f
            .iter()
            .filter_map(|id| {
                let number = |prefix: &str| id.strip_prefix(prefix)?.parse::<usize>().ok();
                if let Some(n) = number("pp") {
                    Some(Row::PingPong(n))
                } else if let Some(n) = number("stream") {
                    Some(Row::Stream(n))
                } else {
                    all.iter().copied().find(|r| r.id() == *id)
                }
            })
            .collect();
    }
    if let Some(f) = subject_filter {
        cfg.subjects.retain(|s| {
            f.iter().any(|want| {
                s.name() == *want
                    || s.name().replace(' ', "-") == *want
                    || (want == "readyloop" && s.is_readyloop())
                    || s.name().starts_with(&format!("{want} "))
            })
        });
    }
    cfg
}

fn bin(cfg: &Config, name: &str) -> PathBuf {
    cfg.bin_dir.join(name)
}

fn server_cmd(cfg: &Config, s: &Subject) -> (PathBuf, Vec<String>) {
    match s {
        Subject::Raw => (bin(cfg, "echo-raw"), vec![]),
        Subject::Tokio => (bin(cfg, "echo-tokio"), vec![]),
        Subject::Smol => (bin(cfg, "echo-smol"), vec![]),
        Subject::Readyloop(b) | Subject::ReadyloopSlack(b) | Subject::ReadyloopSpin(b) => (
            bin(cfg, "echo-readyloop"),
            vec!["127.0.0.1:0".into(), b.clone()],
        ),
        Subject::ReadyloopLoops {
            loops,
            pin,
            work_us,
        } => {
            let mut args = vec!["--loops".into(), loops.to_string()];
            if *pin {
                args.push("--pin".into());
            }
            args.extend(["--work-us".into(), work_us.to_string()]);
            args.push("127.0.0.1:0".into());
            (bin(cfg, "echo-readyloop"), args)
        }
        Subject::ReadyloopExample => (
            cfg.bin_dir.join("examples").join("echo_server"),
            vec![
                "--buf".into(),
                readyloop_bench::BUF.to_string(),
                "127.0.0.1:0".into(),
            ],
        ),
    }
}

fn echo_row(
    cfg: &Config,
    placement: &Placement,
    row: Row,
    s: &Subject,
    pattern: &[u8],
) -> Result<Metrics, String> {
    let (path, args) = server_cmd(cfg, s);
    let mut server = Server::start(placement, &path, &args)?;
    let pid = server.pid();
    let mut m = Metrics::new();
    match row {
        Row::PingPong(n) => {
            let conns = loadgen::connect(server.addr, n, pattern)?;
            let _attached = procs::Attached::start(pid);
            let w = loadgen::ping_pong(&conns, pid, pattern, cfg.warmup, cfg.duration)?;
            m.insert("rt_s", w.units as f64 / w.seconds);
            m.insert(
                "cpu_us",
                w.server_cpu_ns as f64 / 1e3 / w.units.max(1) as f64,
            );
            if std::env::var_os("BENCH_SERVER_WRAP").is_some() {
                m.insert("total_rt", w.total_units as f64);
            }
            if let Some(kib) = procs::vm_hwm_kib(pid) {
                m.insert("rss_mib", kib as f64 / 1024.0);
            }
        }
        Row::Stream(n) => {
            let conns = loadgen::connect(server.addr, n, pattern)?;
            let _attached = procs::Attached::start(pid);
            let w = loadgen::stream(&conns, pid, pattern, cfg.window, cfg.warmup, cfg.duration)?;
            m.insert("mb_s", w.units as f64 / 1e6 / w.seconds);
            m.insert(
                "cpu_us_mb",
                w.server_cpu_ns as f64 / 1e3 / (w.units.max(1) as f64 / 1e6),
            );
        }
        _ => unreachable!(),
    }
    if !server.alive() {
        return Err(format!("{} died during the run", s.name()));
    }
    Ok(m)
}

fn task_row(cfg: &Config, placement: &Placement, row: Row, s: &Subject) -> Result<Metrics, String> {
    let (binary, mut args) = match s {
        Subject::Tokio => ("tasks-tokio", vec![]),
        Subject::Smol => ("tasks-smol", vec![]),
        Subject::Readyloop(b) => ("tasks-readyloop", vec![format!("backend={b}")]),
        Subject::ReadyloopSlack(b) => (
            "tasks-readyloop",
            vec![format!("backend={b}"), "slack_ns=1".into()],
        ),
        Subject::ReadyloopSpin(b) => (
            "tasks-readyloop",
            vec![
                format!("backend={b}"),
                "slack_ns=1".into(),
                "spin_ns=30000".into(),
            ],
        ),
        Subject::Raw | Subject::ReadyloopExample | Subject::ReadyloopLoops { .. } => {
            unreachable!()
        }
    };
    match row {
        Row::Timers => {
            args.push("test=timers".into());
            args.push(format!("n={}", cfg.timers_n));
            args.push(format!("max_ms={}", cfg.timers_max_ms));
        }
        Row::Spawn => {
            args.push("test=spawn".into());
            args.push(format!("n={}", cfg.spawn_n));
        }
        Row::Lone => {
            args.push("test=lone".into());
            args.push(format!("n={}", cfg.lone_n));
            args.push("us=250".into());
        }
        _ => unreachable!(),
    }
    let fields = procs::run_task_bench(
        placement,
        &bin(cfg, binary),
        &args,
        Duration::from_secs(120),
    )?;
    let mut m = Metrics::new();
    for (k, v) in fields {
        let (k, v) = match k.as_str() {
            "late_p50_ns" => ("late_p50_us", v / 1e3),
            "late_p99_ns" => ("late_p99_us", v / 1e3),
            "late_min_ns" => ("late_min_us", v / 1e3),
            "late_max_ns" => ("late_max_us", v / 1e3),
            "cpu_ms" => ("cpu_ms", v),
            "ns_per_task" => ("ns_per_task", v),
            _ => continue,
        };
        m.insert(k, v);
    }
    Ok(m)
}

fn sizes(cfg: &Config) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut candidates: Vec<(String, PathBuf)> = vec![
        ("raw poll".into(), bin(cfg, "echo-raw")),
        ("tokio".into(), bin(cfg, "echo-tokio")),
        ("smol".into(), bin(cfg, "echo-smol")),
        (
            "readyloop (bench server)".into(),
            bin(cfg, "echo-readyloop"),
        ),
        (
            "readyloop examples/echo_server".into(),
            cfg.bin_dir.join("examples").join("echo_server"),
        ),
    ];
    if let Ok(p) = std::env::var("NOSTD_ECHO") {
        candidates.push(("readyloop no_std daemon".into(), PathBuf::from(p)));
    }
    for (name, path) in candidates {
        if !Path::new(&path).exists() {
            continue;
        }
        match procs::stripped_size(&path) {
            Ok(size) => {
                out.insert(name, size);
            }
            Err(e) => eprintln!("bench: size of {}: {e}", path.display()),
        }
    }
    out
}

fn main() {
    let cfg = parse_args();
    // Per-core mode leaves every process free to use both CPUs: pinning the servers to one
    // would make two loops share it.
    let placement = if cfg.per_core {
        Placement::unpinned()
    } else {
        Placement::apply()
    };
    let load_before = per_core::load_average();
    let most_conns = cfg
        .rows
        .iter()
        .map(|r| match r {
            Row::PingPong(n) | Row::Stream(n) => *n as u64,
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    let nofile = procs::raise_nofile((most_conns + 1024).max(4096));
    let pattern = readyloop_bench::pattern();
    eprintln!(
        "bench: servers on CPU {:?}, load generator on CPU {:?}, nice -20: {}, RLIMIT_NOFILE {nofile}; \
         {} repetition(s) of {:?} (+{:?} warm-up) per measurement",
        placement.server_cpu, placement.load_cpu, placement.nice, cfg.reps, cfg.duration, cfg.warmup
    );
    let mut results = Measurements::new(cfg.reps);
    let mut failures = 0;
    for rep in 0..cfg.reps {
        for &row in &cfg.rows {
            let mut subjects = row.subjects(&cfg.subjects);
            if subjects.is_empty() {
                continue;
            }
            let k = rep % subjects.len();
            subjects.rotate_left(k);
            for s in &subjects {
                let result = match row {
                    Row::PingPong(n) if n > 1000 && nofile < n as u64 + 256 => Err(format!(
                        "RLIMIT_NOFILE {nofile} is too low for {n} connections"
                    )),
                    Row::PingPong(_) | Row::Stream(_) => {
                        echo_row(&cfg, &placement, row, s, &pattern)
                    }
                    _ => task_row(&cfg, &placement, row, s),
                };
                match result {
                    Ok(m) => {
                        eprintln!(
                            "rep {} {:>10} {:<26} {}",
                            rep + 1,
                            row.id(),
                            s.name(),
                            table::brief(&m)
                        );
                        results.put(row, s, rep, m);
                    }
                    Err(e) => {
                        failures += 1;
                        eprintln!(
                            "rep {} {:>10} {:<26} FAILED: {e}",
                            rep + 1,
                            row.id(),
                            s.name()
                        );
                    }
                }
            }
        }
    }
    let report = if cfg.per_core {
        per_core::render(&cfg, &placement, &results, &load_before)
    } else {
        table::render(&cfg, &placement, &results, &sizes(&cfg))
    };
    println!("{report}");
    if failures > 0 {
        eprintln!("bench: {failures} measurement(s) failed");
        std::process::exit(1);
    }
}
