//! Collecting measurements and printing the tables: medians per subject, then paired ratios
//! (per repetition, readyloop over the baseline of the same repetition; median of those)
//! with issue 7's targets marked met or missed.

use crate::procs::Placement;
use crate::{Config, Row, Subject};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One measurement's named values.
pub type Metrics = BTreeMap<&'static str, f64>;

/// Every measurement of a run, by row, subject and repetition.
pub struct Measurements {
    reps: usize,
    map: BTreeMap<(Row, Subject), Vec<Option<Metrics>>>,
}

impl Measurements {
    pub fn new(reps: usize) -> Self {
        Measurements {
            reps,
            map: BTreeMap::new(),
        }
    }

    pub fn put(&mut self, row: Row, s: &Subject, rep: usize, m: Metrics) {
        let v = self
            .map
            .entry((row, s.clone()))
            .or_insert_with(|| vec![None; self.reps]);
        v[rep] = Some(m);
    }

    fn value(&self, row: Row, s: &Subject, rep: usize, metric: &str) -> Option<f64> {
        self.map
            .get(&(row, s.clone()))?
            .get(rep)?
            .as_ref()?
            .get(metric)
            .copied()
    }

    /// Median over repetitions.
    pub fn median(&self, row: Row, s: &Subject, metric: &str) -> Option<f64> {
        median(
            (0..self.reps)
                .filter_map(|r| self.value(row, s, r, metric))
                .collect(),
        )
    }

