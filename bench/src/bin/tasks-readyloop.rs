//! readyloop on the task rows (timers, spawn + join, lone timer).
//!
//! Run: `tasks-readyloop test=timers|spawn|lone [backend=poll] [slack_ns=..] [n=..]
//! [max_ms=..] [batch=..] [us=..]`.

use readyloop::Loop;
use readyloop_bench::{process_cpu_ns, readyloop_backend, report, timer_delay_ns, TaskArgs};
use std::time::{Duration, Instant};

fn main() {
    let args = TaskArgs::from_env();
    let mut builder = Loop::builder();
    if let Some(name) = args.get("backend") {
        builder = builder.backend(readyloop_backend(name).expect("unknown backend"));
    }
    if let Some(ns) = args.get("slack_ns") {
        builder = builder.timer_slack(Duration::from_nanos(ns.parse().expect("slack_ns")));
    }
    let lp = builder.build().expect("loop");
    let h = lp.handle();
    // Lateness in signed nanoseconds on the loop's own (CLOCK_MONOTONIC) clock.
    let late_of = |h: &readyloop::Handle, deadline: readyloop::Instant| {
        h.now().as_nanos() as i64 - deadline.as_nanos() as i64
    };
    let cpu0 = process_cpu_ns();
    let wall0 = Instant::now();
    match args.test() {
        "timers" => {
            let n = args.num("n", 100_000);
            let max_ns = args.num("max_ms", 100) * 1_000_000;
            let mut late: Vec<i64> = lp.block_on(async {
                let tasks: Vec<_> = (0..n)
                    .map(|i| {
                        let h2 = h.clone();
                        h.spawn(async move {
                            let deadline =
                                h2.now() + Duration::from_nanos(timer_delay_ns(i, n, max_ns));
                            h2.sleep_until(deadline).await;
                            late_of(&h2, deadline)
                        })
                    })
                    .collect();
                let mut out = Vec::with_capacity(tasks.len());
                for t in tasks {
                    out.push(t.await.expect("task"));
                }
                out
            });
            let cpu = process_cpu_ns() - cpu0;
            report(
                &[
                    ("cpu_ms", cpu as f64 / 1e6),
                    ("wall_ms", wall0.elapsed().as_secs_f64() * 1e3),
                ],
                &mut late,
            );
        }
        "spawn" => {
            let n = args.num("n", 1_000_000);
            let batch = args.num("batch", 1000).max(1);
            let sum = lp.block_on(async {
                let mut sum = 0u64;
                let mut handles = Vec::with_capacity(batch as usize);
                let mut i = 0;
                while i < n {
                    let end = (i + batch).min(n);
                    handles.extend((i..end).map(|k| h.spawn(async move { k })));
                    for j in handles.drain(..) {
                        sum += j.await.expect("task");
                    }
                    i = end;
                }
                sum
            });
            assert_eq!(sum, n * (n - 1) / 2);
            let wall = wall0.elapsed().as_nanos() as f64;
            report(
                &[
                    ("ns_per_task", wall / n as f64),
                    ("cpu_ms", (process_cpu_ns() - cpu0) as f64 / 1e6),
                ],
                &mut [],
            );
        }
        "lone" => {
            let n = args.num("n", 2000);
            let d = Duration::from_micros(args.num("us", 250));
            let mut late = lp.block_on(async {
                let mut out = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let deadline = h.now() + d;
                    h.sleep_until(deadline).await;
                    out.push(late_of(&h, deadline));
                }
                out
            });
            report(
                &[("cpu_ms", (process_cpu_ns() - cpu0) as f64 / 1e6)],
                &mut late,
            );
        }
        other => panic!("unknown test {other}"),
    }
}
