//! Chaining coroutines (seed 002, answer 3, "Chaining Coroutines"): each chain awaits
//! `function1` and hands its result to `function2`; the chains run at the same time on one
//! loop, so the program takes as long as its slowest chain, not the sum of all of them.
//! The sleeps come from a fixed-seed random generator, so every run prints the same story.
//!
//! Run it:  cargo run --example chain             (chains 1 2 3, sleeps of 0-10 s)
//!          cargo run --example chain -- 11 8 5   (chains of your choice)
//!          cargo run --example chain -- --fast   (100 times faster; the times printed stay
//!                                                 in the program's own seconds)
//!          cargo run --example chain -- --scale 0.1   (10 times faster)

mod common;

use readyloop::{gather, Handle, Loop};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// xorshift64: a tiny random generator with a fixed seed (Python's `random.seed(444)`).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A whole number from `lo` to `hi`, both included (`random.randint`).
    fn randint(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// What the chains share: the loop, the generator, and how fast time runs.
#[derive(Clone)]
struct World {
    handle: Handle,
    rng: Rc<RefCell<Rng>>,
    scale: f64,
}

impl World {
    async fn sleep(&self, seconds: u64) {
        self.handle
            .sleep(Duration::from_secs_f64(seconds as f64 * self.scale))
            .await;
    }

    /// Seconds since `start`, in the program's own (unscaled) seconds.
    fn since(&self, start: Instant) -> f64 {
        start.elapsed().as_secs_f64() / self.scale
    }
}

async fn function1(w: &World, n: u64) -> String {
    let i = w.rng.borrow_mut().randint(0, 10);
    println!("function1({n}) is sleeping for {i} seconds.");
    w.sleep(i).await;
    let result = format!("result{n}-1");
    println!("Returning function1({n}) == {result}.");
    result
}

async fn function2(w: &World, n: u64, arg: &str) -> String {
    let i = w.rng.borrow_mut().randint(0, 10);
    println!("function2({n}, '{arg}') is sleeping for {i} seconds.");
    w.sleep(i).await;
    let result = format!("result{n}-2 derived from {arg}");
    println!("Returning function2({n}, '{arg}') == {result}.");
    result
}

async fn chain(w: World, n: u64) {
    let start = Instant::now();
    let p1 = function1(&w, n).await;
    let p2 = function2(&w, n, &p1).await;
    println!(
        "--> Chained result{n} => {p2} (took {:.2} seconds).",
        w.since(start)
    );
}

const USAGE: &str = "usage: chain [--fast | --scale FACTOR] [N ...]";

fn main() {
    let mut scale = 1.0;
    let mut chains = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if let Some(s) = common::scale_option(&arg, &mut args, USAGE) {
            scale = s;
            continue;
        }
        chains.push(arg.parse::<u64>().unwrap_or_else(|_| {
            eprintln!("{USAGE}   ({arg:?} is not a number)");
            std::process::exit(2)
        }));
    }
    if chains.is_empty() {
        chains = vec![1, 2, 3];
    }
    let lp = Loop::new().expect("cannot create the loop");
    let world = World {
        handle: lp.handle(),
        rng: Rc::new(RefCell::new(Rng::new(444))),
        scale,
    };
    let start = Instant::now();
    let all: Vec<_> = chains.iter().map(|&n| chain(world.clone(), n)).collect();
    lp.block_on(gather(all));
    println!("Program Execution Time: {:.2} seconds.", world.since(start));
}
