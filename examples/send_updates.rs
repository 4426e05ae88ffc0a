//! Seed 004: `send_updates(10, 1.0)`, `send_updates(5, 2.0)` and `send_updates(4, 3.0)` on
//! one thread, where the article first used three threads. Takes ~12 s, the longest of them.
//!
//! Run: `cargo run --release --example send_updates`
//! (`READYLOOP_SCALE=0.1` shortens every duration tenfold, as the tests do.)

use readyloop::{Handle, Loop};
use std::time::{Duration, Instant};

fn scaled(secs: f64) -> Duration {
    let scale: f64 = std::env::var("READYLOOP_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(secs * scale)
}

async fn send_updates(h: Handle, count: u32, interval_seconds: f64) {
    for i in 1..=count {
        h.sleep(scaled(interval_seconds)).await;
        println!("[{interval_seconds:.1}] Sending update {i}/{count}.");
    }
}

fn main() -> Result<(), readyloop::Error> {
    let lp = Loop::new()?;
    let h = lp.handle();
    let start = Instant::now();
    let tasks = [(10, 1.0), (5, 2.0), (4, 3.0)]
        .map(|(count, interval)| h.spawn(send_updates(h.clone(), count, interval)));
    lp.block_on(async {
        for task in tasks {
            task.await.expect("sender");
        }
    });
    println!("done in {:.2} s", start.elapsed().as_secs_f64());
    Ok(())
}
