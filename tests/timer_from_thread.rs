//! A timer made on the loop, moved from another thread: `Sleep` is `!Send`, so the owning
//! task resets it on word from the other thread (a `Mutex` mailbox and a `Waker`, the
//! pattern `Sleep`'s docs show). The loop is blocked in its wait each time the word comes,
//! so this also checks that a wake from another thread ends that wait.

use readyloop::{select, Either, Loop};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

#[derive(Default)]
struct Mailbox {
    new_timeout: Option<Duration>,
    waker: Option<Waker>,
}

fn post(mailbox: &Mutex<Mailbox>, d: Duration) {
    let mut m = mailbox.lock().unwrap();
    m.new_timeout = Some(d);
    if let Some(w) = m.waker.take() {
        w.wake();
    }
}

#[test]
fn another_thread_moves_a_loop_timer_later_then_earlier() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mailbox = Arc::new(Mutex::new(Mailbox::default()));
    let other = std::thread::spawn({
        let mailbox = mailbox.clone();
        move || {
            // Each word comes while the loop is blocked: the timer is far off.
            for _ in 0..5 {
                std::thread::sleep(Duration::from_millis(20));
                post(&mailbox, Duration::from_secs(3600)); // later
            }
            std::thread::sleep(Duration::from_millis(20));
            post(&mailbox, Duration::from_millis(30)); // earlier
        }
    });
    let (took, resets) = lp.block_on(async {
        let start = h.now();
        let mut timer = h.sleep(Duration::from_millis(300));
        let mut resets = 0;
        loop {
            let word = core::future::poll_fn(|cx| {
                let mut m = mailbox.lock().unwrap();
                match m.new_timeout.take() {
                    Some(d) => Poll::Ready(d),
                    None => {
                        m.waker = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            });
            match select(&mut timer, word).await {
                Either::Left(()) => break (h.now() - start, resets),
                Either::Right(d) => {
                    resets += 1;
                    timer.reset(h.now() + d);
                }
            }
        }
    });
    other.join().unwrap();
    // Words posted while the loop is descheduled coalesce in the mailbox (a busy machine);
    // the last one (earlier) always arrives, and the bounds below check it took effect.
    assert!((1..=6).contains(&resets), "{resets} resets");
    // 6 words 20 ms apart (the first pushed 300 ms to an hour), then 30 ms.
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let stats = h.stats();
    assert!(stats.polls < 100, "the loop slept between words: {stats:?}");
    assert!(
        stats.wakeups_remote >= 6,
        "each word woke the blocked loop: {stats:?}"
    );
    assert!(
        stats.time_blocked >= Duration::from_millis(100),
        "{stats:?}"
    );
}
