//! Running beside another runtime: futures that need tokio's reactor do not run on readyloop
//! (and readyloop's leaves do not run on tokio), but a channel to a tokio thread, or a helper
//! thread from `spawn_blocking`, bridges the two. Each direction fails loudly, never hangs.

use readyloop::{net, Handle, JoinError, Loop};
use std::future::Future;
use std::time::{Duration, Instant};

#[path = "../../tests/common/mod.rs"]
mod common;

/// A tokio current-thread runtime serving requests on its own std thread: the "other
/// runtime" of these tests. Dropping it stops the runtime and joins the thread.
struct TokioThread {
    requests: Option<tokio::sync::mpsc::UnboundedSender<Request>>,
    handle: tokio::runtime::Handle,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A question for the tokio side, and where to send the answer.
struct Request {
    n: u64,
    reply: tokio::sync::oneshot::Sender<u64>,
}

impl TokioThread {
    fn start() -> TokioThread {
        let (requests, mut inbox) = tokio::sync::mpsc::unbounded_channel::<Request>();
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tokio".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                handle_tx.send(rt.handle().clone()).unwrap();
                rt.block_on(async move {
                    // Serve until every sender is gone. Each answer needs tokio's own timer.
                    while let Some(Request { n, reply }) = inbox.recv().await {
                        tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            let _ = reply.send(n * 2);
                        });
                    }
                });
            })
            .unwrap();
        TokioThread {
            requests: Some(requests),
            handle: handle_rx.recv().unwrap(),
            thread: Some(thread),
        }
    }

    /// Asks the tokio side; the answer is a `oneshot::Receiver`, an ordinary future that
    /// any executor can await (it wakes whoever polls it through its `Waker`).
    fn ask(&self, n: u64) -> tokio::sync::oneshot::Receiver<u64> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.requests
            .as_ref()
            .unwrap()
            .send(Request { n, reply })
            .unwrap_or_else(|_| panic!("the tokio thread is gone"));
        answer
    }
}

