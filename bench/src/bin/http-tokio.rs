//! hyper's HTTP/1.1 server on tokio's current_thread runtime, the baseline of the HTTP rows
//! (`src/bin/http.rs`): the same service as `http-readyloop`
//! (`readyloop_bench::http_service`), with hyper-util's `TokioIo` and `TokioTimer`, keep-alive,
//! hyper's default settings and TCP_NODELAY, written the way hyper's guide writes one.
//!
//! Run: `cargo run --release -p readyloop-bench --bin http-tokio [IP:PORT]`; prints
//! `listening on IP:PORT` and serves until killed.

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use readyloop_bench::http_service::hello;
use readyloop_bench::{announce, bind_addr};
use std::time::Duration;
use tokio::net::TcpListener;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = TcpListener::bind(bind_addr()).await.expect("bind");
        announce(listener.local_addr().expect("local_addr"));
        loop {
            let Ok((stream, _peer)) = listener.accept().await else {
                // Out of fds, say: wait instead of spinning on the error.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service_fn(hello))
                    .await;
            });
        }
    });
}
