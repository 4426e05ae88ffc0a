//! The one rule for reaching the loop: a free function (`readyloop::sleep`, `timeout`,
//! `spawn`, ...) is exactly `Handle::current().method(..)`: it finds the loop when it is
//! called, takes any deadline then, and panics outside a running loop with a message naming
//! the fix. A future polled while its loop is not running gives `ErrorKind::NoLoop` if its
//! output is a `Result`, and panics with the same kind of message otherwise.

use core::future::{pending, Future};
use core::pin::pin;
use readyloop::{ErrorKind, Handle, Loop, ReturnWhen};
use std::os::fd::AsFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// The panic message of `f`, or `None` if it returned.
fn panic_message(f: impl FnOnce()) -> Option<String> {
    let payload = catch_unwind(AssertUnwindSafe(f)).err()?;
    Some(
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

/// The message names the way out: run the loop, or pass a Handle.
fn assert_names_the_fix(what: &str, message: Option<String>) {
    let message = message.unwrap_or_else(|| panic!("{what} outside a running loop did not panic"));
    assert!(
        message.contains("block_on") && message.contains("Handle"),
        "{what}: the panic does not name the fix: {message}"
    );
}

struct NoopWake;
impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

/// Polls `f` once, by hand, with no loop running.
fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    let waker = Waker::from(Arc::new(NoopWake));
    let mut cx = Context::from_waker(&waker);
    pin!(f).poll(&mut cx)
}

/// The bug of issue 15: on a virtual clock that has jumped an hour, a `readyloop::timeout`
/// made outside the loop took its deadline from the real clock and elapsed at once, while
/// `h.timeout` took 10 s of loop time. Now the free function finds the loop when called: made
/// outside one it panics, made inside it takes its 10 s of loop time like `h.timeout`.
#[test]
fn a_free_timeout_on_a_jumped_virtual_clock_takes_its_full_time() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    lp.block_on(h.sleep(Duration::from_secs(3600)));

    let made_outside = catch_unwind(AssertUnwindSafe(|| {
        readyloop::timeout(Duration::from_secs(10), pending::<()>())
    }));
    if let Ok(timeout) = made_outside {
        let start = h.now();
        let result = lp.block_on(timeout);
        panic!(
            "readyloop::timeout made outside the loop did not panic; it gave {result:?} after \
             {:?} of loop time instead of 10 s",
            h.now() - start
        );
    }

    let start = h.now();
    let free =
        lp.block_on(async { readyloop::timeout(Duration::from_secs(10), pending::<()>()).await });
    assert!(free.is_err());
    let took = h.now() - start;
    assert!(
        took >= Duration::from_secs(10),
        "readyloop::timeout took {took:?}"
    );

    let start = h.now();
    assert!(lp
        .block_on(h.timeout(Duration::from_secs(10), pending::<()>()))
        .is_err());
    assert!(h.now() - start >= Duration::from_secs(10));
}

/// Every free function that reaches the loop panics the same way outside a running one,
/// whether or not it needs a deadline or a helper thread.
#[test]
fn every_free_function_panics_outside_a_loop_naming_the_fix() {
    let d = Duration::from_millis(1);
    assert_names_the_fix("spawn", panic_message(|| drop(readyloop::spawn(async {}))));
    assert_names_the_fix("sleep", panic_message(|| drop(readyloop::sleep(d))));
    assert_names_the_fix(
        "sleep_until",
        panic_message(|| drop(readyloop::sleep_until(readyloop::Instant::from_nanos(0)))),
    );
    assert_names_the_fix(
        "timeout_at",
        panic_message(|| {
            drop(readyloop::timeout_at(
                readyloop::Instant::from_nanos(0),
                pending::<()>(),
            ))
        }),
    );
    assert_names_the_fix("interval", panic_message(|| drop(readyloop::interval(d))));
    assert_names_the_fix(
        "timeout",
        panic_message(|| drop(readyloop::timeout(d, pending::<()>()))),
    );
    assert_names_the_fix(
        "wait",
        panic_message(|| {
            drop(readyloop::wait(
                Vec::<readyloop::JoinHandle<()>>::new(),
                ReturnWhen::AllCompleted,
                None,
            ))
        }),
    );
    assert_names_the_fix(
        "spawn_blocking",
        panic_message(|| drop(readyloop::spawn_blocking(|| 1))),
    );
    assert_names_the_fix(
        "resolve",
        panic_message(|| drop(readyloop::resolve("localhost", 80))),
    );
}

/// A free function called inside the loop binds to it at once: the future it returns may
/// then be polled by that loop later, like the Handle method's.
#[test]
fn a_free_function_binds_to_the_loop_it_is_called_in() {
    let lp = Loop::builder().virtual_clock().build().unwrap();
    let h = lp.handle();
    // `made_at` is read first: the sleep's deadline is taken when it is made, a moment
    // later on a busy machine, and the clock jumps exactly to that deadline.
    let (made_at, sleep) = lp.block_on(async {
        (
            Handle::current().now(),
            readyloop::sleep(Duration::from_secs(5)),
        )
    });
    lp.block_on(sleep);
    assert!(h.now() - made_at >= Duration::from_secs(5));
}

/// Polled while its loop is not running: a leaf with a `Result` output is `NoLoop`; a
/// `Sleep` and an unfinished `JoinHandle`, which have no error channel, panic.
#[test]
fn leaves_polled_while_their_loop_is_stopped() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, _w) = std::io::pipe().unwrap();
    let mut buf = [0u8; 1];
    match poll_once(readyloop::ReadFd::new(&h, r.as_fd(), &mut buf)) {
        Poll::Ready(Err(e)) => assert_eq!(e.kind(), ErrorKind::NoLoop),
        other => panic!("ReadFd outside its loop: {other:?}"),
    }
    let (a, _b) = readyloop::net::UnixStream::pair(&h).unwrap();
    match poll_once(a.recv(&mut buf)) {
        Poll::Ready(Err(e)) => assert_eq!(e.kind(), ErrorKind::NoLoop),
        other => panic!("UnixStream::recv outside its loop: {other:?}"),
    }
    assert_names_the_fix(
        "Sleep",
        panic_message(|| {
            let _ = poll_once(h.sleep(Duration::from_millis(1)));
        }),
    );
    let mut every = h.interval(Duration::from_millis(1));
    assert_names_the_fix(
        "Interval::tick",
        panic_message(|| {
            let _ = poll_once(every.tick());
        }),
    );
    let task = h.spawn(pending::<()>());
    assert_names_the_fix("JoinHandle", panic_message(|| drop(poll_once(task))));
}
