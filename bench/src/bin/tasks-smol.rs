//! The smol stack (async-io timers, async-executor's `LocalExecutor`) on the task rows.
//!
//! Run: `tasks-smol test=timers|spawn|lone [n=..] [max_ms=..] [batch=..] [us=..]`.

use async_executor::LocalExecutor;
use async_io::Timer;
use readyloop_bench::{lateness_ns, process_cpu_ns, report, timer_delay_ns, TaskArgs};
use std::time::{Duration, Instant};

fn main() {
    let args = TaskArgs::from_env();
    let ex = LocalExecutor::new();
    let cpu0 = process_cpu_ns();
    let wall0 = Instant::now();
    match args.test() {
        "timers" => {
            let n = args.num("n", 100_000);
            let max_ns = args.num("max_ms", 100) * 1_000_000;
            let mut late: Vec<i64> = async_io::block_on(ex.run(async {
                let tasks: Vec<_> = (0..n)
                    .map(|i| {
                        ex.spawn(async move {
                            let deadline =
                                Instant::now() + Duration::from_nanos(timer_delay_ns(i, n, max_ns));
                            Timer::at(deadline).await;
                            lateness_ns(Instant::now(), deadline)
                        })
                    })
                    .collect();
                let mut out = Vec::with_capacity(tasks.len());
                for t in tasks {
                    out.push(t.await);
                }
                out
            }));
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
            let sum = async_io::block_on(ex.run(async {
                let mut sum = 0u64;
                let mut handles = Vec::with_capacity(batch as usize);
                let mut i = 0;
                while i < n {
                    let end = (i + batch).min(n);
                    handles.extend((i..end).map(|k| ex.spawn(async move { k })));
                    for h in handles.drain(..) {
                        sum += h.await;
                    }
                    i = end;
                }
                sum
            }));
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
            let mut late = async_io::block_on(async {
                let mut out = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let deadline = Instant::now() + d;
                    Timer::at(deadline).await;
                    out.push(lateness_ns(Instant::now(), deadline));
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
