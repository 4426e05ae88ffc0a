//! Signal delivery by self-pipe: the process-wide handler table and the `sigaction` calls.
//!
//! A process-wide `sigaction` handler writes the signal's number into a non-blocking pipe
//! for every [`SignalPipe`] that asked for it; the loop waits on the pipe's read end like on
//! any other fd. The handler does nothing but atomic operations and `write(2)`, both
//! async-signal-safe. It must never allocate, lock, block, touch a `Waker` or anything else
//! of the loop, or call into a libc function that is not async-signal-safe.
//!
//! This file holds the one piece of process-global state readyloop has, because a signal
//! handler gets no argument to find its receivers with: a fixed table of [`SLOTS`] write
//! ends, and per signal the count of users and the disposition to put back.
//!
//! A handler found installed before readyloop's (another library's) is chained: readyloop's
//! handler calls it after writing to the pipes, with the same arguments. `SIG_DFL` and
//! `SIG_IGN` found there are not acted on while readyloop handles the signal, and are put
//! back when the last receiver goes.
//!
//! `sigaction` comes from `libc`: rustix has no public `sigaction`, and the raw
//! `rt_sigaction` system call needs an architecture-specific return trampoline
//! (`sa_restorer`) that only the C library provides. Everything else goes through rustix.

use crate::error::{Error, ErrorKind};
use core::cell::UnsafeCell;
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering::SeqCst,
};
use rustix::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use rustix::io::Errno;
use rustix::pipe::{pipe_with, PipeFlags};

/// How many [`SignalPipe`]s may exist at once in the process.
pub(crate) const SLOTS: usize = 64;

/// One past the highest signal number the kernel has on Linux (`_NSIG`): signal numbers
/// are `1..NSIG`, one bit each in a `u64` mask.
const NSIG: usize = 65;

/// The mask bit of signal number `signo` (1 to 64), or 0 for any other number.
fn bit_of(signo: i32) -> u64 {
    if (1..NSIG as i32).contains(&signo) {
        1 << (signo - 1)
    } else {
        0
    }
}

/// Why readyloop cannot handle signal number `signo`, or `None` when it can.
///
/// Refused: numbers outside `1..=SIGRTMAX`; `SIGKILL` and `SIGSTOP` (the kernel lets nobody
/// catch them); the real-time signals below `SIGRTMIN` that the C library keeps for itself
/// (thread cancellation and `setxid` in glibc); and the synchronous fault signals
/// (`SIGSEGV`, `SIGBUS`, `SIGFPE`, `SIGILL`), after which a handler that returns runs the
/// faulting instruction again, forever.
pub(crate) fn refusal(signo: i32) -> Option<&'static str> {
    let rtmin = libc::SIGRTMIN();
    let rtmax = libc::SIGRTMAX();
    if signo <= 0 || signo > rtmax {
        Some("not a signal number: signals are 1 to SIGRTMAX (64 on Linux)")
    } else if signo == libc::SIGKILL || signo == libc::SIGSTOP {
        Some("SIGKILL and SIGSTOP cannot be caught, blocked or ignored")
    } else if signo > 31 && signo < rtmin {
        Some("this real-time signal is reserved by the C library (below SIGRTMIN)")
    } else if [libc::SIGSEGV, libc::SIGBUS, libc::SIGFPE, libc::SIGILL].contains(&signo) {
        Some("fault signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL) cannot be awaited: the faulting instruction runs again when the handler returns")
    } else {
        None
    }
}

/// The lowest and highest real-time signal numbers the C library leaves to programs.
pub(crate) fn realtime_range() -> (i32, i32) {
    (libc::SIGRTMIN(), libc::SIGRTMAX())
}

/// One receiver's entry in the handler's table.
struct Slot {
    /// Set while a `SignalPipe` owns this slot; only non-handler code changes it.
    claimed: AtomicBool,
    /// The signals this receiver wants, as mask bits (see [`bit_of`]).
    wanted: AtomicU64,
    /// The pipe's write end, or -1 while the slot is being set up or torn down.
    write_fd: AtomicI32,
    /// Signals written to the pipe and not yet read back: at most one byte per signal is
    /// in the pipe, which is what coalesces repeats and keeps the pipe from ever filling.
    pending: AtomicU64,
    /// How many handler runs are using `write_fd` right now; teardown waits for zero
    /// before it closes the fd, so the handler never writes to a recycled fd number.
    in_handler: AtomicU32,
}

