//! Prints every signal the process gets until SIGINT, while a heartbeat task keeps running:
//! signals arrive as ordinary awaited events, and the loop never stops for them.
//!
//! Run it with `cargo run --example signals`, then from another terminal send it signals
//! with the pid it prints: `kill -HUP PID`, `kill -USR1 PID`, `kill -USR2 PID`,
//! `kill -TERM PID`; press Ctrl-C (or `kill -INT PID`) to end it.

use readyloop::signal::{Signal, Signals};
use readyloop::Loop;
use std::time::Duration;

fn main() -> Result<(), readyloop::Error> {
    let lp = Loop::new()?;
    let h = lp.handle();
    let mut signals = Signals::new(&h, &Signal::ALL)?;
    println!(
        "pid {}: waiting for signals; Ctrl-C to quit",
        std::process::id()
    );
    let heartbeat = h.spawn({
        let h = h.clone();
        async move {
            for beat in 1.. {
                h.sleep(Duration::from_secs(5)).await;
                println!("(heartbeat {beat}: the loop keeps running)");
            }
        }
    });
    lp.block_on(async {
        loop {
            let signal = signals.recv().await?;
            println!("got {} ({})", signal.name(), signal.number());
            if signal == Signal::Int {
                heartbeat.abort();
                return Ok(());
            }
        }
    })
}
