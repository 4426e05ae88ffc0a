//! Faults and bad input: closed fds (POLLNVAL), POLLERR, POLLHUP, EINTR, blocking or
//! non-socket fds, leaves polled outside their loop. Each gives the waiting task a clear
//! error or a correct wakeup, never a hang, a spin, or a panic inside the loop.

use readyloop::{AsyncRecv, ErrorKind, Interest, Loop, ReadFd, Registration};
use std::future::{poll_fn, Future};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

/// Duplicates `fd` to a high number so closing it cannot race with fds other tests open.
fn high_dup(fd: BorrowedFd<'_>, min: i32) -> OwnedFd {
    rustix::io::fcntl_dupfd_cloexec(fd, min).unwrap()
}

#[test]
fn an_fd_closed_under_a_waiting_reader_gives_closed_not_a_spin() {
    // The trap several loops fell into for years: poll answers POLLNVAL for a closed fd
    // forever; a loop that ignores it spins at 100 % CPU.
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, _w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK).unwrap();
    let victim = high_dup(r.as_fd(), 700);
    let raw = victim.as_raw_fd();
    let h2 = h.clone();
    let reader = h.spawn(async move {
        let mut buf = [0u8; 8];
        // SAFETY: the fd stays open until the closer task closes it behind our back on
        // purpose; the read then fails with EBADF, which is what this test checks.
        let fd = unsafe { BorrowedFd::borrow_raw(raw) };
        ReadFd::new(&h2, fd, &mut buf).await
    });
    let h3 = h.clone();
    let closer = h.spawn(async move {
        h3.sleep(Duration::from_millis(10)).await;
        drop(victim); // close(2) while the reader is registered
    });
    let start = Instant::now();
    let result = lp.block_on(reader).unwrap();
    lp.block_on(closer).unwrap();
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert!(start.elapsed() < Duration::from_millis(500));
    let s = h.stats();
    assert!(s.polls < 10, "the loop must not spin on POLLNVAL: {s:?}");
    assert_eq!(h.fd_waiters(), 0);
    assert_eq!(
        s.fds_registered, 1,
        "only the loop's own notifier stays registered"
    );
}

#[test]
fn a_hangup_wakes_the_reader_with_end_of_file() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK).unwrap();
    let h2 = h.clone();
    h.spawn(async move {
        h2.sleep(Duration::from_millis(5)).await;
        drop(w); // POLLHUP on the read end
    });
    let mut buf = [0u8; 8];
    let n = lp.block_on(ReadFd::new(&h, r.as_fd(), &mut buf)).unwrap();
    assert_eq!(n, 0);
    let mut buf = [0u8; 8];
    let e = lp
        .block_on(ReadFd::exact(&h, r.as_fd(), &mut buf))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
}

#[test]
fn an_error_on_a_waiting_writer_gives_broken_pipe() {
    // Fill a pipe, wait to write, then close the read end: POLLERR wakes the writer and the
    // write reports EPIPE.
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK).unwrap();
    let chunk = [0u8; 65536];
    while rustix::io::write(&w, &chunk).is_ok() {}
    let h2 = h.clone();
    h.spawn(async move {
        h2.sleep(Duration::from_millis(5)).await;
        drop(r);
    });
    // SAFETY: `w` is open and outlives the registration (declared later, dropped first).
    let reg = unsafe { Registration::new(&h, w.as_raw_fd()) };
    let start = Instant::now();
    let result = lp.block_on(poll_fn(|cx| {
        reg.poll_io(cx, Interest::Writable, || rustix::io::write(&w, b"x"))
    }));
    assert_eq!(result.unwrap_err().kind(), ErrorKind::BrokenPipe);
    assert!(start.elapsed() < Duration::from_millis(500));
}

#[test]
fn asyncrecv_refuses_blocking_sockets_and_non_sockets() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut buf = [0u8; 4];
    let e = lp
        .block_on(AsyncRecv::new(&h, a.as_fd(), &mut buf))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Blocking);
    assert!(e.to_string().contains("non-blocking"), "{e}");
    let (r, _w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK).unwrap();
    let e = lp
        .block_on(AsyncRecv::new(&h, r.as_fd(), &mut buf))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotASocket);
}

#[test]
fn an_interrupted_poll_neither_ends_a_sleep_early_nor_spins() {
    extern "C" fn nothing(_: libc::c_int) {}
    // SAFETY: installs a handler that does nothing, for SIGUSR2, which no other test in this
    // binary uses; without SA_RESTART the loop's ppoll returns EINTR.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = nothing as *const () as usize;
        libc::sigaction(libc::SIGUSR2, &sa, std::ptr::null_mut());
    }
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() } as usize;
    let kicker = std::thread::spawn(move || {
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(5));
            // SAFETY: the target thread is alive until it joins this thread below.
            unsafe { libc::pthread_kill(me as libc::pthread_t, libc::SIGUSR2) };
        }
    });
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let start = Instant::now();
    lp.block_on(h.sleep(Duration::from_millis(150)));
    let took = start.elapsed();
    kicker.join().unwrap();
    assert!(took >= Duration::from_millis(150), "ended early: {took:?}");
    assert!(took < Duration::from_millis(600), "{took:?}");
    let s = h.stats();
    assert!(s.polls <= 30, "one poll per interruption at most: {s:?}");
}

#[test]
fn a_leaf_polled_outside_its_loop_says_so() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 4];
    let mut recv = std::pin::pin!(AsyncRecv::new(&h, a.as_fd(), &mut buf));
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    // Polled by some other executor while the readyloop loop is not running.
    match recv.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(Err(e)) => {
            assert_eq!(e.kind(), ErrorKind::NoLoop);
            assert!(e.to_string().contains("Loop::block_on"), "{e}");
        }
        other => panic!("expected a NoLoop error, got {other:?}"),
    }
    let sleep = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut s = std::pin::pin!(h.sleep(Duration::from_millis(1)));
        let _ = s.as_mut().poll(&mut cx);
    }));
    let msg = sleep.unwrap_err();
    let msg = msg.downcast_ref::<String>().unwrap();
    assert!(msg.contains("Loop::block_on"), "{msg}");
}

#[test]
fn reading_a_closed_fd_number_is_an_error_not_a_hang() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, _w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK).unwrap();
    let fd = high_dup(r.as_fd(), 800);
    let raw = fd.as_raw_fd();
    drop(fd);
    let mut buf = [0u8; 4];
    // SAFETY: deliberately a closed fd number; the kernel answers EBADF.
    let closed = unsafe { BorrowedFd::borrow_raw(raw) };
    let e = lp.block_on(ReadFd::new(&h, closed, &mut buf)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Closed);
}
