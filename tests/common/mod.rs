//! Helpers shared by the tests: a bounded wait, an echo server (seed 003's accept loop), a
//! small hash, fd counting and the fd limit, running the examples, and the sizes and time
//! bounds to use under valgrind.
#![allow(dead_code)]

use readyloop::net::{echo, TcpListener, UnixListener};
use readyloop::{Handle, JoinHandle};
use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

/// How many times slower than a plain run the code may be under valgrind: memcheck
/// stretches the CPU work 20-50x, and `.ci/checks/60-valgrind.sh` runs two binaries at once.
pub const VALGRIND_SLACK: u32 = 20;

/// Whether the test runs under valgrind (`.ci/checks/60-valgrind.sh` sets
/// `READYLOOP_UNDER_VALGRIND=1`).
pub fn under_valgrind() -> bool {
    std::env::var_os("READYLOOP_UNDER_VALGRIND").is_some()
}

/// 1 in a plain run, [`VALGRIND_SLACK`] under valgrind.
pub fn slack() -> u32 {
    if under_valgrind() {
        VALGRIND_SLACK
    } else {
        1
    }
}

/// `d` stretched by [`slack`]: for a bound on how long real work may take, or for a margin
/// (a deadline ahead of now) that the work before it must not eat.
pub fn scaled(d: Duration) -> Duration {
    d * slack()
}

/// `normal` in a plain run, `valgrind` under valgrind: a size or a count of iterations.
pub fn sized<T>(normal: T, valgrind: T) -> T {
    if under_valgrind() {
        valgrind
    } else {
        normal
    }
}

/// Runs `fut`, panicking (with `what`) if it takes longer than `limit`: no test can hang.
pub async fn within<F: Future>(h: &Handle, limit: Duration, what: &str, fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut timer = pin!(h.sleep(limit));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = fut.as_mut().poll(cx) {
            return Poll::Ready(v);
        }
        if timer.as_mut().poll(cx).is_ready() {
            panic!("{what}: still not done after {limit:?}");
        }
        Poll::Pending
    })
    .await
}

/// What each echo handler ended with (bytes echoed or the error), in completion order.
pub type Outcomes = Rc<RefCell<Vec<Result<u64, readyloop::Error>>>>;

/// Seed 003's server: accept forever, one echo task per connection (buffer `buf` bytes).
pub fn serve_tcp_echo(h: &Handle, listener: TcpListener, buf: usize) -> (JoinHandle<()>, Outcomes) {
    let outcomes: Outcomes = Rc::default();
    let out = outcomes.clone();
    let h2 = h.clone();
    let server = h.spawn(async move {
        loop {
            let (stream, _peer) = listener.accept().await.expect("accept");
            stream.set_nodelay(true).unwrap();
            let out = out.clone();
            h2.spawn(async move {
                let mut buffer = vec![0u8; buf];
                let r = echo(&stream, &mut buffer).await;
                out.borrow_mut().push(r);
            });
        }
    });
    (server, outcomes)
}

/// The same over a Unix listener.
pub fn serve_unix_echo(
    h: &Handle,
    listener: UnixListener,
    buf: usize,
) -> (JoinHandle<()>, Outcomes) {
    let outcomes: Outcomes = Rc::default();
    let out = outcomes.clone();
    let h2 = h.clone();
    let server = h.spawn(async move {
        loop {
            let (stream, _peer) = listener.accept().await.expect("accept");
            let out = out.clone();
            h2.spawn(async move {
                let mut buffer = vec![0u8; buf];
                let r = echo(&stream, &mut buffer).await;
                out.borrow_mut().push(r);
            });
        }
    });
    (server, outcomes)
}

/// FNV-1a, 64 bits: enough to tell a corrupted or reordered stream from the real one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A deterministic byte pattern (xorshift), so a transfer can be checked without storing it.
pub struct Pattern(u64);

impl Pattern {
    pub fn new(seed: u64) -> Self {
        Pattern(seed | 1)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            let bytes = self.0.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// Open fds of this process, from /proc/self/fd.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Raises the soft fd limit to at least `want` (up to the hard limit); returns the result.
pub fn raise_fd_limit(want: u64) -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if lim.rlim_cur < want {
        lim.rlim_cur = want.min(lim.rlim_max);
        // SAFETY: setrlimit reads the struct it is given.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    }
    lim.rlim_cur
}

/// Sets the soft fd limit to `limit` (to make running out of fds quick).
pub fn set_fd_limit(limit: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim.rlim_cur = limit.min(lim.rlim_max);
    // SAFETY: setrlimit reads the struct it is given.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
}

/// A fresh socket path under the temp dir, removed if it exists.
pub fn socket_path(tag: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("readyloop-{}-{}.sock", tag, std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

/// The path of a built example. `cargo test` builds examples next to the test binaries;
/// if this one is missing or older than the sources (say, after `cargo test --test NAME`,
/// which builds no examples), it is built here, bounded in time.
pub fn example_path(name: &str) -> std::path::PathBuf {
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let path = profile_dir.join("examples").join(name);
    let _one_build_at_a_time = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let built = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = [
        root.join("src"),
        root.join("examples").join(format!("{name}.rs")),
        root.join("Cargo.toml"),
    ];
    let newest_source = sources.iter().filter_map(|p| newest_mtime(p)).max();
    if built.is_none() || newest_source > built {
        let target_dir = profile_dir.parent().unwrap();
        let mut cmd = std::process::Command::new(option_env!("CARGO").unwrap_or("cargo"));
        cmd.args(["build", "--example", name, "--target-dir"])
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().unwrap() == "release" {
            cmd.arg("--release");
        }
        let mut child = cmd.spawn().expect("cannot run cargo to build the example");
        let status = wait_bounded(&mut child, Duration::from_secs(600))
            .unwrap_or_else(|| panic!("building example {name} took over 10 minutes"));
        assert!(status.success(), "cargo build --example {name} failed");
    }
    path
}

/// Waits for a child at most `limit`; kills it and says `None` past that.
pub fn wait_bounded(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs an example to completion (bounded), its durations scaled by `scale` (the examples
/// read `READYLOOP_SCALE`), and returns its stdout and run time.
pub fn run_example(name: &str, scale: f64, limit: Duration) -> (String, Duration) {
    let start = std::time::Instant::now();
    let mut child = std::process::Command::new(example_path(name))
        .env("READYLOOP_SCALE", scale.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run example {name}: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    let status = wait_bounded(&mut child, limit)
        .unwrap_or_else(|| panic!("example {name} ran over {limit:?}"));
    let took = start.elapsed();
    let out = reader.join().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{name} failed: {err}");
    (out, took)
}

/// The latest modification time of a file, or of any file under a directory.
fn newest_mtime(path: &std::path::Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(|entry| newest_mtime(&entry.ok()?.path()))
        .max()
}
