//! Draws a trace as an SVG timeline: a row per task with bands for running (red), queued
//! (green), waiting on an fd (blue), on a timer (orange) or on another task (grey), and a
//! bottom row for the loop: a tick per wait, solid for the time it blocked, dashed for the
//! timeout it asked.
//!
//! With more than [`MAX_ROWS`] tasks the rows are aggregated: tasks of one name share a row
//! (the rest share "other tasks"), drawn as stacked bars of how many of them were in each
//! state over time, so a trace of thousands of tasks stays readable. This module only
//! draws; it never reads files.

use crate::json::Event;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Rows drawn one per task; beyond this, rows are aggregated by task name.
pub const MAX_ROWS: usize = 40;
/// Time buckets of an aggregated row.
const BUCKETS: usize = 250;

/// What a task is doing, as a band colour.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    Running,
    Ready,
    WaitFd,
    WaitTimer,
    WaitOther,
}

const STATES: [State; 5] = [
    State::Running,
    State::Ready,
    State::WaitFd,
    State::WaitTimer,
    State::WaitOther,
];

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
    fn label(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Ready => "queued to run",
            State::WaitFd => "waiting on fd",
            State::WaitTimer => "waiting on timer",
            State::WaitOther => "waiting on a task",
        }
    }
}

/// One task's life: its name and (start ns, end ns, state) bands.
#[derive(Default)]
struct Row {
    name: String,
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

/// One wait of the loop.
struct WaitCall {
    at: u64,
    blocked: u64,
    timeout: Option<u64>,
    fds: usize,
}

/// The row of `task`, made on first sight.
fn row_of(rows: &mut BTreeMap<u64, Row>, task: u64) -> &mut Row {
    rows.entry(task).or_insert_with(|| Row {
        name: if task == 0 {
            "block_on".into()
        } else {
            format!("task {task}")
        },
        ..Row::default()
    })
}

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders the events as an SVG document.
pub fn render(events: &[Event]) -> String {
    let start = events.first().map_or(0, |e| e.at);
    let mut rows: BTreeMap<u64, Row> = BTreeMap::new();
    let mut waits: Vec<WaitCall> = Vec::new();
    let mut end = 0;
    for ev in events {
        let at = ev.at.saturating_sub(start);
        end = end.max(at);
        let task = ev.u64("task");
        match ev.kind.as_str() {
            "spawned" => {
                if let Some(n) = ev.str("name") {
                    row_of(&mut rows, task).name = n.to_string();
                }
            }
            "woken" => row_of(&mut rows, task).enter(at, Some(State::Ready)),
            "polled" => row_of(&mut rows, task).enter(at, Some(State::Running)),
            "pending" => {
                let w = ev.get("waits").arr();
                let state = if w
                    .iter()
                    .any(|w| w.get("kind").and_then(|k| k.str()) == Some("fd"))
                {
                    State::WaitFd
                } else if w.is_empty() {
                    State::WaitOther
                } else {
                    State::WaitTimer
                };
                row_of(&mut rows, task).enter(at, Some(state));
            }
            "completed" | "aborted" | "panicked" => row_of(&mut rows, task).enter(at, None),
            "wait" => waits.push(WaitCall {
                at,
                blocked: 0,
                timeout: ev.get("timeout_ns").u64(),
                fds: ev.get("fds").arr().len(),
            }),
            "waited" => {
                if let Some(w) = waits.last_mut() {
                    w.blocked = ev.u64("blocked_ns");
                }
            }
            _ => {}
        }
    }
    for row in rows.values_mut() {
        row.enter(end, None);
    }
    let tasks = rows.len();
    let lanes = lanes(rows.into_values().collect(), end);

    let (left, width, row_h, top) = (190.0, 1000.0, 34.0, 40.0);
    let span = end.max(1) as f64;
    let x = |ns: u64| left + ns as f64 / span * width;
    let loop_y = top + lanes.len() as f64 * row_h + 10.0;
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
        r#"<text x="{left}" y="22" font-size="15" font-weight="bold">readyloop: {tasks} tasks over {:.0} ms, {} waits</text>"#,
        span / 1e6,
        waits.len()
    );
    // Time axis: about ten grid lines, at a round step.
    let step = [
        1u64, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 60_000,
    ]
    .into_iter()
    .find(|ms| (*ms as f64) * 1e6 * 12.0 >= span)
    .unwrap_or(60_000);
    let mut ms = 0;
    while (ms as f64) * 1e6 <= span {
        let gx = x(ms * 1_000_000);
        let _ = writeln!(
            s,
            r##"<line x1="{gx:.1}" y1="{top}" x2="{gx:.1}" y2="{y2:.1}" stroke="#e0e0e0"/><text x="{gx:.1}" y="{ty:.1}" text-anchor="middle" fill="#555">{ms} ms</text>"##,
            y2 = loop_y + row_h,
            ty = loop_y + row_h + 16.0
        );
        ms += step;
    }
    for (i, lane) in lanes.iter().enumerate() {
        let y = top + i as f64 * row_h;
        let _ = writeln!(
            s,
            r#"<text x="{tx}" y="{ty:.1}" text-anchor="end">{}</text>"#,
            esc(&lane.label),
            tx = left - 8.0,
            ty = y + row_h / 2.0 + 4.0
        );
        match &lane.body {
            Lane::One(bands) => {
                for &(from, to, state) in bands {
                    let (x0, x1) = (x(from), x(to));
                    // Running bands last microseconds: draw them at least 2 px wide.
                    let (min_w, h, dy) = if state == State::Running {
                        (2.0, row_h - 8.0, 4.0)
                    } else {
                        (0.5, row_h - 16.0, 8.0)
                    };
                    let _ = writeln!(
                        s,
                        r#"<rect x="{x0:.2}" y="{:.1}" width="{:.2}" height="{h:.1}" fill="{}"/>"#,
                        y + dy,
                        (x1 - x0).max(min_w),
                        state.colour()
                    );
                }
            }
            Lane::Many { count, shares } => {
                // Stacked bars: per bucket, the share of the group's tasks in each state.
                let bw = width / BUCKETS as f64;
                let full = row_h - 6.0;
                for (b, share) in shares.iter().enumerate() {
                    let mut y0 = y + 3.0 + full;
                    for (k, st) in STATES.iter().enumerate() {
                        let h = share[k] / *count as f64 * full;
                        if h < 0.05 {
                            continue;
                        }
                        y0 -= h;
                        let _ = writeln!(
                            s,
                            r#"<rect x="{:.2}" y="{y0:.2}" width="{:.2}" height="{h:.2}" fill="{}"/>"#,
                            left + b as f64 * bw,
                            bw + 0.05,
                            st.colour()
                        );
                    }
                }
            }
        }
    }
    // The loop's row: one tick per wait.
    let _ = writeln!(
        s,
        r#"<text x="{tx}" y="{ty:.1}" text-anchor="end" font-weight="bold">loop: waits</text>"#,
        tx = left - 8.0,
        ty = loop_y + row_h / 2.0 + 4.0
    );
    let mid = loop_y + row_h / 2.0;
    // Thousands of waits would draw on top of each other: keep one per pixel column.
    let mut last_px = f64::MIN;
    for w in &waits {
        let x0 = x(w.at);
        if x0 - last_px < 1.0 && w.blocked < (span / width) as u64 {
            continue;
        }
        last_px = x0;
        if let Some(t) = w.timeout {
            let _ = writeln!(
                s,
                r##"<line x1="{x0:.2}" y1="{y:.1}" x2="{x2:.2}" y2="{y:.1}" stroke="#9467bd" stroke-dasharray="3,3"/>"##,
                x2 = x(w.at.saturating_add(t)).min(left + width),
                y = mid + 10.0
            );
        }
        let _ = writeln!(
            s,
            r##"<line x1="{x0:.2}" y1="{y:.1}" x2="{x2:.2}" y2="{y:.1}" stroke="#9467bd" stroke-width="3"/><line x1="{x0:.2}" y1="{y0:.1}" x2="{x0:.2}" y2="{y1:.1}" stroke="#333"><title>{} fds, timeout {}</title></line>"##,
            w.fds,
            w.timeout
                .map_or("none".to_string(), |t| format!("{:.3} ms", t as f64 / 1e6)),
            x2 = x(w.at + w.blocked).min(left + width),
            y = mid + 2.0,
            y0 = loop_y + 2.0,
            y1 = mid + 12.0
        );
    }
    // Legend.
    let ly = loop_y + row_h + 36.0;
    let mut lx = left;
    for st in STATES {
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{:.1}" width="14" height="14" fill="{}"/><text x="{:.1}" y="{ly:.1}">{}</text>"#,
            ly - 11.0,
            st.colour(),
            lx + 19.0,
            st.label()
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

/// A row of the picture: one task's bands, or a group's state shares per bucket.
struct LaneRow {
    label: String,
    body: Lane,
}

enum Lane {
    One(Vec<(u64, u64, State)>),
    Many { count: usize, shares: Vec<[f64; 5]> },
}

/// One row per task while they fit; else one per task name (largest groups first), the
/// rest together.
fn lanes(rows: Vec<Row>, end: u64) -> Vec<LaneRow> {
    if rows.len() <= MAX_ROWS {
        // A task with more bands than its row has room for is drawn as shares too.
        return rows
            .into_iter()
            .map(|r| {
                let body = if r.bands.len() > 2 * BUCKETS {
                    Lane::Many {
                        count: 1,
                        shares: shares(std::slice::from_ref(&r), end),
                    }
                } else {
                    Lane::One(r.bands)
                };
                LaneRow {
                    label: r.name,
                    body,
                }
            })
            .collect();
    }
    // Names without the task number group together ("task 7" and "task 9" are one group).
    let mut groups: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for r in rows {
        let key = if r.name.starts_with("task ") {
            "unnamed tasks".to_string()
        } else {
            r.name.clone()
        };
        groups.entry(key).or_default().push(r);
    }
    let mut groups: Vec<(String, Vec<Row>)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    if groups.len() > MAX_ROWS {
        let rest: Vec<Row> = groups.drain(MAX_ROWS - 1..).flat_map(|g| g.1).collect();
        groups.push(("other tasks".into(), rest));
    }
    groups
        .into_iter()
        .map(|(name, rows)| LaneRow {
            label: format!("{name} (×{})", rows.len()),
            body: Lane::Many {
                count: rows.len(),
                shares: shares(&rows, end),
            },
        })
        .collect()
}

/// Per time bucket, how long the rows spent in each state (in buckets: 1.0 is a whole one).
fn shares(rows: &[Row], end: u64) -> Vec<[f64; 5]> {
    let bucket_ns = (end.max(1) as f64) / BUCKETS as f64;
    let mut shares = vec![[0.0f64; 5]; BUCKETS];
    for r in rows {
        for &(from, to, st) in &r.bands {
            let k = STATES.iter().position(|s| *s == st).unwrap_or(0);
            let (f, t) = (from as f64 / bucket_ns, to as f64 / bucket_ns);
            let mut b = f.floor() as usize;
            while (b as f64) < t && b < BUCKETS {
                shares[b][k] += t.min(b as f64 + 1.0) - f.max(b as f64);
                b += 1;
            }
        }
    }
    shares
}
