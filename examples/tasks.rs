//! Tasks (seed 003, "What is Task?"): `foo` sleeps 3 seconds and `bar` 1 second; both are
//! started as tasks and the loop runs until `wait` sees both done, so "Hello Bar" comes
//! first although `foo` was started first.
//!
//! Run it:  cargo run --example tasks
//!          cargo run --example tasks -- --fast   (100 times faster)
//!          cargo run --example tasks -- --scale 0.1   (10 times faster)

use readyloop::{wait, Handle, Loop, ReturnWhen};
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
    let mut scale = 1.0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--fast" => scale = 0.01,
            "--scale" => match args.next().and_then(|s| s.parse::<f64>().ok()) {
                Some(s) if s > 0.0 => scale = s,
                _ => {
                    eprintln!("usage: tasks [--fast | --scale FACTOR]");
                    std::process::exit(2)
                }
            },
            _ => {}
        }
    }
    let lp = Loop::new().expect("cannot create the loop");
    let h = lp.handle();
    let tasks = vec![
        h.spawn(foo(h.clone(), scale)),
        h.spawn(bar(h.clone(), scale)),
    ];
    lp.block_on(wait(tasks, ReturnWhen::AllCompleted, None));
}
