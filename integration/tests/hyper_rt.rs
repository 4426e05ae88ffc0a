//! readyloop's hyper integration (feature `hyper`) from a user's side: a hyper client
//! (HTTP/1.1 and HTTP/2) against the example server, a WebSocket upgraded through hyper,
//! and the thread rules of the `Send` wrappers (a sleep or a socket polled on another
//! thread panics with a message; dropped on another thread it is leaked, never freed
//! there).

mod server;

use async_tungstenite::tungstenite::Message;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::rt::Timer;
use readyloop::hyper::{HyperIo, HyperSleep, HyperTimer};
use readyloop::net::TcpStream;
use readyloop::{Handle, Loop};
use server::{pattern, Server};
use std::future::Future;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

fn run<T>(f: impl AsyncFnOnce(Handle) -> T) -> T {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    lp.block_on(h.timeout(Duration::from_secs(30), f(h.clone())))
        .expect("the test took over 30 s")
}

#[test]
fn hyper_client_http1_get_and_post() {
    let server = Server::start(&[]);
    let data = pattern(3 << 20);
    let (hello, echoed) = run(async |h| {
        let stream = TcpStream::connect(&h, server.addr.as_str()).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(HyperIo::new(stream))
            .await
            .unwrap();
        h.spawn(conn);
        let req = hyper::Request::get("/")
            .header("host", "x")
            .body(Full::new(Bytes::new()));
        let res = sender.send_request(req.unwrap()).await.unwrap();
        let hello = res.into_body().collect().await.unwrap().to_bytes();
        let req = hyper::Request::post("/echo").header("host", "x");
        let req = req.body(Full::new(Bytes::from(data.clone()))).unwrap();
        let res = sender.send_request(req).await.unwrap();
        (hello, res.into_body().collect().await.unwrap().to_bytes())
    });
    assert_eq!(&hello[..], b"hello from readyloop\n");
    assert!(echoed == data, "the echo differs ({} bytes)", echoed.len());
}

#[test]
fn hyper_client_http2_on_the_loop_executor() {
    let server = Server::start(&[]);
    let data = pattern(1 << 20);
    let echoed = run(async |h| {
        let stream = TcpStream::connect(&h, server.addr.as_str()).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http2::Builder::new(h.clone())
            .timer(HyperTimer)
            .handshake(HyperIo::new(stream))
            .await
            .unwrap();
        h.spawn(conn);
        let uri = format!("http://{}/echo", server.addr);
        let req = hyper::Request::post(uri).body(Full::new(Bytes::from(data.clone())));
        let res = sender.send_request(req.unwrap()).await.unwrap();
        assert_eq!(res.version(), hyper::Version::HTTP_2);
        res.into_body().collect().await.unwrap().to_bytes()
    });
    assert!(
        echoed == data,
        "the h2 echo differs ({} bytes)",
        echoed.len()
    );
}

#[test]
fn websocket_upgraded_through_hyper_echoes_every_byte() {
    let server = Server::start(&[]);
    let big = pattern(200_000);
    run(async |h| {
        let stream = TcpStream::connect(&h, server.addr.as_str()).await.unwrap();
        let url = format!("ws://{}/ws", server.addr);
        let (mut ws, res) = async_tungstenite::client_async(url, stream).await.unwrap();
        assert_eq!(res.status(), 101);
        for i in 0..20 {
            let text = format!("message {i}");
            ws.send(Message::text(text.clone())).await.unwrap();
            assert_eq!(ws.next().await.unwrap().unwrap(), Message::text(text));
        }
        ws.send(Message::binary(big.clone())).await.unwrap();
        let back = ws.next().await.unwrap().unwrap().into_data();
        assert!(
            back[..] == big[..],
            "the binary echo differs ({} bytes)",
            back.len()
        );
        ws.close(None).await.unwrap();
    });
}

