//! Fault injection at the socket syscalls (feature `testing` only): spurious `EAGAIN` and
//! `EINTR`, short reads and short writes, drawn from a seed.
//!
//! `sys::net::recv` and `sys::net::send` (the one place every stream socket leaf and the
//! Protocol transport receive and send) ask [`before`] how much of the buffer to pass, or
//! which error to return without making the call. The armed faults live in a thread-local
//! table, because a loop and every socket it drives live on one thread; with nothing armed
//! the check is one thread-local length test. This module never makes a syscall itself,
//! never blocks, and is not compiled at all without the feature.

use core::cell::RefCell;
use rustix::fd::{AsRawFd, BorrowedFd, RawFd};
use rustix::io::Errno;
use std::vec::Vec;

/// Which syscall is about to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `recv(2)` on a socket.
    Recv,
    /// `send(2)` on a socket.
    Send,
}

/// How often each fault happens, as probabilities per call (0.0 never, 1.0 always).
///
/// Short reads and short writes shorten the buffer handed to the kernel to a length drawn
/// between 1 and the asked length minus one (a call asking for one byte is never
/// shortened). An injected `EAGAIN` or `EINTR` returns the error without making the call,
/// so no byte is lost; the code under test must retry (on `EINTR`) or wait for readiness
/// (on `EAGAIN`).
///
/// ```
/// # #[cfg(feature = "testing")] {
/// let rates = readyloop::testing::FaultRates::none().eagain(0.1).short_reads(0.5);
/// assert_eq!(rates, readyloop::testing::FaultRates { eagain: 0.1, short_reads: 0.5, ..Default::default() });
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FaultRates {
    /// A spurious `EAGAIN` on recv or send.
    pub eagain: f64,
    /// A spurious `EINTR` on recv or send.
    pub eintr: f64,
    /// A recv asked for fewer bytes than the caller's buffer holds.
    pub short_reads: f64,
    /// A send given fewer bytes than the caller asked to send.
    pub short_writes: f64,
}

impl FaultRates {
    /// No faults.
    ///
    /// ```
    /// # #[cfg(feature = "testing")]
    /// assert_eq!(readyloop::testing::FaultRates::none(), Default::default());
    /// ```
    pub fn none() -> Self {
        FaultRates::default()
    }

    /// Every fault at the same rate `p`.
    ///
    /// ```
    /// # #[cfg(feature = "testing")]
    /// assert_eq!(readyloop::testing::FaultRates::all(0.25).eintr, 0.25);
    /// ```
    pub fn all(p: f64) -> Self {
        FaultRates {
            eagain: p,
            eintr: p,
            short_reads: p,
            short_writes: p,
        }
    }

    /// Sets the rate of spurious `EAGAIN`.
    ///
    /// ```
    /// # #[cfg(feature = "testing")]
    /// assert_eq!(readyloop::testing::FaultRates::none().eagain(0.5).eagain, 0.5);
    /// ```
    pub fn eagain(mut self, p: f64) -> Self {
        self.eagain = p;
        self
    }

    /// Sets the rate of spurious `EINTR`.
    ///
    /// ```
    /// # #[cfg(feature = "testing")]
    /// assert_eq!(readyloop::testing::FaultRates::none().eintr(0.5).eintr, 0.5);
    /// ```
    pub fn eintr(mut self, p: f64) -> Self {
        self.eintr = p;
        self
    }

    /// Sets the rate of short reads.
    ///
    /// ```
    /// # #[cfg(feature = "testing")]
    /// assert_eq!(readyloop::testing::FaultRates::none().short_reads(0.5).short_reads, 0.5);
    /// ```
    pub fn short_reads(mut self, p: f64) -> Self {
        self.short_reads = p;
        self
    }

