//! Seed 002 §2.4: five coroutines, each printing a step and sleeping 0.1 s, five times.
//! Cooperative waiting makes the whole run take ~0.5 s instead of 2.5 s.
//!
//! Run: `cargo run --release --example sleepy`

use readyloop::Loop;
use std::time::{Duration, Instant};

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
                    h2.sleep(Duration::from_millis(100)).await;
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
        "took {:.2} s (2.5 s if run one after another)",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
