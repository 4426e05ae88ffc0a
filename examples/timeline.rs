//! A picture of the loop: tasks over time, drawn from the trace, as an SVG.
//!
//! Three sleepers and an echo pair over TCP on 127.0.0.1 (a client sending a line every
//! 150 ms, a server accepting it and echoing each line after 40 ms) share one loop with
//! tracing on. Each task gets a row with
//! bands for running (red), waiting on an fd (blue), waiting on a timer (orange), waiting
//! on another task (grey) and queued to run (green). The bottom row is the loop itself:
//! a tick for each `poll` call, the time it blocked as a solid line and the timeout it asked
//! for as a dashed one.
//!
//! Run: `cargo run --example timeline -- timeline.svg` (the path defaults to timeline.svg)

use readyloop::net::{TcpListener, TcpStream};
use readyloop::trace::{PendingOn, TraceEvent};
use readyloop::{Instant, Loop};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;
use std::time::Duration;

/// What a task is doing, as a band colour.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Running,
    Ready,
    WaitFd,
    WaitTimer,
    WaitOther,
}

impl State {
    fn colour(self) -> &'static str {
        match self {
            State::Running => "#d62728",
            State::Ready => "#2ca02c",
            State::WaitFd => "#1f77b4",
            State::WaitTimer => "#ff7f0e",
            State::WaitOther => "#b0b0b0",
        }
    }
}

/// One row of the picture.
#[derive(Default)]
struct Row {
    name: String,
    /// (start ns, end ns, state); the last one is open until the task ends.
    bands: Vec<(u64, u64, State)>,
    open: Option<(u64, State)>,
}

impl Row {
    fn enter(&mut self, at: u64, state: Option<State>) {
        if let Some((since, s)) = self.open.take() {
            self.bands.push((since, at, s));
        }
        self.open = state.map(|s| (at, s));
    }
}

/// One wait of the loop: when, how long it blocked, the timeout it asked.
struct PollCall {
    at: u64,
    blocked: u64,
    timeout: Option<u64>,
    fds: usize,
}

/// Collects the trace into rows and poll calls.
#[derive(Default)]
struct Recorder {
    rows: BTreeMap<u64, Row>,
    polls: Vec<PollCall>,
    start: Option<u64>,
    end: u64,
}

impl Recorder {
    fn row(&mut self, task: u64) -> &mut Row {
        self.rows.entry(task).or_insert_with(|| Row {
            name: if task == 0 {
                "block_on".into()
            } else {
                format!("task {task}")
            },
            ..Row::default()
        })
    }

    fn record(&mut self, at: Instant, ev: &TraceEvent<'_>) {
        let at = at.as_nanos() - *self.start.get_or_insert(at.as_nanos());
        self.end = self.end.max(at);
        match *ev {
            TraceEvent::Spawned { task, name } => {
                self.row(task).name = name.map_or(format!("task {task}"), String::from);
            }
            TraceEvent::Woken { task, .. } => self.row(task).enter(at, Some(State::Ready)),
            TraceEvent::Polled { task } => self.row(task).enter(at, Some(State::Running)),
            TraceEvent::Pending { task, waits } => {
                let state = if waits.iter().any(|w| matches!(w, PendingOn::Fd { .. })) {
                    State::WaitFd
                } else if waits.is_empty() {
                    State::WaitOther
                } else {
                    State::WaitTimer
                };
                self.row(task).enter(at, Some(state));
            }
            TraceEvent::Completed { task }
            | TraceEvent::Aborted { task }
            | TraceEvent::Panicked { task } => self.row(task).enter(at, None),
            TraceEvent::Wait { fds, timeout, .. } => self.polls.push(PollCall {
                at,
                blocked: 0,
                timeout: timeout.map(|t| t.as_nanos() as u64),
                fds: fds.len(),
            }),
            TraceEvent::Waited { blocked, .. } => {
                if let Some(p) = self.polls.last_mut() {
                    p.blocked = blocked.as_nanos() as u64;
                }
            }
            _ => {}
        }
    }

