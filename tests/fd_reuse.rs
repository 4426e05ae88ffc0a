//! An fd number closed and reused inside one turn is waited on as the new file.
//!
//! The reactor settles a woken fd's interest just before the next wait, not at dispatch, so
//! a task that closes its fd and waits on a new one that got the same number (accept after
//! close does exactly that) meets an entry whose interest looks unchanged. Each backend must
//! still hand the new file to the kernel: poll(2) and select(2) pass the numbers every wait;
//! epoll re-arms the fd (`EPOLL_CTL_MOD`, then `ADD` when the kernel no longer knows it).
//!
//! Owned fds (sockets) stay armed in epoll between waits, level-triggered; there the new
//! socket's `Registration` tells the reactor to hand its number to the kernel again, and the
//! old one's drop takes its number out first.

use readyloop::net::UnixStream;
use readyloop::{yield_now, BackendKind, Loop, ReadFd};
use rustix::pipe::{pipe_with, PipeFlags};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests here need the lowest free fd number to be the one just closed, so they must
/// not open and close fds at the same time as each other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The new `what` got the old number, and its waiter woke with its byte in about 5 ms; a
/// backend that missed the new file would only notice it at its next registration check
/// (epoll: a quarter of a second) or never.
fn check_woke_on_the_new_file(kind: BackendKind, what: &str, seen: (bool, Duration, u8)) {
    let (reused, woke_at, byte) = seen;
    assert_eq!(byte, b'y', "{kind}");
    assert!(
        reused,
        "{kind}: the new {what} did not get the old one's number"
    );
    assert!(
        woke_at < Duration::from_millis(150),
        "{kind}: woke after {woke_at:?}"
    );
}

#[test]
fn a_reused_fd_number_is_waited_on_as_the_new_file() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for kind in BackendKind::ALL {
        let lp = Loop::builder().backend(kind).build().unwrap();
        let h = lp.handle();
        let (r1, w1) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC).unwrap();
        let first = r1.as_raw_fd();
        let waiter = h.spawn({
            let h = h.clone();
            async move {
                let mut buf = [0u8; 1];
                // Waits in the reactor until the backend reports the first pipe readable.
                ReadFd::new(&h, r1.as_fd(), &mut buf).await.unwrap();
                // In the same poll: close it, open a new pipe (which gets the same number)
                // and wait on it, empty; a helper writes to it a little later.
                drop(r1);
                let (r2, w2) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC).unwrap();
                let reused = r2.as_raw_fd() == first;
                let wrote_at = h.spawn({
                    let h = h.clone();
                    async move {
                        h.sleep(Duration::from_millis(5)).await;
                        rustix::io::write(&w2, b"y").unwrap();
                        let at = Instant::now();
                        // Keep the writing end open until the reader is done.
                        h.sleep(Duration::from_secs(2)).await;
                        drop(w2);
                        at
                    }
                });
                ReadFd::new(&h, r2.as_fd(), &mut buf).await.unwrap();
                let woke_at = Instant::now();
                wrote_at.abort();
                (reused, woke_at, buf[0])
            }
        });
        let (reused, woke_at, byte) = lp
            .block_on_timeout(Duration::from_secs(5), async {
                yield_now().await; // the waiter registers on the empty first pipe
                rustix::io::write(&w1, b"x").unwrap();
                let started = Instant::now();
                let out = waiter.await.unwrap();
                (out.0, out.1.duration_since(started), out.2)
            })
            .unwrap();
        check_woke_on_the_new_file(kind, "pipe", (reused, woke_at, byte));
    }
}

#[test]
fn a_socket_reusing_a_dropped_sockets_number_is_waited_on_as_the_new_socket() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for kind in BackendKind::ALL {
        let lp = Loop::builder().backend(kind).build().unwrap();
        let h = lp.handle();
        let (a1, b1) = UnixStream::pair(&h).unwrap();
        let first = a1.as_fd().as_raw_fd();
        let waiter = h.spawn({
            let h = h.clone();
            async move {
                let mut buf = [0u8; 1];
                // Waits (armed, level-triggered on epoll) until the first socket is readable,
                // then reads and waits again on it, so its interest stays in the kernel.
                a1.recv(&mut buf).await.unwrap();
                // In the same poll: drop it and make a new pair whose first end gets the
                // number, then wait on the new socket; a helper writes to it a little later.
                drop(a1);
                let (a2, b2) = UnixStream::pair(&h).unwrap();
                let reused = a2.as_fd().as_raw_fd() == first;
                let wrote_at = h.spawn({
                    let h = h.clone();
                    async move {
                        h.sleep(Duration::from_millis(5)).await;
                        b2.send_all(b"y").await.unwrap();
                        let at = Instant::now();
                        h.sleep(Duration::from_secs(2)).await;
                        drop(b2);
                        at
                    }
                });
                a2.recv(&mut buf).await.unwrap();
                let woke_at = Instant::now();
                wrote_at.abort();
                (reused, woke_at, buf[0])
            }
        });
        let (reused, woke_at, byte) = lp
            .block_on_timeout(Duration::from_secs(5), async {
                yield_now().await;
                b1.send_all(b"x").await.unwrap();
                let started = Instant::now();
                let out = waiter.await.unwrap();
                (out.0, out.1.duration_since(started), out.2)
            })
            .unwrap();
        check_woke_on_the_new_file(kind, "socket", (reused, woke_at, byte));
        assert_eq!(h.stats().fd_waiters, 0, "{kind}");
    }
}

/// A steady read-reply loop on a socket leaves its epoll registration armed: no
/// `epoll_ctl` per wait, and the fd stays in the set between waits; it leaves the set when
/// nobody waits on it any more.
#[test]
fn an_owned_socket_in_a_read_reply_loop_keeps_its_interest() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for kind in BackendKind::ALL {
        let lp = Loop::builder().backend(kind).build().unwrap();
        let h = lp.handle();
        let (a, b) = UnixStream::pair(&h).unwrap();
        let baseline = h.stats().fds_registered;
        let server = h.spawn(async move {
            let mut buf = [0u8; 64];
            readyloop::net::echo(&a, &mut buf).await
        });
        let out = lp
            .block_on_timeout(Duration::from_secs(5), async {
                let mut buf = [0u8; 5];
                for i in 0..200u32 {
                    let msg = [b'a' + (i % 26) as u8; 5];
                    b.send_all(&msg).await.unwrap();
                    b.recv_exact(&mut buf).await.unwrap();
                    assert_eq!(buf, msg);
                }
                drop(b);
                server.await.unwrap()
            })
            .unwrap();
        assert!(out.is_ok(), "{kind}: {out:?}");
        assert_eq!(h.stats().fds_registered, baseline, "{kind}");
    }
}