    /// Sets the rate of short writes.
    ///
    /// ```
    /// # #[cfg(feature = "testing")]
    /// assert_eq!(readyloop::testing::FaultRates::none().short_writes(0.5).short_writes, 0.5);
    /// ```
    pub fn short_writes(mut self, p: f64) -> Self {
        self.short_writes = p;
        self
    }
}

/// One injected fault, as recorded in an injection's log.
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use readyloop::testing::{Fault, FaultRates, Injection};
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// let faults = Injection::on(&a, 1, FaultRates::none().short_writes(1.0));
/// assert!(lp.block_on(a.send(b"four")).unwrap() < 4);
/// assert!(matches!(faults.log()[0], (0, Fault::ShortWrite { asked: 4, .. })));
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// A spurious `EAGAIN` (on a recv when `recv` is true, else on a send).
    Eagain {
        /// On a recv (else on a send).
        recv: bool,
    },
    /// A spurious `EINTR`.
    Eintr {
        /// On a recv (else on a send).
        recv: bool,
    },
    /// A recv allowed `given` of the `asked` bytes.
    ShortRead {
        /// The caller's buffer length.
        asked: usize,
        /// What the kernel was asked for.
        given: usize,
    },
    /// A send allowed `given` of the `asked` bytes.
    ShortWrite {
        /// The caller's length.
        asked: usize,
        /// What the kernel was given.
        given: usize,
    },
}

/// How many faults of each kind an injection has made, and how many calls it saw.
///
/// ```
/// # #[cfg(feature = "testing")] {
/// use readyloop::testing::{FaultRates, Injection};
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// let faults = Injection::on(&a, 1, FaultRates::none().eintr(0.5));
/// lp.block_on(a.send_all(b"retried on EINTR")).unwrap();
/// let c = faults.counts();
/// assert_eq!(c.send_calls, c.eintr + 1); // every EINTR retried, then one send took it all
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultCounts {
    /// recv calls seen (faulted or not).
    pub recv_calls: u64,
    /// send calls seen (faulted or not).
    pub send_calls: u64,
    /// Spurious `EAGAIN`s returned.
    pub eagain: u64,
    /// Spurious `EINTR`s returned.
    pub eintr: u64,
    /// recvs shortened.
    pub short_reads: u64,
    /// sends shortened.
    pub short_writes: u64,
}

impl FaultCounts {
    /// All faults made, of every kind.
    ///
    /// ```
    /// # #[cfg(feature = "testing")]
    /// assert_eq!(readyloop::testing::FaultCounts::default().total(), 0);
    /// ```
    pub fn total(&self) -> u64 {
        self.eagain + self.eintr + self.short_reads + self.short_writes
    }
}

/// SplitMix64: small, fast, and every seed (0 included) gives a full-period stream; the
/// same seed always gives the same sequence, which is all replay needs.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform draw in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform draw in `lo..=hi` (`lo <= hi`).
    pub(crate) fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % ((hi - lo) as u64 + 1)) as usize
    }
}

/// Which sockets an injection applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// One fd.
    Fd(RawFd),
    /// Every socket recv and send made on this thread.
    Every,
}

/// One armed injection.
struct Armed {
    id: u64,
    target: Target,
    rates: FaultRates,
    rng: SplitMix,
    counts: FaultCounts,
    log: Vec<(u64, Fault)>,
}

std::thread_local! {
    static ARMED: RefCell<Vec<Armed>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: core::cell::Cell<u64> = const { core::cell::Cell::new(1) };
}

/// Arms an injection on this thread; the id to read and disarm it by.
pub(crate) fn arm(target: Target, seed: u64, rates: FaultRates) -> u64 {
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    ARMED.with(|a| {
        a.borrow_mut().push(Armed {
            id,
            target,
            rates,
            rng: SplitMix::new(seed),
            counts: FaultCounts::default(),
            log: Vec::new(),
        })
    });
    id
}

