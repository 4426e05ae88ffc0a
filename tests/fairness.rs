//! Fairness (seed 002 warns about starvation): an always-ready reader cannot starve sleepers
//! or other readers, and a task that wakes itself forever cannot starve I/O or timers.

use readyloop::{Loop, ReadFd};
use std::cell::Cell;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::rc::Rc;
use std::time::{Duration, Instant};

mod common;

/// Runs `hog` next to a sleeper (5 x 10 ms) and a pipe reader fed by a timer, and checks
/// both finish close to on time while the hog is still going.
fn assert_hog_cannot_starve(make_hog: impl FnOnce(readyloop::Handle, Rc<Cell<bool>>)) {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let stop = Rc::new(Cell::new(false));
    make_hog(h.clone(), stop.clone());

    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK).unwrap();
    let h2 = h.clone();
    let reader = h.spawn(async move {
        let mut buf = [0u8; 4];
        ReadFd::exact(&h2, r.as_fd(), &mut buf).await.unwrap();
        buf
    });
    let h3 = h.clone();
    let writer = h.spawn(async move {
        h3.sleep(Duration::from_millis(15)).await;
        rustix::io::write(&w, b"ping").unwrap();
    });
    let h4 = h.clone();
    let start = Instant::now();
    let sleeper = h.spawn(async move {
        let mut worst = Duration::ZERO;
        for _ in 0..5 {
            let t = Instant::now();
            h4.sleep(Duration::from_millis(10)).await;
            worst = worst.max(t.elapsed() - Duration::from_millis(10));
        }
        worst
    });
    let (worst, buf) = lp.block_on(async {
        let worst = sleeper.await.unwrap();
        writer.await.unwrap();
        (worst, reader.await.unwrap())
    });
    let took = start.elapsed();
    stop.set(true);
    lp.block_on(h.sleep(Duration::from_millis(1)));
    // Generous bounds: a starved sleeper would never fire at all, while a shared 2-core
    // machine can deschedule the loop thread for tens of milliseconds.
    assert_eq!(&buf, b"ping");
    assert!(
        worst < common::scaled(Duration::from_millis(250)),
        "a sleeper was {worst:?} late"
    );
    assert!(
        took < common::scaled(Duration::from_millis(1500)),
        "{took:?}"
    );
}

#[test]
fn an_always_ready_reader_cannot_starve_sleepers_or_other_readers() {
    let reads = Rc::new(Cell::new(0u64));
    let r2 = reads.clone();
    assert_hog_cannot_starve(move |h, stop| {
        // /dev/zero opened non-blocking is always readable: every read succeeds at once.
        let zero = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/zero")
            .unwrap();
        h.spawn({
            let h = h.clone();
            async move {
                let mut buf = [0u8; 64];
                while !stop.get() {
                    ReadFd::new(&h, zero.as_fd(), &mut buf).await.unwrap();
                    r2.set(r2.get() + 1);
                }
            }
        });
    });
    // Under valgrind every read is some 10 times slower (about 4,000 reads, not 50,000).
    let enough = common::sized(1000, 100);
    assert!(reads.get() > enough, "the hog ran too: {}", reads.get());
}

#[test]
fn a_task_that_wakes_itself_forever_cannot_starve_io_or_timers() {
    let spins = Rc::new(Cell::new(0u64));
    let s2 = spins.clone();
    assert_hog_cannot_starve(move |h, stop| {
        h.spawn(async move {
            while !stop.get() {
                readyloop::yield_now().await;
                s2.set(s2.get() + 1);
            }
        });
    });
    // Under valgrind every turn is some 50 times slower (about 250 spins, not 15,000).
    let enough = common::sized(100, 10);
    assert!(spins.get() > enough, "the spinner ran too: {}", spins.get());
}
