//! The reference daemon: everything a small Linux service needs, on one readyloop loop.
//!
//! It answers every line a client sends with the line itself, prefixed by the configured
//! greeting, so it can be checked from outside with `nc`. Around that service it shows:
//!
//! - **socket activation or its own bind**: the listener systemd passed (`LISTEN_FDS`), or,
//!   run by hand, one bound to ADDR;
//! - **READY=1 only once the listener is up**, so systemd starts dependants when connecting
//!   works;
//! - **the watchdog**: `WATCHDOG=1` from a task on the loop (a wedged loop stops the pings);
//! - **reload** on SIGHUP and whenever the config file is rewritten (inotify), framed by
//!   `RELOADING=1` and `READY=1`; a config that does not parse keeps the old one and says why
//!   in `STATUS=` and on stderr;
//! - **a supervised child process** (`child = ...` in the config), restarted with back-off
//!   when it dies: 100 ms, doubling to 5 s, back to 100 ms once it has stayed up 10 s;
//! - **graceful drain** on SIGTERM or SIGINT: `STOPPING=1`, stop accepting, let open
//!   connections finish within the grace period, reset the rest (`TcpStream::abort`), stop
//!   the child, exit 0.
//!
//! The config file is `key = value` lines (`#` starts a comment):
//!
//! ```text
//! greeting = hello:     # put before every answered line (may be empty)
//! child = sleep 3600    # the command to supervise, split on whitespace (no shell)
//! ```
//!
//! Run:   cargo run --example daemon --features systemd -- [--config PATH] [--grace SECS] [ADDR]
//!        (ADDR defaults to 127.0.0.1:9528, SECS to 5; without --config: no greeting, no child)
//! Under systemd: docs/readyloop-daemon.service and docs/readyloop-daemon.socket.
//! Try:   nc 127.0.0.1 9528      and      kill -HUP <pid>

use readyloop::fs_watch::{FsEvent, FsWatcher, Mask};
use readyloop::net::{LineReader, TcpListener, TcpStream};
use readyloop::signal::{Signal, Signals};
use readyloop::systemd::{Activation, Notifier};
use readyloop::{Handle, JoinHandle, Loop};
use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::rc::Rc;
use std::time::Duration;

const USAGE: &str = "usage: daemon [--config PATH] [--grace SECS] [ADDR]
  ADDR           IP:PORT to listen on when systemd passes no socket (default 127.0.0.1:9528)
  --config PATH  `key = value` file: greeting = TEXT, child = COMMAND ARGS...
  --grace SECS   after SIGTERM/SIGINT, how long open connections may take to finish (default 5)";

/// The child's first restart comes this long after it dies...
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
/// ...each further one twice as long, up to this...
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// ...and a child that stayed up this long counts as healthy: the back-off starts over.
const HEALTHY_AFTER: Duration = Duration::from_secs(10);

/// The command line.
struct Options {
    addr: String,
    config: Option<PathBuf>,
    grace: Duration,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        addr: "127.0.0.1:9528".to_string(),
        config: None,
        grace: Duration::from_secs(5),
    };
    let mut addr_given = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--config" => options.config = Some(args.next().ok_or("--config needs a path")?.into()),
            "--grace" => {
                let v = args.next().ok_or("--grace needs a value")?;
                options.grace = v
                    .parse::<f64>()
                    .ok()
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
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

/// What the config file says.
#[derive(Clone, Debug, Default, PartialEq)]
struct Config {
    /// Put before every answered line.
    greeting: String,
    /// The command to supervise (program and arguments), if any.
    child: Vec<String>,
}

impl Config {
    /// Parses `key = value` lines. Unknown keys are errors rather than ignored: a typo
    /// should not silently leave the daemon on its defaults.
    fn parse(text: &str) -> Result<Config, String> {
        let mut config = Config::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(format!("line {}: expected `key = value`", n + 1));
            };
            let value = value.trim();
            match key.trim() {
                "greeting" => config.greeting = value.to_string(),
                "child" => config.child = value.split_whitespace().map(String::from).collect(),
                other => return Err(format!("line {}: unknown key {other:?}", n + 1)),
            }
        }
        Ok(config)
    }

    /// Reads and parses the file, or the defaults when there is no file.
    fn load(path: Option<&Path>) -> Result<Config, String> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// What the tasks share: the loop, the way to tell systemd, the live config and the
