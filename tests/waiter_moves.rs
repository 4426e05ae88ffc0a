//! A wait handed from one task to another (issue 16.2): an fd `Registration` or a `Sleep`
//! polled first by one task, then by another, wakes the task that polled last; the first
//! one is not woken for it, and nothing is left registered. On every backend.

use readyloop::{BackendKind, Interest, Loop, Registration};
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

mod common;

const BACKENDS: [BackendKind; 3] = [BackendKind::Poll, BackendKind::Select, BackendKind::Epoll];

#[test]
fn an_fd_wait_polled_by_a_second_task_wakes_the_second_task() {
    for kind in BACKENDS {
        let lp = Loop::builder().backend(kind).build().unwrap();
        let h = lp.handle();
        let (r, w) = std::io::pipe().unwrap();
        // SAFETY: `r` outlives `reg`: both live to the end of this iteration, `reg` (and its
        // clones in the tasks, which end first) dropped before `r`.
        let reg = Rc::new(unsafe { Registration::new(&h, r.as_raw_fd()) });
        // Task A registers the wait and then leaves it (it moves on to something else).
        let first = h.spawn({
            let reg = reg.clone();
            poll_fn(move |cx| {
                assert!(reg.poll_ready(cx, Interest::Readable).is_pending());
                Poll::Ready(())
            })
        });
        // Task B polls the same registration: the wait is now B's.
        let b_polls = Rc::new(Cell::new(0));
        let second = h.spawn({
            let (reg, b_polls) = (reg.clone(), b_polls.clone());
            poll_fn(move |cx| {
                b_polls.set(b_polls.get() + 1);
                reg.poll_ready(cx, Interest::Readable)
            })
        });
        let writer = h.spawn({
            let h = h.clone();
            async move {
                h.sleep(Duration::from_millis(20)).await;
                std::io::Write::write_all(&mut &w, b"x").unwrap();
                w
            }
        });
        let out = lp.block_on_timeout(common::scaled(Duration::from_secs(5)), async {
            first.await.unwrap();
            let w = writer.await.unwrap();
            second.await.unwrap().unwrap();
            w
        });
        if let Err(stuck) = &out {
            panic!("{kind:?}: {stuck}");
        }
        assert_eq!(
            b_polls.get(),
            2,
            "{kind:?}: B was polled spuriously or not woken"
        );
        drop(reg);
        assert_eq!(h.fd_waiters(), 0, "{kind:?}");
    }
}

#[test]
fn a_sleep_polled_by_a_second_task_wakes_the_second_task() {
    for kind in BACKENDS {
        let lp = Loop::builder().backend(kind).build().unwrap();
        let h = lp.handle();
        // Scaled: under valgrind, starting the two tasks can take longer than 20 ms, and
        // the first would find the sleep already due.
        let sleep = Rc::new(RefCell::new(
            h.sleep(common::scaled(Duration::from_millis(20))),
        ));
        let first = h.spawn({
            let sleep = sleep.clone();
            poll_fn(move |cx| {
                assert!(std::pin::Pin::new(&mut *sleep.borrow_mut())
                    .poll(cx)
                    .is_pending());
                Poll::Ready(())
            })
        });
        let second = h.spawn({
            let sleep = sleep.clone();
            poll_fn(move |cx| std::pin::Pin::new(&mut *sleep.borrow_mut()).poll(cx))
        });
        let out = lp.block_on_timeout(common::scaled(Duration::from_secs(5)), async {
            first.await.unwrap();
            second.await.unwrap();
        });
        if let Err(stuck) = out {
            panic!("{kind:?}: {stuck}");
        }
        assert_eq!(h.stats().timers_armed, 0, "{kind:?}");
    }
}
