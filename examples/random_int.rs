//! gather of three `generate_random_int` (seed 002, answer 3, the last program): each one
//! draws numbers from 0 to 10 until one beats its threshold, sleeping `indx + 1` seconds
//! between draws; gather runs the three at once and returns their results in order.
//! The generator has a fixed seed, so every run prints the same lines.
//!
//! Run it:  cargo run --example random_int
//!          cargo run --example random_int -- --fast   (100 times faster)
//!          cargo run --example random_int -- --scale 0.1   (10 times faster)

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

async fn generate_random_int(
    h: Handle,
    rng: Rc<RefCell<Rng>>,
    scale: f64,
    indx: u64,
    threshold: u64,
) -> u64 {
    println!("Initiated generate_random_int({indx}).");
    let mut i = rng.borrow_mut().randint(0, 10);
    while i <= threshold {
        println!("generate_random_int({indx}) == {i} too low; retrying.");
        h.sleep(Duration::from_secs_f64((indx + 1) as f64 * scale))
            .await;
        i = rng.borrow_mut().randint(0, 10);
    }
    println!("---> Finished: generate_random_int({indx}) == {i}");
    i
}

fn main() {
    let scale = common::scale("random_int");
    let lp = Loop::new().expect("cannot create the loop");
    let h = lp.handle();
    let rng = Rc::new(RefCell::new(Rng::new(444)));
    let start = Instant::now();
    let make = |i: u64| generate_random_int(h.clone(), rng.clone(), scale, i, 10 - i - 1);
    let (r1, r2, r3) = lp.block_on(gather((make(0), make(1), make(2))));
    println!();
    println!("Random INT 1: {r1}, Random INT 2: {r2}, Random INT 3: {r3}");
    println!();
    println!(
        "Program Execution Time: {:.2} seconds.",
        start.elapsed().as_secs_f64() / scale
    );
}