/// supervisor of the child it names.
struct Daemon {
    h: Handle,
    /// `None` when not run by systemd (no `NOTIFY_SOCKET`): then notifications are skipped.
    notifier: Option<Notifier>,
    config_path: Option<PathBuf>,
    config: RefCell<Config>,
    supervisor: RefCell<Option<JoinHandle<()>>>,
}

impl Daemon {
    /// Tells systemd, if there is one. A failed send is logged, not fatal: the service
    /// itself still works, and systemd acts on what it misses (a timeout) by itself.
    fn notify(&self, message: &str) {
        if let Some(notifier) = &self.notifier {
            if let Err(e) = notifier.send(message) {
                eprintln!("daemon: cannot notify systemd ({message:?}): {e}");
            }
        }
    }

    fn status(&self, text: &str) {
        eprintln!("daemon: {text}");
        // A newline would start a new assignment: keep the status on one line.
        self.notify(&format!("STATUS={}", text.replace('\n', " ")));
    }

    /// Re-reads the config: RELOADING=1 (with MONOTONIC_USEC, as Type=notify-reload wants),
    /// the new config or the old one kept, READY=1. The child is restarted only when its
    /// command changed, so a greeting edit does not disturb it.
    fn reload(self: &Rc<Self>, why: &str) {
        if let Some(notifier) = &self.notifier {
            if let Err(e) = notifier.reloading() {
                eprintln!("daemon: cannot notify systemd (RELOADING=1): {e}");
            }
        }
        match Config::load(self.config_path.as_deref()) {
            Ok(new) => {
                let child_changed = new.child != self.config.borrow().child;
                *self.config.borrow_mut() = new;
                if child_changed {
                    self.start_supervisor();
                }
                self.status(&format!("reloaded ({why})"));
            }
            Err(e) => self.status(&format!(
                "reload ({why}) failed, keeping the old config: {e}"
            )),
        }
        self.notify("READY=1");
    }

    /// (Re)starts the supervisor of the configured child. Aborting the old supervisor
    /// drops its `Child`, which is kill-on-drop: the old command never outlives its entry.
    fn start_supervisor(self: &Rc<Self>) {
        if let Some(old) = self.supervisor.borrow_mut().take() {
            old.abort();
        }
        let argv = self.config.borrow().child.clone();
        if !argv.is_empty() {
            let task = self.h.spawn(supervise(self.clone(), argv));
            *self.supervisor.borrow_mut() = Some(task);
        }
    }
}

