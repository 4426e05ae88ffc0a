//! The articles' story, told live by the loop's trace: what each task yields, what the loop
//! asks the kernel (`poll`, `select` or `epoll`), and what the kernel answers.
//!
//! Two sleepers (seed 002's `AsyncSleep`) and an echo pair over a Unix socket pair (its
//! `AsyncRecv`) share one loop. Every line below comes from one `TraceEvent`.
//!
//! Run: `cargo run --example trace_tour` (add `-- select` or `-- epoll` for another backend)

use readyloop::trace::{PendingOn, TraceEvent, WakeCause};
use readyloop::{AsyncRecv, BackendKind, Instant, Loop};
use std::collections::HashMap;
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Turns trace events into the story's sentences.
struct Storyteller {
    start: Option<Instant>,
    names: HashMap<u64, String>,
}

impl Storyteller {
    fn name(&self, task: u64) -> String {
        match (task, self.names.get(&task)) {
            (0, _) => "main".to_string(),
            (_, Some(n)) => n.clone(),
            (id, None) => format!("task {id}"),
        }
    }

    fn tell(&mut self, at: Instant, ev: &TraceEvent<'_>) {
        let t = at - *self.start.get_or_insert(at);
        let line = match *ev {
            TraceEvent::TurnStart { turn } => {
                println!("--- turn {turn} at {:.3} s ---", t.as_secs_f64());
                return;
            }
            TraceEvent::Spawned { task, name } => {
                let name = name.map_or(format!("task {task}"), String::from);
                self.names.insert(task, name.clone());
                format!("spawn {name}")
            }
            TraceEvent::Polled { task } => format!("run {}", self.name(task)),
            TraceEvent::Pending { task, waits } => {
                let what: Vec<String> = waits
                    .iter()
                    .map(|w| match *w {
                        PendingOn::Fd { fd, interest } => {
                            format!("\"wake me when fd {fd} is {}\"", interest.name())
                        }
                        PendingOn::Timer { due_in, .. } => {
                            format!("\"wake me in {:.3} s\"", due_in.as_secs_f64())
                        }
                        _ => "something".to_string(),
                    })
                    .collect();
                if what.is_empty() {
                    format!("  {} yields, waiting on another task", self.name(task))
                } else {
                    format!("  {} yields {}", self.name(task), what.join(" and "))
                }
            }
            TraceEvent::Completed { task } => format!("  {} returns: done", self.name(task)),
            TraceEvent::Wait {
                backend,
                fds,
                timeout,
            } => {
                let set: Vec<String> = fds.iter().map(|(fd, ev)| format!("{fd}:{ev}")).collect();
                let timeout =
                    timeout.map_or("none".into(), |t| format!("{:.3} s", t.as_secs_f64()));
                format!(
                    "loop asks the kernel: {backend}([{}], timeout {timeout})",
                    set.join(" ")
                )
            }
            TraceEvent::Waited { blocked, ready, .. } => format!(
                "kernel answers after {:.3} s: {ready} fd(s) ready",
                blocked.as_secs_f64()
            ),
            TraceEvent::Ready { fd, revents, .. } => format!("  fd {fd}: {revents}"),
            TraceEvent::TimerFired { late, .. } => {
                format!("  a timer is due ({:.0} us late)", late.as_secs_f64() * 1e6)
            }
            TraceEvent::Woken { task, by } => {
                let why = match by {
                    WakeCause::Fd { fd, .. } => format!("fd {fd} is ready"),
                    WakeCause::Timer => "its timer fired".into(),
                    WakeCause::Task(other) => format!("{} finished or signalled", self.name(other)),
                    WakeCause::Spawn => "it was just spawned".into(),
                    WakeCause::CrossThread => "another thread woke it".into(),
                    WakeCause::CallSoon => "a call_soon callback woke it".into(),
                    _ => "the loop".into(),
                };
                format!("{} is ready to run: {why}", self.name(task))
            }
            _ => return,
        };
        println!("{:>8.3} s  {line}", t.as_secs_f64());
    }
}

fn main() -> Result<(), readyloop::Error> {
    let backend = match std::env::args().nth(1).as_deref() {
        Some("select") => BackendKind::Select,
        Some("epoll") => BackendKind::Epoll,
        _ => BackendKind::default_kind(),
    };
    let mut teller = Storyteller {
        start: None,
        names: HashMap::new(),
    };
    let lp = Loop::builder()
        .backend(backend)
        .trace(move |at, ev: &TraceEvent<'_>| teller.tell(at, ev))
        .build()?;
    let h = lp.handle();
    let (client, server) = UnixStream::pair().expect("socketpair");
    client.set_nonblocking(true).expect("O_NONBLOCK");
    server.set_nonblocking(true).expect("O_NONBLOCK");

    let short = h.spawn_named("sleep(0.1)", {
        let h = h.clone();
        async move { h.sleep(Duration::from_millis(100)).await }
    });
    let long = h.spawn_named("sleep(0.3)", {
        let h = h.clone();
        async move { h.sleep(Duration::from_millis(300)).await }
    });
    let echo = h.spawn_named("echo server", {
        let h = h.clone();
        async move {
            let mut buf = [0u8; 64];
            let n = AsyncRecv::new(&h, server.as_fd(), &mut buf).await?;
            (&server).write_all(&buf[..n]).expect("write");
            Ok::<_, readyloop::Error>(n)
        }
    });
    let asker = h.spawn_named("client", {
        let h = h.clone();
        async move {
            h.sleep(Duration::from_millis(200)).await;
            (&client).write_all(b"ping").expect("write");
            let mut buf = [0u8; 64];
            let n = AsyncRecv::new(&h, client.as_fd(), &mut buf).await?;
            Ok::<_, readyloop::Error>(String::from_utf8_lossy(&buf[..n]).into_owned())
        }
    });
    let answer = lp.block_on(async move {
        short.await.ok();
        long.await.ok();
        echo.await.ok();
        asker.await
    });
    println!(
        "\nthe client got {:?} back",
        answer.ok().and_then(|r| r.ok())
    );
    Ok(())
}