fn panic_message(e: Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn hyper_sleep_polled_without_a_loop_panics_by_name() {
    let mut sleep = HyperTimer.sleep(Duration::from_millis(1));
    let mut cx = Context::from_waker(Waker::noop());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = sleep.as_mut().poll(&mut cx);
    }));
    let msg = panic_message(caught.unwrap_err());
    assert!(msg.contains("no running readyloop loop"), "{msg}");
}

/// The two tests below check that a value dropped on a foreign thread is leaked rather
/// than freed there: by design, so under valgrind (which reports the leak) they stand down.
fn under_valgrind() -> bool {
    std::env::var_os("READYLOOP_UNDER_VALGRIND").is_some()
}

#[test]
fn hyper_sleep_polled_on_another_thread_panics_and_its_drop_there_leaks() {
    if under_valgrind() {
        return;
    }
    let lp = Loop::new().unwrap();
    let mut sleep = Box::pin(HyperSleep::until(
        std::time::Instant::now() + Duration::from_secs(60),
    ));
    lp.block_on(async {
        let polled = std::future::poll_fn(|cx| Poll::Ready(sleep.as_mut().poll(cx))).await;
        assert!(polled.is_pending()); // armed on this loop
    });
    assert_eq!(lp.handle().stats().timers_armed, 1);
    let outcome = std::thread::spawn(move || {
        let mut cx = Context::from_waker(Waker::noop());
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = sleep.as_mut().poll(&mut cx);
        }));
        drop(sleep); // on the wrong thread: leaked, the loop is not touched from here
        caught
    })
    .join()
    .unwrap();
    let msg = panic_message(outcome.unwrap_err());
    assert!(
        msg.contains("a readyloop timer (HyperSleep) polled on another thread"),
        "{msg}"
    );
    // The leaked sleep never cancelled its entry: the loop still works and fires it.
    assert_eq!(lp.handle().stats().timers_armed, 1);
    lp.block_on(lp.handle().sleep(Duration::from_millis(1)));
}

#[test]
fn hyper_io_on_another_thread_panics_and_is_leaked_not_closed() {
    if under_valgrind() {
        return;
    }
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (a, b) = readyloop::net::UnixStream::pair(&h).unwrap();
    let mut io = HyperIo::new(a);
    let caught = std::thread::spawn(move || {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = io.inner();
        }));
        drop(io);
        caught
    })
    .join()
    .unwrap();
    let msg = panic_message(caught.unwrap_err());
    assert!(msg.contains("HyperIo) polled on another thread"), "{msg}");
    // Leaked, so still open: the peer sees no end of file (a recv would wait).
    let waited = lp.block_on(h.timeout(Duration::from_millis(50), async {
        let mut buf = [0u8; 1];
        b.recv(&mut buf).await
    }));
    assert!(
        waited.is_err(),
        "the peer saw {waited:?}: the stream was closed off-thread"
    );
}

#[test]
fn hyper_timer_reset_moves_an_armed_sleep() {
    run(async |_h| {
        let start = std::time::Instant::now();
        let mut sleep = HyperTimer.sleep(Duration::from_secs(60));
        let first = std::future::poll_fn(|cx| Poll::Ready(sleep.as_mut().poll(cx))).await;
        assert!(first.is_pending());
        HyperTimer.reset(&mut sleep, start + Duration::from_millis(20));
        sleep.await;
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(20) && took < Duration::from_secs(5),
            "{took:?}"
        );
    });
}

#[test]
fn instant_conversions_round_trip_and_never_run_early() {
    let now = std::time::Instant::now();
    for offset in [0u64, 1, 999, 1_000_000, 3_600_000_000_000] {
        let later = now + Duration::from_nanos(offset);
        let ours = readyloop::Instant::from_std(later);
        let back = ours.to_std();
        assert!(back >= later, "converted back {:?} early", later - back);
        assert!(
            back - later < Duration::from_millis(1),
            "{:?} late",
            back - later
        );
    }
    let lp = Loop::new().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_millis(10);
    lp.block_on(
        lp.handle()
            .sleep_until(readyloop::Instant::from_std(deadline)),
    );
    assert!(
        std::time::Instant::now() >= deadline,
        "woke before std's deadline"
    );
}
