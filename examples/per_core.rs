//! One loop per core: an echo server that runs one readyloop loop on each CPU, each loop on
//! its own thread with its own `SO_REUSEPORT` listener on the same port, so the kernel
//! spreads the connections over the loops (by a hash of each client's address and port)
//! and a connection stays on one thread for its whole life. SIGINT or SIGTERM stops every
//! loop (each loop's `Stopper`, through `Loops::stop`); connections still open are closed.
//!
//! The main thread runs a small loop of its own that only waits for the signal: the
//! serving loops never need to know about signals.
//!
//! Run:   cargo run --release --example per_core -- [--loops N] [--pin] [ADDR]
//!        (N defaults to the CPUs this process may use, ADDR to 127.0.0.1:9527;
//!        --pin pins loop i to the i-th of those CPUs)
//! Try:   nc 127.0.0.1 9527

use readyloop::net::{echo, BindOptions, TcpListener};
use readyloop::signal::{Signal, Signals};
use readyloop::{Handle, Loop};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

/// Loop `index`'s setup, run on its own thread before it runs: bind its listener to the
/// shared port and spawn its accept loop.
fn serve(h: &Handle, index: usize, addr: SocketAddr, port: &AtomicU16) -> readyloop::Result<()> {
    let opts = BindOptions::new().reuse_port(true);
    // Setups run in index order: loop 0 may bind port 0, the others take the port it got.
    let listener = TcpListener::bind_with(h, (addr.ip(), port.load(Ordering::SeqCst)), &opts)?;
    port.store(listener.local_addr()?.port(), Ordering::SeqCst);
    let spawner = h.clone();
    h.spawn(async move {
        while let Ok((conn, peer)) = listener.accept().await {
            let _ = conn.set_nodelay(true);
            eprintln!("loop {index}: connection from {peer}");
            spawner.spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = echo(&conn, &mut buf).await;
            });
        }
    });
    Ok(())
}

fn main() -> ExitCode {
    let mut loops = readyloop::multi::cpu_count();
    let mut pin = false;
    let mut addr: SocketAddr = "127.0.0.1:9527".parse().unwrap();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--loops" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => loops = n,
                None => {
                    eprintln!("per_core: --loops takes a whole number");
                    return ExitCode::from(2);
                }
            },
            "--pin" => pin = true,
            other => match other.parse() {
                Ok(a) => addr = a,
                Err(_) => {
                    eprintln!("per_core: {other:?} is not IP:PORT");
                    return ExitCode::from(2);
                }
            },
        }
    }

    // The signal receiver first, so a SIGTERM that comes while the loops start is kept.
    let main_loop = Loop::new().expect("cannot create the loop");
    let mut signals = match Signals::new(&main_loop.handle(), &[Signal::Int, Signal::Term]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("per_core: signals: {e}");
            return ExitCode::FAILURE;
        }
    };

    let port = Arc::new(AtomicU16::new(addr.port()));
    let shared = port.clone();
    let running = match readyloop::multi::serve_per_core(loops, pin, move |h, index| {
        serve(h, index, addr, &shared)
    }) {
        Ok(running) => running,
        Err(e) => {
            eprintln!("per_core: cannot start {loops} loop(s) on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let port = port.load(Ordering::SeqCst);
    println!(
        "listening on {} with {} loop(s){}",
        SocketAddr::new(addr.ip(), port),
        running.len(),
        if pin { ", pinned" } else { "" }
    );

    let signal = main_loop.block_on(signals.recv());
    eprintln!("per_core: {signal:?}: stopping every loop");
    running.stop();
    match running.join() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("per_core: {e}");
            ExitCode::FAILURE
        }
    }
}
