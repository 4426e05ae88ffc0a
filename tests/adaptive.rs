//! The adaptive backend (the default): a large, mostly idle registered set moves from
//! poll(2) to epoll(7), a small one back, each wait's trace names the backend it used, and
//! waiters registered before a move are woken after it (borrowed pipe fds, the one-shot
//! path; sockets are in tests/churn.rs).

use readyloop::trace::TraceEvent;
use readyloop::{BackendKind, Loop, ReadFd};
use std::cell::RefCell;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK | rustix::pipe::PipeFlags::CLOEXEC)
        .unwrap()
}

#[test]
fn a_sparse_set_moves_to_epoll_and_back_and_the_trace_says_so() {
    let waits: Rc<RefCell<Vec<BackendKind>>> = Rc::default();
    let sink = waits.clone();
    let lp = Loop::builder()
        .backend(BackendKind::Adaptive)
        .adaptive_threshold(16)
        .trace(move |_, ev: &TraceEvent<'_>| {
            if let TraceEvent::Wait { backend, .. } = ev {
                sink.borrow_mut().push(*backend);
            }
        })
        .build()
        .unwrap();
    let h = lp.handle();
    assert_eq!(h.backend(), BackendKind::Adaptive);
    assert_eq!(h.backend_in_use(), BackendKind::Poll);
    // 40 readers wait on 40 idle pipes: a large set with nothing ready.
    let pipes: Vec<(OwnedFd, OwnedFd)> = (0..40).map(|_| pipe()).collect();
    let readers: Vec<_> = pipes
        .iter()
        .map(|(r, _)| {
            let h = h.clone();
            let r = r.as_fd().try_clone_to_owned().unwrap();
            h.clone().spawn(async move {
                let mut buf = [0u8; 8];
                ReadFd::new(&h, r.as_fd(), &mut buf).await.unwrap()
            })
        })
        .collect();
    lp.block_on(async {
        for _ in 0..200 {
            readyloop::yield_now().await;
        }
    });
    assert_eq!(
        h.backend_in_use(),
        BackendKind::Epoll,
        "a large idle set is on epoll"
    );
    assert_eq!(h.stats().backend_moves, 1);
    // Every reader registered before the move is woken after it.
    for (_, w) in &pipes {
        rustix::io::write(w, b"x").unwrap();
    }
    for r in readers {
        assert_eq!(lp.block_on(r).unwrap(), 1);
    }
    // Nothing is registered now: back on poll after a window or two.
    lp.block_on(async {
        for _ in 0..200 {
            readyloop::yield_now().await;
        }
    });
    assert_eq!(
        h.backend_in_use(),
        BackendKind::Poll,
        "a small set is back on poll"
    );
    assert_eq!(h.stats().backend_moves, 2);
    // The trace: poll waits, then epoll waits, then poll waits again, nothing else.
    let waits = waits.borrow();
    let mut runs: Vec<BackendKind> = Vec::new();
    for b in waits.iter() {
        if runs.last() != Some(b) {
            runs.push(*b);
        }
    }
    assert_eq!(
        runs,
        [BackendKind::Poll, BackendKind::Epoll, BackendKind::Poll]
    );
}

#[test]
fn fixed_backends_never_move() {
    for kind in [BackendKind::Poll, BackendKind::Epoll] {
        let lp = Loop::builder()
            .backend(kind)
            .adaptive_threshold(4)
            .build()
            .unwrap();
        let h = lp.handle();
        let pipes: Vec<(OwnedFd, OwnedFd)> = (0..20).map(|_| pipe()).collect();
        let _readers: Vec<_> = pipes
            .iter()
            .map(|(r, _)| {
                let h = h.clone();
                let r = r.as_fd().try_clone_to_owned().unwrap();
                h.clone().spawn(async move {
                    let mut buf = [0u8; 8];
                    let _ = ReadFd::new(&h, r.as_fd(), &mut buf).await;
                })
            })
            .collect();
        lp.block_on(async {
            for _ in 0..200 {
                readyloop::yield_now().await;
            }
        });
        assert_eq!(h.backend_in_use(), kind);
        assert_eq!(h.stats().backend_moves, 0);
    }
}