/// Runs `argv` forever: when it dies, waits the back-off and starts it again. Awaiting the
/// exit goes through a pidfd on the loop: no SIGCHLD handler, no thread.
async fn supervise(daemon: Rc<Daemon>, argv: Vec<String>) {
    let h = daemon.h.clone();
    let command = argv.join(" ");
    let mut backoff = BACKOFF_FIRST;
    for start in 0u64.. {
        let started = h.now();
        let spawned = h.spawn_process(Command::new(&argv[0]).args(&argv[1..]));
        let outcome = match spawned {
            Ok(mut child) => {
                child.set_kill_on_drop(true);
                let what = if start == 0 { "started" } else { "restarted" };
                daemon.status(&format!("child `{command}` {what}: pid {}", child.id()));
                match child.wait().await {
                    Ok(status) => format!("exited ({status})"),
                    Err(e) => format!("could not be waited for ({e})"),
                }
            }
            // A missing program is retried like a crash: it may be installed later, and a
            // daemon that exits over its helper takes the whole service down with it.
            Err(e) => format!("could not start ({e})"),
        };
        if h.now() - started >= HEALTHY_AFTER {
            backoff = BACKOFF_FIRST;
        }
        let ms = backoff.as_millis();
        daemon.status(&format!(
            "child `{command}` {outcome}; restarting in {ms} ms"
        ));
        h.sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Reloads whenever the config file is rewritten. It watches the directory, not the file:
/// editors and config managers replace the file by renaming a new one over it, which a
/// watch on the old file (now unlinked) would never see.
async fn watch_config(daemon: Rc<Daemon>, mut watcher: FsWatcher, name: PathBuf) {
    loop {
        match watcher.next_event().await {
            Ok(FsEvent::Change(change)) if change.name.as_deref() == Some(name.as_path()) => {
                daemon.reload("config file changed")
            }
            Ok(FsEvent::Change(_)) => {}
            // Events were lost: one of them may have been ours.
            Ok(FsEvent::Overflow) => daemon.reload("file events lost"),
            Err(e) => {
                daemon.status(&format!(
                    "config watch failed, reload with SIGHUP only: {e}"
                ));
                return;
            }
        }
    }
}

/// Sets up the watch for `watch_config`: the config's directory, for a file written in
/// place (CLOSE_WRITE: the writer is done, so no half-written file is read) or renamed into
/// place (MOVED_TO).
fn config_watcher(h: &Handle, path: &Path) -> std::io::Result<(FsWatcher, PathBuf)> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or(path.as_os_str()).into();
    let mut watcher = FsWatcher::new(h)?;
    watcher.add(dir, Mask::CLOSE_WRITE | Mask::MOVED_TO)?;
    Ok((watcher, name))
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("daemon: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("daemon: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: Options) -> Result<(), String> {
    // Read before anything else: a broken config at start is an error, not a default.
    let config = Config::load(options.config.as_deref())?;
    let lp = Loop::new().map_err(|e| format!("cannot start the loop: {e}"))?;
    let h = lp.handle();
    // Caught before READY, so a reload or stop sent the moment systemd sees READY is not lost.
    let mut signals = Signals::new(&h, &[Signal::Term, Signal::Int, Signal::Hup])
        .map_err(|e| format!("cannot catch signals: {e}"))?;

    // The socket systemd passed, if any (this also unsets LISTEN_*, so the child does not
    // think the sockets are its own); otherwise our own bind.
    let mut passed = Activation::from_env().map_err(|e| format!("socket activation: {e}"))?;
    let listener = if passed.is_empty() {
        TcpListener::bind(&h, options.addr.as_str())
            .map_err(|e| format!("cannot listen on {}: {e}", options.addr))?
    } else {
        passed
            .take_tcp_listener(&h, 0)
            .map_err(|e| format!("the socket systemd passed: {e}"))?
    };
    let local = listener
        .local_addr()
        .map_err(|e| format!("no local address: {e}"))?;

    let notifier = Notifier::from_env().map_err(|e| format!("NOTIFY_SOCKET: {e}"))?;
    let daemon = Rc::new(Daemon {
        h: h.clone(),
        notifier,
        config_path: options.config.clone(),
        config: RefCell::new(config),
        supervisor: RefCell::new(None),
    });
    // Pinged from the loop's own turns; aborted when the daemon stops.
    let watchdog = match &daemon.notifier {
        Some(n) => n
            .watchdog_from_env(&h)
            .map_err(|e| format!("watchdog: {e}"))?,
        None => None,
    };
    let watcher = match &options.config {
        Some(path) => {
            let (watcher, name) =
                config_watcher(&h, path).map_err(|e| format!("cannot watch the config: {e}"))?;
            Some(h.spawn(watch_config(daemon.clone(), watcher, name)))
        }
        None => None,
    };
    daemon.start_supervisor();

    let connections: Rc<RefCell<Vec<JoinHandle<()>>>> = Rc::default();
    let acceptor = h.spawn(accept_loop(daemon.clone(), listener, connections.clone()));
    // Everything is up: a client connecting now is answered.
    println!("listening on {local}");
    let _ = std::io::stdout().flush();
    daemon.notify("READY=1");
    daemon.status(&format!("answering on {local}"));

    let stop = lp.block_on(async {
        loop {
            match signals.recv().await {
                Ok(Signal::Hup) => daemon.reload("SIGHUP"),
                Ok(signal) => break signal.name().to_string(),
                Err(e) => break format!("signal wait failed: {e}"),
            }
        }
    });

    // Graceful drain. STOPPING=1 first, so systemd shows "deactivating" while we finish.
    daemon.notify("STOPPING=1");
    acceptor.abort(); // drops the listener: new connections are refused (or wait in systemd's)
    if let Some(w) = watcher {
        w.abort();
    }
    let open: Vec<_> = connections
        .take()
        .into_iter()
        .filter(|t| !t.is_finished())
        .collect();
    daemon.status(&format!(
        "{stop}: stopping; {} connection(s) have {:?} to finish",
        open.len(),
        options.grace
    ));
    let deadline = h.now() + options.grace;
    let cut = lp.block_on(async {
        let mut cut = 0;
        for mut task in open {
            // A task not done by the deadline is cancelled: its guard resets the connection.
            if h.timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
                cut += 1;
            }
        }
        cut
    });
    if let Some(supervisor) = daemon.supervisor.borrow_mut().take() {
        supervisor.abort(); // its Child is kill-on-drop
    }
    if let Some(w) = watchdog {
        w.abort();
    }
    // Let the aborted tasks run their drops (resets, the child's kill) before the loop goes.
    lp.block_on(h.sleep(Duration::from_millis(1)));
    eprintln!("daemon: stopped ({cut} connection(s) reset at the end of the grace period)");
    Ok(())
}

/// Accepts forever, one answering task per connection.
async fn accept_loop(
    daemon: Rc<Daemon>,
    listener: TcpListener,
    connections: Rc<RefCell<Vec<JoinHandle<()>>>>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                let task = daemon
                    .h
                    .spawn(answer(daemon.clone(), ResetUnlessFinished(Some(stream))));
                let mut tasks = connections.borrow_mut();
                // Forget finished connections now and then, so the list stays short.
                if tasks.len() >= 64 && tasks.len().is_power_of_two() {
                    tasks.retain(|t| !t.is_finished());
                }
                tasks.push(task);
            }
            // Out of fds and the like: report and pause, never stop serving or spin.
            Err(e) => {
                eprintln!("daemon: accept failed: {e}");
                daemon.h.sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Answers each line with the current greeting and the line, until the client closes.
/// The greeting is read per line, so a reload applies to connections already open.
async fn answer(daemon: Rc<Daemon>, mut stream: ResetUnlessFinished) {
    let Some(tcp) = stream.0.as_ref() else {
        return;
    };
    let mut lines = LineReader::new(tcp);
    loop {
        match lines.next_line().await {
            Ok(Some(line)) => {
                let reply = format!("{}{line}\n", daemon.config.borrow().greeting);
                if tcp.send_all(reply.as_bytes()).await.is_err() {
                    return; // the guard resets
                }
            }
            Ok(None) => break,
            Err(_) => return, // an over-long line or a failed read: reset
        }
    }
    drop(lines);
    // Every line was answered: an orderly close (FIN).
    drop(stream.0.take());
}

/// Owns a connection and resets it when dropped, unless it was taken out for an orderly
/// close: a connection cut at the end of the grace period must not look finished.
struct ResetUnlessFinished(Option<TcpStream>);

impl Drop for ResetUnlessFinished {
    fn drop(&mut self) {
        if let Some(stream) = self.0.take() {
            stream.abort();
        }
    }
}
