//! Cancellation: aborting a task parked on a socket or a timer withdraws its registration
//! at once, it is never woken or polled again, and nothing it held leaks.

use readyloop::{gather, yield_now, Handle, Loop, ReadFd};
use std::cell::Cell;
use std::future::Future;
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

mod common;

/// Counts the polls of the future it wraps.
struct Counted<F> {
    polls: Rc<Cell<u32>>,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

fn counted<F: Future>(polls: &Rc<Cell<u32>>, f: F) -> Counted<F> {
    Counted {
        polls: polls.clone(),
        inner: Box::pin(f),
    }
}

fn turns(lp: &Loop, n: usize) {
    for _ in 0..n {
        lp.block_on(yield_now());
    }
}

/// A task reading from one end of a socket pair, holding `token` (to prove it is freed).
/// The caller keeps the other end and a second reference to the read end, so the fd stays
/// open after the task is gone (data can still arrive on it).
fn parked_reader(
    h: &Handle,
    polls: &Rc<Cell<u32>>,
    token: &Rc<()>,
) -> (readyloop::JoinHandle<usize>, UnixStream, Rc<UnixStream>) {
    let (reader, writer) = UnixStream::pair().unwrap();
    reader.set_nonblocking(true).unwrap();
    let reader = Rc::new(reader);
    let (h2, token, r2) = (h.clone(), token.clone(), reader.clone());
    let task = h.spawn(counted(polls, async move {
        let _token = token;
        let mut buf = [0u8; 8];
        ReadFd::new(&h2, r2.as_fd(), &mut buf).await.unwrap()
    }));
    (task, writer, reader)
}

#[test]
fn aborting_a_task_parked_on_a_socket_deregisters_it() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let polls = Rc::new(Cell::new(0));
    let token = Rc::new(());
    // The loop's own notifier fd may be registered too: count from here.
    let base_fds = h.stats().fds_registered;
    let (task, writer, _reader) = parked_reader(&h, &polls, &token);
    turns(&lp, 2);
    assert_eq!(h.fd_waiters(), 1);
    assert_eq!(h.stats().fds_registered, base_fds + 1);
    assert_eq!(Rc::strong_count(&token), 2);

    task.abort();
    turns(&lp, 1);
    assert_eq!(h.fd_waiters(), 0, "the wait was withdrawn");
    assert_eq!(h.stats().fds_registered, base_fds);
    assert_eq!(
        Rc::strong_count(&token),
        1,
        "the future and what it held were dropped"
    );

    // Data arriving now wakes nobody: the task is never polled again.
    let polled = polls.get();
    (&writer).write_all(b"late").unwrap();
    lp.block_on(h.sleep(Duration::from_millis(5)));
    turns(&lp, 2);
    assert_eq!(polls.get(), polled);
    assert!(lp.block_on(task).unwrap_err().is_cancelled());
    assert_eq!(h.stats().tasks_alive, 0);
}

#[test]
fn aborting_a_task_parked_on_a_timer_disarms_it() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let polls = Rc::new(Cell::new(0));
    let token = Rc::new(());
    let (h2, t2) = (h.clone(), token.clone());
    // The deadline must stay ahead of the two turns below (valgrind runs them slowly).
    let task = h.spawn(counted(&polls, async move {
        let _token = t2;
        h2.sleep(common::scaled(Duration::from_millis(20))).await;
    }));
    turns(&lp, 2);
    assert_eq!(h.stats().timers_armed, 1);
    task.abort();
    turns(&lp, 1);
    assert_eq!(h.stats().timers_armed, 0);
    assert_eq!(Rc::strong_count(&token), 1);
    // Past the old deadline: no wake, no poll.
    let polled = polls.get();
    lp.block_on(h.sleep(common::scaled(Duration::from_millis(40))));
    assert_eq!(polls.get(), polled);
    assert_eq!(
        h.stats().wakeups_timer,
        1,
        "only the test's own sleep fired"
    );
}

#[test]
fn aborting_a_task_parked_on_many_things_withdraws_them_all() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r1, _w1) = UnixStream::pair().unwrap();
    let (r2, _w2) = UnixStream::pair().unwrap();
    r1.set_nonblocking(true).unwrap();
    r2.set_nonblocking(true).unwrap();
    let h2 = h.clone();
    let task = h.spawn(async move {
        let (mut b1, mut b2) = ([0u8; 4], [0u8; 4]);
        h2.timeout(
            Duration::from_secs(60),
            gather((
                ReadFd::new(&h2, r1.as_fd(), &mut b1),
                ReadFd::new(&h2, r2.as_fd(), &mut b2),
                h2.sleep(Duration::from_secs(30)),
            )),
        )
        .await
        .map(|_| ())
    });
    turns(&lp, 2);
    assert_eq!(h.fd_waiters(), 2);
    assert_eq!(h.stats().timers_armed, 2);
    task.abort();
    turns(&lp, 1);
    assert_eq!(h.fd_waiters(), 0);
    assert_eq!(h.stats().timers_armed, 0);
    assert_eq!(h.stats().tasks_alive, 0);
}

#[test]
fn dropping_the_loop_cancels_parked_tasks_without_leaks() {
    let token = Rc::new(());
    {
        let lp = Loop::new().unwrap();
        let h = lp.handle();
        let polls = Rc::new(Cell::new(0));
        let (_task, _writer, _reader) = parked_reader(&h, &polls, &token);
        turns(&lp, 2);
        assert_eq!(Rc::strong_count(&token), 2);
    }
    assert_eq!(Rc::strong_count(&token), 1);
}
