//! A picture of the loop: tasks over time, drawn from the trace, as an SVG.
//!
//! Three sleepers and an echo pair over TCP on 127.0.0.1 (a client sending a line every
//! 150 ms, a server accepting it and echoing each line after 40 ms) share one loop, traced
//! as JSON lines; the picture is drawn by the same code as `tools/trace-view`, which draws
//! any program's recorded trace (see its docs). Each task gets a row with bands for running
//! (red), waiting on an fd (blue), waiting on a timer (orange), waiting on another task
//! (grey) and queued to run (green). The bottom row is the loop itself: a tick for each
//! wait, the time it blocked as a solid line and the timeout it asked for as a dashed one.
//!
//! Run: `cargo run --example timeline -- timeline.svg` (the path defaults to timeline.svg)

#[path = "../tools/trace-view/src/json.rs"]
mod json;
#[path = "../tools/trace-view/src/svg.rs"]
mod svg;

use readyloop::net::{TcpListener, TcpStream};
use readyloop::trace::JsonLines;
use readyloop::Loop;
use std::cell::RefCell;
use std::io::Write;
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "timeline.svg".into());
    let recorded = Shared::default();
    let lp = Loop::builder()
        .trace(JsonLines::new(recorded.clone()))
        .build()?;
    let h = lp.handle();

    let mut tasks = Vec::new();
    for (name, period, times) in [
        ("sleeper 200 ms", 200, 4),
        ("sleeper 300 ms", 300, 3),
        ("ticker 70 ms", 70, 12),
    ] {
        let h2 = h.clone();
        tasks.push(h.spawn_named(name, async move {
            for _ in 0..times {
                h2.sleep(Duration::from_millis(period)).await;
            }
        }));
    }
    let listener = TcpListener::bind(&h, "127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    tasks.push(h.spawn_named("echo server", {
        let h = h.clone();
        async move {
            let (conn, _peer) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 64];
            loop {
                match conn.recv(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        // Think a little before answering, so the client's fd wait shows.
                        h.sleep(Duration::from_millis(40)).await;
                        conn.send_all(&buf[..n]).await.expect("echo");
                    }
                }
            }
        }
    }));
    tasks.push(h.spawn_named("echo client", {
        let h = h.clone();
        async move {
            let conn = TcpStream::connect(&h, addr).await.expect("connect");
            for i in 0..5 {
                h.sleep(Duration::from_millis(150)).await;
                let line = format!("line {i}\n");
                conn.send_all(line.as_bytes()).await.expect("send");
                let mut buf = [0u8; 64];
                let n = conn.recv(&mut buf).await.expect("recv");
                assert_eq!(&buf[..n], line.as_bytes());
            }
            // Dropping the connection ends the server's loop (recv returns 0).
        }
    }));
    lp.block_on(async move {
        for t in tasks {
            t.await.expect("task");
        }
    });
    let text = String::from_utf8(recorded.0.borrow().clone())?;
    let svg = svg::render(&json::read_trace(&text)?);
    std::fs::write(&path, svg)?;
    println!("wrote {path}");
    Ok(())
}
