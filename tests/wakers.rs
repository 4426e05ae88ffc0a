//! Wakers: Send + Sync, cross-thread wakes interrupt a blocked poll, duplicate wakes queue a
//! task once, tasks run in wake order however they were woken, and wakes after the task or
//! the loop is gone are no-ops.

use readyloop::{Handle, JoinHandle, Loop, ReadFd};
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;
use std::sync::mpsc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

mod common;

fn assert_send_sync<T: Send + Sync>(_: &T) {}

#[test]
fn a_wake_from_another_thread_interrupts_a_blocked_poll() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (tx, rx) = mpsc::channel::<Waker>();
    let waker_thread = std::thread::spawn(move || {
        let w = rx.recv().unwrap();
        assert_send_sync(&w);
        std::thread::sleep(Duration::from_millis(30));
        w.wake();
    });
    let task = h.spawn(async move {
        let mut tx = Some(tx);
        poll_fn(move |cx| match tx.take() {
            Some(tx) => {
                tx.send(cx.waker().clone()).unwrap();
                Poll::Pending
            }
            None => Poll::Ready(()),
        })
        .await
    });
    let start = Instant::now();
    lp.block_on(task).unwrap();
    let took = start.elapsed();
    waker_thread.join().unwrap();
    assert!(took >= Duration::from_millis(30) && took < Duration::from_millis(500));
    // The loop blocked (no timers, no fds) and the notifier woke it: few polls, no spin.
    let s = h.stats();
    assert!(s.polls < 10, "{s:?}");
    assert!(s.wakeups_remote >= 1, "{s:?}");
}

#[test]
fn many_wakes_queue_a_task_once() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let polls = Rc::new(Cell::new(0));
    let p = polls.clone();
    let t = h.spawn(poll_fn(move |cx| {
        p.set(p.get() + 1);
        if p.get() == 1 {
            for _ in 0..100 {
                cx.waker().wake_by_ref();
                let owned = cx.waker().clone();
                owned.wake();
            }
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }));
    lp.block_on(t).unwrap();
    assert_eq!(polls.get(), 2);
}

/// A non-blocking pipe (not a socket: Miri runs these tests, and cannot make a socket
/// non-blocking).
fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK | rustix::pipe::PipeFlags::CLOEXEC)
        .unwrap()
}

/// A task that, in one poll, wakes the waker in `kept` and then makes the pipe readable.
fn wake_then_write(h: &Handle, kept: Rc<RefCell<Option<Waker>>>, w: OwnedFd) -> JoinHandle<()> {
    h.spawn(async move {
        kept.borrow_mut().take().unwrap().wake();
        rustix::io::write(&w, b"x").unwrap();
    })
}

/// A task whose fd became ready is queued by the loop itself, straight on its run queue; a
/// task woken through its waker earlier in the same turn still runs first.
#[test]
fn tasks_run_in_wake_order_whether_a_waker_or_their_fd_woke_them() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, w) = pipe();
    let order = Rc::new(RefCell::new(Vec::new()));
    let kept: Rc<RefCell<Option<Waker>>> = Rc::default();
    // Waits on its pipe: its waker is in the loop's fd table.
    let o = order.clone();
    let reader = h.spawn({
        let h = h.clone();
        async move {
            let mut buf = [0u8; 8];
            let n = ReadFd::new(&h, r.as_fd(), &mut buf).await.unwrap();
            o.borrow_mut().push("fd");
            n
        }
    });
    // Waits on a waker kept by hand.
    let (o, k) = (order.clone(), kept.clone());
    let mut first = true;
    let waiter = h.spawn(poll_fn(move |cx| {
        if std::mem::take(&mut first) {
            *k.borrow_mut() = Some(cx.waker().clone());
            return Poll::Pending;
        }
        o.borrow_mut().push("waker");
        Poll::Ready(())
    }));
    // After both wait.
    let driver = wake_then_write(&h, kept, w);
    lp.block_on(async {
        driver.await.unwrap();
        assert_eq!(reader.await.unwrap(), 1);
        waiter.await.unwrap();
    });
    assert_eq!(*order.borrow(), ["waker", "fd"]);
}

