//! The timed window of one load-generator measurement: a warm-up, then a window in which
//! completed units (round trips, requests) and their latencies are counted and the server's
//! CPU time is sampled at both ends, so CPU per unit covers exactly the counted units.
//!
//! It only counts: the caller drives the load and reads the server's CPU (a closure), and
//! calls [`Window::check`] every few iterations. It never sleeps or blocks.

use std::time::{Duration, Instant};

/// Longest time without a completed unit before the measurement fails (a stuck server).
pub const STALL: Duration = Duration::from_secs(5);

/// What a window measured.
#[derive(Clone, Copy, Debug)]
pub struct Rates {
    /// Units completed per second inside the window.
    pub per_sec: f64,
    /// Server CPU (us) per unit inside the window.
    pub cpu_us: f64,
    /// 99th percentile of the latencies recorded inside the window, in us.
    pub p99_us: f64,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Window {
    warm_until: Instant,
    end: Instant,
    /// When the window opened: the time, units done and server CPU (ns) then.
    at_warm: Option<(Instant, u64, u64)>,
    /// The last time `done` moved, and its value then.
    progress: (Instant, u64),
    latencies_ns: Vec<u32>,
}

impl Window {
    /// A window that opens after `warmup` from now and lasts `duration`.
    pub fn start(warmup: Duration, duration: Duration) -> Window {
        let now = Instant::now();
        Window {
            warm_until: now + warmup,
            end: now + warmup + duration,
            at_warm: None,
            progress: (now, 0),
            latencies_ns: Vec::with_capacity(4_000_000),
        }
    }

    /// Records one unit's latency, if the window is open.
    pub fn record(&mut self, latency: Duration) {
        if self.at_warm.is_some() {
            let ns = latency.as_nanos().min(u32::MAX as u128) as u32;
            self.latencies_ns.push(ns);
        }
    }

    /// With `done` units completed so far: opens the window once the warm-up is over, and
    /// returns the rates once it has closed; an error if nothing completed for [`STALL`].
    /// `cpu_ns` reads the server's CPU time.
    pub fn check(&mut self, done: u64, cpu_ns: impl Fn() -> u64) -> Result<Option<Rates>, String> {
        let now = Instant::now();
        if done != self.progress.1 {
            self.progress = (now, done);
        } else if now.duration_since(self.progress.0) > STALL {
            return Err(format!("nothing completed for {STALL:?}"));
        }
        if self.at_warm.is_none() && now >= self.warm_until {
            self.at_warm = Some((now, done, cpu_ns()));
        }
        if now < self.end {
            return Ok(None);
        }
        let cpu = cpu_ns();
        let (t0, d0, c0) = self.at_warm.expect("the window opened before it closed");
        let units = (done - d0) as f64;
        let lat = &mut self.latencies_ns;
        lat.sort_unstable();
        let p99 = lat.get(lat.len() * 99 / 100).copied().unwrap_or(0);
        Ok(Some(Rates {
            per_sec: units / now.duration_since(t0).as_secs_f64(),
            cpu_us: cpu.saturating_sub(c0) as f64 / 1000.0 / units.max(1.0),
            p99_us: p99 as f64 / 1000.0,
        }))
    }
}
