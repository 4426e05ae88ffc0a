//! Tasks (seed 003, "What is Task?"): `foo` sleeps 3 seconds and `bar` 1 second; both are
//! started as tasks and the loop runs until `wait` sees both done, so "Hello Bar" comes
//! first although `foo` was started first.
//!
//! Run it:  cargo run --example tasks
//!          cargo run --example tasks -- --fast   (100 times faster)
//!          cargo run --example tasks -- --scale 0.1   (10 times faster)

mod common;

use readyloop::{Handle, Loop, ReturnWhen};
use std::time::Duration;

async fn foo(h: Handle, scale: f64) {
    h.sleep(Duration::from_secs_f64(3.0 * scale)).await;
    println!("Hello Foo");
}

async fn bar(h: Handle, scale: f64) {
    h.sleep(Duration::from_secs_f64(1.0 * scale)).await;
    println!("Hello Bar");
}

fn main() {
    let scale = common::scale("tasks");
    let lp = Loop::new().expect("cannot create the loop");
    let h = lp.handle();
    let tasks = vec![
        h.spawn(foo(h.clone(), scale)),
        h.spawn(bar(h.clone(), scale)),
    ];
    lp.block_on(lp.handle().wait(tasks, ReturnWhen::AllCompleted, None));
}
