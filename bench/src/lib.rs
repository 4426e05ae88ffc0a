//! What the benchmark's servers and its drivers share: the echo protocol's constants, the
//! start-up line, the byte pattern the load generator checks echoes against, the HTTP
//! service (`http_service`), and the load generators' parts: the many-source connect, the
//! epoll set (`epoll`), the timed window (`window`), the paired repetitions with their
//! medians (`paired`) and the drivers' command line (`options`).
//!
//! Every echo server in `src/bin/` is a separate process that binds `127.0.0.1:0` (or the
//! address given as its first argument), prints `listening on IP:PORT` on stdout, and echoes
//! every byte back until it is killed. They all use the same per-connection buffer size, so
//! the only difference between them is how they wait and dispatch. Nothing here may allocate
//! per operation or add work to a server's hot path.

use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd};

pub mod epoll;
pub mod http_service;
pub mod options;
pub mod paired;
pub mod window;

/// Per-connection buffer of every echo server (each reads at most this much per call).
pub const BUF: usize = 16 * 1024;

/// Listen backlog of the servers that choose it (the load generator also connects in
/// batches it confirms, so a smaller backlog cannot stall it).
pub const BACKLOG: i32 = 1024;

/// The address a server binds: its first argument, or `127.0.0.1:0`.
pub fn bind_addr() -> SocketAddr {
    std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("first argument: IP:PORT to bind"))
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// Prints the start-up line the driver waits for.
pub fn announce(addr: SocketAddr) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {addr}").expect("stdout");
    out.flush().expect("stdout");
}

/// Period of the check pattern: prime, and larger than any single read the load generator
/// makes, so one comparison never wraps more than once.
pub const PATTERN_PERIOD: usize = 65_537;

/// The check pattern, repeated twice so any window of up to `PATTERN_PERIOD` bytes that
/// starts inside the first period is one contiguous slice.
pub fn pattern() -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut p: Vec<u8> = (0..PATTERN_PERIOD)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    p.extend_from_within(..);
    p
}

/// Every backend this build of readyloop has, in the order the benchmark reports them.
pub fn readyloop_backends() -> Vec<readyloop::BackendKind> {
    readyloop::BackendKind::ALL.to_vec()
}

/// The backend called `name` (`BackendKind::name`), if this build has it.
pub fn readyloop_backend(name: &str) -> Option<readyloop::BackendKind> {
    readyloop_backends().into_iter().find(|k| k.name() == name)
}

/// The `key=value` arguments of a task-benchmark binary (`tasks-*`).
#[derive(Debug, Default)]
pub struct TaskArgs {
    pairs: Vec<(String, String)>,
}

impl TaskArgs {
    /// Reads `key=value` pairs from the command line.
    pub fn from_env() -> Self {
        let pairs = std::env::args()
            .skip(1)
            .map(|a| {
                let (k, v) = a.split_once('=').expect("arguments are key=value");
                (k.to_string(), v.to_string())
            })
            .collect();
        TaskArgs { pairs }
    }

    /// The value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key` as a number, or `default`.
    pub fn num(&self, key: &str, default: u64) -> u64 {
        self.get(key)
            .map(|v| v.parse().expect("numeric argument"))
            .unwrap_or(default)
    }

    /// Which test to run (`test=timers|spawn|lone`).
    pub fn test(&self) -> &str {
        self.get("test").expect("test=timers|spawn|lone")
    }
}

/// The sleep of task `i` of `n` in the timers test: spread evenly over `0..max_ns`, in an
/// order that is not the spawn order.
pub fn timer_delay_ns(i: u64, n: u64, max_ns: u64) -> u64 {
    let slot = i.wrapping_mul(2_654_435_761) % n;
    slot * max_ns / n
}

/// Signed nanoseconds from `deadline` to `now` (negative if `now` is early).
pub fn lateness_ns(now: std::time::Instant, deadline: std::time::Instant) -> i64 {
    match now.checked_duration_since(deadline) {
        Some(d) => d.as_nanos() as i64,
        None => -(deadline.duration_since(now).as_nanos() as i64),
    }
}

/// CPU time (user + system) this process has used, in nanoseconds.
pub fn process_cpu_ns() -> u64 {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the struct it is given.
    let ru = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr());
        ru.assume_init()
    };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    (us(ru.ru_utime) + us(ru.ru_stime)) * 1000
}

/// Prints a task test's result line: `result key=value ...`, with lateness percentiles
/// when `lateness` is not empty.
pub fn report(fields: &[(&str, f64)], lateness: &mut [i64]) {
    let mut line = String::from("result");
    for (k, v) in fields {
        line += &format!(" {k}={v}");
    }
    if !lateness.is_empty() {
        lateness.sort_unstable();
        let pick = |q: f64| lateness[((lateness.len() - 1) as f64 * q).round() as usize];
        line += &format!(
            " late_p50_ns={} late_p99_ns={} late_min_ns={} late_max_ns={}",
            pick(0.5),
            pick(0.99),
            lateness[0],
            lateness[lateness.len() - 1]
        );
    }
    println!("{line}");
}

/// A load generator's non-blocking connect to `addr` (IPv4) from 127.0.0.`src`, not waited
/// for: several source addresses, so ports never run out however many connections come and go
/// (`IP_BIND_ADDRESS_NO_PORT`: the port is chosen per 4-tuple at connect). `None` if a call
/// failed (`errno` says why).
pub fn connect_from(addr: SocketAddr, src: u8) -> Option<OwnedFd> {
    let SocketAddr::V4(v4) = addr else {
        return None;
    };
    // SAFETY: plain socket syscalls on a fresh fd we own; the address structs are live.
    unsafe {
        let fd = libc::socket(
            libc::AF_INET,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        );
        if fd < 0 {
            return None;
        }
        let owned = OwnedFd::from_raw_fd(fd);
        // The port is chosen at connect, unique per 4-tuple (not per source address).
        let one: libc::c_int = 1;
        libc::setsockopt(
            fd,
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&one as *const libc::c_int).cast(),
            4,
        );
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as u16;
        sa.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, src]).to_be();
        let len = std::mem::size_of::<libc::sockaddr_in>() as u32;
        if libc::bind(fd, (&sa as *const libc::sockaddr_in).cast(), len) != 0 {
            return None;
        }
        sa.sin_addr.s_addr = u32::from(*v4.ip()).to_be();
        sa.sin_port = v4.port().to_be();
        let r = libc::connect(fd, (&sa as *const libc::sockaddr_in).cast(), len);
        if r != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINPROGRESS) {
            return None;
        }
        Some(owned)
    }
}

/// The median of `v` (NaN when empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}
