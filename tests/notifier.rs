//! The notifier in the wait: the poll(2) backend leaves the loop's notifier out of a wait
//! while no waker could wake the loop from another thread (a waker a task or the main
//! future gave away, or a clock hold), and puts it back as soon as one exists. A wake from
//! another thread is never lost, however it races with the loop going to sleep.

use readyloop::trace::TraceEvent;
use readyloop::{BackendKind, Loop};
use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

mod common;

/// The fd lists of the waits that could block (timeout not zero), in order.
type Waits = Rc<RefCell<Vec<usize>>>;

fn traced_poll_loop() -> (Loop, Waits) {
    let waits: Waits = Rc::default();
    let sink = waits.clone();
    let lp = Loop::builder()
        .backend(BackendKind::Poll)
        .trace(move |_, ev: &TraceEvent<'_>| {
            if let TraceEvent::Wait { fds, timeout, .. } = ev {
                if *timeout != Some(Duration::ZERO) {
                    sink.borrow_mut().push(fds.len());
                }
            }
        })
        .build()
        .unwrap();
    (lp, waits)
}

/// A future that hands a clone of its waker to `give` on its first poll and is ready on
/// the next.
async fn give_waker_away(give: impl FnOnce(Waker)) {
    let mut give = Some(give);
    poll_fn(move |cx| match give.take() {
        Some(give) => {
            give(cx.waker().clone());
            Poll::Pending
        }
        None => Poll::Ready(()),
    })
    .await
}

#[test]
fn a_loop_whose_wakers_stay_home_waits_without_its_notifier() {
    let (lp, waits) = traced_poll_loop();
    let h = lp.handle();
    let pause = common::scaled(Duration::from_millis(5));

    // Only sleepers: their wakers stay in the loop's timer table. The waits hand the kernel
    // no fd at all.
    let sleeper = h.spawn({
        let h = h.clone();
        async move { h.sleep(pause).await }
    });
    lp.block_on(async {
        h.sleep(pause).await;
        sleeper.await.unwrap();
    });
    let quiet = std::mem::take(&mut *waits.borrow_mut());
    assert!(
        !quiet.is_empty() && quiet.iter().all(|&n| n == 0),
        "{quiet:?}"
    );

    // A task gives its waker to another thread, which wakes it 30 ms later: meanwhile the
    // wait includes the notifier (the only fd), and the wake ends it.
    let (tx, rx) = mpsc::channel::<Waker>();
    let thread = std::thread::spawn(move || {
        let waker = rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(30));
        waker.wake();
    });
    let task = h.spawn(give_waker_away(move |w| tx.send(w).unwrap()));
    lp.block_on_timeout(common::scaled(Duration::from_secs(5)), task)
        .expect("the wake from the other thread ended the wait")
        .unwrap();
    thread.join().unwrap();
    let remote = std::mem::take(&mut *waits.borrow_mut());
    assert!(remote.contains(&1), "{remote:?}");

    // That waker is gone (woken), and one given away and dropped unwoken is gone too: the
    // waits are back to no fd.
    drop(h.spawn(give_waker_away(drop))); // detached; it stays pending
    lp.block_on(h.sleep(pause));
    let after = std::mem::take(&mut *waits.borrow_mut());
    assert!(
        !after.is_empty() && after.iter().all(|&n| n == 0),
        "{after:?}"
    );
}

#[test]
fn the_main_future_giving_its_waker_away_brings_the_notifier_back() {
    let (lp, waits) = traced_poll_loop();
    let (tx, rx) = mpsc::channel::<Waker>();
    let thread = std::thread::spawn(move || {
        let waker = rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(30));
        waker.wake();
    });
    lp.block_on_timeout(
        common::scaled(Duration::from_secs(5)),
        give_waker_away(move |w| tx.send(w).unwrap()),
    )
    .expect("the wake from the other thread ended the wait");
    thread.join().unwrap();
    assert!(waits.borrow().contains(&1), "{:?}", waits.borrow());
}

#[test]
fn a_clock_hold_keeps_the_notifier_in_the_wait() {
    let (lp, waits) = traced_poll_loop();
    let h = lp.handle();
    let hold = h.hold_virtual_clock();
    lp.block_on(h.sleep(common::scaled(Duration::from_millis(5))));
    assert!(
        waits.borrow().iter().all(|&n| n == 1),
        "{:?}",
        waits.borrow()
    );
    drop(hold);
    waits.borrow_mut().clear();
    lp.block_on(h.sleep(common::scaled(Duration::from_millis(5))));
    assert!(
        waits.borrow().iter().all(|&n| n == 0),
        "{:?}",
        waits.borrow()
    );
}

/// The race the count must win: a waker given away and woken at once by another thread,
/// while the loop decides whether its next wait needs the notifier. The other thread spins
/// (no channel, no sleep) so its wake lands within a microsecond of the hand-over, and the
/// gap varies round to round to sweep the loop's way from the poll to the wait. Each round
/// must end by the wake, not by the deadline.
#[test]
fn wakes_racing_the_loop_to_sleep_are_never_lost() {
    let rounds = common::sized(3_000, 100);
    for kind in [BackendKind::Poll, BackendKind::Select, BackendKind::Epoll] {
        let lp = Loop::builder().backend(kind).build().unwrap();
        let h = lp.handle();
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let done = Arc::new(AtomicBool::new(false));
        let waker_thread = std::thread::spawn({
            let (slot, done) = (slot.clone(), done.clone());
            move || {
                let mut round = 0usize;
                while !done.load(Ordering::Relaxed) {
                    let Some(waker) = slot.lock().unwrap().take() else {
                        std::hint::spin_loop();
                        continue;
                    };
                    for _ in 0..(round % 64) * 20 {
                        std::hint::spin_loop();
                    }
                    round += 1;
                    waker.wake();
                }
            }
        });
        let give = || {
            let slot = slot.clone();
            move |w: Waker| *slot.lock().unwrap() = Some(w)
        };
        let all = async {
            for i in 0..rounds {
                if i % 2 == 0 {
                    h.spawn(give_waker_away(give())).await.unwrap();
                } else {
                    give_waker_away(give()).await;
                }
            }
        };
        let result = lp.block_on_timeout(common::scaled(Duration::from_secs(30)), all);
        done.store(true, Ordering::Relaxed);
        waker_thread.join().unwrap();
        result.unwrap_or_else(|stuck| panic!("{kind}: a wake was lost: {stuck}"));
    }
}
