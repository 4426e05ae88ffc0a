//! Tells a trace as a story, one sentence per event: what each task yields, what the loop
//! asks the kernel, what the kernel answers (the text of `examples/trace_tour.rs`). This
//! module only formats; it never reads files.

use crate::json::{Event, Value};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Turns events into the story's lines.
#[derive(Default)]
pub struct Storyteller {
    start: Option<u64>,
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

    /// The story's line for one event (`None` for events the story leaves out).
    pub fn tell(&mut self, ev: &Event) -> Option<String> {
        let t = (ev.at - *self.start.get_or_insert(ev.at)) as f64 / 1e9;
        let task = ev.u64("task");
        let line = match ev.kind.as_str() {
            "turn" => return Some(format!("--- turn {} at {t:.3} s ---", ev.u64("turn"))),
            "spawned" => {
                let name = ev.str("name").map_or(format!("task {task}"), String::from);
                self.names.insert(task, name.clone());
                format!("spawn {name}")
            }
            "polled" => format!("run {}", self.name(task)),
            "pending" => {
                let what: Vec<String> = ev
                    .get("waits")
                    .arr()
                    .iter()
                    .map(|w| match w.get("kind").and_then(Value::str) {
                        Some("fd") => format!(
                            "\"wake me when fd {} is {}\"",
                            w.get("fd").and_then(Value::u64).unwrap_or(0),
                            w.get("interest").and_then(Value::str).unwrap_or("?")
                        ),
                        Some("timer") => format!(
                            "\"wake me in {:.3} s\"",
                            w.get("due_in_ns").and_then(Value::u64).unwrap_or(0) as f64 / 1e9
                        ),
                        _ => "something".to_string(),
                    })
                    .collect();
                if what.is_empty() {
                    format!("  {} yields, waiting on another task", self.name(task))
                } else {
                    format!("  {} yields {}", self.name(task), what.join(" and "))
                }
            }
            "completed" => format!("  {} returns: done", self.name(task)),
            "aborted" => format!("  {} is aborted", self.name(task)),
            "panicked" => format!("  {} panics", self.name(task)),
            "wait" => {
                let mut set = String::new();
                for (i, f) in ev.get("fds").arr().iter().enumerate() {
                    let sep = if i > 0 { " " } else { "" };
                    let _ = write!(
                        set,
                        "{sep}{}:{}",
                        f.get("fd").and_then(Value::u64).unwrap_or(0),
                        f.get("events").and_then(Value::str).unwrap_or("?")
                    );
                }
                let timeout = ev
                    .get("timeout_ns")
                    .u64()
                    .map_or("none".into(), |t| format!("{:.3} s", t as f64 / 1e9));
                format!(
                    "loop asks the kernel: {}([{set}], timeout {timeout})",
                    ev.str("backend").unwrap_or("poll")
                )
            }
            "waited" => format!(
                "kernel answers after {:.3} s: {} fd(s) ready",
                ev.u64("blocked_ns") as f64 / 1e9,
                ev.u64("ready")
            ),
            "ready" => format!(
                "  fd {}: {}",
                ev.u64("fd"),
                ev.str("revents").unwrap_or("?")
            ),
            "timer_fired" => {
                format!(
                    "  a timer is due ({:.0} us late)",
                    ev.u64("late_ns") as f64 / 1e3
                )
            }
            "woken" => {
                let by = ev.get("by");
                let why = match by.get("kind").and_then(Value::str) {
                    Some("fd") => format!(
                        "fd {} is ready",
                        by.get("fd").and_then(Value::u64).unwrap_or(0)
                    ),
                    Some("timer") => "its timer fired".into(),
                    Some("task") => format!(
                        "{} finished or signalled",
                        self.name(by.get("task").and_then(Value::u64).unwrap_or(0))
                    ),
                    Some("spawn") => "it was just spawned".into(),
                    Some("cross_thread") => "another thread woke it".into(),
                    Some("call_soon") => "a call_soon callback woke it".into(),
                    _ => "the loop".into(),
                };
                format!("{} is ready to run: {why}", self.name(task))
            }
            _ => return None,
        };
        Some(format!("{t:>8.3} s  {line}"))
    }
}

/// The whole story of a trace, one line per told event.
pub fn tell_all(events: &[Event]) -> String {
    let mut teller = Storyteller::default();
    let mut out = String::new();
    for ev in events {
        if let Some(line) = teller.tell(ev) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}
