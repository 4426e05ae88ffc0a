//! readyloop as an echo server, on the crate's own socket types and written the way
//! `examples/echo_server.rs` is: an accept loop that spawns one task per connection, each
//! running `readyloop::net::echo_pooled` (it waits buffer-less and takes a `BUF` buffer from a
//! shared pool only while it has something to receive; TCP_NODELAY set). Unlike the example
//! it can pick the backend, and it has no signal handling or shutdown grace period.
//!
//! Run: `cargo run --release -p readyloop-bench --bin echo-readyloop [IP:PORT [BACKEND]]`
//! (BACKEND: a `BackendKind::name()`, default the loop's default).

use readyloop::net::{echo_pooled, BufferPool, TcpListener, TcpStream};
use readyloop::{Handle, Loop};
use readyloop_bench::{announce, bind_addr, readyloop_backend, BUF};
use std::time::Duration;

async fn accept_loop(h: Handle, listener: TcpListener) {
    let pool = BufferPool::new(BUF, 64);
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => drop(h.spawn(handle_connection(stream, pool.clone()))),
            Err(_) => h.sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn handle_connection(stream: TcpStream, pool: BufferPool) {
    let _ = stream.set_nodelay(true);
    let _ = echo_pooled(&stream, &pool).await;
}

fn main() {
    let mut builder = Loop::builder();
    if let Some(name) = std::env::args().nth(2) {
        builder = builder.backend(readyloop_backend(&name).expect("unknown backend"));
    }
    let lp = builder.build().expect("loop");
    let h = lp.handle();
    let listener = TcpListener::bind(&h, bind_addr()).expect("bind");
    announce(listener.local_addr().expect("local_addr"));
    lp.block_on(accept_loop(h, listener));
}
