//! Reads lines from stdin while a timer ticks, on one thread: `Async::new(&h, stdin())`
//! turns the terminal (or pipe) into an awaitable reader, and `println!` keeps working.
//!
//! On a terminal the shell's stdin, stdout and stderr are one open file description, so
//! readyloop reads a private description of the terminal instead of switching the shared one
//! to non-blocking: nothing needs restoring when the program ends, even by Ctrl-C or
//! `kill -9`, and a busy `println!` never fails with "Resource temporarily unavailable".
//!
//! Run: `cargo run --example stdin_lines` and type lines; Ctrl-D ends the input, Ctrl-C the
//! program. `-- --tick-ms N` sets the tick period (default 1000 ms), `--fill N` pads each
//! tick line to N bytes (to make stdout busy).

use readyloop::{Async, Loop};
use std::time::Duration;

fn main() -> Result<(), readyloop::Error> {
    let (period, fill) = options();
    let lp = Loop::new()?;
    let h = lp.handle();
    let stdin = Async::new(&h, std::io::stdin())?;
    let ticker = h.spawn({
        let h = h.clone();
        async move {
            let mut every = h.interval(period);
            every.tick().await; // the first tick is now
            for n in 1.. {
                every.tick().await;
                println!("tick {n:<width$}", width = fill.saturating_sub(5));
            }
        }
    });
    lp.block_on(async {
        let mut pending = Vec::new();
        let mut buf = [0u8; 1024];
        let mut lines = 0;
        loop {
            let n = stdin.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            pending.extend_from_slice(&buf[..n]);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                lines += 1;
                let text = String::from_utf8_lossy(&line[..end]);
                println!("line {lines}: {text}");
            }
        }
        ticker.abort();
        println!("end of input after {lines} lines");
        Ok(())
    })
}

/// `--tick-ms N` and `--fill N` from the command line; exits with the usage line otherwise.
fn options() -> (Duration, usize) {
    let usage = "usage: stdin_lines [--tick-ms N] [--fill BYTES]";
    let (mut period, mut fill) = (Duration::from_secs(1), 0);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (arg.as_str(), value) {
            ("--tick-ms", Some(ms)) if ms > 0 => period = Duration::from_millis(ms),
            ("--fill", Some(n)) => fill = n as usize,
            _ => {
                eprintln!("{usage}");
                std::process::exit(2)
            }
        }
    }
    (period, fill)
}
