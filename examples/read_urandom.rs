//! Seed 002 §3.5: an `AsyncRead` of 32 KiB from /dev/urandom, 1 KiB per readiness event,
//! interleaved with a background sleeper that prints five rounds 0.1 s apart.
//!
//! Run: `cargo run --release --example read_urandom`
//! (`READYLOOP_SCALE=0.1` shortens every duration tenfold, as the tests do.)

use readyloop::{Handle, Loop, ReadFd};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

fn scaled(secs: f64) -> Duration {
    let scale: f64 = std::env::var("READYLOOP_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(secs * scale)
}

async fn sleepy(h: Handle, id: &str, count: u32, start: Instant) {
    for i in 0..count {
        println!(
            "id {id} round {} at {:.3}",
            i + 1,
            start.elapsed().as_secs_f64()
        );
        h.sleep(scaled(0.1)).await;
    }
}

async fn ready(h: Handle, path: &str, amount: usize, start: Instant) -> readyloop::Result<()> {
    println!("read {path} at {:.3}", start.elapsed().as_secs_f64());
    let file = std::fs::File::open(path).map_err(|_| {
        readyloop::Error::new(readyloop::ErrorKind::InvalidInput, "cannot open the path")
    })?;
    let mut result = Vec::with_capacity(amount);
    let mut chunk = [0u8; 1024];
    while result.len() < amount {
        let n = ReadFd::new(&h, file.as_fd(), &mut chunk).await?;
        if n == 0 {
            break;
        }
        result.extend_from_slice(&chunk[..n]);
    }
    println!("done {path} at {:.3}", start.elapsed().as_secs_f64());
    println!("got {} B", result.len());
    Ok(())
}

fn main() -> Result<(), readyloop::Error> {
    let lp = Loop::new()?;
    let h = lp.handle();
    let start = Instant::now();
    let background = h.spawn(sleepy(h.clone(), "background", 5, start));
    let reader = h.spawn(ready(h.clone(), "/dev/urandom", 32 * 1024, start));
    lp.block_on(async {
        background.await.expect("background");
        reader.await.expect("reader")
    })
}
