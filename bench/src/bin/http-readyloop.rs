//! hyper's HTTP/1.1 server on readyloop, for the HTTP rows (`src/bin/http.rs`): GET / answers
//! `hello\n` (`readyloop_bench::http_service`, the same service `http-tokio` runs), with
//! keep-alive, hyper's default settings and readyloop's hyper timer (so hyper's default 30 s
//! header-read timeout is in force, as in any deployed server), TCP_NODELAY on every
//! connection. The loop is `Loop::new()`: the default configuration (adaptive backend).
//!
//! Run: `cargo run --release -p readyloop-bench --bin http-readyloop [IP:PORT]`; prints
//! `listening on IP:PORT` and serves until killed.

use hyper::server::conn::http1;
use hyper::service::service_fn;
use readyloop::hyper::{HyperIo, HyperTimer};
use readyloop::net::TcpListener;
use readyloop::Loop;
use readyloop_bench::http_service::hello;
use readyloop_bench::{announce, bind_addr};
use std::time::Duration;

fn main() {
    let lp = Loop::new().expect("loop");
    let h = lp.handle();
    let listener = TcpListener::bind(&h, bind_addr()).expect("bind");
    announce(listener.local_addr().expect("local_addr"));
    lp.block_on(async move {
        loop {
            let Ok((stream, _peer)) = listener.accept().await else {
                // Out of fds, say: wait instead of spinning on the error.
                h.sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let conn = http1::Builder::new()
                .timer(HyperTimer)
                .serve_connection(HyperIo::new(stream), service_fn(hello));
            drop(h.spawn(async move {
                let _ = conn.await;
            }));
        }
    });
}
