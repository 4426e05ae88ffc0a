//! One loop per core (`std`): N threads, each running its own [`Loop`], each typically with
//! its own `SO_REUSEPORT` listener on one shared port, so the kernel spreads connections
//! over the loops and each connection lives its whole life on one thread.
//!
//! readyloop's loop is single-threaded by design (a [`Handle`] is `!Send`, tasks are not
//! moved), so using more cores means more loops, not a shared one. This module starts them,
//! optionally pins each to one CPU, and stops them all with each loop's [`Stopper`]. It
//! never moves a task, socket or `Handle` between threads: each loop's setup runs on that
//! loop's own thread, and only `Stopper`s cross.
//!
//! ```
//! use readyloop::net::{BindOptions, TcpListener, TcpStream};
//! use std::sync::{Arc, Mutex};
//!
//! let reuse = BindOptions::new().reuse_port(true);
//! // Pick a free port first; each loop then binds its own listener to it.
//! let port = {
//!     let lp = readyloop::Loop::new().unwrap();
//!     let probe = TcpListener::bind_with(&lp.handle(), "127.0.0.1:0", &reuse).unwrap();
//!     probe.local_addr().unwrap().port()
//! };
//! let served = Arc::new(Mutex::new(0));
//! let counter = served.clone();
//! let loops = readyloop::multi::serve_per_core(2, false, move |h, _index| {
//!     let listener = TcpListener::bind_with(h, ("127.0.0.1", port), &reuse)?;
//!     let counter = counter.clone();
//!     h.spawn(async move {
//!         while let Ok((conn, _peer)) = listener.accept().await {
//!             *counter.lock().unwrap() += 1;
//!             drop(conn);
//!         }
//!     });
//!     Ok(())
//! })
//! .unwrap();
//! for _ in 0..4 {
//!     let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
//!     let _ = std::io::Read::read(&mut c, &mut [0u8; 1]); // the server closes it
//! }
//! loops.stop();
//! loops.join().unwrap();
//! assert_eq!(*served.lock().unwrap(), 4);
//! ```

use crate::error::{Error, ErrorKind};
use crate::executor::{Handle, Loop, Stopper};
use alloc::sync::Arc;
use alloc::vec::Vec;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// The number of CPUs this thread may run on (its affinity mask, so `taskset` and cpusets
/// count), at least 1: the usual number of loops to start.
///
/// ```
/// assert!(readyloop::multi::cpu_count() >= 1);
/// ```
pub fn cpu_count() -> usize {
    match crate::sys::thread::allowed_cpus() {
        Ok(cpus) if !cpus.is_empty() => cpus.len(),
        _ => 1,
    }
}

/// Starts `loops` threads, each with a new [`Loop`], runs `setup(&handle, index)` on each
/// (index `0..loops`) before its loop runs, then runs every loop until
/// [`Loops::stop`]. `setup` binds the loop's listener (with
/// [`BindOptions::reuse_port`](crate::net::BindOptions::reuse_port), so all share one port)
/// and spawns its tasks; it returns at once (the tasks run when the loop does). The setups
/// run one after another in index order (loop `i + 1`'s starts after loop `i`'s returned),
/// so loop 0 may bind port 0 and the others the port it got.
///
/// With `pin`, loop `i` is pinned to the `i`-th CPU this thread may run on (modulo their
/// number), so loops do not migrate between cores and a connection's data stays in one
/// core's cache; without it the scheduler places the threads.
///
/// If any thread fails to start (a setup error such as `AddrInUse`, a pin the kernel
/// refuses, a setup that panics), the loops already started are stopped and joined and
/// the first error is returned; nothing is left running.
///
/// ```
/// let loops = readyloop::multi::serve_per_core(2, true, |h, index| {
///     h.spawn(async move { let _ = index; });
///     Ok(())
/// })
/// .unwrap();
/// assert_eq!(loops.len(), 2);
/// loops.stop();
/// loops.join().unwrap();
///
/// let failed = readyloop::multi::serve_per_core(2, false, |_h, index| {
///     if index == 1 {
///         return Err(readyloop::Error::new(readyloop::ErrorKind::Other, "no"));
///     }
///     Ok(())
/// });
/// assert!(failed.is_err());
/// ```
pub fn serve_per_core<F>(loops: usize, pin: bool, setup: F) -> Result<Loops, Error>
where
    F: Fn(&Handle, usize) -> Result<(), Error> + Send + Sync + 'static,
{
    if loops == 0 {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "serve_per_core: the number of loops must be at least 1",
        ));
    }
    let cpus = if pin {
        crate::sys::thread::allowed_cpus()?
    } else {
        Vec::new()
    };
    let setup = Arc::new(setup);
    let mut started = Loops {
        stoppers: Vec::with_capacity(loops),
        threads: Vec::with_capacity(loops),
    };
    for index in 0..loops {
        let cpu = if cpus.is_empty() {
            None
        } else {
            Some(cpus[index % cpus.len()])
        };
        let setup = setup.clone();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name(alloc::format!("readyloop-{index}"))
            .spawn(move || run_one(index, cpu, &*setup, ready_tx));
        let thread = match spawned {
            Ok(thread) => thread,
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::OutOfMemory,
                    "serve_per_core: the system refused a new thread",
                ))
            }
        };
        started.threads.push(thread);
        // A thread that panicked in setup drops the sender without a word: that is an
        // error too, not a wait for ever. `started` drops on return, stopping the others.
        match ready_rx.recv() {
            Ok(Ok(stopper)) => started.stoppers.push(stopper),
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::Other,
                    "serve_per_core: a loop's setup panicked",
                ))
            }
        }
    }
    Ok(started)
}

