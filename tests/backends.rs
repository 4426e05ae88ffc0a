//! The three backends behave the same: each test runs on poll, select and epoll.
//!
//! The tests in this file take one lock so they run one at a time: the closed-fd test closes
//! an fd under a waiter, and a test opening files meanwhile could reuse that fd number.

use core::future::poll_fn;
use core::task::Poll;
use readyloop::{BackendKind, ErrorKind, Interest, Loop, ReadFd, Registration};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every backend; under Miri only epoll (Miri has no poll(2) or select(2)).
fn each_backend(mut f: impl FnMut(BackendKind)) {
    let _one = serial();
    for kind in BackendKind::ALL {
        if cfg!(miri) && kind != BackendKind::Epoll {
            continue;
        }
        f(kind);
    }
}

fn lp(kind: BackendKind) -> Loop {
    let lp = Loop::builder().backend(kind).build().unwrap();
    assert_eq!(lp.handle().backend(), kind);
    lp
}

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK | rustix::pipe::PipeFlags::CLOEXEC)
        .unwrap()
}

/// A connected pair: one end a readyloop socket on the loop behind `h`, the other plain.
fn registered_pair(h: &readyloop::Handle) -> (readyloop::net::UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (
        readyloop::net::UnixStream::from_fd(h, OwnedFd::from(a)).unwrap(),
        b,
    )
}

#[test]
fn default_backend_follows_build_env() {
    let expected = option_env!("READYLOOP_BACKEND").unwrap_or("adaptive");
    let expected = if expected.is_empty() {
        "adaptive"
    } else {
        expected
    };
    assert_eq!(BackendKind::default_kind().name(), expected);
    assert_eq!(Loop::new().unwrap().handle().backend().name(), expected);
}

#[test]
fn sleeps_and_pipes() {
    each_backend(|kind| {
        let lp = lp(kind);
        let h = lp.handle();
        let (r, w) = pipe();
        let writer = h.spawn({
            let h = h.clone();
            async move {
                h.sleep(Duration::from_millis(20)).await;
                rustix::io::write(&w, b"abc").unwrap();
            }
        });
        let start = Instant::now();
        let mut buf = [0u8; 8];
        let n = lp.block_on(ReadFd::new(&h, r.as_fd(), &mut buf)).unwrap();
        assert_eq!(&buf[..n], b"abc", "{kind}");
        assert!(start.elapsed() >= Duration::from_millis(20), "{kind}");
        lp.block_on(writer).unwrap();
        assert_eq!(
            h.stats().fds_registered,
            1,
            "{kind}: only the notifier stays"
        );
    });
}

#[test]
fn hangup_wakes_reader_with_eof() {
    each_backend(|kind| {
        let lp = lp(kind);
        let h = lp.handle();
        let (r, w) = pipe();
        h.call_soon(move || drop(w));
        let mut buf = [0u8; 8];
        let n = lp.block_on(ReadFd::new(&h, r.as_fd(), &mut buf)).unwrap();
        assert_eq!(n, 0, "{kind}: EOF");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket non-blocking (ioctl)")]
fn reader_and_writer_on_one_socket() {
    each_backend(|kind| {
        let lp = lp(kind);
        let h = lp.handle();
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        // SAFETY: the fd is open and outlives the registration (dropped first).
        let reg = std::rc::Rc::new(unsafe { Registration::new(&h, a.as_raw_fd()) });
        // Fill a's send buffer so a writer must wait, while a reader waits too.
        let chunk = [7u8; 4096];
        let mut queued = 0usize;
        while let Ok(n) = (&a).write(&chunk) {
            queued += n;
        }
        let reader = h.spawn({
            let reg = reg.clone();
            let a = a.try_clone().unwrap();
            async move {
                let mut buf = [0u8; 16];
                poll_fn(|cx| reg.poll_io(cx, Interest::Readable, || rustix::io::read(&a, &mut buf)))
                    .await
            }
        });
        let writer = h.spawn({
            let reg = reg.clone();
            let a = a.try_clone().unwrap();
            async move {
                poll_fn(|cx| reg.poll_io(cx, Interest::Writable, || rustix::io::write(&a, b"x")))
                    .await
            }
        });
        let drainer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let mut b = b;
            b.set_nonblocking(false).unwrap();
            let mut got = vec![0u8; queued];
            b.read_exact(&mut got).unwrap();
            b.write_all(b"hi").unwrap();
            b
        });
        let wrote = lp.block_on(writer).unwrap().unwrap();
        let read = lp.block_on(reader).unwrap().unwrap();
        assert_eq!((wrote, read), (1, 2), "{kind}");
        drop(drainer.join().unwrap());
    });
}

/// A task waiting on a socket (an fd its owner keeps registered) costs the loop one wait
/// however long it waits: no backend wakes up on its own meanwhile (epoll's checks for fds
/// closed under their waiters are only needed for borrowed fds).
#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket non-blocking (ioctl)")]
fn a_long_wait_on_a_socket_is_one_wait() {
    each_backend(|kind| {
        let lp = lp(kind);
        let h = lp.handle();
        let (a, b) = registered_pair(&h);
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1100));
            (&b).write_all(b"late").unwrap();
            b
        });
        let before = h.stats().polls;
        let mut buf = [0u8; 8];
        let n = lp.block_on(a.recv(&mut buf)).unwrap();
        let polls = h.stats().polls - before;
        assert_eq!(&buf[..n], b"late", "{kind}");
        assert!(polls <= 2, "{kind}: {polls} waits for one 1.1 s wait");
        drop(writer.join().unwrap());
    });
}

