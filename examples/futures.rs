//! A future resolved by another task (seed 002, answer 3, "Futures"): `foo` awaits a future
//! that `bar` resolves after sleeping 3 seconds; gather runs both. readyloop splits
//! asyncio's Future in two: `bar` gets the `Promise` that sets it, `foo` the `SharedFuture`
//! that awaits it.
//!
//! Run it:  cargo run --example futures
//!          cargo run --example futures -- --fast   (100 times faster)
//!          cargo run --example futures -- --scale 0.1   (10 times faster)

mod common;

use readyloop::sync::{promise, Promise, SharedFuture};
use readyloop::{gather, Handle, Loop};
use std::time::{Duration, Instant};

async fn bar(h: Handle, scale: f64, future: Promise<&'static str, ()>) {
    println!("bar will sleep for 3 seconds");
    h.sleep(Duration::from_secs_f64(3.0 * scale)).await;
    println!("bar resolving the future");
    future
        .set_result("future is resolved")
        .expect("nobody else sets this future");
}

async fn foo(future: SharedFuture<&'static str, ()>) {
    println!("foo will await the future");
    let _ = future.await;
    println!("foo finds the future resolved");
}

fn main() {
    let scale = common::scale("futures");
    let lp = Loop::new().expect("cannot create the loop");
    let start = Instant::now();
    let (setter, future) = promise();
    lp.block_on(gather((foo(future), bar(lp.handle(), scale, setter))));
    println!(
        "Future Execution Time: {:.2} seconds.",
        start.elapsed().as_secs_f64() / scale
    );
}
