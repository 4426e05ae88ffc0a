//! Steady state allocates nothing: a counting global allocator watches the loop's hot paths
//! (a turn, a wake, a timer re-arm, a read on a ready fd, a recv and a send on an
//! established TCP connection) after a warm-up, over many iterations, and the count must
//! be 0.
//!
//! The allocator counts only on a thread that switched counting on, so the test harness's
//! other threads cannot disturb a measurement.

use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::{Poll, Waker};
use readyloop::net::{TcpListener, TcpStream};
use readyloop::{yield_now, Loop, ReadFd};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::os::fd::AsFd;
use std::rc::Rc;
use std::time::Duration;

struct Counting;

std::thread_local! {
    /// Whether allocations on this thread are being counted.
    static ON: Cell<bool> = const { Cell::new(false) };
    /// Allocations (and reallocations) counted on this thread.
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator may run while thread-locals are being torn down.
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; counting only touches
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded with the caller's contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded with the caller's contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: forwarded with the caller's contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` with counting on and returns how many allocations it made.
fn count<R>(f: impl FnOnce() -> R) -> (R, u64) {
    COUNT.with(|c| c.set(0));
    ON.with(|on| on.set(true));
    let r = f();
    ON.with(|on| on.set(false));
    (r, COUNT.with(|c| c.get()))
}

const WARM: u32 = 1_000;
const ITERS: u32 = 20_000;

#[test]
fn a_turn_of_the_loop_allocates_nothing() {
    let lp = Loop::new().unwrap();
    // One task that yields forever keeps the loop turning; block_on(yield_now()) runs one
    // turn each time: callbacks, wake queue, run queue, a zero-timeout poll, dispatch.
    let h = lp.handle();
    let _spinner = h.spawn(async {
        loop {
            yield_now().await;
        }
    });
    for _ in 0..WARM {
        lp.block_on(yield_now());
    }
    let ((), n) = count(|| {
        for _ in 0..ITERS {
            lp.block_on(yield_now());
        }
    });
    assert_eq!(n, 0, "{n} allocations in {ITERS} turns");
}

#[test]
fn a_wake_allocates_nothing() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    // A task parks its waker in a shared slot; the main future wakes it from there, the
    // way a channel or an event would.
    let slot: Rc<RefCell<Option<Waker>>> = Rc::new(RefCell::new(None));
    let flag = Rc::new(Cell::new(false));
    let woken = Rc::new(Cell::new(0u64));
    let _waiter = h.spawn({
        let (slot, flag, woken) = (slot.clone(), flag.clone(), woken.clone());
        async move {
            loop {
                poll_fn(|cx| {
                    if flag.replace(false) {
                        return Poll::Ready(());
                    }
                    let mut s = slot.borrow_mut();
                    match s.as_mut() {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => *s = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                })
                .await;
                woken.set(woken.get() + 1);
            }
        }
    });
    let round = || {
        lp.block_on(async {
            flag.set(true);
            if let Some(w) = slot.borrow().as_ref() {
                w.wake_by_ref();
            }
            yield_now().await;
        })
    };
    for _ in 0..WARM {
        round();
    }
    let before = woken.get();
    let ((), n) = count(|| {
        for _ in 0..ITERS {
            round();
        }
    });
    assert_eq!(
        woken.get() - before,
        u64::from(ITERS),
        "every wake ran the task"
    );
    assert_eq!(n, 0, "{n} allocations in {ITERS} wakes");
}

#[test]
fn a_timer_re_arm_allocates_nothing() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    // Re-arm a Sleep that fires (short deadlines), and one that is moved before it fires.
    let fired = |iters: u32| {
        lp.block_on(async {
            let mut sleep = pin!(h.sleep(Duration::from_micros(1)));
            for _ in 0..iters {
                sleep.as_mut().await;
                let next = h.now() + Duration::from_micros(1);
                sleep.as_mut().get_mut().reset(next);
            }
        })
    };
    let moved = |iters: u32| {
        lp.block_on(async {
            let mut far = pin!(h.sleep(Duration::from_secs(3600)));
            for _ in 0..iters {
                // One poll arms it (Pending), then it is moved before it can fire.
                poll_fn(|cx| {
                    assert!(far.as_mut().poll(cx).is_pending());
                    Poll::Ready(())
                })
                .await;
                let next = h.now() + Duration::from_secs(3600);
                far.as_mut().get_mut().reset(next);
            }
        })
    };
    // Moved timers leave stale heap entries that are compacted away once they pass 1024:
    // warm up past that so the heap has reached its steady capacity.
    fired(WARM);
    moved(3 * 1024);
    let ((), n_fired) = count(|| fired(2_000));
    let ((), n_moved) = count(|| moved(ITERS));
    assert_eq!(n_fired, 0, "{n_fired} allocations in 2000 fired re-arms");
    assert_eq!(n_moved, 0, "{n_moved} allocations in {ITERS} moved re-arms");
}

