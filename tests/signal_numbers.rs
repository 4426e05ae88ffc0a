//! Any catchable signal: SIGCHLD from a real child, SIGWINCH, SIGPIPE, real-time signals;
//! the numbers refused; and a handler another library installed first, chained.
//!
//! Signal dispositions are process-wide, so every test holds `SERIAL`, and each uses its
//! own signals where it can.

use readyloop::signal::{Signal, Signals};
use readyloop::{ErrorKind, Handle, Loop};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends `signal` to this thread: its handler has run when this returns.
fn raise(signal: Signal) {
    // SAFETY: raise has no memory-safety preconditions.
    assert_eq!(unsafe { libc::raise(signal.number()) }, 0);
}

/// The handler address `signo` has now (0 is SIG_DFL, 1 is SIG_IGN).
fn disposition(signo: i32) -> libc::sighandler_t {
    // SAFETY: an all-zero sigaction is valid; a null new action only queries.
    unsafe {
        let mut old: libc::sigaction = core::mem::zeroed();
        assert_eq!(libc::sigaction(signo, core::ptr::null(), &mut old), 0);
        old.sa_sigaction
    }
}

/// Installs `handler` for `signo` as another library would (no readyloop involved).
fn install_foreign(signo: i32, handler: libc::sighandler_t, flags: i32) {
    // SAFETY: an all-zero sigaction is valid; the handlers given are async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = core::mem::zeroed();
        action.sa_sigaction = handler;
        action.sa_flags = flags;
        assert_eq!(libc::sigaction(signo, &action, core::ptr::null_mut()), 0);
    }
}

/// The next signal, or `None` within `limit`.
fn recv_within(lp: &Loop, h: &Handle, signals: &mut Signals, limit: Duration) -> Option<Signal> {
    lp.block_on(h.timeout(limit, signals.recv()))
        .ok()
        .map(|r| r.expect("recv failed"))
}

const LONG: Duration = Duration::from_secs(5);
const SHORT: Duration = Duration::from_millis(100);

#[test]
fn kill_stop_and_out_of_range_numbers_are_refused_clearly() {
    for (signo, says) in [
        (libc::SIGKILL, "SIGKILL and SIGSTOP"),
        (libc::SIGSTOP, "SIGKILL and SIGSTOP"),
        (0, "not a signal number"),
        (-1, "not a signal number"),
        (libc::SIGRTMAX() + 1, "not a signal number"),
        (1000, "not a signal number"),
        (32, "reserved by the C library"),
        (libc::SIGSEGV, "fault signals"),
        (libc::SIGFPE, "fault signals"),
    ] {
        let err = Signal::new(signo).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{signo}");
        assert!(err.message().contains(says), "{signo}: {err}");
        assert_eq!(Signal::from_number(signo), None);
        assert!(Signal::try_from(signo).is_err());
    }
    assert!(Signal::realtime(31).is_err());
    let max = Signal::new(libc::SIGRTMAX()).unwrap();
    assert_eq!(max.name(), "SIGRTMIN+30");
    assert_eq!(Signal::new(libc::SIGCHLD).unwrap(), Signal::Chld);
    assert_eq!(Signal::Winch.to_string(), "SIGWINCH");
}

#[test]
fn sigchld_from_a_real_child_leaves_its_status_to_its_owner() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut signals = Signals::new(&h, &[Signal::Chld]).unwrap();
    let mut child = std::process::Command::new("sh")
        .args(["-c", "exit 7"])
        .spawn()
        .unwrap();
    assert_eq!(recv_within(&lp, &h, &mut signals, LONG), Some(Signal::Chld));
    // The handler did not reap it: the owner still gets the exit status.
    assert_eq!(child.wait().unwrap().code(), Some(7));
}