impl Drop for TokioThread {
    fn drop(&mut self) {
        self.requests.take();
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

#[readyloop::test(timeout = "20s")]
async fn readyloop_tasks_await_answers_from_a_tokio_thread(handle: Handle) {
    let tokio = std::rc::Rc::new(TokioThread::start());
    let start = Instant::now();
    // Twenty readyloop tasks ask at once; tokio sleeps 20 ms per answer, concurrently.
    let askers: Vec<_> = (0..20u64)
        .map(|n| {
            let tokio = tokio.clone();
            handle.spawn(async move { tokio.ask(n).await.unwrap() })
        })
        .collect();
    // Meanwhile readyloop's own timers keep running on this thread.
    let ticks = handle.spawn({
        let h = handle.clone();
        async move {
            for _ in 0..3 {
                h.sleep(Duration::from_millis(5)).await;
            }
            h.now()
        }
    });
    let mut answers = Vec::new();
    for a in askers {
        answers.push(a.await.unwrap());
    }
    ticks.await.unwrap();
    assert_eq!(answers, (0..20).map(|n| n * 2).collect::<Vec<_>>());
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(20),
        "answered before tokio's sleep: {took:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "the answers were not concurrent: {took:?}"
    );
    assert!(
        handle.stats().wakeups_remote > 0,
        "woken from the tokio thread"
    );
}

#[readyloop::test(timeout = "20s")]
async fn a_helper_thread_runs_a_tokio_future_for_readyloop(handle: Handle) {
    // The other bridge: a blocking helper thread (readyloop's spawn_blocking) enters tokio's
    // runtime and blocks on a future that needs tokio's reactor (a tokio TCP echo here),
    // while the tokio thread drives that reactor.
    let tokio = TokioThread::start();
    let rt = tokio.handle.clone();
    let start = Instant::now();
    let echoed = handle
        .spawn_blocking(move || {
            rt.block_on(async {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let addr = listener.local_addr()?;
                let server = tokio::spawn(async move {
                    let (mut s, _) = listener.accept().await?;
                    let mut buf = [0u8; 5];
                    s.read_exact(&mut buf).await?;
                    s.write_all(&buf).await?;
                    Ok::<_, std::io::Error>(())
                });
                let mut c = tokio::net::TcpStream::connect(addr).await?;
                c.write_all(b"hello").await?;
                let mut buf = [0u8; 5];
                c.read_exact(&mut buf).await?;
                server.await.unwrap()?;
                tokio::time::sleep(Duration::from_millis(10)).await;
                Ok::<_, std::io::Error>(buf)
            })
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&echoed, b"hello");
    assert!(start.elapsed() >= Duration::from_millis(10));
    drop(tokio);
}

/// Runs `f` as a readyloop task and returns its panic message.
fn panic_message_on_readyloop<F: Future + 'static>(f: F) -> String {
    let lp = Loop::new().unwrap();
    let task = lp.handle().spawn(f);
    let start = Instant::now();
    let err = lp
        .block_on(task)
        .err()
        .expect("the future should have panicked");
    assert!(
        start.elapsed() < common::scaled(Duration::from_secs(5)),
        "it hung first"
    );
    match err {
        JoinError::Panicked(_) => err.panic_message().unwrap_or_default().to_string(),
        other => panic!("expected a panic, got {other:?}"),
    }
}

#[test]
fn a_future_that_needs_tokios_reactor_fails_loudly_on_readyloop() {
    // tokio's timer and sockets look for tokio's reactor on this thread, find none, and
    // panic with tokio's message: the task fails at once instead of hanging.
    let msg = panic_message_on_readyloop(async {
        tokio::time::sleep(Duration::from_millis(1)).await;
    });
    assert!(msg.contains("Tokio") || msg.contains("reactor"), "{msg}");
    let msg = panic_message_on_readyloop(async {
        let _ = tokio::net::TcpListener::bind("127.0.0.1:0").await;
    });
    assert!(msg.contains("Tokio") || msg.contains("reactor"), "{msg}");
}

#[test]
fn runtime_agnostic_futures_from_tokio_run_on_readyloop() {
    // tokio's sync channels need no reactor: they run on readyloop like any future.
    let lp = Loop::new().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(4);
    let h = lp.handle();
    let sum = lp.block_on(async move {
        let producer = h.spawn(async move {
            for i in 1..=10 {
                tx.send(i).await.unwrap();
            }
        });
        let mut sum = 0;
        while let Some(i) = rx.recv().await {
            sum += i;
        }
        producer.await.unwrap();
        sum
    });
    assert_eq!(sum, 55);
}

#[test]
fn readyloop_leaves_polled_by_tokio_say_so_instead_of_hanging() {
    // The other direction: a readyloop leaf inside a tokio runtime, its loop not running.
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let within = |f: std::pin::Pin<Box<dyn Future<Output = ()>>>| {
        let start = Instant::now();
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), f)
                    .await
                    .expect("hung instead of failing")
            })
        }));
        assert!(start.elapsed() < Duration::from_secs(5));
        out
    };

    // Sleep (and what is built on it) panics, naming the fix.
    let err = within(Box::pin({
        let h = h.clone();
        async move { h.sleep(Duration::from_millis(1)).await }
    }))
    .unwrap_err();
    let msg = panic_text(&*err);
    assert!(msg.contains("Loop::block_on"), "{msg}");

    // A JoinHandle: its task can only run on its own loop, so awaiting it elsewhere panics.
    let task = h.spawn(async { 5 });
    let err = within(Box::pin(async move {
        let _ = task.await;
    }))
    .unwrap_err();
    let msg = panic_text(&*err);
    assert!(msg.contains("Loop::block_on"), "{msg}");

    // I/O leaves return ErrorKind::NoLoop, each with the message naming the fix.
    let no_loop = |r: Result<(), readyloop::Error>, what: &str| {
        let err = r.expect_err(what);
        assert_eq!(err.kind(), readyloop::ErrorKind::NoLoop, "{what}: {err}");
        assert!(err.to_string().contains("Loop::block_on"), "{what}: {err}");
    };
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let a = readyloop::Async::new(&h, a).unwrap();
    let (c, d) = net::UnixStream::pair(&h).unwrap();
    let listener = net::TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let udp = net::UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
    let h2 = h.clone();
    within(Box::pin(async move {
        let mut buf = [0u8; 4];
        no_loop(a.read(&mut buf).await.map(drop), "Async::read");
        no_loop(a.write(b"x").await.map(drop), "Async::write");
        no_loop(c.recv(&mut buf).await.map(drop), "UnixStream::recv");
        no_loop(d.send_all(b"x").await, "UnixStream::send_all");
        no_loop(listener.accept().await.map(drop), "TcpListener::accept");
        no_loop(
            net::TcpStream::connect(&h2, addr).await.map(drop),
            "TcpStream::connect",
        );
        no_loop(
            udp.recv_from(&mut buf).await.map(drop),
            "UdpSocket::recv_from",
        );
        let fd = std::os::fd::AsFd::as_fd(&c);
        no_loop(
            readyloop::AsyncRecv::new(&h2, fd, &mut buf).await.map(drop),
            "AsyncRecv",
        );
    }))
    .unwrap();
}

/// The text of a panic payload (`panic!` with arguments gives a `String`, without a `&str`).
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[readyloop::test(timeout = "20s")]
async fn a_tokio_client_talks_to_a_readyloop_server(handle: Handle) {
    // Each runtime drives its own sockets on its own thread; they meet on loopback, and the
    // tokio side's verdict comes back on a oneshot channel that wakes this loop.
    let listener = net::TcpListener::bind(&handle, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = handle.spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.recv(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            buf[..n].make_ascii_uppercase();
            stream.send_all(&buf[..n]).await.unwrap();
        }
    });
    let tokio = TokioThread::start();
    let (verdict, answer) = tokio::sync::oneshot::channel();
    tokio.handle.spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"hello from tokio").await.unwrap();
        s.shutdown().await.unwrap();
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).await.unwrap();
        let _ = verdict.send(reply);
    });
    assert_eq!(answer.await.unwrap(), b"HELLO FROM TOKIO");
    server.await.unwrap();
    drop(tokio);
}