/// A socket whose task stops reading leaves the set by itself: a reader interest kept
/// between waits (poll and select keep it until the fd is next reported, epoll for a few
/// turns) ends at the first report that finds nobody waiting, without spinning or losing
/// the data.
#[test]
#[cfg_attr(miri, ignore = "Miri cannot set a socket non-blocking (ioctl)")]
fn a_socket_nobody_reads_leaves_the_set_without_spinning() {
    each_backend(|kind| {
        let lp = lp(kind);
        let h = lp.handle();
        let (a, b) = registered_pair(&h);
        let mut buf = [0u8; 8];
        let writer = b.try_clone().unwrap();
        h.call_soon(move || (&writer).write_all(b"x").unwrap());
        let n = lp.block_on(a.recv(&mut buf)).unwrap();
        assert_eq!(&buf[..n], b"x", "{kind}");
        // Nobody reads now, and the peer sends more.
        (&b).write_all(b"more").unwrap();
        let before = h.stats().polls;
        lp.block_on(h.sleep(Duration::from_millis(100)));
        let polls = h.stats().polls - before;
        assert!(polls <= 24, "{kind}: {polls} waits while nobody read");
        let s = h.stats();
        assert_eq!(s.fds_registered, 1, "{kind}: only the notifier stays");
        assert_eq!(s.fd_waiters, 0, "{kind}");
        let n = lp.block_on(a.recv(&mut buf)).unwrap();
        assert_eq!(&buf[..n], b"more", "{kind}");
    });
}

#[test]
fn cross_thread_wake_interrupts_wait() {
    each_backend(|kind| {
        let lp = lp(kind);
        let (tx, rx) = std::sync::mpsc::channel::<core::task::Waker>();
        let t = std::thread::spawn(move || {
            let w = rx.recv().unwrap();
            std::thread::sleep(Duration::from_millis(30));
            w.wake();
        });
        let mut sent = Some(tx);
        // Only the notifier can end the wait before the 10 s deadline.
        lp.block_on_timeout(
            Duration::from_secs(10),
            poll_fn(|cx| match sent.take() {
                Some(tx) => {
                    tx.send(cx.waker().clone()).unwrap();
                    Poll::Pending
                }
                None => Poll::Ready(()),
            }),
        )
        .unwrap_or_else(|stuck| panic!("{kind}: {stuck}"));
        t.join().unwrap();
        assert!(lp.handle().stats().wakeups_remote <= 1, "{kind}");
    });
}

/// An fd closed while a task waits on it: the waiter gets `ErrorKind::Closed` (poll reports
/// POLLNVAL at once, select finds it after EBADF, epoll within its one-second re-check), the
/// loop drops the registration, and nothing spins.
#[test]
fn closed_fd_gives_waiter_an_error() {
    each_backend(|kind| {
        let lp = lp(kind);
        let h = lp.handle();
        let (r, _w) = pipe();
        let raw = r.as_raw_fd();
        // SAFETY: this test breaks the contract on purpose (the task closes the fd under the
        // registration) to check the loop's defence; the number is only waited on and read,
        // and a reuse by a parallel test would at worst fail this test's assertions.
        let reg = unsafe { Registration::new(&h, raw) };
        h.spawn({
            let h = h.clone();
            async move {
                h.sleep(Duration::from_millis(20)).await;
                drop(r);
            }
        });
        let start = Instant::now();
        let result = lp
            .block_on_timeout(
                Duration::from_secs(10),
                poll_fn(|cx| {
                    let mut buf = [0u8; 4];
                    reg.poll_io(cx, Interest::Readable, || {
                        // SAFETY: only read; EBADF once the fd is closed.
                        rustix::io::read(unsafe { BorrowedFd::borrow_raw(raw) }, &mut buf)
                    })
                }),
            )
            .unwrap_or_else(|stuck| panic!("{kind}: {stuck}"));
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed, "{kind}: {err}");
        let took = start.elapsed();
        assert!(took < Duration::from_secs(3), "{kind}: {took:?}");
        let s = h.stats();
        assert_eq!(s.fds_registered, 1, "{kind}: the closed fd left the set");
        assert_eq!(s.fd_waiters, 0, "{kind}");
        assert!(s.polls < 50, "{kind}: no spinning, {} waits", s.polls);
    });
}

