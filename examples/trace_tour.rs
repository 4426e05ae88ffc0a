//! The articles' story, told live by the loop's trace: what each task yields, what the loop
//! asks the kernel (`poll`, `select` or `epoll`), and what the kernel answers.
//!
//! Two sleepers (seed 002's `AsyncSleep`) and an echo pair over a Unix socket pair (its
//! `AsyncRecv`) share one loop. Every line below comes from one `TraceEvent`, recorded as
//! JSON lines and told by the code of `tools/trace-view` (`trace-view story FILE` tells any
//! program's recorded trace the same way).
//!
//! Run: `cargo run --example trace_tour` (add `-- select` or `-- epoll` for another backend)

#[path = "../tools/trace-view/src/json.rs"]
mod json;
#[path = "../tools/trace-view/src/story.rs"]
mod story;

use readyloop::trace::JsonLines;
use readyloop::{AsyncRecv, BackendKind, Loop};
use std::cell::RefCell;
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

/// The trace's JSON lines, kept in memory.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() -> Result<(), readyloop::Error> {
    let backend = match std::env::args().nth(1).as_deref() {
        Some("select") => BackendKind::Select,
        Some("epoll") => BackendKind::Epoll,
        _ => BackendKind::default_kind(),
    };
    let recorded = Shared::default();
    let lp = Loop::builder()
        .backend(backend)
        .trace(JsonLines::new(recorded.clone()))
        .build()?;
    let h = lp.handle();
    let (client, server) = UnixStream::pair().expect("socketpair");
    client.set_nonblocking(true).expect("O_NONBLOCK");
    server.set_nonblocking(true).expect("O_NONBLOCK");

    let short = h.spawn_named("sleep(0.1)", {
        let h = h.clone();
        async move { h.sleep(Duration::from_millis(100)).await }
    });
    let long = h.spawn_named("sleep(0.3)", {
        let h = h.clone();
        async move { h.sleep(Duration::from_millis(300)).await }
    });
    let echo = h.spawn_named("echo server", {
        let h = h.clone();
        async move {
            let mut buf = [0u8; 64];
            let n = AsyncRecv::new(&h, server.as_fd(), &mut buf).await?;
            (&server).write_all(&buf[..n]).expect("write");
            Ok::<_, readyloop::Error>(n)
        }
    });
    let asker = h.spawn_named("client", {
        let h = h.clone();
        async move {
            h.sleep(Duration::from_millis(200)).await;
            (&client).write_all(b"ping").expect("write");
            let mut buf = [0u8; 64];
            let n = AsyncRecv::new(&h, client.as_fd(), &mut buf).await?;
            Ok::<_, readyloop::Error>(String::from_utf8_lossy(&buf[..n]).into_owned())
        }
    });
    let answer = lp.block_on(async move {
        short.await.ok();
        long.await.ok();
        echo.await.ok();
        asker.await
    });
    // The story is told from the recorded JSON lines, as `trace-view story FILE` tells any
    // program's.
    let text = String::from_utf8_lossy(&recorded.0.borrow()).into_owned();
    let events = json::read_trace(&text).expect("readyloop's own JSON lines");
    print!("{}", story::tell_all(&events));
    println!(
        "\nthe client got {:?} back",
        answer.ok().and_then(|r| r.ok())
    );
    Ok(())
}
