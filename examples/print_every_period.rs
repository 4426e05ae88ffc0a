//! Seed 001's second program: three tasks print a message every period for 3 s
//! ("First message!" and "Second message!" every 1 s, "..." every 0.25 s), interleaved on one
//! thread, then the list of sleeps in the order they ended.
//!
//! Run: `cargo run --release --example print_every_period`
//! (`READYLOOP_SCALE=0.1` shortens every duration tenfold, as the tests do.)

use readyloop::Loop;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

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
    let over = Rc::new(RefCell::new(Vec::new()));
    let mut tasks = Vec::new();
    for (msg, period) in [
        ("First message!", 1.0),
        ("Second message!", 1.0),
        ("...", 0.25),
    ] {
        let (h2, over) = (h.clone(), over.clone());
        tasks.push(h.spawn(async move {
            for _ in 0..(3.0 / period) as u32 {
                h2.sleep(scaled(period)).await;
                over.borrow_mut().push(format!("Sleep {period} over"));
                println!("{msg}");
            }
            format!("Print {period} over")
        }));
    }
    let done = lp.block_on(async {
        let mut done = Vec::new();
        for task in tasks {
            done.push(task.await.expect("printer"));
        }
        done
    });
    println!("{:?}", over.borrow());
    println!("{done:?}");
    Ok(())
}
