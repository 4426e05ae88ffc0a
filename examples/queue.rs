//! Producers and consumers over a Queue (seed 002, answer 3, "Using a Queue"): each
//! producer puts a random number of items, sleeping a random time before each; consumers
//! take items forever, sleeping a random time before each and calling `task_done`. The main
//! task gathers the producers, then `join`s the queue (every item consumed), then cancels
//! the consumers. The generator has a fixed seed, so every run prints the same story.
//!
//! Run it:  cargo run --example queue -- -p 2 -c 4   (2 producers, 4 consumers; defaults 10, 15)
//!          cargo run --example queue -- -p 2 -c 4 --fast   (100 times faster)
//!          cargo run --example queue -- -p 2 -c 4 --scale 0.1   (10 times faster)

mod common;

use readyloop::sync::Queue;
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

/// What every producer and consumer shares.
#[derive(Clone)]
struct World {
    handle: Handle,
    rng: Rc<RefCell<Rng>>,
    scale: f64,
    queue: Queue<(String, Instant)>,
}

impl World {
    /// `random_sleep`: a random 0-10 s nap, announced.
    async fn random_sleep(&self, caller: &str) {
        let i = self.rng.borrow_mut().randint(0, 10);
        println!("{caller} sleeping for {i} seconds.");
        self.handle
            .sleep(Duration::from_secs_f64(i as f64 * self.scale))
            .await;
    }

    /// `generate_item`: 5 random bytes in hex (the article uses `os.urandom(5).hex()`).
    fn generate_item(&self) -> String {
        let bytes = self.rng.borrow_mut().next().to_le_bytes();
        bytes[..5].iter().map(|b| format!("{b:02x}")).collect()
    }
}

async fn produce(w: World, name: usize) {
    let n = w.rng.borrow_mut().randint(0, 10);
    for _ in 0..n {
        w.random_sleep(&format!("Producer {name}")).await;
        let item = w.generate_item();
        w.queue.put((item.clone(), Instant::now())).await;
        println!("Producer {name} added <{item}> to queue.");
    }
}

async fn consume(w: World, name: usize) {
    loop {
        w.random_sleep(&format!("Consumer {name}")).await;
        let (item, put_at) = w.queue.get().await;
        println!(
            "Consumer {name} got element <{item}> in {:.5} seconds.",
            put_at.elapsed().as_secs_f64() / w.scale
        );
        w.queue.task_done().expect("one task_done per item taken");
    }
}

fn usage(problem: &str) -> ! {
    eprintln!("usage: queue [-p PRODUCERS] [-c CONSUMERS] [--fast | --scale FACTOR]   ({problem})");
    std::process::exit(2)
}

fn main() {
    let (mut producers, mut consumers, mut scale) = (10usize, 15usize, 1.0);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if let Some(s) = common::scale_option(&arg, &mut args, "--scale needs a positive number") {
            scale = s;
            continue;
        }
        let mut count = || {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage(&format!("{arg} needs a number")))
        };
        match arg.as_str() {
            "-p" | "--no_producer" => producers = count(),
            "-c" | "--no_consumer" => consumers = count(),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    let lp = Loop::new().expect("cannot create the loop");
    let h = lp.handle();
    let w = World {
        handle: h.clone(),
        rng: Rc::new(RefCell::new(Rng::new(444))),
        scale,
        queue: Queue::unbounded(),
    };
    let start = Instant::now();
    lp.block_on(async {
        let producers: Vec<_> = (0..producers)
            .map(|n| h.spawn(produce(w.clone(), n)))
            .collect();
        let consumers: Vec<_> = (0..consumers)
            .map(|n| h.spawn(consume(w.clone(), n)))
            .collect();
        gather(producers).await;
        w.queue.join().await; // implicitly awaits the consumers, too
        for consumer in consumers {
            consumer.abort();
        }
    });
    println!(
        "Program Execution Time: {:.2} seconds.",
        start.elapsed().as_secs_f64() / scale
    );
}
