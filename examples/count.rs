//! Seed 002 (answer 3): five `count()` coroutines each print "One", sleep 1 s, print "Two",
//! sleep 2 s, print "Three". Run together: "One" x5, "Two" x5, "Three" x5 on one line in
//! ~3.0 s. With `--sync` the same work runs one after another, as sync_count.py does (~15 s).
//!
//! Run: `cargo run --release --example count` (or `-- --sync`)
//! (`READYLOOP_SCALE=0.1` shortens every duration tenfold, as the tests do.)

use readyloop::{Handle, Loop};
use std::io::Write;
use std::time::{Duration, Instant};

fn scaled(secs: f64) -> Duration {
    let scale: f64 = std::env::var("READYLOOP_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(secs * scale)
}

fn say(word: &str) {
    print!("{word} ");
    let _ = std::io::stdout().flush();
}

async fn count(h: Handle) {
    say("One");
    h.sleep(scaled(1.0)).await;
    say("Two");
    h.sleep(scaled(2.0)).await;
    say("Three");
}

fn main() -> Result<(), readyloop::Error> {
    let sync = std::env::args().any(|a| a == "--sync");
    let start = Instant::now();
    if sync {
        for _ in 0..5 {
            say("One");
            std::thread::sleep(scaled(1.0));
            say("Two");
            std::thread::sleep(scaled(2.0));
            say("Three");
        }
    } else {
        let lp = Loop::new()?;
        let h = lp.handle();
        let tasks: Vec<_> = (0..5).map(|_| h.spawn(count(h.clone()))).collect();
        lp.block_on(async {
            for task in tasks {
                task.await.expect("count");
            }
        });
    }
    println!();
    println!(
        "Totals Execution Time: {:.2} seconds.",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