    /// Draws the picture.
    fn svg(&mut self) -> String {
        for row in self.rows.values_mut() {
            row.enter(self.end, None);
        }
        let (left, width, row_h, top) = (170.0, 1000.0, 34.0, 40.0);
        let span = self.end.max(1) as f64;
        let x = |ns: u64| left + ns as f64 / span * width;
        let rows: Vec<&Row> = self.rows.values().collect();
        let loop_y = top + rows.len() as f64 * row_h + 10.0;
        let height = loop_y + row_h + 60.0;
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">"#,
            w = left + width + 30.0
        );
        let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
        let _ = writeln!(
            s,
            r#"<text x="{left}" y="22" font-size="15" font-weight="bold">readyloop: tasks over time ({:.0} ms, {} waits)</text>"#,
            span / 1e6,
            self.polls.len()
        );
        // Time axis: a grid line every 100 ms.
        let mut ms = 0;
        while (ms as f64) * 1e6 <= span {
            let gx = x(ms * 1_000_000);
            let _ = writeln!(
                s,
                r##"<line x1="{gx:.1}" y1="{top}" x2="{gx:.1}" y2="{y2:.1}" stroke="#e0e0e0"/><text x="{gx:.1}" y="{ty:.1}" text-anchor="middle" fill="#555">{ms} ms</text>"##,
                y2 = loop_y + row_h,
                ty = loop_y + row_h + 16.0
            );
            ms += 100;
        }
        for (i, row) in rows.iter().enumerate() {
            let y = top + i as f64 * row_h;
            let _ = writeln!(
                s,
                r#"<text x="{tx}" y="{ty:.1}" text-anchor="end">{}</text>"#,
                row.name,
                tx = left - 8.0,
                ty = y + row_h / 2.0 + 4.0
            );
            for &(from, to, state) in &row.bands {
                let (x0, x1) = (x(from), x(to));
                // Running bands last microseconds: draw them at least 2 px wide.
                let w = if state == State::Running {
                    (x1 - x0).max(2.0)
                } else {
                    (x1 - x0).max(0.5)
                };
                let (h, dy) = if state == State::Running {
                    (row_h - 8.0, 4.0)
                } else {
                    (row_h - 16.0, 8.0)
                };
                let _ = writeln!(
                    s,
                    r#"<rect x="{x0:.2}" y="{:.1}" width="{w:.2}" height="{h:.1}" fill="{}"/>"#,
                    y + dy,
                    state.colour()
                );
            }
        }
        // The loop's row: one tick per poll call.
        let _ = writeln!(
            s,
            r#"<text x="{tx}" y="{ty:.1}" text-anchor="end" font-weight="bold">loop: poll()</text>"#,
            tx = left - 8.0,
            ty = loop_y + row_h / 2.0 + 4.0
        );
        let mid = loop_y + row_h / 2.0;
        for p in &self.polls {
            let x0 = x(p.at);
            if let Some(t) = p.timeout {
                let _ = writeln!(
                    s,
                    r##"<line x1="{x0:.2}" y1="{y:.1}" x2="{x2:.2}" y2="{y:.1}" stroke="#9467bd" stroke-dasharray="3,3"/>"##,
                    x2 = x(p.at + t).min(left + width),
                    y = mid + 10.0
                );
            }
            let _ = writeln!(
                s,
                r##"<line x1="{x0:.2}" y1="{y:.1}" x2="{x2:.2}" y2="{y:.1}" stroke="#9467bd" stroke-width="3"/><line x1="{x0:.2}" y1="{y0:.1}" x2="{x0:.2}" y2="{y1:.1}" stroke="#333"><title>{} fds, timeout {}</title></line>"##,
                p.fds,
                p.timeout
                    .map_or("none".to_string(), |t| format!("{:.3} ms", t as f64 / 1e6)),
                x2 = x(p.at + p.blocked),
                y = mid + 2.0,
                y0 = loop_y + 2.0,
                y1 = mid + 12.0
            );
        }
        // Legend.
        let ly = loop_y + row_h + 36.0;
        let mut lx = left;
        for (label, colour) in [
            ("running", State::Running.colour()),
            ("queued to run", State::Ready.colour()),
            ("waiting on fd", State::WaitFd.colour()),
            ("waiting on timer", State::WaitTimer.colour()),
            ("waiting on a task", State::WaitOther.colour()),
        ] {
            let _ = writeln!(
                s,
                r#"<rect x="{lx}" y="{:.1}" width="14" height="14" fill="{colour}"/><text x="{:.1}" y="{:.1}">{label}</text>"#,
                ly - 11.0,
                lx + 19.0,
                ly
            );
            lx += 150.0;
        }
        let _ = writeln!(
            s,
            r##"<line x1="{lx}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#9467bd" stroke-width="3"/><text x="{:.1}" y="{ly:.1}">blocked (dashed: timeout asked)</text>"##,
            lx + 20.0,
            lx + 26.0,
            y = ly - 4.0
        );
        s.push_str("</svg>\n");
        s
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "timeline.svg".into());
    let recorder = Rc::new(RefCell::new(Recorder::default()));
    let sink = recorder.clone();
    let lp = Loop::builder()
        .trace(move |at, ev: &TraceEvent<'_>| sink.borrow_mut().record(at, ev))
        .build()?;
    let h = lp.handle();

    let mut tasks = Vec::new();
    for (name, period, times) in [
        ("sleeper 200 ms", 200, 4),
        ("sleeper 300 ms", 300, 3),
        ("ticker 70 ms", 70, 12),
    ] {
        let h2 = h.clone();
        tasks.push(h.spawn_named(name, async move {
            for _ in 0..times {
                h2.sleep(Duration::from_millis(period)).await;
            }
        }));
    }
    let listener = TcpListener::bind(&h, "127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    tasks.push(h.spawn_named("echo server", {
        let h = h.clone();
        async move {
            let (conn, _peer) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 64];
            loop {
                match conn.recv(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        // Think a little before answering, so the client's fd wait shows.
                        h.sleep(Duration::from_millis(40)).await;
                        conn.send_all(&buf[..n]).await.expect("echo");
                    }
                }
            }
        }
    }));
    tasks.push(h.spawn_named("echo client", {
        let h = h.clone();
        async move {
            let conn = TcpStream::connect(&h, addr).await.expect("connect");
            for i in 0..5 {
                h.sleep(Duration::from_millis(150)).await;
                let line = format!("line {i}\n");
                conn.send_all(line.as_bytes()).await.expect("send");
                let mut buf = [0u8; 64];
                let n = conn.recv(&mut buf).await.expect("recv");
                assert_eq!(&buf[..n], line.as_bytes());
            }
            // Dropping the connection ends the server's loop (recv returns 0).
        }
    }));
    lp.block_on(async move {
        for t in tasks {
            t.await.expect("task");
        }
    });
    let svg = recorder.borrow_mut().svg();
    std::fs::write(&path, svg)?;
    println!("wrote {path}");
    Ok(())
}