impl Slot {
    const fn new() -> Self {
        Slot {
            claimed: AtomicBool::new(false),
            wanted: AtomicU64::new(0),
            write_fd: AtomicI32::new(-1),
            pending: AtomicU64::new(0),
            in_handler: AtomicU32::new(0),
        }
    }
}

/// The handler's table of receivers.
static TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];

/// Per signal number, the handler found installed before readyloop's, for the handler to
/// chain to: its address (0 when there is nothing to call: `SIG_DFL`, `SIG_IGN`) and
/// whether it takes `SA_SIGINFO`'s three arguments. Written under `INSTALLED`'s lock before
/// readyloop's handler is installed and cleared after it is removed, so the handler reads
/// a value that matches the disposition it replaced.
struct Chained {
    /// The previous handler's address, or 0.
    handler: AtomicUsize,
    /// Whether the previous handler was installed with `SA_SIGINFO`.
    siginfo: AtomicBool,
}

static CHAINED: [Chained; NSIG] = [const {
    Chained {
        handler: AtomicUsize::new(0),
        siginfo: AtomicBool::new(false),
    }
}; NSIG];

/// Per handled signal: how many receivers want it, and the disposition found when the first
/// one installed the handler (put back when the last one goes).
struct Installed {
    /// Held (spinning) around every install and uninstall; never taken by the handler.
    lock: AtomicBool,
    /// Guarded by `lock`.
    state: UnsafeCell<[(u32, Option<libc::sigaction>); NSIG]>,
}

// SAFETY: `state` is only reached through `Installed::with`, which holds `lock`.
unsafe impl Sync for Installed {}

static INSTALLED: Installed = Installed {
    lock: AtomicBool::new(false),
    state: UnsafeCell::new([const { (0, None) }; NSIG]),
};

impl Installed {
    fn with<R>(&self, f: impl FnOnce(&mut [(u32, Option<libc::sigaction>); NSIG]) -> R) -> R {
        while self
            .lock
            .compare_exchange_weak(false, true, SeqCst, SeqCst)
            .is_err()
        {
            core::hint::spin_loop();
        }
        // SAFETY: the lock is held, so this is the only reference to `state`; the handler
        // never reads it.
        let r = f(unsafe { &mut *self.state.get() });
        self.lock.store(false, SeqCst);
        r
    }
}

/// The process-wide handler for every signal a receiver asked for.
extern "C" fn on_signal(
    signo: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: `__errno_location` has no preconditions; it returns this thread's errno slot.
    let errno = unsafe { libc::__errno_location() };
    // SAFETY: that slot is valid for this thread's life; reading and restoring it keeps the
    // interrupted code's errno intact if `write` fails under a libc backend.
    let saved_errno = unsafe { *errno };
    let bit = bit_of(signo);
    let byte = [signo as u8];
    for slot in &TABLE {
        slot.in_handler.fetch_add(1, SeqCst);
        let fd = slot.write_fd.load(SeqCst);
        if fd >= 0
            && slot.wanted.load(SeqCst) & bit != 0
            && slot.pending.fetch_or(bit, SeqCst) & bit == 0
        {
            // SAFETY: `in_handler` is raised and `write_fd` was still set after that, so the
            // owner's teardown (which clears `write_fd`, then waits for `in_handler` to be
            // zero) has not closed the fd yet.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            if rustix::io::write(fd, &byte).is_err() {
                // Nothing was queued, so the next signal must try again.
                slot.pending.fetch_and(!bit, SeqCst);
            }
        }
        slot.in_handler.fetch_sub(1, SeqCst);
    }
    chain(signo, info, context);
    // SAFETY: as above.
    unsafe { *errno = saved_errno };
}