/// A task woken by a waker and by its fd in the same turn is queued and polled once.
#[test]
fn a_task_woken_by_a_waker_and_its_fd_in_one_turn_is_polled_once() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, w) = pipe();
    let kept: Rc<RefCell<Option<Waker>>> = Rc::default();
    let polls = Rc::new(Cell::new(0));
    let (k, p) = (kept.clone(), polls.clone());
    let reader = h.spawn({
        let h = h.clone();
        async move {
            let mut buf = [0u8; 8];
            let mut read = std::pin::pin!(ReadFd::new(&h, r.as_fd(), &mut buf));
            poll_fn(|cx| {
                p.set(p.get() + 1);
                *k.borrow_mut() = Some(cx.waker().clone());
                read.as_mut().poll(cx)
            })
            .await
            .unwrap()
        }
    });
    let driver = wake_then_write(&h, kept, w);
    lp.block_on(async {
        driver.await.unwrap();
        assert_eq!(reader.await.unwrap(), 1);
    });
    // The first poll waits; the second finds the byte.
    assert_eq!(polls.get(), 2);
}

#[test]
fn wakes_from_many_threads_are_not_lost() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    const THREADS: usize = 4;
    const WAKES: usize = 2000;
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..THREADS).map(|_| mpsc::channel::<Waker>()).unzip();
    let woken = Rc::new(Cell::new(0usize));
    let w2 = woken.clone();
    // Each thread bumps a counter and then wakes the task; the task finishes only when it
    // sees every bump, so a single lost wake would hang this test (bounded by its timeout).
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c2 = counter.clone();
    let task = h.spawn(poll_fn(move |cx| {
        w2.set(w2.get() + 1);
        if w2.get() == 1 {
            for tx in &txs {
                tx.send(cx.waker().clone()).unwrap();
            }
        }
        if c2.load(std::sync::atomic::Ordering::SeqCst) == THREADS * WAKES {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }));
    let threads: Vec<_> = rxs
        .into_iter()
        .map(|rx| {
            let counter = counter.clone();
            std::thread::spawn(move || {
                let w = rx.recv().unwrap();
                for _ in 0..WAKES {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    w.wake_by_ref();
                }
            })
        })
        .collect();
    let start = Instant::now();
    lp.block_on(task).unwrap();
    for t in threads {
        t.join().unwrap();
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(woken.get() <= 1 + THREADS * WAKES);
}

#[test]
fn a_wake_after_the_task_finished_or_the_loop_is_gone_is_a_no_op() {
    let (tx, rx) = mpsc::channel::<Waker>();
    {
        let lp = Loop::new().unwrap();
        let h = lp.handle();
        let tx2 = tx.clone();
        let done = h.spawn(poll_fn(move |cx| {
            tx2.send(cx.waker().clone()).unwrap();
            Poll::Ready(())
        }));
        lp.block_on(done).unwrap();
        let pending = h.spawn(poll_fn(move |cx| {
            tx.send(cx.waker().clone()).unwrap();
            Poll::<()>::Pending
        }));
        // block_on polls its own future first: the sleep must outlast the spawned task's
        // first poll (longer under valgrind).
        lp.block_on(h.sleep(common::scaled(Duration::from_millis(1))));
        let finished_waker = rx.recv().unwrap();
        finished_waker.wake_by_ref(); // the task finished: nothing happens
        lp.block_on(h.sleep(common::scaled(Duration::from_millis(1))));
        drop(pending);
        drop(lp); // the loop goes away with a task still pending
        finished_waker.wake();
    }
    let orphan = rx.recv().unwrap();
    // Wake it from another thread after its loop was dropped: no crash, no leak, no effect.
    std::thread::spawn(move || {
        orphan.wake_by_ref();
        let clone = orphan.clone();
        clone.wake();
        orphan.wake();
    })
    .join()
    .unwrap();
}

#[test]
fn the_main_future_waker_works_across_threads_and_after_the_loop() {
    let lp = Loop::new().unwrap();
    let (tx, rx) = mpsc::channel::<Waker>();
    let mut sent = false;
    let t = std::thread::spawn(move || {
        let w = rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(10));
        w.wake_by_ref();
        w
    });
    lp.block_on(poll_fn(|cx| {
        if sent {
            Poll::Ready(())
        } else {
            sent = true;
            tx.send(cx.waker().clone()).unwrap();
            Poll::Pending
        }
    }));
    let w = t.join().unwrap();
    drop(lp);
    w.wake();
}
