//! examples/mini_loop.rs (seed 002's `run()`, small) and readyloop make the same waits: the
//! same programs on both give the same sequence of fd sets and timeouts.
//!
//! fd numbers differ between the runs, so each fd in a wait is named by what it is (from
//! /proc/self/fd, read while the wait happens); readyloop's own notifier (an eventfd) is
//! left out: the mini loop has no cross-thread wakes. Timeouts compare as none/zero/some,
//! and back-to-back identical waits count once: when a wait returns a few microseconds
//! before a deadline (the kernel's wake-up is not exact), a loop makes the same wait again
//! for the rest, in either loop, on whichever run it happens.

#[path = "../examples/mini_loop.rs"]
#[allow(dead_code)]
mod mini_loop;

use readyloop::trace::TraceEvent;
use readyloop::{AsyncRecv, Handle, Loop, ReadFd};
use std::cell::RefCell;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

/// One wait, without the numbers that differ between runs.
type Shape = (Vec<String>, &'static str);

/// What fd `fd` is: socket, pipe, /dev/urandom... (`None` for an eventfd: the notifier).
fn kind(fd: i32) -> Option<String> {
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    let target = target.to_string_lossy();
    if target.contains("eventfd") {
        return None;
    }
    Some(target.split(':').next().unwrap_or("?").to_string())
}

/// Reads a wait line as both loops print it: `wait poll([5 IN, 7 IN], timeout 0.1 s)`.
fn shape(line: &str) -> Shape {
    let inner = &line[line.find('[').unwrap() + 1..line.find(']').unwrap()];
    let mut fds: Vec<String> = inner
        .split(", ")
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let (fd, events) = s.split_once(' ').unwrap();
            kind(fd.parse().unwrap()).map(|k| format!("{k} {events}"))
        })
        .collect();
    fds.sort();
    let timeout = if line.contains("no timeout") {
        "none"
    } else if line.contains("timeout 0.000000 s") {
        "zero"
    } else {
        "some"
    };
    (fds, timeout)
}

/// Runs tasks on readyloop one turn at a time and returns the shape of each wait.
fn on_readyloop(spawn: impl FnOnce(&Handle)) -> Vec<Shape> {
    let waits = Rc::new(RefCell::new(Vec::new()));
    let log = waits.clone();
    let lp = Loop::builder()
        .trace(move |_, ev: &TraceEvent<'_>| {
            if let TraceEvent::Wait { .. } = ev {
                log.borrow_mut().push(shape(&ev.to_string()));
            }
        })
        .build()
        .unwrap();
    let h = lp.handle();
    spawn(&h);
    let mut turns = 0;
    while h.stats().tasks_alive > 0 {
        lp.run_once();
        turns += 1;
        assert!(turns < 10_000, "readyloop did not finish");
    }
    let mut out = waits.borrow().clone();
    // The turn that finishes the last task still ends in a wait (timeout zero: nothing is
    // left to wait for); the mini loop stops before it.
    assert_eq!(out.pop(), Some((vec![], "zero")), "{out:?}");
    out
}

fn on_mini(tasks: Vec<mini_loop::Task<'_>>) -> Vec<Shape> {
    let mut waits = Vec::new();
    mini_loop::run(tasks, |line| waits.push(shape(&line)));
    waits
}

/// The waits with back-to-back repeats counted once (see the module docs).
fn merged(mut waits: Vec<Shape>) -> Vec<Shape> {
    waits.dedup();
    waits
}

/// readyloop's `sleepy`, line for line the mini loop's.
async fn sleepy(h: Handle, count: u32, pause: Duration) {
    for _ in 0..count {
        h.sleep(pause).await;
    }
}

#[test]
fn sleepy_makes_the_same_waits() {
    let pause = Duration::from_millis(40);
    let mini = on_mini(
        (0..5)
            .map(|j| Box::pin(mini_loop::sleepy(format!("c{j}"), 3, pause)) as mini_loop::Task)
            .collect(),
    );
    let real = on_readyloop(|h| {
        for _ in 0..5 {
            h.spawn(sleepy(h.clone(), 3, pause));
        }
    });
    // Under valgrind the five deadlines are no longer microseconds apart (see below).
    if std::env::var_os("READYLOOP_UNDER_VALGRIND").is_some() {
        return;
    }
    // Five sleepers' deadlines microseconds apart: one wait per round, in both loops.
    assert_eq!(mini, real, "mini loop's waits vs readyloop's");
    assert_eq!(mini.len(), 3, "{mini:?}");
}

#[test]
fn read_socket_makes_the_same_waits() {
    let pair = UnixStream::pair().unwrap();
    pair.1.set_nonblocking(true).unwrap();
    let file = std::fs::File::open("/dev/urandom").unwrap();
    let mini = on_mini(mini_loop::read_socket(&[pair.0, pair.1], &file));

    let (tx, rx) = UnixStream::pair().unwrap();
    rx.set_nonblocking(true).unwrap();
    let file = std::fs::File::open("/dev/urandom").unwrap();
    let real = on_readyloop(|h| {
        h.spawn(sleepy(h.clone(), 3, Duration::from_millis(100)));
        h.spawn({
            let h = h.clone();
            async move {
                for _ in 0..4 {
                    rustix::io::write(&tx, &[b'x'; 4096]).unwrap();
                    h.sleep(Duration::from_millis(30)).await;
                }
            }
        });
        h.spawn({
            let h = h.clone();
            async move {
                let (mut got, mut buf) = (0, [0u8; 1024]);
                while got < 4 * 4096 {
                    got += AsyncRecv::new(&h, rx.as_fd(), &mut buf).await.unwrap();
                }
            }
        });
        h.spawn({
            let h = h.clone();
            async move {
                let mut data = vec![0u8; 32 * 1024];
                ReadFd::exact(&h, file.as_fd(), &mut data).await.unwrap();
            }
        });
    });
    // Which waits happen depends on timing (a 30 ms writer beside 100 ms sleepers); under
    // valgrind's 20-50x slowdown it differs, so there the programs only run (memcheck
    // checks them) and the comparison is left to the plain `cargo test`.
    if std::env::var_os("READYLOOP_UNDER_VALGRIND").is_some() {
        return;
    }
    assert_eq!(
        merged(mini.clone()),
        merged(real),
        "mini loop's waits vs readyloop's"
    );
    assert!(mini.len() >= 8, "{mini:?}");
    assert!(mini.iter().any(|(fds, _)| fds.len() == 2), "{mini:?}");
}
