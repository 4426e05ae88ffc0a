//! `Async<T>`: any pollable fd on the loop. Several waiters on one fd, cancellation that
//! withdraws the wait, blocking fds switched to non-blocking, back-pressure on a full pipe,
//! end of file and a reader that went away.

// Tests build with the current stable compiler; only the library is held to the MSRV, and
// std's anonymous pipes (1.87) make these tests read plainly.
#![allow(clippy::incompatible_msrv)]

use readyloop::{Async, ErrorKind, Handle, Loop};
use std::io::{PipeReader, PipeWriter, Read};
use std::os::fd::AsFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

fn pipe(handle: &Handle) -> (Async<PipeReader>, Async<PipeWriter>) {
    let (r, w) = std::io::pipe().unwrap();
    (
        Async::new(handle, r).unwrap(),
        Async::new(handle, w).unwrap(),
    )
}

#[readyloop::test(timeout = "10s")]
async fn several_tasks_wait_on_one_pipe_each_with_its_own_wait(handle: Handle) {
    let (r, w) = pipe(&handle);
    let r = Rc::new(r);
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let r = r.clone();
            handle.spawn(async move {
                let mut buf = [0u8; 1];
                r.read(&mut buf).await.unwrap()
            })
        })
        .collect();
    readyloop::yield_now().await;
    assert_eq!(handle.fd_waiters(), 4, "each reader waits on its own");
    for _ in 0..4 {
        w.write(b"x").await.unwrap();
        handle.sleep(Duration::from_millis(2)).await;
    }
    let mut total = 0;
    for reader in readers {
        total += reader.await.unwrap();
    }
    assert_eq!(total, 4);
    assert_eq!(handle.fd_waiters(), 0);
}

#[readyloop::test(timeout = "10s")]
async fn dropping_a_pending_read_withdraws_its_wait(handle: Handle) {
    let (r, _w) = pipe(&handle);
    let mut buf = [0u8; 8];
    let start = Instant::now();
    let outcome = readyloop::timeout(Duration::from_millis(30), r.read(&mut buf)).await;
    assert!(outcome.is_err(), "nothing was written");
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(
        handle.fd_waiters(),
        0,
        "the dropped read left a wait behind"
    );
}

#[readyloop::test(timeout = "10s")]
async fn a_blocking_fd_is_switched_to_non_blocking(handle: Handle) {
    let (r, _w) = std::io::pipe().unwrap();
    let flags = rustix::fs::fcntl_getfl(r.as_fd()).unwrap();
    assert!(!flags.contains(rustix::fs::OFlags::NONBLOCK));
    let r = Async::new(&handle, r).unwrap();
    let flags = rustix::fs::fcntl_getfl(r.as_fd()).unwrap();
    assert!(flags.contains(rustix::fs::OFlags::NONBLOCK));
    // So a read with nothing to read waits on the loop instead of blocking the thread.
    let mut buf = [0u8; 1];
    let waited = readyloop::timeout(Duration::from_millis(20), r.read(&mut buf)).await;
    assert!(waited.is_err());
    // into_inner hands the reader back, still non-blocking, and deregistered.
    let mut r = r.into_inner();
    assert_eq!(
        r.read(&mut buf).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
    assert_eq!(handle.fd_waiters(), 0);
}

#[readyloop::test(timeout = "20s")]
async fn a_writer_waits_while_the_pipe_is_full_then_resumes(handle: Handle) {
    let (r, w) = pipe(&handle);
    // Fill the pipe until the kernel says it would block.
    let chunk = vec![7u8; 64 * 1024];
    let mut filled = 0usize;
    loop {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match w.poll_write(&mut cx, &chunk) {
            std::task::Poll::Ready(n) => filled += n.unwrap(),
            std::task::Poll::Pending => break,
        }
    }
    assert!(filled >= 4096, "a pipe holds at least a page: {filled}");
    // A reader drains it after 30 ms; the pending write must not finish before that.
    let drained_at = handle.spawn({
        let h = handle.clone();
        async move {
            h.sleep(Duration::from_millis(30)).await;
            let mut buf = vec![0u8; 1 << 20];
            let mut got = 0;
            while got < filled + 1 {
                got += r.read(&mut buf).await.unwrap();
            }
            got
        }
    });
    let start = Instant::now();
    let n = w.write(b"!").await.unwrap();
    assert_eq!(n, 1);
    assert!(
        start.elapsed() >= Duration::from_millis(30),
        "wrote into a full pipe"
    );
    assert_eq!(drained_at.await.unwrap(), filled + 1);
}

#[readyloop::test(timeout = "10s")]
async fn end_of_file_and_a_reader_that_went_away(handle: Handle) {
    let (r, w) = pipe(&handle);
    w.write(b"last").await.unwrap();
    drop(w);
    let mut buf = [0u8; 8];
    assert_eq!(r.read(&mut buf).await.unwrap(), 4);
    assert_eq!(r.read(&mut buf).await.unwrap(), 0, "end of file");

    let (r, w) = pipe(&handle);
    drop(r);
    // Rust programs ignore SIGPIPE, so the write reports EPIPE.
    let err = w.write(b"anyone?").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BrokenPipe);
}

#[test]
fn an_fd_that_cannot_be_switched_is_an_error_value() {
    let lp = readyloop::Loop::new().unwrap();
    // A closed fd number: fcntl fails with EBADF, reported as ErrorKind::Closed.
    let (r, _w) = std::io::pipe().unwrap();
    let raw = std::os::fd::AsRawFd::as_raw_fd(&r);
    let dup = rustix::io::fcntl_dupfd_cloexec(r.as_fd(), 900).unwrap();
    let number = std::os::fd::AsRawFd::as_raw_fd(&dup);
    drop(dup);
    assert_ne!(raw, number);
    // SAFETY: the number is closed on purpose; only fcntl sees it, and it answers EBADF.
    let closed = unsafe { std::os::fd::BorrowedFd::borrow_raw(number) };
    let err = Async::new(&lp.handle(), closed).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Closed);
}

/// `write_all`, `read_exact` and `read_to_end` move more than a pipe holds (so each waits for
/// the other side several times), byte for byte, like the sockets' `send_all`,
/// `recv_exact` and `read_to_end`.
#[test]
fn write_all_read_exact_and_read_to_end_move_a_megabyte_through_a_pipe() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, w) = std::io::pipe().unwrap();
    let (r, w) = (Async::new(&h, r).unwrap(), Async::new(&h, w).unwrap());
    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let sent = data.clone();
    let writer = h.spawn(async move {
        w.write_all(&sent).await.unwrap();
        // w drops here: the reader sees end of file after the last byte.
    });
    let (head, rest) = lp
        .block_on_timeout(Duration::from_secs(10), async {
            let mut head = [0u8; 1000];
            r.read_exact(&mut head).await.unwrap();
            let mut rest = Vec::new();
            let n = r.read_to_end(&mut rest).await.unwrap();
            assert_eq!(n, rest.len());
            (head, rest)
        })
        .unwrap();
    lp.block_on(writer).unwrap();
    assert_eq!(&head[..], &data[..1000]);
    assert!(
        rest == data[1000..],
        "the bytes after the first 1000 differ"
    );
}
