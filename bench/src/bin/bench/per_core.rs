//! The `--per-core` report: readyloop with one loop against one loop per core
//! (`multi::serve_per_core`, one `SO_REUSEPORT` listener per loop), round trips per second
//! and the server's CPU per round trip, with the machine's load average at both ends.
//! Nothing is pinned by the driver, so the load generator shares the CPUs with the loops;
//! the report says so, since on a 2-core machine that bounds what a second loop can add.

use crate::procs::Placement;
use crate::table::Measurements;
use crate::{Config, Subject};
use std::fmt::Write;

/// `/proc/loadavg`'s first three fields (1, 5 and 15 minutes).
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The per-core table as Markdown.
pub fn render(
    cfg: &Config,
    placement: &Placement,
    results: &Measurements,
    load_before: &str,
) -> String {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### One loop per core: medians of {} repetition(s), {:.1} s per measurement after \
         {:.1} s warm-up\n\n{cpus} CPUs; the load generator (one thread) and the server share \
         them (nothing pinned by the driver, nice -20: {}); load average before {load_before}, \
         after {}.\n",
        cfg.reps,
        cfg.duration.as_secs_f64(),
        cfg.warmup.as_secs_f64(),
        placement.nice,
        load_average()
    );
    let _ = writeln!(
        out,
        "| work | subject | round trips/s | server CPU us per round trip | round trips/s vs 1 loop (paired) | CPU vs 1 loop (paired) |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
    let fmt = |v: Option<f64>, digits: usize| {
        v.map(|v| format!("{v:.digits$}"))
            .unwrap_or_else(|| "-".into())
    };
    for &row in &cfg.rows {
        for s in &cfg.subjects {
            // Each subject against one loop doing the same work per message.
            let base = match s {
                Subject::ReadyloopLoops { work_us, .. } => Subject::ReadyloopLoops {
                    loops: 1,
                    pin: false,
                    work_us: *work_us,
                },
                other => other.clone(),
            };
            let ratio = |metric| {
                if *s == base {
                    "1".to_string()
                } else {
                    fmt(results.paired_ratio(row, s, &base, metric), 3)
                }
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row_label(row),
                s.name(),
                fmt(results.median(row, s, "rt_s"), 0),
                fmt(results.median(row, s, "cpu_us"), 2),
                ratio("rt_s"),
                ratio("cpu_us"),
            );
        }
    }
    out
}

fn row_label(row: crate::Row) -> String {
    match row {
        crate::Row::PingPong(n) => format!("ping-pong 64 B, {n} conn(s)"),
        crate::Row::Stream(n) => format!("stream 16 KiB, {n} conn(s)"),
        other => format!("{other:?}"),
    }
}
