//! Two event loops in two threads (seed 002, answer 3, "Event loops"): each thread makes
//! its own loop and runs a coroutine that reports whether a loop is running in its thread,
//! then sleeps a random 1-5 seconds. The loops run at the same time, so the program takes
//! as long as the longer sleep; the main thread has no loop running.
//!
//! Run it:  cargo run --example two_loops
//!          cargo run --example two_loops -- --fast        (100 times faster)
//!          cargo run --example two_loops -- --scale 0.1   (10 times faster)

mod common;

use readyloop::{Handle, Loop};
use std::time::{Duration, Instant};

/// xorshift64: a tiny random generator with a fixed seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// A whole number from `lo` to `hi`, both included (`random.randint`).
    fn randint(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + self.0 % (hi - lo + 1)
    }
}

fn report() {
    let thread = std::thread::current();
    println!(
        "Is event loop running in thread {} = {}",
        thread.name().unwrap_or("?"),
        Handle::try_current().is_some()
    );
}

async fn do_something_important(sleep_for: u64, scale: f64) {
    report();
    readyloop::sleep(Duration::from_secs_f64(sleep_for as f64 * scale)).await;
    println!(
        "{} slept for {sleep_for} seconds",
        std::thread::current().name().unwrap_or("?")
    );
}

fn launch_event_loop(seed: u64, scale: f64) {
    // A new loop for this thread; it is the thread's current loop while it runs.
    let lp = Loop::new().expect("cannot create the loop");
    let sleep_for = Rng::new(seed).randint(1, 5);
    lp.block_on(do_something_important(sleep_for, scale));
    // Dropping the loop closes it.
}

fn main() {
    let scale = common::scale("two_loops");
    let start = Instant::now();
    let threads: Vec<_> = [1u64, 2]
        .into_iter()
        .map(|n| {
            std::thread::Builder::new()
                .name(format!("Thread-{n}"))
                .spawn(move || launch_event_loop(439 + n, scale))
                .expect("cannot start a thread")
        })
        .collect();
    // The main thread has no loop running.
    println!(
        "Is event loop running in thread MainThread = {}",
        Handle::try_current().is_some()
    );
    for t in threads {
        t.join().expect("a loop thread panicked");
    }
    println!(
        "Event Loop Execution Time: {:.2} seconds.",
        start.elapsed().as_secs_f64() / scale
    );
}