/// One loop's thread: pin, make the loop, set it up, say so, run until stopped. The loop
/// (and every task still in it, with the sockets they own) drops when it returns.
fn run_one(
    index: usize,
    cpu: Option<usize>,
    setup: &dyn Fn(&Handle, usize) -> Result<(), Error>,
    ready: mpsc::SyncSender<Result<Stopper, Error>>,
) {
    if let Some(cpu) = cpu {
        if let Err(e) = crate::sys::thread::pin_to_cpu(cpu) {
            let _ = ready.send(Err(Error::from_errno(e)));
            return;
        }
    }
    let lp = match Loop::new() {
        Ok(lp) => lp,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let handle = lp.handle();
    if let Err(e) = setup(&handle, index) {
        let _ = ready.send(Err(e));
        return;
    }
    // A stop that arrives before run_forever starts is kept: it runs one turn and returns.
    if ready.send(Ok(handle.stopper())).is_err() {
        return;
    }
    lp.run_forever();
}

/// The loops [`serve_per_core`] started: stop them, then join their threads. Dropping it
/// stops and joins too, so no loop outlives it.
///
/// ```
/// let loops = readyloop::multi::serve_per_core(2, false, |_, _| Ok(())).unwrap();
/// drop(loops); // stops both loops and waits for their threads
/// ```
#[derive(Debug)]
pub struct Loops {
    /// One per running loop, in index order.
    stoppers: Vec<Stopper>,
    /// One per thread started, in index order (may be one more than `stoppers` while a
    /// start is failing).
    threads: Vec<JoinHandle<()>>,
}

impl Loops {
    /// How many loops run.
    ///
    /// ```
    /// let loops = readyloop::multi::serve_per_core(1, false, |_, _| Ok(())).unwrap();
    /// assert_eq!(loops.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.stoppers.len()
    }

    /// Always false: [`serve_per_core`] starts at least one loop.
    ///
    /// ```
    /// let loops = readyloop::multi::serve_per_core(1, false, |_, _| Ok(())).unwrap();
    /// assert!(!loops.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.stoppers.is_empty()
    }

    /// Asks every loop to stop: each ends its `run_forever` at the end of its current turn
    /// (waking it if it waits) and drops its tasks, which closes the sockets they own.
    /// Returns at once; [`join`](Self::join) waits for the threads. Calling it again does
    /// nothing more.
    ///
    /// ```
    /// let loops = readyloop::multi::serve_per_core(2, false, |_, _| Ok(())).unwrap();
    /// loops.stop();
    /// loops.join().unwrap();
    /// ```
    pub fn stop(&self) {
        for stopper in &self.stoppers {
            stopper.stop();
        }
    }

    /// A `Send + Sync + Clone` handle that stops every loop: for a task on one of the loops
    /// (say, one awaiting `SIGTERM`) or another thread.
    ///
    /// ```
    /// let loops = readyloop::multi::serve_per_core(2, false, |_, _| Ok(())).unwrap();
    /// let stop_all = loops.stopper();
    /// std::thread::spawn(move || stop_all.stop()).join().unwrap();
    /// loops.join().unwrap();
    /// ```
    pub fn stopper(&self) -> StopAll {
        StopAll {
            stoppers: self.stoppers.clone(),
        }
    }

    /// Waits for every loop's thread to end (after [`stop`](Self::stop), or after each
    /// loop stopped itself with `Handle::stop`). An error if a loop's thread panicked (a
    /// task's own panic is caught by its loop and does not count).
    ///
    /// ```
    /// let loops = readyloop::multi::serve_per_core(1, false, |h, _| {
    ///     h.stop(); // this loop stops on its own after one turn
    ///     Ok(())
    /// })
    /// .unwrap();
    /// loops.join().unwrap();
    /// ```
    pub fn join(mut self) -> Result<(), Error> {
        self.join_all()
    }

    /// Joins every thread, keeping the first failure.
    fn join_all(&mut self) -> Result<(), Error> {
        let mut outcome = Ok(());
        for thread in self.threads.drain(..) {
            if thread.join().is_err() && outcome.is_ok() {
                outcome = Err(Error::new(
                    ErrorKind::Other,
                    "a loop thread of serve_per_core panicked",
                ));
            }
        }
        // The stoppers keep each loop's shared part (and its notifier) alive: release them.
        self.stoppers.clear();
        outcome
    }
}

impl Drop for Loops {
    fn drop(&mut self) {
        if self.threads.is_empty() {
            return;
        }
        self.stop();
        let _ = self.join_all();
    }
}

/// Stops every loop of a [`Loops`]; `Send + Sync + Clone`, made by [`Loops::stopper`].
///
/// ```
/// fn assert_send<T: Send + Sync + Clone>(_: &T) {}
/// let loops = readyloop::multi::serve_per_core(1, false, |_, _| Ok(())).unwrap();
/// let stop_all = loops.stopper();
/// assert_send(&stop_all);
/// stop_all.stop();
/// loops.join().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct StopAll {
    /// One per loop.
    stoppers: Vec<Stopper>,
}

impl StopAll {
    /// Asks every loop to stop (see [`Loops::stop`]).
    ///
    /// ```
    /// let loops = readyloop::multi::serve_per_core(1, false, |_, _| Ok(())).unwrap();
    /// loops.stopper().stop();
    /// loops.join().unwrap();
    /// ```
    pub fn stop(&self) {
        for stopper in &self.stoppers {
            stopper.stop();
        }
    }
}