    /// Median over repetitions of `s / base`, each ratio within one repetition.
    pub fn paired_ratio(&self, row: Row, s: &Subject, base: &Subject, metric: &str) -> Option<f64> {
        median(
            (0..self.reps)
                .filter_map(|r| {
                    let a = self.value(row, s, r, metric)?;
                    let b = self.value(row, base, r, metric)?;
                    (b != 0.0).then(|| a / b)
                })
                .collect(),
        )
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// A one-line summary of a measurement for the progress log.
pub fn brief(m: &Metrics) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={}", fmt_num(*v)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000.0 {
        let s = format!("{:.0}", v.abs());
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if v < 0.0 {
            format!("-{out}")
        } else {
            out
        }
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// What a target compares.
#[derive(Clone, Copy)]
enum Target {
    /// Paired ratio against this baseline, which must be at least / at most the value.
    AtLeast(&'static str, f64),
    AtMost(&'static str, f64),
    /// The median itself must be at least / at most the value.
    AbsAtLeast(f64),
    AbsAtMost(f64),
}

struct Line {
    label: String,
    row: Row,
    metric: &'static str,
    targets: Vec<Target>,
}

fn lines(cfg: &Config) -> Vec<Line> {
    let mut out = Vec::new();
    for &row in &cfg.rows {
        let line = |label: String, metric, targets| Line {
            label,
            row,
            metric,
            targets,
        };
        match row {
            Row::PingPong(n) => {
                let conns = if n == 1 {
                    "1 conn".to_string()
                } else {
                    format!("{} conns", fmt_num(n as f64))
                };
                out.push(line(
                    format!("echo ping-pong 64 B, {conns}: round trips/s"),
                    "rt_s",
                    vec![Target::AtLeast("tokio", 1.0)],
                ));
                out.push(line(
                    format!("echo ping-pong 64 B, {conns}: server CPU us per round trip"),
                    "cpu_us",
                    vec![Target::AtMost("tokio", 0.97)],
                ));
                if n == 1000 {
                    out.push(line(
                        "peak RSS at 1,000 connections, MiB (VmHWM)".into(),
                        "rss_mib",
                        vec![Target::AtMost("raw poll", 1.05)],
                    ));
                }
            }
            Row::Stream(n) => {
                let what = if n == 1 {
                    "1 conn".to_string()
                } else {
                    format!("{n} conns, {} KiB window", cfg.window / 1024)
                };
                out.push(line(
                    format!("echo stream 16 KiB writes, {what}: MB/s"),
                    "mb_s",
                    vec![Target::AtLeast("tokio", 1.0)],
                ));
                out.push(line(
                    format!("echo stream 16 KiB writes, {what}: server CPU us per MB"),
                    "cpu_us_mb",
                    vec![],
                ));
            }
            Row::Timers => {
                let what = format!(
                    "{} tasks sleeping 0..{} ms",
                    fmt_num(cfg.timers_n as f64),
                    cfg.timers_max_ms
                );
                out.push(line(
                    format!("{what}: CPU ms"),
                    "cpu_ms",
                    vec![Target::AtMost("tokio", 0.8)],
                ));
                out.push(line(
                    format!("{what}: lateness p50, us"),
                    "late_p50_us",
                    vec![Target::AbsAtMost(100.0)],
                ));
                out.push(line(
                    format!("{what}: lateness p99, us"),
                    "late_p99_us",
                    vec![Target::AbsAtMost(5000.0)],
                ));
                out.push(line(
                    format!("{what}: earliest wake vs deadline, us (never < 0)"),
                    "late_min_us",
                    vec![Target::AbsAtLeast(0.0)],
                ));
            }
            Row::Spawn => out.push(line(
                format!(
                    "spawn + join of {} trivial tasks, ns per task",
                    fmt_num(cfg.spawn_n as f64)
                ),
                "ns_per_task",
                vec![Target::AtMost("smol", 0.8)],
            )),
            Row::Lone => {
                let what = format!("lone timer, 250 us x {}", cfg.lone_n);
                out.push(line(
                    format!("{what}: lateness p50, us"),
                    "late_p50_us",
                    vec![Target::AbsAtMost(20.0)],
                ));
                out.push(line(
                    format!("{what}: lateness p99, us"),
                    "late_p99_us",
                    vec![Target::AbsAtMost(100.0)],
                ));
                out.push(line(
                    format!("{what}: earliest wake vs deadline, us (never < 0)"),
                    "late_min_us",
                    vec![Target::AbsAtLeast(0.0)],
                ));
            }
        }
    }
    out
}

fn subject_named<'a>(subjects: &'a [Subject], name: &str) -> Option<&'a Subject> {
    subjects.iter().find(|s| s.name() == name)
}

/// The whole report, as Markdown.
pub fn render(
    cfg: &Config,
    placement: &Placement,
    results: &Measurements,
    sizes: &BTreeMap<String, u64>,
) -> String {
    let mut out = String::new();
    let subjects: Vec<Subject> = cfg.subjects.clone();
    let _ = writeln!(
        out,
        "\n### Medians of {} repetition(s), {:.1} s per measurement after {:.1} s warm-up \
         (server pinned to CPU {:?}, load generator to CPU {:?}, nice -20: {})\n",
        cfg.reps,
        cfg.duration.as_secs_f64(),
        cfg.warmup.as_secs_f64(),
        placement.server_cpu,
        placement.load_cpu,
        placement.nice
    );
    let _ = write!(out, "| work |");
    for s in &subjects {
        let _ = write!(out, " {} |", s.name());
    }
    let _ = write!(out, "\n|---|");
    for _ in &subjects {
        let _ = write!(out, "---:|");
    }
    out.push('\n');
    let all = lines(cfg);
    for l in &all {
        let _ = write!(out, "| {} |", l.label);
        for s in &subjects {
            let cell = results
                .median(l.row, s, l.metric)
                .map(fmt_num)
                .unwrap_or_else(|| "-".into());
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }

    let ours: Vec<&Subject> = subjects.iter().filter(|s| s.is_readyloop()).collect();
    let _ = writeln!(
        out,
        "\n### Paired ratios (median over repetitions of readyloop / baseline in the same repetition)\n"
    );
    let _ = writeln!(
        out,
        "| work | readyloop | / tokio | / raw poll | / smol | target | met |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---|---|");
    for l in &all {
        for s in &ours {
            let Some(value) = results.median(l.row, s, l.metric) else {
                continue;
            };
            let ratio = |base: &str| {
                subject_named(&subjects, base)
                    .and_then(|b| results.paired_ratio(l.row, s, b, l.metric))
            };
            // Ratios of lateness mean little (the targets there are absolute): left blank.
            let relative = l.targets.is_empty()
                || l.targets
                    .iter()
                    .any(|t| matches!(t, Target::AtLeast(..) | Target::AtMost(..)));
            let cell = |base: &str| {
                ratio(base)
                    .filter(|_| relative)
                    .map(|r| format!("{r:.3}"))
                    .unwrap_or_else(|| "-".into())
            };
            let mut target_text = Vec::new();
            let mut met_text = Vec::new();
            for t in &l.targets {
                let (text, met) = match *t {
                    Target::AtLeast(base, want) => (
                        format!(">= {want}x {base}"),
                        ratio(base)
                            .map(|r| (r >= want, format!("{:+.1} %", (r / want - 1.0) * 100.0))),
                    ),
                    Target::AtMost(base, want) => (
                        format!("<= {want}x {base}"),
                        ratio(base)
                            .map(|r| (r <= want, format!("{:+.1} %", (r / want - 1.0) * 100.0))),
                    ),
                    Target::AbsAtLeast(want) => {
                        (format!(">= {want}"), Some((value >= want, fmt_num(value))))
                    }
                    Target::AbsAtMost(want) => {
                        (format!("<= {want}"), Some((value <= want, fmt_num(value))))
                    }
                };
                target_text.push(text);
                met_text.push(match met {
                    Some((true, _)) => "yes".to_string(),
                    Some((false, by)) => format!("NO ({by})"),
                    None => "?".to_string(),
                });
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                l.label,
                s.name(),
                cell("tokio"),
                cell("raw poll"),
                cell("smol"),
                target_text.join(", "),
                met_text.join(", ")
            );
        }
    }

    if !sizes.is_empty() {
        let _ = writeln!(out, "\n### Stripped release size of each echo server\n");
        let _ = writeln!(out, "| binary | KiB | / raw poll | target | met |");
        let _ = writeln!(out, "|---|---:|---:|---|---|");
        let raw = sizes.get("raw poll").copied();
        for (name, &size) in sizes {
            let ratio = raw.map(|r| size as f64 / r as f64);
            let (target, met) = match name.as_str() {
                "readyloop examples/echo_server" => (
                    "<= 1.1x raw poll".to_string(),
                    ratio.map(|r| {
                        if r <= 1.1 {
                            "yes".to_string()
                        } else {
                            format!("NO ({:+.1} %)", (r / 1.1 - 1.0) * 100.0)
                        }
                    }),
                ),
                "readyloop no_std daemon" => (
                    "<= 32 KiB".to_string(),
                    Some(if size <= 32 * 1024 {
                        "yes".to_string()
                    } else {
                        "NO".to_string()
                    }),
                ),
                _ => (String::new(), None),
            };
            let _ = writeln!(
                out,
                "| {name} | {:.1} | {} | {target} | {} |",
                size as f64 / 1024.0,
                ratio
                    .map(|r| format!("{r:.2}"))
                    .unwrap_or_else(|| "-".into()),
                met.unwrap_or_default()
            );
        }
    }
    out
}
