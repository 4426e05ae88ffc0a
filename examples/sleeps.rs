//! Seed 001's first program: four sleepers, sleep(3), sleep(2), sleep(1), sleep(4), run
//! together. Results print in completion order and the whole run takes ~4 s, not 10 s.
//!
//! Run: `cargo run --release --example sleeps`
//! (`READYLOOP_SCALE=0.1` shortens every duration tenfold, as the tests do.)

use readyloop::Loop;
use std::cell::RefCell;
use std::rc::Rc;
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
    let results = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = [3, 2, 1, 4]
        .into_iter()
        .map(|secs| {
            let (h2, results) = (h.clone(), results.clone());
            h.spawn(async move {
                h2.sleep(scaled(secs as f64)).await;
                results.borrow_mut().push(format!("Sleep {secs} over"));
            })
        })
        .collect();
    lp.block_on(async {
        for task in tasks {
            task.await.expect("sleeper");
        }
    });
    println!("{:?}", results.borrow());
    println!("Wall time: {:.2} s", start.elapsed().as_secs_f64());
    Ok(())
}