#[test]
fn sigwinch_and_sigpipe_arrive_in_order_and_sigpipe_ignore_comes_back() {
    let _serial = serial();
    // Rust programs start with SIGPIPE ignored; readyloop puts that back when done.
    let before = disposition(libc::SIGPIPE);
    assert_eq!(before, libc::SIG_IGN);
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut signals = Signals::new(&h, &[Signal::Winch, Signal::Pipe]).unwrap();
    raise(Signal::Winch);
    // A write to a pipe nobody reads: the kernel sends SIGPIPE to this thread.
    let (read, write) = rustix::pipe::pipe().unwrap();
    drop(read);
    assert_eq!(
        rustix::io::write(&write, b"x").unwrap_err(),
        rustix::io::Errno::PIPE
    );
    assert_eq!(
        recv_within(&lp, &h, &mut signals, LONG),
        Some(Signal::Winch)
    );
    assert_eq!(recv_within(&lp, &h, &mut signals, LONG), Some(Signal::Pipe));
    assert_eq!(recv_within(&lp, &h, &mut signals, SHORT), None);
    drop(signals);
    assert_eq!(disposition(libc::SIGPIPE), libc::SIG_IGN);
}

#[test]
fn realtime_signals_are_received_and_repeats_merge() {
    let _serial = serial();
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let low = Signal::realtime(0).unwrap();
    let high = Signal::realtime(20).unwrap();
    assert_eq!(low.number(), libc::SIGRTMIN());
    assert_eq!(high.name(), "SIGRTMIN+20");
    let mut signals = Signals::new(&h, &[low, high]).unwrap();
    raise(high);
    raise(low);
    raise(high);
    assert_eq!(recv_within(&lp, &h, &mut signals, LONG), Some(high));
    assert_eq!(recv_within(&lp, &h, &mut signals, LONG), Some(low));
    assert_eq!(recv_within(&lp, &h, &mut signals, SHORT), None);
}

static PLAIN_CALLS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn plain_handler(_signo: libc::c_int) {
    PLAIN_CALLS.fetch_add(1, SeqCst);
}

static SIGINFO_VALUE: AtomicI32 = AtomicI32::new(0);

extern "C" fn siginfo_handler(
    signo: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler; the value is
    // the one sigqueue sent.
    let value = unsafe { (*info).si_value().sival_ptr } as usize as i32;
    SIGINFO_VALUE.store(signo * 1000 + value, SeqCst);
}

#[test]
fn a_handler_installed_before_is_chained_and_restored() {
    let _serial = serial();
    let usr2 = Signal::Usr2;
    install_foreign(
        usr2.number(),
        plain_handler as extern "C" fn(libc::c_int) as libc::sighandler_t,
        0,
    );
    let rt = Signal::realtime(3).unwrap();
    install_foreign(
        rt.number(),
        siginfo_handler as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void)
            as libc::sighandler_t,
        libc::SA_SIGINFO,
    );
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut signals = Signals::new(&h, &[usr2, rt]).unwrap();
    raise(usr2);
    assert_eq!(PLAIN_CALLS.load(SeqCst), 1, "the earlier handler ran too");
    assert_eq!(recv_within(&lp, &h, &mut signals, LONG), Some(usr2));
    // sigqueue carries a value in siginfo_t: the chained handler gets the real one.
    let value = libc::sigval {
        sival_ptr: 42 as *mut libc::c_void,
    };
    // SAFETY: sigqueue to this process has no memory-safety preconditions.
    assert_eq!(
        unsafe { libc::sigqueue(libc::getpid(), rt.number(), value) },
        0
    );
    assert_eq!(recv_within(&lp, &h, &mut signals, LONG), Some(rt));
    // Sent to the process, the signal may be handled on another thread, which chains
    // after writing to the pipe: give it a moment.
    let expected = rt.number() * 1000 + 42;
    let start = std::time::Instant::now();
    while SIGINFO_VALUE.load(SeqCst) != expected && start.elapsed() < LONG {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(SIGINFO_VALUE.load(SeqCst), expected);
    drop(signals);
    // The earlier handlers are back, alone.
    assert_eq!(
        disposition(usr2.number()),
        plain_handler as extern "C" fn(libc::c_int) as libc::sighandler_t
    );
    raise(usr2);
    assert_eq!(PLAIN_CALLS.load(SeqCst), 2);
    install_foreign(usr2.number(), libc::SIG_DFL, 0);
    install_foreign(rt.number(), libc::SIG_DFL, 0);
}
