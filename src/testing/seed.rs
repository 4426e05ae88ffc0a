//! `FaultSeed`: the one seed a test's faults are drawn from, taken from
//! `READYLOOP_FAULT_SEED` when set (to replay a failure) or fresh otherwise, and printed when
//! the test panics. It never reads the environment after it is made and never draws a fault
//! itself.

use crate::error::{Error, ErrorKind};
use crate::sys::faults::SplitMix;
use core::fmt;

/// The environment variable a replayed run sets: `READYLOOP_FAULT_SEED=1234 cargo test NAME`.
///
/// ```
/// assert_eq!(readyloop::testing::SEED_ENV, "READYLOOP_FAULT_SEED");
/// ```
pub const SEED_ENV: &str = "READYLOOP_FAULT_SEED";

/// The seed every fault of a test is drawn from. Dropped while the thread panics (a failed
/// assertion), it prints itself and the command that replays it on stderr.
///
/// ```
/// use readyloop::testing::FaultSeed;
/// let seed = FaultSeed::new(42);
/// assert_eq!(seed.value(), 42);
/// assert_eq!(seed.derive(1), FaultSeed::new(42).derive(1));
/// assert_ne!(seed.derive(1), seed.derive(2));
/// assert_eq!(seed.to_string(), "fault seed 42 (replay: READYLOOP_FAULT_SEED=42)");
/// ```
#[derive(Debug)]
pub struct FaultSeed {
    value: u64,
}

impl FaultSeed {
    /// This seed.
    ///
    /// ```
    /// assert_eq!(readyloop::testing::FaultSeed::new(7).value(), 7);
    /// ```
    pub fn new(value: u64) -> FaultSeed {
        FaultSeed { value }
    }

    /// `READYLOOP_FAULT_SEED` if it is set, else a fresh seed (from the clock, the process
    /// id and a counter). A value that is not a decimal or `0x` hexadecimal `u64` is an
    /// [`ErrorKind::InvalidInput`] naming the variable.
    ///
    /// ```
    /// let seed = readyloop::testing::FaultSeed::try_from_env().unwrap();
    /// let _ = seed.value();
    /// ```
    pub fn try_from_env() -> Result<FaultSeed, Error> {
        match std::env::var(SEED_ENV) {
            Ok(text) => parse(&text).map(FaultSeed::new).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    "READYLOOP_FAULT_SEED is not a u64 (decimal, or hexadecimal with 0x)",
                )
            }),
            Err(_) => Ok(FaultSeed::new(fresh())),
        }
    }

    /// [`try_from_env`](Self::try_from_env), panicking with its error (a test's bad
    /// environment should fail the test, loudly).
    ///
    /// ```
    /// let _seed = readyloop::testing::FaultSeed::from_env();
    /// ```
    #[track_caller]
    pub fn from_env() -> FaultSeed {
        match FaultSeed::try_from_env() {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// The seed's value.
    ///
    /// ```
    /// assert_eq!(readyloop::testing::FaultSeed::new(3).value(), 3);
    /// ```
    pub fn value(&self) -> u64 {
        self.value
    }

    /// A seed of its own for stream `n` (one per injection or proxy, so adding one does not
    /// change the faults the others draw).
    ///
    /// ```
    /// let s = readyloop::testing::FaultSeed::new(3);
    /// assert_ne!(s.derive(0), s.derive(1));
    /// ```
    pub fn derive(&self, n: u64) -> u64 {
        SplitMix::new(self.value ^ n.wrapping_mul(0xA24B_AED4_963E_E407)).next_u64()
    }
}

impl fmt::Display for FaultSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault seed {0} (replay: {SEED_ENV}={0})", self.value)
    }
}

impl Drop for FaultSeed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            std::eprintln!("readyloop::testing: the test failed under {self}");
        }
    }
}

fn parse(text: &str) -> Option<u64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

fn fresh() -> u64 {
    use core::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mix =
        nanos ^ (u64::from(std::process::id()) << 32) ^ COUNTER.fetch_add(1, Ordering::Relaxed);
    SplitMix::new(mix).next_u64()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_decimal_and_hex() {
        assert_eq!(super::parse("42"), Some(42));
        assert_eq!(super::parse(" 0x2a "), Some(42));
        assert_eq!(super::parse("forty"), None);
        assert_eq!(super::parse("-1"), None);
    }
}
