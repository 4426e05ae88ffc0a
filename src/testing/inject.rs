//! `Injection`: faults armed inside the loop on one socket (or every socket of the thread):
//! spurious `EAGAIN` and `EINTR`, short reads and short writes at seeded rates, counted and
//! logged. It arms and disarms entries of `sys::faults`; it never makes a syscall and never
//! outlives its thread's loop's sockets by accident (dropping it disarms).

use crate::sys::faults::{self, Fault, FaultCounts, FaultRates, Target};
use alloc::vec::Vec;
use core::marker::PhantomData;
use rustix::fd::{AsFd, AsRawFd};

/// Faults armed on this thread's socket syscalls until dropped.
///
/// Made on the thread that runs the loop (the table is per thread, as the loop is). Every
/// `recv` and `send` the stream sockets and the Protocol transport make on the target draws
/// its fate from the seed: the k-th call of an injection gets the same fault for the same
/// seed, so a failure replays. Datagram calls (`recv_from`, `send_to`) are not touched.
///
/// ```
/// use readyloop::testing::{FaultRates, Injection};
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// let faults = Injection::on(&b, 7, FaultRates::all(0.3));
/// lp.block_on(async {
///     a.send_all(b"partial reads are normal").await.unwrap();
///     a.shutdown(readyloop::net::Shutdown::Write).unwrap();
///     let mut got = Vec::new();
///     b.read_to_end(&mut got).await.unwrap();
///     assert_eq!(got, b"partial reads are normal");
/// });
/// assert!(faults.counts().recv_calls > 0);
/// ```
#[derive(Debug)]
pub struct Injection {
    id: u64,
    seed: u64,
    target: Target,
    /// The table is this thread's: the guard must be dropped here.
    _thread_bound: PhantomData<*const ()>,
}

impl Injection {
    /// Arms `rates` on one socket (any of readyloop's stream sockets, or its fd). The
    /// injection follows the fd number: drop it before the socket, or a socket that later
    /// gets the same number inherits the faults.
    ///
    /// ```
    /// use readyloop::testing::{FaultRates, Injection};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// let inj = Injection::on(&a, 1, FaultRates::none().eintr(1.0));
    /// assert_eq!(inj.counts().eintr, 0);
    /// ```
    pub fn on(socket: &impl AsFd, seed: u64, rates: FaultRates) -> Injection {
        let target = Target::Fd(socket.as_fd().as_raw_fd());
        Injection::arm(target, seed, rates)
    }

    /// Arms `rates` on every socket recv and send of this thread (a server's accepted
    /// connections included), for code whose sockets a test cannot reach. An injection on
    /// one fd made earlier takes precedence for that fd.
    ///
    /// ```
    /// use readyloop::testing::{FaultRates, Injection};
    /// let inj = Injection::on_every_socket(1, FaultRates::all(0.1));
    /// assert_eq!(inj.seed(), 1);
    /// ```
    pub fn on_every_socket(seed: u64, rates: FaultRates) -> Injection {
        Injection::arm(Target::Every, seed, rates)
    }

    fn arm(target: Target, seed: u64, rates: FaultRates) -> Injection {
        Injection {
            id: faults::arm(target, seed, rates),
            seed,
            target,
            _thread_bound: PhantomData,
        }
    }

    /// The seed its faults are drawn from.
    ///
    /// ```
    /// # use readyloop::testing::{FaultRates, Injection};
    /// assert_eq!(Injection::on_every_socket(9, FaultRates::none()).seed(), 9);
    /// ```
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The calls seen and the faults made so far.
    ///
    /// ```
    /// # use readyloop::testing::{FaultRates, Injection};
    /// let inj = Injection::on_every_socket(9, FaultRates::none());
    /// assert_eq!(inj.counts().total(), 0);
    /// ```
    pub fn counts(&self) -> FaultCounts {
        faults::counts(self.id).unwrap_or_default()
    }

    /// Every fault made so far (up to 65,536), with the number of the call it hit (0 is
    /// this injection's first call): for the same seed and the same calls, the same log.
    ///
    /// ```
    /// # use readyloop::testing::{FaultRates, Injection};
    /// assert!(Injection::on_every_socket(9, FaultRates::all(1.0)).log().is_empty());
    /// ```
    pub fn log(&self) -> Vec<(u64, Fault)> {
        faults::log(self.id)
    }
}

impl Drop for Injection {
    fn drop(&mut self) {
        let counts = self.counts();
        faults::disarm(self.id);
        if std::thread::panicking() {
            let on = match self.target {
                Target::Fd(fd) => std::format!("fd {fd}"),
                Target::Every => "every socket".into(),
            };
            std::eprintln!(
                "readyloop::testing: injection on {on} (seed {}) had made {counts:?}",
                self.seed
            );
        }
    }
}