#[test]
fn a_read_on_a_ready_pipe_allocates_nothing() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK).unwrap();
    // Each round: a task waits in the reactor on the empty pipe (EAGAIN, registers), the
    // main future writes, the poll reports it readable, the task reads and checks it.
    let reader = h.spawn({
        let h = h.clone();
        async move {
            let mut buf = [0u8; 8];
            let mut total = 0u64;
            loop {
                let n = ReadFd::new(&h, r.as_fd(), &mut buf).await.unwrap();
                if n == 0 {
                    return total;
                }
                assert_eq!(&buf[..n], b"ping");
                total += 1;
            }
        }
    });
    let round = || {
        lp.block_on(async {
            yield_now().await; // let the reader block in the reactor first
            rustix::io::write(&w, b"ping").unwrap();
            yield_now().await;
            yield_now().await;
        })
    };
    for _ in 0..WARM {
        round();
    }
    let ((), n) = count(|| {
        for _ in 0..ITERS {
            round();
        }
    });
    drop(w);
    let reads = lp.block_on(reader).unwrap();
    assert_eq!(reads, u64::from(WARM + ITERS));
    assert_eq!(n, 0, "{n} allocations in {ITERS} reads");
}

#[test]
fn a_recv_and_a_send_on_an_established_tcp_connection_allocate_nothing() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, server) = lp.block_on(async {
        // Loopback: the kernel completes the handshake into the backlog before accept.
        let client = TcpStream::connect(&h, addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (client, server)
    });
    client.set_nodelay(true).unwrap();
    server.set_nodelay(true).unwrap();
    // The server side echoes in a task (recv, then send_all); the client side sends a
    // message and receives its echo in the main future: each round is two recvs and two
    // sends through the reactor.
    let echo = h.spawn(async move {
        let mut buf = [0u8; 64];
        let mut echoed = 0u64;
        loop {
            let n = server.recv(&mut buf).await.unwrap();
            if n == 0 {
                return echoed;
            }
            server.send_all(&buf[..n]).await.unwrap();
            echoed += 1;
        }
    });
    let mut seq = 0u8;
    let mut round = || {
        seq = seq.wrapping_add(1);
        let msg = [seq; 48];
        let mut back = [0u8; 48];
        lp.block_on(async {
            client.send_all(&msg).await.unwrap();
            client.recv_exact(&mut back).await.unwrap();
        });
        assert_eq!(back, msg);
    };
    for _ in 0..WARM {
        round();
    }
    const ROUNDS: u32 = 5_000;
    let ((), n) = count(|| {
        for _ in 0..ROUNDS {
            round();
        }
    });
    drop(client);
    assert!(lp.block_on(echo).unwrap() >= u64::from(WARM + ROUNDS));
    assert_eq!(n, 0, "{n} allocations in {ROUNDS} TCP round trips");
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the guard: a counter that saw nothing would make every test above pass.
    let (v, n) = count(|| std::hint::black_box(Vec::<u8>::with_capacity(16)));
    drop(v);
    assert_eq!(n, 1);
    let lp = Loop::new().unwrap();
    let (_task, n) = count(|| lp.handle().spawn(async {}));
    assert!(n >= 1, "a spawn allocates its task");
}
