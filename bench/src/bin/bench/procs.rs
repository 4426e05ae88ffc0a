//! Processes: starting a server pinned to its CPU, reading what the kernel says about it
//! (CPU time, peak RSS), and placing the driver itself.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Where the servers and the load generator run, and at which priority.
#[derive(Clone, Copy, Debug)]
pub struct Placement {
    /// CPU for the measured process (None: not pinned, e.g. a one-CPU machine).
    pub server_cpu: Option<usize>,
    /// CPU for the load generator (this process).
    pub load_cpu: Option<usize>,
    /// Whether `nice -20` is permitted (it is tried on both sides).
    pub nice: bool,
}

fn set_affinity(cpu: usize) -> bool {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; the calls only read it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

fn set_nice() -> bool {
    // SAFETY: plain syscall on this process.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, -20) == 0 }
}

impl Placement {
    /// Pins this process (the load generator) to CPU 1 and the servers to CPU 0 when the
    /// machine has two CPUs, and raises priority with nice -20 when permitted.
    pub fn apply() -> Placement {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (server_cpu, load_cpu) = if cpus >= 2 {
            (Some(0), Some(1))
        } else {
            (None, None)
        };
        if let Some(cpu) = load_cpu {
            if !set_affinity(cpu) {
                eprintln!("bench: could not pin the load generator to CPU {cpu}");
            }
        }
        let nice = set_nice();
        Placement {
            server_cpu,
            load_cpu,
            nice,
        }
    }

    /// Nothing pinned (every process may run on every CPU), nice -20 when permitted: for
    /// servers with a loop per core, which need every CPU themselves.
    pub fn unpinned() -> Placement {
        Placement {
            server_cpu: None,
            load_cpu: None,
            nice: set_nice(),
        }
    }

    /// A `Command` for `bin` that pins and renices the child before it runs. With
    /// `BENCH_SERVER_WRAP` set (e.g. `valgrind --tool=callgrind`), `bin` runs under it.
    pub fn command(&self, bin: &Path) -> Command {
        let wrap: Vec<String> = std::env::var("BENCH_SERVER_WRAP")
            .map(|w| w.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        let mut cmd = match wrap.split_first() {
            Some((tool, tool_args)) => {
                let mut c = Command::new(tool);
                c.args(tool_args).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let cpu = self.server_cpu;
        let nice = self.nice;
        // SAFETY: the closure only makes async-signal-safe syscalls.
        unsafe {
            cmd.pre_exec(move || {
                if let Some(cpu) = cpu {
                    set_affinity(cpu);
                }
                if nice {
                    set_nice();
                }
                Ok(())
            });
        }
        cmd
    }
}

/// A running echo server.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `bin` with `args` and waits (at most 10 s) for its `listening on` line.
    pub fn start(placement: &Placement, bin: &Path, args: &[String]) -> Result<Server, String> {
        let mut child = placement
            .command(bin)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(10)).unwrap_or_default();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok());
        match addr {
            Some(addr) => Ok(Server { child, addr }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "{}: no `listening on IP:PORT` line (got {line:?})",
                    bin.display()
                ))
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    /// SIGTERM first (a profiler wrapping the server writes its output then), SIGKILL if it
    /// is still running after 3 s.
    fn drop(&mut self) {
        // SAFETY: signalling our own child, which has not been reaped yet.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while std::time::Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (ns) the process has used so far: the sum of its threads' schedstat run times
/// (nanosecond resolution, unlike the clock ticks of /proc/PID/stat).
pub fn cpu_ns(pid: u32) -> u64 {
    let mut total = 0;
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for entry in dir.flatten() {
            let path = entry.path().join("schedstat");
            if let Ok(s) = std::fs::read_to_string(path) {
                total += s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    total
}

/// Peak resident set size (VmHWM) of the process, in KiB.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Raises this process's RLIMIT_NOFILE soft limit towards `want` (children inherit it).
/// Returns the soft limit now in force.
pub fn raise_nofile(want: u64) -> u64 {
    // SAFETY: getrlimit/setrlimit on this process with a live struct.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        if lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        }
        lim.rlim_cur
    }
}

/// Runs a task benchmark binary to completion (bounded by `timeout`) and returns its
/// `result key=value ...` fields.
pub fn run_task_bench(
    placement: &Placement,
    bin: &Path,
    args: &[String],
    timeout: Duration,
) -> Result<Vec<(String, f64)>, String> {
    let mut child = placement
        .command(bin)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stdout), &mut out);
        let _ = tx.send(out);
    });
    let out = rx.recv_timeout(timeout);
    let _ = child.kill();
    let status = child.wait();
    let out = out.map_err(|_| format!("{}: timed out after {timeout:?}", bin.display()))?;
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("result"))
        .ok_or_else(|| format!("{}: no result line ({status:?})", bin.display()))?;
    Ok(line
        .split_whitespace()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect())
}

/// Size in bytes of `bin` after `strip` (a stripped copy is made in a temporary file).
pub fn stripped_size(bin: &Path) -> Result<u64, String> {
    let tmp = std::env::temp_dir().join(format!(
        "readyloop-bench-strip-{}-{}",
        std::process::id(),
        bin.file_name().and_then(|n| n.to_str()).unwrap_or("bin")
    ));
    let status = Command::new("strip")
        .arg("-o")
        .arg(&tmp)
        .arg(bin)
        .status()
        .map_err(|e| format!("strip: {e}"))?;
    if !status.success() {
        return Err(format!("strip {} failed", bin.display()));
    }
    let size = std::fs::metadata(&tmp).map_err(|e| e.to_string())?.len();
    let _ = std::fs::remove_file(&tmp);
    Ok(size)
}

/// A profiler or tracer attached to a server for one measurement (`BENCH_ATTACH`).
pub struct Attached {
    child: Child,
}

impl Attached {
    /// Starts `$BENCH_ATTACH` with `{pid}` replaced, if the variable is set.
    pub fn start(pid: u32) -> Option<Attached> {
        let template = std::env::var("BENCH_ATTACH").ok()?;
        let words: Vec<String> = template
            .split_whitespace()
            .map(|w| w.replace("{pid}", &pid.to_string()))
            .collect();
        let child = Command::new(&words[0]).args(&words[1..]).spawn().ok()?;
        // Give the tool time to attach before the measurement starts.
        std::thread::sleep(Duration::from_millis(300));
        Some(Attached { child })
    }
}

impl Drop for Attached {
    fn drop(&mut self) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let _ = self.child.wait();
    }
}