/// Calls the handler that was installed for `signo` before readyloop's, if it was a
/// function, with the arguments this handler got.
fn chain(signo: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let Some(chained) = usize::try_from(signo).ok().and_then(|i| CHAINED.get(i)) else {
        return;
    };
    let handler = chained.handler.load(SeqCst);
    if handler == 0 {
        return;
    }
    if chained.siginfo.load(SeqCst) {
        // SAFETY: `handler` is the `sa_sigaction` of a disposition that had `SA_SIGINFO`,
        // so it is a function of this type; `info` and `context` are what the kernel gave.
        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { core::mem::transmute(handler) };
        f(signo, info, context);
    } else {
        // SAFETY: without `SA_SIGINFO` a disposition that is not SIG_DFL/SIG_IGN (those
        // are stored as 0) is a one-argument handler.
        let f: extern "C" fn(libc::c_int) = unsafe { core::mem::transmute(handler) };
        f(signo);
    }
}

/// Installs `on_signal` for `signo` if no receiver has it yet.
fn install(state: &mut (u32, Option<libc::sigaction>), signo: i32) -> Result<(), Error> {
    if state.0 == 0 {
        // SAFETY: an all-zero `sigaction` is a valid value (SIG_DFL, empty mask, no flags).
        let mut new: libc::sigaction = unsafe { core::mem::zeroed() };
        new.sa_sigaction = on_signal
            as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void)
            as libc::sighandler_t;
        // SA_SIGINFO so a chained SA_SIGINFO handler gets the real `siginfo_t`.
        new.sa_flags = libc::SA_RESTART | libc::SA_SIGINFO;
        // SAFETY: as above.
        let mut old: libc::sigaction = unsafe { core::mem::zeroed() };
        // Read the current disposition first so the handler finds what to chain to from
        // its first run on.
        // SAFETY: a null new action only queries; `old` is valid for writing.
        if unsafe { libc::sigaction(signo, core::ptr::null(), &mut old) } != 0 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "sigaction refused the signal number",
            ));
        }
        let chained = &CHAINED[signo as usize];
        let previous = old.sa_sigaction;
        let callable = previous != libc::SIG_DFL && previous != libc::SIG_IGN;
        chained
            .siginfo
            .store(old.sa_flags & libc::SA_SIGINFO != 0, SeqCst);
        chained
            .handler
            .store(if callable { previous } else { 0 }, SeqCst);
        // SAFETY: both pointers are valid for the call; `on_signal` is async-signal-safe.
        if unsafe { libc::sigaction(signo, &new, &mut old) } != 0 {
            chained.handler.store(0, SeqCst);
            return Err(Error::new(
                ErrorKind::Other,
                "sigaction failed to install readyloop's signal handler",
            ));
        }
        state.1 = Some(old);
    }
    state.0 += 1;
    Ok(())
}

/// Puts back the disposition found at install when the last receiver of `signo` goes.
fn uninstall(state: &mut (u32, Option<libc::sigaction>), signo: i32) {
    state.0 -= 1;
    if state.0 == 0 {
        if let Some(old) = state.1.take() {
            // SAFETY: `old` is what the kernel gave back at install; a null old-action
            // pointer is allowed. This cannot fail for a valid catchable signal number.
            unsafe { libc::sigaction(signo, &old, core::ptr::null_mut()) };
        }
        CHAINED[signo as usize].handler.store(0, SeqCst);
    }
}

/// A receiver: a pipe the handler writes the wanted signals into, and its table slot.
#[derive(Debug)]
pub(crate) struct SignalPipe {
    /// The read end, which the loop waits on.
    read: OwnedFd,
    /// The write end, kept open here while the handler may use its number.
    write: OwnedFd,
    /// The index of this receiver's entry in `TABLE`.
    slot: usize,
    /// The mask bits of the signals this receiver wants.
    mask: u64,
}

