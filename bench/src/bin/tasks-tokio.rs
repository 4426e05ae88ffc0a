//! tokio current_thread on the task rows (timers, spawn + join, lone timer).
//!
//! Run: `tasks-tokio test=timers|spawn|lone [n=..] [max_ms=..] [batch=..] [us=..]`.

use readyloop_bench::{lateness_ns, process_cpu_ns, report, timer_delay_ns, TaskArgs};
use std::time::{Duration, Instant};

fn main() {
    let args = TaskArgs::from_env();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    let cpu0 = process_cpu_ns();
    let wall0 = Instant::now();
    match args.test() {
        "timers" => {
            let n = args.num("n", 100_000);
            let max_ns = args.num("max_ms", 100) * 1_000_000;
            let mut late: Vec<i64> = local.block_on(&rt, async {
                let tasks: Vec<_> = (0..n)
                    .map(|i| {
                        tokio::task::spawn_local(async move {
                            let deadline = tokio::time::Instant::now()
                                + Duration::from_nanos(timer_delay_ns(i, n, max_ns));
                            tokio::time::sleep_until(deadline).await;
                            lateness_ns(Instant::now(), deadline.into_std())
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
            let sum = local.block_on(&rt, async {
                let mut sum = 0u64;
                let mut handles = Vec::with_capacity(batch as usize);
                let mut i = 0;
                while i < n {
                    let end = (i + batch).min(n);
                    handles.extend((i..end).map(|k| tokio::task::spawn_local(async move { k })));
                    for h in handles.drain(..) {
                        sum += h.await.expect("task");
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
            let mut late = local.block_on(&rt, async {
                let mut out = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let deadline = tokio::time::Instant::now() + d;
                    tokio::time::sleep_until(deadline).await;
                    out.push(lateness_ns(Instant::now(), deadline.into_std()));
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
