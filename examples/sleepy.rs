//! Seed 002 §2.4: five coroutines, each printing a step and sleeping 0.1 s, five times.
//! Cooperative waiting makes the whole run take ~0.5 s instead of 2.5 s.
//!
//! Run: `cargo run --release --example sleepy`
//! (`READYLOOP_SCALE=0.1` shortens every duration tenfold, as the tests do.)

use readyloop::Loop;
use std::time::{Duration, Instant};

fn scaled(secs: f64) -> Duration {
    let scale: f64 = std::env::var("READYLOOP_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(secs * scale)
}

fn main() -> Result<(), readyloop::Error> {
    let lp = Loop::new()?;
    let h = lp.handle();
    let start = Instant::now();
    let tasks: Vec<_> = (0..5)
        .map(|j| {
            let h2 = h.clone();
            h.spawn(async move {
                for i in 0..5 {
                    println!(
                        "coroutine {j} step {} at {:.2}",
                        i + 1,
                        start.elapsed().as_secs_f64()
                    );
                    h2.sleep(scaled(0.1)).await;
                }
            })
        })
        .collect();
    lp.block_on(async {
        for task in tasks {
            task.await.expect("sleepy");
        }
    });
    println!(
        "took {:.2} s ({:.2} s if run one after another)",
        start.elapsed().as_secs_f64(),
        scaled(2.5).as_secs_f64()
    );
    Ok(())
}