impl SignalPipe {
    /// Claims a slot for the signals in `signos` (numbers [`refusal`] accepts; repeats are
    /// fine) and installs the handler for each one not yet handled.
    pub(crate) fn new(signos: impl IntoIterator<Item = i32>) -> Result<Self, Error> {
        let mut mask = 0;
        for signo in signos {
            if let Some(why) = refusal(signo) {
                return Err(Error::new(ErrorKind::InvalidInput, why));
            }
            mask |= bit_of(signo);
        }
        if mask == 0 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "Signals::new needs at least one signal to wait for",
            ));
        }
        let (read, write) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC)?;
        let slot = TABLE
            .iter()
            .position(|s| {
                s.claimed
                    .compare_exchange(false, true, SeqCst, SeqCst)
                    .is_ok()
            })
            .ok_or(Error::new(
                ErrorKind::Other,
                "too many readyloop Signals alive at once (at most 64 in a process)",
            ))?;
        let entry = &TABLE[slot];
        entry.pending.store(0, SeqCst);
        entry.wanted.store(mask, SeqCst);
        entry.write_fd.store(write.as_raw_fd(), SeqCst);
        // `pipe.mask` counts only what was installed, so a failure half-way undoes exactly
        // that much when `pipe` drops.
        let mut pipe = SignalPipe {
            read,
            write,
            slot,
            mask: 0,
        };
        INSTALLED.with(|installed| {
            for signo in 1..NSIG as i32 {
                if mask & bit_of(signo) != 0 {
                    install(&mut installed[signo as usize], signo)?;
                    pipe.mask |= bit_of(signo);
                }
            }
            Ok::<(), Error>(())
        })?;
        Ok(pipe)
    }

    /// The fd to wait on for readability.
    pub(crate) fn read_fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Takes the oldest signal caught for this receiver: its number, or `EAGAIN` if none.
    pub(crate) fn take(&self) -> Result<i32, Errno> {
        let mut byte = [0u8; 1];
        loop {
            match rustix::io::read(&self.read, &mut byte)? {
                0 => return Err(Errno::AGAIN),
                _ => {
                    let signo = i32::from(byte[0]);
                    let bit = bit_of(signo);
                    // Cleared after the read: a repeat arriving from here on writes anew.
                    TABLE[self.slot].pending.fetch_and(!bit, SeqCst);
                    if bit & self.mask != 0 {
                        return Ok(signo);
                    }
                }
            }
        }
    }
}

impl Drop for SignalPipe {
    fn drop(&mut self) {
        let entry = &TABLE[self.slot];
        let _ = entry
            .write_fd
            .compare_exchange(self.write.as_raw_fd(), -1, SeqCst, SeqCst);
        // A handler that saw the fd is finishing one `write` on another thread (or has
        // already returned, if it interrupted this one): the wait is a few instructions.
        while entry.in_handler.load(SeqCst) != 0 {
            core::hint::spin_loop();
        }
        entry.wanted.store(0, SeqCst);
        INSTALLED.with(|installed| {
            for signo in 1..NSIG as i32 {
                if self.mask & bit_of(signo) != 0 {
                    uninstall(&mut installed[signo as usize], signo);
                }
            }
        });
        entry.pending.store(0, SeqCst);
        entry.claimed.store(false, SeqCst);
        // `read` and `write` close after this body, once no handler can reach them.
    }
}

/// The lowest-numbered signal some receiver has pending (written to its pipe, not yet
/// read back), for the trace of an interrupted wait.
pub(crate) fn pending_signal() -> Option<i32> {
    let bits = TABLE
        .iter()
        .filter(|slot| slot.claimed.load(SeqCst))
        .fold(0u64, |acc, slot| acc | slot.pending.load(SeqCst));
    (bits != 0).then(|| bits.trailing_zeros() as i32 + 1)
}

/// Whether `fd` is the read end of a live receiver's pipe (for the stuck-task report): a
/// pipe's two ends share one inode, and `TABLE` holds every live receiver's write end.
pub(crate) fn is_signal_pipe(fd: BorrowedFd<'_>) -> bool {
    let Ok(st) = rustix::fs::fstat(fd) else {
        return false;
    };
    TABLE.iter().any(|slot| {
        let write = slot.write_fd.load(SeqCst);
        if !slot.claimed.load(SeqCst) || write < 0 {
            return false;
        }
        // SAFETY: a claimed slot's write fd is kept open by its `SignalPipe` until the slot
        // is released; a receiver dropped meanwhile on another thread leaves a number that
        // fstat at worst reports as EBADF or as another file (then a wrong "pipe"), and
        // the borrow ends before this call returns.
        let write = unsafe { BorrowedFd::borrow_raw(write) };
        matches!(rustix::fs::fstat(write), Ok(w) if w.st_ino == st.st_ino && w.st_dev == st.st_dev)
    })
}