/// Disarms an injection; its final counts and log.
pub(crate) fn disarm(id: u64) -> Option<(FaultCounts, Vec<(u64, Fault)>)> {
    ARMED.with(|a| {
        let mut a = a.borrow_mut();
        let at = a.iter().position(|x| x.id == id)?;
        let armed = a.remove(at);
        Some((armed.counts, armed.log))
    })
}

/// An injection's counts so far.
pub(crate) fn counts(id: u64) -> Option<FaultCounts> {
    ARMED.with(|a| a.borrow().iter().find(|x| x.id == id).map(|x| x.counts))
}

/// An injection's log so far: (the call's number among the calls it saw, the fault).
pub(crate) fn log(id: u64) -> Vec<(u64, Fault)> {
    ARMED.with(|a| {
        a.borrow()
            .iter()
            .find(|x| x.id == id)
            .map(|x| x.log.clone())
            .unwrap_or_default()
    })
}

/// Called before a socket recv or send of `len` bytes: `Ok(n)` to pass the first `n` bytes
/// to the kernel (`n == len` when nothing is shortened), or the error to return instead.
/// The first armed injection that targets this fd decides.
pub(crate) fn before(fd: BorrowedFd<'_>, op: Op, len: usize) -> Result<usize, Errno> {
    ARMED.with(|a| {
        let Ok(mut a) = a.try_borrow_mut() else {
            return Ok(len);
        };
        if a.is_empty() {
            return Ok(len);
        }
        let raw = fd.as_raw_fd();
        let Some(armed) = a
            .iter_mut()
            .find(|x| x.target == Target::Fd(raw) || x.target == Target::Every)
        else {
            return Ok(len);
        };
        armed.decide(op, len)
    })
}

/// The most faults a log keeps (the counts go on past it): a long test stays bounded.
const LOG_LIMIT: usize = 1 << 16;

impl Armed {
    fn record(&mut self, call: u64, fault: Fault) {
        if self.log.len() < LOG_LIMIT {
            self.log.push((call, fault));
        }
    }

    fn decide(&mut self, op: Op, len: usize) -> Result<usize, Errno> {
        let recv = op == Op::Recv;
        let call = self.counts.recv_calls + self.counts.send_calls;
        if recv {
            self.counts.recv_calls += 1;
        } else {
            self.counts.send_calls += 1;
        }
        // Always three draws per call, whatever they decide, so call k's decision depends
        // only on the seed and k (not on the lengths earlier calls asked for).
        let kind = self.rng.unit();
        let short = self.rng.unit();
        let size = self.rng.next_u64();
        let r = self.rates;
        let fault = if kind < r.eagain {
            self.counts.eagain += 1;
            Err((Errno::AGAIN, Fault::Eagain { recv }))
        } else if kind < r.eagain + r.eintr {
            self.counts.eintr += 1;
            Err((Errno::INTR, Fault::Eintr { recv }))
        } else {
            let rate = if recv { r.short_reads } else { r.short_writes };
            if len > 1 && short < rate {
                let given = 1 + (size % (len as u64 - 1)) as usize;
                let fault = if recv {
                    self.counts.short_reads += 1;
                    Fault::ShortRead { asked: len, given }
                } else {
                    self.counts.short_writes += 1;
                    Fault::ShortWrite { asked: len, given }
                };
                Ok((given, Some(fault)))
            } else {
                Ok((len, None))
            }
        };
        match fault {
            Err((errno, f)) => {
                self.record(call, f);
                Err(errno)
            }
            Ok((n, f)) => {
                if let Some(f) = f {
                    self.record(call, f);
                }
                Ok(n)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix;

    #[test]
    fn same_seed_same_stream() {
        let mut a = SplitMix::new(7);
        let mut b = SplitMix::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut c = SplitMix::new(8);
        assert_ne!(SplitMix::new(7).next_u64(), c.next_u64());
        for _ in 0..1000 {
            let x = c.between(3, 5);
            assert!((3..=5).contains(&x));
            assert!((0.0..1.0).contains(&c.unit()));
        }
    }
}
