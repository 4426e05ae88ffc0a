//! The example HTTP server (`examples/http_server.rs`) as a child process for the tests:
//! built once if stale, started on a free port, killed by its pid when dropped.

#![allow(dead_code)] // each test file uses a part

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Builds the example (a no-op when it is fresh) and returns its path.
pub fn example_path(name: &str) -> std::path::PathBuf {
    static BUILDING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let mut cmd = Command::new(option_env!("CARGO").unwrap_or("cargo"));
    cmd.args([
        "build",
        "-q",
        "-p",
        "readyloop-integration",
        "--example",
        name,
    ])
    .arg("--target-dir")
    .arg(profile_dir.parent().unwrap())
    .current_dir(env!("CARGO_MANIFEST_DIR"));
    if profile_dir.file_name().unwrap() == "release" {
        cmd.arg("--release");
    }
    let status = cmd.status().expect("cannot run cargo to build the example");
    assert!(status.success(), "building example {name} failed");
    profile_dir.join("examples").join(name)
}

/// A running `http_server` example.
pub struct Server {
    pub child: Child,
    /// `IP:PORT` it printed.
    pub addr: String,
}

impl Server {
    /// Starts the example on 127.0.0.1:0 with `args` and waits for `listening on`.
    pub fn start(args: &[&str]) -> Server {
        Self::start_example("http_server", args)
    }

    pub fn start_example(name: &str, args: &[&str]) -> Server {
        let mut child = Command::new(example_path(name))
            .arg("127.0.0.1:0")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start the example server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the server printed {line:?}, not `listening on IP:PORT`"))
            .to_string();
        Server { child, addr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends `SIGTERM` to the server (by its pid).
    pub fn terminate(&self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    }

    /// Waits up to `limit` for the server to exit.
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs curl with `args` (bounded by `--max-time 60`); returns (status, stdout, stderr).
pub fn curl(args: &[&str]) -> (ExitStatus, Vec<u8>, String) {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "60"])
        .args(args)
        .output()
        .expect("curl is not installed (.ci/checks/45-http.sh installs it: apt-get install curl)");
    (
        out.status,
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `len` bytes no shorter period can match (a byte lost, doubled or moved shows).
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i / 251) as u8)
        .collect()
}
