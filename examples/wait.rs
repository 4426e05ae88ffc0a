//! `wait` (seed 003, "How does asyncio.wait work?"): two slow tasks of 1 and 2 seconds,
//! printed as they finish, then the `(done, pending)` that `wait` returns. A second round
//! returns at the first completion and shows the task still pending.
//!
//! Run it:  cargo run --example wait
//!          cargo run --example wait -- --fast   (100 times faster)
//!          cargo run --example wait -- --scale 0.1   (10 times faster)

mod common;

use readyloop::{Handle, Loop, ReturnWhen};
use std::time::Duration;

async fn slow_task(h: Handle, scale: f64, n: u64) -> u64 {
    h.sleep(Duration::from_secs_f64(n as f64 * scale)).await;
    println!("sleep \"{n}\" sec");
    n
}

fn main() {
    let scale = common::scale("wait");
    let lp = Loop::new().expect("cannot create the loop");
    let h = lp.handle();
    for (title, when) in [
        ("---> wait", ReturnWhen::AllCompleted),
        ("---> wait(FIRST_COMPLETED)", ReturnWhen::FirstCompleted),
    ] {
        println!("{title}");
        let tasks: Vec<_> = (1..3)
            .map(|n| h.spawn(slow_task(h.clone(), scale, n)))
            .collect();
        let (done, pending) = lp.block_on(lp.handle().wait(tasks, when, None));
        let done: Vec<u64> = done
            .into_iter()
            .map(|t| t.into_result().expect("slow_task does not fail"))
            .collect();
        println!("done: {done:?}, pending: {} task(s)", pending.len());
        for task in pending {
            task.abort();
        }
    }
}
