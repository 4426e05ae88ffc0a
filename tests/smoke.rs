use readyloop::{AsyncRead, Loop};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

#[test]
fn sleeps_run_concurrently() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let start = Instant::now();
    let order = lp.block_on(async move {
        let mut tasks = Vec::new();
        for ms in [30u64, 20, 10, 40] {
            let h2 = h.clone();
            tasks.push(h.spawn(async move {
                h2.sleep(Duration::from_millis(ms)).await;
                ms
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    assert_eq!(order, vec![30, 20, 10, 40]);
    let el = start.elapsed();
    assert!(
        el >= Duration::from_millis(40) && el < Duration::from_millis(200),
        "{el:?}"
    );
}

#[test]
fn cross_thread_wake() {
    let lp = Loop::new().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<std::task::Waker>();
    let t = std::thread::spawn(move || {
        let w = rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        w.wake();
    });
    let mut sent = Some(tx);
    let mut polled = 0;
    lp.block_on(std::future::poll_fn(|cx| {
        polled += 1;
        if let Some(tx) = sent.take() {
            tx.send(cx.waker().clone()).unwrap();
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    }));
    t.join().unwrap();
    assert_eq!(polled, 2);
}

#[test]
fn read_pipe() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK).unwrap();
    let writer = h.spawn({
        let h = h.clone();
        async move {
            h.sleep(Duration::from_millis(10)).await;
            rustix::io::write(&w, b"abc").unwrap();
        }
    });
    let mut buf = [0u8; 8];
    let n = lp
        .block_on(AsyncRead::new(&h, r.as_fd(), &mut buf))
        .unwrap();
    assert_eq!(&buf[..n], b"abc");
    lp.block_on(writer).unwrap();
}