/// Registering an fd that is already closed is an error (at once, or at the next wait).
#[test]
fn waiting_on_a_closed_fd_is_an_error() {
    each_backend(|kind| {
        let lp = lp(kind);
        let h = lp.handle();
        let (r, w) = pipe();
        let raw = r.as_raw_fd();
        drop(r);
        // SAFETY: this test breaks the contract on purpose (the fd is closed already) to
        // check that the loop reports it; the number is only waited on, never read.
        let reg = unsafe { Registration::new(&h, raw) };
        let out = lp
            .block_on_timeout(
                Duration::from_secs(10),
                poll_fn(|cx| reg.poll_ready(cx, Interest::Readable)),
            )
            .unwrap_or_else(|stuck| panic!("{kind}: {stuck}"));
        // poll and select report NVAL and the readiness wait completes; the next syscall on
        // the fd gives the error. epoll refuses the registration with EBADF.
        match out {
            Ok(()) => {
                let mut buf = [0u8; 1];
                // SAFETY: only read; the fd number is closed (EBADF).
                let e = rustix::io::read(unsafe { BorrowedFd::borrow_raw(raw) }, &mut buf);
                assert_eq!(e, Err(rustix::io::Errno::BADF), "{kind}");
            }
            Err(e) => assert_eq!(e.kind(), ErrorKind::Closed, "{kind}: {e}"),
        }
        assert_eq!(h.stats().fds_registered, 1, "{kind}");
        drop(w);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no select(2) or poll(2)")]
fn select_refuses_fd_at_or_above_fd_setsize() {
    let _one = serial();
    raise_nofile(2048);
    let (r, w) = pipe();
    let high: OwnedFd = rustix::io::fcntl_dupfd_cloexec(&r, 1500).unwrap();
    assert!(high.as_raw_fd() >= 1024);
    let lp = lp(BackendKind::Select);
    let h = lp.handle();
    let mut buf = [0u8; 4];
    let err = lp
        .block_on(ReadFd::new(&h, high.as_fd(), &mut buf))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FdTooLarge);
    assert!(err.to_string().contains("1024 (FD_SETSIZE)"), "{err}");
    assert_eq!(h.stats().fds_registered, 1);
    // The same fd works with poll and epoll.
    for kind in [BackendKind::Poll, BackendKind::Epoll] {
        let lp = self::lp(kind);
        let h = lp.handle();
        rustix::io::write(&w, b"ok").unwrap();
        let mut buf = [0u8; 4];
        let n = lp
            .block_on(ReadFd::new(&h, high.as_fd(), &mut buf))
            .unwrap();
        assert_eq!(&buf[..n], b"ok", "{kind}");
    }
    // And a low fd still works with select.
    rustix::io::write(&w, b"lo").unwrap();
    let n = lp.block_on(ReadFd::new(&h, r.as_fd(), &mut buf)).unwrap();
    assert_eq!(&buf[..n], b"lo");
}

/// A regular file is always ready to poll(2) and select(2); epoll refuses it (EPERM), so
/// the epoll backend reports it ready itself.
#[test]
#[cfg_attr(miri, ignore = "Miri's epoll does not model regular files")]
fn regular_file_is_always_ready() {
    each_backend(|kind| {
        let lp = lp(kind);
        let h = lp.handle();
        let path =
            std::env::temp_dir().join(format!("readyloop-backends-{}-{kind}", std::process::id()));
        std::fs::write(&path, b"file contents").unwrap();
        let f = std::fs::File::open(&path).unwrap();
        let mut buf = [0u8; 13];
        let n = lp
            .block_on_timeout(
                Duration::from_secs(10),
                ReadFd::exact(&h, f.as_fd(), &mut buf),
            )
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..n], b"file contents", "{kind}");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(h.stats().fds_registered, 1, "{kind}");
    });
}

/// Many fds at once, each woken exactly once, on every backend.
#[test]
fn many_pipes() {
    each_backend(|kind| {
        let lp = lp(kind);
        let h = lp.handle();
        let pipes: Vec<_> = (0..200).map(|_| pipe()).collect();
        let (readers, writers): (Vec<_>, Vec<_>) = pipes.into_iter().unzip();
        let mut tasks = Vec::new();
        for r in readers {
            let h2 = h.clone();
            tasks.push(h.spawn(async move {
                let mut buf = [0u8; 1];
                ReadFd::new(&h2, r.as_fd(), &mut buf).await.unwrap();
                buf[0]
            }));
        }
        h.spawn({
            let h = h.clone();
            async move {
                h.sleep(Duration::from_millis(5)).await;
                for (i, w) in writers.iter().enumerate() {
                    rustix::io::write(w, &[i as u8]).unwrap();
                }
            }
        });
        let got = lp.block_on(async move {
            let mut got = Vec::new();
            for t in tasks {
                got.push(t.await.unwrap());
            }
            got
        });
        let want: Vec<u8> = (0..200).map(|i| i as u8).collect();
        assert_eq!(got, want, "{kind}");
        assert_eq!(h.stats().fd_waiters, 0, "{kind}");
    });
}

fn raise_nofile(at_least: u64) {
    // SAFETY: plain libc calls on a local struct.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        if lim.rlim_cur < at_least {
            lim.rlim_cur = at_least.min(lim.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
        }
    }
}
