//! readyloop as an echo server, on the crate's own socket types and written the way
//! `examples/echo_server.rs` is: an accept loop that spawns one task per connection, each
//! running `readyloop::net::echo_pooled` (it waits buffer-less and takes a `BUF` buffer from a
//! shared pool only while it has something to receive; TCP_NODELAY set). Unlike the example
//! it can pick the backend, and it has no signal handling or shutdown grace period.
//!
//! With `--loops N` it runs N loops on N threads through `readyloop::multi::serve_per_core`,
//! each with its own `SO_REUSEPORT` listener on the one port (`--pin`: each loop pinned to
//! one CPU); those loops use the default backend. `--work-us N` makes the server spin N us
//! of CPU for each chunk it receives before echoing it: a stand-in for a handler that
//! computes, where the server rather than the load generator is the bottleneck.
//!
//! Run: `cargo run --release -p readyloop-bench --bin echo-readyloop [--loops N [--pin]] [--work-us N]
//! [IP:PORT [BACKEND]]` (BACKEND: a `BackendKind::name()`, default the loop's default).

use readyloop::net::{echo_pooled, BindOptions, BufferPool, TcpListener, TcpStream};
use readyloop::{Handle, Loop};
use readyloop_bench::{announce, readyloop_backend, BUF};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn accept_loop(h: Handle, listener: TcpListener, work: Duration) {
    let pool = BufferPool::new(BUF, 64);
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => drop(h.spawn(handle_connection(stream, pool.clone(), work))),
            Err(_) => h.sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn handle_connection(stream: TcpStream, pool: BufferPool, work: Duration) {
    let _ = stream.set_nodelay(true);
    if work.is_zero() {
        let _ = echo_pooled(&stream, &pool).await;
        return;
    }
    let mut buffer = vec![0u8; BUF];
    while let Ok(n @ 1..) = stream.recv(&mut buffer).await {
        let start = Instant::now();
        while start.elapsed() < work {
            std::hint::spin_loop();
        }
        if stream.send_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

/// N loops sharing `addr`'s port: loop 0 binds (port 0 picks one), the others join it.
fn run_per_core(addr: SocketAddr, loops: usize, pin: bool, work: Duration) {
    let port = Arc::new(AtomicU16::new(addr.port()));
    let shared = port.clone();
    let ip = addr.ip();
    let running = readyloop::multi::serve_per_core(loops, pin, move |h, _index| {
        let opts = BindOptions::new().reuse_port(true);
        let listener = TcpListener::bind_with(h, (ip, shared.load(Ordering::SeqCst)), &opts)?;
        shared.store(listener.local_addr()?.port(), Ordering::SeqCst);
        drop(h.spawn(accept_loop(h.clone(), listener, work)));
        Ok(())
    })
    .expect("serve_per_core");
    announce(SocketAddr::new(ip, port.load(Ordering::SeqCst)));
    running.join().expect("join"); // until killed
}

fn main() {
    let mut loops = None;
    let mut pin = false;
    let mut work = Duration::ZERO;
    let mut positional = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--loops" => loops = Some(args.next().and_then(|n| n.parse().ok()).expect("--loops N")),
            "--pin" => pin = true,
            "--work-us" => {
                let us = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--work-us N");
                work = Duration::from_micros(us);
            }
            _ => positional.push(a),
        }
    }
    let addr: SocketAddr = positional
        .first()
        .map(|a| a.parse().expect("first argument: IP:PORT to bind"))
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
    if let Some(n) = loops {
        return run_per_core(addr, n, pin, work);
    }
    let mut builder = Loop::builder();
    if let Some(name) = positional.get(1) {
        builder = builder.backend(readyloop_backend(name).expect("unknown backend"));
    }
    let lp = builder.build().expect("loop");
    let h = lp.handle();
    let listener = TcpListener::bind(&h, addr).expect("bind");
    announce(listener.local_addr().expect("local_addr"));
    lp.block_on(accept_loop(h, listener, work));
}
